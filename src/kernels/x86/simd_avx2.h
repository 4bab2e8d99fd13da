// V256: the 8-lane float SIMD traits (AVX2 + FMA) that the shared kernel
// templates are instantiated on (float_simd_impl.h for training,
// runtime_float_impl.h for the runtime). vmaskmov loads and stores handle
// channel tails without touching memory past the end (whole vectors take
// plain ones). Include only from *_avx2.cpp files. The anonymous namespace
// keeps each including file's template instances its own.
#pragma once

#if !defined(__AVX2__) || !defined(__FMA__)
#error "simd_avx2.h needs AVX2 and FMA: include it only from *_avx2.cpp files"
#endif

#include <immintrin.h>

#include <algorithm>
#include <cstdint>

namespace qlite::kernels {
namespace {

struct V256 {
  using reg = __m256;
  using ireg = __m256i;
  // A lane-tail mask. Zen 3 microcodes vmaskmovps stores (about 10x a
  // plain store), so a whole vector (`full`) takes plain loads and stores
  // and only a tail is masked.
  struct mask {
    __m256i m;
    bool full;
  };
  using cmask = __m256;  // comparison result
  static constexpr int kLanes = 8;
  static ireg iota() { return _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7); }
  static mask tail(int64_t n) {
    const int k = static_cast<int>(std::clamp<int64_t>(n, 0, 8));
    return {_mm256_cmpgt_epi32(_mm256_set1_epi32(k), iota()), k == 8};
  }
  static reg load(const float* p, mask m) { return m.full ? _mm256_loadu_ps(p) : _mm256_maskload_ps(p, m.m); }
  static void store(float* p, reg v, mask m) {
    if (m.full) _mm256_storeu_ps(p, v);
    else _mm256_maskstore_ps(p, m.m, v);
  }
  static reg bcast(const float* p) { return _mm256_broadcast_ss(p); }
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
  static cmask gt(reg a, reg b) { return _mm256_cmp_ps(a, b, _CMP_GT_OQ); }
  static reg select(cmask c, reg a, reg b) { return _mm256_blendv_ps(b, a, c); }
  static ireg iset1(int32_t i) { return _mm256_set1_epi32(i); }
  static ireg iadd(ireg a, ireg b) { return _mm256_add_epi32(a, b); }
  static ireg iselect(cmask c, ireg a, ireg b) {
    return _mm256_castps_si256(_mm256_blendv_ps(_mm256_castsi256_ps(b), _mm256_castsi256_ps(a), c));
  }
  static ireg isub(ireg a, ireg b) { return _mm256_sub_epi32(a, b); }
  static ireg iload(const int32_t* p, mask m) {
    return m.full ? _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p))
                  : _mm256_maskload_epi32(reinterpret_cast<const int*>(p), m.m);
  }
  static cmask ieq(ireg a, ireg b) { return _mm256_castsi256_ps(_mm256_cmpeq_epi32(a, b)); }
  static void istore(int32_t* p, ireg v, mask m) {
    if (m.full) _mm256_storeu_si256(reinterpret_cast<__m256i*>(p), v);
    else _mm256_maskstore_epi32(reinterpret_cast<int*>(p), m.m, v);
  }
};

}  // namespace
}  // namespace qlite::kernels
