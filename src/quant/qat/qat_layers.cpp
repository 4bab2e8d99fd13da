// QuantizedLayer (the common base), QuantizeLayer and the shared helpers.
#include <algorithm>
#include <cmath>

#include "kernels/reference/int8_kernels.h"
#include "quant/qat/qat_internal.h"

namespace qlite::quant {
namespace detail {

TensorQuant to_tensor_quant(const QuantParams& p, const QuantScheme& s) {
  TensorQuant t;
  t.scale = p.scale;
  t.zero_point = p.zero_point;
  t.qmin = p.qmin;
  t.qmax = p.qmax;
  t.num_bits = s.num_bits;
  return t;
}

QuantParams to_quant_params(const TensorQuant& t) {
  QuantParams p;
  p.scale = t.scale;
  p.zero_point = t.zero_point;
  p.qmin = t.qmin;
  p.qmax = t.qmax;
  p.nudged_min = static_cast<float>(t.qmin - t.zero_point) * t.scale;
  p.nudged_max = static_cast<float>(t.qmax - t.zero_point) * t.scale;
  return p;
}

bool activation_scheme_in_tflite(const QuantScheme& s) { return s.num_bits == 8 && !s.narrow_range; }

Param range_param(const std::string& name, int64_t channels, float init) {
  Param p;
  p.name = name;
  p.trainable = false;
  p.value = Tensor({channels});
  for (int64_t i = 0; i < channels; ++i) p.value.f32()[i] = init;
  return p;
}

void store_range(const Quantizer& q, Param& min, Param& max) {
  const auto& lo = q.min_values();
  const auto& hi = q.max_values();
  QLITE_CHECK(static_cast<int64_t>(lo.size()) == min.value.numel() && lo.size() == hi.size(),
        "QAT: quantizer range '" + min.name + "' changed size");
  std::copy(lo.begin(), lo.end(), min.value.f32());
  std::copy(hi.begin(), hi.end(), max.value.f32());
}

namespace {
constexpr int64_t kElemChunk = 1 << 15;
}

void observe_tensor(const RunContext& ctx, Quantizer& q, const Tensor& x) {
  QLITE_CHECK(!q.options().per_axis, "QAT: observe_tensor is per tensor");
  std::vector<Range> part(static_cast<size_t>(num_chunks(ctx)));
  const float* xs = x.f32();
  run_chunks(ctx, x.numel(), [&](int64_t b, int64_t e, int c) { part[static_cast<size_t>(c)] = finite_range_fast(xs + b, e - b); },
             kElemChunk);
  Range r;
  for (const Range& p : part) merge_range(r, p);
  // The range of {min, max} is [min, max] (and empty stays empty: both are
  // infinite), so the quantizer's update sees exactly this batch's range.
  Tensor two({2});
  two.f32()[0] = r.min;
  two.f32()[1] = r.max;
  q.observe(two);
}

QuantParams update_range(const QuantizerSpec& spec, Range batch, Param& min, Param& max) {
  float& lo = min.value.f32()[0];
  float& hi = max.value.f32()[0];
  update_quantizer_range(spec.kind, spec.options, batch, lo, hi);
  return choose_quant_params(lo, hi, spec.options.scheme);
}

QuantParams observe_values(const RunContext& ctx, const QuantizerSpec& spec, const float* x, int64_t n,
                           std::vector<Range>& parts, Param& min, Param& max) {
  QLITE_CHECK(!spec.options.per_axis && min.value.numel() == 1 && max.value.numel() == 1,
              "QAT: range '" + min.name + "' is not per tensor");
  parts.assign(static_cast<size_t>(num_chunks(ctx)), Range{});
  run_chunks(ctx, n, [&](int64_t b, int64_t e, int c) { parts[static_cast<size_t>(c)] = finite_range_fast(x + b, e - b); },
             kElemChunk);
  Range r;
  for (const Range& p : parts) merge_range(r, p);
  return update_range(spec, r, min, max);
}

void observe_channels(const QuantizerSpec& spec, const Tensor& w, std::vector<Range>& ranges, Param& min,
                      Param& max, std::vector<QuantParams>& used) {
  // c = the output channels (the wrapper sized the range from the layer's
  // record): element i of the weights is channel i % c.
  const int64_t c = min.value.numel();
  QLITE_CHECK(c >= 1 && max.value.numel() == c && w.numel() % c == 0 && w.numel() > 0,
              "QAT: range '" + min.name + "' of " + std::to_string(c) + " channels does not fit the weights " +
                  shape_str(w.shape()));
  ranges.assign(static_cast<size_t>(c), Range{});
  const float* x = w.f32();
  for (int64_t r = 0; r < w.numel(); r += c)
    for (int64_t k = 0; k < c; ++k) {
      const float v = x[r + k];
      if (!std::isfinite(v)) continue;
      Range& g = ranges[static_cast<size_t>(k)];
      g.min = v < g.min ? v : g.min;
      g.max = v > g.max ? v : g.max;
    }
  used.resize(static_cast<size_t>(c));
  for (int64_t k = 0; k < c; ++k) {
    float& lo = min.value.f32()[k];
    float& hi = max.value.f32()[k];
    update_quantizer_range(spec.kind, spec.options, ranges[static_cast<size_t>(k)], lo, hi);
    used[static_cast<size_t>(k)] = choose_quant_params(lo, hi, spec.options.scheme);
  }
}

void fake_quant_weights(const Tensor& w, Tensor& y, const std::vector<QuantParams>& p) {
  if (&y != &w) y.resize(w.shape());
  const int64_t c = static_cast<int64_t>(p.size());
  QLITE_CHECK(c >= 1 && w.numel() % c == 0, "QAT: weight range count does not divide the weights");
  if (c == 1) return fake_quant_fast(w.f32(), y.f32(), w.numel(), p[0]);
  // Per output channel: rows of c values (element i is channel i % c).
  for (int64_t r = 0; r < w.numel(); r += c)
    for (int64_t k = 0; k < c; ++k) fake_quant_fast(w.f32() + r + k, y.f32() + r + k, 1, p[static_cast<size_t>(k)]);
}

void fake_quant_weights_backward(const Tensor& w, const Tensor& dy, Tensor& dx, const std::vector<QuantParams>& p) {
  QLITE_CHECK(dy.shape() == w.shape(), "QAT: weight gradient shape differs from the weights");
  if (&dx != &dy) dx.resize(w.shape());
  const int64_t c = static_cast<int64_t>(p.size());
  if (c == 1) return fake_quant_mask_fast(w.f32(), dy.f32(), dx.f32(), w.numel(), p[0]);
  for (int64_t r = 0; r < w.numel(); r += c)
    for (int64_t k = 0; k < c; ++k)
      fake_quant_mask_fast(w.f32() + r + k, dy.f32() + r + k, dx.f32() + r + k, 1, p[static_cast<size_t>(k)]);
}

void fake_quant_tensor(const RunContext& ctx, const Tensor& x, Tensor& y, const QuantParams& p) {
  if (&y != &x) y.resize(x.shape());
  const float* xs = x.f32();
  float* ys = y.f32();
  run_chunks(ctx, x.numel(), [&](int64_t b, int64_t e, int) { fake_quant_fast(xs + b, ys + b, e - b, p); },
             kElemChunk);
}

void fake_quant_tensor_backward(const RunContext& ctx, const Tensor& x, const Tensor& dy, Tensor& dx,
                                const QuantParams& p) {
  QLITE_CHECK(dy.shape() == x.shape(), "QAT: gradient shape " + shape_str(dy.shape()) + " differs from " +
                                     shape_str(x.shape()));
  if (&dx != &dy) dx.resize(x.shape());
  const float* xs = x.f32();
  const float* ds = dy.f32();
  float* out = dx.f32();
  run_chunks(ctx, x.numel(), [&](int64_t b, int64_t e, int) { fake_quant_mask_fast(xs + b, ds + b, out + b, e - b, p); },
             kElemChunk);
}

void quantize_values(int64_t n, const float* x, const TensorQuant& t, int8_t* q) {
  ref::quantize_f32_to_int8(n, x, t.scale, t.zero_point, q);
  if (t.qmin > -128 || t.qmax < 127)
    for (int64_t i = 0; i < n; ++i)
      q[i] = static_cast<int8_t>(std::clamp<int32_t>(q[i], t.qmin, t.qmax));
}

void dequantize_values(int64_t n, const int8_t* q, const TensorQuant& t, float* x) {
  ref::dequantize_int8(n, q, t.scale, t.zero_point, x);
}

}  // namespace detail

// ---- QuantizedLayer -------------------------------------------------------------
void QuantizedLayer::connect_inputs(std::span<Layer* const> producers) {
  QLITE_CHECK(!producers.empty(), detail::label(*this) + ": a QAT layer needs at least one input");
  producers_.assign(producers.begin(), producers.end());
}

std::optional<TensorQuant> QuantizedLayer::input_quant(size_t i) const {
  QLITE_CHECK(i < producers_.size() && producers_[i] != nullptr,
              detail::label(*this) + ": not connected to its input " + std::to_string(i) +
                  "; build the model (Model::build) first");
  return layer_output_quant(*producers_[i]);
}

std::optional<TensorQuant> layer_output_quant(const Layer& layer) {
  if (const auto* q = dynamic_cast<const QuantizedLayer*>(&layer)) return q->output_quant();
  return std::nullopt;
}

// ---- QuantizeLayer -------------------------------------------------------------
QuantizeLayer::QuantizeLayer(QuantizerSpec spec, std::string name) : QuantizedLayer(std::move(name)), spec_(spec) {
  QLITE_CHECK(!spec_.options.per_axis, "QuantizeLayer: the input quantizer must be per tensor");
  Quantizer(spec_.kind, spec_.options);  // validates the options
  const bool zero = spec_.kind == QuantizerKind::kAllValues;
  min_ = detail::range_param("min", 1, zero ? 0.0f : spec_.options.init_min);
  max_ = detail::range_param("max", 1, zero ? 0.0f : spec_.options.init_max);
}

Shape QuantizeLayer::build(std::span<const Shape> input_shapes, Rng&) {
  QLITE_CHECK(input_shapes.size() == 1, detail::label(*this) + ": expects exactly one input");
  if (!built()) mark_built(input_shapes, input_shapes[0]);
  QLITE_CHECK(input_shapes[0] == output_shape(), detail::label(*this) + ": already built for " +
                                               shape_str(output_shape()));
  return output_shape();
}

void QuantizeLayer::forward(std::span<const Tensor* const> in, Tensor& out, const RunContext& ctx) {
  QLITE_CHECK(in.size() == 1 && in[0] != nullptr, detail::label(*this) + ": expects one input");
  const Tensor& x = *in[0];
  if (ctx.training) {
    const QuantParams p = detail::observe_values(ctx, spec_, x.f32(), x.numel(), parts_, min_, max_);
    detail::fake_quant_tensor(ctx, x, out, p);
    return;
  }
  // Inference: QUANTIZE then DEQUANTIZE, exactly what the converted model's
  // input QUANTIZE op computes (the next quantized layer re-quantizes exactly).
  const TensorQuant t = output_quant();
  out.resize(x.shape());
  const float* xs = x.f32();
  float* ys = out.f32();
  detail::run_chunks(ctx, x.numel(), [&](int64_t b, int64_t e, int) {
    int8_t buf[1024];
    for (int64_t i = b; i < e; i += 1024) {
      const int64_t m = std::min<int64_t>(1024, e - i);
      detail::quantize_values(m, xs + i, t, buf);
      detail::dequantize_values(m, buf, t, ys + i);
    }
  }, 1 << 15);
}

void QuantizeLayer::backward(std::span<const Tensor* const> in, const Tensor&, const Tensor& dout,
                             std::span<Tensor* const> din, const RunContext& ctx) {
  if (din.empty() || din[0] == nullptr) return;
  // The range forward used is the one stored now (forward updated it first).
  const QuantParams p = choose_quant_params(min_.value.f32()[0], max_.value.f32()[0], spec_.options.scheme);
  detail::fake_quant_tensor_backward(ctx, *in[0], dout, *din[0], p);
}

json QuantizeLayer::get_config() const { return {{"name", name()}, {"quantizer", spec_.to_json()}}; }

std::unique_ptr<Layer> QuantizeLayer::clone() const {
  auto c = std::make_unique<QuantizeLayer>(*this);
  c->disconnect();  // the copy belongs to no model yet
  return c;
}

TensorQuant QuantizeLayer::output_quant() const {
  const QuantParams p = choose_quant_params(min_.value.f32()[0], max_.value.f32()[0], spec_.options.scheme);
  return detail::to_tensor_quant(p, spec_.options.scheme);
}

LoweredQuant QuantizeLayer::lowered() const {
  LoweredQuant l;
  l.op = LoweredOp::kQuantize;
  l.name = name();
  l.inner_type = "QuantizeLayer";
  l.inner_config = json::object();
  l.input_quantized = false;
  l.output = output_quant();
  l.tflite_compatible = detail::activation_scheme_in_tflite(spec_.options.scheme);
  return l;
}

}  // namespace qlite::quant
