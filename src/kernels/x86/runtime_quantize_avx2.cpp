// AVX2 float <-> int8 conversion (see runtime_quantize.h).
#include <immintrin.h>

#include "kernels/runtime_quantize.h"
#include "kernels/x86/runtime_quantize_impl.h"

namespace qlite::kernels {

namespace {

// ref::affine_quantize_unclamped of 4 floats (see the AVX-512 version): the
// quotient in double, rounded half away from zero, cvttpd's INT32_MIN for
// NaN and out-of-range values.
__m128i quotient_rounded(__m128 x, __m256d scale) {
  const __m256d half = _mm256_set1_pd(0.5), one = _mm256_set1_pd(1.0), sign = _mm256_set1_pd(-0.0);
  const __m256d v = _mm256_div_pd(_mm256_cvtps_pd(x), scale);
  const __m256d t = _mm256_round_pd(v, _MM_FROUND_TO_ZERO | _MM_FROUND_NO_EXC);
  const __m256d frac = _mm256_andnot_pd(sign, _mm256_sub_pd(v, t));
  const __m256d step = _mm256_and_pd(_mm256_cmp_pd(frac, half, _CMP_GE_OQ), _mm256_or_pd(one, _mm256_and_pd(v, sign)));
  return _mm256_cvttpd_epi32(_mm256_add_pd(t, step));
}

}  // namespace

void quantize_f32_to_int8_avx2(int64_t n, const float* x, float scale, int32_t zero_point, int8_t* q) {
  const __m256d vs = _mm256_set1_pd(static_cast<double>(scale));
  const __m128i zp = _mm_set1_epi32(zero_point);
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    // 32-bit wrap-around add, then the saturating packs are the clamp.
    const __m128i a = _mm_add_epi32(quotient_rounded(_mm_loadu_ps(x + i), vs), zp);
    const __m128i b = _mm_add_epi32(quotient_rounded(_mm_loadu_ps(x + i + 4), vs), zp);
    const __m128i w = _mm_packs_epi32(a, b);
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
