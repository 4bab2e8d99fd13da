// Running the graph: forward, backward, train_step, fit, evaluate, predict.
#include <chrono>
#include <cmath>
#include <limits>
#include <optional>
#include <cstring>
#include <numeric>

#include "train/model_runtime.h"
#include "train/train_util.h"

namespace qlite {

namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

Shape batch_shape(int64_t n, const Shape& per_sample) {
  Shape s{n};
  s.insert(s.end(), per_sample.begin(), per_sample.end());
  return s;
}

// Copies rows [begin, end) of src (or the rows idx[begin..end) name) into dst.
// `shape` is a reused buffer so that steady-state batches allocate nothing.
void gather_rows(const Tensor& src, const int64_t* idx, int64_t begin, int64_t end, Tensor& dst,
                 Shape& shape) {
  shape.assign(src.shape().begin(), src.shape().end());
  shape[0] = end - begin;
  dst.resize(shape, src.dtype());
  const size_t row = src.dim(0) ? src.nbytes() / static_cast<size_t>(src.dim(0)) : 0;
  const auto* from = static_cast<const std::byte*>(src.raw());
  auto* to = static_cast<std::byte*>(dst.raw());
  if (!idx) {
    if (row) std::memcpy(to, from + begin * row, (end - begin) * row);
    return;
  }
  for (int64_t i = begin; i < end; ++i) std::memcpy(to + (i - begin) * row, from + idx[i] * row, row);
}

// Copies every param value of `from` into `to` (a copy of the same layer:
// same params, same shapes); only the non-trainable ones (state forward
// updates) when `state_only`. The layer's training state goes along.
void copy_params(Layer& from, Layer& to, bool state_only) {
  const std::vector<Param*> a = from.params(), b = to.params();
  QLITE_CHECK(a.size() == b.size(), "shared layer '" + from.name() + "': its call copy has other params");
  for (size_t i = 0; i < a.size(); ++i) {
    if (state_only && a[i]->trainable) continue;
    QLITE_CHECK(a[i]->value.shape() == b[i]->value.shape() && a[i]->value.dtype() == b[i]->value.dtype(),
                "shared layer '" + from.name() + "': param '" + a[i]->name + "' changed shape");
    if (a[i]->value.nbytes() != 0) std::memcpy(b[i]->value.raw(), a[i]->value.raw(), a[i]->value.nbytes());
  }
  if (json st = from.training_state(); !st.is_null()) to.set_training_state(st);
}

}  // namespace

void Model::check_x(const Tensor& x, const char* what) const {
  const Shape& sample = input_shape();
  bool ok = x.dtype() == DType::kFloat32 && x.rank() == sample.size() + 1;
  for (size_t i = 0; ok && i < sample.size(); ++i) ok = x.dim(i + 1) == sample[i];
  QLITE_CHECK(ok, std::string(what) + ": model '" + name_ + "' expects input " + shape_str(batch_shape(-1, sample)) +
                " float32, got " + shape_str(x.shape()) + " " + dtype_name(x.dtype()));
}

void Model::check_y(const Tensor& y, int64_t rows, const char* what) const {
  QLITE_CHECK(y.dtype() == DType::kInt32 && y.rank() == 1 && y.dim(0) == rows,
        std::string(what) + ": labels must be int32 (" + std::to_string(rows) + ",), got " +
            shape_str(y.shape()) + " " + dtype_name(y.dtype()));
  const Shape& out = output_shape();
  QLITE_CHECK(out.size() == 1, std::string(what) + ": model '" + name_ + "' output " +
                             shape_str(batch_shape(-1, out)) +
                             " is not (None, classes) as sparse labels need");
  const int32_t* p = y.data<int32_t>();
  for (int64_t r = 0; r < rows; ++r)
    if (p[r] < 0 || p[r] >= out[0])
      throw Error(std::string(what) + ": label " + std::to_string(p[r]) + " in row " +
                  std::to_string(r) + " is outside [0, " + std::to_string(out[0]) + ")");
}

// Which node outputs need a gradient: those of layers with trainable weights
// and everything after them. Layers before the first trainable one (Input,
// Reshape in the seed model) get no gradient work at all.
void Model::prepare() {
  Runtime& rt = runtime();
  if (rt.planned && rt.act.size() == nodes_.size()) return;
  const size_t n = nodes_.size();
  rt.needs_grad.assign(n, 0);
  rt.max_inputs = 0;
  for (size_t j = 0; j < n; ++j) {
    bool need = false;
    for (Param* p : nodes_[j].layer->params()) need = need || p->trainable;
    for (int k : nodes_[j].inputs) need = need || rt.needs_grad[k];
    rt.needs_grad[j] = need;
    rt.max_inputs = std::max(rt.max_inputs, nodes_[j].inputs.size());
  }
  std::vector<int> readers(n, 0);
  for (size_t j = 0; j < n; ++j)
    for (int k : nodes_[j].inputs) ++readers[k];
  rt.clamp_hi.assign(n, std::numeric_limits<float>::quiet_NaN());
  rt.fused.assign(n, 0);
  for (size_t j = 1; j + 1 < n; ++j) {
    const Node& next = nodes_[j + 1];
    if (readers[j] != 1 || next.inputs.size() != 1 || next.inputs[0] != static_cast<int>(j)) continue;
    if (const std::optional<float> hi = next.layer->clamp_upper()) rt.clamp_hi[j] = *hi;
  }
  rt.trainable = trainable_params();
  rt.act.resize(n);
  rt.act_ptr.assign(n, nullptr);
  rt.grad.resize(n);
  rt.grad_set.assign(n, 0);
  rt.in_ptrs.resize(n);
  rt.din_ptrs.resize(n);
  for (size_t j = 0; j < n; ++j) {
    rt.in_ptrs[j].assign(nodes_[j].inputs.size(), nullptr);
    rt.din_ptrs[j].assign(nodes_[j].inputs.size(), nullptr);
  }
  rt.scratch.resize(rt.max_inputs);
  rt.use_scratch.assign(rt.max_inputs, 0);
  rt.call_copy.clear();
  rt.call_copy.resize(n);
  std::vector<Shape> shapes;
  std::vector<Layer*> producers;
  for (size_t j = 0; j < n; ++j) {
    if (nodes_[j].call == 0) continue;
    const Layer& l = *nodes_[j].layer;
    std::unique_ptr<Layer> copy = l.clone();
    shapes.clear();
    producers.clear();
    for (int k : nodes_[j].inputs) {
      shapes.push_back(nodes_[k].layer->output_shape());
      producers.push_back(nodes_[k].layer.get());
    }
    Rng rng(0);
    copy->build(shapes, rng);  // built already: keeps the copied weights
    copy->connect_inputs(producers);  // a QAT layer reads this call's input quantization
    rt.call_copy[j] = std::move(copy);
  }
  rt.planned = true;
}

void Model::forward_batch(const Tensor& x, bool training) {
  Runtime& rt = *rt_;
  const RunContext ctx{training, rt.pool.get()};
  rt.act_ptr[0] = &x;
  std::fill(rt.fused.begin(), rt.fused.end(), 0);
  for (size_t j = 1; j < nodes_.size(); ++j) {
    if (rt.fused[j - 1]) {  // this clamp ran inside node j - 1
      rt.act_ptr[j] = &rt.act[j];
      continue;
    }
    auto& in = rt.in_ptrs[j];
    for (size_t i = 0; i < in.size(); ++i) in[i] = rt.act_ptr[nodes_[j].inputs[i]];
    Layer* copy = rt.call_copy[j].get();
    Layer& layer = copy ? *copy : *nodes_[j].layer;
    if (copy) copy_params(*nodes_[j].layer, *copy, false);
    if (training && !std::isnan(rt.clamp_hi[j]) && layer.forward_clamped(in, rt.act[j + 1], ctx, rt.clamp_hi[j])) {
      rt.fused[j] = 1;
      rt.act_ptr[j] = &rt.act[j + 1];  // read by no one but the fused backward
    } else {
      layer.forward(in, rt.act[j], ctx);
      rt.act_ptr[j] = &rt.act[j];
    }
    if (copy && training) copy_params(*copy, *nodes_[j].layer, true);  // each call updates the state in turn
  }
}

std::pair<double, int64_t> Model::train_batch(const Tensor& x, const Tensor& y) {
  Runtime& rt = *rt_;
  const size_t n = nodes_.size();
  const size_t last = n - 1;
  forward_batch(x, true);
  const Tensor& out = *rt.act_ptr[last];
  const double loss = sparse_categorical_crossentropy(out, y, loss_.from_logits, &rt.grad[last]);
  const int64_t correct = count_correct(out, y);

  const RunContext ctx{true, rt.pool.get()};
  std::fill(rt.grad_set.begin(), rt.grad_set.end(), 0);
  rt.grad_set[last] = 1;
  for (size_t j = last; j >= 1; --j) {
    if (!rt.needs_grad[j]) continue;
    QLITE_CHECK(rt.grad_set[j], "model '" + name_ + "': no gradient reached layer '" +
                              nodes_[j].layer->name() + "'");
    if (rt.fused[j - 1]) {  // a clamp fused into node j - 1: its backward runs there, from grad[j]
      rt.grad_set[j - 1] = 1;
      continue;
    }
    const auto& inputs = nodes_[j].inputs;
    auto& din = rt.din_ptrs[j];
    for (size_t i = 0; i < inputs.size(); ++i) {
      const int k = inputs[i];
      rt.use_scratch[i] = 0;
      if (!rt.needs_grad[k]) {
        din[i] = nullptr;
      } else if (!rt.grad_set[k]) {
        din[i] = &rt.grad[k];
        rt.grad_set[k] = 1;
      } else {  // k feeds several slots or nodes: its gradients are summed
        din[i] = &rt.scratch[i];
        rt.use_scratch[i] = 1;
      }
    }
    Layer& layer = rt.call_copy[j] ? *rt.call_copy[j] : *nodes_[j].layer;
    if (rt.fused[j]) {
      const bool ran = layer.backward_clamped(rt.in_ptrs[j], rt.act[j + 1], rt.grad[j + 1], din, ctx,
                                                         rt.clamp_hi[j]);
      QLITE_CHECK(ran, "model '" + name_ + "': layer '" + nodes_[j].layer->name() +
                           "' fused a clamp forward but not backward");
    } else {
      layer.backward(rt.in_ptrs[j], *rt.act_ptr[j], rt.grad[j], din, ctx);
    }
    for (size_t i = 0; i < inputs.size(); ++i) {
      if (!rt.use_scratch[i]) continue;
      Tensor& g = rt.grad[inputs[i]];
      QLITE_CHECK(rt.scratch[i].shape() == g.shape(),
            "model '" + name_ + "': gradient shapes differ at layer '" + nodes_[j].layer->name() + "'");
      float* gp = g.f32();
      const float* sp = rt.scratch[i].f32();
      for (int64_t e = 0; e < g.numel(); ++e) gp[e] += sp[e];
    }
  }
  // A shared layer's gradient is the sum over its calls: the first call's
  // (the layer's own backward), then the later calls' in node order.
  for (size_t j = 1; j < n; ++j) {
    if (!rt.call_copy[j] || !rt.needs_grad[j]) continue;
    const std::vector<Param*> to = nodes_[j].layer->params(), from = rt.call_copy[j]->params();
    for (size_t p = 0; p < to.size(); ++p) {
      if (!to[p]->trainable) continue;
      QLITE_CHECK(from[p]->grad.shape() == to[p]->grad.shape(),
                  "model '" + name_ + "': gradient shapes differ between the calls of shared layer '" +
                      nodes_[j].layer->name() + "'");
      float* g = to[p]->grad.f32();
      const float* c = from[p]->grad.f32();
      for (int64_t e = 0; e < to[p]->grad.numel(); ++e) g[e] += c[e];
    }
  }
  optimizer_->apply(rt.trainable);
  return {loss, correct};
}

std::pair<double, int64_t> Model::train_step(const Tensor& x, const Tensor& y) {
  QLITE_CHECK(compiled(), "model '" + name_ + "': call compile() before training");
  if (!is_built()) build(0);
  QLITE_CHECK(nodes_.size() > 1, "model '" + name_ + "' has no layer after its input");
  check_x(x, "train_step");
  check_y(y, x.dim(0), "train_step");
  prepare();
  return train_batch(x, y);
}

History Model::fit(const Tensor& x, const Tensor& y, const FitOptions& o) {
  QLITE_CHECK(compiled(), "model '" + name_ + "': call compile() before fit()");
  if (!is_built()) build(o.seed);
  QLITE_CHECK(nodes_.size() > 1, "model '" + name_ + "' has no layer after its input");
  QLITE_CHECK(o.epochs >= 0, "fit: epochs must be >= 0, got " + std::to_string(o.epochs));
  QLITE_CHECK(o.initial_epoch >= 0, "fit: initial_epoch must be >= 0, got " + std::to_string(o.initial_epoch));
  QLITE_CHECK(o.batch_size >= 1, "fit: batch_size must be >= 1, got " + std::to_string(o.batch_size));
  QLITE_CHECK(o.validation_split >= 0.0 && o.validation_split < 1.0,
        "fit: validation_split must be in [0, 1), got " + std::to_string(o.validation_split));
  check_x(x, "fit");
  const int64_t n = x.dim(0);
  check_y(y, n, "fit");
  // Keras: split_at = int(N * (1 - validation_split)), validation = the rows after it.
  const int64_t split_at =
      o.validation_split > 0 ? static_cast<int64_t>(static_cast<double>(n) * (1.0 - o.validation_split)) : n;
  QLITE_CHECK(split_at > 0, "fit: no training samples (" + std::to_string(n) + " samples, validation_split " +
                          std::to_string(o.validation_split) + ")");
  invalidate_plan();  // pick up Param::trainable changes made since the last run
  prepare();
  Runtime& rt = *rt_;

  History h;
  h.train_samples = split_at;
  h.val_samples = n - split_at;
  std::vector<int64_t> order(static_cast<size_t>(split_at));
  const int64_t steps = (split_at + o.batch_size - 1) / o.batch_size;
  double train_seconds = 0;
  int64_t trained = 0;
  for (int epoch = 0; epoch < o.epochs; ++epoch) {
    const auto epoch_start = Clock::now();
    std::iota(order.begin(), order.end(), int64_t{0});
    if (o.shuffle)
      Rng(detail::mix_seed(o.seed, detail::kStreamShuffle, static_cast<uint64_t>(o.initial_epoch) + epoch)).shuffle(order);
    double loss_sum = 0;
    int64_t correct = 0, seen = 0;
    FitProgress p;
    p.epoch = epoch;
    p.epochs = o.epochs;
    p.steps = steps;
    for (int64_t step = 0; step < steps; ++step) {
      const auto t0 = Clock::now();
      const int64_t b = step * o.batch_size, e = std::min(split_at, b + o.batch_size);
      gather_rows(x, order.data(), b, e, rt.batch_x, rt.shape_buf);
      gather_rows(y, order.data(), b, e, rt.batch_y, rt.shape_buf);
      const auto [loss, ok] = train_batch(rt.batch_x, rt.batch_y);
      detail::check_not_diverged(loss, epoch, step, "loss");  // Keras TerminateOnNaN, as an Error
      train_seconds += seconds_since(t0);
      loss_sum += loss * static_cast<double>(e - b);
      correct += ok;
      seen += e - b;
      if (o.on_progress) {
        p.step = step + 1;
        p.elapsed_s = seconds_since(epoch_start);
        p.loss = loss_sum / static_cast<double>(seen);
        p.accuracy = static_cast<double>(correct) / static_cast<double>(seen);
        o.on_progress(p);
      }
    }
    trained += seen;
    detail::check_not_diverged(*this, epoch);  // the last step's update may have overflowed
    ++epochs_trained_;
    h.loss.push_back(loss_sum / static_cast<double>(seen));
    h.accuracy.push_back(static_cast<double>(correct) / static_cast<double>(seen));
    p.step = steps;
    p.loss = h.loss.back();
    p.accuracy = h.accuracy.back();
    if (split_at < n) {
      const EvalResult v = evaluate_rows(x, y, split_at, n, o.batch_size);
      detail::check_not_diverged(v.loss, epoch, -1, "validation loss");
      h.val_loss.push_back(v.loss);
      h.val_accuracy.push_back(v.accuracy);
      p.val_loss = v.loss;
      p.val_accuracy = v.accuracy;
    }
    if (o.on_progress) {
      p.epoch_end = true;
      p.elapsed_s = seconds_since(epoch_start);
      o.on_progress(p);
    }
  }
  h.images_per_second = train_seconds > 0 ? static_cast<double>(trained) / train_seconds : 0.0;
  return h;
}

EvalResult Model::evaluate_rows(const Tensor& x, const Tensor& y, int64_t begin, int64_t end,
                                int batch_size) {
  Runtime& rt = *rt_;
  EvalResult r;
  double loss_sum = 0;
  int64_t correct = 0;
  for (int64_t b = begin; b < end; b += batch_size) {
    const int64_t e = std::min(end, b + batch_size);
    gather_rows(x, nullptr, b, e, rt.batch_x, rt.shape_buf);
    gather_rows(y, nullptr, b, e, rt.batch_y, rt.shape_buf);
    forward_batch(rt.batch_x, false);
    const Tensor& out = *rt.act_ptr.back();
    loss_sum += sparse_categorical_crossentropy(out, rt.batch_y, loss_.from_logits, nullptr) *
                static_cast<double>(e - b);
    correct += count_correct(out, rt.batch_y);
  }
  r.samples = end - begin;
  if (r.samples > 0) {
    r.loss = loss_sum / static_cast<double>(r.samples);
    r.accuracy = static_cast<double>(correct) / static_cast<double>(r.samples);
  }
  return r;
}

EvalResult Model::evaluate(const Tensor& x, const Tensor& y, int batch_size) {
  QLITE_CHECK(compiled(), "model '" + name_ + "': call compile() before evaluate() (it sets the loss)");
  if (!is_built()) build(0);
  QLITE_CHECK(batch_size >= 1, "evaluate: batch_size must be >= 1, got " + std::to_string(batch_size));
  check_x(x, "evaluate");
  check_y(y, x.dim(0), "evaluate");
  prepare();
  return evaluate_rows(x, y, 0, x.dim(0), batch_size);
}

Tensor Model::predict(const Tensor& x, int batch_size) {
  if (!is_built()) build(0);
  QLITE_CHECK(batch_size >= 1, "predict: batch_size must be >= 1, got " + std::to_string(batch_size));
  check_x(x, "predict");
  prepare();
  Runtime& rt = *rt_;
  const int64_t n = x.dim(0);
  Tensor out(batch_shape(n, output_shape()));
  const size_t row = static_cast<size_t>(shape_numel(output_shape())) * sizeof(float);
  for (int64_t b = 0; b < n; b += batch_size) {
    const int64_t e = std::min(n, b + batch_size);
    gather_rows(x, nullptr, b, e, rt.batch_x, rt.shape_buf);
    forward_batch(rt.batch_x, false);
    const Tensor& o = *rt.act_ptr.back();
    QLITE_CHECK(o.dtype() == DType::kFloat32 && o.numel() == (e - b) * static_cast<int64_t>(row / sizeof(float)),
          "predict: model '" + name_ + "' produced " + shape_str(o.shape()) + " for a batch of " +
              std::to_string(e - b));
    std::memcpy(static_cast<std::byte*>(out.raw()) + b * row, o.raw(), (e - b) * row);
  }
  return out;
}

}  // namespace qlite
