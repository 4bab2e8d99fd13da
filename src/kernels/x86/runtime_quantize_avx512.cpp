// AVX-512 float <-> int8 conversion (see runtime_quantize.h).
#include <immintrin.h>

#include "kernels/runtime_quantize.h"
#include "kernels/x86/runtime_quantize_impl.h"

namespace qlite::kernels {

namespace {

// ref::affine_quantize_unclamped of 8 floats: the quotient in double, rounded
// half away from zero (add sign(v) where |v - trunc(v)| >= 0.5, exact in
// double), then cvttpd, which gives INT32_MIN for NaN and out-of-range values
// exactly as the reference's x86 rule says; the zero point is added (with
// wrap-around) by the caller.
__m256i quotient_rounded(__m256 x, __m512d scale) {
  const __m512d half = _mm512_set1_pd(0.5), one = _mm512_set1_pd(1.0);
  const __m512i sign = _mm512_set1_epi64(static_cast<int64_t>(0x8000000000000000ull));
  const __m512d v = _mm512_div_pd(_mm512_cvtps_pd(x), scale);
  const __m512d t = _mm512_roundscale_pd(v, _MM_FROUND_TO_ZERO | _MM_FROUND_NO_EXC);
  const __mmask8 up = _mm512_cmp_pd_mask(_mm512_abs_pd(_mm512_sub_pd(v, t)), half, _CMP_GE_OQ);
  const __m512d step =
      _mm512_castsi512_pd(_mm512_or_si512(_mm512_castpd_si512(one), _mm512_and_si512(_mm512_castpd_si512(v), sign)));
  return _mm512_cvttpd_epi32(_mm512_mask_add_pd(t, up, t, step));
}

}  // namespace

void quantize_f32_to_int8_avx512(int64_t n, const float* x, float scale, int32_t zero_point, int8_t* q) {
  const __m512d vs = _mm512_set1_pd(static_cast<double>(scale));
  const __m512i zp = _mm512_set1_epi32(zero_point);
  for (int64_t i = 0; i < n; i += 16) {
    const __mmask16 m = n - i >= 16 ? __mmask16(0xffff) : static_cast<__mmask16>((1u << (n - i)) - 1);
    const __m512 v = _mm512_maskz_loadu_ps(m, x + i);
    const __m512i r = _mm512_inserti64x4(_mm512_castsi256_si512(quotient_rounded(_mm512_castps512_ps256(v), vs)),
                                         quotient_rounded(_mm512_extractf32x8_ps(v, 1), vs), 1);
    // 32-bit wrap-around add, then the saturating narrowing is the clamp.
    _mm_mask_storeu_epi8(q + i, m, _mm512_cvtsepi32_epi8(_mm512_add_epi32(r, zp)));
  }
}

void dequantize_int8_avx512(int64_t n, const int8_t* q, float scale, int32_t zero_point, float* x) {
  const __m512 vs = _mm512_set1_ps(scale);
  const __m512i zp = _mm512_set1_epi32(zero_point);
  for (int64_t i = 0; i < n; i += 16) {
    const __mmask16 m = n - i >= 16 ? __mmask16(0xffff) : static_cast<__mmask16>((1u << (n - i)) - 1);
    const __m512i v = _mm512_cvtepi8_epi32(_mm_maskz_loadu_epi8(m, q + i));
    // (q - zp) is exact in float, so one float product rounds as the reference's double one.
    _mm512_mask_storeu_ps(x + i, m, _mm512_mul_ps(_mm512_cvtepi32_ps(_mm512_sub_epi32(v, zp)), vs));
  }
}

}  // namespace qlite::kernels
