// DEQUANTIZE of a run-time tensor: int8 / uint8 / int16 (per tensor) or float16 to
// float32. Constant inputs (float16 or int8 weights) never get here: the
// interpreter folds them at load.
#include <cmath>

#include "runtime/ops/op_util.h"
#include "runtime/ops/ops.h"

namespace qlite::runtime::detail {
namespace {

struct DequantizeState : OpState {
  float scale = 1.0f;
  int32_t zero_point = 0;
  decltype(KernelTable::dequantize_int8) from_int8 = nullptr;
  decltype(KernelTable::dequantize_uint8) from_uint8 = nullptr;
  decltype(KernelTable::dequantize_f16) from_f16 = nullptr;
};

void eval_int8(const EvalContext& c, const Node& n) {
  const auto& s = n.state_as<DequantizeState>();
  const RtTensor& in = c.input(n, 0);
  s.from_int8(c.scaled(in.numel()), in.as<const int8_t>(), s.scale, s.zero_point, c.output(n, 0).as<float>());
}
void eval_uint8(const EvalContext& c, const Node& n) {
  const auto& s = n.state_as<DequantizeState>();
  const RtTensor& in = c.input(n, 0);
  s.from_uint8(c.scaled(in.numel()), in.as<const uint8_t>(), s.scale, s.zero_point, c.output(n, 0).as<float>());
}
void eval_int16(const EvalContext& c, const Node& n) {
  const auto& s = n.state_as<DequantizeState>();
  const RtTensor& in = c.input(n, 0);
  ref::dequantize_int16(c.scaled(in.numel()), in.as<const int16_t>(), s.scale, s.zero_point, c.output(n, 0).as<float>());
}
void eval_f16(const EvalContext& c, const Node& n) {
  const auto& s = n.state_as<DequantizeState>();
  const RtTensor& in = c.input(n, 0);
  s.from_f16(c.scaled(in.numel()), in.as<const uint16_t>(), c.output(n, 0).as<float>());
}

}  // namespace

void prepare_dequantize(PrepareContext& ctx, Node& n) {
  RtTensor& in = ctx.input(n, 0);
  RtTensor& out = ctx.output(n, 0);
  ctx.set_output_shape(n, 0, in.shape);
  n.work = in.numel();
  auto& s = n.state_as<DequantizeState>();
  using T = lite::TensorType;
  if (out.type != T::kFloat32) unsupported_types(ctx, n);
  if (in.type == T::kFloat16) {
    s.from_f16 = ctx.kernels().dequantize_f16;
    n.eval = eval_f16;
    return;
  }
  if (in.type != T::kInt8 && in.type != T::kUInt8 && in.type != T::kInt16) unsupported_types(ctx, n);
  require_per_tensor(n, in, "input");
  s.scale = in.scale();
  s.zero_point = in.zero_point();
  op_check(std::isfinite(s.scale), n, "input " + describe(in) + " scale must be finite");
  if (in.type == T::kInt16) {
    n.eval = eval_int16;
  } else if (in.type == T::kInt8) {
    s.from_int8 = ctx.kernels().dequantize_int8;
    n.eval = eval_int8;
  } else {
    s.from_uint8 = ctx.kernels().dequantize_uint8;
    n.eval = eval_uint8;
  }
}

}  // namespace qlite::runtime::detail
