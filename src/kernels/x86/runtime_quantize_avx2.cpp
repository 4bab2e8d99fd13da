// AVX2 float <-> int8 conversion (see runtime_quantize.h).
#include <immintrin.h>

#include "kernels/runtime_quantize.h"
#include "kernels/x86/runtime_quantize_impl.h"

namespace qlite::kernels {

void quantize_f32_to_int8_avx2(int64_t n, const float* x, float scale, int32_t zero_point, int8_t* q) {
  const __m256 vs = _mm256_set1_ps(scale), lo = _mm256_set1_ps(-1.0e6f), hi = _mm256_set1_ps(1.0e6f);
  const __m256 half = _mm256_set1_ps(0.5f), one = _mm256_set1_ps(1.0f);
  const __m256 sign = _mm256_set1_ps(-0.0f);
  const __m256i zp = _mm256_set1_epi32(zero_point);
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    const __m256 v = _mm256_div_ps(_mm256_loadu_ps(x + i), vs);
    const __m256 nan = _mm256_cmp_ps(v, v, _CMP_UNORD_Q);
    const __m256 c = _mm256_min_ps(_mm256_max_ps(v, lo), hi);
    const __m256 t = _mm256_round_ps(c, _MM_FROUND_TO_ZERO | _MM_FROUND_NO_EXC);
    // Round half away from zero: add sign(c) where |c - trunc(c)| >= 0.5 (exact).
    const __m256 frac = _mm256_andnot_ps(sign, _mm256_sub_ps(c, t));
    const __m256 step = _mm256_and_ps(_mm256_cmp_ps(frac, half, _CMP_GE_OQ), _mm256_or_ps(one, _mm256_and_ps(c, sign)));
    __m256i r = _mm256_add_epi32(_mm256_cvttps_epi32(_mm256_add_ps(t, step)), zp);
    r = _mm256_blendv_epi8(r, zp, _mm256_castps_si256(nan));
    const __m128i w = _mm_packs_epi32(_mm256_castsi256_si128(r), _mm256_extracti128_si256(r, 1));
    _mm_storel_epi64(reinterpret_cast<__m128i*>(q + i), _mm_packs_epi16(w, w));
  }
  for (; i < n; ++i) q[i] = detail::quantize_one(x[i], scale, zero_point);
}

void dequantize_int8_avx2(int64_t n, const int8_t* q, float scale, int32_t zero_point, float* x) {
  const __m256 vs = _mm256_set1_ps(scale);
  const __m256i zp = _mm256_set1_epi32(zero_point);
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    const __m256i v = _mm256_cvtepi8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(q + i)));
    // (q - zp) is exact in float, so one float product rounds as the reference's double one.
    _mm256_storeu_ps(x + i, _mm256_mul_ps(_mm256_cvtepi32_ps(_mm256_sub_epi32(v, zp)), vs));
  }
  for (; i < n; ++i) x[i] = scale * static_cast<float>(int32_t{q[i]} - zero_point);
}

}  // namespace qlite::kernels
