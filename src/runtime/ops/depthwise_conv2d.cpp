// DEPTHWISE_CONV_2D: float32, full int8 and uint8 (weights 1HWC, per channel
// along dimension 3), 16x8 (int16 activations, int8 weights, int64 bias) and
// hybrid (float activations, int8 weights with per-channel scales), the last
// two with the reference kernels of types16_kernels.h.
#include "kernels/int8_kernels_x86.h"
#include "kernels/reference/types16_kernels.h"
#include "kernels/reference/uint8_kernels.h"
#include "runtime/ops/float_rows.h"
#include "runtime/ops/op_util.h"
#include "runtime/ops/ops.h"

namespace qlite::runtime::detail {
namespace {

struct DepthwiseState : OpState {
  ref::WindowGeometry g;  // at the prepared batch
  int depth_multiplier = 1;
  Activation act = Activation::kLinear;
  ref::DepthwiseInt8Params q;
  kernels::PackedDepthwiseInt8 packed;
  bool packed_ready = false;
  size_t stride = 0;  // scratch bytes per worker
  decltype(KernelTable::depthwise_conv2d_f32) f32_fn = nullptr;
  // float32 on AVX2 / AVX-512 with depth multiplier 1 and no dilation: the
  // training layer's vectorised forward (kernels::float_depthwise_forward)
  // over bands of output rows, their input rows first copied into a
  // zero-padded buffer when the op pads. Otherwise f32_fn (the reference).
  bool f32_simd = false, f32_pad = false;
  Isa isa = Isa::kReference;
  kernels::FloatAct fact = kernels::FloatAct::kLinear;
  int f32_wp = 0;  // width of the rows the kernel reads (padded or not)
  // uint8: the reference Isa and shapes the SIMD paths do not take run
  // ref::depthwise_conv2d_uint8; the others `packed` on the flipped input.
  int32_t weight_zero_point = 0;
  ref::DepthwiseInt8Params q_u8;  // uint8 domain
  // 16x8 and hybrid (types16_kernels.h).
  ref::DepthwiseInt8Params q16;
  ref::DepthwiseHybridParams hybrid;
  size_t hybrid_q = 0, hybrid_s = 0, hybrid_o = 0;  // scratch indices
};

void eval_int16x8(const EvalContext& c, const Node& n) {
  const auto& s = n.state_as<DepthwiseState>();
  const RtTensor* bias = c.optional_input(n, 2);
  ref::DepthwiseInt8Params p = s.q16;
  p.g.batch = static_cast<int>(c.scaled(p.g.batch));
  ref::depthwise_conv2d_int16x8(p, c.input(n, 0).as<const int16_t>(), c.input(n, 1).as<const int8_t>(),
                                bias ? bias->as<const int64_t>() : nullptr, c.output(n, 0).as<int16_t>());
}

void eval_hybrid(const EvalContext& c, const Node& n) {
  const auto& s = n.state_as<DepthwiseState>();
  const RtTensor* bias = c.optional_input(n, 2);
  ref::HybridScratch sc;
  sc.quantized = reinterpret_cast<int8_t*>(c.scratch_of(n, s.hybrid_q));
  sc.scaling = reinterpret_cast<float*>(c.scratch_of(n, s.hybrid_s));
  sc.offsets = reinterpret_cast<int32_t*>(c.scratch_of(n, s.hybrid_o));
  ref::depthwise_conv2d_hybrid(s.hybrid, c.input(n, 0).as<const float>(), c.input(n, 1).as<const int8_t>(),
                               bias ? bias->as<const float>() : nullptr, sc, c.output(n, 0).as<float>());
}

void eval_uint8_ref(const EvalContext& c, const Node& n) {
  const auto& s = n.state_as<DepthwiseState>();
  const RtTensor* bias = c.optional_input(n, 2);
  ref::DepthwiseInt8Params p = s.q_u8;
  p.g.batch = static_cast<int>(c.scaled(p.g.batch));
  ref::depthwise_conv2d_uint8(p, s.weight_zero_point, c.input(n, 0).as<const uint8_t>(),
                              c.input(n, 1).as<const uint8_t>(), bias ? bias->as<const int32_t>() : nullptr,
                              c.output(n, 0).as<uint8_t>());
}

void eval_uint8(const EvalContext& c, const Node& n) {
  const auto& s = n.state_as<DepthwiseState>();
  eval_uint8_windowed(c, n, s.g, s.stride, [&](const int8_t* in, int8_t* out, int y0, int y1, void* sc) {
    kernels::depthwise_conv2d_int8_rows(s.packed, in, out, y0, y1, sc);
  });
}

// Output rows [y0, y1) of one image (f32_simd): the input rows the band reads
// (copied with their zero padding into pad_buf when the op pads), then every
// window inside them, as float_depthwise_forward requires.
void depthwise_rows_f32(const DepthwiseState& s, const float* image, const float* w, const float* bias,
                        float* out_image, int y0, int y1, float* pad_buf) {
  const ref::WindowGeometry& g = s.g;
  const float* src = padded_rows_f32(g, s.f32_pad, s.f32_wp, image, y0, y1, pad_buf);
  kernels::DepthwiseGeom dg;
  dg.H = (y1 - 1 - y0) * g.stride_h + g.kernel_h;
  dg.W = s.f32_wp;
  dg.C = g.in_c;
  dg.OH = y1 - y0;
  dg.OW = g.out_w;
  dg.kh = g.kernel_h, dg.kw = g.kernel_w, dg.sh = g.stride_h, dg.sw = g.stride_w;
  kernels::float_depthwise_forward(s.isa, dg, src, w, bias, s.fact, out_image + int64_t{y0} * g.out_w * g.out_c);
}

void eval_f32(const EvalContext& c, const Node& n) {
  const auto& s = n.state_as<DepthwiseState>();
  const RtTensor* bias = c.optional_input(n, 2);
  const float* b = bias ? bias->as<const float>() : nullptr;
  const float* in = c.input(n, 0).as<const float>();
  const float* w = c.input(n, 1).as<const float>();
  float* out = c.output(n, 0).as<float>();
  if (!s.f32_simd) {
    ref::WindowGeometry g = s.g;
    g.batch = static_cast<int>(c.scaled(g.batch));
    s.f32_fn(g, s.depth_multiplier, in, w, b, s.act, out);
    return;
  }
  for_float_bands(c, n, s.g, s.stride, in, out, [&](const float* image, float* out_image, int y0, int y1, float* buf) {
    depthwise_rows_f32(s, image, w, b, out_image, y0, y1, buf);
  });
}

void prepare_f32(PrepareContext& ctx, Node& n, DepthwiseState& s) {
  const ref::WindowGeometry& g = s.g;
  s.isa = ctx.isa();
  s.f32_simd = s.isa != Isa::kReference && s.act != Activation::kReluN1To1 && s.depth_multiplier == 1 &&
               g.dilation_h == 1 && g.dilation_w == 1;
  if (!s.f32_simd) return;
  s.fact = float_act(s.act);
  const FloatBands bands = plan_float_bands(ctx, n, g);  // dilation 1 here
  s.f32_pad = bands.pad;
  s.f32_wp = bands.wp;
  s.stride = bands.stride;
}

void eval_int8(const EvalContext& c, const Node& n) {
  const auto& s = n.state_as<DepthwiseState>();
  const ref::WindowGeometry& g = s.g;
  const int8_t* in = c.input(n, 0).as<const int8_t>();
  int8_t* out = c.output(n, 0).as<int8_t>();
  const int64_t in_img = int64_t{g.in_h} * g.in_w * g.in_c, out_img = int64_t{g.out_h} * g.out_w * g.out_c;
  std::byte* scratch = c.scratch_of(n, 0);
  split_work(c, c.scaled(g.batch) * g.out_h, c.scaled(n.work), [&](int64_t u0, int64_t u1, int chunk) {
    void* sc = scratch + static_cast<size_t>(chunk) * s.stride;
    for_image_rows(u0, u1, g.out_h, [&](int64_t img, int y0, int y1) {
      kernels::depthwise_conv2d_int8_rows(s.packed, in + img * in_img, out + img * out_img, y0, y1, sc);
    });
  });
}

}  // namespace

void prepare_depthwise_conv2d(PrepareContext& ctx, Node& n) {
  const auto& o = std::get<lite::DepthwiseConv2DOptions>(n.def->options);
  RtTensor& in = ctx.input(n, 0);
  RtTensor& w = ctx.input(n, 1);
  RtTensor* bias = ctx.optional_input(n, 2);
  RtTensor& out = ctx.output(n, 0);
  require_rank(n, in, 4, "input");
  require_rank(n, w, 4, "filter");
  op_check(w.shape[0] == 1, n, "filter " + describe(w) + " must have shape (1, kh, kw, channels)");
  const int64_t in_c = in.shape[3], out_c = w.shape[3];
  op_check(in_c > 0 && out_c % in_c == 0, n,
           "filter " + describe(w) + " channels are not a multiple of the input's " + describe(in));
  // TFLite derives the multiplier from the shapes; the option, when set, must agree.
  const int64_t multiplier = out_c / in_c;
  op_check(o.depth_multiplier == 0 || o.depth_multiplier == multiplier, n,
           "depth_multiplier " + std::to_string(o.depth_multiplier) + " disagrees with the shapes (" +
               std::to_string(multiplier) + ")");
  auto& s = n.state_as<DepthwiseState>();
  ref::WindowGeometry& g = s.g;
  g.batch = dim_int(n, in.shape[0], "batch");
  g.in_h = dim_int(n, in.shape[1], "input height");
  g.in_w = dim_int(n, in.shape[2], "input width");
  g.in_c = dim_int(n, in_c, "input channels");
  g.out_c = dim_int(n, out_c, "output channels");
  g.kernel_h = dim_int(n, w.shape[1], "filter height");
  g.kernel_w = dim_int(n, w.shape[2], "filter width");
  g.stride_h = o.stride_h, g.stride_w = o.stride_w;
  g.dilation_h = o.dilation_h, g.dilation_w = o.dilation_w;
  apply_op_padding(n, g, o.padding);
  ref::validate_window_reach(g, "DEPTHWISE_CONV_2D");  // before any kernel sizes its buffers from it
  s.depth_multiplier = static_cast<int>(multiplier);
  s.act = to_fused(n, o.activation);
  ctx.set_output_shape(n, 0, {g.batch, g.out_h, g.out_w, g.out_c});
  n.work = work_of({g.batch, g.out_h, g.out_w, g.out_c, g.kernel_h, g.kernel_w});

  using T = lite::TensorType;
  if (in.type == T::kFloat32 && w.type == T::kFloat32 && out.type == T::kFloat32) {
    if (bias) check_bias_f32(n, *bias, g.out_c);
    s.f32_fn = ctx.kernels().depthwise_conv2d_f32;
    prepare_f32(ctx, n, s);
    n.eval = eval_f32;
  } else if (in.type == T::kInt8 && w.type == T::kInt8 && out.type == T::kInt8) {
    require_per_tensor(n, in, "input");
    require_per_tensor(n, out, "output");
    const std::vector<float> ws = weight_scales(n, w, g.out_c, 3, "filter");
    if (bias) check_bias_int32(n, *bias, g.out_c, in.scale(), ws, out.scale());
    s.q.g = g;
    s.q.depth_multiplier = s.depth_multiplier;
    s.q.input_zero_point = in.zero_point();
    s.q.output_zero_point = out.zero_point();
    s.q.requant = ref::make_requant(in.scale(), ws, out.scale());
    s.q.act = ref::fused_activation_range(s.act, out.scale(), out.zero_point());
    if (!s.packed_ready) {
      op_check(w.constant, n, "filter " + describe(w) + " must be constant");
      if (bias) op_check(bias->constant, n, "bias " + describe(*bias) + " must be constant");
      s.packed = kernels::pack_depthwise_conv2d_int8(ctx.isa(), s.q, w.as<const int8_t>(),
                                                     bias ? bias->as<const int32_t>() : nullptr);
      s.packed_ready = true;
    }
    s.stride = scratch_stride(std::max<size_t>(s.packed.scratch_bytes, 1));
    ctx.request_scratch(n, s.stride * static_cast<size_t>(ctx.workers()));
    n.eval = eval_int8;
  } else if (in.type == T::kUInt8 && w.type == T::kUInt8 && out.type == T::kUInt8) {
    require_per_tensor(n, in, "input");
    require_per_tensor(n, w, "filter");
    require_per_tensor(n, out, "output");
    if (bias) check_bias_int32(n, *bias, g.out_c, in.scale(), {w.scale()}, out.scale());
    s.weight_zero_point = w.zero_point();
    s.q_u8.g = g;
    s.q_u8.depth_multiplier = s.depth_multiplier;
    s.q_u8.input_zero_point = in.zero_point();
    s.q_u8.output_zero_point = out.zero_point();
    s.q_u8.requant = ref::make_uint8_requant(in.scale(), w.scale(), out.scale());
    s.q_u8.act = ref::fused_activation_range(s.act, out.scale(), out.zero_point(), 0, 255);
    if (ctx.isa() == Isa::kReference || !kernels::depthwise_int8_vectorized(s.q_u8)) {
      n.eval = eval_uint8_ref;
      return;
    }
    prepare_uint8_packed(ctx, n, s, in, w, bias, "filter", [&] {
      return kernels::pack_depthwise_conv2d_uint8(ctx.isa(), s.q_u8, s.weight_zero_point, w.as<const uint8_t>(),
          bias ? bias->as<const int32_t>() : nullptr);
    }, eval_uint8);
  } else if (in.type == T::kInt16 && w.type == T::kInt8 && out.type == T::kInt16) {
    // depthwise_conv.cc: symmetric int16 activations, an int64 bias (TFLite
    // 2.9 refuses int32 for 16x8 depthwise: measured in the type audit).
    require_per_tensor(n, in, "input");
    require_per_tensor(n, out, "output");
    op_check(in.zero_point() == 0, n, "int16 input " + describe(in) + " must have zero point 0");
    op_check(out.zero_point() == 0, n, "int16 output " + describe(out) + " must have zero point 0");
    const std::vector<float> ws = weight_scales(n, w, g.out_c, 3, "filter");
    if (bias) check_bias_quantized(n, *bias, T::kInt64, g.out_c, in.scale(), ws, out.scale());
    s.q16.g = g;
    s.q16.depth_multiplier = s.depth_multiplier;
    s.q16.requant = ref::make_requant(in.scale(), ws, out.scale());
    for (const ref::QuantizedMultiplier& m : s.q16.requant)
      op_check(m.shift >= -31 && m.shift <= 7, n,
               "effective scale input x filter / output is outside TFLite's range (shift " + std::to_string(m.shift) +
                   ")");
    s.q16.act = ref::fused_activation_range(s.act, out.scale(), 0, -32768, 32767);
    n.separable = false;
    n.eval = eval_int16x8;
  } else if (in.type == T::kFloat32 && w.type == T::kInt8 && out.type == T::kFloat32) {
    // depthwise_conv.cc EvalHybridPerChannel: one weight scale per channel.
    const lite::Quantization& wq = w.quant();
    op_check(wq.scale.size() == static_cast<size_t>(g.out_c) && wq.quantized_dimension == 3, n,
             "hybrid filter " + describe(w) + " needs one scale per output channel along dimension 3");
    for (float v : wq.scale) op_check(std::isfinite(v) && v > 0, n, "filter " + describe(w) + " scales must be > 0");
    // TFLite 2.9's x86 hybrid kernel reads the bias unconditionally (it
    // crashes without one): refused rather than run unlike anything to compare.
    op_check(bias != nullptr, n, "hybrid filter " + describe(w) + " needs a float bias (TFLite 2.9 requires one)");
    check_bias_f32(n, *bias, g.out_c);
    s.hybrid.g = g;
    s.hybrid.depth_multiplier = s.depth_multiplier;
    s.hybrid.weight_scales = wq.scale;
    s.hybrid.act = s.act;
    s.hybrid_q = ctx.request_scratch(n, static_cast<size_t>(in.numel()));
    s.hybrid_s = ctx.request_scratch(n, static_cast<size_t>(g.batch) * sizeof(float));
    s.hybrid_o = ctx.request_scratch(n, static_cast<size_t>(g.batch) * sizeof(int32_t));
    n.separable = false;
    n.eval = eval_hybrid;
  } else {
    unsupported_types(ctx, n);
  }
}

}  // namespace qlite::runtime::detail
