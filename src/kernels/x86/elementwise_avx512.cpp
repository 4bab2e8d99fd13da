// AVX-512 8-bit elementwise kernels (kernels/elementwise_x86.h).
#if defined(__x86_64__)
#include <immintrin.h>

#include <cstring>

#include "kernels/elementwise_x86.h"
#include "kernels/x86/resize_impl.h"

namespace qlite::kernels::elementwise_avx512 {
namespace {

inline __mmask16 mask16(int64_t n) { return n >= 16 ? __mmask16(0xFFFF) : __mmask16((1u << n) - 1u); }
inline __mmask64 mask64(int64_t n) { return n >= 64 ? ~__mmask64{0} : (__mmask64{1} << n) - 1; }

// ---- table lookup (VBMI) -------------------------------------------------------
// vpermi2b indexes 128 bytes by the low 7 bits: one over the lower half of the
// table, one over the upper half, and bit 7 of the input picks between them.
struct Quarters {
  __m512i t0, t1, t2, t3;
};
__attribute__((target("avx512vbmi"), always_inline)) inline __m512i look(const Quarters& t, __m512i x) {
  const __m512i lo = _mm512_permutex2var_epi8(t.t0, x, t.t1), hi = _mm512_permutex2var_epi8(t.t2, x, t.t3);
  return _mm512_mask_blend_epi8(_mm512_movepi8_mask(x), lo, hi);
}

__attribute__((target("avx512vbmi"))) void lookup_vbmi(const uint8_t* table, int64_t n, const uint8_t* in,
                                                          uint8_t* out) {
  const Quarters t{_mm512_loadu_si512(table), _mm512_loadu_si512(table + 64), _mm512_loadu_si512(table + 128),
                   _mm512_loadu_si512(table + 192)};
  int64_t i = 0;
  for (; i + 128 <= n; i += 128) {
    const __m512i x0 = _mm512_loadu_si512(in + i), x1 = _mm512_loadu_si512(in + i + 64);
    _mm512_storeu_si512(out + i, look(t, x0));
    _mm512_storeu_si512(out + i + 64, look(t, x1));
  }
  for (; i < n; i += 64) {
    const __mmask64 m = mask64(n - i);
    _mm512_mask_storeu_epi8(out + i, m, look(t, _mm512_maskz_loadu_epi8(m, in + i)));
  }
}

// ---- MUL -------------------------------------------------------------------------
// MultiplyByQuantizedMultiplier (double rounding) on 16 int32 lanes in the
// 64-bit single-shift form of the AVX-512 int8 kernels (Int8Requant):
//   (p + round64 - (p < -2^30 ? fix64 : 0)) >> shift64, p = (x << left) * M.
struct Rq {
  __m512i mult, round, fix, lim, lo, hi, zp, off1, off2;
  __m128i lcount, scount;
  bool any_left, neg_fix;
  explicit Rq(const qlite::ref::MulQuantParams& p) {
    const int left = p.m.shift > 0 ? p.m.shift : 0, right = p.m.shift > 0 ? 0 : -p.m.shift;
    mult = _mm512_set1_epi32(p.m.multiplier);
    round = _mm512_set1_epi64((int64_t{1} << 30) + (right > 0 ? int64_t{1} << (30 + right) : 0));
    fix = _mm512_set1_epi64(right > 0 ? int64_t{1} << 31 : 0);
    lim = _mm512_set1_epi64(-(int64_t{1} << 30));
    lcount = _mm_cvtsi32_si128(left);
    scount = _mm_cvtsi32_si128(31 + right);
    any_left = left > 0;
    neg_fix = right > 0;
    lo = _mm512_set1_epi32(p.act.min - p.out_offset);
    hi = _mm512_set1_epi32(p.act.max - p.out_offset);
    zp = _mm512_set1_epi32(p.out_offset);
    off1 = _mm512_set1_epi32(p.in1_offset);
    off2 = _mm512_set1_epi32(p.in2_offset);
  }
  // clamp(MBQM(x) + zp) without int32 wrap: the clamp comes first.
  __m512i operator()(__m512i x) const {
    const __m512i a = any_left ? _mm512_sll_epi32(x, lcount) : x;
    __m512i pe = _mm512_mul_epi32(a, mult);
    __m512i po = _mm512_mul_epi32(_mm512_srli_epi64(a, 32), mult);
    if (neg_fix) {
      pe = _mm512_mask_sub_epi64(pe, _mm512_cmplt_epi64_mask(pe, lim), pe, fix);
      po = _mm512_mask_sub_epi64(po, _mm512_cmplt_epi64_mask(po, lim), po, fix);
    }
    pe = _mm512_sra_epi64(_mm512_add_epi64(pe, round), scount);
    po = _mm512_sra_epi64(_mm512_add_epi64(po, round), scount);
    const __m512i v = _mm512_mask_shuffle_epi32(pe, __mmask16(0xAAAA), po, _MM_PERM_CDAB);
    return _mm512_add_epi32(_mm512_min_epi32(_mm512_max_epi32(v, lo), hi), zp);
  }
};

template <bool S>
inline __m512i widen(const uint8_t* p, __mmask16 m) {
  const __m128i v = _mm_maskz_loadu_epi8(m, p);
  return S ? _mm512_cvtepi8_epi32(v) : _mm512_cvtepu8_epi32(v);
}
template <bool S>
inline int32_t value(const uint8_t* p) {
  return S ? static_cast<int32_t>(static_cast<int8_t>(*p)) : static_cast<int32_t>(*p);
}

template <bool S, bool AS, bool BS>
inline void mul16(const Rq& q, const uint8_t* a, const uint8_t* b, __m512i sa, __m512i sb, uint8_t* out, __mmask16 m) {
  const __m512i x = AS ? sa : _mm512_add_epi32(widen<S>(a, m), q.off1);
  const __m512i y = BS ? sb : _mm512_add_epi32(widen<S>(b, m), q.off2);
  // Every value is within the type after the clamp: truncation to bytes is exact.
  _mm512_mask_cvtepi32_storeu_epi8(out, m, q(_mm512_mullo_epi32(x, y)));
}

template <bool S, bool AS, bool BS>
void mul_loop(const qlite::ref::MulQuantParams& p, int64_t n, const uint8_t* a, const uint8_t* b, uint8_t* out) {
  const Rq q(p);
  const __m512i sa = _mm512_set1_epi32(value<S>(a) + p.in1_offset);
  const __m512i sb = _mm512_set1_epi32(value<S>(b) + p.in2_offset);
  int64_t i = 0;
  for (; i + 64 <= n; i += 64) {
#pragma GCC unroll 4
    for (int k = 0; k < 64; k += 16)
      mul16<S, AS, BS>(q, AS ? a : a + i + k, BS ? b : b + i + k, sa, sb, out + i + k, __mmask16(0xFFFF));
  }
  for (; i < n; i += 16) mul16<S, AS, BS>(q, AS ? a : a + i, BS ? b : b + i, sa, sb, out + i, mask16(n - i));
}

template <bool S>
void mul_any(const qlite::ref::MulQuantParams& p, int64_t n, const uint8_t* a, bool as, const uint8_t* b, bool bs,
             uint8_t* out) {
  if (as && bs) return mul_loop<S, true, true>(p, n, a, b, out);
  if (as) return mul_loop<S, true, false>(p, n, a, b, out);
  if (bs) return mul_loop<S, false, true>(p, n, a, b, out);
  mul_loop<S, false, false>(p, n, a, b, out);
}

// ---- RESIZE_BILINEAR int8 --------------------------------------------------------
// As the AVX2 form (resize_impl.h) on 16 lanes, the last partial vector masked.
struct Resize {
  static int64_t pixel(const int8_t* const (&p)[4], const int32_t (&w)[4], int64_t depth, int8_t* out) {
    const __m512i w0 = _mm512_set1_epi32(w[0]), w1 = _mm512_set1_epi32(w[1]);
    const __m512i w2 = _mm512_set1_epi32(w[2]), w3 = _mm512_set1_epi32(w[3]);
    const __m512i half = _mm512_set1_epi32(1 << 19);
    for (int64_t c = 0; c < depth; c += 16) {
      const __mmask16 m = mask16(depth - c);
      auto ld = [&](int k) { return _mm512_cvtepi8_epi32(_mm_maskz_loadu_epi8(m, p[k] + c)); };
      __m512i v = _mm512_mullo_epi32(ld(0), w0);
      v = _mm512_add_epi32(v, _mm512_mullo_epi32(ld(1), w1));
      v = _mm512_add_epi32(v, _mm512_mullo_epi32(ld(2), w2));
      v = _mm512_add_epi32(v, _mm512_mullo_epi32(ld(3), w3));
      const __m512i q = _mm512_srli_epi32(_mm512_add_epi32(_mm512_abs_epi32(v), half), 20);
      const __m512i r = _mm512_mask_sub_epi32(q, _mm512_movepi32_mask(v), _mm512_setzero_si512(), q);
      _mm512_mask_cvtepi32_storeu_epi8(out + c, m, r);  // truncation: static_cast<int8_t>
    }
    return depth;
  }
};

}  // namespace

void resize_bilinear_s8(const qlite::ref::ResizeGeometry& g, const int8_t* in, int8_t* out) {
  resize_detail::resize_bilinear_s8<Resize>(g, in, out);
}

bool lookup_bytes(const uint8_t* table, int64_t n, const uint8_t* in, uint8_t* out) {
  // VBMI is detected here rather than in CpuFeatures (qlite/core.h): only this kernel needs it.
  static const bool vbmi = [] {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512vbmi") != 0;
  }();
  if (!vbmi) return false;
  lookup_vbmi(table, n, in, out);
  return true;
}

void mul_quant8(const qlite::ref::MulQuantParams& p, bool is_signed, int64_t n, const uint8_t* a, bool a_scalar,
                const uint8_t* b, bool b_scalar, uint8_t* out) {
  if (is_signed) mul_any<true>(p, n, a, a_scalar, b, b_scalar, out);
  else mul_any<false>(p, n, a, a_scalar, b, b_scalar, out);
}

}  // namespace qlite::kernels::elementwise_avx512
#endif
