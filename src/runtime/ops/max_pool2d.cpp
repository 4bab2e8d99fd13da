// MAX_POOL_2D: float32, int8 and uint8 (same scale in and out).
#include <limits>

#include "kernels/runtime_float.h"
#include "runtime/ops/ops.h"
#include "runtime/ops/pool2d_common.h"

namespace qlite::runtime::detail {
namespace {

// The reference's result (the largest tap inside the image, NaN never wins,
// then the activation's clamp), bit for bit, from runtime_float's kernel:
// channels innermost in vectors; the reference checks each window per call,
// this op once at prepare.
void eval_max_pool_f32(const EvalContext& c, const Node& n) {
  const auto& s = n.state_as<PoolState>();
  const ref::WindowGeometry& g = s.g;
  const float* in = c.input(n, 0).as<const float>();
  float* out = c.output(n, 0).as<float>();
  const float lo = s.act == Activation::kLinear ? -std::numeric_limits<float>::infinity()
                   : s.act == Activation::kReluN1To1 ? -1.0f : 0.0f;
  const float hi = s.act == Activation::kRelu6       ? 6.0f
                   : s.act == Activation::kReluN1To1 ? 1.0f
                                                              : std::numeric_limits<float>::infinity();
  kernels::PoolGeom pg;
  pg.H = g.in_h, pg.W = g.in_w, pg.C = g.in_c, pg.OH = g.out_h, pg.OW = g.out_w;
  pg.ph = g.kernel_h, pg.pw = g.kernel_w, pg.sh = g.stride_h, pg.sw = g.stride_w;
  pg.pad_top = g.pad_top, pg.pad_left = g.pad_left;
  const int64_t in_img = int64_t{g.in_h} * g.in_w * g.in_c, out_img = int64_t{g.out_h} * g.out_w * g.out_c;
  split_work(c, c.scaled(g.batch) * g.out_h, c.scaled(n.work), [&](int64_t u0, int64_t u1, int) {
    for_image_rows(u0, u1, g.out_h, [&](int64_t img, int y0, int y1) {
      kernels::max_pool_f32_rows(s.isa, pg, lo, hi, in + img * in_img, out + img * out_img, y0, y1);
    });
  });
}

}  // namespace

void prepare_max_pool2d(PrepareContext& ctx, Node& n) {
  prepare_pool(ctx, n, kernels::max_pool2d_int8, ctx.kernels().max_pool2d_f32, ref::max_pool2d_uint8,
               ref::max_pool2d_int16);
  if (n.eval != eval_pool_f32) return;
  const ref::WindowGeometry& g = n.state_as<PoolState>().g;
  ref::validate_geometry(g, "max_pool2d_f32");
  auto covered = [](int out, int stride, int pad, int kernel, int in) {
    for (int o = 0; o < out; ++o) {
      const int lo = o * stride - pad;
      if (lo + kernel <= 0 || lo >= in) return false;
    }
    return true;
  };
  op_check(covered(g.out_h, g.stride_h, g.pad_top, g.kernel_h, g.in_h) &&
               covered(g.out_w, g.stride_w, g.pad_left, g.kernel_w, g.in_w),
           n, "a pooling window lies entirely in the padding");
  n.eval = eval_max_pool_f32;
}

}  // namespace qlite::runtime::detail
