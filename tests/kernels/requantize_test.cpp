// requantize.h against hand-computed cases and independent formulations:
// SRDHM(a, b) == floor(a*b / 2^31 + 1/2) (exact in int64), RoundingDivideByPOT
// == roundl(x / 2^e) with ties away from zero (exact in long double); the
// round-half-up form against floorl(v + 1/2) per step in long double and
// against a single int128 shift; the effective multipliers of conv and fully
// connected against values produced by a separate float32 model.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <limits>
#include <vector>

#include "kernels/reference/requantize.h"
#include "qlite/core.h"

namespace qlite::ref {
namespace {

constexpr int32_t kMin = std::numeric_limits<int32_t>::min();
constexpr int32_t kMax = std::numeric_limits<int32_t>::max();

// Independent oracles.
int32_t srdhm_oracle(int32_t a, int32_t b) {
  if (a == kMin && b == kMin) return kMax;
  const int64_t ab = int64_t{a} * b;
  return static_cast<int32_t>((ab + (int64_t{1} << 30)) >> 31);  // arithmetic shift == floor
}
int32_t rdbpot_oracle(int32_t x, int e) {
  return static_cast<int32_t>(std::roundl(static_cast<long double>(x) / std::ldexp(1.0L, e)));
}
int32_t mbqm_oracle(int32_t x, int32_t m, int shift) {
  const int left = std::max(shift, 0);
  const int64_t wide = int64_t{x} * (int64_t{1} << left);
  const int32_t wrapped = static_cast<int32_t>(static_cast<uint32_t>(static_cast<uint64_t>(wide)));
  return rdbpot_oracle(srdhm_oracle(wrapped, m), std::max(-shift, 0));
}

TEST(QuantizeMultiplier, HandComputed) {
  // 0.5 = 0.5 * 2^0 -> 2^30, shift 0.
  EXPECT_EQ(quantize_multiplier(0.5).multiplier, 1 << 30);
  EXPECT_EQ(quantize_multiplier(0.5).shift, 0);
  // 1.0 = 0.5 * 2^1.
  EXPECT_EQ(quantize_multiplier(1.0).multiplier, 1 << 30);
  EXPECT_EQ(quantize_multiplier(1.0).shift, 1);
  // 0.75 * 2^31 = 1610612736 exactly.
  EXPECT_EQ(quantize_multiplier(0.75).multiplier, 1610612736);
  EXPECT_EQ(quantize_multiplier(0.75).shift, 0);
  // 0.3 = 0.6 * 2^-1; 0.6 * 2^31 = 1288490188.8 -> 1288490189.
  EXPECT_EQ(quantize_multiplier(0.3).multiplier, 1288490189);
  EXPECT_EQ(quantize_multiplier(0.3).shift, -1);
  // 0.125 = 0.5 * 2^-2.
  EXPECT_EQ(quantize_multiplier(0.125).multiplier, 1 << 30);
  EXPECT_EQ(quantize_multiplier(0.125).shift, -2);
  // Zero.
  EXPECT_EQ(quantize_multiplier(0.0).multiplier, 0);
  EXPECT_EQ(quantize_multiplier(0.0).shift, 0);
}

TEST(QuantizeMultiplier, RoundsUpTo2Pow31) {
  // q = 1 - 2^-40: q * 2^31 = 2^31 - 2^-9 rounds to 2^31, so M0 = 2^30, shift + 1.
  const QuantizedMultiplier m = quantize_multiplier(1.0 - std::ldexp(1.0, -40));
  EXPECT_EQ(m.multiplier, 1 << 30);
  EXPECT_EQ(m.shift, 1);
  const QuantizedMultiplier m2 = quantize_multiplier(0.5 * (1.0 - std::ldexp(1.0, -40)));
  EXPECT_EQ(m2.multiplier, 1 << 30);
  EXPECT_EQ(m2.shift, 0);
}

TEST(QuantizeMultiplier, TinyFlushesToZero) {
  // 2^-40 = 0.5 * 2^-39: shift -39 < -31.
  const QuantizedMultiplier m = quantize_multiplier(std::ldexp(1.0, -40));
  EXPECT_EQ(m.multiplier, 0);
  EXPECT_EQ(m.shift, 0);
  // 2^-32 = 0.5 * 2^-31 is the smallest kept.
  const QuantizedMultiplier k = quantize_multiplier(std::ldexp(1.0, -32));
  EXPECT_EQ(k.multiplier, 1 << 30);
  EXPECT_EQ(k.shift, -31);
  EXPECT_EQ(multiply_by_quantized_multiplier(12345, m), 0);
}

TEST(QuantizeMultiplier, RejectsBadInput) {
  EXPECT_THROW(quantize_multiplier(-0.5), Error);
  EXPECT_THROW(quantize_multiplier(std::nan("")), Error);
  EXPECT_THROW(quantize_multiplier(std::numeric_limits<double>::infinity()), Error);
  EXPECT_THROW(quantize_multiplier(std::ldexp(1.0, 40)), Error);
}

TEST(Srdhm, HandComputed) {
  EXPECT_EQ(saturating_rounding_doubling_high_mul(kMin, kMin), kMax);
  // 2^30 * 2^30 / 2^31 = 2^29.
  EXPECT_EQ(saturating_rounding_doubling_high_mul(1 << 30, 1 << 30), 1 << 29);
  // 3 * 2^30 / 2^31 = 1.5 -> 2; -1.5 -> -1 (gemmlowp's nudge 1 - 2^30 for negatives).
  EXPECT_EQ(saturating_rounding_doubling_high_mul(3, 1 << 30), 2);
  EXPECT_EQ(saturating_rounding_doubling_high_mul(-3, 1 << 30), -1);
  // -2.5 -> -2, 2.5 -> 3.
  EXPECT_EQ(saturating_rounding_doubling_high_mul(-5, 1 << 30), -2);
  EXPECT_EQ(saturating_rounding_doubling_high_mul(5, 1 << 30), 3);
  // kMin * kMax / 2^31 = -(2^31 - 1) exactly.
  EXPECT_EQ(saturating_rounding_doubling_high_mul(kMin, kMax), -kMax);
  static_assert(saturating_rounding_doubling_high_mul(kMin, kMin) == kMax);
}

TEST(RoundingDivideByPot, TiesAwayFromZero) {
  EXPECT_EQ(rounding_divide_by_pot(3, 1), 2);     // 1.5
  EXPECT_EQ(rounding_divide_by_pot(-3, 1), -2);   // -1.5
  EXPECT_EQ(rounding_divide_by_pot(-5, 1), -3);   // -2.5
  EXPECT_EQ(rounding_divide_by_pot(-5, 2), -1);   // -1.25
  EXPECT_EQ(rounding_divide_by_pot(-6, 2), -2);   // -1.5
  EXPECT_EQ(rounding_divide_by_pot(-7, 2), -2);   // -1.75
  EXPECT_EQ(rounding_divide_by_pot(-2, 2), -1);   // -0.5
  EXPECT_EQ(rounding_divide_by_pot(2, 2), 1);     // 0.5
  EXPECT_EQ(rounding_divide_by_pot(1, 2), 0);     // 0.25
  EXPECT_EQ(rounding_divide_by_pot(-1, 2), 0);    // -0.25
  EXPECT_EQ(rounding_divide_by_pot(17, 0), 17);
  EXPECT_EQ(rounding_divide_by_pot(kMin, 31), -1);
  EXPECT_EQ(rounding_divide_by_pot(kMax, 31), 1);
  static_assert(rounding_divide_by_pot(-3, 1) == -2);
}

TEST(MultiplyByQuantizedMultiplier, HandComputed) {
  // 15 * 0.125: SRDHM(15, 2^30) = 7.5 -> 8, then 8 / 4 = 2.
  EXPECT_EQ(multiply_by_quantized_multiplier(15, quantize_multiplier(0.125)), 2);
  // 17 * 0.125 = 2.125: 8.5 -> 9, 9 / 4 = 2.25 -> 2.
  EXPECT_EQ(multiply_by_quantized_multiplier(17, quantize_multiplier(0.125)), 2);
  // Double rounding: 13 * 0.125 = 1.625 -> SRDHM 6.5 -> 7, 7 / 4 = 1.75 -> 2.
  EXPECT_EQ(multiply_by_quantized_multiplier(13, quantize_multiplier(0.125)), 2);
  // -12 * 0.125 = -1.5: SRDHM -6, -6 / 4 = -1.5 -> -2 (away from zero).
  EXPECT_EQ(multiply_by_quantized_multiplier(-12, quantize_multiplier(0.125)), -2);
  // Left shift: 100 * 3.0 (= 0.75 * 2^2) = 300.
  EXPECT_EQ(multiply_by_quantized_multiplier(100, quantize_multiplier(3.0)), 300);
  // Saturation through SRDHM: kMin * (M0 = kMin is impossible) -> check extreme x.
  EXPECT_EQ(multiply_by_quantized_multiplier(kMin, quantize_multiplier(0.5)), kMin / 2);
}

TEST(MultiplyByQuantizedMultiplier, RandomMatchesIndependentForm) {
  Rng rng(1234);
  for (int i = 0; i < 200000; ++i) {
    int32_t x;
    switch (i % 3) {
      case 0: x = static_cast<int32_t>(rng.next_u64()); break;                          // full range
      case 1: x = static_cast<int32_t>(rng.below(1u << 25)) - (1 << 24); break;         // accumulators
      default: x = static_cast<int32_t>(rng.below(2001)) - 1000; break;                 // small, many ties
    }
    // Multipliers from 2^-34 to 2^12, including exact powers of two.
    double m = std::ldexp(0.5 + 0.5 * rng.uniform(), static_cast<int>(rng.below(47)) - 34);
    if (i % 7 == 0) m = std::ldexp(1.0, static_cast<int>(rng.below(40)) - 32);
    const QuantizedMultiplier q = quantize_multiplier(m);
    ASSERT_EQ(multiply_by_quantized_multiplier(x, q), mbqm_oracle(x, q.multiplier, q.shift))
        << "x=" << x << " m=" << m;
    const int32_t a = static_cast<int32_t>(rng.next_u64());
    const int32_t b = (i % 11 == 0) ? kMin : static_cast<int32_t>(rng.next_u64());
    ASSERT_EQ(saturating_rounding_doubling_high_mul(a, b), srdhm_oracle(a, b));
    const int e = static_cast<int>(rng.below(32));
    ASSERT_EQ(rounding_divide_by_pot(a, e), rdbpot_oracle(a, e)) << a << " " << e;
    // Against the real product when nothing wraps: two roundings, at most 1 off.
    if (q.multiplier != 0 && std::abs(static_cast<double>(x) * m) < 1e9) {
      const long double exact = static_cast<long double>(x) * q.multiplier * std::ldexp(1.0L, q.shift - 31);
      ASSERT_LE(std::fabs(static_cast<long double>(multiply_by_quantized_multiplier(x, q)) - exact), 1.0L);
    }
  }
}

// ---- round half up (ruy; CONV_2D and FULLY_CONNECTED) ----------------------

TEST(MultiplyByQuantizedMultiplierHalfUp, HandComputed) {
  const QuantizedMultiplier eighth{1 << 30, -2};  // 0.125
  // 12 * 0.125 = 1.5: hi = 6, 6 / 4 = 1.5 -> 2 (both forms).
  EXPECT_EQ(multiply_by_quantized_multiplier_half_up(12, eighth), 2);
  EXPECT_EQ(multiply_by_quantized_multiplier(12, eighth), 2);
  // -12 * 0.125 = -1.5: hi = -6, -6 / 4 = -1.5 -> -1 (up); double rounding -2.
  EXPECT_EQ(multiply_by_quantized_multiplier_half_up(-12, eighth), -1);
  EXPECT_EQ(multiply_by_quantized_multiplier(-12, eighth), -2);
  // +-0.5: 4 -> hi 2 -> 0.5 -> 1; -4 -> hi -2 -> -0.5 -> 0 (double rounding -1).
  EXPECT_EQ(multiply_by_quantized_multiplier_half_up(4, eighth), 1);
  EXPECT_EQ(multiply_by_quantized_multiplier_half_up(-4, eighth), 0);
  EXPECT_EQ(multiply_by_quantized_multiplier(-4, eighth), -1);
  // -0.25 and -0.75 are no ties: -2 -> hi -1 -> 0; -6 -> hi -3 -> -1.
  EXPECT_EQ(multiply_by_quantized_multiplier_half_up(-2, eighth), 0);
  EXPECT_EQ(multiply_by_quantized_multiplier_half_up(-6, eighth), -1);
  // A tie in the first step only (shift 0, M = 0.5): +-1.5 -> 2 and -1, the
  // same as gemmlowp's SRDHM, whose negative nudge also rounds -1.5 up.
  EXPECT_EQ(multiply_by_quantized_multiplier_half_up(3, 1 << 30, 0), 2);
  EXPECT_EQ(multiply_by_quantized_multiplier_half_up(-3, 1 << 30, 0), -1);
  EXPECT_EQ(multiply_by_quantized_multiplier(-3, 1 << 30, 0), -1);
  // M = 0.25 (shift -1): -5 -> hi = floor(-2.5 + 0.5) = -2 -> -2 / 2 = -1 exactly;
  // 5 -> hi = 3 -> 1.5 -> 2.
  EXPECT_EQ(multiply_by_quantized_multiplier_half_up(-5, 1 << 30, -1), -1);
  EXPECT_EQ(multiply_by_quantized_multiplier_half_up(5, 1 << 30, -1), 2);
  // The case found against TFLite 2.9: -699189 * 1371267411 = -958775089829679;
  // hi = floor((that + 2^30) / 2^31) = -446464 = -54.5 * 2^13, a negative tie:
  // -54 half up (what TFLite computes), -55 with double rounding.
  EXPECT_EQ(multiply_by_quantized_multiplier_half_up(-699189, 1371267411, -13), -54);
  EXPECT_EQ(multiply_by_quantized_multiplier(-699189, 1371267411, -13), -55);
  // Left shift: 100 * 3.0 (0.75 * 2^2) = 300.
  EXPECT_EQ(multiply_by_quantized_multiplier_half_up(100, 1610612736, 2), 300);
  // Right shift 31, M0 = 2^30: kMax -> hi 2^30 -> (2^30 + 2^30) >> 31 = 1;
  // kMin -> hi -2^30 -> (-2^30 + 2^30) >> 31 = 0 (double rounding: -0.5 -> -1).
  EXPECT_EQ(multiply_by_quantized_multiplier_half_up(kMax, 1 << 30, -31), 1);
  EXPECT_EQ(multiply_by_quantized_multiplier_half_up(kMin, 1 << 30, -31), 0);
  EXPECT_EQ(multiply_by_quantized_multiplier(kMin, 1 << 30, -31), -1);
  // The saturating product: hi = 2^31 - 1; >> 1 rounds to 2^30.
  EXPECT_EQ(multiply_by_quantized_multiplier_half_up(kMin, kMin, 0), kMax);
  EXPECT_EQ(multiply_by_quantized_multiplier_half_up(kMin, kMin, -1), 1 << 30);
  // The Rounding selector picks the forms.
  EXPECT_EQ(multiply_by_quantized_multiplier(-12, eighth, Rounding::kHalfUp), -1);
  EXPECT_EQ(multiply_by_quantized_multiplier(-12, eighth, Rounding::kDoubleRounding), -2);
  static_assert(multiply_by_quantized_multiplier_half_up(-12, 1 << 30, -2) == -1);
}

// Two models of the half-up form that share no code with requantize.h.
int32_t wrap_left(int32_t x, int left) {
  return static_cast<int32_t>(static_cast<uint32_t>(static_cast<uint64_t>(int64_t{x} * (int64_t{1} << left))));
}
// Step by step in long double (64-bit mantissa: every value below is exact).
int32_t half_up_long_double(int32_t x, int32_t m, int shift) {
  const long double p = static_cast<long double>(wrap_left(x, std::max(shift, 0))) * m;
  long double hi = std::floor(p / std::ldexp(1.0L, 31) + 0.5L);
  if (hi > kMax) hi = kMax;  // the saturating product
  const int right = std::max(-shift, 0);
  return static_cast<int32_t>(right == 0 ? hi : std::floor(hi / std::ldexp(1.0L, right) + 0.5L));
}
// Both roundings folded into one floor division of the int128 product:
// floor((floor((p + 2^30) / 2^31) + 2^(r-1)) / 2^r) == floor((p + 2^30 + 2^(30+r)) / 2^(31+r)).
int32_t half_up_int128(int32_t x, int32_t m, int shift) {
  const __int128 p = static_cast<__int128>(wrap_left(x, std::max(shift, 0))) * m;
  const int right = std::max(-shift, 0);
  const __int128 sum = p + (__int128{1} << 30) + (right > 0 ? __int128{1} << (30 + right) : 0);
  const __int128 d = __int128{1} << (31 + right);
  __int128 q = sum / d;
  if (sum % d != 0 && sum < 0) --q;  // floor, not truncation
  return static_cast<int32_t>(q);
}

TEST(MultiplyByQuantizedMultiplierHalfUp, RandomMatchesIndependentModels) {
  Rng rng(4321);
  int ties_differ = 0;
  for (int i = 0; i < 200000; ++i) {
    int32_t x;
    switch (i % 3) {
      case 0: x = static_cast<int32_t>(rng.next_u64()); break;
      case 1: x = static_cast<int32_t>(rng.below(1u << 25)) - (1 << 24); break;
      default: x = static_cast<int32_t>(rng.below(2001)) - 1000; break;
    }
    int32_t m0 = static_cast<int32_t>((int64_t{1} << 30) + static_cast<int64_t>(rng.below(int64_t{1} << 30)));
    if (i % 5 == 0) m0 = 1 << 30;  // powers of two: many exact ties
    if (i % 97 == 0) m0 = kMax;
    const int shift = static_cast<int>(rng.below(63)) - 31;
    const int32_t got = multiply_by_quantized_multiplier_half_up(x, m0, shift);
    ASSERT_EQ(got, half_up_long_double(x, m0, shift)) << x << " " << m0 << " " << shift;
    ASSERT_EQ(got, half_up_int128(x, m0, shift)) << x << " " << m0 << " " << shift;
    // Against double rounding: equal except on a negative tie of the second
    // step, where half up is exactly one more.
    const int32_t dbl = multiply_by_quantized_multiplier(x, m0, shift);
    if (got != dbl) {
      const int right = std::max(-shift, 0);
      const int32_t hi = saturating_rounding_doubling_high_mul(wrap_left(x, std::max(shift, 0)), m0);
      ASSERT_EQ(got, dbl + 1);
      ASSERT_LT(hi, 0);
      ASSERT_GT(right, 0);
      ASSERT_EQ(static_cast<uint32_t>(hi) & ((uint32_t{1} << right) - 1), uint32_t{1} << (right - 1));
      ++ties_differ;
    }
  }
  EXPECT_GT(ties_differ, 0);  // the sweep did reach the cases that matter
  ASSERT_EQ(multiply_by_quantized_multiplier_half_up(kMin, kMin, -5), half_up_long_double(kMin, kMin, -5));
}

// ---- effective multipliers of conv and fully connected ----------------------

TEST(EffectiveMultipliers, ConvInDoubleFullyConnectedFromFloatProduct) {
  // Expected values from a separate model (Python: float32 via struct
  // packing, frexp and floor(q * 2^31 + 1/2)), for scales 0.01f, 0.001f, 0.01f.
  // Conv: 0.01f * 0.001f / 0.01f in double.
  const std::vector<QuantizedMultiplier> conv = conv_multipliers(0.01f, {0.001f}, 0.01f);
  ASSERT_EQ(conv.size(), 1u);
  EXPECT_EQ(conv[0].multiplier, 1099511680);
  EXPECT_EQ(conv[0].shift, -9);
  // Fully connected: float(0.01f * 0.001f) / 0.01f -- the float product moves M0.
  const std::vector<QuantizedMultiplier> fc = fully_connected_multipliers(0.01f, {0.001f}, 0.01f);
  ASSERT_EQ(fc.size(), 1u);
  EXPECT_EQ(fc[0].multiplier, 1099511725);
  EXPECT_EQ(fc[0].shift, -9);
  // Same model, output scale 0.1f.
  EXPECT_EQ(conv_multipliers(0.01f, {0.001f}, 0.1f)[0].multiplier, 1759218622);
  EXPECT_EQ(fully_connected_multipliers(0.01f, {0.001f}, 0.1f)[0].multiplier, 1759218694);
  EXPECT_EQ(fully_connected_multipliers(0.01f, {0.001f}, 0.1f)[0].shift, -13);
  // Exact binary scales agree in both: 0.5 * 0.25 / 1 = 0.125.
  EXPECT_EQ(conv_multipliers(0.5f, {0.25f}, 1.0f)[0].multiplier, 1 << 30);
  EXPECT_EQ(fully_connected_multipliers(0.5f, {0.25f}, 1.0f)[0].shift, -2);
  // Per channel: one multiplier per scale; fully connected per channel (a
  // qlite extension TFLite 2.9 does not run) uses the conv formula.
  const auto pc = fully_connected_multipliers(0.01f, {0.001f, 0.5f}, 0.01f);
  ASSERT_EQ(pc.size(), 2u);
  EXPECT_EQ(pc[0].multiplier, 1099511680);
  EXPECT_EQ(pc[1].multiplier, 1 << 30);  // 0.01f * 0.5f / 0.01f = 0.5 exactly
  EXPECT_EQ(pc[1].shift, 0);
  EXPECT_DOUBLE_EQ(conv_effective_multiplier(0.5f, 0.25f, 2.0f), 0.0625);
  EXPECT_DOUBLE_EQ(fully_connected_effective_multiplier(0.5f, 0.25f, 2.0f), 0.0625);
}

TEST(EffectiveMultipliers, RejectBadScales) {
  EXPECT_THROW(conv_multipliers(0.0f, {1.0f}, 1.0f), Error);
  EXPECT_THROW(conv_multipliers(1.0f, {1.0f}, -1.0f), Error);
  EXPECT_THROW(conv_multipliers(1.0f, {}, 1.0f), Error);
  EXPECT_THROW(fully_connected_multipliers(1.0f, {std::nanf("")}, 1.0f), Error);
  EXPECT_THROW(fully_connected_multipliers(std::numeric_limits<float>::infinity(), {1.0f}, 1.0f), Error);
  // A zero weight scale (an all-zero channel) is allowed: multiplier 0.
  EXPECT_EQ(conv_multipliers(1.0f, {0.0f}, 1.0f)[0].multiplier, 0);
}

TEST(ActivationRange, Int8) {
  ActRange r = fused_activation_range(Activation::kLinear, 0.1f, 5);
  EXPECT_EQ(r.min, -128);
  EXPECT_EQ(r.max, 127);
  r = fused_activation_range(Activation::kRelu, 0.1f, 5);
  EXPECT_EQ(r.min, 5);
  EXPECT_EQ(r.max, 127);
  // 6 / 0.1 = 60 -> 5 + 60 = 65.
  r = fused_activation_range(Activation::kRelu6, 0.1f, 5);
  EXPECT_EQ(r.min, 5);
  EXPECT_EQ(r.max, 65);
  // 6 / 0.01 = 600 -> capped at 127.
  r = fused_activation_range(Activation::kRelu6, 0.01f, -128);
  EXPECT_EQ(r.min, -128);
  EXPECT_EQ(r.max, 127);
  // 6 / (6 / 255) = 255 -> -128 + 255 = 127.
  r = fused_activation_range(Activation::kRelu6, 6.0f / 255.0f, -128);
  EXPECT_EQ(r.max, 127);
  r = fused_activation_range(Activation::kReluN1To1, 0.1f, 0);
  EXPECT_EQ(r.min, -10);
  EXPECT_EQ(r.max, 10);
  EXPECT_THROW(fused_activation_range(Activation::kRelu, 0.0f, 0), Error);
  EXPECT_THROW(fused_activation_range(Activation::kRelu, 1.0f, 200), Error);
  // Scales so small that r / scale leaves int64 (and float): the bounds
  // saturate, with no undefined conversion (UBSan checks; found by fuzzing).
  const float tiny = std::numeric_limits<float>::denorm_min();
  r = fused_activation_range(Activation::kRelu6, tiny, 3);
  EXPECT_EQ(r.min, 3);
  EXPECT_EQ(r.max, 127);
  r = fused_activation_range(Activation::kReluN1To1, 1e-30f, 0);
  EXPECT_EQ(r.min, -128);
  EXPECT_EQ(r.max, 127);
}

}  // namespace
}  // namespace qlite::ref
