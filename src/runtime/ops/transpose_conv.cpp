// TRANSPOSE_CONV, as TensorFlow Lite 2.9's transpose_conv.cc: inputs
// output_shape (an INT32 tensor of 4 values: constant, or computed at run
// time, when the op is prepared at invoke), weights OHWI, input
// NHWC and an optional bias (absent or -1). Types: float32; int8 with
// per-channel int8 weights and an int32 bias; uint8 with per-tensor uint8
// weights (zero point) and an int32 bias; 16x8 (int16 activations, int8
// per-channel weights, int64 bias). The arithmetic is
// ref::transpose_conv_* (src/kernels/reference/matmul_kernels.h).
//
// Stricter than TFLite where TFLite reads out of bounds: the input's
// height / width must be the forward convolution's output size for the
// output_shape (TFLite's optimized path assumes it), the output's batch and
// channels must agree with the input and the weights, and int8 / int16
// weights need one scale per output channel (TFLite 2.9 indexes its
// per-channel multipliers by output channel even for a single scale).
#include <limits>

#include "kernels/reference/int16_kernels.h"
#include "kernels/reference/matmul_kernels.h"
#include "runtime/ops/data_util.h"
#include "runtime/ops/ops.h"

namespace qlite::runtime::detail {
namespace {

using T = lite::TensorType;

struct TransposeConvState : OpState {
  ref::TransposeConvGeometry g;
  ref::TransposeConvQuantParams q;
};

// The geometry of this call's images (the graph may run in tiles).
ref::TransposeConvGeometry geometry(const EvalContext& c, const Node& n) {
  ref::TransposeConvGeometry g = n.state_as<TransposeConvState>().g;
  g.batch = c.scaled(g.batch);
  return g;
}

const float* bias_f32(const EvalContext& c, const Node& n) {
  const RtTensor* b = c.optional_input(n, 3);
  return b ? b->as<const float>() : nullptr;
}

void eval_f32(const EvalContext& c, const Node& n) {
  ref::transpose_conv_f32(geometry(c, n), c.input(n, 2).as<const float>(), c.input(n, 1).as<const float>(), bias_f32(c, n),
                          c.output(n, 0).as<float>());
}

void eval_int8(const EvalContext& c, const Node& n) {
  const auto& s = n.state_as<TransposeConvState>();
  const RtTensor* b = c.optional_input(n, 3);
  ref::transpose_conv_int8(geometry(c, n), s.q, c.input(n, 2).as<const int8_t>(), c.input(n, 1).as<const int8_t>(),
                           b ? b->as<const int32_t>() : nullptr, c.output(n, 0).as<int8_t>());
}

void eval_uint8(const EvalContext& c, const Node& n) {
  const auto& s = n.state_as<TransposeConvState>();
  const RtTensor* b = c.optional_input(n, 3);
  ref::transpose_conv_uint8(geometry(c, n), s.q, c.input(n, 2).as<const uint8_t>(), c.input(n, 1).as<const uint8_t>(),
                            b ? b->as<const int32_t>() : nullptr, c.output(n, 0).as<uint8_t>());
}

void eval_int16(const EvalContext& c, const Node& n) {
  const auto& s = n.state_as<TransposeConvState>();
  const RtTensor* b = c.optional_input(n, 3);
  ref::transpose_conv_int16x8(geometry(c, n), s.q, c.input(n, 2).as<const int16_t>(), c.input(n, 1).as<const int8_t>(),
                              b ? b->as<const int64_t>() : nullptr, c.output(n, 0).as<int16_t>());
}

// Per-channel symmetric int8 weights: one scale per output channel along
// dimension 0 (a single scale only with one output channel).
std::vector<float> per_channel_scales(const Node& n, const RtTensor& w, int64_t out_c) {
  const std::vector<float> ws = weight_scales(n, w, out_c, 0, "weights");
  op_check(static_cast<int64_t>(ws.size()) == out_c, n,
           "weights " + describe(w) + " need one scale per output channel (" + std::to_string(out_c) +
               "): TensorFlow Lite 2.9 reads its per-channel multipliers by output channel");
  return ws;
}

void require_bias(const Node& n, const RtTensor& bias, T type, int64_t out_c) {
  require_type(n, bias, type, "bias");
  op_check(bias.numel() == out_c, n, "bias " + describe(bias) + " must have " + std::to_string(out_c) + " elements");
  for (int64_t z : bias.quant().zero_point) op_check(z == 0, n, "bias " + describe(bias) + " zero point must be 0");
}

}  // namespace

void prepare_transpose_conv(PrepareContext& ctx, Node& n) {
  RtTensor& shape_t = ctx.input(n, 0);
  RtTensor& w = ctx.input(n, 1);
  RtTensor& in = ctx.input(n, 2);
  RtTensor* bias = ctx.optional_input(n, 3);
  RtTensor& out = ctx.output(n, 0);
  const auto* o = std::get_if<lite::TransposeConvOptions>(&n.def->options);
  op_check(o != nullptr, n, "TransposeConvOptions missing");

  // Types first: the error names the whole combination.
  const bool f32 = in.type == T::kFloat32 && w.type == T::kFloat32 && out.type == T::kFloat32;
  const bool i8 = in.type == T::kInt8 && w.type == T::kInt8 && out.type == T::kInt8;
  const bool u8 = in.type == T::kUInt8 && w.type == T::kUInt8 && out.type == T::kUInt8;
  const bool i16 = in.type == T::kInt16 && w.type == T::kInt8 && out.type == T::kInt16;
  const T bias_type = f32 ? T::kFloat32 : i16 ? T::kInt64 : T::kInt32;
  if (shape_t.type != T::kInt32 || !(f32 || i8 || u8 || i16) || (bias && bias->type != bias_type))
    unsupported_types(ctx, n);

  require_rank(n, shape_t, 1, "output_shape");
  op_check(shape_t.numel() == 4, n, "output_shape " + describe(shape_t) + " must hold 4 values");
  // A computed output_shape: the interpreter prepares the op at invoke once
  // its values exist (require_values in constant_ints), as TFLite 2.9 makes
  // the output dynamic and resizes it at eval.
  const std::vector<int64_t> os = constant_ints(n, shape_t, "output_shape");
  require_rank(n, w, 4, "weights");
  require_rank(n, in, 4, "input");

  ref::TransposeConvGeometry g;
  g.batch = in.shape[0], g.in_h = in.shape[1], g.in_w = in.shape[2], g.in_c = in.shape[3];
  g.out_c = w.shape[0], g.filter_h = w.shape[1], g.filter_w = w.shape[2];
  g.stride_h = o->stride_h, g.stride_w = o->stride_w;
  op_check(w.shape[3] == g.in_c, n,
           "weights " + describe(w) + " must have the input's " + std::to_string(g.in_c) + " channels last (OHWI)");
  op_check(g.filter_h >= 1 && g.filter_w >= 1 && g.out_c >= 1, n, "weights " + describe(w) + " must not be empty");
  constexpr int64_t kMax = std::numeric_limits<int32_t>::max();
  op_check(g.stride_h >= 1 && g.stride_w >= 1 && g.stride_h <= kMax && g.stride_w <= kMax, n,
           "strides must be >= 1");
  for (int64_t v : os)
    op_check(v >= 0 && v <= kMax, n, "output_shape " + describe(shape_t) + " holds " + std::to_string(v));
  // The batch: output_shape's must be the input's, at this batch (an
  // output_shape computed from SHAPE(input) while preparing) or as the file
  // declares it (a constant); the output follows the input's batch
  // (resize_batch, tiles).
  // A computed output_shape names the batch of the moment: the input's.
  const int64_t file_batch = in.def->shape.empty() || !shape_t.constant ? g.batch : in.def->shape[0];
  op_check((os[0] == file_batch || os[0] == g.batch) && os[3] == g.out_c, n,
           "output_shape (" + std::to_string(os[0]) + ", " + std::to_string(os[1]) + ", " + std::to_string(os[2]) +
               ", " + std::to_string(os[3]) + ") must keep the input's batch " + std::to_string(file_batch) +
               " and the weights' " + std::to_string(g.out_c) + " output channels");
  g.out_h = os[1], g.out_w = os[2];
  const bool same = o->padding == lite::Padding::kSame;
  const ref::TransposeConvPadding ph = ref::transpose_conv_padding(same, g.out_h, g.filter_h, g.stride_h);
  const ref::TransposeConvPadding pw = ref::transpose_conv_padding(same, g.out_w, g.filter_w, g.stride_w);
  op_check(ph.conv_out == g.in_h && pw.conv_out == g.in_w, n,
           "input " + describe(in) + " does not match output_shape: a " + (same ? "SAME" : "VALID") +
               " convolution of the output with this filter and stride gives " + std::to_string(ph.conv_out) + "x" +
               std::to_string(pw.conv_out));
  g.pad_h = ph.pad, g.pad_w = pw.pad;

  auto& s = n.state_as<TransposeConvState>();
  s.q = ref::TransposeConvQuantParams{};
  s.g = g;
  if (f32) {
    if (bias) require_bias(n, *bias, T::kFloat32, g.out_c);
    n.eval = eval_f32;
  } else {
    require_per_tensor(n, in, "input");
    require_per_tensor(n, out, "output");
    s.q.input_zero_point = in.zero_point();
    s.q.output_zero_point = out.zero_point();
    if (bias) require_bias(n, *bias, bias_type, g.out_c);
    if (u8) {
      require_per_tensor(n, w, "weights");
      s.q.weights_zero_point = w.zero_point();
      op_check(s.q.weights_zero_point >= 0 && s.q.weights_zero_point <= 255, n,
               "weights " + describe(w) + " zero point outside [0, 255]");
      // TFLite's GetQuantizedConvolutionMultipler: the bias scale rule, a
      // float product input_scale * weight_scale.
      if (bias) check_bias_int32(n, *bias, g.out_c, in.scale(), {w.scale()}, out.scale());
      s.q.requant = ref::fully_connected_multipliers(in.scale(), {w.scale()}, out.scale());
      n.eval = eval_uint8;
    } else {
      const std::vector<float> ws = per_channel_scales(n, w, g.out_c);
      s.q.requant = ref::conv_multipliers(in.scale(), ws, out.scale());
      if (i16) {
        op_check(in.zero_point() == 0 && out.zero_point() == 0, n,
                 "int16 input " + describe(in) + " and output " + describe(out) + " must have zero point 0");
        for (const ref::QuantizedMultiplier& m : s.q.requant)
          op_check(m.shift >= -31 && m.shift <= 7, n,
                   "effective scale input x weight / output is outside TFLite's range (shift " +
                       std::to_string(m.shift) + ")");
        n.eval = eval_int16;
      } else {
        n.eval = eval_int8;
      }
    }
  }
  ctx.set_output_shape(n, 0, {g.batch, g.out_h, g.out_w, g.out_c});
  n.work = work_of({g.batch, g.in_h, g.in_w, g.in_c, g.filter_h, g.filter_w, g.out_c});
}

}  // namespace qlite::runtime::detail
