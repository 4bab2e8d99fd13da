// SPLIT, SPLIT_V, UNPACK (one input into several outputs along an axis),
// PACK (several inputs stacked along a new axis) and SLICE, as TensorFlow
// Lite 2.9's split.cc, split_v.cc, unpack.cc, pack.cc and slice.cc: the same
// types, counts and checks. Axes, sizes, begins must be constant tensors (a
// run-time value would make the outputs' shapes dynamic, a later step). The
// ops copy values, so quantized inputs and outputs share scale and zero point.
#include <cstring>
#include <numeric>

#include "runtime/ops/data_util.h"
#include "runtime/ops/ops.h"

namespace qlite::runtime::detail {
namespace {

using T = lite::TensorType;

// Input `in_index` cut along one axis into parts: outer x (part[k] x inner) each.
struct SplitState : OpState {
  int64_t outer = 1;
  std::vector<size_t> part_bytes;  // bytes of output k per outer index
  size_t in_index = 0;
};

void eval_split(const EvalContext& c, const Node& n) {
  const auto& s = n.state_as<SplitState>();
  const std::byte* in = c.input(n, s.in_index).data;
  for (int64_t o = 0; o < s.outer; ++o)
    for (size_t k = 0; k < s.part_bytes.size(); ++k) {
      if (s.part_bytes[k] == 0) continue;
      std::memcpy(c.output(n, k).data + static_cast<size_t>(o) * s.part_bytes[k], in, s.part_bytes[k]);
      in += s.part_bytes[k];
    }
}

// PACK: inputs stacked; output = outer x (input k's inner block) in input order.
void eval_pack(const EvalContext& c, const Node& n) {
  const auto& s = n.state_as<SplitState>();
  std::byte* out = c.output(n, 0).data;
  const size_t block = s.part_bytes.empty() ? 0 : s.part_bytes[0];
  if (block == 0) return;
  for (int64_t o = 0; o < s.outer; ++o)
    for (size_t k = 0; k < s.part_bytes.size(); ++k) {
      std::memcpy(out, c.input(n, k).data + static_cast<size_t>(o) * block, block);
      out += block;
    }
}

bool split_type(T t, bool with_int64) {
  return t == T::kFloat32 || t == T::kUInt8 || t == T::kInt8 || t == T::kInt16 || t == T::kInt32 ||
         (with_int64 && t == T::kInt64);
}

// The common part of SPLIT, SPLIT_V and UNPACK: outputs sized `sizes` along
// `axis` of `in`; `keep_axis` false drops the axis (UNPACK).
void prepare_cut(PrepareContext& ctx, Node& n, const RtTensor& in, size_t in_index, int axis,
                 const std::vector<int64_t>& sizes, bool keep_axis, const char* what) {
  op_check(n.def->outputs.size() == sizes.size(), n,
           "has " + std::to_string(n.def->outputs.size()) + " outputs for " + std::to_string(sizes.size()) + " parts");
  auto& s = n.state_as<SplitState>();
  s.in_index = in_index;
  s.outer = product(in.shape, 0, static_cast<size_t>(axis));
  const int64_t inner = product(in.shape, static_cast<size_t>(axis) + 1, in.shape.size());
  const size_t width = lite::tensor_type_size(in.type);
  s.part_bytes.clear();
  for (size_t k = 0; k < sizes.size(); ++k) {
    RtTensor& out = ctx.output(n, k);
    op_check(out.type == in.type, n, "input " + describe(in) + " and output " + describe(out) + " differ in type");
    if (in.quantized() || out.quantized()) require_same_quantization(n, in, out, what);
    Shape shape = in.shape;
    if (keep_axis) shape[static_cast<size_t>(axis)] = sizes[k];
    else shape.erase(shape.begin() + axis);
    ctx.set_output_shape(n, k, shape);
    s.part_bytes.push_back(static_cast<size_t>(sizes[k] * inner) * width);
  }
  n.work = in.numel();
  n.separable = false;
  n.eval = eval_split;
}

}  // namespace

void prepare_split(PrepareContext& ctx, Node& n) {
  RtTensor& axis_t = ctx.input(n, 0);
  RtTensor& in = ctx.input(n, 1);
  if (!split_type(in.type, false)) unsupported_types(ctx, n);
  const std::vector<int64_t> axis_v = constant_ints(n, axis_t, "axis");
  op_check(axis_t.type == T::kInt32 && axis_v.size() == 1, n, "axis " + describe(axis_t) + " must be one INT32 value");
  const auto* o = std::get_if<lite::SplitOptions>(&n.def->options);
  const int64_t num = o ? o->num_splits : 0;
  op_check(num >= 1 && static_cast<size_t>(num) == n.def->outputs.size(), n,
           "num_splits " + std::to_string(num) + " must equal the number of outputs (" +
               std::to_string(n.def->outputs.size()) + ")");
  const int axis = normalize_axis(n, axis_v[0], static_cast<int64_t>(in.shape.size()), "axis");
  const int64_t dim = in.shape[static_cast<size_t>(axis)];
  op_check(dim % num == 0, n,
           "dimension " + std::to_string(axis) + " of " + describe(in) + " is not a multiple of num_splits " +
               std::to_string(num));
  prepare_cut(ctx, n, in, 1, axis, std::vector<int64_t>(static_cast<size_t>(num), dim / num), true,
              "split copies values");
}

void prepare_split_v(PrepareContext& ctx, Node& n) {
  RtTensor& in = ctx.input(n, 0);
  RtTensor& sizes_t = ctx.input(n, 1);
  RtTensor& axis_t = ctx.input(n, 2);
  if (!split_type(in.type, true)) unsupported_types(ctx, n);
  const std::vector<int64_t> axis_v = constant_ints(n, axis_t, "axis");
  op_check(axis_t.type == T::kInt32 && axis_v.size() == 1, n, "axis " + describe(axis_t) + " must be one INT32 value");
  std::vector<int64_t> sizes = constant_ints(n, sizes_t, "size_splits");
  op_check(sizes_t.shape.size() == 1, n, "size_splits " + describe(sizes_t) + " must be 1-D");
  const auto* o = std::get_if<lite::SplitVOptions>(&n.def->options);
  const int64_t num = o ? o->num_splits : 0;
  op_check(num >= 1 && static_cast<size_t>(num) == n.def->outputs.size() && static_cast<size_t>(num) == sizes.size(), n,
           "num_splits " + std::to_string(num) + " must equal the number of outputs (" +
               std::to_string(n.def->outputs.size()) + ") and of size_splits (" + std::to_string(sizes.size()) + ")");
  const int axis = normalize_axis(n, axis_v[0], static_cast<int64_t>(in.shape.size()), "axis");
  const int64_t dim = in.shape[static_cast<size_t>(axis)];
  int64_t sum = 0, minus_one = -1;
  for (size_t k = 0; k < sizes.size(); ++k) {
    if (sizes[k] == -1) {
      op_check(minus_one < 0, n, "size_splits " + describe(sizes_t) + " has more than one -1");
      minus_one = static_cast<int64_t>(k);
    } else {
      op_check(sizes[k] >= 0 && sizes[k] <= dim, n,
               "size_splits " + describe(sizes_t) + " holds " + std::to_string(sizes[k]) + ", outside [0, " +
                   std::to_string(dim) + "]");
      sum += sizes[k];
    }
  }
  if (minus_one >= 0) {
    op_check(sum <= dim, n, "size_splits " + describe(sizes_t) + " add up to more than dimension " + std::to_string(dim));
    sizes[static_cast<size_t>(minus_one)] = dim - sum;
  } else {
    op_check(sum == dim, n,
             "size_splits " + describe(sizes_t) + " add up to " + std::to_string(sum) + ", not to dimension " +
                 std::to_string(dim));
  }
  prepare_cut(ctx, n, in, 0, axis, sizes, true, "split_v copies values");
}

void prepare_unpack(PrepareContext& ctx, Node& n) {
  RtTensor& in = ctx.input(n, 0);
  if (!(split_type(in.type, false) || in.type == T::kBool)) unsupported_types(ctx, n);
  const auto* o = std::get_if<lite::UnpackOptions>(&n.def->options);
  const auto rank = static_cast<int64_t>(in.shape.size());
  op_check(rank >= 1, n, "input " + describe(in) + " must have rank 1 or more");
  const int axis = normalize_axis(n, o ? o->axis : 0, rank, "axis");
  const int64_t num = o ? o->num : 0;
  const int64_t dim = in.shape[static_cast<size_t>(axis)];
  op_check(num == dim && static_cast<size_t>(num) == n.def->outputs.size(), n,
           "num " + std::to_string(num) + " must equal dimension " + std::to_string(axis) + " of " + describe(in) +
               " and the number of outputs (" + std::to_string(n.def->outputs.size()) + ")");
  prepare_cut(ctx, n, in, 0, axis, std::vector<int64_t>(static_cast<size_t>(num), 1), false, "unpack copies values");
}

void prepare_pack(PrepareContext& ctx, Node& n) {
  RtTensor& first = ctx.input(n, 0);
  RtTensor& out = ctx.output(n, 0);
  if (!split_type(first.type, true)) unsupported_types(ctx, n);
  const auto* o = std::get_if<lite::PackOptions>(&n.def->options);
  const size_t count = ctx.num_inputs(n);
  op_check(o != nullptr && o->values_count >= 1 && static_cast<size_t>(o->values_count) == count, n,
           "values_count " + std::to_string(o ? o->values_count : 0) + " must equal the number of inputs (" +
               std::to_string(count) + ")");
  const auto rank = static_cast<int64_t>(first.shape.size());
  const int axis = normalize_axis(n, o->axis, rank + 1, "axis");
  for (size_t k = 0; k < count; ++k) {
    RtTensor& in = ctx.input(n, k);
    op_check(in.type == out.type, n, "input " + describe(in) + " and output " + describe(out) + " differ in type");
    op_check(in.shape == first.shape, n, "inputs " + describe(first) + " and " + describe(in) + " differ in shape");
    if (in.quantized() || out.quantized()) require_same_quantization(n, in, out, "pack copies values");
  }
  Shape shape = first.shape;
  shape.insert(shape.begin() + axis, static_cast<int64_t>(count));
  ctx.set_output_shape(n, 0, shape);
  auto& s = n.state_as<SplitState>();
  s.outer = product(first.shape, 0, static_cast<size_t>(axis));
  const int64_t inner = product(first.shape, static_cast<size_t>(axis), first.shape.size());
  s.part_bytes.assign(count, static_cast<size_t>(inner) * lite::tensor_type_size(first.type));
  n.work = out.numel();
  n.separable = false;
  n.eval = eval_pack;
}

namespace {

// SLICE: begin[d] .. begin[d] + size[d] of every dimension (size -1: to the end).
struct SliceState : OpState {
  int rank = 0;
  std::vector<int64_t> in_dims, begin, size;
  size_t elem_size = 1;
};

void slice_rows(const SliceState& s, int d, const std::byte* in, std::byte*& out) {
  int64_t in_stride = 1;
  for (int k = d + 1; k < s.rank; ++k) in_stride *= s.in_dims[static_cast<size_t>(k)];
  const auto dd = static_cast<size_t>(d);
  if (d == s.rank - 1) {
    const size_t bytes = static_cast<size_t>(s.size[dd]) * s.elem_size;
    if (bytes) std::memcpy(out, in + static_cast<size_t>(s.begin[dd]) * s.elem_size, bytes);
    out += bytes;
    return;
  }
  for (int64_t i = 0; i < s.size[dd]; ++i)
    slice_rows(s, d + 1, in + static_cast<size_t>((s.begin[dd] + i) * in_stride) * s.elem_size, out);
}

void eval_slice(const EvalContext& c, const Node& n) {
  const auto& s = n.state_as<SliceState>();
  std::byte* out = c.output(n, 0).data;
  if (s.rank == 0) {
    std::memcpy(out, c.input(n, 0).data, s.elem_size);
    return;
  }
  slice_rows(s, 0, c.input(n, 0).data, out);
}

}  // namespace

void prepare_slice(PrepareContext& ctx, Node& n) {
  RtTensor& in = ctx.input(n, 0);
  RtTensor& begin_t = ctx.input(n, 1);
  RtTensor& size_t_ = ctx.input(n, 2);
  RtTensor& out = ctx.output(n, 0);
  if (!(split_type(in.type, true) || in.type == T::kBool) || in.type != out.type) unsupported_types(ctx, n);
  const auto rank = static_cast<int64_t>(in.shape.size());
  op_check(rank <= 5, n, "input " + describe(in) + ": SLICE supports ranks up to 5 (as TensorFlow Lite 2.9)");
  op_check(begin_t.type == size_t_.type, n, "begin " + describe(begin_t) + " and size " + describe(size_t_) + " differ in type");
  const std::vector<int64_t> begin = constant_ints(n, begin_t, "begin");
  const std::vector<int64_t> size = constant_ints(n, size_t_, "size");
  op_check(begin_t.shape.size() == 1 && size_t_.shape.size() == 1 && static_cast<int64_t>(begin.size()) == rank &&
               static_cast<int64_t>(size.size()) == rank,
           n, "begin and size must be 1-D with one value per input dimension (" + std::to_string(rank) + ")");
  if (in.quantized() || out.quantized()) require_same_quantization(n, in, out, "slice copies values");
  auto& s = n.state_as<SliceState>();
  s.rank = static_cast<int>(rank);
  s.in_dims.assign(in.shape.begin(), in.shape.end());
  s.begin = begin;
  s.size = size;
  s.elem_size = lite::tensor_type_size(in.type);
  Shape shape;
  for (size_t d = 0; d < begin.size(); ++d) {
    const int64_t dim = in.shape[d];
    op_check(begin[d] >= 0 && begin[d] <= dim, n,
             "begin " + std::to_string(begin[d]) + " of dimension " + std::to_string(d) + " is outside [0, " +
                 std::to_string(dim) + "]");
    if (size[d] < 0) {
      op_check(size[d] == -1, n, "size " + std::to_string(size[d]) + " of dimension " + std::to_string(d) + " is invalid");
      s.size[d] = dim - begin[d];
    } else {
      op_check(size[d] <= dim - begin[d], n,
               "begin " + std::to_string(begin[d]) + " + size " + std::to_string(size[d]) + " exceed dimension " +
                   std::to_string(d) + " (" + std::to_string(dim) + ")");
    }
    shape.push_back(s.size[d]);
  }
  ctx.set_output_shape(n, 0, shape);
  n.work = out.numel();
  n.separable = false;
  n.eval = eval_slice;
}

}  // namespace qlite::runtime::detail
