// Reference int8 kernels: THE spec of qlite's integer ops (docs/QUANTIZATION.md,
// "Per-op rules"). Plain loops, every assumption checked; optimized
// kernels are judged by exact equality with these.
//
// Layouts: activations NHWC; conv weights OHWI; depthwise weights 1HWC with
// C = in_c * depth_multiplier; fully-connected weights [out, in]. Weights are
// symmetric (zero point 0). Params are plain structs with everything
// precomputed; the make_* helpers derive them from scales and zero points.
#pragma once

#include <cmath>
#include <cstdint>
#include <vector>

#include "kernels/reference/geometry.h"
#include "kernels/reference/requantize.h"

namespace qlite::ref {

// Per-output-channel requantization: one entry per channel, or a single entry
// applied to every channel (per-tensor weights). make_requant is for CONV_2D
// and DEPTHWISE_CONV_2D (= conv_multipliers), make_fully_connected_requant for
// FULLY_CONNECTED (= fully_connected_multipliers); both in requantize.h.
std::vector<QuantizedMultiplier> make_requant(float input_scale, const std::vector<float>& weight_scales,
                                              float output_scale);
std::vector<QuantizedMultiplier> make_fully_connected_requant(float input_scale,
                                                              const std::vector<float>& weight_scales,
                                                              float output_scale);

// Rounding: conv2d_int8 and fully_connected_int8 requantize with
// multiply_by_quantized_multiplier_half_up (TFLite 2.9's ruy GEMM on x86),
// depthwise_conv2d_int8 and the other ops with the double-rounding form.

struct ConvInt8Params {
  WindowGeometry g;  // kernel_h/w = weight spatial size, out_c = weight O
  int32_t input_zero_point = 0;
  int32_t output_zero_point = 0;
  std::vector<QuantizedMultiplier> requant;  // size out_c or 1
  ActRange act;
};
// weights OHWI [out_c, kernel_h, kernel_w, in_c]; bias [out_c] or nullptr.
void conv2d_int8(const ConvInt8Params& p, const int8_t* input, const int8_t* weights,
                 const int32_t* bias, int8_t* output);

struct DepthwiseInt8Params {
  WindowGeometry g;  // out_c must equal in_c * depth_multiplier
  int depth_multiplier = 1;
  int32_t input_zero_point = 0;
  int32_t output_zero_point = 0;
  std::vector<QuantizedMultiplier> requant;  // size out_c or 1
  ActRange act;
};
// weights 1HWC [1, kernel_h, kernel_w, out_c]; bias [out_c] or nullptr.
void depthwise_conv2d_int8(const DepthwiseInt8Params& p, const int8_t* input, const int8_t* weights,
                           const int32_t* bias, int8_t* output);

struct FullyConnectedInt8Params {
  int batch = 1, in_features = 0, out_features = 0;
  int32_t input_zero_point = 0;
  int32_t output_zero_point = 0;
  std::vector<QuantizedMultiplier> requant;  // size out_features or 1
  ActRange act;
};
// input [batch, in]; weights [out, in]; bias [out] or nullptr.
void fully_connected_int8(const FullyConnectedInt8Params& p, const int8_t* input, const int8_t* weights,
                          const int32_t* bias, int8_t* output);

// Pools keep the input's scale and zero point; out_c must equal in_c.
struct PoolInt8Params {
  WindowGeometry g;
  ActRange act;
};
void max_pool2d_int8(const PoolInt8Params& p, const int8_t* input, int8_t* output);
// Average over the taps inside the input, rounded half away from zero.
void average_pool2d_int8(const PoolInt8Params& p, const int8_t* input, int8_t* output);

// MEAN over H and W of an NHWC tensor: output [batch, 1, 1, c] (or [batch, c]).
// Bit-exact with TensorFlow Lite 2.9, whose x86 build registers MEAN's
// reference kernel (reduce.cc: Register_MEAN is the optimized one only under
// USE_NEON). Its EvalMean takes one of three int8 paths; qlite has each one,
// chosen at prepare time exactly as TFLite chooses (tflite_mean_method).
// sum = the int32 sum of the h*w raw int8 inputs of one channel, n = h*w.
enum class MeanInt8Method : uint8_t {
  // keep_dims and the axes tensor literally {1, 2} or {2, 1}:
  // reference_integer_ops::Mean (integer_ops/mean.h). With M = in_scale /
  // out_scale (double quotient of the floats, QuantizeMultiplier),
  //   a = MBQM(sum - n * in_zp, M)                  (double rounding)
  //   a = a > 0 ? (a + n/2) / n : (a - n/2) / n     (C++ division: half away)
  //   out = clamp(a + out_zp). Two roundings.
  kRequantizeThenDivide,
  // Otherwise, when input and output scale and zero point are equal:
  // reference_ops::Mean<int8_t, int> (reduce.h): out = sum / n, C++ integer
  // division of the RAW sum (zero point included), i.e. truncated toward 0.
  kTruncatedMean,
  // Otherwise: reference_ops::QuantizedMeanOrSum<int8_t, int> (reduce.h), in
  // float: s = in_scale / out_scale, b = -in_zp * s,
  //   out = clamp(round_half_away((float)sum / (float)n * s + b) + out_zp),
  // every step rounded to float (no fused multiply-add).
  kFloatRescale,
};
// The path TFLite 2.9 takes for int8 MEAN of a 4-D input. `axes` as stored in
// the model (before negative axes are resolved: TFLite's keep_dims special
// case compares the raw values, so {-3, -2} takes one of the general paths).
MeanInt8Method tflite_mean_method(bool keep_dims, const std::vector<int32_t>& axes, float input_scale,
                                  int32_t input_zero_point, float output_scale, int32_t output_zero_point);

struct MeanInt8Params {
  int batch = 1, h = 0, w = 0, c = 0;
  MeanInt8Method method = MeanInt8Method::kRequantizeThenDivide;
  int32_t input_zero_point = 0;
  int32_t output_zero_point = 0;
  QuantizedMultiplier requant;  // kRequantizeThenDivide: in_scale / out_scale
  float scale = 1.0f;           // kFloatRescale: in_scale / out_scale, in float
  float bias = 0.0f;            // kFloatRescale: -in_zp * scale, in float
  int32_t int_bias = 0;         // uint8 kRequantizeThenDivide (uint8_kernels.h)
  ActRange act;
};
MeanInt8Params make_mean_params(int batch, int h, int w, int c, float input_scale, int32_t input_zero_point,
                                float output_scale, int32_t output_zero_point, MeanInt8Method method);
// One output from the raw int32 sum of its h*w inputs, by p.method. The x86
// kernels sum with SIMD and finish every output here, so that no path can
// drift from the reference.
int8_t mean_int8_from_sum(const MeanInt8Params& p, int32_t raw_sum);
void mean_hw_int8(const MeanInt8Params& p, const int8_t* input, int8_t* output);

// ADD of two same-shaped tensors, TFLite's left_shift = 20 scheme.
struct AddInt8Params {
  int32_t input1_zero_point = 0, input2_zero_point = 0, output_zero_point = 0;
  int left_shift = 20;
  QuantizedMultiplier input1, input2, output;
  ActRange act;
};
AddInt8Params make_add_params(float scale1, int32_t zp1, float scale2, int32_t zp2, float out_scale,
                              int32_t out_zp, Activation act = Activation::kLinear);
void add_int8(const AddInt8Params& p, int64_t n, const int8_t* a, const int8_t* b, int8_t* output);

// QUANTIZE from float, as TFLite 2.9 computes it on x86 (optimized_ops::
// AffineQuantize): the quotient x / scale in double (the float scale
// widened), rounded half away from zero, converted to int32 the x86 way (NaN
// and anything outside int32 become INT32_MIN), the zero point added with
// 32-bit wrap-around, then clamped to the type. So NaN, +Inf and huge
// positive inputs give the type's minimum when zp >= 0 but its maximum when
// zp < 0 (INT32_MIN + zp wraps); tests/runtime/tflite_quantize_test.cpp pins
// this against the library. The unclamped int32 of one element:
inline int32_t affine_quantize_unclamped(float x, float scale, int32_t zero_point) {
  const double r = std::round(static_cast<double>(x) / static_cast<double>(scale));
  const int32_t i = r >= -2147483648.0 && r < 2147483648.0 ? static_cast<int32_t>(r) : INT32_MIN;  // NaN too
  return static_cast<int32_t>(static_cast<uint32_t>(i) + static_cast<uint32_t>(zero_point));
}
void quantize_f32_to_int8(int64_t n, const float* x, float scale, int32_t zero_point, int8_t* q);
void quantize_f32_to_uint8(int64_t n, const float* x, float scale, int32_t zero_point, uint8_t* q);
// DEQUANTIZE: x = scale * (q - zp), rounded once to float.
void dequantize_int8(int64_t n, const int8_t* q, float scale, int32_t zero_point, float* x);
void dequantize_uint8(int64_t n, const uint8_t* q, float scale, int32_t zero_point, float* x);
void dequantize_f16(int64_t n, const uint16_t* h, float* x);
// The same two for int16 (16x8 models' inputs and outputs).
void quantize_f32_to_int16(int64_t n, const float* x, float scale, int32_t zero_point, int16_t* q);
void dequantize_int16(int64_t n, const int16_t* q, float scale, int32_t zero_point, float* x);
// IEEE binary16 conversions (round to nearest even; NaN stays NaN).
float half_to_float(uint16_t h);
uint16_t float_to_half(float f);

// Requantize (TFLite QUANTIZE with an integer input): q' = clamp(MBQM(q - zp_in,
// in_scale / out_scale) + zp_out).
struct RequantizeParams {
  int32_t input_zero_point = 0, output_zero_point = 0;
  QuantizedMultiplier requant;
};
RequantizeParams make_requantize_params(float in_scale, int32_t in_zp, float out_scale, int32_t out_zp);
void requantize_int8(const RequantizeParams& p, int64_t n, const int8_t* in, int8_t* out);

// SOFTMAX int8 over the last dimension. qlite reproduces TFLite 2.9's default
// x86 kernel (optimized_ops::Softmax with PopulateSoftmaxLookupTable, used when
// TFLITE_SOFTMAX_USE_UINT16_LUT is not defined): a 256-entry float table
// table[255 - d] = expf(-input_scale * beta * d), float sum in input order,
// prob * (1 / (sum * output_scale)) rounded half away from zero, plus the zero
// point. Bit-exact with TFLite wherever expf is the same function (glibc).
struct SoftmaxInt8Params {
  float table[256] = {};
  float output_scale = 1.0f / 256.0f;
  int32_t output_zero_point = -128;
};
SoftmaxInt8Params make_softmax_params(float input_scale, float beta, float output_scale = 1.0f / 256.0f,
                                      int32_t output_zero_point = -128);
void softmax_int8(const SoftmaxInt8Params& p, int64_t outer, int depth, const int8_t* in, int8_t* out);

}  // namespace qlite::ref
