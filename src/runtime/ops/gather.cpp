// GATHER (axis, batch_dims) and GATHER_ND, as TensorFlow Lite 2.9's gather.cc
// and gather_nd.cc: FLOAT32, UINT8, INT8, INT16, INT32, INT64 (and BOOL for
// GATHER) values, INT32 or INT64 indices (INT16 too for GATHER). The indices
// may be a graph input: they are checked at every invoke, and an index out of
// range fails the invoke naming the op (TFLite 2.9 refuses negative GATHER
// indices and out-of-tensor GATHER_ND slices; it reads past the axis for a
// too-large GATHER index, which qlite refuses). The ops copy values, so
// quantized input and output must share scale and zero point.
#include "kernels/reference/data_kernels.h"
#include "runtime/ops/data_util.h"
#include "runtime/ops/ops.h"

namespace qlite::runtime::detail {
namespace {

using T = lite::TensorType;

struct GatherState : OpState {
  ref::GatherGeometry g;
  size_t elem_size = 1;
  int64_t num_indices = 0;   // index values, converted to int64 in scratch 0 at every invoke
  std::vector<int64_t> dims;  // GATHER_ND: the first `depth` input dims
  int64_t slice = 1;          // GATHER_ND: elements per slice
  int64_t tuples = 0;         // GATHER_ND: index tuples
};

void eval_gather(const EvalContext& c, const Node& n) {
  const auto& s = n.state_as<GatherState>();
  const RtTensor& idx = c.input(n, 1);
  auto* indices = reinterpret_cast<int64_t*>(c.scratch_of(n, 0));
  ref::indices_to_int64(idx.type, s.num_indices, idx.data, indices);
  const int64_t bad = ref::gather(s.g, s.elem_size, c.input(n, 0).data, indices, c.output(n, 0).data);
  if (bad >= 0)
    throw Error("index " + std::to_string(indices[bad]) + " at position " + std::to_string(bad) + " is outside [0, " +
                std::to_string(s.g.axis_size) + ")");
}

void eval_gather_nd(const EvalContext& c, const Node& n) {
  const auto& s = n.state_as<GatherState>();
  const RtTensor& idx = c.input(n, 1);
  auto* indices = reinterpret_cast<int64_t*>(c.scratch_of(n, 0));
  ref::indices_to_int64(idx.type, s.num_indices, idx.data, indices);
  const int64_t bad = ref::gather_nd(s.dims.data(), static_cast<int>(s.dims.size()), s.slice, s.tuples, s.elem_size,
                                     c.input(n, 0).data, indices, c.output(n, 0).data);
  if (bad >= 0) throw Error("index tuple " + std::to_string(bad) + " points outside the input");
}

bool gather_type(T t, bool nd) {
  return t == T::kFloat32 || t == T::kUInt8 || t == T::kInt8 || t == T::kInt16 || t == T::kInt32 || t == T::kInt64 ||
         (!nd && t == T::kBool);
}

}  // namespace

void prepare_gather(PrepareContext& ctx, Node& n) {
  RtTensor& in = ctx.input(n, 0);
  RtTensor& idx = ctx.input(n, 1);
  RtTensor& out = ctx.output(n, 0);
  if (!gather_type(in.type, false) || in.type != out.type) unsupported_types(ctx, n);
  op_check(idx.type == T::kInt32 || idx.type == T::kInt64 || idx.type == T::kInt16, n,
           "indices " + describe(idx) + " must be INT32, INT64 or INT16");
  const auto* o = std::get_if<lite::GatherOptions>(&n.def->options);
  const auto rank = static_cast<int64_t>(in.shape.size()), idx_rank = static_cast<int64_t>(idx.shape.size());
  op_check(rank >= 1, n, "input " + describe(in) + " must have rank 1 or more");
  const int axis = normalize_axis(n, o ? o->axis : 0, rank, "axis");
  int64_t batch_dims = o ? o->batch_dims : 0;
  if (batch_dims < 0) batch_dims += idx_rank;
  op_check(batch_dims >= 0 && batch_dims <= axis && batch_dims < rank && batch_dims <= idx_rank, n,
           "batch_dims " + std::to_string(o ? o->batch_dims : 0) + " must lie in [0, min(axis " + std::to_string(axis) +
               ", rank of indices " + std::to_string(idx_rank) + ")]");
  const auto bd = static_cast<size_t>(batch_dims);
  for (size_t d = 0; d < bd; ++d)
    op_check(in.shape[d] == idx.shape[d], n,
             "input " + describe(in) + " and indices " + describe(idx) + " differ in batch dimension " +
                 std::to_string(d));
  if (in.quantized() || out.quantized()) require_same_quantization(n, in, out, "gather copies values");
  auto& s = n.state_as<GatherState>();
  s.g = ref::GatherGeometry{};
  s.g.batch = product(in.shape, 0, bd);
  s.g.outer = product(in.shape, bd, static_cast<size_t>(axis));
  s.g.axis_size = in.shape[static_cast<size_t>(axis)];
  s.g.inner = product(in.shape, static_cast<size_t>(axis) + 1, in.shape.size());
  s.g.coords = product(idx.shape, bd, idx.shape.size());
  s.elem_size = lite::tensor_type_size(in.type);
  s.num_indices = idx.numel();
  ctx.request_scratch(n, static_cast<size_t>(s.num_indices) * sizeof(int64_t));
  Shape shape(in.shape.begin(), in.shape.begin() + axis);
  shape.insert(shape.end(), idx.shape.begin() + static_cast<int64_t>(bd), idx.shape.end());
  shape.insert(shape.end(), in.shape.begin() + axis + 1, in.shape.end());
  ctx.set_output_shape(n, 0, shape);
  if (idx.constant) {  // a constant index out of range fails at load
    std::vector<int64_t> values(static_cast<size_t>(s.num_indices));
    ref::indices_to_int64(idx.type, s.num_indices, idx.data, values.data());
    for (int64_t v : values)
      op_check(v >= 0 && v < s.g.axis_size, n,
               "indices " + describe(idx) + " hold " + std::to_string(v) + ", outside [0, " +
                   std::to_string(s.g.axis_size) + ")");
  }
  n.work = out.numel();
  n.separable = false;  // the batch may be gathered from
  n.eval = eval_gather;
}

void prepare_gather_nd(PrepareContext& ctx, Node& n) {
  RtTensor& in = ctx.input(n, 0);
  RtTensor& idx = ctx.input(n, 1);
  RtTensor& out = ctx.output(n, 0);
  if (!gather_type(in.type, true) || in.type != out.type) unsupported_types(ctx, n);
  op_check(idx.type == T::kInt32 || idx.type == T::kInt64, n, "indices " + describe(idx) + " must be INT32 or INT64");
  const auto rank = static_cast<int64_t>(in.shape.size()), idx_rank = static_cast<int64_t>(idx.shape.size());
  op_check(rank >= 1, n, "params " + describe(in) + " must be at least a vector");
  op_check(idx_rank >= 1, n, "indices " + describe(idx) + " must be at least a vector");
  const int64_t depth = idx.shape.back();
  op_check(depth >= 0 && depth <= rank, n,
           "indices " + describe(idx) + ": the innermost dimension must be at most the params' rank " +
               std::to_string(rank));
  if (in.quantized() || out.quantized()) require_same_quantization(n, in, out, "gather_nd copies values");
  auto& s = n.state_as<GatherState>();
  s.elem_size = lite::tensor_type_size(in.type);
  s.dims.assign(in.shape.begin(), in.shape.begin() + depth);
  s.slice = product(in.shape, static_cast<size_t>(depth), in.shape.size());
  s.num_indices = idx.numel();
  s.tuples = product(idx.shape, 0, idx.shape.size() - 1);
  ctx.request_scratch(n, static_cast<size_t>(s.num_indices) * sizeof(int64_t));
  Shape shape(idx.shape.begin(), idx.shape.end() - 1);
  shape.insert(shape.end(), in.shape.begin() + depth, in.shape.end());
  ctx.set_output_shape(n, 0, shape);
  n.work = out.numel();
  n.separable = false;
  n.eval = eval_gather_nd;
}

}  // namespace qlite::runtime::detail
