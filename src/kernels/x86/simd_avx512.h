// V512: the 16-lane float SIMD traits (AVX-512 F/DQ) that the shared kernel
// templates are instantiated on (float_simd_impl.h for training,
// runtime_float_impl.h for the runtime). Masked loads and stores handle
// channel tails without touching memory past the end. Include only from
// *_avx512.cpp files. The anonymous namespace keeps each including file's
// template instances its own.
#pragma once

#if !defined(__AVX512F__) || !defined(__AVX512DQ__)
#error "simd_avx512.h needs AVX-512 F and DQ: include it only from *_avx512.cpp files"
#endif

#include <immintrin.h>

#include <cstdint>

namespace qlite::kernels {
namespace {

struct V512 {
  using reg = __m512;
  using ireg = __m512i;
  using mask = __mmask16;   // lane-tail mask
  using cmask = __mmask16;  // comparison result
  static constexpr int kLanes = 16;
  static mask tail(int64_t n) { return n >= 16 ? mask(0xFFFF) : n <= 0 ? mask(0) : mask((1u << n) - 1u); }
  static reg load(const float* p, mask m) { return _mm512_maskz_loadu_ps(m, p); }
  static void store(float* p, reg v, mask m) { _mm512_mask_storeu_ps(p, m, v); }
  static reg bcast(const float* p) { return _mm512_set1_ps(*p); }
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
}  // namespace qlite::kernels
