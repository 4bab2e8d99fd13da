// AVX-512 float <-> int8 conversion (see runtime_quantize.h).
#include <immintrin.h>

#include "kernels/runtime_quantize.h"
#include "kernels/x86/runtime_quantize_impl.h"

namespace qlite::kernels {

void quantize_f32_to_int8_avx512(int64_t n, const float* x, float scale, int32_t zero_point, int8_t* q) {
  const __m512 vs = _mm512_set1_ps(scale), lo = _mm512_set1_ps(-1.0e6f), hi = _mm512_set1_ps(1.0e6f);
  const __m512 half = _mm512_set1_ps(0.5f), one = _mm512_set1_ps(1.0f);
  const __m512i sign = _mm512_set1_epi32(static_cast<int32_t>(0x80000000u));
  const __m512i zp = _mm512_set1_epi32(zero_point);
  for (int64_t i = 0; i < n; i += 16) {
    const __mmask16 m = n - i >= 16 ? __mmask16(0xffff) : static_cast<__mmask16>((1u << (n - i)) - 1);
    const __m512 v = _mm512_div_ps(_mm512_maskz_loadu_ps(m, x + i), vs);
    const __mmask16 nan = _mm512_cmp_ps_mask(v, v, _CMP_UNORD_Q);
    const __m512 c = _mm512_min_ps(_mm512_max_ps(v, lo), hi);
    const __m512 t = _mm512_roundscale_ps(c, _MM_FROUND_TO_ZERO | _MM_FROUND_NO_EXC);
    // Round half away from zero: add sign(c) where |c - trunc(c)| >= 0.5 (exact).
    const __m512 frac = _mm512_abs_ps(_mm512_sub_ps(c, t));
    const __mmask16 up = _mm512_cmp_ps_mask(frac, half, _CMP_GE_OQ);
    const __m512 step = _mm512_castsi512_ps(
        _mm512_or_si512(_mm512_castps_si512(one), _mm512_and_si512(_mm512_castps_si512(c), sign)));
    __m512i r = _mm512_add_epi32(_mm512_cvttps_epi32(_mm512_mask_add_ps(t, up, t, step)), zp);
    r = _mm512_mask_mov_epi32(r, nan, zp);
    _mm_mask_storeu_epi8(q + i, m, _mm512_cvtsepi32_epi8(r));
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
