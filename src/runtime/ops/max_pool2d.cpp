// MAX_POOL_2D: float32 and int8 (same scale in and out).
#include "runtime/ops/ops.h"
#include "runtime/ops/pool2d_common.h"

namespace qlite::runtime::detail {

void prepare_max_pool2d(PrepareContext& ctx, Node& n) {
  prepare_pool(ctx, n, ctx.kernels().max_pool2d_int8, ctx.kernels().max_pool2d_f32);
}

}  // namespace qlite::runtime::detail
