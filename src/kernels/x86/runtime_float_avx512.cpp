// AVX-512 runtime float kernels: the shared templates on 16-lane vectors.
#if defined(__x86_64__)
#include <immintrin.h>

#include "kernels/x86/runtime_float_impl.h"

namespace qlite::kernels::rtf_avx512 {
namespace {

struct V512 {
  using reg = __m512;
  using mask = __mmask16;
  static constexpr int kLanes = 16;
  static mask tail(int64_t n) { return n >= 16 ? mask(0xFFFF) : n <= 0 ? mask(0) : mask((1u << n) - 1u); }
  static reg load(const float* p, mask m) { return _mm512_maskz_loadu_ps(m, p); }
  static void store(float* p, reg v, mask m) { _mm512_mask_storeu_ps(p, m, v); }
  static reg zero() { return _mm512_setzero_ps(); }
  static reg set1(float f) { return _mm512_set1_ps(f); }
  static reg fmadd(reg a, reg b, reg c) { return _mm512_fmadd_ps(a, b, c); }
  static reg add(reg a, reg b) { return _mm512_add_ps(a, b); }
  static reg max(reg a, reg b) { return _mm512_max_ps(a, b); }
  static reg min(reg a, reg b) { return _mm512_min_ps(a, b); }
  static float hsum(reg v) {
    const __m256 h = _mm256_add_ps(_mm512_castps512_ps256(v), _mm512_extractf32x8_ps(v, 1));
    __m128 q = _mm_add_ps(_mm256_castps256_ps128(h), _mm256_extractf128_ps(h, 1));
    q = _mm_add_ps(q, _mm_movehl_ps(q, q));
    q = _mm_add_ss(q, _mm_movehdup_ps(q));
    return _mm_cvtss_f32(q);
  }
};

}  // namespace

void max_pool_rows(const PoolGeom& g, float lo, float hi, const float* image, float* out_image, int64_t y0,
                   int64_t y1) {
  rtf_simd::max_pool_rows<V512>(g, lo, hi, image, out_image, y0, y1);
}

void fc_dot(int64_t rows, int64_t K, int64_t N, const float* in, const float* w, const float* bias, FloatAct act,
            float* out) {
  rtf_simd::fc_dot<V512>(rows, K, N, in, w, bias, act, out);
}

bool conv_small(const PatchGeom& g, const float* in, const float* w, const float* bias, FloatAct act, float* out) {
  return rtf_simd::conv_small<V512>(g, in, w, bias, act, out);
}

}  // namespace qlite::kernels::rtf_avx512
#endif
