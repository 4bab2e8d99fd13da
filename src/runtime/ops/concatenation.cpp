// CONCATENATION along one axis of same-typed inputs: FLOAT32, INT8, UINT8,
// INT16, INT32, INT64 and BOOL (TensorFlow Lite 2.9's concatenation.cc).
// Quantized INT8 and INT16 inputs must share the output's scale and zero
// point (TFLite 2.9 refuses others), so the op is a copy; a UINT8 input with
// other parameters is requantized with TFLite's float arithmetic
// (ConcatenationWithScaling: round(q * scale + bias) + the output zero point,
// clamped), the others copied.
#include <algorithm>
#include <cmath>
#include <cstring>

#include "runtime/ops/op_util.h"
#include "runtime/ops/ops.h"

namespace qlite::runtime::detail {
namespace {

struct ConcatState : OpState {
  int64_t outer = 1;
  std::vector<size_t> chunk;  // bytes of input k per outer index
  // UINT8 inputs requantized to the output (empty when all are copies):
  // per input, whether it is, and its float scale and bias.
  std::vector<bool> rescale;
  std::vector<float> scale, bias;
  int32_t out_zero_point = 0;
};

void requantize_u8(const uint8_t* in, size_t n, float scale, float bias, int32_t zp, uint8_t* out) {
  for (size_t j = 0; j < n; ++j) {
    const int32_t v = static_cast<int32_t>(std::round(static_cast<float>(in[j]) * scale + bias)) + zp;
    out[j] = static_cast<uint8_t>(std::max(std::min(255, v), 0));
  }
}

void eval_concat(const EvalContext& c, const Node& n) {
  const auto& s = n.state_as<ConcatState>();
  std::byte* out = c.output(n, 0).data;
  const int64_t outer = c.scaled(s.outer);
  for (int64_t o = 0; o < outer; ++o) {
    for (size_t k = 0; k < s.chunk.size(); ++k) {
      const std::byte* in = c.input(n, k).data + static_cast<size_t>(o) * s.chunk[k];
      if (!s.rescale.empty() && s.rescale[k])
        requantize_u8(reinterpret_cast<const uint8_t*>(in), s.chunk[k], s.scale[k], s.bias[k], s.out_zero_point,
                      reinterpret_cast<uint8_t*>(out));
      else
        std::memcpy(out, in, s.chunk[k]);
      out += s.chunk[k];
    }
  }
}

}  // namespace

void prepare_concatenation(PrepareContext& ctx, Node& n) {
  const auto& o = std::get<lite::ConcatenationOptions>(n.def->options);
  RtTensor& first = ctx.input(n, 0);
  RtTensor& out = ctx.output(n, 0);
  op_check(o.activation == lite::Activation::kLinear, n, "a fused activation is not supported");
  const auto rank = static_cast<int64_t>(first.shape.size());
  const int64_t axis = o.axis < 0 ? o.axis + rank : o.axis;
  op_check(axis >= 0 && axis < rank, n, "axis " + std::to_string(o.axis) + " outside rank " + std::to_string(rank));
  using T = lite::TensorType;
  op_check(first.type == T::kFloat32 || first.type == T::kInt8 || first.type == T::kUInt8 || first.type == T::kInt16 ||
               first.type == T::kInt32 || first.type == T::kInt64 || first.type == T::kBool,
           n, "unsupported type " + describe(first));
  Shape shape = first.shape;
  shape[static_cast<size_t>(axis)] = 0;
  auto& s = n.state_as<ConcatState>();
  s.chunk.clear();
  s.rescale.clear();
  s.scale.clear();
  s.bias.clear();
  s.outer = 1;
  for (int64_t d = 0; d < axis; ++d) s.outer *= first.shape[static_cast<size_t>(d)];
  for (size_t k = 0; k < ctx.num_inputs(n); ++k) {
    RtTensor& in = ctx.input(n, k);
    op_check(in.type == out.type, n, "input " + describe(in) + " and output " + describe(out) + " differ in type");
    op_check(in.shape.size() == first.shape.size(), n, "inputs " + describe(first) + " and " + describe(in) + " differ in rank");
    for (int64_t d = 0; d < rank; ++d)
      op_check(d == axis || in.shape[static_cast<size_t>(d)] == first.shape[static_cast<size_t>(d)], n,
               "inputs " + describe(first) + " and " + describe(in) + " differ outside axis " + std::to_string(axis));
    const bool u8_rescaled = in.type == T::kUInt8 && in.quantized() && out.quantized() && in.quant().scale.size() == 1 &&
                             out.quant().scale.size() == 1 &&
                             (in.scale() != out.scale() || in.zero_point() != out.zero_point());
    if (u8_rescaled) {
      // TFLite's ConcatenationWithScaling, in float as it computes it.
      const float inverse_output_scale = 1.f / out.scale();
      const float scale = in.scale() * inverse_output_scale;
      s.rescale.resize(ctx.num_inputs(n), false);
      s.scale.resize(ctx.num_inputs(n), 0.0f);
      s.bias.resize(ctx.num_inputs(n), 0.0f);
      s.rescale[k] = true;
      s.scale[k] = scale;
      s.bias[k] = -static_cast<float>(in.zero_point()) * scale;
      s.out_zero_point = out.zero_point();
    } else if (in.quantized() || out.quantized()) {
      require_same_quantization(n, in, out, "concatenation copies");
    }
    shape[static_cast<size_t>(axis)] += in.shape[static_cast<size_t>(axis)];
    s.chunk.push_back(s.outer == 0 ? 0 : in.nbytes() / static_cast<size_t>(s.outer));
  }
  ctx.set_output_shape(n, 0, shape);
  n.separable = axis > 0;
  n.eval = eval_concat;
}

}  // namespace qlite::runtime::detail
