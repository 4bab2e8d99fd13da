// STRIDED_SLICE as TensorFlow Lite 2.9's strided_slice.cc: constant begin,
// end and strides (INT32), begin_mask, end_mask, shrink_axis_mask,
// ellipsis_mask and new_axis_mask with TensorFlow's meaning (an ellipsis
// stands for the dimensions the other entries leave, implicitly at the end),
// TFLite's StartForAxis / StopForAxis clamping, negative strides. Ranks 1 to 5; FLOAT32, INT8, UINT8, INT16, INT32, INT64 and BOOL. A
// shrunk axis takes element begin whatever its stride's sign (TensorFlow's
// meaning; TFLite 2.9 writes nothing there for a negative stride).
#include <algorithm>
#include <climits>
#include <cmath>
#include <cstring>

#include "runtime/ops/data_util.h"
#include "runtime/ops/ops.h"

namespace qlite::runtime::detail {
namespace {

using T = lite::TensorType;

// Per effective dimension: count elements from start in steps of step
// (computed, never tabulated: a hostile file's dimensions decide them).
struct SliceAxis {
  int64_t dim = 1, start = 0, step = 1, count = 0;
};

struct StridedSliceState : OpState {
  std::vector<SliceAxis> axes;
  size_t elem_size = 1;
};

void rows(const StridedSliceState& s, size_t d, const std::byte* in, std::byte*& out) {
  int64_t stride = 1;
  for (size_t k = d + 1; k < s.axes.size(); ++k) stride *= s.axes[k].dim;
  const SliceAxis& a = s.axes[d];
  if (d + 1 == s.axes.size()) {
    for (int64_t i = 0; i < a.count; ++i) {
      std::memcpy(out, in + static_cast<size_t>(a.start + i * a.step) * s.elem_size, s.elem_size);
      out += s.elem_size;
    }
    return;
  }
  for (int64_t i = 0; i < a.count; ++i)
    rows(s, d + 1, in + static_cast<size_t>((a.start + i * a.step) * stride) * s.elem_size, out);
}

void eval_strided_slice(const EvalContext& c, const Node& n) {
  const auto& s = n.state_as<StridedSliceState>();
  for (const SliceAxis& a : s.axes)
    if (a.count == 0) return;
  std::byte* out = c.output(n, 0).data;
  rows(s, 0, c.input(n, 0).data, out);
}

int64_t clamp(int64_t v, int64_t lo, int64_t hi) { return std::max(lo, std::min(v, hi)); }

}  // namespace

void prepare_strided_slice(PrepareContext& ctx, Node& n) {
  RtTensor& in = ctx.input(n, 0);
  RtTensor& begin_t = ctx.input(n, 1);
  RtTensor& end_t = ctx.input(n, 2);
  RtTensor& strides_t = ctx.input(n, 3);
  RtTensor& out = ctx.output(n, 0);
  if (!(in.type == T::kFloat32 || in.type == T::kInt8 || in.type == T::kUInt8 || in.type == T::kInt16 ||
        in.type == T::kInt32 || in.type == T::kInt64 || in.type == T::kBool) ||
      in.type != out.type)
    unsupported_types(ctx, n);
  if (in.quantized() || out.quantized()) require_same_quantization(n, in, out, "strided_slice copies values");
  const auto rank = static_cast<int64_t>(in.shape.size());
  op_check(rank >= 1 && rank <= 5, n,
           "input " + describe(in) + ": STRIDED_SLICE supports ranks 1 to 5 (as TensorFlow Lite 2.9)");
  const lite::StridedSliceOptions o =
      std::get_if<lite::StridedSliceOptions>(&n.def->options) ? std::get<lite::StridedSliceOptions>(n.def->options)
                                                               : lite::StridedSliceOptions{};
  for (const RtTensor* t : {&begin_t, &end_t, &strides_t})
    op_check(t->type == T::kInt32, n, describe(*t) + ": begin, end and strides must be INT32 (as TensorFlow Lite 2.9)");
  const std::vector<int64_t> begin = constant_ints(n, begin_t, "begin");
  const std::vector<int64_t> end = constant_ints(n, end_t, "end");
  const std::vector<int64_t> strides = constant_ints(n, strides_t, "strides");
  op_check(begin_t.shape.size() == 1 && end_t.shape.size() == 1 && strides_t.shape.size() == 1 &&
               begin.size() == end.size() && begin.size() == strides.size() && begin.size() <= 32,
           n, "begin, end and strides must be 1-D with the same count (at most 32)");
  // TFLite 2.9's BuildStridedSliceParams: the entries are expanded to an
  // "effective" input, the input's dimensions with a size-1 dimension for
  // every new axis, and the ellipsis spread over the dimensions the other
  // entries leave (a new axis at the ellipsis' own entry has no effect).
  const auto begin_count = static_cast<int>(begin.size());
  int num_add_axis = 0;
  for (int i = 0; i < begin_count; ++i)
    num_add_axis += !((o.ellipsis_mask >> i) & 1) && ((o.new_axis_mask >> i) & 1);
  const int effective_dims = static_cast<int>(rank) + num_add_axis;
  op_check(effective_dims <= 5, n, "STRIDED_SLICE supports up to 5 dimensions including added axes (as TensorFlow Lite 2.9)");
  int64_t ellipsis_mask = 0, new_axis_mask = 0;
  int ellipsis_start = effective_dims, expanded = 0;
  for (int i = 0; i < effective_dims;) {
    if ((o.ellipsis_mask >> i) & 1) {
      ellipsis_start = i;
      const int ellipsis_end =
          std::max(i + 1, std::min(i + 1 + num_add_axis + static_cast<int>(rank) - begin_count, effective_dims));
      expanded = ellipsis_end - ellipsis_start - 1;
      for (; i < ellipsis_end; ++i) ellipsis_mask |= int64_t{1} << i;
      continue;
    }
    if (i - expanded < 32 && ((o.new_axis_mask >> (i - expanded)) & 1)) new_axis_mask |= int64_t{1} << i;
    ++i;
  }
  struct Axis {
    int64_t dim = 1, begin = 0, end = 0, stride = 1;
    bool begin_masked = false, end_masked = false, shrink = false;
  };
  std::vector<Axis> axes(static_cast<size_t>(effective_dims));
  int added_ellipsis = 0, added_axes = 0;
  for (int i = 0; i < effective_dims; ++i) {
    Axis& e = axes[static_cast<size_t>(i)];
    auto input_dim = [&]() {
      const int k = i - added_axes;
      op_check(k >= 0 && k < rank, n, "begin, end and strides do not fit input " + describe(in));
      return in.shape[static_cast<size_t>(k)];
    };
    if ((ellipsis_mask >> i) & 1) {
      added_ellipsis = std::max(0, i - ellipsis_start);
      e.begin_masked = e.end_masked = true;
      e.dim = input_dim();
    } else if ((new_axis_mask >> i) & 1) {
      e.begin = 0, e.end = 1, e.dim = 1;
      ++added_axes;
    } else if (i >= begin_count + expanded) {
      e.begin_masked = e.end_masked = true;
      e.dim = input_dim();
    } else {
      const int k = i - added_ellipsis;
      op_check(k >= 0 && k < begin_count, n, "begin, end and strides do not fit input " + describe(in));
      e.begin = begin[static_cast<size_t>(k)], e.end = end[static_cast<size_t>(k)];
      e.stride = strides[static_cast<size_t>(k)];
      e.begin_masked = (o.begin_mask >> k) & 1;
      e.end_masked = (o.end_mask >> k) & 1;
      e.shrink = (o.shrink_axis_mask >> k) & 1;
      e.dim = input_dim();
    }
  }
  op_check(added_axes == num_add_axis || effective_dims - added_axes == rank, n,
           "begin, end and strides do not fit input " + describe(in));
  auto& s = n.state_as<StridedSliceState>();
  s.axes.assign(axes.size(), SliceAxis{});
  s.elem_size = lite::tensor_type_size(in.type);
  Shape shape;
  for (size_t k = 0; k < axes.size(); ++k) {
    const Axis& e = axes[k];
    const int64_t dim = e.dim, stride = e.stride;
    op_check(stride != 0, n, "strides " + describe(strides_t) + ": stride value has to be non-zero");
    // TFLite's StartForAxis / StopForAxis (strided_slice_logic.h).
    int64_t start = e.begin;
    if (e.begin_masked) start = stride > 0 ? INT_MIN : INT_MAX;
    if (dim == 0) start = 0;
    else {
      if (start < 0) start += dim;
      start = stride > 0 ? clamp(start, 0, dim) : clamp(start, -1, dim - 1);
    }
    int64_t stop;
    if (e.shrink) {
      op_check(e.begin >= -dim && e.begin < dim, n,
               "shrink_axis_mask: begin " + std::to_string(e.begin) + " is outside a dimension of size " +
                   std::to_string(dim) + " of " + describe(in));
      stop = start + 1;
    } else {
      stop = e.end;
      if (e.end_masked) stop = stride > 0 ? INT_MAX : INT_MIN;
      if (dim == 0) stop = 0;
      else {
        if (stop < 0) stop += dim;
        stop = stride > 0 ? clamp(stop, 0, dim) : clamp(stop, -1, dim - 1);
      }
    }
    const int64_t step = e.shrink ? 1 : stride;
    // The indices start, start + step, ... before stop (clamped to [-1, dim]).
    const int64_t span = step > 0 ? stop - start : start - stop;
    const int64_t mag = step > 0 ? step : -step;
    const int64_t count = span <= 0 ? 0 : (span + mag - 1) / mag;
    s.axes[k] = SliceAxis{dim, start, step, count};
    if (!e.shrink) shape.push_back(count);
  }
  ctx.set_output_shape(n, 0, shape);
  n.work = out.numel();
  n.separable = false;
  n.eval = eval_strided_slice;
}

}  // namespace qlite::runtime::detail
