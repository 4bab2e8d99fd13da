// Scalar tail of the SIMD quantize: the reference's rule for one element.
#pragma once

#include <algorithm>
#include <cstdint>

#include "kernels/reference/int8_kernels.h"

namespace qlite::kernels::detail {

inline int8_t quantize_one(float x, float scale, int32_t zero_point) {
  return static_cast<int8_t>(std::clamp<int32_t>(ref::affine_quantize_unclamped(x, scale, zero_point), -128, 127));
}

}  // namespace qlite::kernels::detail
