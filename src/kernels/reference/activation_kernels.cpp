#include "kernels/reference/activation_kernels.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>

#include "kernels/reference/requantize.h"

namespace qlite::ref {
namespace {

void check_quant(bool is_signed, float scale, int32_t zp, const char* op, const char* what) {
  QLITE_CHECK(std::isfinite(scale) && scale > 0.0f,
              std::string(op) + ": " + what + " scale must be finite and > 0");
  const int32_t lo = is_signed ? -128 : 0, hi = is_signed ? 127 : 255;
  QLITE_CHECK(zp >= lo && zp <= hi, std::string(op) + ": " + what + " zero point " + std::to_string(zp) +
                                        " outside [" + std::to_string(lo) + ", " + std::to_string(hi) + "]");
}

// TFLite's DownScaleInt32ToInt16Multiplier: round a [2^30, 2^31) multiplier
// to its top 16 bits, saturating at INT16_MAX.
int16_t down_scale_to_int16(int32_t m) {
  constexpr int32_t kRoundingOffset = 1 << 15;
  if (m >= std::numeric_limits<int32_t>::max() - kRoundingOffset) return std::numeric_limits<int16_t>::max();
  return static_cast<int16_t>((m + kRoundingOffset) >> 16);
}

}  // namespace

void lookup_bytes(const ByteTable& t, int64_t n, const uint8_t* in, uint8_t* out) {
  QLITE_CHECK(n >= 0, "lookup_bytes: negative size");
  QLITE_CHECK(n == 0 || (in && out), "lookup_bytes: null tensor");
  for (int64_t i = 0; i < n; ++i) out[i] = t.v[in[i]];
}

int32_t x86_float_to_int32(float x) {
  // In range: [-2^31, 2^31). Everything else (and NaN) is the "integer
  // indefinite" value of cvttss2si.
  if (!(x >= -2147483648.0f && x < 2147483648.0f)) return std::numeric_limits<int32_t>::min();
  return static_cast<int32_t>(x);
}

ByteTable make_activation_table(TableFunction f, bool is_signed, float in_scale, int32_t in_zp, float out_scale,
                                int32_t out_zp) {
  const char* op = f == TableFunction::kLogistic ? "logistic table" : "tanh table";
  check_quant(is_signed, in_scale, in_zp, op, "input");
  check_quant(is_signed, out_scale, out_zp, op, "output");
  const int32_t lo = is_signed ? -128 : 0, hi = is_signed ? 127 : 255;
  const float inverse_scale = 1.0f / out_scale;
  ByteTable t;
  for (int32_t q = lo; q <= hi; ++q) {
    const float x = in_scale * static_cast<float>(q - in_zp);
    const float y = f == TableFunction::kLogistic ? 1.0f / (1.0f + std::exp(-x)) : std::tanh(x);
    const float r = std::round(y * inverse_scale);
    const int32_t v = std::clamp(x86_float_to_int32(r + static_cast<float>(out_zp)), lo, hi);
    t.v[static_cast<uint8_t>(q)] = static_cast<uint8_t>(v);  // int8 values stored as their byte
  }
  return t;
}

int16_t saturating_rounding_doubling_high_mul_i16(int16_t a, int16_t b) {
  if (a == b && a == std::numeric_limits<int16_t>::min()) return std::numeric_limits<int16_t>::max();
  const int32_t ab = int32_t{a} * int32_t{b};
  const int32_t nudge = ab >= 0 ? (1 << 14) : (1 - (1 << 14));
  return static_cast<int16_t>((ab + nudge) / (1 << 15));
}

int16_t saturating_doubling_high_mul_i16(int16_t a, int16_t b) {
  if (a == b && a == std::numeric_limits<int16_t>::min()) return std::numeric_limits<int16_t>::max();
  return static_cast<int16_t>((int32_t{a} * int32_t{b}) / (1 << 15));
}

int16_t saturating_left_shift_i16(int16_t v, int amount) {
  QLITE_CHECK(amount >= 0 && amount <= 30, "saturating_left_shift_i16: shift outside [0, 30]");
  const int64_t r = int64_t{v} * (int64_t{1} << amount);
  return static_cast<int16_t>(std::clamp<int64_t>(r, std::numeric_limits<int16_t>::min(),
                                                  std::numeric_limits<int16_t>::max()));
}

int16_t rounding_divide_by_pot_i16(int16_t x, int exponent) {
  QLITE_CHECK(exponent >= 0 && exponent <= 31, "rounding_divide_by_pot_i16: exponent outside [0, 31]");
  // Every intermediate is an int16_t as in gemmlowp's scalar int16 code; the
  // shifts and sums happen in int after the usual promotions.
  const auto mask = static_cast<int16_t>((int64_t{1} << exponent) - 1);
  const auto remainder = static_cast<int16_t>(x & mask);
  const auto threshold = static_cast<int16_t>((mask >> 1) + (x < 0 ? 1 : 0));
  return static_cast<int16_t>((x >> exponent) + (remainder > threshold ? 1 : 0));
}

HardSwishParams make_hard_swish_params(bool is_signed, float in_scale, int32_t in_zp, float out_scale,
                                       int32_t out_zp) {
  check_quant(is_signed, in_scale, in_zp, "hard swish", "input");
  check_quant(is_signed, out_scale, out_zp, "hard swish", "output");
  HardSwishParams p;
  p.input_zero_point = static_cast<int16_t>(in_zp);
  p.output_zero_point = static_cast<int16_t>(out_zp);
  // The same float expressions as TFLite's HardSwishPrepare.
  const float hires_input_scale = (1.0f / 128.0f) * in_scale;
  const float reluish_scale = 3.0f / 32768.0f;
  const float output_multiplier = hires_input_scale / out_scale;
  const float reluish_multiplier = hires_input_scale / reluish_scale;
  int exponent = 0;
  QLITE_CHECK(std::isfinite(output_multiplier) && (std::frexp(output_multiplier, &exponent), exponent <= 0),
              "hard swish: input scale / (128 x output scale) = " + std::to_string(output_multiplier) +
                  " must be below 1 (TensorFlow Lite refuses a positive output multiplier exponent)");
  const QuantizedMultiplier out_m = quantize_multiplier(output_multiplier);
  QLITE_CHECK(out_m.shift <= 0, "hard swish: input scale / (128 x output scale) = " +
                                    std::to_string(output_multiplier) +
                                    " rounds up to 1 (TensorFlow Lite refuses a positive output multiplier exponent)");
  p.output_multiplier_fixedpoint_int16 = down_scale_to_int16(out_m.multiplier);
  p.output_multiplier_exponent = out_m.shift;
  QLITE_CHECK(std::isfinite(reluish_multiplier) && (std::frexp(reluish_multiplier, &exponent), exponent <= 31),
              "hard swish: input scale " + std::to_string(in_scale) +
                  " is too large (the fixed-point rescale to [-3, 3] would shift left by 31 bits or more)");
  const QuantizedMultiplier rel_m = quantize_multiplier(reluish_multiplier);
  QLITE_CHECK(rel_m.shift <= 31, "hard swish: input scale " + std::to_string(in_scale) +
                                     " is too large (the fixed-point rescale to [-3, 3] would shift left by 31 bits or more)");
  p.reluish_multiplier_fixedpoint_int16 = down_scale_to_int16(rel_m.multiplier);
  p.reluish_multiplier_exponent = rel_m.shift;
  return p;
}

int32_t hard_swish_quantized(const HardSwishParams& p, int32_t q, int32_t qmin, int32_t qmax) {
  // Step by step as TFLite's reference_ops::HardSwish, each named value an
  // int16_t. |q - zp| <= 255, so the first two products fit int16.
  const auto input_value = static_cast<int16_t>(q - p.input_zero_point);
  const auto hires = static_cast<int16_t>(input_value * (1 << 7));
  const int16_t preshift_output_scale =
      saturating_rounding_doubling_high_mul_i16(hires, p.output_multiplier_fixedpoint_int16);
  int16_t reluish = hires;
  if (p.reluish_multiplier_exponent > 0)
    reluish = saturating_left_shift_i16(reluish, p.reluish_multiplier_exponent - 1);
  reluish = saturating_rounding_doubling_high_mul_i16(reluish, p.reluish_multiplier_fixedpoint_int16);
  if (p.reluish_multiplier_exponent > 0) reluish = saturating_left_shift_i16(reluish, 1);
  if (p.reluish_multiplier_exponent < 0) reluish = rounding_divide_by_pot_i16(reluish, -p.reluish_multiplier_exponent);
  // [-1, 1] in Q15 -> [0, 1]: (r + 2^15) >> 1 lies in [0, 32767].
  reluish = static_cast<int16_t>((int32_t{reluish} + (1 << 15)) >> 1);
  const int16_t preshift_output = saturating_doubling_high_mul_i16(reluish, preshift_output_scale);
  int16_t out = rounding_divide_by_pot_i16(preshift_output, -p.output_multiplier_exponent);
  // int16 += zero point wraps (modulo 2^16) as TFLite's int16_t does.
  out = static_cast<int16_t>(int32_t{out} + p.output_zero_point);
  return std::clamp<int32_t>(out, qmin, qmax);
}

void hard_swish_int8(const HardSwishParams& p, int64_t n, const int8_t* in, int8_t* out) {
  QLITE_CHECK(n >= 0 && (n == 0 || (in && out)), "hard_swish_int8: invalid arguments");
  for (int64_t i = 0; i < n; ++i) out[i] = static_cast<int8_t>(hard_swish_quantized(p, in[i], -128, 127));
}

void hard_swish_uint8(const HardSwishParams& p, int64_t n, const uint8_t* in, uint8_t* out) {
  QLITE_CHECK(n >= 0 && (n == 0 || (in && out)), "hard_swish_uint8: invalid arguments");
  for (int64_t i = 0; i < n; ++i) out[i] = static_cast<uint8_t>(hard_swish_quantized(p, in[i], 0, 255));
}

ByteTable make_hard_swish_table(const HardSwishParams& p, bool is_signed) {
  const int32_t lo = is_signed ? -128 : 0, hi = is_signed ? 127 : 255;
  ByteTable t;
  for (int32_t q = lo; q <= hi; ++q)
    t.v[static_cast<uint8_t>(q)] = static_cast<uint8_t>(hard_swish_quantized(p, q, lo, hi));
  return t;
}

void logistic_f32(int64_t n, const float* in, float* out) {
  QLITE_CHECK(n >= 0 && (n == 0 || (in && out)), "logistic_f32: invalid arguments");
  for (int64_t i = 0; i < n; ++i) out[i] = 1.0f / (1.0f + std::exp(-in[i]));
}

void tanh_f32(int64_t n, const float* in, float* out) {
  QLITE_CHECK(n >= 0 && (n == 0 || (in && out)), "tanh_f32: invalid arguments");
  for (int64_t i = 0; i < n; ++i) out[i] = std::tanh(in[i]);
}

void hard_swish_f32(int64_t n, const float* in, float* out) {
  QLITE_CHECK(n >= 0 && (n == 0 || (in && out)), "hard_swish_f32: invalid arguments");
  for (int64_t i = 0; i < n; ++i) {
    const float x = in[i];
    out[i] = x * std::min(6.0f, std::max(0.0f, x + 3.0f)) / 6.0f;
  }
}

}  // namespace qlite::ref
