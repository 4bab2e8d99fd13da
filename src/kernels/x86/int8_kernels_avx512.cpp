// AVX-512 VNNI int8 kernels: the templates of int8_impl.h on 16 int32 lanes.
// Dot products: vpdpbusd (u8 input = x + 128, s8 weights; 4 MACs per lane,
// wrap-around int32 accumulation, so exact) and vpdpwssd for depthwise pairs.
// Requantization: the 64-bit single-shift form of MBQM (see Int8Requant), in
// the rounding form each op was packed with.
#if defined(__x86_64__)
// GCC 12 reports its own _mm512_undefined_* helpers inside the intrinsic
// headers as maybe-uninitialized; the warning says nothing about this code.
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <immintrin.h>

#include <cstring>

#include "kernels/int8_kernels_x86.h"

#define QLITE_INT8_NS int8_avx512
#include "kernels/x86/int8_impl.h"

namespace qlite::kernels::int8_avx512 {
namespace {

inline __mmask16 mask16(int n) { return n >= 16 ? __mmask16(0xFFFF) : __mmask16((1u << n) - 1u); }
inline __mmask64 mask64(int64_t n) { return n >= 64 ? ~__mmask64{0} : (__mmask64{1} << n) - 1; }

struct V512 {
  using Elem = uint8_t;
  using WElem = int8_t;
  using Reg = __m512i;
  using B = __m512i;
  static constexpr int kLanes = 16, kGroup = 4;
  static constexpr int kMaxMR = 6, kMaxNB = 4, kAccTarget = 8;  // 6 x 4 tile: 24 accumulators + 4 weights
  static constexpr int kDwMR = 8;
  static constexpr int kBLanes = 64;

  struct Rq {
    __m512i mult, mult_odd, left, re, ro, fe, fo, se, so, lo, hi, zp;
    bool any_left;
    bool neg_fix;  // double rounding: fe / fo may be non-zero (half up: all zero)
  };

  static Reg zero() { return _mm512_setzero_si512(); }
  static Reg set1(int32_t v) { return _mm512_set1_epi32(v); }
  static Reg add(Reg a, Reg b) { return _mm512_add_epi32(a, b); }
  static Reg sub(Reg a, Reg b) { return _mm512_sub_epi32(a, b); }
  static Reg shl(Reg a, int s) { return _mm512_sll_epi32(a, _mm_cvtsi32_si128(s)); }
  static Reg load_i32(const int32_t* p) { return _mm512_loadu_si512(p); }
  static Reg load_i32_n(const int32_t* p, int n) { return _mm512_maskz_loadu_epi32(mask16(n), p); }
  static Reg load_i8_i32(const int8_t* p, int n) { return _mm512_cvtepi8_epi32(_mm_maskz_loadu_epi8(mask16(n), p)); }

  // GEMM operands.
  static Reg load_w(const int8_t* p) { return _mm512_loadu_si512(p); }
  static Reg bcast(const uint8_t* x) {
    int32_t v;
    std::memcpy(&v, x, 4);
    return _mm512_set1_epi32(v);
  }
  static Reg dot(Reg acc, Reg x, Reg w) { return _mm512_dpbusd_epi32(acc, x, w); }
  static uint8_t pad_value(int32_t zp) { return static_cast<uint8_t>(zp + 128); }
  static void convert(const int8_t* s, uint8_t* d, int64_t n) {
    const __m512i flip = _mm512_set1_epi8(static_cast<char>(0x80));
    int64_t i = 0;
    for (; i + 64 <= n; i += 64) _mm512_storeu_si512(d + i, _mm512_xor_si512(_mm512_loadu_si512(s + i), flip));
    if (i < n) {
      const __mmask64 m = mask64(n - i);
      _mm512_mask_storeu_epi8(d + i, m, _mm512_xor_si512(_mm512_maskz_loadu_epi8(m, s + i), flip));
    }
  }

  // Depthwise int16 pairs.
  static Reg load_u32(const uint32_t* p) { return _mm512_loadu_si512(p); }
  static Reg dot2(Reg acc, Reg p, Reg w) { return _mm512_dpwssd_epi32(acc, p, w); }
  static void make_pairs(const int8_t* a, const int8_t* b, int n, int32_t zp, uint32_t* dst) {
    const __m256i z = _mm256_set1_epi16(static_cast<int16_t>(zp));
    const __m256i va = a ? _mm256_cvtepi8_epi16(_mm_maskz_loadu_epi8(mask16(n), a)) : z;
    const __m256i vb = b ? _mm256_cvtepi8_epi16(_mm_maskz_loadu_epi8(mask16(n), b)) : z;
    const __m512i idx = _mm512_set_epi16(47, 15, 46, 14, 45, 13, 44, 12, 43, 11, 42, 10, 41, 9, 40, 8, 39, 7, 38, 6,
                                         37, 5, 36, 4, 35, 3, 34, 2, 33, 1, 32, 0);
    _mm512_storeu_si512(dst, _mm512_permutex2var_epi16(_mm512_castsi256_si512(va), idx, _mm512_castsi256_si512(vb)));
  }

  // Requantization.
  static Rq load_rq(const Int8Requant& r, int c0) {
    Rq q;
    q.mult = _mm512_loadu_si512(r.multiplier.data() + c0);
    q.mult_odd = _mm512_srli_epi64(q.mult, 32);
    q.left = _mm512_loadu_si512(r.left.data() + c0);
    q.re = _mm512_loadu_si512(r.round64.data() + c0);
    q.ro = _mm512_loadu_si512(r.round64.data() + c0 + 8);
    q.fe = _mm512_loadu_si512(r.fix64.data() + c0);
    q.fo = _mm512_loadu_si512(r.fix64.data() + c0 + 8);
    q.se = _mm512_loadu_si512(r.shift64.data() + c0);
    q.so = _mm512_loadu_si512(r.shift64.data() + c0 + 8);
    q.lo = _mm512_set1_epi32(r.act_min - r.output_zero_point);
    q.hi = _mm512_set1_epi32(r.act_max - r.output_zero_point);
    q.zp = _mm512_set1_epi32(r.output_zero_point);
    q.any_left = r.any_left;
    q.neg_fix = r.rounding == qlite::ref::Rounding::kDoubleRounding;
    return q;
  }
  static Rq uniform_rq(const qlite::ref::QuantizedMultiplier& m, int32_t zp, int32_t act_min, int32_t act_max) {
    const RqScalar s = rq_scalar(m);
    Rq q;
    q.mult = _mm512_set1_epi32(s.mult);
    q.mult_odd = q.mult;
    q.left = _mm512_set1_epi32(s.left);
    q.re = q.ro = _mm512_set1_epi64(s.round64);
    q.fe = q.fo = _mm512_set1_epi64(s.fix64);
    q.se = q.so = _mm512_set1_epi64(s.shift64);
    q.lo = _mm512_set1_epi32(act_min - zp);
    q.hi = _mm512_set1_epi32(act_max - zp);
    q.zp = _mm512_set1_epi32(zp);
    q.any_left = s.left > 0;
    q.neg_fix = s.fix64 != 0;
    return q;
  }
  // Even and odd lanes as 64-bit products; both roundings in one add + shift
  // (the negative-tie fix of double rounding only where the form needs it).
  static Reg mbqm(Reg acc, const Rq& q) {
    const __m512i a = q.any_left ? _mm512_sllv_epi32(acc, q.left) : acc;
    __m512i pe = _mm512_mul_epi32(a, q.mult);
    __m512i po = _mm512_mul_epi32(_mm512_srli_epi64(a, 32), q.mult_odd);
    if (q.neg_fix) {
      const __m512i lim = _mm512_set1_epi64(-(int64_t{1} << 30));
      const __mmask8 ke = _mm512_cmplt_epi64_mask(pe, lim), ko = _mm512_cmplt_epi64_mask(po, lim);
      pe = _mm512_mask_sub_epi64(pe, ke, pe, q.fe);
      po = _mm512_mask_sub_epi64(po, ko, po, q.fo);
    }
    pe = _mm512_srav_epi64(_mm512_add_epi64(pe, q.re), q.se);
    po = _mm512_srav_epi64(_mm512_add_epi64(po, q.ro), q.so);
    return _mm512_mask_shuffle_epi32(pe, __mmask16(0xAAAA), po, _MM_PERM_CDAB);
  }
  // Clamp before adding the zero point so that nothing wraps.
  static void store_out(Reg v, const Rq& q, int8_t* out, int n) {
    v = _mm512_add_epi32(_mm512_min_epi32(_mm512_max_epi32(v, q.lo), q.hi), q.zp);
    _mm512_mask_cvtsepi32_storeu_epi8(out, mask16(n), v);
  }
  static void store_clamped(Reg v, int32_t lo, int32_t hi, int8_t* out, int n) {
    v = _mm512_min_epi32(_mm512_max_epi32(v, _mm512_set1_epi32(lo)), _mm512_set1_epi32(hi));
    _mm512_mask_cvtsepi32_storeu_epi8(out, mask16(n), v);
  }
  // (s > 0 ? s + count/2 : s - count/2) / count truncated, as the reference:
  // |s| < 2^24, so the float quotient is close enough that truncation agrees.
  static Reg div_round(Reg s, int count) {
    const __m512i h = _mm512_set1_epi32(count / 2);
    const __mmask16 pos = _mm512_cmpgt_epi32_mask(s, _mm512_setzero_si512());
    const __m512i adj = _mm512_mask_add_epi32(_mm512_sub_epi32(s, h), pos, s, h);
    return _mm512_cvttps_epi32(_mm512_div_ps(_mm512_cvtepi32_ps(adj), _mm512_set1_ps(static_cast<float>(count))));
  }

  // Byte vectors (max pool).
  static B bset1(int8_t v) { return _mm512_set1_epi8(v); }
  static B bload(const int8_t* p, int n) { return _mm512_maskz_loadu_epi8(mask64(n), p); }
  static void bstore(int8_t* p, B v, int n) { _mm512_mask_storeu_epi8(p, mask64(n), v); }
  static B bmax(B a, B b) { return _mm512_max_epi8(a, b); }
  static B bmin(B a, B b) { return _mm512_min_epi8(a, b); }
};

}  // namespace

QLITE_INT8_DEFINE_ENTRY_POINTS(V512)

}  // namespace qlite::kernels::int8_avx512
#endif
