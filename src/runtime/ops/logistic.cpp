// LOGISTIC (sigmoid): float32, and int8 / uint8 through TFLite 2.9's lookup
// table (kernels/reference/activation_kernels.h). The output quantization is
// checked as TFLite 2.9's prepare checks it.
#include "runtime/ops/elementwise.h"
#include "runtime/ops/op_util.h"
#include "runtime/ops/ops.h"

namespace qlite::runtime::detail {
namespace {

void eval_logistic_int16(const EvalContext& c, const Node& n) {
  const auto& s = n.state_as<ElementwiseState>();
  const RtTensor& in = c.input(n, 0);
  ref::logistic_int16(s.i16, c.scaled(in.numel()), in.as<const int16_t>(), c.output(n, 0).as<int16_t>());
}

}  // namespace

void prepare_logistic(PrepareContext& ctx, Node& n) {
  ElementwiseState& s = prepare_elementwise(ctx, n);
  const RtTensor& in = ctx.input(n, 0);
  const RtTensor& out = ctx.output(n, 0);
  using T = lite::TensorType;
  if (in.type == T::kFloat32) {
    s.f32 = ref::logistic_f32;
    n.eval = eval_f32_elementwise;
  } else if (in.type == T::kInt8 || in.type == T::kUInt8) {
    require_per_tensor(n, in, "input");
    require_per_tensor(n, out, "output");
    const bool is_signed = in.type == T::kInt8;
    // TFLite 2.9 (activations.cc SigmoidPrepare, generic kernel) checks the
    // output scale only: exactly 1/256. The zero point (-128 for int8, 0 for
    // uint8 as converters write it) is not checked; the table honours any.
    op_check(static_cast<double>(out.scale()) == 1.0 / 256, n,
             "output " + describe(out) + " must have scale 1/256 (TensorFlow Lite's fixed LOGISTIC output)");
    s.table = ref::make_activation_table(ref::TableFunction::kLogistic, is_signed, in.scale(), in.zero_point(),
                                         out.scale(), out.zero_point());
    n.eval = eval_byte_table;
  } else if (in.type == T::kInt16) {
    // TFLite 2.9's int16 LOGISTIC (int16_activation_kernels.h): gemmlowp fixed
    // point for power-of-two input scales, the interpolated table otherwise.
    require_per_tensor(n, in, "input");
    require_per_tensor(n, out, "output");
    try {
      s.i16 = ref::make_logistic_int16_params(in.scale(), in.zero_point(), out.scale(), out.zero_point());
    } catch (const Error& e) {
      op_fail(n, e.what());
    }
    n.eval = eval_logistic_int16;
  } else {
    unsupported_types(ctx, n);
  }
}

}  // namespace qlite::runtime::detail
