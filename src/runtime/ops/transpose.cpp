// TRANSPOSE by a constant permutation (int32, or int64) of a rank 1..5 tensor
// (TensorFlow Lite 2.9's limit), any fixed-size element type: it only moves
// elements, so quantized input and output must share scale and zero point.
#include "kernels/shape_kernels.h"
#include "runtime/ops/op_util.h"
#include "runtime/ops/ops.h"

namespace qlite::runtime::detail {
namespace {

struct TransposeState : OpState {
  ref::TransposeGeometry g;
  size_t elem_size = 1;
};

void eval_transpose(const EvalContext& c, const Node& n) {
  const auto& s = n.state_as<TransposeState>();
  ref::TransposeGeometry g = s.g;
  g.in_dims[0] = c.scaled(g.in_dims[0]);  // a tile of images (only when perm[0] == 0)
  kernels::transpose(g, s.elem_size, c.input(n, 0).data, c.output(n, 0).data);
}

}  // namespace

void prepare_transpose(PrepareContext& ctx, Node& n) {
  RtTensor& in = ctx.input(n, 0);
  RtTensor& perm = ctx.input(n, 1);
  RtTensor& out = ctx.output(n, 0);
  using T = lite::TensorType;
  op_check(in.type == out.type, n, "input " + describe(in) + " and output " + describe(out) + " differ in type");
  op_check(in.type != T::kString, n, "input " + describe(in) + ": STRING tensors cannot be transposed");
  const auto rank = static_cast<int>(in.shape.size());
  op_check(rank >= 1 && rank <= ref::kMaxTransposeRank, n,
           "input " + describe(in) + " has rank " + std::to_string(rank) + "; TRANSPOSE supports ranks 1 to " +
               std::to_string(ref::kMaxTransposeRank) + " (as TensorFlow Lite 2.9)");
  require_values(n, perm, "perm");
  op_check(perm.type == T::kInt32 || perm.type == T::kInt64, n, "perm " + describe(perm) + " must be INT32 or INT64");
  op_check(perm.shape == Shape{rank}, n,
           "perm " + describe(perm) + " must have shape (" + std::to_string(rank) + "), one entry per input dimension");
  auto& s = n.state_as<TransposeState>();
  s.g = ref::TransposeGeometry{};
  s.g.rank = rank;
  std::vector<bool> seen(static_cast<size_t>(rank), false);
  Shape shape(static_cast<size_t>(rank));
  for (int d = 0; d < rank; ++d) {
    const auto k = static_cast<size_t>(d);
    const int64_t p = perm.type == T::kInt32 ? int64_t{perm.as<const int32_t>()[k]} : perm.as<const int64_t>()[k];
    op_check(p >= 0 && p < rank && !seen[static_cast<size_t>(p)], n,
             "perm " + describe(perm) + " is not a permutation of 0.." + std::to_string(rank - 1) + " (entry " +
                 std::to_string(d) + " is " + std::to_string(p) + ")");
    seen[static_cast<size_t>(p)] = true;
    s.g.perm[k] = static_cast<int>(p);
    s.g.in_dims[k] = in.shape[k];
    shape[k] = in.shape[static_cast<size_t>(p)];
  }
  if (in.quantized() || out.quantized()) require_same_quantization(n, in, out, "transpose copies values");
  s.elem_size = lite::tensor_type_size(in.type);
  ctx.set_output_shape(n, 0, shape);
  ref::validate_transpose(s.g, "transpose");
  n.work = out.numel();
  n.separable = s.g.perm[0] == 0 && !in.constant;  // the batch stays the outer dimension
  n.eval = eval_transpose;
}

}  // namespace qlite::runtime::detail
