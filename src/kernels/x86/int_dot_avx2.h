// DotPairs256: the int32-lane operations that the int8 kernels (int8_impl.h)
// and the hybrid kernels (hybrid_impl.h) share on AVX2. Dot products are
// vpmaddwd on int16 pairs: operands are widened to int16 (inputs before the
// dots, int8 weights as they are loaded: int8_kernels_avx2.cpp's V256N), and
// each lane adds two products to its int32 accumulator. The ISA traits of
// int8_kernels_avx2.cpp and hybrid_avx2.cpp derive from it. Include only
// from *_avx2.cpp files.
#pragma once

#if !defined(__AVX2__)
#error "int_dot_avx2.h needs AVX2: include it only from *_avx2.cpp files"
#endif

#include <immintrin.h>

#include <cstdint>
#include <cstring>

namespace qlite::kernels {
namespace {

struct DotPairs256 {
  using Elem = int16_t;   // input operand
  using WElem = int16_t;  // weight operand
  using Reg = __m256i;
  static constexpr int kLanes = 8, kGroup = 2;

  static Reg zero() { return _mm256_setzero_si256(); }
  static Reg set1(int32_t v) { return _mm256_set1_epi32(v); }
  static Reg add(Reg a, Reg b) { return _mm256_add_epi32(a, b); }
  static Reg sub(Reg a, Reg b) { return _mm256_sub_epi32(a, b); }
  static Reg load_i32(const int32_t* p) { return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)); }
  static Reg load_w(const int16_t* p) { return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)); }
  // One input group (kGroup values) broadcast to every lane.
  static Reg bcast(const int16_t* x) {
    int32_t v;
    std::memcpy(&v, x, 4);
    return _mm256_set1_epi32(v);
  }
  static Reg dot(Reg acc, Reg x, Reg w) { return _mm256_add_epi32(acc, _mm256_madd_epi16(x, w)); }
};

}  // namespace
}  // namespace qlite::kernels
