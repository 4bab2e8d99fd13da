// AVX-512 BatchNormalization and clamp training kernels (float_bn_impl.h):
// 8 channels per vector, as 256-bit floats and 512-bit doubles.
#if defined(__x86_64__)
#include <immintrin.h>

#include "kernels/float_kernels.h"
#include "kernels/x86/float_bn_impl.h"

namespace qlite::kernels::avx512 {
namespace {
struct B512 : bn::H256 {
  static constexpr int kD = 8;
  using d = __m512d;
  using m = __mmask8;
  static m tail(int64_t n) { return n >= 8 ? m(0xFF) : n <= 0 ? m(0) : m((1u << n) - 1u); }
  static h hload(const float* p, m k) { return _mm256_maskz_loadu_ps(k, p); }
  static void hstore(float* p, h v, m k) { _mm256_mask_storeu_ps(p, k, v); }
  static h hkeep(h x, h hi, h dy) {
    const __mmask8 keep =
        _mm256_cmp_ps_mask(x, _mm256_setzero_ps(), _CMP_GT_OQ) & _mm256_cmp_ps_mask(hi, x, _CMP_GT_OQ);
    return _mm256_maskz_mov_ps(keep, dy);
  }
  static d cvt(h v) { return _mm512_cvtps_pd(v); }
  static h cvtback(d v) { return _mm512_cvtpd_ps(v); }
  static d dload(const double* p, m k) { return _mm512_maskz_loadu_pd(k, p); }
  static void dstore(double* p, d v, m k) { _mm512_mask_storeu_pd(p, k, v); }
  static d dset1(double f) { return _mm512_set1_pd(f); }
  static d dadd(d a, d b) { return _mm512_add_pd(a, b); }
  static d dsub(d a, d b) { return _mm512_sub_pd(a, b); }
  static d dmul(d a, d b) { return _mm512_mul_pd(a, b); }
};
}  // namespace

QLITE_DEFINE_FLOAT_BN_KERNELS(B512)
}  // namespace qlite::kernels::avx512
#endif
