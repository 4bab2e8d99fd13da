// Checks and the final requantize step shared by the reference int8 kernels.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "kernels/reference/int8_kernels.h"
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

// TFLite's 8-bit-input softmax (SoftmaxInt8LUT's reference form) for int8 or
// uint8 input and an int8 or int16 output. table[255 - max + x] =
// exp(-input_scale * beta * (max - x)), indexed from p.table itself: the index
// 255 - max + x is in [0, 255] for int8 and uint8 alike (p.table + (255 - max)
// alone may point past the array, which is undefined even if never read).
template <class In, class Out>
void softmax_8bit(const SoftmaxInt8Params& p, int64_t outer, int depth, const In* in, Out* out, const char* op) {
  QLITE_CHECK(outer >= 0 && depth > 0, std::string(op) + ": invalid shape");
  QLITE_CHECK(outer == 0 || (in && out), std::string(op) + ": null tensor");
  for (int64_t r = 0; r < outer; ++r) {
    const In* x = in + r * depth;
    Out* y = out + r * depth;
    int32_t max_val = std::numeric_limits<In>::min();
    for (int j = 0; j < depth; ++j) max_val = std::max(max_val, int32_t{x[j]});
    const int32_t base = 255 - max_val;
    float sum = 0.0f;
    for (int j = 0; j < depth; ++j) sum += p.table[base + x[j]];
    const float inv = 1.0f / (sum * p.output_scale);
    for (int j = 0; j < depth; ++j) {
      // prob <= 1 / output_scale; the bound only guards the cast for odd scales.
      const float prob = std::fmin(p.table[base + x[j]] * inv, 1.0e9f);
      const int64_t q = static_cast<int64_t>(std::round(prob)) + p.output_zero_point;
      y[j] = static_cast<Out>(std::clamp<int64_t>(q, std::numeric_limits<Out>::min(), std::numeric_limits<Out>::max()));
    }
  }
}

}  // namespace qlite::ref::detail
