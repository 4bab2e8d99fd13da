// QuantizeWrapper: fake-quant training around an inner layer, exact integer
// inference, and lowered() -- the numbers both the integer inference and the
// converter use.
#include <algorithm>
#include <cstring>

#include "kernels/reference/int8_kernels.h"
#include "quant/qat/qat_bn_fold.h"
#include "quant/qat/qat_internal.h"

namespace qlite::quant {
namespace {

enum class Role { kWeighted, kPassThrough, kOutputRange };

std::string unsupported_message(const Layer& l) {
  return "quantize: layer '" + l.name() + "' of type " + l.type() +
         " is not supported by the default 8-bit quantize registry; pass a QuantizeConfig for it with "
         "quantize_annotate_layer(layer, config), or leave it unannotated to keep it float";
}

// Per-channel weight quantization runs along the output channel, which the
// record defines (LayerKind::output_channel_axes: the trailing axes that,
// flattened, index it). A config names it with axis -1, or, where the output
// channel is one axis, with that axis' index.
bool names_output_channel(const LayerKind& kind, const Shape& shape, int axis) {
  if (axis == -1) return true;
  return kind.output_channel_axes == 1 && split_axis(shape, axis).axis == static_cast<int>(shape.size()) - 1;
}

}  // namespace

struct WeightSlot {
  size_t index = 0;  // position in the inner layer's params()
  QuantizerSpec spec;
  Param master;      // the float weights the optimizer updates
  Param min, max;    // range state, one entry per channel (per-axis) or one
  std::vector<QuantParams> used;  // what the last training forward used
  std::vector<Range> ranges;      // scratch of the range sweep
};

// The output quantizer's passes, run by the inner layer on each block of its
// output while the block is in cache (Layer::forward_hooked): the range sweep
// in forward, the STE mask in backward (before the inner layer's own
// activation gradient, as the unfused chain applies them).
//
// With a layer that supports hooks, the wrapper's output tensor is the inner
// layer's own: the forward writes the raw output there, and one pass then
// fake-quantizes it in place while recording, per element, what the backward
// needs (the STE mask and the fused activation's derivative, `keep`). The raw
// output is never stored: at batch 500 the seed conv's output is 16 MB, and
// a second copy of it cost more memory traffic than the fake quant itself.
struct OutputFusion final : OutputHooks {
  std::vector<Range> parts;  // per chunk
  QuantParams used;
  bool in_place = false;        // keep[] holds the backward's record
  int act = 0;                  // the inner layer's fused activation (0 linear, 1 ReLU, 2 ReLU6)
  std::vector<uint8_t> keep;    // per output element, see fake_quant_keep_fast
  const float* base = nullptr;  // the output tensor keep[] is indexed by
  void on_forward(int chunk, const float* out, int64_t n) override {
    detail::merge_range(parts[static_cast<size_t>(chunk)], detail::finite_range_fast(out, n));
  }
  void on_backward(int, const float* out, const float* dout, float* dz, int64_t n) override {
    if (in_place) {
      detail::keep_backward_fast(keep.data() + (out - base), dout, dz, n);
    } else {
      detail::fake_quant_mask_fast(out, dout, dz, n, used);
    }
  }
  bool applies_activation_gradient() const override { return in_place; }
};

// The fused activation as fake_quant_keep_fast numbers it.
int fused_act_code(const Layer& inner, const LayerKind& kind) {
  const Activation a = kind.op_spec(inner).activation;
  switch (a) {
    case Activation::kLinear: return 0;
    case Activation::kRelu: return 1;
    case Activation::kRelu6: return 2;
    default: break;
  }
  throw Error(detail::label(inner) + ": QAT has no fake-quant fusion for activation " + activation_label(a));
}

struct QuantizeWrapper::State {
  LayerPtr inner;
  const LayerKind* kind = nullptr;  // the inner layer's record
  // The inner layer's op and geometry (the record's op_spec, which reads the
  // config: read once here, not per step). Set again at build: Concatenate's
  // axis needs the shapes.
  OpSpec spec;
  QuantizeConfigPtr config;
  Role role = Role::kPassThrough;
  std::vector<WeightSlot> weights;
  std::vector<Param*> inner_params;  // s.inner->params(), cached (stable members of inner)
  std::optional<QuantizerSpec> out_spec;
  Param out_min, out_max;
  OutputFusion fusion;  // fusion.used: the output params the last training forward used
  Tensor raw, dz;  // inner output before output fake quant; its masked gradient
  detail::IntegerScratch scratch;
  // lowered() as of the numbers in `key` (weights, ranges, bias, input
  // quantization), so inference re-lowers only when one of them changed.
  std::optional<LoweredQuant> lowered;
  std::vector<float> key, key_now;
  // A layer with its own op but no output quantizer in its config shares the
  // range of the Concatenate reading it (set by that Concatenate's
  // connect_inputs): its output is written in the concat's quantization.
  QuantizeWrapper* range_owner = nullptr;
  // A batch norm trained with batch statistics for the first freeze_bn_after
  // training steps (qat_bn_fold.h); null when folded at quantize_apply.
  std::unique_ptr<detail::BnFoldUnit> bn;
  int64_t freeze_bn_after = 0;
  int64_t bn_steps = 0;
  Tensor folded;  // scratch: the folded kernel
  bool takes_reader_range() const { return role != Role::kPassThrough && !out_spec; }
};

namespace {

// The op's fused activation and its clamp in L.output's integers, as TFLite's
// CalculateActivationRangeQuantized forms it.
void set_fused_activation(LoweredQuant& L) {
  L.activation = L.spec.activation;
  const ref::ActRange a =
      ref::fused_activation_range(L.activation, L.output.scale, L.output.zero_point, L.output.qmin, L.output.qmax);
  L.act_min = a.min;
  L.act_max = a.max;
}

}  // namespace

QuantizeWrapper::QuantizeWrapper(LayerPtr inner, QuantizeConfigPtr config) : s_(std::make_unique<State>()) {
  QLITE_CHECK(inner != nullptr, "QuantizeWrapper: null layer");
  QLITE_CHECK(dynamic_cast<const QuantizedLayer*>(inner.get()) == nullptr,
        "QuantizeWrapper: " + detail::label(*inner) + " is already quantized");
  if (!config) config = default_quantize_config(*inner);
  QLITE_CHECK(config != nullptr, unsupported_message(*inner));
  State& s = *s_;
  s.inner = std::move(inner);
  s.config = std::move(config);
  s.inner_params = s.inner->params();
  const Layer& in = *s.inner;
  if (!in.name().empty()) set_name("quant_" + in.name());
  const std::string who = "QuantizeWrapper(" + detail::label(in) + ")";
  const std::string t = in.type();
  s.kind = &layer_kind(in);
  const QuantRole qr = quant_role(in);
  if (s.kind->op_spec != nullptr) s.spec = s.kind->op_spec(in);
  QLITE_CHECK(s.spec.op != OpKind::kNone && qr != QuantRole::kNone,
        who + ": qlite has no integer kernel for " + t + "; it can only stay float (leave it unannotated)");
  s.role = qr == QuantRole::kWeighted                                        ? Role::kWeighted
           : qr == QuantRole::kOutputRange || qr == QuantRole::kFixedOutput ? Role::kOutputRange
                                                                            : Role::kPassThrough;
  s.out_spec = s.config->output_quantizer();
  const std::vector<WeightQuantizer> wq = s.config->weight_quantizers();
  // The output range state, at the quantizer's initial range (AllValues: empty).
  auto init_output_range = [&s] {
    const bool zero = s.out_spec->kind == QuantizerKind::kAllValues;
    s.out_min = detail::range_param("output_min", 1, zero ? 0.0f : s.out_spec->options.init_min);
    s.out_max = detail::range_param("output_max", 1, zero ? 0.0f : s.out_spec->options.init_max);
  };
  if (s.role == Role::kPassThrough) {
    QLITE_CHECK(wq.empty() && !s.out_spec, who + ": " + t +
                                         " keeps its input's quantization; its config must quantize nothing");
    return;
  }
  // Without an output quantizer, an op's output takes the range of the
  // Concatenate reading it (quantize_apply decides; see takes_reader_range).
  QLITE_CHECK(!s.out_spec || !s.out_spec->options.per_axis, who + ": the output quantizer must be per tensor");
  if (s.out_spec) init_output_range();
  if (s.role == Role::kOutputRange) {
    QLITE_CHECK(wq.empty(), who + ": " + t + " has no weights to quantize");
    return;
  }
  QLITE_CHECK(wq.size() == 1 && wq[0].param == s.kind->weight,
        who + ": the config must quantize exactly the \"" + s.kind->weight + "\" weight");
  const QuantizerSpec& ks = wq[0].quantizer;
  QLITE_CHECK(ks.options.scheme.symmetric && ks.options.scheme.narrow_range,
        who + ": integer kernels need symmetric narrow-range weights (zero point 0)");
  const std::vector<Param*> ps = s.inner->params();
  for (const WeightQuantizer& w : wq) {
    WeightSlot slot;
    auto it = std::find_if(ps.begin(), ps.end(), [&](const Param* p) { return p->name == w.param; });
    QLITE_CHECK(it != ps.end(), who + ": has no weight named '" + w.param + "'");
    slot.index = static_cast<size_t>(it - ps.begin());
    slot.spec = w.quantizer;
    slot.master.name = w.param;
    slot.min = detail::range_param(w.param + "_min", 0, 0.0f);
    slot.max = detail::range_param(w.param + "_max", 0, 0.0f);
    s.weights.push_back(std::move(slot));
  }
  s.fusion.act = fused_act_code(in, *s.kind);
}

QuantizeWrapper::QuantizeWrapper(LayerPtr inner, QuantizeConfigPtr config, LayerPtr batch_norm,
                                 int64_t freeze_bn_after)
    : QuantizeWrapper(std::move(inner), std::move(config)) {
  State& s = *s_;
  const std::string who = "QuantizeWrapper(" + detail::label(*s.inner) + ")";
  QLITE_CHECK(freeze_bn_after >= 0, who + ": freeze_bn_after must be >= 0, not " + std::to_string(freeze_bn_after));
  QLITE_CHECK(s.role == Role::kWeighted && s.kind->folds_batch_norm && s.weights.size() == 1,
              who + ": only a Conv2D, DepthwiseConv2D or Dense with a quantized kernel folds a batch norm");
  QLITE_CHECK(batch_norm != nullptr, who + ": null batch norm");
  const json c = s.inner->get_config();
  QLITE_CHECK(c.value("use_bias", false), who + ": the op a batch norm folds into has use_bias true");
  s.bn = std::make_unique<detail::BnFoldUnit>(s.inner->type(), c, std::move(batch_norm));
  s.freeze_bn_after = freeze_bn_after;
}

QuantizeWrapper::~QuantizeWrapper() = default;

const Layer* QuantizeWrapper::batch_norm() const { return s_->bn ? s_->bn->batch_norm().get() : nullptr; }
int64_t QuantizeWrapper::freeze_bn_after() const { return s_->freeze_bn_after; }
int64_t QuantizeWrapper::bn_steps() const { return s_->bn_steps; }

json QuantizeWrapper::training_state() const {
  if (!s_->bn) return nullptr;
  return {{"bn_steps", s_->bn_steps}};
}

void QuantizeWrapper::set_training_state(const json& state) {
  if (!s_->bn) return;
  QLITE_CHECK(state.is_object() && state.contains("bn_steps") && state["bn_steps"].is_number_unsigned(),
              detail::label(*this) + ": training state must be {\"bn_steps\": N}");
  s_->bn_steps = state["bn_steps"].get<int64_t>();
  QLITE_CHECK(s_->bn_steps >= 0, detail::label(*this) + ": training state bn_steps out of range");
}

const Layer& QuantizeWrapper::inner() const { return *s_->inner; }

// A Concatenate links the producers that take its range (takes_reader_range).
void QuantizeWrapper::connect_inputs(std::span<Layer* const> producers) {
  QuantizedLayer::connect_inputs(producers);
  if (s_->spec.op != OpKind::kConcatenation) return;
  for (Layer* p : producers) {
    auto* w = dynamic_cast<QuantizeWrapper*>(p);
    if (w == nullptr || !w->s_->takes_reader_range()) continue;
    QLITE_CHECK(w->s_->range_owner == nullptr || w->s_->range_owner == this,
                detail::label(*w) + " has no output quantizer of its own, so it takes the range of the "
                                    "Concatenate reading it; two do (" + detail::label(*w->s_->range_owner) +
                                    " and " + detail::label(*this) + ")");
    w->s_->range_owner = this;
  }
}

bool QuantizeWrapper::takes_reader_range() const { return s_->takes_reader_range(); }
int QuantizeWrapper::num_inputs() const { return s_->inner->num_inputs(); }
const QuantizeConfig& QuantizeWrapper::config() const { return *s_->config; }

Shape QuantizeWrapper::build(std::span<const Shape> input_shapes, Rng& rng) {
  State& s = *s_;
  if (built()) {
    QLITE_CHECK(std::equal(input_shapes.begin(), input_shapes.end(), Layer::input_shapes().begin(),
                           Layer::input_shapes().end()),
          detail::label(*this) + ": already built for " + shape_str(Layer::input_shapes().at(0)));
    return output_shape();
  }
  // An already-built inner layer keeps its (trained) weights.
  const Shape out = s.inner->build(input_shapes, rng);
  s.spec = s.kind->op_spec(*s.inner);
  if (s.bn) s.bn->build(input_shapes, rng);
  const std::vector<Param*> ps = s.inner->params();
  for (WeightSlot& w : s.weights) {
    w.master.value = ps[w.index]->value;
    w.master.trainable = ps[w.index]->trainable;  // frozen stays frozen (a rewritten Rescaling's kernel)
    w.master.grad = Tensor(w.master.value.shape());
    // With a batch norm kept apart the quantized weights are the folded ones.
    std::vector<float> unused;
    if (s.bn) s.bn->folded(w.master.value, s.folded, unused);
    const Tensor& v = s.bn ? s.folded : w.master.value;
    Quantizer q(w.spec.kind, w.spec.options);
    const bool per_axis = w.spec.options.per_axis;
    QLITE_CHECK(!per_axis || names_output_channel(*s.kind, v.shape(), w.spec.options.axis),
                detail::label(*this) + ": per-channel weights must be quantized along the output channel (axis -1)");
    const int64_t channels = per_axis ? weight_output_channels(*s.kind, v.shape()) : 1;
    // Weight ranges start at the weights' own range (LastValue), so a model
    // fresh from quantize_apply already evaluates sensibly. Per channel, the
    // quantizer sees the weight as [rest, output channels].
    if (per_axis) {
      Tensor view = v;
      view.reshape({v.numel() / channels, channels});
      q.observe(view);
    } else {
      q.observe(v);
    }
    w.min = detail::range_param(w.min.name, channels, 0.0f);
    w.max = detail::range_param(w.max.name, channels, 0.0f);
    detail::store_range(q, w.min, w.max);
  }
  mark_built(input_shapes, out);
  return out;
}

namespace {

// Bit patterns of every number lowered() reads, so a cached result is reused
// only when all of them are unchanged (NaN included).
void append(std::vector<float>& key, const Tensor& t) { key.insert(key.end(), t.f32(), t.f32() + t.numel()); }

}  // namespace

void QuantizeWrapper::forward(std::span<const Tensor* const> in, Tensor& out, const RunContext& ctx) {
  State& s = *s_;
  QLITE_CHECK(built(), detail::label(*this) + ": not built");
  if (!ctx.training) {
    if (s.role == Role::kPassThrough) {
      const std::optional<TensorQuant> iq = input_quant();
      QLITE_CHECK(iq.has_value(), detail::label(*this) + ": its input is float; quantize_apply puts a "
                                                           "QuantizeLayer in front of it");
      // AVERAGE_POOL_2D rounds its averages: the integer kernel.
      if (s.spec.op == OpKind::kAveragePool2D)
        return detail::run_integer_average_pool(s.spec, *iq, Layer::input_shapes().at(0), *in[0], out, output_shape(),
                                                s.scratch);
      s.inner->forward(in, out, ctx);  // copies, maxima, zero padding of dequantized values: exact
      return;
    }
    QLITE_CHECK(in.size() == num_producers(), detail::label(*this) + ": expects " +
                                                  std::to_string(num_producers()) + " inputs");
    s.key_now.clear();
    for (size_t k = 0; k < in.size(); ++k) {
      const std::optional<TensorQuant> iq = input_quant(k);
      QLITE_CHECK(iq.has_value() && in[k] != nullptr,
                  detail::label(*this) + ": its input is float; quantize_apply puts a QuantizeLayer in front of it");
      s.key_now.insert(s.key_now.end(), {iq->scale, static_cast<float>(iq->zero_point), static_cast<float>(iq->qmin),
                                         static_cast<float>(iq->qmax), static_cast<float>(iq->num_bits)});
    }
    for (const Param* p : s.inner_params) append(s.key_now, p->value);
    for (const WeightSlot& w : s.weights) {
      append(s.key_now, w.master.value);
      append(s.key_now, w.min.value);
      append(s.key_now, w.max.value);
    }
    if (s.bn)
      for (const Param* p : s.bn->bn_params()) append(s.key_now, p->value);
    const TensorQuant oq = output_quant();  // own, or the Concatenate's it shares
    s.key_now.insert(s.key_now.end(), {oq.scale, static_cast<float>(oq.zero_point)});
    if (!s.lowered || s.key_now.size() != s.key.size() ||
        std::memcmp(s.key_now.data(), s.key.data(), s.key.size() * sizeof(float)) != 0) {
      s.lowered = lowered();
      s.key.swap(s.key_now);
      s.scratch.prepared = false;
    }
    switch (s.lowered->op) {
      case LoweredOp::kMean:
        return detail::run_integer_mean(*s.lowered, Layer::input_shapes().at(0), *in[0], out, output_shape(),
                                        s.scratch);
      case LoweredOp::kAdd: return detail::run_integer_add(*s.lowered, in, out, ctx, s.scratch);
      case LoweredOp::kConcatenation:
        return detail::run_integer_concatenation(*s.lowered, Layer::input_shapes(), in, out, output_shape(),
                                                 s.scratch);
      case LoweredOp::kActivation:
        return detail::run_integer_activation(*s.lowered, *in[0], out, output_shape(), s.scratch);
      default: break;
    }
    detail::run_integer(*s.lowered, Layer::input_shapes().at(0), *in[0], out, output_shape(), ctx, s.scratch);
    return;
  }
  if (s.bn) return forward_folded_bn(in, out, ctx);
  for (WeightSlot& w : s.weights) {
    if (w.spec.options.per_axis) {
      detail::observe_channels(w.spec, w.master.value, w.ranges, w.min, w.max, w.used);
    } else {
      w.used.resize(1);
      w.used[0] = detail::observe_values(ctx, w.spec, w.master.value.f32(), w.master.value.numel(), w.ranges, w.min,
                                         w.max);
    }
    detail::fake_quant_weights(w.master.value, s.inner_params[w.index]->value, w.used);
  }
  if (!s.out_spec) {
    s.inner->forward(in, out, ctx);
    // An average is no grid value: round it as the integer op will (its
    // values stay inside the range, so the gradient passes unchanged).
    if (s.role == Role::kPassThrough && s.spec.op == OpKind::kAveragePool2D)
      if (const std::optional<TensorQuant> iq = input_quant())
        detail::fake_quant_tensor(ctx, out, out, detail::to_quant_params(*iq));
    return;
  }
  OutputFusion& f = s.fusion;
  f.parts.assign(static_cast<size_t>(detail::num_chunks(ctx)), Range{});
  f.in_place = false;
  const bool hooked = s.inner->forward_hooked(in, out, ctx, f);
  if (!hooked) {
    s.inner->forward(in, s.raw, ctx);
    const float* r = s.raw.f32();
    detail::run_chunks(ctx, s.raw.numel(), [&](int64_t b, int64_t e, int c) { f.on_forward(c, r + b, e - b); },
                       int64_t{1} << 15);
  }
  Range batch;
  for (const Range& p : f.parts) detail::merge_range(batch, p);
  f.used = detail::update_range(*s.out_spec, batch, s.out_min, s.out_max);
  if (!hooked) return detail::fake_quant_tensor(ctx, s.raw, out, f.used);
  f.keep.resize(static_cast<size_t>(out.numel()));
  float* y = out.f32();
  uint8_t* k = f.keep.data();
  detail::run_chunks(
      ctx, out.numel(),
      [&](int64_t b, int64_t e, int) { detail::fake_quant_keep_fast(y + b, y + b, k + b, e - b, f.used, f.act); },
      int64_t{1} << 15);
  f.in_place = true;
}

void QuantizeWrapper::forward_folded_bn(std::span<const Tensor* const> in, Tensor& out, const RunContext& ctx) {
  State& s = *s_;
  WeightSlot& w = s.weights.at(0);
  const bool frozen = s.bn_steps >= s.freeze_bn_after;
  ++s.bn_steps;
  // The folded weights' range (LastValue) and fake quant, as for any kernel.
  const detail::BnFoldUnit::WeightFq fq = [&](const Tensor& wf, Tensor& wq) {
    if (w.spec.options.per_axis) {
      detail::observe_channels(w.spec, wf, w.ranges, w.min, w.max, w.used);
    } else {
      w.used.resize(1);
      w.used[0] = detail::observe_values(ctx, w.spec, wf.f32(), wf.numel(), w.ranges, w.min, w.max);
    }
    detail::fake_quant_weights(wf, wq, w.used);
  };
  s.bn->forward(w.master.value, in, s.raw, ctx, frozen, fq);
  if (!s.out_spec) {  // written in a Concatenate's range: it fake-quantizes
    out = s.raw;
    return;
  }
  const Range batch = detail::finite_range_fast(s.raw.f32(), s.raw.numel());
  s.fusion.used = detail::update_range(*s.out_spec, batch, s.out_min, s.out_max);
  s.fusion.in_place = false;
  detail::fake_quant_tensor(ctx, s.raw, out, s.fusion.used);
}

void QuantizeWrapper::backward_folded_bn(std::span<const Tensor* const> in, const Tensor& dout,
                                         std::span<Tensor* const> din, const RunContext& ctx) {
  State& s = *s_;
  WeightSlot& w = s.weights.at(0);
  const Tensor* d = &dout;
  if (s.out_spec) {
    detail::fake_quant_tensor_backward(ctx, s.raw, dout, s.dz, s.fusion.used);
    d = &s.dz;
  }
  const detail::BnFoldUnit::WeightFqBackward fqb = [&](const Tensor& wf, const Tensor& dwq, Tensor& dwf) {
    detail::fake_quant_weights_backward(wf, dwq, dwf, w.used);
  };
  s.bn->backward(w.master.value, in, *d, din, w.master.grad, ctx, fqb);
}

void QuantizeWrapper::backward(std::span<const Tensor* const> in, const Tensor& out, const Tensor& dout,
                               std::span<Tensor* const> din, const RunContext& ctx) {
  State& s = *s_;
  for (const WeightSlot& w : s.weights)
    QLITE_CHECK(!w.used.empty(), detail::label(*this) + ": backward without a training forward");
  if (s.bn) return backward_folded_bn(in, dout, din, ctx);
  if (!s.out_spec) {
    s.inner->backward(in, out, dout, din, ctx);
  } else if (s.fusion.in_place) {
    QLITE_CHECK(out.numel() == static_cast<int64_t>(s.fusion.keep.size()),
                detail::label(*this) + ": backward's output is not the last training forward's");
    s.fusion.base = out.f32();
    QLITE_CHECK(s.inner->backward_hooked(in, out, dout, din, ctx, s.fusion),
                detail::label(*this) + ": inner layer stopped supporting hooks");
  } else if (!s.inner->backward_hooked(in, s.raw, dout, din, ctx, s.fusion)) {
    // The inner layer sees its own (pre-fake-quant) output, so a fused ReLU
    // takes its derivative from the true pre-activation sign.
    detail::fake_quant_tensor_backward(ctx, s.raw, dout, s.dz, s.fusion.used);
    s.inner->backward(in, s.raw, s.dz, din, ctx);
  }
  for (WeightSlot& w : s.weights)
    detail::fake_quant_weights_backward(w.master.value, s.inner_params[w.index]->grad, w.master.grad, w.used);
}

std::vector<Param*> QuantizeWrapper::params() {
  State& s = *s_;
  if (s.bn) {  // the unfolded kernel, the batch norm's, the range state
    std::vector<Param*> out{&s.weights.at(0).master};
    for (Param* p : s.bn->bn_params()) out.push_back(p);
    out.push_back(&s.weights[0].min);
    out.push_back(&s.weights[0].max);
    if (s.out_spec) {
      out.push_back(&s.out_min);
      out.push_back(&s.out_max);
    }
    return out;
  }
  std::vector<Param*> out = s.inner->params();
  for (WeightSlot& w : s.weights) out[w.index] = &w.master;
  for (WeightSlot& w : s.weights) {
    out.push_back(&w.min);
    out.push_back(&w.max);
  }
  if (s.out_spec) {
    out.push_back(&s.out_min);
    out.push_back(&s.out_max);
  }
  return out;
}

json QuantizeWrapper::get_config() const {
  json c = {{"name", name()},
            {"layer", {{"class_name", s_->inner->type()}, {"config", s_->inner->get_config()}}},
            {"quantize_config", quantize_config_to_json(*s_->config)}};
  if (s_->bn) {
    const Layer& bn = *s_->bn->batch_norm();
    c["batch_norm"] = {{"class_name", bn.type()}, {"config", bn.get_config()}};
    c["freeze_bn_after"] = s_->freeze_bn_after;
  }
  return c;
}

std::unique_ptr<Layer> QuantizeWrapper::clone() const {
  std::unique_ptr<QuantizeWrapper> c =
      s_->bn ? std::make_unique<QuantizeWrapper>(LayerPtr(s_->inner->clone()), s_->config->clone(),
                                                 LayerPtr(s_->bn->batch_norm()->clone()), s_->freeze_bn_after)
             : std::make_unique<QuantizeWrapper>(LayerPtr(s_->inner->clone()), s_->config->clone());
  c->set_name(name());
  State& d = *c->s_;
  d.weights = s_->weights;
  d.out_min = s_->out_min;
  d.out_max = s_->out_max;
  d.fusion.used = s_->fusion.used;
  d.bn_steps = s_->bn_steps;
  if (built()) {
    if (d.bn) {
      Rng rng(0);  // builds only the unit's op layer; its weights are set per step
      d.bn->build(Layer::input_shapes(), rng);
    }
    c->mark_built(Layer::input_shapes(), output_shape());
  }
  return c;
}

TensorQuant QuantizeWrapper::output_quant() const {
  const State& s = *s_;
  if (s.takes_reader_range()) {
    QLITE_CHECK(s.range_owner != nullptr,
                detail::label(*this) + ": its config has no output quantizer, so its output takes the range of the "
                                       "Concatenate reading it, and no quantized Concatenate reads it");
    return s.range_owner->output_quant();
  }
  if (!s.out_spec) {
    const std::optional<TensorQuant> in = input_quant();
    QLITE_CHECK(in.has_value(), detail::label(*this) + ": its input is float, so its output has no quantization");
    return *in;
  }
  const QuantParams p =
      choose_quant_params(s.out_min.value.f32()[0], s.out_max.value.f32()[0], s.out_spec->options.scheme);
  return detail::to_tensor_quant(p, s.out_spec->options.scheme);
}

LoweredQuant QuantizeWrapper::lowered() const {
  const State& s = *s_;
  QLITE_CHECK(built(), detail::label(*this) + ": not built");
  const std::string who = detail::label(*this);
  LoweredQuant L;
  L.name = name();
  L.inner_type = s.inner->type();
  L.inner_config = s.inner->get_config();
  L.spec = s.kind->op_spec(*s.inner);
  const std::optional<TensorQuant> in = input_quant();
  QLITE_CHECK(in.has_value(), who + ": its input is float; quantize_apply puts a QuantizeLayer in front of it");
  L.input_quantized = true;
  L.input = *in;
  L.tflite_compatible = in->qmin == -128 && in->qmax == 127;
  if (s.role == Role::kPassThrough) {
    L.op = LoweredOp::kPassThrough;
    L.output = *in;
    return L;
  }
  if (s.role == Role::kOutputRange) {
    switch (L.spec.op) {
      case OpKind::kAdd: L.op = LoweredOp::kAdd; break;
      case OpKind::kMean: L.op = LoweredOp::kMean; break;
      case OpKind::kConcatenation: L.op = LoweredOp::kConcatenation; break;
      case OpKind::kLogistic:
      case OpKind::kTanh:
      case OpKind::kSoftmax:
      case OpKind::kHardSwish:
      case OpKind::kRelu: L.op = LoweredOp::kActivation; break;
      default: throw Error(who + ": QAT has no integer evaluation for " + op_kind_name(L.spec.op));
    }
    for (size_t k = 0; k < num_producers(); ++k) {
      const std::optional<TensorQuant> ik = input_quant(k);
      QLITE_CHECK(ik.has_value(), who + ": its input " + std::to_string(k) + " is float");
      L.inputs.push_back(*ik);
      L.tflite_compatible = L.tflite_compatible && ik->qmin == -128 && ik->qmax == 127;
    }
    L.output = output_quant();
    L.tflite_compatible = L.tflite_compatible && detail::tflite_int8(L.output);
    set_fused_activation(L);
    return L;
  }
  switch (L.spec.op) {
    case OpKind::kConv2D: L.op = LoweredOp::kConv2D; break;
    case OpKind::kDepthwiseConv2D: L.op = LoweredOp::kDepthwiseConv2D; break;
    case OpKind::kFullyConnected: L.op = LoweredOp::kDense; break;
    default: throw Error(who + ": QAT has no integer evaluation for " + op_kind_name(L.spec.op));
  }
  L.output = output_quant();
  L.tflite_compatible = L.tflite_compatible && detail::tflite_int8(L.output);

  const WeightSlot& w = s.weights.at(0);
  // With a batch norm kept apart: the fold with its running statistics.
  Tensor folded;
  std::vector<float> folded_bias;
  if (s.bn) s.bn->folded(w.master.value, folded, folded_bias);
  const Tensor& kv = s.bn ? folded : w.master.value;
  const std::vector<float> mins(w.min.value.f32(), w.min.value.f32() + w.min.value.numel());
  const std::vector<float> maxs(w.max.value.f32(), w.max.value.f32() + w.max.value.numel());
  const std::vector<QuantParams> wp = choose_quant_params(mins, maxs, w.spec.options.scheme);
  for (const QuantParams& p : wp) {
    QLITE_CHECK(p.zero_point == 0, who + ": weight zero point " + std::to_string(p.zero_point) + " is not 0");
    L.weight_scales.push_back(p.scale);
  }
  // Per-channel ranges are along the output channel (element j of the Keras
  // weight is channel j % out_c, the record says); the record's layout puts
  // the weights in TFLite's order.
  const int64_t out_c = weight_output_channels(*s.kind, kv.shape());
  const bool per_axis = w.spec.options.per_axis;
  QLITE_CHECK(!per_axis || names_output_channel(*s.kind, kv.shape(), w.spec.options.axis),
              who + ": per-channel weights must be quantized along the output channel (axis -1)");
  QLITE_CHECK(static_cast<int64_t>(wp.size()) == (per_axis ? out_c : 1), who + ": weight range has " +
                                                                       std::to_string(wp.size()) + " entries");
  std::vector<int8_t> keras_q(static_cast<size_t>(kv.numel()));
  const float* src = kv.f32();
  for (int64_t j = 0; j < kv.numel(); ++j)
    keras_q[static_cast<size_t>(j)] =
        static_cast<int8_t>(fake_quant_int(src[j], wp[per_axis ? static_cast<size_t>(j % out_c) : 0]));
  const WeightLayout layout = s.kind->tflite_weight_layout(kv.shape());
  L.weights_shape = layout.shape;
  L.quantized_dimension = layout.channel_axis;
  L.weights = layout.apply(keras_q.data());
  const Param* bias = nullptr;
  for (const Param* p : s.inner->params())
    if (p->name == "bias" && p->value.numel() == out_c) bias = p;
  if (s.bn) {
    L.bias = quantize_bias(std::span<const float>(folded_bias), L.input.scale, L.weight_scales);
  } else if (bias) {
    L.bias = quantize_bias(bias->value.span_f32(), L.input.scale, L.weight_scales);
  }
  // The multipliers exactly as TFLite 2.9 forms them for this op (requantize.h),
  // so the converted model requantizes with the same integers.
  const auto multipliers = L.op == LoweredOp::kDense
                               ? ref::fully_connected_multipliers(L.input.scale, L.weight_scales, L.output.scale)
                               : ref::conv_multipliers(L.input.scale, L.weight_scales, L.output.scale);
  for (const ref::QuantizedMultiplier& m : multipliers) {
    L.multiplier.push_back(m.multiplier);
    L.shift.push_back(m.shift);
  }
  set_fused_activation(L);
  return L;
}

}  // namespace qlite::quant
