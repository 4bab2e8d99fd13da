// CONV_2D: float32, full int8 (per-channel or per-tensor weights), and hybrid
// (float input, int8 weights) as TFLite 2.9 runs it.
//
// int8 runs the packed x86 kernels (weights packed once, for the
// interpreter's Isa; the reference Isa packs the original tensors); float32
// runs the training layers' patch kernel on HWIO weights repacked once. Both
// split a call over (image, output-row band) when the work pays for a thread.
#include <cstring>

#include "kernels/float_kernels.h"
#include "kernels/reference/int16_kernels.h"
#include "kernels/reference/uint8_kernels.h"
#include "kernels/int8_kernels_x86.h"
#include "kernels/runtime_float.h"
#include "kernels/x86/hybrid_x86.h"
#include "runtime/ops/float_rows.h"
#include "runtime/ops/op_util.h"
#include "runtime/ops/ops.h"

namespace qlite::runtime::detail {
namespace {

struct ConvState : OpState {
  ref::WindowGeometry g;  // at the prepared batch
  Activation act = Activation::kLinear;
  Isa isa = Isa::kReference;
  // int8
  ref::ConvInt8Params q;
  kernels::PackedConvInt8 packed;
  bool packed_ready = false;
  size_t stride = 0;  // scratch bytes per worker
  // float32 patch path (unused on the reference Isa or for RELU_N1_TO_1)
  bool patch = false, pad_copy = false;
  kernels::FloatAct fact = kernels::FloatAct::kLinear;
  std::vector<float> hwio;
  bool hwio_ready = false;
  std::vector<int64_t> offs;
  int wp = 0;  // width of the (padded) input rows the offsets address
  decltype(KernelTable::conv2d_f32) f32_fn = nullptr;
  // hybrid: packed once for the interpreter's Isa, one image per call
  kernels::PackedConvHybrid hybrid;
  bool hybrid_ready = false;
  // uint8: the reference Isa runs ref::conv2d_uint8 on the tensors; the
  // others run `packed` (pack_conv2d_uint8) on the input flipped to int8.
  int32_t weight_zero_point = 0;
  ref::ConvInt8Params q_u8;  // uint8 domain
  // 16x8: int16 activations, int8 weights, int64 or int32 bias (reference kernel)
  bool bias64 = false;
};

void eval_int16(const EvalContext& c, const Node& n) {
  const auto& s = n.state_as<ConvState>();
  const RtTensor* bias = c.optional_input(n, 2);
  ref::ConvInt8Params p = s.q;
  p.g.batch = static_cast<int>(c.scaled(p.g.batch));
  ref::conv2d_int16x8(p, c.input(n, 0).as<const int16_t>(), c.input(n, 1).as<const int8_t>(),
                      bias && s.bias64 ? bias->as<const int64_t>() : nullptr,
                      bias && !s.bias64 ? bias->as<const int32_t>() : nullptr, c.output(n, 0).as<int16_t>());
}

void eval_uint8_ref(const EvalContext& c, const Node& n) {
  const auto& s = n.state_as<ConvState>();
  const RtTensor* bias = c.optional_input(n, 2);
  ref::ConvInt8Params p = s.q_u8;
  p.g.batch = static_cast<int>(c.scaled(p.g.batch));
  ref::conv2d_uint8(p, s.weight_zero_point, c.input(n, 0).as<const uint8_t>(), c.input(n, 1).as<const uint8_t>(),
                    bias ? bias->as<const int32_t>() : nullptr, c.output(n, 0).as<uint8_t>());
}

// uint8 through the int8 kernels (op_util.h).
void eval_uint8(const EvalContext& c, const Node& n) {
  const auto& s = n.state_as<ConvState>();
  eval_uint8_windowed(c, n, s.g, s.stride, [&](const int8_t* in, int8_t* out, int y0, int y1, void* sc) {
    kernels::conv2d_int8_rows(s.packed, in, out, y0, y1, sc);
  });
}

void eval_int8(const EvalContext& c, const Node& n) {
  const auto& s = n.state_as<ConvState>();
  const ref::WindowGeometry& g = s.g;
  const int8_t* in = c.input(n, 0).as<const int8_t>();
  int8_t* out = c.output(n, 0).as<int8_t>();
  const int64_t in_img = int64_t{g.in_h} * g.in_w * g.in_c, out_img = int64_t{g.out_h} * g.out_w * g.out_c;
  std::byte* scratch = c.scratch_of(n, 0);
  split_work(c, c.scaled(g.batch) * g.out_h, c.scaled(n.work), [&](int64_t u0, int64_t u1, int chunk) {
    void* sc = scratch + static_cast<size_t>(chunk) * s.stride;
    for_image_rows(u0, u1, g.out_h, [&](int64_t img, int y0, int y1) {
      kernels::conv2d_int8_rows(s.packed, in + img * in_img, out + img * out_img, y0, y1, sc);
    });
  });
}

// Output rows [y0, y1) of one image through the patch kernel; with padding,
// the rows the band reads are first copied into a zero-padded buffer.
void conv_rows_f32(const ConvState& s, const float* image, const float* bias, float* out_image, int y0, int y1,
                   float* pad_buf) {
  const ref::WindowGeometry& g = s.g;
  const int64_t cin = g.in_c;
  const float* src = padded_rows_f32(g, s.pad_copy, s.wp, image, y0, y1, pad_buf);
  kernels::PatchGeom pg;
  pg.rows = y1 - y0;
  pg.cols = g.out_w;
  pg.in_row = int64_t{g.stride_h} * s.wp * cin;
  pg.in_col = int64_t{g.stride_w} * cin;
  pg.offs = s.offs.data();
  pg.R = static_cast<int64_t>(s.offs.size());
  pg.C = g.out_c;
  pg.out_row = int64_t{g.out_w} * g.out_c;
  pg.out_col = g.out_c;
  float* dst = out_image + y0 * pg.out_row;
  if (!kernels::conv_f32_small(s.isa, pg, src, s.hwio.data(), bias, s.fact, dst))
    kernels::float_patch_forward(s.isa, pg, src, s.hwio.data(), bias, s.fact, dst);
}

void eval_f32(const EvalContext& c, const Node& n) {
  const auto& s = n.state_as<ConvState>();
  const RtTensor* bias = c.optional_input(n, 2);
  const float* b = bias ? bias->as<const float>() : nullptr;
  const float* in = c.input(n, 0).as<const float>();
  float* out = c.output(n, 0).as<float>();
  if (!s.patch) {
    ref::WindowGeometry g = s.g;
    g.batch = static_cast<int>(c.scaled(g.batch));
    s.f32_fn(g, in, c.input(n, 1).as<const float>(), b, s.act, out);
    return;
  }
  for_float_bands(c, n, s.g, s.stride, in, out, [&](const float* image, float* out_image, int y0, int y1, float* buf) {
    conv_rows_f32(s, image, b, out_image, y0, y1, buf);
  });
}

// Each image is quantized with its own scale, so images split between threads
// give the same bits as one thread.
void eval_hybrid(const EvalContext& c, const Node& n) {
  const auto& s = n.state_as<ConvState>();
  const RtTensor* bias = c.optional_input(n, 2);
  const float* b = bias ? bias->as<const float>() : nullptr;
  const ref::WindowGeometry& g = s.g;
  const int64_t in_img = int64_t{g.in_h} * g.in_w * g.in_c, out_img = int64_t{g.out_h} * g.out_w * g.out_c;
  const float* in = c.input(n, 0).as<const float>();
  const int8_t* w = c.input(n, 1).as<const int8_t>();
  float* out = c.output(n, 0).as<float>();
  std::byte* scratch = c.scratch_of(n, 0);
  split_work(c, c.scaled(g.batch), c.scaled(n.work), [&](int64_t i0, int64_t i1, int chunk) {
    void* sc = scratch + static_cast<size_t>(chunk) * s.stride;
    for (int64_t i = i0; i < i1; ++i) kernels::conv2d_hybrid(s.hybrid, in + i * in_img, w, b, sc, out + i * out_img);
  });
}

void prepare_f32_patch(PrepareContext& ctx, Node& n, ConvState& s, const RtTensor& w) {
  const ref::WindowGeometry& g = s.g;
  s.isa = ctx.isa();
  s.patch = s.isa != Isa::kReference && s.act != Activation::kReluN1To1;
  if (!s.patch) return;
  s.fact = float_act(s.act);
  const int64_t taps = int64_t{g.kernel_h} * g.kernel_w, cin = g.in_c, cout = g.out_c;
  if (!s.hwio_ready) {
    op_check(w.constant, n, "filter " + describe(w) + " must be constant");
    const float* ohwi = w.as<const float>();
    s.hwio.resize(static_cast<size_t>(taps * cin * cout));
    for (int64_t co = 0; co < cout; ++co)
      for (int64_t r = 0; r < taps * cin; ++r) s.hwio[static_cast<size_t>(r * cout + co)] = ohwi[co * taps * cin + r];
    s.hwio_ready = true;
  }
  const FloatBands bands = plan_float_bands(ctx, n, g);
  s.pad_copy = bands.pad;
  s.wp = bands.wp;
  s.stride = bands.stride;
  s.offs.clear();
  for (int ky = 0; ky < g.kernel_h; ++ky)
    for (int kx = 0; kx < g.kernel_w; ++kx)
      for (int64_t ci = 0; ci < cin; ++ci)
        s.offs.push_back((int64_t{ky} * g.dilation_h * s.wp + int64_t{kx} * g.dilation_w) * cin + ci);
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
  apply_op_padding(n, g, o.padding);
  ref::validate_window_reach(g, "CONV_2D");  // before any kernel sizes its buffers from it
  s.act = to_fused(n, o.activation);
  ctx.set_output_shape(n, 0, {g.batch, g.out_h, g.out_w, g.out_c});
  n.work = work_of({g.batch, g.out_h, g.out_w, g.out_c, g.kernel_h, g.kernel_w, g.in_c});
  const KernelTable& k = ctx.kernels();

  using T = lite::TensorType;
  if (in.type == T::kFloat32 && w.type == T::kFloat32 && out.type == T::kFloat32) {
    if (bias) check_bias_f32(n, *bias, g.out_c);
    s.f32_fn = k.conv2d_f32;
    prepare_f32_patch(ctx, n, s, w);
    n.eval = eval_f32;
  } else if (in.type == T::kFloat32 && w.type == T::kInt8 && out.type == T::kFloat32) {
    if (bias) check_bias_f32(n, *bias, g.out_c);
    if (!s.hybrid_ready) {
      ref::WindowGeometry g1 = g;
      g1.batch = 1;
      // A filter computed at run time cannot be packed: it takes the reference path.
      s.hybrid = kernels::pack_conv2d_hybrid(
          w.constant ? ctx.isa() : Isa::kReference,
          ref::make_hybrid_conv_params(g1, weight_scales(n, w, g.out_c, 0, "filter"), s.act), w.as<const int8_t>());
      s.hybrid_ready = true;
    }
    s.stride = scratch_stride(s.hybrid.scratch_bytes);
    ctx.request_scratch(n, s.stride * static_cast<size_t>(ctx.workers()));
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
    if (!s.packed_ready) {
      op_check(w.constant, n, "filter " + describe(w) + " must be constant");
      if (bias) op_check(bias->constant, n, "bias " + describe(*bias) + " must be constant");
      s.packed = kernels::pack_conv2d_int8(ctx.isa(), s.q, w.as<const int8_t>(),
                                           bias ? bias->as<const int32_t>() : nullptr);
      s.packed_ready = true;
    }
    s.stride = scratch_stride(std::max<size_t>(s.packed.scratch_bytes, 1));
    ctx.request_scratch(n, s.stride * static_cast<size_t>(ctx.workers()));
    n.eval = eval_int8;
  } else if (in.type == T::kInt16 && w.type == T::kInt8 && out.type == T::kInt16) {
    // TFLite 2.9 reads the bias of a 16x8 CONV_2D unconditionally and refuses
    // the file without one; running it would be running what it cannot check.
    op_check(bias != nullptr, n, "16x8 CONV_2D needs a bias (TensorFlow Lite 2.9 refuses one without)");
    prepare_16x8(n, in, w, bias, out, g.out_c, "filter", s.bias64, s.q.requant, s.q.act, s.act,
                 ref::conv_multipliers);
    s.q.g = g;
    s.q.input_zero_point = s.q.output_zero_point = 0;
    n.eval = eval_int16;
  } else if (in.type == T::kUInt8 && w.type == T::kUInt8 && out.type == T::kUInt8) {
    // TF1-era asymmetric uint8: per-tensor everything, weights with a zero point.
    require_per_tensor(n, in, "input");
    require_per_tensor(n, w, "filter");
    require_per_tensor(n, out, "output");
    if (bias) check_bias_int32(n, *bias, g.out_c, in.scale(), {w.scale()}, out.scale());
    s.weight_zero_point = w.zero_point();
    s.q_u8.g = g;
    s.q_u8.input_zero_point = in.zero_point();
    s.q_u8.output_zero_point = out.zero_point();
    s.q_u8.requant = ref::make_uint8_requant(in.scale(), w.scale(), out.scale());
    s.q_u8.act = ref::fused_activation_range(s.act, out.scale(), out.zero_point(), 0, 255);
    if (ctx.isa() == Isa::kReference) {
      n.eval = eval_uint8_ref;
      return;
    }
    prepare_uint8_packed(ctx, n, s, in, w, bias, "filter", [&] {
      return kernels::pack_conv2d_uint8(ctx.isa(), s.q_u8, s.weight_zero_point, w.as<const uint8_t>(),
          bias ? bias->as<const int32_t>() : nullptr);
    }, eval_uint8);
  } else {
    unsupported_types(ctx, n);
  }
}

}  // namespace qlite::runtime::detail
