// HARD_SWISH, x * relu6(x + 3) / 6: float32, and int8 / uint8 with TFLite
// 2.9's int16 fixed-point arithmetic (ref::hard_swish_quantized), evaluated
// through a 256-entry table made from it at prepare.
#include "runtime/ops/elementwise.h"
#include "runtime/ops/op_util.h"
#include "runtime/ops/ops.h"

namespace qlite::runtime::detail {

void prepare_hard_swish(PrepareContext& ctx, Node& n) {
  ElementwiseState& s = prepare_elementwise(ctx, n);
  const RtTensor& in = ctx.input(n, 0);
  const RtTensor& out = ctx.output(n, 0);
  using T = lite::TensorType;
  if (in.type == T::kFloat32) {
    s.f32 = ref::hard_swish_f32;
    n.eval = eval_f32_elementwise;
  } else if (in.type == T::kInt8 || in.type == T::kUInt8) {
    require_per_tensor(n, in, "input");
    require_per_tensor(n, out, "output");
    const bool is_signed = in.type == T::kInt8;
    // Throws, naming the limit, for the scales TFLite 2.9 refuses.
    const ref::HardSwishParams p =
        ref::make_hard_swish_params(is_signed, in.scale(), in.zero_point(), out.scale(), out.zero_point());
    s.table = ref::make_hard_swish_table(p, is_signed);
    n.eval = eval_byte_table;
  } else {
    unsupported_types(ctx, n);
  }
}

}  // namespace qlite::runtime::detail
