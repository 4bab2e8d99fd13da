// int16 LOGISTIC, TANH and SOFTMAX as TensorFlow Lite 2.9's x86 build runs
// them (activations.cc with the builtin op resolver's generic kernels). These
// functions are the spec of qlite's int16 activations.
//
// LOGISTIC / TANH (input and output zero point 0, output scale 2^-15):
// SigmoidPrepare / TanhPrepare pick one of two arithmetics.
//  - The input scale is a power of two (TFLite's CheckedLog2) with
//    input_left_shift = 12 + log2(scale) equal to 0 (LOGISTIC) or 0 / 1
//    (TANH): gemmlowp's int16 fixed point, input Q3.12 (TANH with shift 1
//    first doubles the input, saturating), output Q0.15 (optimized_ops).
//  - Any other scale: the input is rescaled to 1/(3 * 4096) by an integer
//    multiplier and right shift found at prepare, then read from a 256-entry
//    table of sigmoid(i / 24) in 0.16 with linear interpolation
//    (reference_integer_ops::Logistic / Tanh; tanh(x) = 2 sigmoid(2x) - 1).
//    Where that multiplier does not come out positive (scales below ~1e-13 or
//    above ~1.7e5, where TFLite's double-to-int32 conversion gives 0 or
//    INT32_MIN) TFLite falls back to the fixed-point kernel, and so does this.
//
// SOFTMAX int16 (zero points 0, output scale 2^-15): the difference to the
// row's maximum is rescaled so that [-65535, 0] spans [-10, 0], looked up in
// a 513-entry table of exp over [-10, 0]; the sum's reciprocal comes from a
// table of 1 / (1 + x) over [0, 1] (reference_ops::SoftmaxInt16, common.h
// gen_lut and generic_int16_table_lookup).
#pragma once

#include <array>
#include <cstdint>

#include "kernels/reference/requantize.h"

namespace qlite::ref {

// sigmoid(i / 24) in unsigned 0.16 fixed point, i in [0, 255], the last
// entries saturated at 65535: the table both int16 LUT kernels read.
const std::array<uint16_t, 256>& sigmoid_table_u16();

struct Int16ActivationParams {
  bool lut = false;         // the table path (else gemmlowp fixed point)
  int32_t multiplier = 0;   // lut: input multiplier (> 0)
  int left_shift = 0;       // lut: right shift after the multiply; gemmlowp TANH: != 0 doubles the input
};

// Throw Error naming what TFLite 2.9 refuses: zero points other than 0, an
// output scale other than 2^-15 (LOGISTIC: exactly 1/32768; TANH: CheckedLog2
// of -15), a non-finite or non-positive scale.
Int16ActivationParams make_logistic_int16_params(float in_scale, int32_t in_zp, float out_scale, int32_t out_zp);
Int16ActivationParams make_tanh_int16_params(float in_scale, int32_t in_zp, float out_scale, int32_t out_zp);
void logistic_int16(const Int16ActivationParams& p, int64_t n, const int16_t* in, int16_t* out);
void tanh_int16(const Int16ActivationParams& p, int64_t n, const int16_t* in, int16_t* out);

// The two 513-entry tables of int16 SOFTMAX (the last entry only gives the
// slope of the 512th interval).
struct SoftmaxInt16Params {
  QuantizedMultiplier input;  // input_scale * beta / (10 / 65535)
  std::array<int16_t, 513> exp_lut{};
  std::array<int16_t, 513> one_over_one_plus_x_lut{};
};
// Throws Error naming what TFLite 2.9 refuses: zero points other than 0, an
// output scale not within 0.1% of 1/32768, a multiplier that cannot be
// represented (scale * beta >= ~3e5, or not finite / negative).
SoftmaxInt16Params make_softmax_int16_params(float in_scale, int32_t in_zp, float beta, float out_scale,
                                             int32_t out_zp);
// outer rows of depth values each; depth >= 1.
void softmax_int16(const SoftmaxInt16Params& p, int64_t outer, int depth, const int16_t* in, int16_t* out);

// TFLite's generic_int16_table_lookup on a 513-entry table: the entry at
// 256 + (value >> 7) plus the slope times the low 7 bits, rounded.
int16_t int16_table_lookup(int16_t value, const std::array<int16_t, 513>& lut);

}  // namespace qlite::ref
