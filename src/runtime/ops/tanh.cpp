// TANH: float32, and int8 / uint8 through TFLite 2.9's lookup
// table (kernels/reference/activation_kernels.h).
#include "runtime/ops/elementwise.h"
#include "runtime/ops/op_util.h"
#include "runtime/ops/ops.h"

namespace qlite::runtime::detail {
namespace {

void eval_tanh_int16(const EvalContext& c, const Node& n) {
  const auto& s = n.state_as<ElementwiseState>();
  const RtTensor& in = c.input(n, 0);
  ref::tanh_int16(s.i16, c.scaled(in.numel()), in.as<const int16_t>(), c.output(n, 0).as<int16_t>());
}

}  // namespace

void prepare_tanh(PrepareContext& ctx, Node& n) {
  ElementwiseState& s = prepare_elementwise(ctx, n);
  const RtTensor& in = ctx.input(n, 0);
  const RtTensor& out = ctx.output(n, 0);
  using T = lite::TensorType;
  if (in.type == T::kFloat32) {
    s.f32 = ref::tanh_f32;
    n.eval = eval_f32_elementwise;
  } else if (in.type == T::kInt8 || in.type == T::kUInt8) {
    require_per_tensor(n, in, "input");
    require_per_tensor(n, out, "output");
    const bool is_signed = in.type == T::kInt8;
    // TFLite 2.9's generic TANH checks no output quantization (1/128 with
    // real 0 in the middle is what converters write); the table honours any.
    s.table = ref::make_activation_table(ref::TableFunction::kTanh, is_signed, in.scale(), in.zero_point(),
                                         out.scale(), out.zero_point());
    n.eval = eval_byte_table;
  } else if (in.type == T::kInt16) {
    // TFLite 2.9's int16 TANH (int16_activation_kernels.h): gemmlowp fixed
    // point for power-of-two input scales, the interpolated table otherwise.
    require_per_tensor(n, in, "input");
    require_per_tensor(n, out, "output");
    try {
      s.i16 = ref::make_tanh_int16_params(in.scale(), in.zero_point(), out.scale(), out.zero_point());
    } catch (const Error& e) {
      op_fail(n, e.what());
    }
    n.eval = eval_tanh_int16;
  } else {
    unsupported_types(ctx, n);
  }
}

}  // namespace qlite::runtime::detail
