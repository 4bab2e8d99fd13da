// Reference uint8 kernels: the spec of the legacy (TF1-era) uint8 asymmetric
// scheme as TensorFlow Lite 2.9 runs it on x86 (docs/QUANTIZATION.md,
// "uint8 models"). Activations and weights are uint8 with per-tensor scales
// and zero points in [0, 255]; the weights' zero point is usually not 0.
// Plain loops, every assumption checked; the optimized paths (which run these
// ops through the int8 kernels, see kernels/int8_kernels_x86.h) are judged by
// exact equality with these.
//
// The params structs are the int8 ones (int8_kernels.h) read in the uint8
// domain: zero points and the activation range lie in [0, 255].
#pragma once

#include <cstdint>
#include <vector>

#include "kernels/reference/int8_kernels.h"

namespace qlite::ref {

// The multiplier of a uint8 CONV_2D, DEPTHWISE_CONV_2D or FULLY_CONNECTED:
// TFLite 2.9 takes its scalar (legacy) multiplier for uint8 inputs,
// GetQuantizedConvolutionMultipler: float product input_scale *
// weight_scale, widened to double, divided by the output scale in double.
std::vector<QuantizedMultiplier> make_uint8_requant(float input_scale, float weight_scale, float output_scale);

// acc = bias + sum (w - weight_zp) * (x - input_zp) over the taps inside the
// input; out = clamp(MBQM(acc) + output_zp, act) in [0, 255].
// CONV_2D and FULLY_CONNECTED requantize round half up (TFLite's ruy GEMM,
// as for int8), DEPTHWISE_CONV_2D with double rounding.
void conv2d_uint8(const ConvInt8Params& p, int32_t weight_zero_point, const uint8_t* input, const uint8_t* weights,
                  const int32_t* bias, uint8_t* output);
void depthwise_conv2d_uint8(const DepthwiseInt8Params& p, int32_t weight_zero_point, const uint8_t* input,
                            const uint8_t* weights, const int32_t* bias, uint8_t* output);
void fully_connected_uint8(const FullyConnectedInt8Params& p, int32_t weight_zero_point, const uint8_t* input,
                           const uint8_t* weights, const int32_t* bias, uint8_t* output);

// AVERAGE_POOL_2D uint8 (TFLite's legacy uint8 pool): the sum of the taps
// inside the input, (sum + count / 2) / count (all terms non-negative: half
// up), clamped to the activation range. MAX_POOL_2D: the maximum, clamped.
void average_pool2d_uint8(const PoolInt8Params& p, const uint8_t* input, uint8_t* output);
void max_pool2d_uint8(const PoolInt8Params& p, const uint8_t* input, uint8_t* output);

// SOFTMAX uint8 -> uint8 over the last dimension: TFLite 2.9's x86 kernel
// (optimized_ops::Softmax<uint8_t, uint8_t>): the int8 path's float table
// (make_softmax_params; output scale 1/256, zero point 0), but each output is
// quantized as (int)(prob + 0.5f) -- QuantizeSoftmaxOutput<uint8_t> off
// aarch64 -- which ignores the zero point (TFLite requires 0) and rounds the
// float sum, then clamped to [0, 255].
void softmax_uint8(const SoftmaxInt8Params& p, int64_t outer, int depth, const uint8_t* in, uint8_t* out);

// ADD uint8 (TFLite's legacy uint8 add): the int8 scheme (AddInt8Params,
// left_shift 20, double rounding) with zero points and the activation range
// in the uint8 domain. make_add_params_uint8 forms the same multipliers as
// make_add_params.
AddInt8Params make_add_params_uint8(float scale1, int32_t zp1, float scale2, int32_t zp2, float out_scale,
                                    int32_t out_zp, Activation act = Activation::kLinear);
void add_uint8(const AddInt8Params& p, int64_t n, const uint8_t* a, const uint8_t* b, uint8_t* output);
// The int8-domain params of the same op (every zero point and bound - 128):
// ADD of the flipped bytes through the int8 kernels.
AddInt8Params add_params_int8_domain(AddInt8Params p);

// MEAN uint8 over H and W (TFLite 2.9's reference kernel, x86). The method
// is chosen as for int8 (tflite_mean_method); kTruncatedMean and
// kFloatRescale compute as for int8 with uint8 bounds. kRequantizeThenDivide
// is the legacy uint8 Mean (reference_ops::Mean for uint8), one rounding:
//   M = QuantizeMultiplier(double(in_scale / (float(n) * out_scale))),
//   t = in_zp * in_scale / out_scale (float), bias = out_zp - (int)(t +- 0.5f),
//   out = clamp(MBQM(raw_sum, M) + bias, 0, 255)  (double rounding).
MeanInt8Params make_mean_params_uint8(int batch, int h, int w, int c, float input_scale, int32_t input_zero_point,
                                      float output_scale, int32_t output_zero_point, MeanInt8Method method);
uint8_t mean_uint8_from_sum(const MeanInt8Params& p, int32_t raw_sum);
void mean_hw_uint8(const MeanInt8Params& p, const uint8_t* input, uint8_t* output);

// uint8 x with zero point z is int8 x - 128 with zero point z - 128: the
// byte-wise map between the two (an xor with 0x80, its own inverse).
void flip_uint8_int8(int64_t n, const void* in, void* out);

}  // namespace qlite::ref
