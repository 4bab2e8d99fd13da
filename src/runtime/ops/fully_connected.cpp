// FULLY_CONNECTED: float32, full int8 and hybrid (float input, int8 weights
// per tensor, as TFLite 2.9's EvalHybrid). The input is flattened to
// [numel / in_features, in_features], as TFLite does.
#include "runtime/ops/op_util.h"
#include "runtime/ops/ops.h"

namespace qlite::runtime::detail {
namespace {

struct FcState : OpState {
  int batch = 1, in = 0, out = 0;
  ref::FusedActivation act = ref::FusedActivation::kNone;
  ref::FullyConnectedInt8Params q;
  ref::HybridFcParams h;
  decltype(KernelTable::fully_connected_int8) int8_fn = nullptr;
  decltype(KernelTable::fully_connected_f32) f32_fn = nullptr;
  decltype(KernelTable::fully_connected_hybrid) hybrid_fn = nullptr;
  std::vector<int8_t> packed;
  bool packed_ready = false;
};

void eval_f32(const EvalContext& c, const Node& n) {
  const auto& s = n.state_as<FcState>();
  const RtTensor* bias = c.optional_input(n, 2);
  s.f32_fn(s.batch, s.in, s.out, c.input(n, 0).as<const float>(), c.input(n, 1).as<const float>(),
           bias ? bias->as<const float>() : nullptr, s.act, c.output(n, 0).as<float>());
}

void eval_int8(const EvalContext& c, const Node& n) {
  const auto& s = n.state_as<FcState>();
  const RtTensor* bias = c.optional_input(n, 2);
  const int8_t* w = s.packed.empty() ? c.input(n, 1).as<const int8_t>() : s.packed.data();
  s.int8_fn(s.q, c.input(n, 0).as<const int8_t>(), w, bias ? bias->as<const int32_t>() : nullptr,
            c.output(n, 0).as<int8_t>());
}

void eval_hybrid(const EvalContext& c, const Node& n) {
  const auto& s = n.state_as<FcState>();
  const RtTensor* bias = c.optional_input(n, 2);
  const ref::HybridScratch scratch{reinterpret_cast<int8_t*>(n.scratch[0]),
                                   reinterpret_cast<float*>(n.scratch[1]),
                                   reinterpret_cast<int32_t*>(n.scratch[2])};
  s.hybrid_fn(s.h, c.input(n, 0).as<const float>(), c.input(n, 1).as<const int8_t>(),
              bias ? bias->as<const float>() : nullptr, scratch, c.output(n, 0).as<float>());
}

}  // namespace

void prepare_fully_connected(PrepareContext& ctx, Node& n) {
  lite::FullyConnectedOptions o;
  if (const auto* p = std::get_if<lite::FullyConnectedOptions>(&n.def->options)) o = *p;
  RtTensor& in = ctx.input(n, 0);
  RtTensor& w = ctx.input(n, 1);
  RtTensor* bias = ctx.optional_input(n, 2);
  RtTensor& out = ctx.output(n, 0);
  require_rank(n, w, 2, "weights");
  op_check(!in.shape.empty(), n, "input " + describe(in) + " must not be a scalar");
  auto& s = n.state_as<FcState>();
  s.out = dim_int(n, w.shape[0], "output features");
  s.in = dim_int(n, w.shape[1], "input features");
  op_check(in.numel() % s.in == 0, n,
           "input " + describe(in) + " does not split into rows of " + std::to_string(s.in) +
               " features (weights " + describe(w) + ")");
  s.batch = dim_int(n, in.numel() / s.in, "batch");
  if (o.keep_num_dims) {
    op_check(in.shape.back() == s.in, n,
             "keep_num_dims needs the input's last dimension to be " + std::to_string(s.in));
    Shape shape = in.shape;
    shape.back() = s.out;
    ctx.set_output_shape(n, 0, shape);
  } else {
    ctx.set_output_shape(n, 0, {s.batch, s.out});
  }
  s.act = to_fused(n, o.activation);
  const KernelTable& k = ctx.kernels();

  using T = lite::TensorType;
  if (in.type == T::kFloat32 && w.type == T::kFloat32 && out.type == T::kFloat32) {
    if (bias) check_bias_f32(n, *bias, s.out);
    s.f32_fn = k.fully_connected_f32;
    n.eval = eval_f32;
  } else if (in.type == T::kFloat32 && w.type == T::kInt8 && out.type == T::kFloat32) {
    if (bias) check_bias_f32(n, *bias, s.out);
    const std::vector<float> ws = weight_scales(n, w, s.out, 0, "weights");
    // TFLite 2.9's hybrid FC applies params.scale (the first scale) to every
    // row; running per-channel weights would silently differ from it.
    op_check(ws.size() == 1, n, "hybrid FULLY_CONNECTED needs per-tensor weights " + describe(w));
    s.h = {s.batch, s.in, s.out, ws[0], o.asymmetric_quantize_inputs, s.act};
    ctx.request_scratch(n, static_cast<size_t>(in.numel()));
    ctx.request_scratch(n, sizeof(float) * static_cast<size_t>(s.batch));
    ctx.request_scratch(n, sizeof(int32_t) * static_cast<size_t>(s.batch));
    s.hybrid_fn = k.fully_connected_hybrid;
    n.eval = eval_hybrid;
  } else if (in.type == T::kInt8 && w.type == T::kInt8 && out.type == T::kInt8) {
    require_per_tensor(n, in, "input");
    require_per_tensor(n, out, "output");
    const std::vector<float> ws = weight_scales(n, w, s.out, 0, "weights");
    if (bias) check_bias_int32(n, *bias, s.out, in.scale(), ws, out.scale());
    s.q.batch = s.batch;
    s.q.in_features = s.in;
    s.q.out_features = s.out;
    s.q.input_zero_point = in.zero_point();
    s.q.output_zero_point = out.zero_point();
    // TFLite 2.9 forms the per-tensor multiplier from a float product
    // (requantize.h); the kernel requantizes round-half-up as ruy does.
    s.q.requant = ref::fully_connected_multipliers(in.scale(), ws, out.scale());
    s.q.act = ref::fused_activation_range(s.act, out.scale(), out.zero_point());
    s.int8_fn = k.fully_connected_int8;
    if (k.pack_fully_connected_int8 && !s.packed_ready) {
      op_check(w.constant, n, "weights " + describe(w) + " must be constant");
      k.pack_fully_connected_int8(s.q, w.as<const int8_t>(), s.packed);
      s.packed_ready = true;
    }
    n.eval = eval_int8;
  } else {
    unsupported_types(ctx, n);
  }
}

}  // namespace qlite::runtime::detail
