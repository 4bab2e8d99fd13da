// THE definition of qlite's fixed-point requantization (QUANT_SPEC.md,
// "Requantization"). Reference kernels, SIMD kernels, QAT integer evaluation
// and the runtime all include this header; nothing else may redefine it.
//
// The names follow TFLite/gemmlowp (QuantizeMultiplier, SaturatingRounding-
// DoublingHighMul, RoundingDivideByPOT, MultiplyByQuantizedMultiplier) in
// snake_case. qlite uses TFLite's default "double rounding" form everywhere.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <string>

#include "qlite/core.h"

namespace qlite::ref {

// real multiplier M ~= multiplier * 2^(shift - 31); multiplier in [2^30, 2^31)
// or 0. shift > 0 means a left shift.
struct QuantizedMultiplier {
  int32_t multiplier = 0;
  int shift = 0;
};

// QuantizeMultiplier. M must be finite and >= 0 (a negative or NaN scale is a
// bug upstream; TFLite would silently produce garbage). M >= 2^31 cannot be
// applied to int32 without overflow, so it is rejected as well.
inline QuantizedMultiplier quantize_multiplier(double m) {
  check(std::isfinite(m) && m >= 0.0,
        "quantize_multiplier: multiplier must be finite and >= 0, got " + std::to_string(m));
  QuantizedMultiplier r;
  if (m == 0.0) return r;
  int shift = 0;
  const double q = std::frexp(m, &shift);  // 0.5 <= q < 1
  // std::round is half away from zero, as TfLiteRound.
  int64_t q_fixed = static_cast<int64_t>(std::round(q * static_cast<double>(int64_t{1} << 31)));
  if (q_fixed == (int64_t{1} << 31)) {
    q_fixed /= 2;
    ++shift;
  }
  if (shift < -31) {  // every bit would be shifted out: flush to zero like TFLite
    shift = 0;
    q_fixed = 0;
  }
  check(shift <= 31, "quantize_multiplier: multiplier " + std::to_string(m) + " is too large");
  r.multiplier = static_cast<int32_t>(q_fixed);
  r.shift = shift;
  return r;
}

// gemmlowp's SaturatingRoundingDoublingHighMul: round(a * b / 2^31) with ties
// away from zero; the single overflowing case saturates.
constexpr int32_t saturating_rounding_doubling_high_mul(int32_t a, int32_t b) {
  if (a == b && a == std::numeric_limits<int32_t>::min()) return std::numeric_limits<int32_t>::max();
  const int64_t ab = static_cast<int64_t>(a) * static_cast<int64_t>(b);
  const int64_t nudge = ab >= 0 ? (int64_t{1} << 30) : (int64_t{1} - (int64_t{1} << 30));
  // C++ integer division truncates toward zero, which is what gemmlowp relies on.
  return static_cast<int32_t>((ab + nudge) / (int64_t{1} << 31));
}

// gemmlowp's RoundingDivideByPOT: x / 2^exponent rounded to nearest, ties away
// from zero. exponent in [0, 31].
constexpr int32_t rounding_divide_by_pot(int32_t x, int exponent) {
  const int32_t mask = static_cast<int32_t>((int64_t{1} << exponent) - 1);
  const int32_t remainder = x & mask;
  const int32_t threshold = (mask >> 1) + (x < 0 ? 1 : 0);
  // >> on a negative int32 is an arithmetic shift (defined since C++20).
  return (x >> exponent) + (remainder > threshold ? 1 : 0);
}

// MultiplyByQuantizedMultiplier, double-rounding form (TFLite default).
// x * 2^left wraps modulo 2^32 exactly as TFLite's int32 code does in practice;
// written through uint32 so that it is defined behaviour (UBSan-clean).
constexpr int32_t multiply_by_quantized_multiplier(int32_t x, int32_t multiplier, int shift) {
  const int left = shift > 0 ? shift : 0;
  const int right = shift > 0 ? 0 : -shift;
  const int32_t shifted = static_cast<int32_t>(static_cast<uint32_t>(x) << left);
  return rounding_divide_by_pot(saturating_rounding_doubling_high_mul(shifted, multiplier), right);
}

constexpr int32_t multiply_by_quantized_multiplier(int32_t x, QuantizedMultiplier m) {
  return multiply_by_quantized_multiplier(x, m.multiplier, m.shift);
}

// Fused activations of TFLite's builtin options.
enum class FusedActivation : uint8_t { kNone, kRelu, kRelu6, kReluN1To1 };

struct ActRange {
  int32_t min = -128;
  int32_t max = 127;
};

// TFLite's CalculateActivationRangeQuantized: real bounds r map to
// zp + round(r / scale) computed in float (scale is the float from the file),
// intersected with [qmin, qmax]. Defaults to int8.
inline ActRange fused_activation_range(FusedActivation act, float scale, int32_t zero_point,
                                       int32_t qmin = -128, int32_t qmax = 127) {
  check(std::isfinite(scale) && scale > 0.0f,
        "fused_activation_range: output scale must be finite and > 0");
  check(qmin <= zero_point && zero_point <= qmax,
        "fused_activation_range: zero point " + std::to_string(zero_point) + " outside [" +
            std::to_string(qmin) + ", " + std::to_string(qmax) + "]");
  auto quantize = [&](float r) -> int64_t {
    return int64_t{zero_point} + static_cast<int64_t>(std::round(r / scale));
  };
  auto clamp_q = [&](int64_t v) {
    return static_cast<int32_t>(std::clamp<int64_t>(v, qmin, qmax));
  };
  ActRange r{qmin, qmax};
  switch (act) {
    case FusedActivation::kNone:
      break;
    case FusedActivation::kRelu:
      r.min = std::max(qmin, zero_point);
      break;
    case FusedActivation::kRelu6:
      r.min = std::max(qmin, zero_point);
      r.max = clamp_q(std::min<int64_t>(qmax, quantize(6.0f)));
      break;
    case FusedActivation::kReluN1To1:
      r.min = clamp_q(std::max<int64_t>(qmin, quantize(-1.0f)));
      r.max = clamp_q(std::min<int64_t>(qmax, quantize(1.0f)));
      break;
  }
  return r;
}

// Float bounds of a fused activation (for the float reference kernels).
struct FloatActRange {
  float min = -std::numeric_limits<float>::infinity();
  float max = std::numeric_limits<float>::infinity();
};

constexpr FloatActRange fused_activation_range_f32(FusedActivation act) {
  switch (act) {
    case FusedActivation::kNone: return {};
    case FusedActivation::kRelu: return {0.0f, std::numeric_limits<float>::infinity()};
    case FusedActivation::kRelu6: return {0.0f, 6.0f};
    case FusedActivation::kReluN1To1: return {-1.0f, 1.0f};
  }
  return {};
}

}  // namespace qlite::ref
