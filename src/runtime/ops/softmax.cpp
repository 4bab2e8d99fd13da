// SOFTMAX over the last dimension: float32, int8 / uint8 with TFLite's fixed
// output quantization (scale 1/256, zero point -128 / 0), and int16 (zero
// points 0, output scale 1/32768; TFLite 2.9's table kernel,
// int16_activation_kernels.h).
#include <cmath>

#include "kernels/reference/int16_activation_kernels.h"
#include "kernels/reference/types16_kernels.h"
#include "kernels/reference/uint8_kernels.h"
#include "runtime/ops/op_util.h"
#include "runtime/ops/ops.h"

namespace qlite::runtime::detail {
namespace {

struct SoftmaxState : OpState {
  int64_t outer = 0;
  int depth = 0;
  float beta = 1.0f;
  ref::SoftmaxInt8Params q;
  decltype(KernelTable::softmax_int8) int8_fn = nullptr;
  decltype(KernelTable::softmax_f32) f32_fn = nullptr;
  ref::SoftmaxInt16Params q16;
};

void eval_f32(const EvalContext& c, const Node& n) {
  const auto& s = n.state_as<SoftmaxState>();
  s.f32_fn(c.scaled(s.outer), s.depth, s.beta, c.input(n, 0).as<const float>(), c.output(n, 0).as<float>());
}

void eval_int8(const EvalContext& c, const Node& n) {
  const auto& s = n.state_as<SoftmaxState>();
  s.int8_fn(s.q, c.scaled(s.outer), s.depth, c.input(n, 0).as<const int8_t>(), c.output(n, 0).as<int8_t>());
}

void eval_uint8(const EvalContext& c, const Node& n) {
  const auto& s = n.state_as<SoftmaxState>();
  ref::softmax_uint8(s.q, c.scaled(s.outer), s.depth, c.input(n, 0).as<const uint8_t>(), c.output(n, 0).as<uint8_t>());
}

void eval_int16(const EvalContext& c, const Node& n) {
  const auto& s = n.state_as<SoftmaxState>();
  ref::softmax_int16(s.q16, c.scaled(s.outer), s.depth, c.input(n, 0).as<const int16_t>(), c.output(n, 0).as<int16_t>());
}

// int8 / uint8 in, int16 out (types16_kernels.h).
void eval_int8_to_int16(const EvalContext& c, const Node& n) {
  const auto& s = n.state_as<SoftmaxState>();
  ref::softmax_int8_to_int16(s.q, c.scaled(s.outer), s.depth, c.input(n, 0).as<const int8_t>(),
                             c.output(n, 0).as<int16_t>());
}
void eval_uint8_to_int16(const EvalContext& c, const Node& n) {
  const auto& s = n.state_as<SoftmaxState>();
  ref::softmax_uint8_to_int16(s.q, c.scaled(s.outer), s.depth, c.input(n, 0).as<const uint8_t>(),
                              c.output(n, 0).as<int16_t>());
}

}  // namespace

void prepare_softmax(PrepareContext& ctx, Node& n) {
  RtTensor& in = ctx.input(n, 0);
  RtTensor& out = ctx.output(n, 0);
  op_check(!in.shape.empty(), n, "input " + describe(in) + " must have rank >= 1");
  auto& s = n.state_as<SoftmaxState>();
  if (const auto* o = std::get_if<lite::SoftmaxOptions>(&n.def->options)) s.beta = o->beta;
  s.depth = dim_int(n, in.shape.back(), "softmax depth");
  s.outer = in.numel() / s.depth;
  ctx.set_output_shape(n, 0, in.shape);
  n.work = work_of({in.numel(), 4});
  n.separable = in.shape.size() >= 2;
  using T = lite::TensorType;
  if (in.type == T::kFloat32 && out.type == T::kFloat32) {
    s.f32_fn = ctx.kernels().softmax_f32;
    n.eval = eval_f32;
  } else if (in.type == T::kInt8 && out.type == T::kInt8) {
    require_per_tensor(n, in, "input");
    require_per_tensor(n, out, "output");
    // The same checks as TFLite's softmax Prepare for int8 output.
    op_check(out.zero_point() == -128, n, "int8 output " + describe(out) + " must have zero point -128");
    op_check(std::abs(out.scale() - 1.0f / 256) <= 0.001f / 256, n,
             "int8 output " + describe(out) + " must have scale 1/256");
    s.q = ref::make_softmax_params(in.scale(), s.beta, out.scale(), out.zero_point());
    s.int8_fn = ctx.kernels().softmax_int8;
    n.eval = eval_int8;
  } else if (in.type == T::kUInt8 && out.type == T::kUInt8) {
    require_per_tensor(n, in, "input");
    require_per_tensor(n, out, "output");
    op_check(out.zero_point() == 0, n, "uint8 output " + describe(out) + " must have zero point 0");
    op_check(std::abs(out.scale() - 1.0f / 256) <= 0.001f / 256, n,
             "uint8 output " + describe(out) + " must have scale 1/256");
    s.q = ref::make_softmax_params(in.scale(), s.beta, out.scale(), 0);
    n.eval = eval_uint8;
  } else if (in.type == T::kInt16 && out.type == T::kInt16) {
    require_per_tensor(n, in, "input");
    require_per_tensor(n, out, "output");
    // TFLite 2.9 runs int16 SOFTMAX on 1-D to 4-D tensors only.
    op_check(in.shape.size() <= 4, n, "int16 input " + describe(in) + " must have rank 1 to 4");
    // Its int32 sum of up to 32767 per value overflows beyond 65536 values a row.
    op_check(s.depth <= 65536, n, "int16 rows longer than 65536 values are not supported");
    try {
      s.q16 = ref::make_softmax_int16_params(in.scale(), in.zero_point(), s.beta, out.scale(), out.zero_point());
    } catch (const Error& e) {
      op_fail(n, e.what());
    }
    n.eval = eval_int16;
  } else if ((in.type == T::kInt8 || in.type == T::kUInt8) && out.type == T::kInt16) {
    require_per_tensor(n, in, "input");
    require_per_tensor(n, out, "output");
    // TFLite 2.9 checks neither the int16 output's scale nor its zero point
    // here (measured: Softmax8BitToInt16MatchesTfLite); both go into the
    // quantization of each probability.
    op_check(std::isfinite(out.scale()) && out.scale() > 0, n, "output " + describe(out) + " needs a scale > 0");
    op_check(out.zero_point() >= -32768 && out.zero_point() <= 32767, n,
             "output " + describe(out) + " has a zero point outside int16");
    s.q = ref::make_softmax_params(in.scale(), s.beta, out.scale(), 0);
    s.q.output_zero_point = out.zero_point();  // int16's, beyond int8's range
    n.eval = in.type == T::kInt8 ? eval_int8_to_int16 : eval_uint8_to_int16;
  } else {
    unsupported_types(ctx, n);
  }
}

}  // namespace qlite::runtime::detail
