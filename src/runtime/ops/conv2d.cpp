// CONV_2D: float32, full int8 (per-channel or per-tensor weights), and hybrid
// (float input, int8 weights) as TFLite 2.9 runs it.
#include "runtime/ops/op_util.h"
#include "runtime/ops/ops.h"

namespace qlite::runtime::detail {
namespace {

struct ConvState : OpState {
  ref::WindowGeometry g;
  ref::FusedActivation act = ref::FusedActivation::kNone;
  ref::ConvInt8Params q;
  ref::HybridConvParams h;
  decltype(KernelTable::conv2d_int8) int8_fn = nullptr;
  decltype(KernelTable::conv2d_f32) f32_fn = nullptr;
  decltype(KernelTable::conv2d_hybrid) hybrid_fn = nullptr;
  std::vector<int8_t> packed;
  bool packed_ready = false;
};

void eval_f32(const EvalContext& c, const Node& n) {
  const auto& s = n.state_as<ConvState>();
  const RtTensor* bias = c.optional_input(n, 2);
  s.f32_fn(s.g, c.input(n, 0).as<const float>(), c.input(n, 1).as<const float>(),
           bias ? bias->as<const float>() : nullptr, s.act, c.output(n, 0).as<float>());
}

void eval_int8(const EvalContext& c, const Node& n) {
  const auto& s = n.state_as<ConvState>();
  const RtTensor* bias = c.optional_input(n, 2);
  const int8_t* w = s.packed.empty() ? c.input(n, 1).as<const int8_t>() : s.packed.data();
  s.int8_fn(s.q, c.input(n, 0).as<const int8_t>(), w, bias ? bias->as<const int32_t>() : nullptr,
            c.output(n, 0).as<int8_t>());
}

void eval_hybrid(const EvalContext& c, const Node& n) {
  const auto& s = n.state_as<ConvState>();
  const RtTensor* bias = c.optional_input(n, 2);
  const ref::HybridScratch scratch{reinterpret_cast<int8_t*>(n.scratch[0]),
                                   reinterpret_cast<float*>(n.scratch[1]),
                                   reinterpret_cast<int32_t*>(n.scratch[2])};
  s.hybrid_fn(s.h, c.input(n, 0).as<const float>(), c.input(n, 1).as<const int8_t>(),
              bias ? bias->as<const float>() : nullptr, scratch, c.output(n, 0).as<float>());
}

}  // namespace

void prepare_conv2d(PrepareContext& ctx, Node& n) {
  const auto& o = std::get<lite::Conv2DOptions>(n.def->options);
  RtTensor& in = ctx.input(n, 0);
  RtTensor& w = ctx.input(n, 1);
  RtTensor* bias = ctx.optional_input(n, 2);
  RtTensor& out = ctx.output(n, 0);
  require_rank(n, in, 4, "input");
  require_rank(n, w, 4, "filter");
  op_check(w.shape[3] == in.shape[3], n,
           "filter " + describe(w) + " expects " + std::to_string(w.shape[3]) +
               " input channels, input " + describe(in) + " has " + std::to_string(in.shape[3]) +
               " (grouped convolution is not supported)");
  auto& s = n.state_as<ConvState>();
  ref::WindowGeometry& g = s.g;
  g.batch = dim_int(n, in.shape[0], "batch");
  g.in_h = dim_int(n, in.shape[1], "input height");
  g.in_w = dim_int(n, in.shape[2], "input width");
  g.in_c = dim_int(n, in.shape[3], "input channels");
  g.out_c = dim_int(n, w.shape[0], "output channels");
  g.kernel_h = dim_int(n, w.shape[1], "filter height");
  g.kernel_w = dim_int(n, w.shape[2], "filter width");
  g.stride_h = o.stride_h, g.stride_w = o.stride_w;
  g.dilation_h = o.dilation_h, g.dilation_w = o.dilation_w;
  ref::apply_padding(g, to_padding(o.padding));
  s.act = to_fused(n, o.activation);
  ctx.set_output_shape(n, 0, {g.batch, g.out_h, g.out_w, g.out_c});
  const KernelTable& k = ctx.kernels();

  using T = lite::TensorType;
  if (in.type == T::kFloat32 && w.type == T::kFloat32 && out.type == T::kFloat32) {
    if (bias) check_bias_f32(n, *bias, g.out_c);
    s.f32_fn = k.conv2d_f32;
    n.eval = eval_f32;
  } else if (in.type == T::kFloat32 && w.type == T::kInt8 && out.type == T::kFloat32) {
    if (bias) check_bias_f32(n, *bias, g.out_c);
    s.h = ref::make_hybrid_conv_params(g, weight_scales(n, w, g.out_c, 0, "filter"), s.act);
    ctx.request_scratch(n, static_cast<size_t>(in.numel()));
    ctx.request_scratch(n, sizeof(float) * static_cast<size_t>(g.batch));
    ctx.request_scratch(n, sizeof(int32_t) * static_cast<size_t>(g.batch));
    s.hybrid_fn = k.conv2d_hybrid;
    n.eval = eval_hybrid;
  } else if (in.type == T::kInt8 && w.type == T::kInt8 && out.type == T::kInt8) {
    require_per_tensor(n, in, "input");
    require_per_tensor(n, out, "output");
    const std::vector<float> ws = weight_scales(n, w, g.out_c, 0, "filter");
    if (bias) check_bias_int32(n, *bias, g.out_c, in.scale(), ws, out.scale());
    s.q.g = g;
    s.q.input_zero_point = in.zero_point();
    s.q.output_zero_point = out.zero_point();
    s.q.requant = ref::conv_multipliers(in.scale(), ws, out.scale());
    s.q.act = ref::fused_activation_range(s.act, out.scale(), out.zero_point());
    s.int8_fn = k.conv2d_int8;
    if (k.pack_conv2d_int8 && !s.packed_ready) {
      op_check(w.constant, n, "filter " + describe(w) + " must be constant");
      k.pack_conv2d_int8(s.q, w.as<const int8_t>(), s.packed);
      s.packed_ready = true;
    }
    n.eval = eval_int8;
  } else {
    unsupported_types(ctx, n);
  }
}

}  // namespace qlite::runtime::detail
