// THE definition of qlite's fixed-point requantization (docs/QUANTIZATION.md,
// "Requantization"). Reference kernels, SIMD kernels, QAT integer evaluation
// and the runtime all include this header; nothing else may redefine it.
//
// The names follow TFLite/gemmlowp (QuantizeMultiplier, SaturatingRounding-
// DoublingHighMul, RoundingDivideByPOT, MultiplyByQuantizedMultiplier) in
// snake_case. Two rounding forms exist, each used by the ops whose TFLite 2.9
// x86 kernels use it (docs/QUANTIZATION.md): CONV_2D and FULLY_CONNECTED
// requantize with the round-half-up form of ruy, everything else with the
// gemmlowp double-rounding form. The effective multipliers of
// conv and fully connected are formed here too, exactly as TFLite 2.9 forms
// them, so that kernels, runtime, QAT and converter cannot drift apart.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

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
  QLITE_CHECK(std::isfinite(m) && m >= 0.0,
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
  QLITE_CHECK(shift <= 31, "quantize_multiplier: multiplier " + std::to_string(m) + " is too large");
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

// MultiplyByQuantizedMultiplier as ruy computes it (round half up in both
// steps): hi = (x * 2^left * M0 + 2^30) >> 31, out = (hi + 2^(right-1)) >> right.
// Why: TFLite 2.9 on x86 runs int8 CONV_2D and FULLY_CONNECTED through ruy's
// AVX2 / AVX-512 GEMM kernels, which requantize this way; exact equality with
// TFLite needs the same arithmetic (tests/runtime/tflite_rounding_test.cpp
// pins it against the real library). hi equals gemmlowp's SRDHM; the results
// differ from the double-rounding form only where x * M is a negative half
// after the first step (e.g. x = -699189, M0 = 1371267411, shift -13: this
// form gives one more). The sum in the second step is formed in int64, which
// equals ruy's int32 sum with its overflow fix-up (2^(31 - right)).
constexpr int32_t multiply_by_quantized_multiplier_half_up(int32_t x, int32_t multiplier, int shift) {
  const int left = shift > 0 ? shift : 0;
  const int right = shift > 0 ? 0 : -shift;
  const int32_t shifted = static_cast<int32_t>(static_cast<uint32_t>(x) << left);
  // >> on negative int64 is an arithmetic shift (floor), defined since C++20.
  // The one product that overflows the high half saturates, as SRDHM does.
  const int64_t hi = shifted == multiplier && shifted == std::numeric_limits<int32_t>::min()
                         ? int64_t{std::numeric_limits<int32_t>::max()}
                         : (int64_t{shifted} * multiplier + (int64_t{1} << 30)) >> 31;
  if (right == 0) return static_cast<int32_t>(hi);
  return static_cast<int32_t>((hi + (int64_t{1} << (right - 1))) >> right);
}

constexpr int32_t multiply_by_quantized_multiplier_half_up(int32_t x, QuantizedMultiplier m) {
  return multiply_by_quantized_multiplier_half_up(x, m.multiplier, m.shift);
}

// Which form an op requantizes with (see the top of this file).
enum class Rounding : uint8_t {
  kDoubleRounding,  // gemmlowp SRDHM + RoundingDivideByPOT: DEPTHWISE_CONV_2D, ADD, MEAN, ...
  kHalfUp,          // ruy: CONV_2D, FULLY_CONNECTED
};

constexpr int32_t multiply_by_quantized_multiplier(int32_t x, QuantizedMultiplier m, Rounding r) {
  return r == Rounding::kHalfUp ? multiply_by_quantized_multiplier_half_up(x, m)
                                : multiply_by_quantized_multiplier(x, m);
}

// Effective real multipliers M = input_scale * weight_scale / output_scale of
// the weighted ops, from the float scales stored in the .tflite file.
//
// CONV_2D and DEPTHWISE_CONV_2D (TFLite 2.9 PopulateConvolutionQuantization-
// Params): every factor widened to double, product and quotient in double.
inline double conv_effective_multiplier(float input_scale, float weight_scale, float output_scale) {
  return static_cast<double>(input_scale) * static_cast<double>(weight_scale) / static_cast<double>(output_scale);
}

// FULLY_CONNECTED with per-tensor weights (TFLite 2.9 GetQuantizedConvolution-
// Multipler): input_scale * weight_scale is a float product (both operands are
// float) that is only then widened and divided in double. The float rounding
// of the product can move M0 by a few units, which changes outputs at ties.
inline double fully_connected_effective_multiplier(float input_scale, float weight_scale, float output_scale) {
  const float product = input_scale * weight_scale;
  return static_cast<double>(product) / static_cast<double>(output_scale);
}

namespace detail {
inline void check_op_scales(float input_scale, const std::vector<float>& weight_scales, float output_scale,
                            const char* what) {
  QLITE_CHECK(std::isfinite(input_scale) && input_scale > 0.0f, std::string(what) + ": input scale must be > 0");
  QLITE_CHECK(std::isfinite(output_scale) && output_scale > 0.0f, std::string(what) + ": output scale must be > 0");
  QLITE_CHECK(!weight_scales.empty(), std::string(what) + ": no weight scales");
  for (size_t c = 0; c < weight_scales.size(); ++c)
    QLITE_CHECK(std::isfinite(weight_scales[c]) && weight_scales[c] >= 0.0f,
                std::string(what) + ": weight scale of channel " + std::to_string(c) + " must be finite and >= 0");
}
}  // namespace detail

// Quantized multipliers of CONV_2D / DEPTHWISE_CONV_2D: one per weight scale
// (per channel, or a single one for per-tensor weights).
inline std::vector<QuantizedMultiplier> conv_multipliers(float input_scale, const std::vector<float>& weight_scales,
                                                         float output_scale) {
  detail::check_op_scales(input_scale, weight_scales, output_scale, "conv_multipliers");
  std::vector<QuantizedMultiplier> r;
  r.reserve(weight_scales.size());
  for (float ws : weight_scales)
    r.push_back(quantize_multiplier(conv_effective_multiplier(input_scale, ws, output_scale)));
  return r;
}

// Quantized multipliers of FULLY_CONNECTED. Per-tensor weights (what TFLite
// 2.9 runs): the float-product formula above. Per-channel weights are a qlite
// extension that TFLite 2.9 does not run; they use the conv formula.
inline std::vector<QuantizedMultiplier> fully_connected_multipliers(float input_scale,
                                                                    const std::vector<float>& weight_scales,
                                                                    float output_scale) {
  detail::check_op_scales(input_scale, weight_scales, output_scale, "fully_connected_multipliers");
  if (weight_scales.size() != 1) return conv_multipliers(input_scale, weight_scales, output_scale);
  return {quantize_multiplier(fully_connected_effective_multiplier(input_scale, weight_scales[0], output_scale))};
}


struct ActRange {
  int32_t min = -128;
  int32_t max = 127;
};

// TFLite's CalculateActivationRangeQuantized: real bounds r map to
// zp + round(r / scale) computed in float (scale is the float from the file),
// intersected with [qmin, qmax]. Defaults to int8.
inline ActRange fused_activation_range(Activation act, float scale, int32_t zero_point,
                                       int32_t qmin = -128, int32_t qmax = 127) {
  QLITE_CHECK(std::isfinite(scale) && scale > 0.0f,
              "fused_activation_range: output scale must be finite and > 0");
  QLITE_CHECK(qmin <= zero_point && zero_point <= qmax,
              "fused_activation_range: zero point " + std::to_string(zero_point) + " outside [" +
                  std::to_string(qmin) + ", " + std::to_string(qmax) + "]");
  // r / scale overflows int64, even float, for a tiny scale; saturating first
  // changes nothing after the clamp to [qmin, qmax] below (found by fuzzing:
  // the cast was undefined).
  auto quantize = [&](float r) -> int64_t {
    const float q = std::clamp(std::round(r / scale), -0x1p62f, 0x1p62f);
    return int64_t{zero_point} + static_cast<int64_t>(q);
  };
  auto clamp_q = [&](int64_t v) {
    return static_cast<int32_t>(std::clamp<int64_t>(v, qmin, qmax));
  };
  ActRange r{qmin, qmax};
  switch (act) {
    case Activation::kLinear:
      break;
    case Activation::kRelu:
      r.min = std::max(qmin, zero_point);
      break;
    case Activation::kRelu6:
      r.min = std::max(qmin, zero_point);
      r.max = clamp_q(std::min<int64_t>(qmax, quantize(6.0f)));
      break;
    case Activation::kReluN1To1:
      r.min = clamp_q(std::max<int64_t>(qmin, quantize(-1.0f)));
      r.max = clamp_q(std::min<int64_t>(qmax, quantize(1.0f)));
      break;
    case Activation::kTanh:
    case Activation::kSignBit:
    case Activation::kSigmoid:
    case Activation::kSoftmax:
    case Activation::kHardSwish:
      throw Error(std::string("fused_activation_range: ") + activation_label(act) +
                  " is not a clamp; no integer kernel fuses it");
  }
  return r;
}

// Float bounds of a fused activation (for the float reference kernels).
struct FloatActRange {
  float min = -std::numeric_limits<float>::infinity();
  float max = std::numeric_limits<float>::infinity();
};

// Whether act is a clamp, i.e. fused_activation_range_f32 accepts it.
constexpr bool is_clamp_activation(Activation act) {
  return act == Activation::kLinear || act == Activation::kRelu || act == Activation::kRelu6 ||
         act == Activation::kReluN1To1;
}

constexpr FloatActRange fused_activation_range_f32(Activation act) {
  switch (act) {
    case Activation::kLinear: return {};
    case Activation::kRelu: return {0.0f, std::numeric_limits<float>::infinity()};
    case Activation::kRelu6: return {0.0f, 6.0f};
    case Activation::kReluN1To1: return {-1.0f, 1.0f};
    case Activation::kTanh:
    case Activation::kSignBit:
    case Activation::kSigmoid:
    case Activation::kSoftmax:
    case Activation::kHardSwish:
      throw Error(std::string("fused_activation_range_f32: ") + activation_label(act) +
                  " is not a clamp; no float kernel fuses it");
  }
  return {};
}

}  // namespace qlite::ref
