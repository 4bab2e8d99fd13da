// CONCATENATION along one axis of same-typed inputs. Quantized inputs must
// share the output's scale and zero point (docs/QUANTIZATION.md), so the op is a copy.
#include <cstring>

#include "runtime/ops/op_util.h"
#include "runtime/ops/ops.h"

namespace qlite::runtime::detail {
namespace {

struct ConcatState : OpState {
  int64_t outer = 1;
  std::vector<size_t> chunk;  // bytes of input k per outer index
};

void eval_concat(const EvalContext& c, const Node& n) {
  const auto& s = n.state_as<ConcatState>();
  std::byte* out = c.output(n, 0).data;
  const int64_t outer = c.scaled(s.outer);
  for (int64_t o = 0; o < outer; ++o) {
    for (size_t k = 0; k < s.chunk.size(); ++k) {
      const std::byte* in = c.input(n, k).data + static_cast<size_t>(o) * s.chunk[k];
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
  op_check(first.type == T::kFloat32 || first.type == T::kInt8 || first.type == T::kUInt8 ||
               first.type == T::kInt32,
           n, "unsupported type " + describe(first));
  Shape shape = first.shape;
  shape[static_cast<size_t>(axis)] = 0;
  auto& s = n.state_as<ConcatState>();
  s.chunk.clear();
  s.outer = 1;
  for (int64_t d = 0; d < axis; ++d) s.outer *= first.shape[static_cast<size_t>(d)];
  for (size_t k = 0; k < ctx.num_inputs(n); ++k) {
    RtTensor& in = ctx.input(n, k);
    op_check(in.type == out.type, n, "input " + describe(in) + " and output " + describe(out) + " differ in type");
    op_check(in.shape.size() == first.shape.size(), n, "inputs " + describe(first) + " and " + describe(in) + " differ in rank");
    for (int64_t d = 0; d < rank; ++d)
      op_check(d == axis || in.shape[static_cast<size_t>(d)] == first.shape[static_cast<size_t>(d)], n,
               "inputs " + describe(first) + " and " + describe(in) + " differ outside axis " + std::to_string(axis));
    if (in.quantized() || out.quantized()) require_same_quantization(n, in, out, "concatenation copies");
    shape[static_cast<size_t>(axis)] += in.shape[static_cast<size_t>(axis)];
    s.chunk.push_back(s.outer == 0 ? 0 : in.nbytes() / static_cast<size_t>(s.outer));
  }
  ctx.set_output_shape(n, 0, shape);
  n.separable = axis > 0;
  n.eval = eval_concat;
}

}  // namespace qlite::runtime::detail
