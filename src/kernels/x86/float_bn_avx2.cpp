// AVX2 BatchNormalization and clamp training kernels (float_bn_impl.h):
// 8 channels per vector, as 256-bit floats and two 256-bit halves of doubles.
#if defined(__x86_64__)
#include <immintrin.h>

#include <algorithm>

#include "kernels/float_kernels.h"
#include "kernels/x86/float_bn_impl.h"

namespace qlite::kernels::avx2 {
namespace {
struct B256 : bn::H256 {
  // 8 channels per vector: the float steps on a 256-bit register, the
  // double steps on two 256-bit halves.
  static constexpr int kD = 8;
  static constexpr int kMaxGroup = 2;  // 4 x 8 channels of double pairs would spill
  struct d {
    __m256d lo, hi;
  };
  // Zen 3 microcodes vmaskmovps / vmaskmovpd stores (about 10x the cost
  // of a plain store), so whole vectors take plain loads and stores and
  // only a tail of channels is masked; the branch is the same for every row.
  struct m {
    __m256i f;        // 32-bit lanes, for floats
    __m256i dlo, dhi;  // 64-bit lanes, for the two halves of doubles
    bool full;
  };
  static m tail(int64_t n) {
    const int k = static_cast<int>(std::clamp<int64_t>(n, 0, 8));
    const __m256i f = _mm256_cmpgt_epi32(_mm256_set1_epi32(k), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
    return {f, _mm256_cvtepi32_epi64(_mm256_castsi256_si128(f)), _mm256_cvtepi32_epi64(_mm256_extracti128_si256(f, 1)),
            k == 8};
  }
  static h hload(const float* p, m k) { return k.full ? _mm256_loadu_ps(p) : _mm256_maskload_ps(p, k.f); }
  static void hstore(float* p, h v, m k) {
    if (k.full) _mm256_storeu_ps(p, v);
    else _mm256_maskstore_ps(p, k.f, v);
  }
  static h hkeep(h x, h hi, h dy) {
    return _mm256_and_ps(_mm256_and_ps(_mm256_cmp_ps(x, _mm256_setzero_ps(), _CMP_GT_OQ), _mm256_cmp_ps(x, hi, _CMP_LT_OQ)),
                         dy);
  }
  static d cvt(h v) {
    return {_mm256_cvtps_pd(_mm256_castps256_ps128(v)), _mm256_cvtps_pd(_mm256_extractf128_ps(v, 1))};
  }
  static h cvtback(d v) { return _mm256_set_m128(_mm256_cvtpd_ps(v.hi), _mm256_cvtpd_ps(v.lo)); }
  static d dload(const double* p, m k) {
    if (k.full) return {_mm256_loadu_pd(p), _mm256_loadu_pd(p + 4)};
    return {_mm256_maskload_pd(p, k.dlo), _mm256_maskload_pd(p + 4, k.dhi)};
  }
  static void dstore(double* p, d v, m k) {
    if (k.full) {
      _mm256_storeu_pd(p, v.lo);
      _mm256_storeu_pd(p + 4, v.hi);
    } else {
      _mm256_maskstore_pd(p, k.dlo, v.lo);
      _mm256_maskstore_pd(p + 4, k.dhi, v.hi);
    }
  }
  static d dset1(double f) { return {_mm256_set1_pd(f), _mm256_set1_pd(f)}; }
  static d dadd(d a, d b) { return {_mm256_add_pd(a.lo, b.lo), _mm256_add_pd(a.hi, b.hi)}; }
  static d dsub(d a, d b) { return {_mm256_sub_pd(a.lo, b.lo), _mm256_sub_pd(a.hi, b.hi)}; }
  static d dmul(d a, d b) { return {_mm256_mul_pd(a.lo, b.lo), _mm256_mul_pd(a.hi, b.hi)}; }
};
}  // namespace

QLITE_DEFINE_FLOAT_BN_KERNELS(B256)
}  // namespace qlite::kernels::avx2
#endif
