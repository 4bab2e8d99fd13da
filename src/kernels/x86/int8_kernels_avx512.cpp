// AVX-512 VNNI int8 kernels: the templates of int8_impl.h on 16 int32 lanes.
// Dot products: vpdpbusd (u8 input = x + 128, s8 weights; 4 MACs per lane,
// wrap-around int32 accumulation, so exact), also for depthwise tap groups.
// Requantization: the 64-bit single-shift form of MBQM (see Int8Requant), in
// the rounding form each op was packed with.
#if defined(__x86_64__)
// GCC 12's false (maybe-)uninitialized warnings from its own AVX-512
// intrinsic headers are silenced for this file by qlite_isa_flags (cmake).
#include <immintrin.h>

#include <cstring>

#include "kernels/int8_kernels_x86.h"
#include "kernels/x86/int_dot_avx512.h"

#define QLITE_INT8_NS int8_avx512
#include "kernels/x86/int8_impl.h"
#include "kernels/x86/int8_depthwise_impl.h"

namespace qlite::kernels::int8_avx512 {
namespace {

inline __mmask16 mask16(int n) { return n >= 16 ? __mmask16(0xFFFF) : __mmask16((1u << n) - 1u); }
inline __mmask64 mask64(int64_t n) { return n >= 64 ? ~__mmask64{0} : (__mmask64{1} << n) - 1; }

// The cheaper exact double rounding (fast_double_rounding,
// int8_kernels_x86.h) on 16 lanes, before its final shift by r: the even and
// odd lanes' unsigned products a * m2 plus c64 (m2o: the odd lanes'
// multipliers in the low dwords; ce / co: the even / odd lanes' constants),
// their high dwords gathered into one register, minus 1 where a < thr when
// Thr. Shared by ADD's output stage and the depthwise tiles.
template <bool Thr>
inline __m512i fast_dr_high(__m512i a, __m512i m2, __m512i m2o, __m512i ce, __m512i co, __m512i thr) {
  const __m512i we = _mm512_add_epi64(_mm512_mul_epu32(a, m2), ce);
  const __m512i wo = _mm512_add_epi64(_mm512_mul_epu32(_mm512_srli_epi64(a, 32), m2o), co);
  const __m512i y = _mm512_mask_shuffle_epi32(wo, __mmask16(0x5555), we, _MM_PERM_CDAB);
  if constexpr (Thr) return _mm512_mask_sub_epi32(y, _mm512_cmplt_epi32_mask(a, thr), y, _mm512_set1_epi32(1));
  return y;
}

struct V512 : DotQuads512 {
  using B = __m512i;
  static constexpr int kMaxMR = 6, kMaxNB = 4, kAccTarget = 8;  // 6 x 4 tile: 24 accumulators + 4 weights
  static constexpr int kBLanes = 64;

  struct Rq {
    __m512i mult, mult_odd, left, re, ro, fe, fo, se, so, lo, hi, zp;
    __m512i zp16, lo8, hi8;  // store_out4
    bool any_left;
    bool neg_fix;  // double rounding: fe / fo may be non-zero (half up: all zero)
  };

  static Reg shl(Reg a, int s) { return _mm512_sll_epi32(a, _mm_cvtsi32_si128(s)); }
  // ADD's 32-bit input scaling (int8_impl.h).
  static Reg mullo(Reg a, Reg b) { return _mm512_mullo_epi32(a, b); }
  static Reg sra(Reg a, int s) { return _mm512_sra_epi32(a, _mm_cvtsi32_si128(s)); }
  static Reg sub_where_lt(Reg v, Reg a, Reg thr, Reg d) {
    return _mm512_mask_sub_epi32(v, _mm512_cmplt_epi32_mask(a, thr), v, d);
  }
  static Reg load_i32_n(const int32_t* p, int n) { return _mm512_maskz_loadu_epi32(mask16(n), p); }
  static Reg load_i8_i32(const int8_t* p, int n) { return _mm512_cvtepi8_epi32(_mm_maskz_loadu_epi8(mask16(n), p)); }

  // GEMM operands (load_w, bcast, dot: DotQuads512).
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
    q.zp16 = _mm512_set1_epi16(static_cast<int16_t>(r.output_zero_point));
    q.lo8 = _mm512_set1_epi8(static_cast<char>(r.act_min));
    q.hi8 = _mm512_set1_epi8(static_cast<char>(r.act_max));
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
    q.zp16 = _mm512_set1_epi16(static_cast<int16_t>(zp));
    q.lo8 = _mm512_set1_epi8(static_cast<char>(act_min));
    q.hi8 = _mm512_set1_epi8(static_cast<char>(act_max));
    q.any_left = s.left > 0;
    q.neg_fix = s.fix64 != 0;
    return q;
  }
  // Even and odd lanes as 64-bit products; both roundings in one add + shift
  // (the negative-tie fix of double rounding only where the form needs it).
  static Reg mbqm(Reg acc, const Rq& q) {
    return q.any_left || q.neg_fix ? mbqm_general(acc, q) : mbqm_plain(acc, q);
  }
  // No left shift, half up: the common conv / fully connected case.
  static Reg mbqm_plain(Reg acc, const Rq& q) {
    const __m512i pe = _mm512_srav_epi64(_mm512_add_epi64(_mm512_mul_epi32(acc, q.mult), q.re), q.se);
    const __m512i po =
        _mm512_srav_epi64(_mm512_add_epi64(_mm512_mul_epi32(_mm512_srli_epi64(acc, 32), q.mult_odd), q.ro), q.so);
    return _mm512_mask_shuffle_epi32(pe, __mmask16(0xAAAA), po, _MM_PERM_CDAB);
  }
  static bool plain(const Rq& q) { return !q.any_left && !q.neg_fix; }

  // Cheaper form for the small conv path, valid when the rounding is half up,
  // no channel shifts left and every channel shifts right by 1..20 (so the
  // 64-bit sum below cannot overflow): then
  // the shift 31 + right >= 32 is the high dword shifted by right - 1 (one
  // 32-bit shift for both halves), and the output zero point is folded into
  // the 64-bit rounding constant (|MBQM| < 2^30, so MBQM + zp stays in int32).
  struct FastRq {
    __m512i mult, mult_odd, re, ro, sd, lo8, hi8;
    bool clamp_lo, clamp_hi;
  };
  static bool fast_ok(const Int8Requant& r, int c0) { return fast_requant_ok(r, c0, 16); }
  static FastRq fast_rq(const Int8Requant& r, int c0) {
    FastRq q;
    q.mult = _mm512_loadu_si512(r.multiplier.data() + c0);
    q.mult_odd = _mm512_srli_epi64(q.mult, 32);
    // fast64 holds a block's even lanes, then its odd lanes. Padding lanes
    // (right 0) get a harmless shift; their bytes are never stored.
    q.re = _mm512_loadu_si512(r.fast64.data() + c0);
    q.ro = _mm512_loadu_si512(r.fast64.data() + c0 + 8);
    q.sd = _mm512_loadu_si512(r.fast_shift.data() + c0);
    q.lo8 = _mm512_set1_epi8(static_cast<char>(r.act_min));
    q.hi8 = _mm512_set1_epi8(static_cast<char>(r.act_max));
    q.clamp_lo = r.act_min > -128;
    q.clamp_hi = r.act_max < 127;
    return q;
  }
  // MBQM(acc) + zp in int32 lanes.
  static Reg mbqm_fast(Reg acc, const FastRq& q) {
    const __m512i e = _mm512_add_epi64(_mm512_mul_epi32(acc, q.mult), q.re);
    const __m512i o = _mm512_add_epi64(_mm512_mul_epi32(_mm512_srli_epi64(acc, 32), q.mult_odd), q.ro);
    // High dwords of e to the even lanes, of o stay in the odd lanes.
    return _mm512_srav_epi32(_mm512_mask_shuffle_epi32(o, __mmask16(0x5555), e, _MM_PERM_CDAB), q.sd);
  }
  static void store_fast4(const Reg (&v)[4], const FastRq& q, int8_t* out, int n) {
    if (n % 4 != 0) {
      for (int p = 0; p < 4; ++p) store_fast1(v[p], q, out + p * n, n);
      return;
    }
    __m512i r = _mm512_packs_epi16(_mm512_packs_epi32(v[0], v[1]), _mm512_packs_epi32(v[2], v[3]));
    if (q.clamp_lo) r = _mm512_max_epi8(r, q.lo8);
    if (q.clamp_hi) r = _mm512_min_epi8(r, q.hi8);
    store_bytes4(r, out, n);
  }
  // One pixel's NB (2 or 4) full blocks of 16 channels, contiguous in the
  // output (a GEMM tile's row): saturating packs to bytes (int32 -> int16 ->
  // int8 saturates as int32 -> int8 does), the activation clamp on bytes, one
  // dword permute into channel order and one store, instead of NB
  // store_fast1. After the packs, dword 4l + d holds channels 4l..4l+3 of block d.
  static constexpr bool kFastBlocks = true;
  template <int NB>
  static void store_fast_blocks(const Reg* v, const FastRq& q, int8_t* out) {
    static_assert(NB == 2 || NB == 4);
    alignas(64) static constexpr int32_t kOrder4[16] = {0, 4, 8, 12, 1, 5, 9, 13, 2, 6, 10, 14, 3, 7, 11, 15};
    alignas(64) static constexpr int32_t kOrder2[16] = {0, 4, 8, 12, 1, 5, 9, 13, 0, 0, 0, 0, 0, 0, 0, 0};
    const __m512i p01 = _mm512_packs_epi32(v[0], v[1]);
    __m512i r = _mm512_packs_epi16(p01, NB == 4 ? _mm512_packs_epi32(v[2], v[3]) : p01);
    if (q.clamp_lo) r = _mm512_max_epi8(r, q.lo8);
    if (q.clamp_hi) r = _mm512_min_epi8(r, q.hi8);
    r = _mm512_permutexvar_epi32(_mm512_load_si512(NB == 4 ? kOrder4 : kOrder2), r);
    if constexpr (NB == 4) _mm512_storeu_si512(out, r);
    else _mm256_storeu_si256(reinterpret_cast<__m256i*>(out), _mm512_castsi512_si256(r));
  }
  static void store_fast1(Reg v, const FastRq& q, int8_t* out, int n) {
    __m128i r = _mm512_cvtsepi32_epi8(v);
    r = _mm_min_epi8(_mm_max_epi8(r, _mm512_castsi512_si128(q.lo8)), _mm512_castsi512_si128(q.hi8));
    _mm_mask_storeu_epi8(out, mask16(n), r);
  }
  // r: bytes of packs(packs(v0, v1), packs(v2, v3)); dword 4c + p holds
  // channels 4c..4c+3 of pixel p. Stores pixels 0..3 (n % 4 == 0) contiguously.
  static void store_bytes4(__m512i r, int8_t* out, int n) {
    alignas(64) static constexpr int32_t kOrder[4][16] = {
        {0, 1, 2, 3, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0},
        {0, 4, 1, 5, 2, 6, 3, 7, 0, 0, 0, 0, 0, 0, 0, 0},
        {0, 4, 8, 1, 5, 9, 2, 6, 10, 3, 7, 11, 0, 0, 0, 0},
        {0, 4, 8, 12, 1, 5, 9, 13, 2, 6, 10, 14, 3, 7, 11, 15}};
    r = _mm512_permutexvar_epi32(_mm512_load_si512(kOrder[n / 4 - 1]), r);
    // Plain stores of 4n bytes (masked stores are slower on Zen 4).
    if (n == 16) return _mm512_storeu_si512(out, r);
    if (n >= 8) _mm256_storeu_si256(reinterpret_cast<__m256i*>(out), _mm512_castsi512_si256(r));
    if (n == 4) _mm_storeu_si128(reinterpret_cast<__m128i*>(out), _mm512_castsi512_si128(r));
    if (n == 12) _mm_storeu_si128(reinterpret_cast<__m128i*>(out + 32), _mm512_extracti32x4_epi32(r, 2));
  }
  static Reg mbqm_general(Reg acc, const Rq& q) {
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
  // Four pixels of n channels (n <= 16), contiguous in the output. For n a
  // multiple of 4: saturating packs to bytes, the zero point added in int16
  // with saturation, the clamp on bytes, one dword permute and one store.
  // Equal to clamp(v + zp) because the activation range and zp lie in int8.
  static void store_out4(const Reg (&v)[4], const Rq& q, int8_t* out, int n) {
    if (n % 4 != 0) {
      for (int p = 0; p < 4; ++p) store_out(v[p], q, out + p * n, n);
      return;
    }
    const __m512i a = _mm512_adds_epi16(_mm512_packs_epi32(v[0], v[1]), q.zp16);
    const __m512i b = _mm512_adds_epi16(_mm512_packs_epi32(v[2], v[3]), q.zp16);
    store_bytes4(_mm512_min_epi8(_mm512_max_epi8(_mm512_packs_epi16(a, b), q.lo8), q.hi8), out, n);
  }
  static void store_clamped(Reg v, int32_t lo, int32_t hi, int8_t* out, int n) {
    v = _mm512_min_epi32(_mm512_max_epi32(v, _mm512_set1_epi32(lo)), _mm512_set1_epi32(hi));
    _mm512_mask_cvtsepi32_storeu_epi8(out, mask16(n), v);
  }
  // ADD's output stage in the cheaper double rounding (fast_dr_high, one
  // set of constants for every lane): a is the raw sum minus the range's lo
  // (non-negative); the result includes the output zero point.
  struct DrFast {
    __m512i m2, c64, thr;
    __m128i shift;
  };
  static DrFast dr_fast(const FastDoubleRounding& f) {
    return {_mm512_set1_epi32(static_cast<int32_t>(f.m2)), _mm512_set1_epi64(f.c64), _mm512_set1_epi32(f.thr),
            _mm_cvtsi32_si128(f.shift)};
  }
  static Reg dr_fast_apply(Reg a, const DrFast& q) {
    return _mm512_sra_epi32(fast_dr_high<true>(a, q.m2, q.m2, q.c64, q.c64, q.thr), q.shift);
  }
  // 32 bytes as two registers of int32 (bytes 0-15, 16-31).
  static void load2_i32(const int8_t* p, Reg& lo, Reg& hi) {
    lo = _mm512_cvtepi8_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
    hi = _mm512_cvtepi8_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p + 16)));
  }
  // Two registers of int32, saturated to bytes, clamped to [lo, hi] and
  // stored as 32 bytes in lane order.
  static void store2_clamped(Reg v0, Reg v1, int8_t lo, int8_t hi, int8_t* out) {
    const __m256i b = _mm256_inserti128_si256(_mm256_castsi128_si256(_mm512_cvtsepi32_epi8(v0)), _mm512_cvtsepi32_epi8(v1), 1);
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(out),
                        _mm256_min_epi8(_mm256_max_epi8(b, _mm256_set1_epi8(lo)), _mm256_set1_epi8(hi)));
  }
  // (s > 0 ? s + count/2 : s - count/2) / count truncated, as the reference:
  // |s| < 2^24, so the float quotient is close enough that truncation agrees.
  static Reg div_round(Reg s, int count) {
    const __m512i h = _mm512_set1_epi32(count / 2);
    const __mmask16 pos = _mm512_cmpgt_epi32_mask(s, _mm512_setzero_si512());
    const __m512i adj = _mm512_mask_add_epi32(_mm512_sub_epi32(s, h), pos, s, h);
    return _mm512_cvttps_epi32(_mm512_div_ps(_mm512_cvtepi32_ps(adj), _mm512_set1_ps(static_cast<float>(count))));
  }

  // ref::mean_int8_from_sum's kFloatRescale on 16 sums: float(sum) / float(n),
  // times scale, plus bias, each rounded once to float (the explicit-rounding
  // intrinsics cannot be contracted into an FMA), rounded half away from zero
  // (trunc, then +-1 where |y - trunc(y)| >= 0.5, exact), plus zp, clamped to
  // int8 and then to the activation. Equal to the scalar steps while
  // |y| < 2^22 (no NaN, no infinity, every integer step exact); otherwise
  // returns false and stores nothing (the caller finishes the block scalar).
  static constexpr bool kFloatMean = true;
  static bool mean_float_rescale(const qlite::ref::MeanInt8Params& p, Reg sums, int8_t* out, int n) {
    constexpr int kNear = _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC;
    const __mmask16 live = mask16(n);
    const __m512 mean = _mm512_div_round_ps(_mm512_cvtepi32_ps(sums),
                                            _mm512_set1_ps(static_cast<float>(p.h * p.w)), kNear);
    const __m512 y = _mm512_add_round_ps(_mm512_mul_round_ps(mean, _mm512_set1_ps(p.scale), kNear),
                                         _mm512_set1_ps(p.bias), kNear);
    const __m512 ay = _mm512_abs_ps(y);
    if (_mm512_mask_cmp_ps_mask(live, ay, _mm512_set1_ps(0x1p22f), _CMP_LT_OQ) != live) return false;
    const __m512 t = _mm512_roundscale_ps(y, _MM_FROUND_TO_ZERO | _MM_FROUND_NO_EXC);
    const __mmask16 up = _mm512_cmp_ps_mask(_mm512_abs_ps(_mm512_sub_ps(y, t)), _mm512_set1_ps(0.5f), _CMP_GE_OQ);
    const __m512 step = _mm512_castsi512_ps(
        _mm512_or_si512(_mm512_castps_si512(_mm512_set1_ps(1.0f)),
                        _mm512_and_si512(_mm512_castps_si512(y), _mm512_set1_epi32(static_cast<int32_t>(0x80000000u)))));
    const __m512 r = _mm512_mask_add_ps(t, up, t, step);
    // r + zp is an exact integer below 2^23; the clamps in int32.
    __m512i v = _mm512_add_epi32(_mm512_cvttps_epi32(r), _mm512_set1_epi32(p.output_zero_point));
    v = _mm512_min_epi32(_mm512_max_epi32(v, _mm512_set1_epi32(-128)), _mm512_set1_epi32(127));
    v = _mm512_min_epi32(_mm512_max_epi32(v, _mm512_set1_epi32(p.act.min)), _mm512_set1_epi32(p.act.max));
    _mm512_mask_cvtsepi32_storeu_epi8(out, live, v);
    return true;
  }

  // Byte vectors (max pool).
  static B bset1(int8_t v) { return _mm512_set1_epi8(v); }
  static B bload(const int8_t* p, int n) { return _mm512_maskz_loadu_epi8(mask64(n), p); }
  static void bstore(int8_t* p, B v, int n) { _mm512_mask_storeu_epi8(p, mask64(n), v); }
  static B bmax(B a, B b) { return _mm512_max_epi8(a, b); }
  static B bmin(B a, B b) { return _mm512_min_epi8(a, b); }
};

// Depthwise's fast requantization (PackedDepthwiseInt8::fast_rq) of register
// column k of a tile, channels c0..c0+15 (packed order), in place:
// fast_dr_high with per-channel constants (Thr false: pd.rq_thr_zero, no
// a < thr), shifted right by r. The result includes the output zero point
// (saturating packs and the byte clamp finish).
template <int MR, bool Thr, int K>
inline void fast_rq_column(__m512i (&acc)[MR][K], int k, const PackedDepthwiseInt8& pd, int c0) {
  const __m512i m2 = _mm512_loadu_si512(pd.rq_m2.data() + c0), m2o = _mm512_srli_epi64(m2, 32);
  const __m512i ce = _mm512_loadu_si512(pd.rq_c64.data() + c0), co = _mm512_loadu_si512(pd.rq_c64.data() + c0 + 8);
  const __m512i thr = _mm512_loadu_si512(pd.rq_thr.data() + c0), sh = _mm512_loadu_si512(pd.rq_shift.data() + c0);
#pragma GCC unroll 16
  for (int i = 0; i < MR; ++i) acc[i][k] = _mm512_srav_epi32(fast_dr_high<Thr>(acc[i][k], m2, m2o, ce, co, thr), sh);
}

// Depthwise (int8_depthwise_impl.h): blocks of 64 channels in 4 registers,
// groups of 4 taps as u8 (x + 128) for vpdpbusd.
struct DwV512 {
  using Reg = __m512i;
  using Pad = __m512i;
  static constexpr int kBlock = 64, kRegs = 4, kGroup = 4, kMR = 4;  // 16 accumulators
  static constexpr bool kPairs = false;

  static Pad make_pad(int32_t zp) { return _mm512_set1_epi8(static_cast<char>(zp + 128)); }
  static Reg load(const uint32_t* p) { return _mm512_loadu_si512(p); }
  static Reg dot(Reg acc, Reg x, Reg w) { return _mm512_dpbusd_epi32(acc, x, w); }

  // Four taps of 64 channels -> 4 registers of (t0, t1, t2, t3) byte groups;
  // register k, lane m holds channel 16 * (m / 4) + 4 * k + m % 4.
  static void build(const int8_t* const* tap, int cb, int n, const Pad& pad, uint32_t* d) {
    const __m512i flip = _mm512_set1_epi8(static_cast<char>(0x80));
    auto get = [&](int t) {
      if (!tap[t]) return pad;
      const __m512i v = n == 64 ? _mm512_loadu_si512(tap[t] + cb) : _mm512_maskz_loadu_epi8(mask64(n), tap[t] + cb);
      return _mm512_xor_si512(v, flip);
    };
    const __m512i t0 = get(0), t1 = get(1), t2 = get(2), t3 = get(3);
    const __m512i a = _mm512_unpacklo_epi8(t0, t1), b = _mm512_unpackhi_epi8(t0, t1);
    const __m512i c = _mm512_unpacklo_epi8(t2, t3), e = _mm512_unpackhi_epi8(t2, t3);
    _mm512_storeu_si512(d, _mm512_unpacklo_epi16(a, c));
    _mm512_storeu_si512(d + 16, _mm512_unpackhi_epi16(a, c));
    _mm512_storeu_si512(d + 32, _mm512_unpacklo_epi16(b, e));
    _mm512_storeu_si512(d + 48, _mm512_unpackhi_epi16(b, e));
  }

  static void build_full(const int8_t* p, int64_t step, int cb, uint32_t* d) {
    const __m512i flip = _mm512_set1_epi8(static_cast<char>(0x80));
    const __m512i t0 = _mm512_xor_si512(_mm512_loadu_si512(p + cb), flip);
    const __m512i t1 = _mm512_xor_si512(_mm512_loadu_si512(p + step + cb), flip);
    const __m512i t2 = _mm512_xor_si512(_mm512_loadu_si512(p + 2 * step + cb), flip);
    const __m512i t3 = _mm512_xor_si512(_mm512_loadu_si512(p + 3 * step + cb), flip);
    const __m512i a = _mm512_unpacklo_epi8(t0, t1), b = _mm512_unpackhi_epi8(t0, t1);
    const __m512i c = _mm512_unpacklo_epi8(t2, t3), e = _mm512_unpackhi_epi8(t2, t3);
    _mm512_storeu_si512(d, _mm512_unpacklo_epi16(a, c));
    _mm512_storeu_si512(d + 16, _mm512_unpackhi_epi16(a, c));
    _mm512_storeu_si512(d + 32, _mm512_unpacklo_epi16(b, e));
    _mm512_storeu_si512(d + 48, _mm512_unpackhi_epi16(b, e));
  }

  // Requantize MR pixels x 4 registers in place (constants loaded once per
  // register column), then saturating packs restore channel order: the int16
  // and int8 saturation plus the byte clamp equal clamp(v + zp, act) exactly.
  template <int MR, int Fast>
  static void requant_store(Reg (&acc)[MR][kRegs], const PackedDepthwiseInt8& pd, int cb, int n, int8_t* out,
                            int ostride) {
    const Int8Requant& r = pd.rq;
    if constexpr (Fast) {
#pragma GCC unroll 16
      for (int k = 0; k < kRegs; ++k) fast_rq_column<MR, Fast == 1>(acc, k, pd, cb + 16 * k);
      const __m512i lo = _mm512_set1_epi8(static_cast<char>(r.act_min)), hi = _mm512_set1_epi8(static_cast<char>(r.act_max));
#pragma GCC unroll 16
      for (int i = 0; i < MR; ++i) {
        const __m512i w = _mm512_packs_epi16(_mm512_packs_epi32(acc[i][0], acc[i][1]), _mm512_packs_epi32(acc[i][2], acc[i][3]));
        const __m512i v = _mm512_min_epi8(_mm512_max_epi8(w, lo), hi);
        int8_t* o = out + static_cast<int64_t>(i) * ostride;
        if (n == 64) _mm512_storeu_si512(o, v);
        else _mm512_mask_storeu_epi8(o, mask64(n), v);
      }
      return;
    }
    const __m512i lim = _mm512_set1_epi64(-(int64_t{1} << 30));
#pragma GCC unroll 16
    for (int k = 0; k < kRegs; ++k) {
      const int c0 = cb + 16 * k;
      const __m512i mult = _mm512_loadu_si512(r.multiplier.data() + c0), mult_odd = _mm512_srli_epi64(mult, 32);
      const __m512i left = _mm512_loadu_si512(r.left.data() + c0);
      const __m512i re = _mm512_loadu_si512(r.round64.data() + c0), ro = _mm512_loadu_si512(r.round64.data() + c0 + 8);
      const __m512i fe = _mm512_loadu_si512(r.fix64.data() + c0), fo = _mm512_loadu_si512(r.fix64.data() + c0 + 8);
      const __m512i se = _mm512_loadu_si512(r.shift64.data() + c0), so = _mm512_loadu_si512(r.shift64.data() + c0 + 8);
#pragma GCC unroll 16
      for (int i = 0; i < MR; ++i) {
        const __m512i a = r.any_left ? _mm512_sllv_epi32(acc[i][k], left) : acc[i][k];
        __m512i pe = _mm512_mul_epi32(a, mult);
        __m512i po = _mm512_mul_epi32(_mm512_srli_epi64(a, 32), mult_odd);
        pe = _mm512_mask_sub_epi64(pe, _mm512_cmplt_epi64_mask(pe, lim), pe, fe);
        po = _mm512_mask_sub_epi64(po, _mm512_cmplt_epi64_mask(po, lim), po, fo);
        pe = _mm512_srav_epi64(_mm512_add_epi64(pe, re), se);
        po = _mm512_srav_epi64(_mm512_add_epi64(po, ro), so);
        acc[i][k] = _mm512_mask_shuffle_epi32(pe, __mmask16(0xAAAA), po, _MM_PERM_CDAB);
      }
    }
    const __m512i zp = _mm512_set1_epi16(static_cast<int16_t>(r.output_zero_point));
    const __m512i lo = _mm512_set1_epi8(static_cast<char>(r.act_min)), hi = _mm512_set1_epi8(static_cast<char>(r.act_max));
#pragma GCC unroll 16
    for (int i = 0; i < MR; ++i) {
      const __m512i w01 = _mm512_adds_epi16(_mm512_packs_epi32(acc[i][0], acc[i][1]), zp);
      const __m512i w23 = _mm512_adds_epi16(_mm512_packs_epi32(acc[i][2], acc[i][3]), zp);
      const __m512i v = _mm512_min_epi8(_mm512_max_epi8(_mm512_packs_epi16(w01, w23), lo), hi);
      int8_t* o = out + static_cast<int64_t>(i) * ostride;
      if (n == 64) _mm512_storeu_si512(o, v);
      else _mm512_mask_storeu_epi8(o, mask64(n), v);
    }
  }
};

// int16 operands on 16 lanes (vpmaddwd, 2 MACs per lane): the GEMM of
// uint8 models whose weights minus their zero point do not fit int8
// (pack_conv2d_uint8 / pack_fully_connected_uint8, group 2). Everything but
// the operands is V512's.
struct V512W : V512 {
  using Elem = int16_t;
  using WElem = int16_t;
  static constexpr int kGroup = 2;
  static Reg load_w(const int16_t* p) { return _mm512_loadu_si512(p); }
  static Reg bcast(const int16_t* x) {
    int32_t v;
    std::memcpy(&v, x, 4);
    return _mm512_set1_epi32(v);
  }
  static Reg dot(Reg acc, Reg x, Reg w) { return _mm512_add_epi32(acc, _mm512_madd_epi16(x, w)); }
  static int16_t pad_value(int32_t zp) { return static_cast<int16_t>(zp); }
  static void convert(const int8_t* s, int16_t* d, int64_t n) {
    int64_t i = 0;
    for (; i + 32 <= n; i += 32)
      _mm512_storeu_si512(d + i, _mm512_cvtepi8_epi16(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(s + i))));
    for (; i < n; ++i) d[i] = s[i];
  }
};

// Depthwise with at most 32 channels (blocks of 16 in one register, groups
// of 4 taps as for DwV512): MobileNet's narrow early layers would waste most
// of a 64-channel block. The in-lane unpacks of 16-byte vectors leave the
// channels in order, so no permutation is packed.
struct DwV512x16 {
  using Reg = __m512i;
  using Pad = __m128i;
  static constexpr int kBlock = 16, kRegs = 1, kGroup = 4, kMR = 8;
  static constexpr bool kPairs = true;

  static Pad make_pad(int32_t zp) { return _mm_set1_epi8(static_cast<char>(zp + 128)); }
  static Reg load(const uint32_t* p) { return _mm512_loadu_si512(p); }
  static Reg dot(Reg acc, Reg x, Reg w) { return _mm512_dpbusd_epi32(acc, x, w); }

  // Four taps of 16 channels -> one register of (t0, t1, t2, t3) byte groups, channel order.
  static void build(const int8_t* const* tap, int cb, int n, const Pad& pad, uint32_t* d) {
    const __m128i flip = _mm_set1_epi8(static_cast<char>(0x80));
    auto get = [&](int t) {
      if (!tap[t]) return pad;
      const __m128i v = n == 16 ? _mm_loadu_si128(reinterpret_cast<const __m128i*>(tap[t] + cb))
                                : _mm_maskz_loadu_epi8(mask16(n), tap[t] + cb);
      return _mm_xor_si128(v, flip);
    };
    const __m128i t0 = get(0), t1 = get(1), t2 = get(2), t3 = get(3);
    const __m128i a = _mm_unpacklo_epi8(t0, t1), b = _mm_unpackhi_epi8(t0, t1);
    const __m128i c = _mm_unpacklo_epi8(t2, t3), e = _mm_unpackhi_epi8(t2, t3);
    _mm_storeu_si128(reinterpret_cast<__m128i*>(d), _mm_unpacklo_epi16(a, c));
    _mm_storeu_si128(reinterpret_cast<__m128i*>(d + 4), _mm_unpackhi_epi16(a, c));
    _mm_storeu_si128(reinterpret_cast<__m128i*>(d + 8), _mm_unpacklo_epi16(b, e));
    _mm_storeu_si128(reinterpret_cast<__m128i*>(d + 12), _mm_unpackhi_epi16(b, e));
  }

  // The four 16-byte taps in the four lanes (lane t: tap t, dword q: channels
  // 4q..4q+3), a dword permute gathering dword q of every tap into lane q,
  // and an in-lane 4x4 byte transpose: lane q, dword j = taps of channel 4q + j.
  static void build_full(const int8_t* p, int64_t step, int cb, uint32_t* d) {
    __m512i v = _mm512_castsi128_si512(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p + cb)));
    v = _mm512_inserti32x4(v, _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + step + cb)), 1);
    v = _mm512_inserti32x4(v, _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + 2 * step + cb)), 2);
    v = _mm512_inserti32x4(v, _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + 3 * step + cb)), 3);
    const __m512i by_dword = _mm512_setr_epi32(0, 4, 8, 12, 1, 5, 9, 13, 2, 6, 10, 14, 3, 7, 11, 15);
    const __m512i in_lane = _mm512_broadcast_i32x4(_mm_setr_epi8(0, 4, 8, 12, 1, 5, 9, 13, 2, 6, 10, 14, 3, 7, 11, 15));
    v = _mm512_shuffle_epi8(_mm512_permutexvar_epi32(by_dword, v), in_lane);
    _mm512_storeu_si512(d, _mm512_xor_si512(v, _mm512_set1_epi8(static_cast<char>(0x80))));
  }

  // DwV512's requantization for one register column; the clamp comes before
  // the zero point (nothing wraps), then a narrowing store.
  template <int MR, int Fast>
  static void requant_store(Reg (&acc)[MR][kRegs], const PackedDepthwiseInt8& pd, int cb, int n, int8_t* out,
                            int ostride) {
    const Int8Requant& r = pd.rq;
    if constexpr (Fast) {
      fast_rq_column<MR, Fast == 1>(acc, 0, pd, cb);
      const __m512i lo = _mm512_set1_epi32(r.act_min), hi = _mm512_set1_epi32(r.act_max);
#pragma GCC unroll 16
      for (int i = 0; i < MR; ++i) {
        const __m512i v = _mm512_min_epi32(_mm512_max_epi32(acc[i][0], lo), hi);
        int8_t* o = out + static_cast<int64_t>(i) * ostride;
        if (n == 16) _mm_storeu_si128(reinterpret_cast<__m128i*>(o), _mm512_cvtepi32_epi8(v));
        else _mm512_mask_cvtepi32_storeu_epi8(o, mask16(n), v);
      }
      return;
    }
    const __m512i lim = _mm512_set1_epi64(-(int64_t{1} << 30));
    const __m512i mult = _mm512_loadu_si512(r.multiplier.data() + cb), mult_odd = _mm512_srli_epi64(mult, 32);
    const __m512i left = _mm512_loadu_si512(r.left.data() + cb);
    const __m512i re = _mm512_loadu_si512(r.round64.data() + cb), ro = _mm512_loadu_si512(r.round64.data() + cb + 8);
    const __m512i fe = _mm512_loadu_si512(r.fix64.data() + cb), fo = _mm512_loadu_si512(r.fix64.data() + cb + 8);
    const __m512i se = _mm512_loadu_si512(r.shift64.data() + cb), so = _mm512_loadu_si512(r.shift64.data() + cb + 8);
    const __m512i zp = _mm512_set1_epi32(r.output_zero_point);
    const __m512i lo = _mm512_set1_epi32(r.act_min - r.output_zero_point);
    const __m512i hi = _mm512_set1_epi32(r.act_max - r.output_zero_point);
#pragma GCC unroll 16
    for (int i = 0; i < MR; ++i) {
      const __m512i a = r.any_left ? _mm512_sllv_epi32(acc[i][0], left) : acc[i][0];
      __m512i pe = _mm512_mul_epi32(a, mult);
      __m512i po = _mm512_mul_epi32(_mm512_srli_epi64(a, 32), mult_odd);
      pe = _mm512_mask_sub_epi64(pe, _mm512_cmplt_epi64_mask(pe, lim), pe, fe);
      po = _mm512_mask_sub_epi64(po, _mm512_cmplt_epi64_mask(po, lim), po, fo);
      pe = _mm512_srav_epi64(_mm512_add_epi64(pe, re), se);
      po = _mm512_srav_epi64(_mm512_add_epi64(po, ro), so);
      __m512i v = _mm512_mask_shuffle_epi32(pe, __mmask16(0xAAAA), po, _MM_PERM_CDAB);
      v = _mm512_add_epi32(_mm512_min_epi32(_mm512_max_epi32(v, lo), hi), zp);
      int8_t* o = out + static_cast<int64_t>(i) * ostride;
      if (n == 16) _mm_storeu_si128(reinterpret_cast<__m128i*>(o), _mm512_cvtepi32_epi8(v));
      else _mm512_mask_cvtepi32_storeu_epi8(o, mask16(n), v);
    }
  }
};

}  // namespace

QLITE_INT8_DEFINE_ENTRY_POINTS(V512)

void depthwise_rows(const PackedDepthwiseInt8& pd, const int8_t* image, int8_t* out_image, int y0, int y1,
                    void* scratch) {
  if (pd.block == DwV512x16::kBlock) Depthwise<DwV512x16>::rows(pd, image, out_image, y0, y1, scratch);
  else Depthwise<DwV512>::rows(pd, image, out_image, y0, y1, scratch);
}

QLITE_INT8_DEFINE_WIDE_ENTRY_POINTS(V512W)

}  // namespace qlite::kernels::int8_avx512
#endif
