// Exact integer evaluation of a lowered Conv2D / DepthwiseConv2D / Dense with the int8
// reference kernels (the same kernels and numbers the runtime uses for the
// converted model).
//
// Why re-quantizing the float input is exact: the producer hands over
// v = float(scale * (q - zp)) with |q - zp| <= 255. float(v / scale) is then
// (q - zp) * (1 + e) with |e| <= 2^-23, an error below 255 * 2^-23 < 0.5, so
// rounding recovers q - zp exactly and QUANTIZE gives back q. Pass-through
// layers (Reshape, Flatten, MaxPooling2D) only copy or take maxima of such
// values, which preserves the property.
#include <limits>

#include "kernels/reference/activation_kernels.h"
#include "kernels/reference/int8_kernels.h"
#include "kernels/reference/math_kernels.h"
#include "quant/qat/qat_internal.h"

namespace qlite::quant::detail {
namespace {

std::vector<ref::QuantizedMultiplier> requant(const LoweredQuant& L) {
  std::vector<ref::QuantizedMultiplier> r(L.multiplier.size());
  for (size_t c = 0; c < r.size(); ++c) r[c] = {L.multiplier[c], L.shift[c]};
  return r;
}

// The window geometry of a lowered conv or depthwise conv at batch 1.
ref::WindowGeometry window_of(const LoweredQuant& L, const Shape& input_shape, const Shape& output_shape) {
  QLITE_CHECK(input_shape.size() == 3 && output_shape.size() == 3, "QAT " + L.name + ": conv needs HWC shapes");
  ref::WindowGeometry g;
  g.in_h = static_cast<int>(input_shape[0]);
  g.in_w = static_cast<int>(input_shape[1]);
  g.in_c = static_cast<int>(input_shape[2]);
  g.out_c = static_cast<int>(output_shape[2]);
  g.kernel_h = L.spec.kernel[0];
  g.kernel_w = L.spec.kernel[1];
  g.stride_h = L.spec.strides[0];
  g.stride_w = L.spec.strides[1];
  ref::apply_padding(g, L.spec.padding);
  QLITE_CHECK(g.out_h == output_shape[0] && g.out_w == output_shape[1],
              "QAT " + L.name + ": integer conv geometry disagrees with the layer's output " + shape_str(output_shape));
  return g;
}

}  // namespace

void run_integer(const LoweredQuant& L, const Shape& input_shape, const Tensor& x, Tensor& out,
                 const Shape& output_shape, const RunContext& ctx, IntegerScratch& s) {
  QLITE_CHECK(L.op == LoweredOp::kConv2D || L.op == LoweredOp::kDepthwiseConv2D || L.op == LoweredOp::kDense,
              "run_integer: " + L.name + " is not a conv/depthwise/dense");
  const int64_t n = x.dim(0);
  int64_t in_size = 1, out_size = 1;
  for (int64_t d : input_shape) in_size *= d;
  for (int64_t d : output_shape) out_size *= d;
  QLITE_CHECK(x.numel() == n * in_size, "QAT " + L.name + ": input " + shape_str(x.shape()) + " does not match " +
                                      shape_str(input_shape));
  out.resize_batched(n, output_shape);
  s.in.resize(static_cast<size_t>(n * in_size));
  s.out.resize(static_cast<size_t>(n * out_size));
  const int32_t* bias = L.bias.empty() ? nullptr : L.bias.data();
  const ref::ActRange act{L.act_min, L.act_max};
  const size_t chunks = static_cast<size_t>(num_chunks(ctx));

  if (L.op == LoweredOp::kConv2D) {
    if (!s.prepared || s.conv.size() != chunks) {
      ref::ConvInt8Params p;
      p.g = window_of(L, input_shape, output_shape);
      p.input_zero_point = L.input.zero_point;
      p.output_zero_point = L.output.zero_point;
      p.requant = requant(L);
      p.act = act;
      s.conv.assign(chunks, p);
      s.prepared = true;
    }
    run_chunks(ctx, n, [&](int64_t b, int64_t e, int c) {
      ref::ConvInt8Params& pc = s.conv[static_cast<size_t>(c)];
      pc.g.batch = static_cast<int>(e - b);
      quantize_values((e - b) * in_size, x.f32() + b * in_size, L.input, s.in.data() + b * in_size);
      ref::conv2d_int8(pc, s.in.data() + b * in_size, L.weights.data(), bias, s.out.data() + b * out_size);
      dequantize_values((e - b) * out_size, s.out.data() + b * out_size, L.output, out.f32() + b * out_size);
    }, 4);
    return;
  }
  if (L.op == LoweredOp::kDepthwiseConv2D) {
    if (!s.prepared || s.depthwise.size() != chunks) {
      ref::DepthwiseInt8Params p;
      p.g = window_of(L, input_shape, output_shape);
      p.depth_multiplier = L.spec.depth_multiplier;
      p.input_zero_point = L.input.zero_point;
      p.output_zero_point = L.output.zero_point;
      p.requant = requant(L);
      p.act = act;
      s.depthwise.assign(chunks, p);
      s.prepared = true;
    }
    // The reference kernel is the spec the runtime's DEPTHWISE_CONV_2D
    // kernels are held to (double rounding, as TFLite 2.9 on x86).
    run_chunks(ctx, n, [&](int64_t b, int64_t e, int c) {
      ref::DepthwiseInt8Params& pc = s.depthwise[static_cast<size_t>(c)];
      pc.g.batch = static_cast<int>(e - b);
      quantize_values((e - b) * in_size, x.f32() + b * in_size, L.input, s.in.data() + b * in_size);
      ref::depthwise_conv2d_int8(pc, s.in.data() + b * in_size, L.weights.data(), bias, s.out.data() + b * out_size);
      dequantize_values((e - b) * out_size, s.out.data() + b * out_size, L.output, out.f32() + b * out_size);
    }, 4);
    return;
  }
  if (!s.prepared || s.fc.size() != chunks) {
    ref::FullyConnectedInt8Params p;
    p.in_features = static_cast<int>(in_size);
    p.out_features = static_cast<int>(out_size);
    p.input_zero_point = L.input.zero_point;
    p.output_zero_point = L.output.zero_point;
    p.requant = requant(L);
    p.act = act;
    s.fc.assign(chunks, p);
    s.prepared = true;
  }
  run_chunks(ctx, n, [&](int64_t b, int64_t e, int c) {
    ref::FullyConnectedInt8Params& pc = s.fc[static_cast<size_t>(c)];
    pc.batch = static_cast<int>(e - b);
    quantize_values((e - b) * in_size, x.f32() + b * in_size, L.input, s.in.data() + b * in_size);
    ref::fully_connected_int8(pc, s.in.data() + b * in_size, L.weights.data(), bias, s.out.data() + b * out_size);
    dequantize_values((e - b) * out_size, s.out.data() + b * out_size, L.output, out.f32() + b * out_size);
  }, 16);
}

void run_integer_add(const LoweredQuant& L, std::span<const Tensor* const> in, Tensor& out, const RunContext& ctx,
                     IntegerScratch& s) {
  QLITE_CHECK(L.op == LoweredOp::kAdd && L.inputs.size() == 2 && in.size() == 2,
              "run_integer_add: " + L.name + " is not a two-input ADD");
  const Tensor& a = *in[0];
  const Tensor& b = *in[1];
  QLITE_CHECK(a.shape() == b.shape(), "QAT " + L.name + ": inputs differ in shape");
  out.resize(a.shape());
  const int64_t n = a.numel();
  s.in.resize(static_cast<size_t>(n));
  s.in2.resize(static_cast<size_t>(n));
  s.out.resize(static_cast<size_t>(n));
  // The parameters TFLite's ADD prepare derives from the three tensors' scales.
  const ref::AddInt8Params p = ref::make_add_params(L.inputs[0].scale, L.inputs[0].zero_point, L.inputs[1].scale,
                                                    L.inputs[1].zero_point, L.output.scale, L.output.zero_point,
                                                    L.activation);
  run_chunks(ctx, n, [&](int64_t lo, int64_t hi, int) {
    quantize_values(hi - lo, a.f32() + lo, L.inputs[0], s.in.data() + lo);
    quantize_values(hi - lo, b.f32() + lo, L.inputs[1], s.in2.data() + lo);
    ref::add_int8(p, hi - lo, s.in.data() + lo, s.in2.data() + lo, s.out.data() + lo);
    dequantize_values(hi - lo, s.out.data() + lo, L.output, out.f32() + lo);
  }, int64_t{1} << 14);
}

void run_integer_mean(const LoweredQuant& L, const Shape& input_shape, const Tensor& x, Tensor& out,
                      const Shape& output_shape, IntegerScratch& s) {
  QLITE_CHECK(L.op == LoweredOp::kMean && L.inputs.size() == 1 && input_shape.size() == 3,
              "run_integer_mean: " + L.name + " is not a MEAN over H, W");
  const int64_t n = x.dim(0);
  const int64_t in_size = shape_numel(input_shape), c = input_shape[2];
  QLITE_CHECK(x.numel() == n * in_size, "QAT " + L.name + ": input " + shape_str(x.shape()) + " does not match " +
                                            shape_str(input_shape));
  out.resize_batched(n, output_shape);
  s.in.resize(static_cast<size_t>(n * in_size));
  s.out.resize(static_cast<size_t>(n * c));
  const TensorQuant& iq = L.inputs[0];
  // The converter writes the axes as {1, 2}: the method TFLite 2.9 picks from them.
  const ref::MeanInt8Method method =
      ref::tflite_mean_method(L.spec.keep_dims, {1, 2}, iq.scale, iq.zero_point, L.output.scale, L.output.zero_point);
  const ref::MeanInt8Params p =
      ref::make_mean_params(static_cast<int>(n), static_cast<int>(input_shape[0]), static_cast<int>(input_shape[1]),
                            static_cast<int>(c), iq.scale, iq.zero_point, L.output.scale, L.output.zero_point, method);
  quantize_values(n * in_size, x.f32(), iq, s.in.data());
  ref::mean_hw_int8(p, s.in.data(), s.out.data());
  dequantize_values(n * c, s.out.data(), L.output, out.f32());
}

void run_integer_average_pool(const OpSpec& spec, const TensorQuant& q, const Shape& input_shape, const Tensor& x,
                              Tensor& out, const Shape& output_shape, IntegerScratch& s) {
  QLITE_CHECK(spec.op == OpKind::kAveragePool2D && input_shape.size() == 3 && output_shape.size() == 3,
              "run_integer_average_pool: not an AVERAGE_POOL_2D of [H, W, C]");
  const int64_t n = x.dim(0);
  const int64_t in_size = shape_numel(input_shape), out_size = shape_numel(output_shape);
  out.resize_batched(n, output_shape);
  s.in.resize(static_cast<size_t>(n * in_size));
  s.out.resize(static_cast<size_t>(n * out_size));
  ref::PoolInt8Params p;
  p.g.batch = static_cast<int>(n);
  p.g.in_h = static_cast<int>(input_shape[0]);
  p.g.in_w = static_cast<int>(input_shape[1]);
  p.g.in_c = p.g.out_c = static_cast<int>(input_shape[2]);
  p.g.kernel_h = spec.kernel[0];
  p.g.kernel_w = spec.kernel[1];
  p.g.stride_h = spec.strides[0];
  p.g.stride_w = spec.strides[1];
  ref::apply_padding(p.g, spec.padding);
  QLITE_CHECK(p.g.out_h == output_shape[0] && p.g.out_w == output_shape[1],
              "QAT: integer average pool geometry disagrees with the layer's output " + shape_str(output_shape));
  p.act = ref::fused_activation_range(Activation::kLinear, q.scale, q.zero_point, q.qmin, q.qmax);
  quantize_values(n * in_size, x.f32(), q, s.in.data());
  ref::average_pool2d_int8(p, s.in.data(), s.out.data());
  dequantize_values(n * out_size, s.out.data(), q, out.f32());
}

void run_integer_concatenation(const LoweredQuant& L, std::span<const Shape> input_shapes,
                               std::span<const Tensor* const> in, Tensor& out, const Shape& output_shape,
                               IntegerScratch& s) {
  QLITE_CHECK(L.op == LoweredOp::kConcatenation && L.inputs.size() == in.size() && in.size() == input_shapes.size() &&
                  L.spec.axis >= 0 && static_cast<size_t>(L.spec.axis) < output_shape.size(),
              "run_integer_concatenation: " + L.name + " is not a CONCATENATION of its inputs");
  const int64_t n = in[0]->dim(0);
  int64_t outer = n;
  for (int d = 0; d < L.spec.axis; ++d) outer *= output_shape[static_cast<size_t>(d)];
  const int64_t out_numel = n * shape_numel(output_shape);
  const int64_t out_block = out_numel / outer;
  out.resize_batched(n, output_shape);
  s.out.resize(static_cast<size_t>(out_numel));
  int64_t start = 0;
  for (size_t k = 0; k < in.size(); ++k) {
    const TensorQuant& iq = L.inputs[k];
    const int64_t numel = n * shape_numel(input_shapes[k]);
    QLITE_CHECK(in[k]->numel() == numel, "QAT " + L.name + ": input " + std::to_string(k) + " does not match its shape");
    const int64_t block = numel / outer;
    s.in.resize(static_cast<size_t>(numel));
    quantize_values(numel, in[k]->f32(), iq, s.in.data());
    if (iq.scale != L.output.scale || iq.zero_point != L.output.zero_point) {
      const ref::RequantizeParams rp =
          ref::make_requantize_params(iq.scale, iq.zero_point, L.output.scale, L.output.zero_point);
      ref::requantize_int8(rp, numel, s.in.data(), s.in.data());
    }
    for (int64_t o = 0; o < outer; ++o)
      std::copy(s.in.data() + o * block, s.in.data() + (o + 1) * block, s.out.data() + o * out_block + start);
    start += block;
  }
  dequantize_values(out_numel, s.out.data(), L.output, out.f32());
}

void run_integer_activation(const LoweredQuant& L, const Tensor& x, Tensor& out, const Shape& output_shape,
                            IntegerScratch& s) {
  QLITE_CHECK(L.op == LoweredOp::kActivation && L.inputs.size() == 1,
              "run_integer_activation: " + L.name + " is not an activation op");
  const int64_t numel = x.numel();
  out.resize(x.shape());
  s.in.resize(static_cast<size_t>(numel));
  s.out.resize(static_cast<size_t>(numel));
  const TensorQuant& iq = L.inputs[0];
  quantize_values(numel, x.f32(), iq, s.in.data());
  switch (L.spec.op) {
    case OpKind::kSoftmax: {
      const int depth = static_cast<int>(output_shape.back());
      const ref::SoftmaxInt8Params p = ref::make_softmax_params(iq.scale, 1.0f, L.output.scale, L.output.zero_point);
      ref::softmax_int8(p, numel / depth, depth, s.in.data(), s.out.data());
      break;
    }
    case OpKind::kLogistic:
    case OpKind::kTanh: {
      const ref::ByteTable t = ref::make_activation_table(
          L.spec.op == OpKind::kLogistic ? ref::TableFunction::kLogistic : ref::TableFunction::kTanh, true, iq.scale,
          iq.zero_point, L.output.scale, L.output.zero_point);
      ref::lookup_bytes(t, numel, reinterpret_cast<const uint8_t*>(s.in.data()), reinterpret_cast<uint8_t*>(s.out.data()));
      break;
    }
    case OpKind::kHardSwish: {
      const ref::HardSwishParams p =
          ref::make_hard_swish_params(true, iq.scale, iq.zero_point, L.output.scale, L.output.zero_point);
      ref::hard_swish_int8(p, numel, s.in.data(), s.out.data());
      break;
    }
    case OpKind::kRelu: {  // RELU / RELU6: TFLite's ReluX, requantizing to the output's parameters
      const float hi = L.spec.activation == Activation::kRelu6 ? 6.0f : std::numeric_limits<float>::infinity();
      const ref::ReluQuantParams p =
          ref::make_relu_params(0.0f, hi, iq.scale, iq.zero_point, L.output.scale, L.output.zero_point, -128, 127);
      for (int64_t i = 0; i < numel; ++i)
        s.out[static_cast<size_t>(i)] = static_cast<int8_t>(ref::relu_quantized(p, s.in[static_cast<size_t>(i)]));
      break;
    }
    default:
      throw Error("QAT " + L.name + ": no int8 kernel for " + op_kind_name(L.spec.op));
  }
  dequantize_values(numel, s.out.data(), L.output, out.f32());
}

}  // namespace qlite::quant::detail
