// AVERAGE_POOL_2D: float32, int8 and uint8 (same scale in and out; the average
// counts only taps inside the image, as TFLite).
#include "runtime/ops/ops.h"
#include "runtime/ops/pool2d_common.h"

namespace qlite::runtime::detail {

void prepare_average_pool2d(PrepareContext& ctx, Node& n) {
  prepare_pool(ctx, n, kernels::average_pool2d_int8, ctx.kernels().average_pool2d_f32, ref::average_pool2d_uint8,
               ref::average_pool2d_int16);
}

}  // namespace qlite::runtime::detail
