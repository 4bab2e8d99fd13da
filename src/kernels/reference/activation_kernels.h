// Reference LOGISTIC, TANH and HARD_SWISH for float32, int8 and uint8: THE
// spec of these ops (docs/QUANTIZATION.md, "Per-op rules"), bit-exact with
// TensorFlow Lite 2.9's builtin kernels for int8 and uint8
// (tests/runtime/tflite_activation_ops_test.cpp).
//
// LOGISTIC and TANH: TFLite 2.9's builtin op resolver registers the
// "generic optimized" kernels (activations.cc: Register_LOGISTIC() and
// Register_TANH() return the *_GENERIC_OPT registrations), which for int8 and
// uint8 evaluate a 256-entry table built at prepare from float arithmetic
// (PopulateLookupTable), not the fixed-point gemmlowp paths
// (reference_integer_ops::Logistic / Tanh, Logistic16bitPrecision). qlite builds
// the same table (make_activation_table).
//
// HARD_SWISH: TFLite's int16 fixed-point arithmetic (HardSwishParams), one
// value at a time (hard_swish_quantized). Every 8-bit op here is a function of
// one 8-bit input, so the runtime evaluates all of them through a 256-entry
// byte table made from these definitions at prepare (lookup_bytes).
#pragma once

#include <array>
#include <cstdint>

namespace qlite::ref {

// out[i] = table[(uint8_t)in[i]]: int8 tensors are looked up by their byte.
struct ByteTable {
  std::array<uint8_t, 256> v{};
};
void lookup_bytes(const ByteTable& t, int64_t n, const uint8_t* in, uint8_t* out);

// static_cast<int32_t>(float) as x86-64 computes it (cvttss2si): truncation
// toward zero, and INT32_MIN for NaN and for values outside int32 (C++ leaves
// those undefined; TFLite's table construction meets them for extreme scales).
int32_t x86_float_to_int32(float x);

enum class TableFunction : uint8_t {
  kLogistic,  // 1 / (1 + expf(-x)), in float
  kTanh,      // tanhf(x)
};
// TFLite 2.9's PopulateLookupTable<T> for T = int8_t (is_signed) or uint8_t,
// every step in float: for each q in T's range,
//   x = in_scale * (float)(q - in_zp);  y = f(x);
//   r = roundf(y * (1 / out_scale));     v = x86_float_to_int32(r + out_zp);
//   table[(uint8_t)q] = clamp(v, T's range).
// Scales must be finite and > 0; zero points inside T's range.
ByteTable make_activation_table(TableFunction f, bool is_signed, float in_scale, int32_t in_zp, float out_scale,
                                int32_t out_zp);

// TFLite's HardSwishParams (activations.cc HardSwishPrepare): the multipliers
// in int16 fixed point, from float quotients.
struct HardSwishParams {
  int16_t input_zero_point = 0;
  int16_t output_zero_point = 0;
  // in_scale / (128 * out_scale), in [0, 1): TFLite requires exponent <= 0.
  int16_t output_multiplier_fixedpoint_int16 = 0;
  int output_multiplier_exponent = 0;
  // in_scale / 128 / (3 / 32768): maps the input onto [-3, 3] -> [-32768, 32768].
  int16_t reluish_multiplier_fixedpoint_int16 = 0;
  int reluish_multiplier_exponent = 0;
};
// Throws Error (naming the limit) when TFLite 2.9 refuses the scales (the
// output multiplier's exponent > 0) or would shift left by 31 bits or more (input
// scale above about 2.5e7), and for non-finite or non-positive scales.
// is_signed: int8 zero points in [-128, 127], else uint8 in [0, 255].
HardSwishParams make_hard_swish_params(bool is_signed, float in_scale, int32_t in_zp, float out_scale,
                                       int32_t out_zp);
// One quantized value, TFLite 2.9's reference_ops::HardSwish step by step in
// int16 (its optimized x86 kernel is the same scalar loop); the result is
// clamped to [qmin, qmax].
int32_t hard_swish_quantized(const HardSwishParams& p, int32_t q, int32_t qmin, int32_t qmax);
void hard_swish_int8(const HardSwishParams& p, int64_t n, const int8_t* in, int8_t* out);
void hard_swish_uint8(const HardSwishParams& p, int64_t n, const uint8_t* in, uint8_t* out);
// table[(uint8_t)q] = hard_swish_quantized(q) for every q of the type.
ByteTable make_hard_swish_table(const HardSwishParams& p, bool is_signed);

// The int16 fixed-point helpers, as TFLite 2.9 / gemmlowp compute them on
// int16_t (exposed for the tests).
int16_t saturating_rounding_doubling_high_mul_i16(int16_t a, int16_t b);
int16_t saturating_doubling_high_mul_i16(int16_t a, int16_t b);  // truncates toward 0
int16_t saturating_left_shift_i16(int16_t v, int amount);         // amount in [0, 30]
// gemmlowp::RoundingDivideByPOT<int16_t>; exponent in [0, 31]. From 16 on the
// int16 mask (2^e - 1 truncated to int16) is -1, so the result is 1 for
// x >= 0 and -1 for x < 0, as in TFLite.
int16_t rounding_divide_by_pot_i16(int16_t x, int exponent);

// float32, element by element, as TFLite's scalar code writes them:
// logistic 1.0f / (1.0f + expf(-x)); tanh tanhf(x);
// hard swish x * min(6, max(0, x + 3)) / 6.
void logistic_f32(int64_t n, const float* in, float* out);
void tanh_f32(int64_t n, const float* in, float* out);
void hard_swish_f32(int64_t n, const float* in, float* out);

}  // namespace qlite::ref
