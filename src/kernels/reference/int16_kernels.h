// Reference kernels for TFLite's "16x8" quantization: int16 activations
// (symmetric, zero point 0) with int8 weights and an int64 (or int32) bias, as
// TensorFlow Lite 2.9 computes CONV_2D and FULLY_CONNECTED for them
// (reference_integer_ops::ConvPerChannel / FullyConnected for int16_t data).
//
// TFLite instantiates these kernels on the bias type, and the two differ:
// - int64 bias: a 64-bit accumulator, requantized with TFLite's int64
//   MultiplyByQuantizedMultiplier, which first reduces the 31-bit multiplier
//   to 15 bits (rounded) and then rounds once, half up:
//     m15 = M0 < 0x7FFF0000 ? (M0 + 2^15) >> 16 : 0x7FFF
//     out = (acc * m15 + 2^(14 - shift)) >> (15 - shift)
// - int32 bias, or none: a 32-bit accumulator that wraps around where the sum
//   leaves int32 (as TFLite 2.9's does, measured: AccumulatorsBeyondInt32-
//   MatchTfLite), requantized in ONE rounding with the full 31-bit
//   multiplier: out = (acc * M0 + 2^(30 - shift)) >> (31 - shift).
// Neither is the int8 kernels' arithmetic (requantize.h): gemmlowp's double
// rounding gave 47 and ruy's two-step half-up 48 mismatching files of 300
// against TFLite 2.9, this form 0.
#pragma once

#include <cstdint>
#include <vector>

#include "kernels/reference/int8_kernels.h"

namespace qlite::ref {

// TFLite 2.9's MultiplyByQuantizedMultiplier(int64_t x, int32_t M0, int shift).
// Defined for |x| < 2^47 and shift in [-31, 7], as TFLite asserts; the 16x8
// kernels reach larger accumulators only with int64 biases near their limits,
// which TFLite does not guard either: the product is computed in 128 bits and
// truncated to int32 as TFLite's int64 arithmetic would (wrap-around) so that
// no input is undefined behaviour here.
int32_t multiply_by_quantized_multiplier_int64(int64_t x, int32_t multiplier, int shift);

// TFLite's CheckedLog2, in float as it computes it: true when |log2 x -
// round(log2 x)| < 1e-3, with the rounded exponent in *log2_result (0 for a
// non-finite logarithm, which is never a power of two).
bool checked_log2(float x, int* log2_result);

// The int32-accumulator requantization above (single rounding, full multiplier).
int32_t multiply_by_quantized_multiplier_single_round(int32_t x, int32_t multiplier, int shift);

// int16 in and out (zero points 0), int8 weights OHWI (per-channel or
// per-tensor scales: p.requant has out_c entries or 1), bias of out_c
// entries in int64 (bias64) or int32 (bias32), at most one of them given.
// p.input_zero_point and p.output_zero_point must be 0; p.act is in int16's
// range (fused_activation_range(..., -32768, 32767)).
void conv2d_int16x8(const ConvInt8Params& p, const int16_t* input, const int8_t* weights, const int64_t* bias64,
                    const int32_t* bias32, int16_t* output);

// [batch, in] x [out, in]^T, int16 in and out (zero points 0), int8 weights
// with a per-tensor scale (p.requant has one entry), int64 or int32 bias.
void fully_connected_int16x8(const FullyConnectedInt8Params& p, const int16_t* input, const int8_t* weights,
                             const int64_t* bias64, const int32_t* bias32, int16_t* output);

// ADD of two int16 tensors (zero points 0), as TFLite 2.9's add.cc chooses:
// - pot: every scale a power of two (CheckedLog2: |log2 s - round| < 1e-3)
//   and AddOptions.pot_scale_int16 set (the schema's default): the input
//   with the larger scale is added as is, the other is divided by 2^shift
//   (gemmlowp RoundingDivideByPOT on int16), the sum saturates to int16;
// - otherwise the general rescaling of the int8 ADD (add_int8) with
//   left_shift 15 instead of 20.
struct AddInt16Params {
  bool pot = false;
  AddInt8Params general;               // when !pot
  int input1_shift = 0, input2_shift = 0;  // when pot: <= 0, one of them 0
  ActRange act;
};
// Throws Error naming what TFLite refuses: a zero point other than 0, or, in
// the pot case, an input whose scale exceeds the output's (a positive shift)
// or two inputs that both need shifting.
AddInt16Params make_add_params_int16(float scale1, int32_t zp1, float scale2, int32_t zp2, float out_scale,
                                     int32_t out_zp, Activation act, bool pot_scale_int16, const char* op = "ADD");
void add_int16(const AddInt16Params& p, int64_t n, const int16_t* a, const int16_t* b, int16_t* output);
// SUB's power-of-two path (sub.cc Sub16), with parameters from
// make_add_params_int16(..., "SUB") whose pot is set: the same shifts as ADD,
// the saturating difference instead of the sum. (SUB's general int16 path is
// math_kernels.h sub_quantized.)
void sub_int16_pot(const AddInt16Params& p, int64_t n, const int16_t* a, const int16_t* b, int16_t* output);

}  // namespace qlite::ref
