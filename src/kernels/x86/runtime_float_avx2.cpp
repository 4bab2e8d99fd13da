// AVX2 runtime float kernels: the shared templates on 8-lane vectors.
#if defined(__x86_64__)
#include <immintrin.h>

#include "kernels/x86/runtime_float_impl.h"

namespace qlite::kernels::rtf_avx2 {
namespace {

struct V256 {
  using reg = __m256;
  using mask = __m256i;
  static constexpr int kLanes = 8;
  static mask tail(int64_t n) {
    const int k = static_cast<int>(std::clamp<int64_t>(n, 0, 8));
    return _mm256_cmpgt_epi32(_mm256_set1_epi32(k), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
  }
  static reg load(const float* p, mask m) { return _mm256_maskload_ps(p, m); }
  static void store(float* p, reg v, mask m) { _mm256_maskstore_ps(p, m, v); }
  static reg zero() { return _mm256_setzero_ps(); }
  static reg set1(float f) { return _mm256_set1_ps(f); }
  static reg fmadd(reg a, reg b, reg c) { return _mm256_fmadd_ps(a, b, c); }
  static reg add(reg a, reg b) { return _mm256_add_ps(a, b); }
  static reg max(reg a, reg b) { return _mm256_max_ps(a, b); }
  static reg min(reg a, reg b) { return _mm256_min_ps(a, b); }
  static float hsum(reg v) {
    __m128 q = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    q = _mm_add_ps(q, _mm_movehl_ps(q, q));
    q = _mm_add_ss(q, _mm_movehdup_ps(q));
    return _mm_cvtss_f32(q);
  }
};

}  // namespace

void max_pool_rows(const PoolGeom& g, float lo, float hi, const float* image, float* out_image, int64_t y0,
                   int64_t y1) {
  rtf_simd::max_pool_rows<V256>(g, lo, hi, image, out_image, y0, y1);
}

void fc_dot(int64_t rows, int64_t K, int64_t N, const float* in, const float* w, const float* bias, FloatAct act,
            float* out) {
  rtf_simd::fc_dot<V256>(rows, K, N, in, w, bias, act, out);
}

bool conv_small(const PatchGeom& g, const float* in, const float* w, const float* bias, FloatAct act, float* out) {
  return rtf_simd::conv_small<V256>(g, in, w, bias, act, out);
}

}  // namespace qlite::kernels::rtf_avx2
#endif
