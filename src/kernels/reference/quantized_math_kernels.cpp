// See quantized_math_kernels.h.
#include "kernels/reference/quantized_math_kernels.h"

#include <algorithm>
#include <bit>
#include <cmath>
#include <limits>
#include <string>

namespace qlite::ref {
namespace {

// gemmlowp SaturatingRoundingMultiplyByPOT<e> for e > 0 on int32: x * 2^e,
// saturated.
int32_t saturating_shift_left(int32_t x, int e) {
  const int32_t threshold = static_cast<int32_t>((int64_t{1} << (31 - e)) - 1);
  if (x > threshold) return std::numeric_limits<int32_t>::max();
  if (x < -threshold) return std::numeric_limits<int32_t>::min();
  return static_cast<int32_t>(static_cast<uint32_t>(x) << e);
}

int32_t wrap_sub(int32_t a, int32_t b) { return static_cast<int32_t>(static_cast<uint32_t>(a) - static_cast<uint32_t>(b)); }

}  // namespace

QuantizedMultiplier inv_sqrt_multiplier(int32_t input) {
  QuantizedMultiplier r;
  if (input <= 1) {
    r.multiplier = std::numeric_limits<int32_t>::max();
    r.shift = 0;
    return r;
  }
  int shift = 11;
  while (input >= (1 << 29)) {
    input /= 4;
    ++shift;
  }
  const int max_left_shift_bits = std::countl_zero(static_cast<uint32_t>(input)) - 1;
  const int left_shift_bit_pairs = max_left_shift_bits / 2 - 1;
  shift -= left_shift_bit_pairs;
  input <<= 2 * left_shift_bit_pairs;  // now in [2^27, 2^29)
  // FixedPoint<int32, 3>: raw / 2^28. Products of F3 values are F6, of three F9.
  const int32_t fp_input = input >> 1;
  const int32_t half_input = rounding_divide_by_pot(fp_input, 1);
  const int32_t half_three = (1 << 28) + (1 << 27);  // 1.5
  int32_t x = 1 << 28;                               // 1.0
  for (int i = 0; i < 5; ++i) {
    const int32_t x2 = saturating_rounding_doubling_high_mul(x, x);
    const int32_t x3 = saturating_shift_left(saturating_rounding_doubling_high_mul(x2, x), 6);  // F9 -> F3
    const int32_t a = saturating_rounding_doubling_high_mul(half_three, x);
    const int32_t b = saturating_rounding_doubling_high_mul(half_input, x3);
    x = saturating_shift_left(wrap_sub(a, b), 3);  // F6 -> F3
  }
  x = saturating_rounding_doubling_high_mul(x, 1518500250);  // * sqrt(2) / 2 (F0)
  if (shift < 0) {
    x = static_cast<int32_t>(static_cast<uint32_t>(x) << -shift);
    shift = 0;
  }
  r.multiplier = x;
  r.shift = -shift;  // reverse_shift -1: a right shift becomes a negative left shift
  return r;
}

RsqrtInt8Params make_rsqrt_int8_params(float in_scale, int32_t in_zp, float out_scale, int32_t out_zp) {
  QLITE_CHECK(std::isfinite(in_scale) && in_scale > 0.0f && std::isfinite(out_scale) && out_scale > 0.0f,
              "RSQRT int8: scales must be finite and > 0");
  QLITE_CHECK(in_zp >= -128 && in_zp <= 127 && out_zp >= -128 && out_zp <= 127,
              "RSQRT int8: zero points must lie in [-128, 127]");
  RsqrtInt8Params p;
  const float denominator = std::sqrt(in_scale) * out_scale;  // float, as TFLite's
  p.out = quantize_multiplier(1.0 / static_cast<double>(denominator));
  QLITE_CHECK(p.out.shift - 20 >= -31, "RSQRT int8: output multiplier too small");
  p.input_zero_point = in_zp;
  p.output_zero_point = out_zp;
  return p;
}

int8_t rsqrt_int8(const RsqrtInt8Params& p, int8_t q) {
  const int32_t value = int32_t{q} - p.input_zero_point;
  if (value == 0) return 127;  // "any value close to 0 represents the max output value"
  constexpr int kShift = 20;
  const QuantizedMultiplier inv = inv_sqrt_multiplier(value);
  const int32_t data = multiply_by_quantized_multiplier(1, inv.multiplier, inv.shift + kShift);
  const int32_t out = multiply_by_quantized_multiplier(data, p.out.multiplier, p.out.shift - kShift) + p.output_zero_point;
  return static_cast<int8_t>(std::clamp(out, -128, 127));
}

LogSoftmaxQuantParams make_log_softmax_params(bool is_signed, float in_scale, float out_scale, int32_t out_zp) {
  QLITE_CHECK(std::isfinite(in_scale) && in_scale > 0.0f, "LOG_SOFTMAX: input scale must be finite and > 0");
  QLITE_CHECK(static_cast<double>(out_scale) == 16.0 / 256,
              "LOG_SOFTMAX: output scale must be 16/256 (TensorFlow Lite's fixed LOG_SOFTMAX output), got " +
                  std::to_string(out_scale));
  const int32_t want_zp = is_signed ? 127 : 255;
  QLITE_CHECK(out_zp == want_zp, std::string("LOG_SOFTMAX: ") + (is_signed ? "int8" : "uint8") +
                                     " output zero point must be " + std::to_string(want_zp) + ", got " +
                                     std::to_string(out_zp));
  LogSoftmaxQuantParams p;
  const float scale = -in_scale;  // beta 1, float as PopulateSoftmaxLookupTable
  for (int32_t d = 0; d <= 255; ++d) p.table[255 - d] = std::exp(scale * static_cast<float>(d));
  p.input_scale = in_scale;
  p.output_scale = out_scale;
  p.output_zero_point = out_zp;
  return p;
}

namespace {

template <class Q>
void log_softmax_rows(const LogSoftmaxQuantParams& p, int64_t outer, int depth, const Q* in, Q* out) {
  QLITE_CHECK(outer >= 0 && depth >= 1 && (outer == 0 || (in && out)), "log_softmax: bad shape");
  constexpr int32_t lo = std::numeric_limits<Q>::min(), hi = std::numeric_limits<Q>::max();
  for (int64_t r = 0; r < outer; ++r) {
    const Q* x = in + r * depth;
    Q* y = out + r * depth;
    Q max_val = std::numeric_limits<Q>::min();
    for (int j = 0; j < depth; ++j) max_val = std::max(max_val, x[j]);
    float sum_exp = 0.0f;
    for (int j = 0; j < depth; ++j) sum_exp += p.table[255 - (int32_t{max_val} - int32_t{x[j]})];
    const float log_sum_exp = std::log(sum_exp);
    const float scale = p.input_scale / p.output_scale;
    const float precomputed = (p.input_scale * static_cast<float>(max_val) + log_sum_exp) / p.output_scale;
    for (int j = 0; j < depth; ++j) {
      const float log_prob = scale * static_cast<float>(x[j]) - precomputed;
      const int32_t q = x86_float_to_int32(std::rint(log_prob) + static_cast<float>(p.output_zero_point));
      y[j] = static_cast<Q>(std::clamp(q, lo, hi));
    }
  }
}

// The sum of squares as TFLite's int32 accumulator computes it (wrapping).
template <class Q>
int32_t sum_of_squares(const Q* x, int depth, int32_t zp) {
  uint32_t acc = 0;
  for (int c = 0; c < depth; ++c) {
    const int32_t d = int32_t{x[c]} - zp;
    acc += static_cast<uint32_t>(d * d);
  }
  return static_cast<int32_t>(acc);
}

}  // namespace

void log_softmax_int8(const LogSoftmaxQuantParams& p, int64_t outer, int depth, const int8_t* in, int8_t* out) {
  log_softmax_rows(p, outer, depth, in, out);
}
void log_softmax_uint8(const LogSoftmaxQuantParams& p, int64_t outer, int depth, const uint8_t* in, uint8_t* out) {
  log_softmax_rows(p, outer, depth, in, out);
}

void l2_normalization_int8(int32_t zp, int64_t outer, int depth, const int8_t* in, int8_t* out) {
  QLITE_CHECK(outer >= 0 && depth >= 1 && (outer == 0 || (in && out)) && zp >= -128 && zp <= 127,
              "l2_normalization_int8: bad shape or zero point");
  for (int64_t r = 0; r < outer; ++r) {
    const int8_t* x = in + r * depth;
    const QuantizedMultiplier inv = inv_sqrt_multiplier(sum_of_squares(x, depth, zp));
    for (int c = 0; c < depth; ++c) {
      const int32_t v = multiply_by_quantized_multiplier(int32_t{x[c]} - zp, inv.multiplier, inv.shift + 7);
      out[r * depth + c] = static_cast<int8_t>(std::clamp(v, -128, 127));
    }
  }
}

void l2_normalization_uint8(int32_t zp, int64_t outer, int depth, const uint8_t* in, uint8_t* out) {
  QLITE_CHECK(outer >= 0 && depth >= 1 && (outer == 0 || (in && out)) && zp >= 0 && zp <= 255,
              "l2_normalization_uint8: bad shape or zero point");
  for (int64_t r = 0; r < outer; ++r) {
    const uint8_t* x = in + r * depth;
    const QuantizedMultiplier inv = inv_sqrt_multiplier(sum_of_squares(x, depth, zp));
    for (int c = 0; c < depth; ++c) {
      // MultiplyByQuantizedMultiplierSmallerThanOneExp: the shift is <= 0 here.
      const int32_t v = 128 + multiply_by_quantized_multiplier(128 * (int32_t{x[c]} - zp), inv.multiplier, inv.shift);
      out[r * depth + c] = static_cast<uint8_t>(std::clamp(v, 0, 255));
    }
  }
}

int32_t one_over_one_plus_x_q31(int32_t a) {
  // RoundingHalfSum(a, One) in Q0.31 (One is INT32_MAX there).
  const int64_t sum = int64_t{a} + std::numeric_limits<int32_t>::max();
  const int32_t half_denominator = static_cast<int32_t>((sum + (sum >= 0 ? 1 : -1)) / 2);
  const int32_t c48_17 = 1515870810;       // 48/17 in Q2.29
  const int32_t cneg32_17 = -1010580540;   // -32/17 in Q2.29
  int32_t x = static_cast<int32_t>(static_cast<uint32_t>(c48_17) +
                                   static_cast<uint32_t>(saturating_rounding_doubling_high_mul(half_denominator, cneg32_17)));
  for (int i = 0; i < 3; ++i) {
    const int32_t hdx = saturating_rounding_doubling_high_mul(half_denominator, x);
    const int32_t one_minus = wrap_sub(int32_t{1} << 29, hdx);
    const int32_t step = saturating_shift_left(saturating_rounding_doubling_high_mul(x, one_minus), 2);  // Q4 -> Q2
    x = static_cast<int32_t>(static_cast<uint32_t>(x) + static_cast<uint32_t>(step));
  }
  // ExactMulByPot<-1> keeps the raw value (Q2 read as Q1); Rescale<0> doubles it, saturating.
  return saturating_shift_left(x, 1);
}

int32_t reciprocal_q31(int32_t x, int* num_bits_over_unit) {
  QLITE_CHECK(x >= 1, "reciprocal_q31: x must be >= 1");
  const int headroom_plus_one = std::countl_zero(static_cast<uint32_t>(x));
  *num_bits_over_unit = 31 - headroom_plus_one;
  const int32_t shifted_minus_one =
      static_cast<int32_t>((static_cast<uint32_t>(x) << headroom_plus_one) - (uint32_t{1} << 31));
  return one_over_one_plus_x_q31(shifted_minus_one);
}

DivUint8Params make_div_uint8_params(float s1, int32_t z1, float s2, int32_t z2, float so, int32_t zo, Activation act) {
  for (float sc : {s1, s2, so}) QLITE_CHECK(std::isfinite(sc) && sc > 0.0f, "DIV uint8: scales must be finite and > 0");
  for (int32_t z : {z1, z2, zo}) QLITE_CHECK(z >= 0 && z <= 255, "DIV uint8: zero points must lie in [0, 255]");
  DivUint8Params p;
  const float real = s1 / (s2 * so);  // float, as div.cc forms it
  QLITE_CHECK(std::isfinite(real) && real > 0.0f && real < 4194304.0f,
              "DIV uint8: effective multiplier s1 / (s2 * so) = " + std::to_string(real) + " is out of range");
  p.out = quantize_multiplier(static_cast<double>(real));
  p.in1_offset = -z1;
  p.in2_offset = -z2;
  p.out_offset = zo;
  p.act = fused_activation_range(act, so, zo, 0, 255);
  return p;
}

namespace {

// gemmlowp's RoundingDivideByPOT as TFLite 2.9's uint8 DIV reaches it: with
// the exponent unchecked. A zero dividend (headroom 31) or a small output
// multiplier takes it past 31, where the C++ is undefined; TFLite's x86 build
// then computes the mask (1ll << e) - 1 truncated to int32 (all ones) and
// shifts by e mod 32, as the shift instructions do. That is written out here,
// defined; the result equals TFLite's on every byte pair of the uint8 DIV
// test, dividends equal to their zero point included (0 / d gives zo + 1
// there). Exponents 0..31 are rounding_divide_by_pot's.
int32_t rounding_divide_by_pot_unchecked(int32_t x, int exponent) {
  if (exponent <= 31) return rounding_divide_by_pot(x, exponent);
  const auto mask = static_cast<int32_t>(static_cast<uint32_t>((uint64_t{1} << (exponent & 63)) - 1));
  const int32_t remainder = x & mask;
  const int32_t threshold = (mask >> 1) + (x < 0 ? 1 : 0);
  return (x >> (exponent & 31)) + (remainder > threshold ? 1 : 0);
}

}  // namespace

uint8_t div_uint8(const DivUint8Params& p, uint8_t a, uint8_t b) {
  int32_t v1 = p.in1_offset + a;
  int32_t v2 = p.in2_offset + b;
  QLITE_CHECK(v2 != 0, "div_uint8: division by the zero point");
  if (v2 < 0) v1 = -v1, v2 = -v2;
  int recip_shift = 0;
  const int32_t inv = reciprocal_q31(v2, &recip_shift);
  // CountLeadingSignBits (31 for 0).
  const int headroom = v1 >= 0 ? std::countl_zero(static_cast<uint32_t>(v1)) - 1
                               : std::countl_zero(2 * static_cast<uint32_t>(-v1) - 1);
  const int32_t unscaled = saturating_rounding_doubling_high_mul(
      static_cast<int32_t>(static_cast<uint32_t>(v1) << headroom), inv);  // MultiplyByQuantizedMultiplierGreaterThanOne
  const int total_shift = p.out.shift - recip_shift - headroom;  // <= 0 for multipliers below 2^22
  const int32_t r = p.out_offset + rounding_divide_by_pot_unchecked(
                                       saturating_rounding_doubling_high_mul(unscaled, p.out.multiplier), -total_shift);
  return static_cast<uint8_t>(std::clamp(r, p.act.min, p.act.max));
}

}  // namespace qlite::ref
