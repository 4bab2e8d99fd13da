// AVX2 BatchNormalization and clamp training kernels (float_bn_impl.h):
// 4 channels per vector, as 128-bit floats and 256-bit doubles.
#if defined(__x86_64__)
#include <immintrin.h>

#include <algorithm>

#include "kernels/float_kernels.h"
#include "kernels/x86/float_bn_impl.h"

namespace qlite::kernels::avx2 {
namespace {
struct B256 {
  static constexpr int kD = 4;
  using h = __m128;
  using d = __m256d;
  // Zen 3 microcodes vmaskmovps / vmaskmovpd stores (about 10x the cost
  // of a plain store), so whole vectors take plain loads and stores and
  // only a tail of channels is masked; the branch is the same for every row.
  struct m {
    __m128i f;  // 32-bit lanes, for floats
    __m256i d;  // 64-bit lanes, for doubles
    bool full;
  };
  static m tail(int64_t n) {
    const int k = static_cast<int>(std::clamp<int64_t>(n, 0, 4));
    const __m128i f = _mm_cmpgt_epi32(_mm_set1_epi32(k), _mm_setr_epi32(0, 1, 2, 3));
    return {f, _mm256_cvtepi32_epi64(f), k == 4};
  }
  static h hload(const float* p, m k) { return k.full ? _mm_loadu_ps(p) : _mm_maskload_ps(p, k.f); }
  static void hstore(float* p, h v, m k) {
    if (k.full) _mm_storeu_ps(p, v);
    else _mm_maskstore_ps(p, k.f, v);
  }
  static h hset1(float f) { return _mm_set1_ps(f); }
  static h hsub(h a, h b) { return _mm_sub_ps(a, b); }
  static h hmul(h a, h b) { return _mm_mul_ps(a, b); }
  static h hadd(h a, h b) { return _mm_add_ps(a, b); }
  static h hmax(h a, h b) { return _mm_max_ps(a, b); }
  static h hmin(h a, h b) { return _mm_min_ps(a, b); }
  static h hkeep(h x, h hi, h dy) {
    return _mm_and_ps(_mm_and_ps(_mm_cmpgt_ps(x, _mm_setzero_ps()), _mm_cmplt_ps(x, hi)), dy);
  }
  static d cvt(h v) { return _mm256_cvtps_pd(v); }
  static h cvtback(d v) { return _mm256_cvtpd_ps(v); }
  static d dload(const double* p, m k) { return k.full ? _mm256_loadu_pd(p) : _mm256_maskload_pd(p, k.d); }
  static void dstore(double* p, d v, m k) {
    if (k.full) _mm256_storeu_pd(p, v);
    else _mm256_maskstore_pd(p, k.d, v);
  }
  static d dset1(double f) { return _mm256_set1_pd(f); }
  static d dadd(d a, d b) { return _mm256_add_pd(a, b); }
  static d dsub(d a, d b) { return _mm256_sub_pd(a, b); }
  static d dmul(d a, d b) { return _mm256_mul_pd(a, b); }
};
}  // namespace

QLITE_DEFINE_FLOAT_BN_KERNELS(B256)
}  // namespace qlite::kernels::avx2
#endif
