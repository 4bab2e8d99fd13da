// TILE, BROADCAST_TO, REVERSE_V2, DEPTH_TO_SPACE, SPACE_TO_DEPTH and
// MIRROR_PAD, as TensorFlow Lite 2.9's tile.cc, broadcast_to.cc, reverse.cc,
// depth_to_space.cc, space_to_depth.cc and mirror_pad.cc: the same types and
// checks. Every op moves whole elements: a plain loop over output elements
// that computes each one's source (the spec; no optimized versions yet).
// Multiples, shapes, axes and paddings must be constant tensors. Quantized
// inputs and outputs share scale and zero point.
#include <cstring>
#include <limits>

#include "runtime/ops/data_util.h"
#include "runtime/ops/ops.h"

namespace qlite::runtime::detail {
namespace {

using T = lite::TensorType;

// Output index i of dimension d reads input index src(i) of that dimension,
// computed (never tabulated: a hostile file's dimensions would make a table
// as large as the file says before the arena limit is checked).
struct AxisMap {
  enum Kind { kIdentity, kTile, kBroadcast, kReverse, kMirror } kind = kIdentity;
  int64_t in_dim = 1, out_dim = 1;
  int64_t before = 0, offset = 0;  // MIRROR_PAD

  int64_t src(int64_t i) const {
    switch (kind) {
      case kTile: return i % in_dim;
      case kBroadcast: return in_dim == 1 ? 0 : i;
      case kReverse: return in_dim - 1 - i;
      case kMirror: {
        const int64_t j = i - before;
        if (j < 0) return -j - 1 + offset;
        if (j >= in_dim) return 2 * in_dim - j - 1 - offset;
        return j;
      }
      default: return i;
    }
  }
};

struct AxisMapState : OpState {
  std::vector<AxisMap> axes;
  size_t elem_size = 1;
};

void axis_map_rows(const AxisMapState& s, size_t d, const std::byte* in, std::byte*& out) {
  int64_t stride = 1;
  for (size_t k = d + 1; k < s.axes.size(); ++k) stride *= s.axes[k].in_dim;
  const AxisMap& a = s.axes[d];
  if (d + 1 == s.axes.size()) {
    for (int64_t i = 0; i < a.out_dim; ++i) {
      std::memcpy(out, in + static_cast<size_t>(a.src(i)) * s.elem_size, s.elem_size);
      out += s.elem_size;
    }
    return;
  }
  for (int64_t i = 0; i < a.out_dim; ++i) axis_map_rows(s, d + 1, in + static_cast<size_t>(a.src(i) * stride) * s.elem_size, out);
}

void eval_axis_map(const EvalContext& c, const Node& n) {
  const auto& s = n.state_as<AxisMapState>();
  std::byte* out = c.output(n, 0).data;
  if (s.axes.empty()) {
    std::memcpy(out, c.input(n, 0).data, s.elem_size);
    return;
  }
  for (const AxisMap& a : s.axes)
    if (a.out_dim == 0) return;
  axis_map_rows(s, 0, c.input(n, 0).data, out);
}

// Sets the output shape from the axes and the state.
void finish_axis_map(PrepareContext& ctx, Node& n, const RtTensor& in, std::vector<AxisMap> axes) {
  auto& s = n.state_as<AxisMapState>();
  Shape shape;
  for (const AxisMap& a : axes) shape.push_back(a.out_dim);
  s.axes = std::move(axes);
  s.elem_size = lite::tensor_type_size(in.type);
  ctx.set_output_shape(n, 0, shape);
  n.work = ctx.output(n, 0).numel();
  n.separable = false;
  n.eval = eval_axis_map;
}

void check_copy(const Node& n, const RtTensor& in, const RtTensor& out, const char* what) {
  op_check(in.type == out.type, n, "input " + describe(in) + " and output " + describe(out) + " differ in type");
  if (in.quantized() || out.quantized()) require_same_quantization(n, in, out, what);
}

bool one_of(T t, std::initializer_list<T> types) {
  for (T x : types)
    if (x == t) return true;
  return false;
}

constexpr int64_t kMaxDim = std::numeric_limits<int32_t>::max();

}  // namespace

void prepare_tile(PrepareContext& ctx, Node& n) {
  RtTensor& in = ctx.input(n, 0);
  RtTensor& mult_t = ctx.input(n, 1);
  RtTensor& out = ctx.output(n, 0);
  if (!one_of(in.type, {T::kFloat32, T::kInt8, T::kUInt8, T::kInt32, T::kInt64, T::kBool})) unsupported_types(ctx, n);
  check_copy(n, in, out, "tile copies values");
  const std::vector<int64_t> mult = constant_ints(n, mult_t, "multiples");
  op_check(mult_t.shape.size() == 1 && mult.size() == in.shape.size(), n,
           "multiples " + describe(mult_t) + " must hold one value per input dimension (" +
               std::to_string(in.shape.size()) + ")");
  std::vector<AxisMap> axes(in.shape.size());
  for (size_t d = 0; d < mult.size(); ++d) {
    op_check(mult[d] >= 0 && (in.shape[d] == 0 || mult[d] <= kMaxDim / in.shape[d]), n,
             "multiples " + describe(mult_t) + " holds " + std::to_string(mult[d]) + " for dimension " +
                 std::to_string(d) + "; must be >= 0 with the product within int32");
    axes[d] = AxisMap{AxisMap::kTile, in.shape[d], in.shape[d] * mult[d]};
  }
  finish_axis_map(ctx, n, in, std::move(axes));
}

void prepare_broadcast_to(PrepareContext& ctx, Node& n) {
  RtTensor& in = ctx.input(n, 0);
  RtTensor& shape_t = ctx.input(n, 1);
  RtTensor& out = ctx.output(n, 0);
  op_check(in.type != T::kString, n, "input " + describe(in) + ": STRING tensors are not supported");
  check_copy(n, in, out, "broadcast_to copies values");
  const std::vector<int64_t> shape = constant_ints(n, shape_t, "shape");
  op_check(shape_t.shape.size() == 1, n, "shape " + describe(shape_t) + " must be 1-D");
  op_check(in.shape.size() <= 8 && shape.size() <= 8, n, "BROADCAST_TO supports ranks up to 8");
  op_check(shape.size() >= in.shape.size(), n,
           "shape " + describe(shape_t) + " has fewer dimensions than input " + describe(in));
  const size_t lead = shape.size() - in.shape.size();
  // The input is viewed with leading 1s to the output's rank.
  std::vector<AxisMap> axes(shape.size());
  for (size_t d = 0; d < shape.size(); ++d) {
    const int64_t want = shape[d];
    const int64_t have = d < lead ? 1 : in.shape[d - lead];
    op_check(want >= 0 && want <= kMaxDim && (have == want || have == 1), n,
             "input " + describe(in) + " cannot be broadcast to " + shape_str(shape));
    axes[d] = AxisMap{AxisMap::kBroadcast, have, want};
  }
  finish_axis_map(ctx, n, in, std::move(axes));
}

void prepare_reverse_v2(PrepareContext& ctx, Node& n) {
  RtTensor& in = ctx.input(n, 0);
  RtTensor& axis_t = ctx.input(n, 1);
  RtTensor& out = ctx.output(n, 0);
  if (!one_of(in.type, {T::kFloat32, T::kUInt8, T::kInt8, T::kInt16, T::kInt32, T::kInt64, T::kBool}))
    unsupported_types(ctx, n);
  check_copy(n, in, out, "reverse copies values");
  op_check(axis_t.type == T::kInt32, n, "axis " + describe(axis_t) + " must be INT32");
  const std::vector<int64_t> axis_v = constant_ints(n, axis_t, "axis");
  op_check(axis_t.shape.size() == 1 && axis_v.size() == 1, n,
           "axis " + describe(axis_t) + ": TensorFlow Lite 2.9 reverses exactly one axis");
  const auto rank = static_cast<int64_t>(in.shape.size());
  const int axis = normalize_axis(n, axis_v[0], rank, "axis");
  std::vector<AxisMap> axes(in.shape.size());
  for (size_t d = 0; d < in.shape.size(); ++d)
    axes[d] = AxisMap{static_cast<int>(d) == axis ? AxisMap::kReverse : AxisMap::kIdentity, in.shape[d], in.shape[d]};
  finish_axis_map(ctx, n, in, std::move(axes));
}

void prepare_mirror_pad(PrepareContext& ctx, Node& n) {
  RtTensor& in = ctx.input(n, 0);
  RtTensor& pad_t = ctx.input(n, 1);
  RtTensor& out = ctx.output(n, 0);
  if (!one_of(in.type, {T::kFloat32, T::kUInt8, T::kInt8, T::kInt32, T::kInt64})) unsupported_types(ctx, n);
  check_copy(n, in, out, "mirror_pad copies values");
  const auto* o = std::get_if<lite::MirrorPadOptions>(&n.def->options);
  const bool reflect = o == nullptr || o->mode == lite::MirrorPadMode::kReflect;
  const std::vector<int64_t> pads = constant_ints(n, pad_t, "paddings");
  const auto rank = static_cast<int64_t>(in.shape.size());
  op_check(pad_t.shape == Shape{rank, 2}, n,
           "paddings " + describe(pad_t) + " must have shape (" + std::to_string(rank) + ", 2)");
  std::vector<AxisMap> axes(in.shape.size());
  const int64_t offset = reflect ? 1 : 0;
  for (size_t d = 0; d < in.shape.size(); ++d) {
    const int64_t dim = in.shape[d], before = pads[2 * d], after = pads[2 * d + 1];
    op_check(before >= 0 && after >= 0 && before <= dim - offset && after <= dim - offset, n,
             "paddings " + describe(pad_t) + ": (" + std::to_string(before) + ", " + std::to_string(after) +
                 ") for dimension " + std::to_string(d) + " of size " + std::to_string(dim) + " must lie in [0, " +
                 std::to_string(dim - offset) + "] (" + (reflect ? "REFLECT" : "SYMMETRIC") + ")");
    axes[d] = AxisMap{AxisMap::kMirror, dim, before + dim + after, before, offset};
  }
  finish_axis_map(ctx, n, in, std::move(axes));
}

namespace {

// DEPTH_TO_SPACE / SPACE_TO_DEPTH: a 6-D transpose of NHWC.
struct BlockState : OpState {
  int64_t batch = 0, h = 0, w = 0, c = 0, bs = 1;  // the depth side's dims (DEPTH_TO_SPACE: the input)
  bool to_space = true;
  size_t elem_size = 1;
};

void eval_block(const EvalContext& c, const Node& n) {
  const auto& s = n.state_as<BlockState>();
  const int64_t oc = s.c / (s.bs * s.bs);
  const std::byte* in = c.input(n, 0).data;
  std::byte* out = c.output(n, 0).data;
  const size_t e = s.elem_size;
  // depth index (b, y, x, (i * bs + j) * oc + k) <-> space index (b, y * bs + i, x * bs + j, k)
  for (int64_t b = 0, batch = c.scaled(s.batch); b < batch; ++b)
    for (int64_t y = 0; y < s.h; ++y)
      for (int64_t x = 0; x < s.w; ++x)
        for (int64_t i = 0; i < s.bs; ++i)
          for (int64_t j = 0; j < s.bs; ++j) {
            const int64_t depth_at = ((b * s.h + y) * s.w + x) * s.c + (i * s.bs + j) * oc;
            const int64_t space_at = ((b * s.h * s.bs + y * s.bs + i) * s.w * s.bs + x * s.bs + j) * oc;
            if (s.to_space) std::memcpy(out + space_at * e, in + depth_at * e, static_cast<size_t>(oc) * e);
            else std::memcpy(out + depth_at * e, in + space_at * e, static_cast<size_t>(oc) * e);
          }
}

template <class Options>
void prepare_block(PrepareContext& ctx, Node& n, bool to_space) {
  RtTensor& in = ctx.input(n, 0);
  RtTensor& out = ctx.output(n, 0);
  if (!one_of(in.type, {T::kFloat32, T::kUInt8, T::kInt8, T::kInt32, T::kInt64})) unsupported_types(ctx, n);
  check_copy(n, in, out, "the op copies values");
  require_rank(n, in, 4, "input");
  const auto* o = std::get_if<Options>(&n.def->options);
  const int64_t bs = o ? o->block_size : 0;
  op_check(bs >= 1 && bs <= 65536, n, "block_size " + std::to_string(bs) + " must be >= 1");
  auto& s = n.state_as<BlockState>();
  s.to_space = to_space;
  s.bs = bs;
  s.elem_size = lite::tensor_type_size(in.type);
  s.batch = in.shape[0];
  if (to_space) {
    op_check(in.shape[3] % (bs * bs) == 0, n,
             "input " + describe(in) + ": channels are not a multiple of block_size^2 (" + std::to_string(bs * bs) + ")");
    s.h = in.shape[1], s.w = in.shape[2], s.c = in.shape[3];
    op_check(s.h * bs <= kMaxDim && s.w * bs <= kMaxDim, n, "the output would exceed int32 dimensions");
    ctx.set_output_shape(n, 0, Shape{s.batch, s.h * bs, s.w * bs, s.c / (bs * bs)});
  } else {
    op_check(in.shape[1] % bs == 0 && in.shape[2] % bs == 0, n,
             "input " + describe(in) + ": height and width must be multiples of block_size " + std::to_string(bs));
    s.h = in.shape[1] / bs, s.w = in.shape[2] / bs, s.c = in.shape[3] * bs * bs;
    op_check(s.c <= kMaxDim, n, "the output would exceed int32 dimensions");
    ctx.set_output_shape(n, 0, Shape{s.batch, s.h, s.w, s.c});
  }
  n.work = in.numel();
  n.separable = !in.constant;
  n.eval = eval_block;
}

}  // namespace

void prepare_depth_to_space(PrepareContext& ctx, Node& n) {
  prepare_block<lite::DepthToSpaceOptions>(ctx, n, true);
}
void prepare_space_to_depth(PrepareContext& ctx, Node& n) {
  prepare_block<lite::SpaceToDepthOptions>(ctx, n, false);
}

}  // namespace qlite::runtime::detail
