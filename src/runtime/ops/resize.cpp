// RESIZE_BILINEAR and RESIZE_NEAREST_NEIGHBOR of an NHWC tensor to the
// (height, width) of a constant int32 size tensor, with TensorFlow Lite 2.9's
// align_corners / half_pixel_centers. Types as TFLite 2.9 runs them: float32,
// uint8, int8 and int16 (kernels/reference/resize_kernels.h has the
// arithmetic of each; nearest neighbour only copies elements). A size computed at run time
// (TFLite's dynamic output) is refused in one line. The kernels interpolate
// raw values, so quantized input and output must share scale and zero point
// (TFLite 2.9 does not compare them; qlite refuses such a file).
#include "kernels/elementwise_x86.h"
#include "kernels/reference/resize_kernels.h"
#include "runtime/ops/op_util.h"
#include "runtime/ops/ops.h"

namespace qlite::runtime::detail {
namespace {

struct ResizeState : OpState {
  ref::ResizeGeometry g;
  size_t elem_size = 1;
  Isa isa = Isa::kReference;  // bilinear's kernel path (kernels/elementwise_x86.h)
};

ref::ResizeGeometry geometry_at(const EvalContext& c, const Node& n) {
  ref::ResizeGeometry g = n.state_as<ResizeState>().g;
  g.batch = c.scaled(g.batch);
  return g;
}

void eval_bilinear_f32(const EvalContext& c, const Node& n) {
  kernels::resize_bilinear_f32(n.state_as<ResizeState>().isa, geometry_at(c, n), c.input(n, 0).as<const float>(),
                               c.output(n, 0).as<float>());
}
void eval_bilinear_u8(const EvalContext& c, const Node& n) {
  kernels::resize_bilinear_u8(n.state_as<ResizeState>().isa, geometry_at(c, n), c.input(n, 0).as<const uint8_t>(),
                              c.output(n, 0).as<uint8_t>());
}
void eval_bilinear_s8(const EvalContext& c, const Node& n) {
  kernels::resize_bilinear_s8(n.state_as<ResizeState>().isa, geometry_at(c, n), c.input(n, 0).as<const int8_t>(), c.output(n, 0).as<int8_t>());
}
void eval_bilinear_s16(const EvalContext& c, const Node& n) {
  ref::resize_bilinear_s16(geometry_at(c, n), c.input(n, 0).as<const int16_t>(), c.output(n, 0).as<int16_t>());
}
void eval_nearest(const EvalContext& c, const Node& n) {
  ref::resize_nearest(geometry_at(c, n), n.state_as<ResizeState>().elem_size, c.input(n, 0).data,
                      c.output(n, 0).data);
}

void prepare_resize(PrepareContext& ctx, Node& n, bool bilinear, bool align_corners, bool half_pixel_centers) {
  RtTensor& in = ctx.input(n, 0);
  RtTensor& size = ctx.input(n, 1);
  RtTensor& out = ctx.output(n, 0);
  using T = lite::TensorType;
  op_check(in.type == out.type, n, "input " + describe(in) + " and output " + describe(out) + " differ in type");
  const bool type_ok = in.type == T::kFloat32 || in.type == T::kUInt8 || in.type == T::kInt8 || in.type == T::kInt16;
  if (!type_ok) unsupported_types(ctx, n);
  require_rank(n, in, 4, "input");
  require_type(n, size, T::kInt32, "size");
  op_check(size.shape == Shape{2}, n, "size " + describe(size) + " must hold 2 values (new height, new width)");
  require_values(n, size, "size");
  if (bilinear)
    op_check(!(align_corners && half_pixel_centers), n,
             "align_corners and half_pixel_centers are both true (TensorFlow Lite refuses the pair)");
  const int32_t* hw = size.as<const int32_t>();
  op_check(hw[0] >= 1 && hw[1] >= 1, n,
           "size " + describe(size) + " asks for " + std::to_string(hw[0]) + " x " + std::to_string(hw[1]) +
               "; both must be >= 1");
  op_check(in.shape[1] >= 1 && in.shape[2] >= 1, n, "input " + describe(in) + " has an empty height or width");
  if (in.quantized() || out.quantized()) require_same_quantization(n, in, out, "resize interpolates raw values");
  auto& s = n.state_as<ResizeState>();
  s.g = ref::ResizeGeometry{};
  s.g.batch = in.shape[0];
  s.g.in_h = dim_int(n, in.shape[1], "input height");
  s.g.in_w = dim_int(n, in.shape[2], "input width");
  s.g.out_h = hw[0];
  s.g.out_w = hw[1];
  s.g.depth = in.shape[3];
  s.g.align_corners = align_corners;
  s.g.half_pixel_centers = half_pixel_centers;
  // The integer kernel's fixed point (1 << 10) * size must fit int32.
  op_check(s.g.in_h < (1 << 20) && s.g.in_w < (1 << 20) && s.g.out_h < (1 << 20) && s.g.out_w < (1 << 20), n,
           "sizes of 2^20 and above are not supported");
  s.elem_size = lite::tensor_type_size(in.type);
  s.isa = ctx.isa();
  ctx.set_output_shape(n, 0, Shape{in.shape[0], hw[0], hw[1], in.shape[3]});
  n.work = work_of({out.numel(), bilinear ? 4 : 1});
  n.separable = !in.constant;
  if (!bilinear) n.eval = eval_nearest;
  else if (in.type == T::kFloat32) n.eval = eval_bilinear_f32;
  else if (in.type == T::kUInt8) n.eval = eval_bilinear_u8;
  else if (in.type == T::kInt8) n.eval = eval_bilinear_s8;
  else n.eval = eval_bilinear_s16;
}

}  // namespace

void prepare_resize_bilinear(PrepareContext& ctx, Node& n) {
  const auto* o = std::get_if<lite::ResizeBilinearOptions>(&n.def->options);
  prepare_resize(ctx, n, true, o && o->align_corners, o && o->half_pixel_centers);
}

void prepare_resize_nearest_neighbor(PrepareContext& ctx, Node& n) {
  const auto* o = std::get_if<lite::ResizeNearestNeighborOptions>(&n.def->options);
  prepare_resize(ctx, n, false, o && o->align_corners, o && o->half_pixel_centers);
}

}  // namespace qlite::runtime::detail
