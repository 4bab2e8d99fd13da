// DotQuads512: the int32-lane operations that the int8 kernels (int8_impl.h)
// and the hybrid kernels (hybrid_impl.h) share on AVX-512 VNNI. Dot products
// are vpdpbusd: u8 inputs (q + 128) times s8 weights, four products per lane
// added to its int32 accumulator. The ISA traits of int8_kernels_avx512.cpp
// and hybrid_avx512.cpp derive from it. Include only from *_avx512.cpp files.
#pragma once

#if !defined(__AVX512F__) || !defined(__AVX512VNNI__)
#error "int_dot_avx512.h needs AVX-512 F and VNNI: include it only from *_avx512.cpp files"
#endif

#include <immintrin.h>

#include <cstdint>
#include <cstring>

namespace qlite::kernels {
namespace {

struct DotQuads512 {
  using Elem = uint8_t;  // input operand
  using WElem = int8_t;  // weight operand
  using Reg = __m512i;
  static constexpr int kLanes = 16, kGroup = 4;

  static Reg zero() { return _mm512_setzero_si512(); }
  static Reg set1(int32_t v) { return _mm512_set1_epi32(v); }
  static Reg add(Reg a, Reg b) { return _mm512_add_epi32(a, b); }
  static Reg sub(Reg a, Reg b) { return _mm512_sub_epi32(a, b); }
  static Reg load_i32(const int32_t* p) { return _mm512_loadu_si512(p); }
  static Reg load_w(const int8_t* p) { return _mm512_loadu_si512(p); }
  // One input group (kGroup values) broadcast to every lane.
  static Reg bcast(const uint8_t* x) {
    int32_t v;
    std::memcpy(&v, x, 4);
    return _mm512_set1_epi32(v);
  }
  static Reg dot(Reg acc, Reg x, Reg w) { return _mm512_dpbusd_epi32(acc, x, w); }
};

}  // namespace
}  // namespace qlite::kernels
