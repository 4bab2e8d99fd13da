// Quantized variants of math ops as TensorFlow Lite 2.9's x86 build computes
// them: uint8 DIV (div.cc, reference_ops::DivElementwise), int8 RSQRT (elementwise.cc, gemmlowp int32 fixed point), int8 / uint8
// LOG_SOFTMAX (activations.cc, optimized_ops::LogSoftmax: a float table) and
// int8 / uint8 L2_NORMALIZATION (l2norm.cc, fixed point). These functions are
// the spec of qlite's kernels for them.
#pragma once

#include <cstdint>

#include "kernels/reference/activation_kernels.h"
#include "kernels/reference/requantize.h"

namespace qlite::ref {

// TFLite's GetInvSqrtQuantizedMultiplierExp(input, reverse_shift = -1):
// 1 / sqrt(input) as a multiplier and a (left) shift, by five Newton-Raphson
// steps in gemmlowp FixedPoint<int32, 3>. input <= 1 gives (INT32_MAX, 0).
QuantizedMultiplier inv_sqrt_multiplier(int32_t input);

// int8 RSQRT: the output multiplier 1 / (sqrt(input_scale) * output_scale)
// (the product in float, as TFLite forms it) and the zero points.
struct RsqrtInt8Params {
  QuantizedMultiplier out;
  int32_t input_zero_point = 0, output_zero_point = 0;
};
RsqrtInt8Params make_rsqrt_int8_params(float in_scale, int32_t in_zp, float out_scale, int32_t out_zp);
// One value: q - zp <= 0 is not defined (TFLite fails the invoke for q < zp)
// except q == zp, which gives 127.
int8_t rsqrt_int8(const RsqrtInt8Params& p, int8_t q);

// LOG_SOFTMAX of 8-bit rows (output scale 16/256, zero point 255 for uint8,
// 127 for int8, as TFLite requires): per row, sum_exp = the float sum of
// table[255 - (max - q)] with table[255 - d] = expf(-s_in * d); then
// rint((s_in / s_out) * q - (s_in * max + logf(sum_exp)) / s_out) + zp, in
// float, converted as x86 does and clamped.
struct LogSoftmaxQuantParams {
  float table[256] = {};
  float input_scale = 1.0f, output_scale = 16.0f / 256;
  int32_t output_zero_point = 127;
};
// Throws Error naming what TFLite refuses (another output quantization).
LogSoftmaxQuantParams make_log_softmax_params(bool is_signed, float in_scale, float out_scale, int32_t out_zp);
void log_softmax_int8(const LogSoftmaxQuantParams& p, int64_t outer, int depth, const int8_t* in, int8_t* out);
void log_softmax_uint8(const LogSoftmaxQuantParams& p, int64_t outer, int depth, const uint8_t* in, uint8_t* out);

// L2_NORMALIZATION of 8-bit rows (output scale 1/128; zero point 0 for int8,
// 128 for uint8, as TFLite requires): the int32 sum of squares (wrapping) of
// d = q - zp_in gives inv_sqrt_multiplier(sum); int8: d times it with 7 more
// bits of left shift; uint8: 128 d times it, plus 128; clamped.
void l2_normalization_int8(int32_t input_zero_point, int64_t outer, int depth, const int8_t* in, int8_t* out);
void l2_normalization_uint8(int32_t input_zero_point, int64_t outer, int depth, const uint8_t* in, uint8_t* out);

// gemmlowp's one_over_one_plus_x_for_x_in_0_1 on int32 Q0.31 (three
// Newton-Raphson steps in Q2.29) and TFLite's GetReciprocal(x, 31, &shift):
// 1 / x for x >= 1 as a Q0.31 value and the count of bits above the unit.
int32_t one_over_one_plus_x_q31(int32_t a);
int32_t reciprocal_q31(int32_t x, int* num_bits_over_unit);

// uint8 DIV: QuantizeMultiplier(float(s1 / float(s2 * so))); per element
// d1 = q1 - z1, d2 = q2 - z2 (signs moved to d1 when d2 < 0), d1 times the
// reciprocal of d2 normalised by d1's leading sign bits, then the output
// multiplier, + zo, clamped to the activation range. d2 == 0 is undefined
// (TFLite's behaviour is undefined there too): the runtime refuses it.
struct DivUint8Params {
  int32_t in1_offset = 0, in2_offset = 0, out_offset = 0;
  QuantizedMultiplier out;
  ActRange act;
};
// Throws Error for multipliers TFLite's kernel cannot apply (>= 2^22).
DivUint8Params make_div_uint8_params(float s1, int32_t z1, float s2, int32_t z2, float so, int32_t zo, Activation act);
uint8_t div_uint8(const DivUint8Params& p, uint8_t a, uint8_t b);

}  // namespace qlite::ref
