// Scalar tail of the SIMD quantize: the reference's rule for one element.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>

namespace qlite::kernels::detail {

inline int8_t quantize_one(float x, float scale, int32_t zero_point) {
  const float v = x / scale;
  if (std::isnan(v)) return static_cast<int8_t>(zero_point);
  const float c = std::fmin(std::fmax(v, -1.0e6f), 1.0e6f);
  const int64_t r = static_cast<int64_t>(std::round(c)) + zero_point;
  return static_cast<int8_t>(std::clamp<int64_t>(r, -128, 127));
}

}  // namespace qlite::kernels::detail
