#include "runtime/ops/elementwise.h"

#include "kernels/elementwise_x86.h"
#include "runtime/ops/op_util.h"

namespace qlite::runtime::detail {

ElementwiseState& prepare_elementwise(PrepareContext& ctx, Node& n) {
  RtTensor& in = ctx.input(n, 0);
  RtTensor& out = ctx.output(n, 0);
  op_check(in.type == out.type, n, "input " + describe(in) + " and output " + describe(out) + " differ in type");
  ctx.set_output_shape(n, 0, in.shape);
  n.work = in.numel();
  n.separable = !in.constant;  // a constant's dimension 0 is no batch
  auto& s = n.state_as<ElementwiseState>();
  s.f32 = nullptr;
  s.isa = ctx.isa();
  return s;
}

void eval_byte_table(const EvalContext& c, const Node& n) {
  const auto& s = n.state_as<ElementwiseState>();
  const RtTensor& in = c.input(n, 0);
  kernels::lookup_bytes(s.isa, s.table, c.scaled(in.numel()), in.as<const uint8_t>(), c.output(n, 0).as<uint8_t>());
}

void eval_f32_elementwise(const EvalContext& c, const Node& n) {
  const auto& s = n.state_as<ElementwiseState>();
  const RtTensor& in = c.input(n, 0);
  const float* x = in.as<const float>();
  float* y = c.output(n, 0).as<float>();
  const int64_t count = c.scaled(in.numel());
  // A transcendental per element: worth a second thread on large tensors.
  split_work(c, count, work_of({count, 16}), [&](int64_t b, int64_t e, int) { s.f32(e - b, x + b, y + b); });
}

}  // namespace qlite::runtime::detail
