#include "runtime/ops/op_util.h"

#include <cmath>
#include <limits>

namespace qlite::runtime::detail {

void op_fail(const Node& n, const std::string& message) {
  throw Error("runtime: " + n.label + ": " + message);
}

std::string describe(const RtTensor& t) {
  return "'" + t.def->name + "' " + lite::tensor_type_name(t.type) + " " + shape_str(t.shape);
}

Activation to_fused(const Node& n, lite::Activation a) {
  switch (a) {
    case lite::Activation::kLinear: return Activation::kLinear;
    case lite::Activation::kRelu: return Activation::kRelu;
    case lite::Activation::kRelu6: return Activation::kRelu6;
    case lite::Activation::kReluN1To1: return Activation::kReluN1To1;
    default: break;
  }
  op_fail(n, std::string("fused activation ") + lite::activation_name(a) + " is not supported");
}

void apply_op_padding(const Node& n, ref::WindowGeometry& g, lite::Padding p) {
  if (!n.has_folded_pad) return ref::apply_padding(g, to_padding(p));
  // As VALID over the padded input (the PAD's output), which is what the
  // two ops compute; windows that reach into the padding read the input's
  // zero point, as the PAD wrote it.
  const FoldedPad& f = n.folded_pad;
  const int64_t h = int64_t{g.in_h} + f.top + f.bottom, w = int64_t{g.in_w} + f.left + f.right;
  const int64_t eh = int64_t{g.kernel_h - 1} * g.dilation_h + 1, ew = int64_t{g.kernel_w - 1} * g.dilation_w + 1;
  QLITE_OP_CHECK(h >= eh && w >= ew && g.stride_h > 0 && g.stride_w > 0, n,
           "padded input " + std::to_string(h) + "x" + std::to_string(w) + " is smaller than the filter");
  g.out_h = static_cast<int>((h - eh) / g.stride_h + 1);
  g.out_w = static_cast<int>((w - ew) / g.stride_w + 1);
  g.pad_top = f.top;
  g.pad_left = f.left;
}

Padding to_padding(lite::Padding p) {
  return p == lite::Padding::kSame ? Padding::kSame : Padding::kValid;
}

int dim_int(const Node& n, int64_t v, const char* what) {
  QLITE_OP_CHECK(v > 0 && v <= std::numeric_limits<int32_t>::max(), n,
           std::string(what) + " " + std::to_string(v) + " is not a positive int32");
  return static_cast<int>(v);
}

void require_rank(const Node& n, const RtTensor& t, size_t rank, const char* what) {
  QLITE_OP_CHECK(t.shape.size() == rank, n,
           std::string(what) + " " + describe(t) + " must have rank " + std::to_string(rank));
}

void require_type(const Node& n, const RtTensor& t, lite::TensorType type, const char* what) {
  QLITE_OP_CHECK(t.type == type, n,
           std::string(what) + " " + describe(t) + " must be " + lite::tensor_type_name(type));
}

void require_per_tensor(const Node& n, const RtTensor& t, const char* what) {
  QLITE_OP_CHECK(t.quant().scale.size() == 1 && t.quant().zero_point.size() == 1, n,
           std::string(what) + " " + describe(t) +
               " needs per-tensor quantization (one scale and zero point), it has " +
               std::to_string(t.quant().scale.size()) + " scales");
}

void require_same_quantization(const Node& n, const RtTensor& a, const RtTensor& b, const char* what) {
  if (!a.quantized() && !b.quantized()) return;
  require_per_tensor(n, a, what);
  require_per_tensor(n, b, what);
  QLITE_OP_CHECK(a.scale() == b.scale() && a.zero_point() == b.zero_point(), n,
           std::string(what) + ": " + describe(a) + " and " + describe(b) +
               " must share scale and zero point");
}

void unsupported_types(const PrepareContext& ctx, const Node& n) {
  std::string s = "unsupported type combination: inputs (";
  for (size_t k = 0; k < n.def->inputs.size(); ++k) {
    if (k) s += ", ";
    const RtTensor* t = ctx.optional_input(n, k);
    s += t ? lite::tensor_type_name(t->type) : "none";
  }
  s += ") -> output ";
  s += lite::tensor_type_name(ctx.output(n, 0).type);
  op_fail(n, s);
}

std::vector<float> weight_scales(const Node& n, const RtTensor& w, int64_t channels, int32_t dim,
                                 const char* what) {
  const lite::Quantization& q = w.quant();
  QLITE_OP_CHECK(!q.scale.empty(), n, std::string(what) + " " + describe(w) + " has no quantization scale");
  QLITE_OP_CHECK(q.scale.size() == 1 || (static_cast<int64_t>(q.scale.size()) == channels &&
                                   q.quantized_dimension == dim),
           n,
           std::string(what) + " " + describe(w) + " has " + std::to_string(q.scale.size()) +
               " scales along dimension " + std::to_string(q.quantized_dimension) + ", expected 1 or " +
               std::to_string(channels) + " along dimension " + std::to_string(dim));
  for (int64_t z : q.zero_point)
    QLITE_OP_CHECK(z == 0, n, std::string(what) + " " + describe(w) + " must be symmetric (zero point 0)");
  return q.scale;
}

void check_bias_int32(const Node& n, const RtTensor& bias, int64_t channels, float input_scale,
                      const std::vector<float>& w_scales, float output_scale) {
  check_bias_quantized(n, bias, lite::TensorType::kInt32, channels, input_scale, w_scales, output_scale);
}

void check_bias_quantized(const Node& n, const RtTensor& bias, lite::TensorType type, int64_t channels,
                          float input_scale, const std::vector<float>& w_scales, float output_scale) {
  require_type(n, bias, type, "bias");
  QLITE_OP_CHECK(bias.numel() == channels, n,
           "bias " + describe(bias) + " must have " + std::to_string(channels) + " elements");
  const lite::Quantization& q = bias.quant();
  QLITE_OP_CHECK(!q.scale.empty(), n, "bias " + describe(bias) + " has no quantization scale");
  QLITE_OP_CHECK(q.scale.size() == 1 || q.scale.size() == w_scales.size(), n,
           "bias " + describe(bias) + " has " + std::to_string(q.scale.size()) + " scales, weights " +
               std::to_string(w_scales.size()));
  for (int64_t z : q.zero_point) QLITE_OP_CHECK(z == 0, n, "bias " + describe(bias) + " zero point must be 0");
  for (size_t c = 0; c < w_scales.size(); ++c) {
    // TFLite's rule (GetQuantizedConvolutionMultipler): the difference
    // between input_scale * weight_scale (a float product) and the bias
    // scale, in units of the output scale, at most 0.02.
    const double want = static_cast<double>(input_scale * w_scales[c]);
    const double got = q.scale[q.scale.size() == 1 ? 0 : c];
    QLITE_OP_CHECK(std::abs(want - got) / output_scale <= 0.02, n,
             "bias " + describe(bias) + " scale " + std::to_string(got) + " differs from input scale x weight scale " +
                 std::to_string(want) + " for channel " + std::to_string(c));
  }
}

void prepare_16x8(const Node& n, const RtTensor& in, const RtTensor& w, const RtTensor* bias, const RtTensor& out,
                  int64_t channels, const char* weights_name, bool& bias64,
                  std::vector<ref::QuantizedMultiplier>& requant, ref::ActRange& act_range, Activation act,
                  std::vector<ref::QuantizedMultiplier> (*multipliers)(float, const std::vector<float>&, float)) {
  require_per_tensor(n, in, "input");
  require_per_tensor(n, out, "output");
  // TFLite 2.9 requires symmetric int16 activations (conv.cc, fully_connected.cc).
  QLITE_OP_CHECK(in.zero_point() == 0, n, "int16 input " + describe(in) + " must have zero point 0");
  QLITE_OP_CHECK(out.zero_point() == 0, n, "int16 output " + describe(out) + " must have zero point 0");
  const std::vector<float> ws = weight_scales(n, w, channels, 0, weights_name);
  bias64 = bias != nullptr && bias->type == lite::TensorType::kInt64;
  if (bias)
    check_bias_quantized(n, *bias, bias64 ? lite::TensorType::kInt64 : lite::TensorType::kInt32, channels,
                         in.scale(), ws, out.scale());
  requant = multipliers(in.scale(), ws, out.scale());
  for (const ref::QuantizedMultiplier& m : requant)
    QLITE_OP_CHECK(m.shift >= -31 && m.shift <= 7, n,
             "effective scale input x weight / output is outside TFLite's range (shift " + std::to_string(m.shift) +
                 ")");
  act_range = ref::fused_activation_range(act, out.scale(), 0, -32768, 32767);
}

void check_bias_f32(const Node& n, const RtTensor& bias, int64_t channels) {
  require_type(n, bias, lite::TensorType::kFloat32, "bias");
  QLITE_OP_CHECK(bias.numel() == channels, n,
           "bias " + describe(bias) + " must have " + std::to_string(channels) + " elements");
}

ref::ReduceGeometry prepare_reduction(PrepareContext& ctx, Node& n, const char* op, const std::vector<int64_t>& axes,
                                      bool* keep_dims) {
  const RtTensor& in = ctx.input(n, 0);
  bool keep = false;
  if (const auto* o = std::get_if<lite::ReducerOptions>(&n.def->options)) keep = o->keep_dims;
  if (keep_dims) *keep_dims = keep;
  ref::ReduceGeometry g;
  try {
    g = ref::make_reduce(op, std::vector<int64_t>(in.shape.begin(), in.shape.end()), axes);
  } catch (const Error& e) {
    op_fail(n, e.what());
  }
  const std::vector<int64_t> shape = ref::reduce_output_shape(g, keep);
  ctx.set_output_shape(n, 0, Shape(shape.begin(), shape.end()));
  n.work = g.in_count;
  n.separable = false;
  return g;
}

}  // namespace qlite::runtime::detail
