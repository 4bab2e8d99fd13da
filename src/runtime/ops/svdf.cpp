// SVDF, as TensorFlow Lite 2.9's svdf.cc (arithmetic in
// kernels/reference/svdf_kernels.h). Inputs: input [batch, input_size],
// weights_feature [num_filters, input_size], weights_time [num_filters,
// memory], bias [num_filters / rank] (or -1), state [batch, num_filters *
// memory], a variable tensor kept across invokes (reset_variables() zeroes
// it). Output [batch, num_filters / rank].
//  - float32 throughout, fused activation NONE, RELU, RELU6, RELU_N1_TO_1 or
//    TANH;
//  - int8 input and output, int8 weights_feature, int16 weights_time, int32
//    bias, int16 state, every tensor per-tensor quantized; the fused
//    activation must be RELU, as TFLite 2.9 requires, and only the int8
//    bounds apply, as there. The zero points of the weights and the state are
//    not read (TFLite assumes them 0).
// The hybrid form (float input, int8 weights) is refused with one line.
#include "kernels/reference/svdf_kernels.h"
#include "runtime/ops/op_util.h"
#include "runtime/ops/ops.h"

namespace qlite::runtime::detail {
namespace {

using T = lite::TensorType;

struct SvdfState : OpState {
  ref::SvdfShape shape;
  bool int8 = false;
  Activation act = Activation::kLinear;
  ref::SvdfInt8Params q;
  size_t scratch = 0;
};

void eval_svdf(const EvalContext& c, const Node& n) {
  const auto& s = n.state_as<SvdfState>();
  const RtTensor* bias = c.optional_input(n, 3);
  const RtTensor& state = c.input(n, 4);
  if (s.int8)
    ref::svdf_int8(s.shape, s.q, c.input(n, 0).as<int8_t>(), c.input(n, 1).as<int8_t>(), c.input(n, 2).as<int16_t>(),
                   bias ? bias->as<int32_t>() : nullptr, state.as<int16_t>(),
                   reinterpret_cast<int32_t*>(c.scratch_of(n, s.scratch)), c.output(n, 0).as<int8_t>());
  else
    ref::svdf_float(s.shape, c.input(n, 0).as<float>(), c.input(n, 1).as<float>(), c.input(n, 2).as<float>(),
                    bias ? bias->as<float>() : nullptr, s.act, state.as<float>(),
                    reinterpret_cast<float*>(c.scratch_of(n, s.scratch)), c.output(n, 0).as<float>());
}

}  // namespace

void prepare_svdf(PrepareContext& ctx, Node& n) {
  const auto* o = std::get_if<lite::SvdfOptions>(&n.def->options);
  op_check(o != nullptr, n, "has no SVDFOptions");
  RtTensor& in = ctx.input(n, 0);
  RtTensor& wf = ctx.input(n, 1);
  RtTensor& wt = ctx.input(n, 2);
  RtTensor* bias = ctx.optional_input(n, 3);
  RtTensor& state = ctx.input(n, 4);
  RtTensor& out = ctx.output(n, 0);
  require_rank(n, in, 2, "input");
  require_rank(n, wf, 2, "weights_feature");
  require_rank(n, wt, 2, "weights_time");
  require_rank(n, state, 2, "state");
  op_check(wf.constant && wt.constant && (!bias || bias->constant), n,
           "weights_feature, weights_time and bias must be constant");
  op_check(state.variable, n, "state " + describe(state) + " must be a variable tensor");

  ref::SvdfShape sh;
  sh.batch = dim_int(n, in.shape[0], "batch");
  sh.input_size = dim_int(n, in.shape[1], "input size");
  sh.num_filters = dim_int(n, wf.shape[0], "filters");
  sh.rank = o->rank;
  sh.memory = dim_int(n, wt.shape[1], "memory");
  op_check(sh.rank >= 1 && sh.num_filters % sh.rank == 0, n,
           "rank " + std::to_string(sh.rank) + " must divide the " + std::to_string(sh.num_filters) + " filters");
  op_check(wf.shape[1] == in.shape[1], n,
           "weights_feature " + describe(wf) + " must have one column per input value of " + describe(in));
  op_check(wt.shape[0] == wf.shape[0], n,
           "weights_time " + describe(wt) + " must have one row per filter of " + describe(wf));
  op_check(!bias || (bias->shape.size() == 1 && bias->shape[0] == sh.units()), n,
           "bias must hold " + std::to_string(sh.units()) + " values (filters / rank)");
  op_check(state.shape[0] == in.shape[0] && state.shape[1] == int64_t{sh.num_filters} * sh.memory, n,
           "state " + describe(state) + " must be [batch, filters x memory] = [" + std::to_string(sh.batch) + ", " +
               std::to_string(int64_t{sh.num_filters} * sh.memory) + "]");

  auto& s = n.state_as<SvdfState>();
  s.shape = sh;
  s.int8 = in.type == T::kInt8;
  if (in.type == T::kFloat32 && (wf.type == T::kInt8 || wf.type == T::kUInt8))
    op_fail(n, "the hybrid form (float32 input, " + std::string(lite::tensor_type_name(wf.type)) +
                   " weights) is not supported");
  if (!s.int8) {
    if (!(in.type == T::kFloat32 && wf.type == T::kFloat32 && wt.type == T::kFloat32 &&
          (!bias || bias->type == T::kFloat32) && state.type == T::kFloat32 && out.type == T::kFloat32))
      unsupported_types(ctx, n);
    op_check(o->activation == Activation::kLinear || o->activation == Activation::kRelu ||
                 o->activation == Activation::kRelu6 || o->activation == Activation::kReluN1To1 ||
                 o->activation == Activation::kTanh,
             n, std::string("fused activation ") + lite::activation_name(o->activation) + " is not supported");
    s.act = o->activation;
  } else {
    if (!(wf.type == T::kInt8 && wt.type == T::kInt16 && (!bias || bias->type == T::kInt32) &&
          state.type == T::kInt16 && out.type == T::kInt8))
      unsupported_types(ctx, n);
    op_check(o->activation == Activation::kRelu, n,
             std::string("int8 SVDF needs the fused activation RELU (as TensorFlow Lite 2.9), not ") +
                 lite::activation_name(o->activation));
    require_per_tensor(n, in, "input");
    require_per_tensor(n, wf, "weights_feature");
    require_per_tensor(n, wt, "weights_time");
    require_per_tensor(n, state, "state");
    require_per_tensor(n, out, "output");
    // TFLite 2.9 forms both products and the quotient in float.
    const float scale1 = in.scale() * wf.scale() / state.scale();
    const float scale2 = state.scale() * wt.scale() / out.scale();
    s.q.scale1 = ref::quantize_multiplier(scale1);
    s.q.scale2 = ref::quantize_multiplier(scale2);
    s.q.input_zero_point = in.zero_point();
    s.q.output_zero_point = out.zero_point();
  }
  ctx.set_output_shape(n, 0, {in.shape[0], sh.units()});
  const size_t width = s.int8 ? sizeof(int32_t) : sizeof(float);
  s.scratch = ctx.request_scratch(n, static_cast<size_t>(sh.batch) * static_cast<size_t>(sh.num_filters) * width);
  n.work = work_of({sh.batch, sh.num_filters, int64_t{sh.input_size} + sh.memory});
  n.separable = false;  // the state holds the whole batch
  n.eval = eval_svdf;
}

}  // namespace qlite::runtime::detail
