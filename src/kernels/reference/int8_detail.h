// Checks and the final requantize step shared by the reference int8 kernels.
#pragma once

#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "kernels/reference/requantize.h"

namespace qlite::ref::detail {

inline void check_zero_point(int32_t zp, const char* what) {
  QLITE_CHECK(zp >= -128 && zp <= 127,
              std::string(what) + ": int8 zero point " + std::to_string(zp) + " outside [-128, 127]");
}

inline void check_act(const ActRange& a, const char* op) {
  QLITE_CHECK(a.min >= -128 && a.max <= 127 && a.min <= a.max,
              std::string(op) + ": activation range [" + std::to_string(a.min) + ", " + std::to_string(a.max) +
                  "] is not a non-empty part of [-128, 127]");
}

inline void check_requant(const std::vector<QuantizedMultiplier>& r, int channels, const char* op) {
  QLITE_CHECK(r.size() == 1 || r.size() == static_cast<size_t>(channels),
              std::string(op) + ": expected 1 or " + std::to_string(channels) + " multipliers, got " +
                  std::to_string(r.size()));
  for (const auto& m : r) {
    QLITE_CHECK(m.multiplier >= 0 && m.shift >= -31 && m.shift <= 31,
                std::string(op) + ": invalid quantized multiplier");
  }
}

// TFLite accumulates in int32; an accumulator outside int32 would be undefined
// there, so the reference refuses it instead of inventing a result.
inline int8_t requant_output(int64_t acc, const QuantizedMultiplier& m, Rounding rounding, int32_t out_zp,
                             const ActRange& act, const char* op) {
  if (acc < std::numeric_limits<int32_t>::min() || acc > std::numeric_limits<int32_t>::max())
    throw Error(std::string(op) + ": int32 accumulator overflow");
  int32_t v = multiply_by_quantized_multiplier(static_cast<int32_t>(acc), m, rounding);
  // MBQM output is within int32 and |zp| <= 128, so use int64 to add safely.
  int64_t o = int64_t{v} + out_zp;
  if (o < act.min) o = act.min;
  if (o > act.max) o = act.max;
  return static_cast<int8_t>(o);
}

// The double-rounding form (every op other than CONV_2D and FULLY_CONNECTED).
inline int8_t requant_output(int64_t acc, const QuantizedMultiplier& m, int32_t out_zp, const ActRange& act,
                             const char* op) {
  return requant_output(acc, m, Rounding::kDoubleRounding, out_zp, act, op);
}

}  // namespace qlite::ref::detail
