// AVX-512 VNNI hybrid kernels: the templates of hybrid_impl.h on 16 lanes.
// Dot products: vpdpbusd with the input buffer holding u8 = q + 128 and s8
// weights (4 MACs per lane, wrap-around int32, exact; see hybrid_x86.h).
#if defined(__x86_64__)
// GCC 12's false (maybe-)uninitialized warnings from its own AVX-512
// intrinsic headers are silenced for this file by qlite_isa_flags (cmake).
#include <immintrin.h>

#include <cstring>

#include "kernels/x86/hybrid_x86.h"
#include "kernels/x86/int_dot_avx512.h"

#define QLITE_HYBRID_NS hybrid_avx512
#include "kernels/x86/hybrid_impl.h"

namespace qlite::kernels::hybrid_avx512 {
namespace {

inline __mmask16 mask16(int64_t n) { return n >= 16 ? __mmask16(0xFFFF) : __mmask16((1u << n) - 1u); }

struct V512 : DotQuads512 {
  using F = __m512;
  static constexpr int kOffset = 128;

  static Reg mullo(Reg a, Reg b) { return _mm512_mullo_epi32(a, b); }

  static F cvt(Reg a) { return _mm512_cvtepi32_ps(a); }
  static F load_f(const float* p) { return _mm512_loadu_ps(p); }
  static F set1_f(float v) { return _mm512_set1_ps(v); }
  // The empty asm hides the product from GCC, which would otherwise contract
  // it with a following add into an FMA (one rounding instead of the reference's two).
  static F mul(F a, F b) {
    F p = _mm512_mul_ps(a, b);
    asm("" : "+v"(p));
    return p;
  }
  static F add_f(F a, F b) { return _mm512_add_ps(a, b); }
  static F max_f(F a, F b) { return _mm512_max_ps(a, b); }
  static F min_f(F a, F b) { return _mm512_min_ps(a, b); }
  static void store_f(float* p, F v, int n) {
    if (n >= 16) _mm512_storeu_ps(p, v);
    else _mm512_mask_storeu_ps(p, mask16(n), v);
  }

  static bool minmax(const float* x, int64_t n, float* mn, float* mx) {
    __m512 lo = _mm512_set1_ps(x[0]), hi = lo;
    __mmask16 nan = 0;
    int64_t i = 0;
    if (n >= 64) {
      // Four independent chains: min/max latency, not load bandwidth, bounds one chain.
      __m512 lo1 = lo, hi1 = lo, lo2 = lo, hi2 = lo, lo3 = lo, hi3 = lo;
      for (; i + 64 <= n; i += 64) {
        const __m512 a = _mm512_loadu_ps(x + i), b = _mm512_loadu_ps(x + i + 16);
        const __m512 c = _mm512_loadu_ps(x + i + 32), d = _mm512_loadu_ps(x + i + 48);
        lo = _mm512_min_ps(lo, a), hi = _mm512_max_ps(hi, a);
        lo1 = _mm512_min_ps(lo1, b), hi1 = _mm512_max_ps(hi1, b);
        lo2 = _mm512_min_ps(lo2, c), hi2 = _mm512_max_ps(hi2, c);
        lo3 = _mm512_min_ps(lo3, d), hi3 = _mm512_max_ps(hi3, d);
        nan |= _mm512_cmp_ps_mask(a, b, _CMP_UNORD_Q) | _mm512_cmp_ps_mask(c, d, _CMP_UNORD_Q);
      }
      lo = _mm512_min_ps(_mm512_min_ps(lo, lo1), _mm512_min_ps(lo2, lo3));
      hi = _mm512_max_ps(_mm512_max_ps(hi, hi1), _mm512_max_ps(hi2, hi3));
    }
    for (; i + 16 <= n; i += 16) {
      const __m512 v = _mm512_loadu_ps(x + i);
      lo = _mm512_min_ps(lo, v);
      hi = _mm512_max_ps(hi, v);
      nan |= _mm512_cmp_ps_mask(v, v, _CMP_UNORD_Q);
    }
    if (i < n) {
      const __mmask16 m = mask16(n - i);
      const __m512 v = _mm512_maskz_loadu_ps(m, x + i);
      lo = _mm512_mask_min_ps(lo, m, lo, v);
      hi = _mm512_mask_max_ps(hi, m, hi, v);
      nan |= _mm512_mask_cmp_ps_mask(m, v, v, _CMP_UNORD_Q);
    }
    *mn = _mm512_reduce_min_ps(lo);
    *mx = _mm512_reduce_max_ps(hi);
    return nan != 0;
  }

  // 16 elements: clamp(round(fzp + clamp(x * inv, +-1e6)), lo, hi) + 128 as bytes.
  struct Q {
    __m512 inv, fzp, lo, hi, half, one, sign;
    __m512i qlo, qhi, off;
  };
  static __m128i quantize16(const Q& q, __m512 x) {
    __m512 p = _mm512_mul_ps(x, q.inv);
    asm("" : "+v"(p));
    // _mm512_max_ps returns its second operand for a NaN, as std::fmax(NaN, -1e6f) returns -1e6f.
    const __m512 c = _mm512_min_ps(_mm512_max_ps(p, q.lo), q.hi);
    const __m512 s = _mm512_add_ps(q.fzp, c);
    const __m512 t = _mm512_roundscale_ps(s, _MM_FROUND_TO_ZERO | _MM_FROUND_NO_EXC);
    // Round half away from zero: step by sign(s) where |s - trunc(s)| >= 0.5 (exact below 2^23).
    const __m512 frac = _mm512_andnot_ps(q.sign, _mm512_sub_ps(s, t));
    const __mmask16 up = _mm512_cmp_ps_mask(frac, q.half, _CMP_GE_OQ);
    const __m512 r = _mm512_mask_add_ps(t, up, t, _mm512_or_ps(q.one, _mm512_and_ps(s, q.sign)));
    __m512i v = _mm512_add_epi32(_mm512_cvttps_epi32(r), q.off);
    v = _mm512_min_epi32(_mm512_max_epi32(v, q.qlo), q.qhi);
    return _mm512_cvtepi32_epi8(v);
  }
  static void quantize(const float* x, int64_t n, const hybrid_detail::RowQuant& rq, uint8_t* out) {
    if (rq.zero) {
      std::memset(out, kOffset, static_cast<size_t>(n));
      return;
    }
    const Q q{_mm512_set1_ps(rq.inv),      _mm512_set1_ps(rq.fzp),      _mm512_set1_ps(-1.0e6f),
              _mm512_set1_ps(1.0e6f),      _mm512_set1_ps(0.5f),        _mm512_set1_ps(1.0f),
              _mm512_set1_ps(-0.0f),       _mm512_set1_epi32(rq.lo + kOffset), _mm512_set1_epi32(rq.hi + kOffset),
              _mm512_set1_epi32(kOffset)};
    int64_t i = 0;
    for (; i + 16 <= n; i += 16)
      _mm_storeu_si128(reinterpret_cast<__m128i*>(out + i), quantize16(q, _mm512_loadu_ps(x + i)));
    if (i < n) {
      const __mmask16 m = mask16(n - i);
      _mm_mask_storeu_epi8(out + i, m, quantize16(q, _mm512_maskz_loadu_ps(m, x + i)));
    }
  }
};

}  // namespace

void fully_connected(const PackedFcHybrid& pf, int rows, const float* input, const int8_t* weights,
                     const float* bias, void* scratch, float* output) {
  Hybrid<V512>::fully_connected(pf, rows, input, weights, bias, scratch, output);
}

void conv2d(const PackedConvHybrid& pc, const float* image, const int8_t* weights, const float* bias, void* scratch,
            float* out_image) {
  Hybrid<V512>::conv2d(pc, image, weights, bias, scratch, out_image);
}

}  // namespace qlite::kernels::hybrid_avx512
#endif
