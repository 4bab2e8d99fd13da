// SIMD float <-> int8 conversion for the runtime's QUANTIZE / DEQUANTIZE, bit-exact
// with ref::quantize_f32_to_int8 / ref::dequantize_int8 (same signatures, so the
// runtime's kernel table holds them in place of the reference). The caller
// (the op's prepare) has checked scale (finite, > 0 for quantize) and the zero
// point range; these do not check per call.
#pragma once

#include <cstdint>

namespace qlite::kernels {

void quantize_f32_to_int8_avx2(int64_t n, const float* x, float scale, int32_t zero_point, int8_t* q);
void quantize_f32_to_int8_avx512(int64_t n, const float* x, float scale, int32_t zero_point, int8_t* q);
void dequantize_int8_avx2(int64_t n, const int8_t* q, float scale, int32_t zero_point, float* x);
void dequantize_int8_avx512(int64_t n, const int8_t* q, float scale, int32_t zero_point, float* x);

}  // namespace qlite::kernels
