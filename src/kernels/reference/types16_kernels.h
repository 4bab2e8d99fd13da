// Reference kernels for quantized type combinations TensorFlow Lite 2.9 runs
// beside the common ones: int16 pooling, int16 x int16 -> 8-bit MUL, 8-bit ->
// int16 SOFTMAX, MEAN of int16 / int32 / int64 over any axes, and the
// quantized REDUCE_PROD of int8 / int16. Each is written from TFLite 2.9's
// kernel (named per function) and checked against the real library
// (tests/runtime/tflite_types16_test.cpp).
#pragma once

#include <cstdint>

#include "kernels/reference/hybrid_kernels.h"
#include "kernels/reference/int8_kernels.h"
#include "kernels/reference/math_kernels.h"
#include "kernels/reference/matmul_kernels.h"

namespace qlite::ref {

// MAX_POOL_2D / AVERAGE_POOL_2D of int16 (pooling.cc ->
// reference_integer_ops::MaxPool / AveragePool for int16_t): the raw values,
// whatever the input and output quantization (TFLite checks neither for
// int16); the average of the taps inside the input in int32, rounded half away
// from zero, then p.act (in int16's range).
void max_pool2d_int16(const PoolInt8Params& p, const int16_t* input, int16_t* output);
void average_pool2d_int16(const PoolInt8Params& p, const int16_t* input, int16_t* output);

// MUL of two int16 tensors of the same shape into int8 or uint8 (mul.cc
// EvalQuantized -> reference_integer_ops::Mul(int16, int16 -> int8) /
// reference_ops::Mul(int16, int16 -> uint8)): the scales are ignored; the
// values are Q0.15 fixed point, their gemmlowp product (int16
// SaturatingRoundingDoublingHighMul) divided by 2^8 (RoundingDivideByPOT),
// clamped to [act.min - zp, act.max - zp] in int16, plus the output zero point.
int32_t mul_int16_to_8bit_value(int16_t a, int16_t b, int32_t output_zero_point, const ActRange& act);
void mul_int16_to_int8(int64_t n, const int16_t* a, const int16_t* b, int32_t output_zero_point, const ActRange& act,
                       int8_t* out);
void mul_int16_to_uint8(int64_t n, const int16_t* a, const int16_t* b, int32_t output_zero_point, const ActRange& act,
                        uint8_t* out);

// SOFTMAX of int8 or uint8 into int16 (softmax.cc SoftmaxQuantized<In, int16>
// -> optimized_ops::Softmax with PopulateSoftmaxLookupTable): the int8 path's
// float table (make_softmax_params with the int16 output's scale and zero
// point), each probability rounded half away from zero (QuantizeSoftmaxOutput
// for int16: std::round), plus the zero point, clamped to int16.
void softmax_int8_to_int16(const SoftmaxInt8Params& p, int64_t outer, int depth, const int8_t* in, int16_t* out);
void softmax_uint8_to_int16(const SoftmaxInt8Params& p, int64_t outer, int depth, const uint8_t* in, int16_t* out);

// MEAN of int16 (reduce.cc EvalMeanReferenceOps<int16_t>): the same three
// paths as int8 (MeanInt8Method, chosen by tflite_mean_method; the first one
// only for a 4-D input), over any axes: the int32 sum of the raw values (it
// wraps as TFLite's int does), then
// - kRequantizeThenDivide: MBQM(sum - n * zp_in) (int32, double rounding),
//   divided by n half away from zero, plus zp_out, clamped to int16;
// - kTruncatedMean: sum / n truncated (reference_ops::Mean<int16_t, int>);
// - kFloatRescale: QuantizedMeanOrSum's float steps, clamped to int16.
struct MeanInt16Params {
  MeanInt8Method method = MeanInt8Method::kRequantizeThenDivide;
  int64_t count = 1;  // elements per output, > 0
  int32_t input_zero_point = 0, output_zero_point = 0;
  QuantizedMultiplier requant;  // kRequantizeThenDivide
  float scale = 1.0f, bias = 0.0f;  // kFloatRescale
};
MeanInt16Params make_mean_int16_params(MeanInt8Method method, int64_t count, float input_scale,
                                       int32_t input_zero_point, float output_scale, int32_t output_zero_point);
int16_t mean_int16_from_sum(const MeanInt16Params& p, int32_t raw_sum);
void mean_int16(const ReduceGeometry& g, const MeanInt16Params& p, const int16_t* in, int32_t* sums, int16_t* out);
// MEAN of int8 / uint8 over axes other than the spatial pair of a 4-D input
// (int8_kernels.h mean_hw_int8 takes that one): the same sums and steps as
// int16 with the type's limits; p.method must be kTruncatedMean or
// kFloatRescale (TFLite's requantize-then-divide path is for 4-D H, W only).
void mean_int8(const ReduceGeometry& g, const MeanInt16Params& p, const int8_t* in, int32_t* sums, int8_t* out);
void mean_uint8(const ReduceGeometry& g, const MeanInt16Params& p, const uint8_t* in, int32_t* sums, uint8_t* out);
// float MEAN over any axes (reference_ops::Mean<float, float>): the float sum
// in the input's row-major order, divided by float(count).
void mean_f32(const ReduceGeometry& g, const float* in, float* sums, float* out);
// MEAN of int32 / int64 (reference_ops::Mean<int32_t, int64_t> and
// <int64_t, int64_t>): the int64 sum (wrapping), divided by the count with C++
// integer division (truncated toward zero).
void mean_int32(const ReduceGeometry& g, const int32_t* in, int64_t* sums, int32_t* out);
void mean_int64(const ReduceGeometry& g, const int64_t* in, int64_t* sums, int64_t* out);

// REDUCE_PROD of quantized int8 / int16 (reduce.cc EvalQuantizedProd ->
// reference_ops::QuantizedReduceProd): with n = elements per output and
// (M, shift) = QuantizeMultiplier(in_scale / out_scale^(1/n)) (doubles), each
// product is the first (x - zp_in), then p = MBQM64(int64(p) * (x - zp_in))
// in the input's row-major order, and out = clamp(MBQM64(p) + zp_out), with
// TFLite's int64 MultiplyByQuantizedMultiplier (multiply_by_quantized_
// multiplier_int64). shift must be within [-31, 7] (TFLite's assumption,
// checked by make_reduce_prod_params).
struct ReduceProdParams {
  QuantizedMultiplier scaling;
  int32_t input_zero_point = 0, output_zero_point = 0;
};
// Throws Error (naming REDUCE_PROD) when the scaling cannot be represented.
ReduceProdParams make_reduce_prod_params(float input_scale, int32_t input_zero_point, float output_scale,
                                         int32_t output_zero_point, int64_t count);
void reduce_prod_int8(const ReduceGeometry& g, const ReduceProdParams& p, const int8_t* in, int32_t* acc,
                      uint8_t* seen, int8_t* out);
void reduce_prod_int16(const ReduceGeometry& g, const ReduceProdParams& p, const int16_t* in, int32_t* acc,
                       uint8_t* seen, int16_t* out);

}  // namespace qlite::ref

namespace qlite::ref {

// DEPTHWISE_CONV_2D "16x8" (depthwise_conv.cc EvalQuantizedPerChannel16x8 ->
// reference_integer_ops::DepthwiseConvPerChannel for int16_t): int16 input and
// output with zero points 0, int8 weights 1HWC with per-channel (or one)
// multipliers, an int64 bias (or none); the int64 sum of the taps inside the
// image plus the bias, requantized with TFLite's int64
// MultiplyByQuantizedMultiplier (multiply_by_quantized_multiplier_int64),
// clamped to p.act. p.input_zero_point and p.output_zero_point must be 0.
void depthwise_conv2d_int16x8(const DepthwiseInt8Params& p, const int16_t* input, const int8_t* weights,
                              const int64_t* bias, int16_t* output);

// Hybrid DEPTHWISE_CONV_2D (depthwise_conv.cc EvalHybridPerChannel): float
// input and output, int8 weights 1HWC with one scale per output channel. Each
// image is quantized with AsymmetricQuantizeFloats (hybrid_quantize_asymmetric:
// scale s_b, offset z_b); per output, acc = sum over the taps inside the image
// of w * (q - z_b) in int32, out = clamp(float(acc) * (w_scale[c] * s_b) +
// bias[c]) to the fused activation (float).
struct DepthwiseHybridParams {
  WindowGeometry g;  // out_c = in_c * depth_multiplier
  int depth_multiplier = 1;
  std::vector<float> weight_scales;  // out_c entries
  Activation act = Activation::kLinear;
};
// scratch.quantized: batch * in_h * in_w * in_c; scaling and offsets: batch.
void depthwise_conv2d_hybrid(const DepthwiseHybridParams& p, const float* input, const int8_t* weights,
                             const float* bias, const HybridScratch& scratch, float* output);

}  // namespace qlite::ref

namespace qlite::ref {

// BATCH_MATMUL int8 x int8 -> int32 (batch_matmul.cc EvalInt8Int32): the
// int32 sums of (lhs - p.lhs_zero_point) x (rhs - p.rhs_zero_point), wrapping
// as int32 does; no requantization, the output's quantization ignored.
// TFLite 2.9 ignores the operands' zero points too (measured), so the runtime
// passes 0 for both. p.requant, p.out_zero_point and p.rounding are not used.
void batch_matmul_int8_to_int32(const BatchMatMulInt8Params& p, const int8_t* lhs, const int8_t* rhs, int32_t* out);

}  // namespace qlite::ref
