// AVX-512 float training kernels: the shared templates on 16-lane vectors.
// Masked loads and stores handle channel tails without touching memory
// past the end.
#if defined(__x86_64__)
#include <immintrin.h>

#include "kernels/x86/float_simd_impl.h"

namespace qlite::kernels::avx512 {
namespace {

struct V512 {
  using reg = __m512;
  using ireg = __m512i;
  using mask = __mmask16;
  using cmask = __mmask16;
  static constexpr int kLanes = 16;
  static mask tail(int64_t n) { return n >= 16 ? mask(0xFFFF) : mask((1u << n) - 1u); }
  static reg load(const float* p, mask m) { return _mm512_maskz_loadu_ps(m, p); }
  static void store(float* p, reg v, mask m) { _mm512_mask_storeu_ps(p, m, v); }
  static reg bcast(const float* p) { return _mm512_set1_ps(*p); }
  static reg zero() { return _mm512_setzero_ps(); }
  static reg set1(float f) { return _mm512_set1_ps(f); }
  static reg fmadd(reg a, reg b, reg c) { return _mm512_fmadd_ps(a, b, c); }
  static reg add(reg a, reg b) { return _mm512_add_ps(a, b); }
  static reg max(reg a, reg b) { return _mm512_max_ps(a, b); }
  static reg min(reg a, reg b) { return _mm512_min_ps(a, b); }
  static cmask gt(reg a, reg b) { return _mm512_cmp_ps_mask(a, b, _CMP_GT_OQ); }
  static reg select(cmask c, reg a, reg b) { return _mm512_mask_blend_ps(c, b, a); }
  static ireg iset1(int32_t i) { return _mm512_set1_epi32(i); }
  static ireg iota() { return _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15); }
  static ireg iadd(ireg a, ireg b) { return _mm512_add_epi32(a, b); }
  static ireg iselect(cmask c, ireg a, ireg b) { return _mm512_mask_blend_epi32(c, b, a); }
  static ireg isub(ireg a, ireg b) { return _mm512_sub_epi32(a, b); }
  static ireg iload(const int32_t* p, mask m) { return _mm512_maskz_loadu_epi32(m, p); }
  static cmask ieq(ireg a, ireg b) { return _mm512_cmpeq_epi32_mask(a, b); }
  static void istore(int32_t* p, ireg v, mask m) { _mm512_mask_storeu_epi32(p, m, v); }
};

}  // namespace

QLITE_DEFINE_FLOAT_KERNELS(V512)

}  // namespace qlite::kernels::avx512
#endif
