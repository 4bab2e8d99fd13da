// AVX2 int8 kernels: the templates of int8_impl.h on 8 int32 lanes.
// Dot products use vpmaddwd on int16 operands (x sign-extended, zero point
// folded into the bias): vpmaddubsw would be twice as fast but saturates its
// int16 pair sums (255 * 127 * 2 > 32767), which would break exactness.
// Weights are packed as int8 and sign-extended as they are loaded (V256N),
// or as int16 when uint8 weights minus their zero point do not fit (V256).
// Requantization: SRDHM from two 64-bit products, then the rounding shift of
// the op's form in 32-bit lanes (AVX2 has no 64-bit arithmetic shift).
#if defined(__x86_64__)
#include <immintrin.h>

#include <cstring>

#include "kernels/int8_kernels_x86.h"
#include "kernels/x86/int_dot_avx2.h"

#define QLITE_INT8_NS int8_avx2
#include "kernels/x86/int8_impl.h"
#include "kernels/x86/int8_depthwise_impl.h"

namespace qlite::kernels::int8_avx2 {
namespace {

inline __m256i lane_mask(int n) {
  return _mm256_cmpgt_epi32(_mm256_set1_epi32(n), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}

// Low byte of each int32 lane (already within int8), n <= 8 bytes stored.
inline void store_bytes8(__m256i v, int8_t* out, int n) {
  const __m256i shuf = _mm256_setr_epi8(0, 4, 8, 12, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, 0, 4, 8, 12, -1,
                                        -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1);
  const __m256i t = _mm256_permutevar8x32_epi32(_mm256_shuffle_epi8(v, shuf), _mm256_setr_epi32(0, 4, 0, 0, 0, 0, 0, 0));
  const long long bytes = _mm_cvtsi128_si64(_mm256_castsi256_si128(t));
  if (n == 8) std::memcpy(out, &bytes, 8);
  else std::memcpy(out, &bytes, static_cast<size_t>(n));
}

struct V256 : DotPairs256 {
  using B = __m256i;
  static constexpr int kMaxMR = 4, kMaxNB = 2, kAccTarget = 6;  // 4 x 2 tile: 8 accumulators of 16 registers
  static constexpr int kBLanes = 32;

  struct Rq {
    __m256i mult, mult_odd, left, right, rmask, rhalf, lo, hi, zp;
    bool any_left;
    bool neg_fix;  // double rounding: a negative value needs remainder > half + 1
  };

  static Reg shl(Reg a, int s) { return _mm256_sll_epi32(a, _mm_cvtsi32_si128(s)); }
  // ADD's 32-bit input scaling (int8_impl.h): low 32 bits of the product,
  // arithmetic shift, and v - d where a < thr.
  static Reg mullo(Reg a, Reg b) { return _mm256_mullo_epi32(a, b); }
  static Reg sra(Reg a, int s) { return _mm256_sra_epi32(a, _mm_cvtsi32_si128(s)); }
  static Reg sub_where_lt(Reg v, Reg a, Reg thr, Reg d) {
    return _mm256_sub_epi32(v, _mm256_and_si256(_mm256_cmpgt_epi32(thr, a), d));
  }
  static Reg load_i32_n(const int32_t* p, int n) {
    return n >= 8 ? load_i32(p) : _mm256_maskload_epi32(p, lane_mask(n));
  }
  static Reg load_i8_i32(const int8_t* p, int n) {
    long long v = 0;
    if (n >= 8) std::memcpy(&v, p, 8);
    else std::memcpy(&v, p, static_cast<size_t>(n));
    return _mm256_cvtepi8_epi32(_mm_cvtsi64_si128(v));
  }

  // GEMM operands (load_w, bcast, dot: DotPairs256).
  static int16_t pad_value(int32_t zp) { return static_cast<int16_t>(zp); }
  static void convert(const int8_t* s, int16_t* d, int64_t n) {
    int64_t i = 0;
    for (; i + 16 <= n; i += 16)
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(d + i),
                          _mm256_cvtepi8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(s + i))));
    for (; i < n; ++i) d[i] = s[i];
  }

  // Requantization.
  static Rq load_rq(const Int8Requant& r, int c0) {
    Rq q;
    q.mult = load_i32(r.multiplier.data() + c0);
    q.mult_odd = _mm256_srli_epi64(q.mult, 32);
    q.left = load_i32(r.left.data() + c0);
    q.right = load_i32(r.right.data() + c0);
    q.rmask = load_i32(r.rmask.data() + c0);
    q.rhalf = load_i32(r.rhalf.data() + c0);
    q.lo = _mm256_set1_epi32(r.act_min - r.output_zero_point);
    q.hi = _mm256_set1_epi32(r.act_max - r.output_zero_point);
    q.zp = _mm256_set1_epi32(r.output_zero_point);
    q.any_left = r.any_left;
    q.neg_fix = r.rounding == qlite::ref::Rounding::kDoubleRounding;
    return q;
  }
  static Rq uniform_rq(const qlite::ref::QuantizedMultiplier& m, int32_t zp, int32_t act_min, int32_t act_max) {
    const RqScalar s = rq_scalar(m);
    Rq q;
    q.mult = q.mult_odd = _mm256_set1_epi32(s.mult);
    q.left = _mm256_set1_epi32(s.left);
    q.right = _mm256_set1_epi32(s.right);
    q.rmask = _mm256_set1_epi32(s.rmask);
    q.rhalf = _mm256_set1_epi32(s.rhalf);
    q.lo = _mm256_set1_epi32(act_min - zp);
    q.hi = _mm256_set1_epi32(act_max - zp);
    q.zp = _mm256_set1_epi32(zp);
    q.any_left = s.left > 0;
    q.neg_fix = true;  // add: double rounding
    return q;
  }
  static bool plain(const Rq& q) { return false; }
  // Cheaper exact form for CONV_2D and FULLY_CONNECTED (as V512's, which
  // says why it is exact): half-up rounding, no channel shifting left, every
  // channel shifting right by 1..20. Then MBQM(acc) + zp is the high dword of
  // acc * M + round64 + zp * 2^(31 + right), shifted right by right - 1, and
  // the saturating packs plus one byte clamp replace the int32 clamp, the
  // zero-point add and the per-register byte shuffle of store_out: about 8
  // instructions per 8 outputs instead of 14, then 6 per 32 outputs to store.
  struct FastRq {
    __m256i mult, mult_odd, re, ro, sd, lo8, hi8;
    bool clamp_lo, clamp_hi;
  };
  static bool fast_ok(const Int8Requant& r, int c0) { return fast_requant_ok(r, c0, 8); }
  static FastRq fast_rq(const Int8Requant& r, int c0) {
    FastRq q;
    q.mult = load_i32(r.multiplier.data() + c0);
    q.mult_odd = _mm256_srli_epi64(q.mult, 32);
    // fast64 holds a block's even lanes, then its odd lanes. Padding lanes
    // (right 0) get a harmless shift; their bytes are never stored.
    q.re = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(r.fast64.data() + c0));
    q.ro = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(r.fast64.data() + c0 + 4));
    q.sd = load_i32(r.fast_shift.data() + c0);
    q.lo8 = _mm256_set1_epi8(static_cast<char>(r.act_min));
    q.hi8 = _mm256_set1_epi8(static_cast<char>(r.act_max));
    q.clamp_lo = r.act_min > -128;
    q.clamp_hi = r.act_max < 127;
    return q;
  }
  // MBQM(acc) + zp in int32 lanes.
  static Reg mbqm_fast(Reg acc, const FastRq& q) {
    const __m256i e = _mm256_add_epi64(_mm256_mul_epi32(acc, q.mult), q.re);
    const __m256i o = _mm256_add_epi64(_mm256_mul_epi32(_mm256_srli_epi64(acc, 32), q.mult_odd), q.ro);
    // High dwords of e to the even lanes; those of o are in the odd lanes.
    return _mm256_srav_epi32(_mm256_blend_epi32(_mm256_srli_epi64(e, 32), o, 0xAA), q.sd);
  }
  static __m256i clamp8(__m256i b, const FastRq& q) {
    if (q.clamp_lo) b = _mm256_max_epi8(b, q.lo8);
    if (q.clamp_hi) b = _mm256_min_epi8(b, q.hi8);
    return b;
  }
  // Four registers of 8 channels to 32 bytes in register order: the packs
  // work per 128-bit lane (dword 4l + d holds channels 4l..4l+3 of register
  // d), one dword permute restores the order.
  static __m256i pack4(const Reg (&v)[4], const FastRq& q) {
    const __m256i b = _mm256_packs_epi16(_mm256_packs_epi32(v[0], v[1]), _mm256_packs_epi32(v[2], v[3]));
    return _mm256_permutevar8x32_epi32(clamp8(b, q), _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7));
  }
  static void store_fast4(const Reg (&v)[4], const FastRq& q, int8_t* out, int n) {
    if (n != 8) {
      for (int p = 0; p < 4; ++p) store_fast1(v[p], q, out + p * n, n);
      return;
    }
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(out), pack4(v, q));
  }
  // One pixel's 2 full blocks (16 bytes), or two pixels' (32 contiguous
  // bytes: pixel i's two blocks, then pixel i + 1's).
  static constexpr bool kFastBlocks = true;
  template <int NB>
  static void store_fast_blocks(const Reg* v, const FastRq& q, int8_t* out) {
    static_assert(NB == 2 || NB == 4);
    if constexpr (NB == 4) {
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(out), pack4({v[0], v[1], v[2], v[3]}, q));
    } else {
      const __m256i w = _mm256_permute4x64_epi64(_mm256_packs_epi32(v[0], v[1]), 0xD8);
      __m128i b = _mm_packs_epi16(_mm256_castsi256_si128(w), _mm256_extracti128_si256(w, 1));
      if (q.clamp_lo) b = _mm_max_epi8(b, _mm256_castsi256_si128(q.lo8));
      if (q.clamp_hi) b = _mm_min_epi8(b, _mm256_castsi256_si128(q.hi8));
      _mm_storeu_si128(reinterpret_cast<__m128i*>(out), b);
    }
  }
  static void store_fast1(Reg v, const FastRq& q, int8_t* out, int n) {
    const __m128i w = _mm_packs_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
    __m128i b = _mm_packs_epi16(w, w);
    b = _mm_min_epi8(_mm_max_epi8(b, _mm256_castsi256_si128(q.lo8)), _mm256_castsi256_si128(q.hi8));
    const long long bytes = _mm_cvtsi128_si64(b);
    if (n >= 8) std::memcpy(out, &bytes, 8);
    else std::memcpy(out, &bytes, static_cast<size_t>(n));
  }
  static Reg mbqm_plain(Reg acc, const Rq& q) { return mbqm(acc, q); }
  static Reg mbqm_general(Reg acc, const Rq& q) { return mbqm(acc, q); }
  static Reg mbqm(Reg acc, const Rq& q) {
    const __m256i a = q.any_left ? _mm256_sllv_epi32(acc, q.left) : acc;
    const __m256i rnd = _mm256_set1_epi64x(int64_t{1} << 30);
    const __m256i pe = _mm256_add_epi64(_mm256_mul_epi32(a, q.mult), rnd);
    const __m256i po = _mm256_add_epi64(_mm256_mul_epi32(_mm256_srli_epi64(a, 32), q.mult_odd), rnd);
    // SRDHM = (a*b + 2^30) >> 31: bits 31..62 of each 64-bit sum.
    const __m256i s = _mm256_blend_epi32(_mm256_srli_epi64(pe, 31), _mm256_slli_epi64(po, 1), 0xAA);
    // Rounding shift: +1 when the remainder exceeds half; under double
    // rounding (RoundingDivideByPOT) half + 1 for negatives. Half up:
    // (s >> right) + (remainder > half) == (s + 2^(right-1)) >> right without
    // the int32 overflow of the sum.
    const __m256i thr = q.neg_fix ? _mm256_sub_epi32(q.rhalf, _mm256_srai_epi32(s, 31)) : q.rhalf;
    const __m256i up = _mm256_cmpgt_epi32(_mm256_and_si256(s, q.rmask), thr);
    return _mm256_sub_epi32(_mm256_srav_epi32(s, q.right), up);
  }
  static void store_out(Reg v, const Rq& q, int8_t* out, int n) {
    v = _mm256_add_epi32(_mm256_min_epi32(_mm256_max_epi32(v, q.lo), q.hi), q.zp);
    store_bytes8(v, out, n);
  }
  static void store_out4(const Reg (&v)[4], const Rq& q, int8_t* out, int n) {
    for (int p = 0; p < 4; ++p) store_out(v[p], q, out + p * n, n);
  }
  static void store_clamped(Reg v, int32_t lo, int32_t hi, int8_t* out, int n) {
    v = _mm256_min_epi32(_mm256_max_epi32(v, _mm256_set1_epi32(lo)), _mm256_set1_epi32(hi));
    store_bytes8(v, out, n);
  }

  // ADD's output stage in the cheaper double rounding (fast_double_rounding,
  // int8_kernels_x86.h), one set of constants for every lane; a is the raw
  // sum minus the range's lo (non-negative).
  struct DrFast {
    __m256i m2, c64, thr;
    __m128i shift;
  };
  static DrFast dr_fast(const FastDoubleRounding& f) {
    return {_mm256_set1_epi32(static_cast<int32_t>(f.m2)), _mm256_set1_epi64x(f.c64), _mm256_set1_epi32(f.thr),
            _mm_cvtsi32_si128(f.shift)};
  }
  static Reg dr_fast_apply(Reg a, const DrFast& q) {
    const __m256i we = _mm256_add_epi64(_mm256_mul_epu32(a, q.m2), q.c64);
    const __m256i wo = _mm256_add_epi64(_mm256_mul_epu32(_mm256_srli_epi64(a, 32), q.m2), q.c64);
    const __m256i y = _mm256_blend_epi32(_mm256_srli_epi64(we, 32), wo, 0xAA);
    return _mm256_sra_epi32(_mm256_add_epi32(y, _mm256_cmpgt_epi32(q.thr, a)), q.shift);
  }
  // 16 bytes as two registers of int32 (bytes 0-7, 8-15).
  static void load2_i32(const int8_t* p, Reg& lo, Reg& hi) {
    const __m128i b = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
    lo = _mm256_cvtepi8_epi32(b);
    hi = _mm256_cvtepi8_epi32(_mm_unpackhi_epi64(b, b));
  }
  // Two registers of int32 (saturated to bytes) clamped to [lo, hi] and
  // stored as 16 bytes in lane order.
  static void store2_clamped(Reg v0, Reg v1, int8_t lo, int8_t hi, int8_t* out) {
    const __m256i w = _mm256_permute4x64_epi64(_mm256_packs_epi32(v0, v1), 0xD8);
    const __m128i b = _mm_packs_epi16(_mm256_castsi256_si128(w), _mm256_extracti128_si256(w, 1));
    _mm_storeu_si128(reinterpret_cast<__m128i*>(out), _mm_min_epi8(_mm_max_epi8(b, _mm_set1_epi8(lo)), _mm_set1_epi8(hi)));
  }
  static Reg div_round(Reg s, int count) {
    const __m256i h = _mm256_set1_epi32(count / 2);
    const __m256i pos = _mm256_cmpgt_epi32(s, _mm256_setzero_si256());
    const __m256i adj = _mm256_blendv_epi8(_mm256_sub_epi32(s, h), _mm256_add_epi32(s, h), pos);
    return _mm256_cvttps_epi32(_mm256_div_ps(_mm256_cvtepi32_ps(adj), _mm256_set1_ps(static_cast<float>(count))));
  }

  // MEAN's kFloatRescale finish (ref::mean_int8_from_sum) on 8 sums, as
  // V512's on 16: the reference's IEEE float steps (the division, the
  // product and the sum each rounded to float; this file is built with
  // -ffp-contract=off, so no FMA joins the last two), rounding half away
  // from zero as trunc(y) plus sign(y) where |y - trunc(y)| >= 0.5, exact
  // for |y| < 2^22; otherwise (or for an infinite y) the block goes back
  // to the scalar code.
  static constexpr bool kFloatMean = true;
  static bool mean_float_rescale(const qlite::ref::MeanInt8Params& p, Reg sums, int8_t* out, int n) {
    const __m256 abs_mask = _mm256_castsi256_ps(_mm256_set1_epi32(0x7fffffff));
    const __m256 mean = _mm256_div_ps(_mm256_cvtepi32_ps(sums), _mm256_set1_ps(static_cast<float>(p.h * p.w)));
    const __m256 y = _mm256_add_ps(_mm256_mul_ps(mean, _mm256_set1_ps(p.scale)), _mm256_set1_ps(p.bias));
    const int live = (1 << n) - 1;
    const __m256 small = _mm256_cmp_ps(_mm256_and_ps(y, abs_mask), _mm256_set1_ps(0x1p22f), _CMP_LT_OQ);
    if ((_mm256_movemask_ps(small) & live) != live) return false;
    const __m256 t = _mm256_round_ps(y, _MM_FROUND_TO_ZERO | _MM_FROUND_NO_EXC);
    const __m256 up = _mm256_cmp_ps(_mm256_and_ps(_mm256_sub_ps(y, t), abs_mask), _mm256_set1_ps(0.5f), _CMP_GE_OQ);
    const __m256 step = _mm256_or_ps(_mm256_set1_ps(1.0f), _mm256_andnot_ps(abs_mask, y));  // +-1, y's sign
    const __m256 r = _mm256_add_ps(t, _mm256_and_ps(up, step));
    // r + zp is an exact integer below 2^23; the clamps in int32.
    __m256i v = _mm256_add_epi32(_mm256_cvttps_epi32(r), _mm256_set1_epi32(p.output_zero_point));
    v = _mm256_min_epi32(_mm256_max_epi32(v, _mm256_set1_epi32(-128)), _mm256_set1_epi32(127));
    store_clamped(v, p.act.min, p.act.max, out, n);
    return true;
  }

  // Byte vectors (max pool).
  static B bset1(int8_t v) { return _mm256_set1_epi8(v); }
  static B bload(const int8_t* p, int n) {
    if (n >= 32) return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p));
    alignas(32) int8_t t[32] = {};
    std::memcpy(t, p, static_cast<size_t>(n));
    return _mm256_load_si256(reinterpret_cast<const __m256i*>(t));
  }
  static void bstore(int8_t* p, B v, int n) {
    if (n >= 32) return _mm256_storeu_si256(reinterpret_cast<__m256i*>(p), v);
    alignas(32) int8_t t[32];
    _mm256_store_si256(reinterpret_cast<__m256i*>(t), v);
    std::memcpy(p, t, static_cast<size_t>(n));
  }
  static B bmax(B a, B b) { return _mm256_max_epi8(a, b); }
  static B bmin(B a, B b) { return _mm256_min_epi8(a, b); }
};

// Depthwise (int8_depthwise_impl.h): blocks of 16 channels in 2 registers,
// groups of 2 taps as int16 pairs for vpmaddwd.
struct DwV256 {
  using Reg = __m256i;
  using Pad = __m256i;
  static constexpr int kBlock = 16, kRegs = 2, kGroup = 2, kMR = 3;  // 6 accumulators of 16 registers
  static constexpr bool kPairs = false;

  static Pad make_pad(int32_t zp) { return _mm256_set1_epi16(static_cast<int16_t>(zp)); }
  static Reg load(const uint32_t* p) { return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)); }
  static Reg dot(Reg acc, Reg x, Reg w) { return _mm256_add_epi32(acc, _mm256_madd_epi16(x, w)); }

  // Two taps of 16 channels -> 2 registers of (t0, t1) int16 pairs; register
  // k, lane m holds channel 8 * (m / 4) + 4 * k + m % 4.
  static void build(const int8_t* const* tap, int cb, int n, const Pad& pad, uint32_t* d) {
    auto get = [&](int t) {
      if (!tap[t]) return pad;
      __m128i v;
      if (n == 16) {
        v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(tap[t] + cb));
      } else {
        alignas(16) int8_t tmp[16] = {};
        std::memcpy(tmp, tap[t] + cb, static_cast<size_t>(n));
        v = _mm_load_si128(reinterpret_cast<const __m128i*>(tmp));
      }
      return _mm256_cvtepi8_epi16(v);
    };
    const __m256i t0 = get(0), t1 = get(1);
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(d), _mm256_unpacklo_epi16(t0, t1));
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(d + 8), _mm256_unpackhi_epi16(t0, t1));
  }

  static void build_full(const int8_t* p, int64_t step, int cb, uint32_t* d) {
    const __m256i t0 = _mm256_cvtepi8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p + cb)));
    const __m256i t1 = _mm256_cvtepi8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p + step + cb)));
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(d), _mm256_unpacklo_epi16(t0, t1));
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(d + 8), _mm256_unpackhi_epi16(t0, t1));
  }

  // As V256::mbqm per register column, then saturating packs restore channel
  // order (int16 and int8 saturation plus the byte clamp = clamp(v + zp, act)).
  template <int MR, int Fast>
  static void requant_store(Reg (&acc)[MR][kRegs], const PackedDepthwiseInt8& pd, int cb, int n, int8_t* out,
                            int ostride) {
    const Int8Requant& r = pd.rq;
    if constexpr (Fast) {
      // PackedDepthwiseInt8::fast_rq: the even and odd lanes' unsigned
      // products plus c64, their high dwords in one register, minus 1 where
      // a < thr (Fast 2: pd.rq_thr_zero, no such a), shifted right by r
      // (output zero point included).
#pragma GCC unroll 16
      for (int k = 0; k < kRegs; ++k) {
        const int c0 = cb + 8 * k;
        auto ld = [&](const auto* p) { return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)); };
        const __m256i m2 = ld(pd.rq_m2.data() + c0), m2o = _mm256_srli_epi64(m2, 32);
        const __m256i ce = ld(pd.rq_c64.data() + c0), co = ld(pd.rq_c64.data() + c0 + 4);
        const __m256i thr = ld(pd.rq_thr.data() + c0), sh = ld(pd.rq_shift.data() + c0);
#pragma GCC unroll 16
        for (int i = 0; i < MR; ++i) {
          const __m256i a = acc[i][k];
          const __m256i we = _mm256_add_epi64(_mm256_mul_epu32(a, m2), ce);
          const __m256i wo = _mm256_add_epi64(_mm256_mul_epu32(_mm256_srli_epi64(a, 32), m2o), co);
          const __m256i y = _mm256_blend_epi32(_mm256_srli_epi64(we, 32), wo, 0xAA);
          acc[i][k] = _mm256_srav_epi32(Fast == 1 ? _mm256_add_epi32(y, _mm256_cmpgt_epi32(thr, a)) : y, sh);
        }
      }
    }
    const __m256i rnd = _mm256_set1_epi64x(int64_t{1} << 30);
#pragma GCC unroll 16
    for (int k = 0; k < kRegs && !Fast; ++k) {
      const int c0 = cb + 8 * k;
      auto ld = [&](const std::vector<int32_t>& v) { return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(v.data() + c0)); };
      const __m256i mult = ld(r.multiplier), mult_odd = _mm256_srli_epi64(mult, 32), left = ld(r.left);
      const __m256i right = ld(r.right), rmask = ld(r.rmask), rhalf = ld(r.rhalf);
#pragma GCC unroll 16
      for (int i = 0; i < MR; ++i) {
        const __m256i a = r.any_left ? _mm256_sllv_epi32(acc[i][k], left) : acc[i][k];
        const __m256i pe = _mm256_add_epi64(_mm256_mul_epi32(a, mult), rnd);
        const __m256i po = _mm256_add_epi64(_mm256_mul_epi32(_mm256_srli_epi64(a, 32), mult_odd), rnd);
        const __m256i s = _mm256_blend_epi32(_mm256_srli_epi64(pe, 31), _mm256_slli_epi64(po, 1), 0xAA);
        const __m256i thr = _mm256_sub_epi32(rhalf, _mm256_srai_epi32(s, 31));
        const __m256i up = _mm256_cmpgt_epi32(_mm256_and_si256(s, rmask), thr);
        acc[i][k] = _mm256_sub_epi32(_mm256_srav_epi32(s, right), up);
      }
    }
    const __m256i zp = _mm256_set1_epi16(static_cast<int16_t>(r.output_zero_point));
    const __m128i lo = _mm_set1_epi8(static_cast<char>(r.act_min)), hi = _mm_set1_epi8(static_cast<char>(r.act_max));
#pragma GCC unroll 16
    for (int i = 0; i < MR; ++i) {
      const __m256i p = _mm256_packs_epi32(acc[i][0], acc[i][1]);
      const __m256i w = Fast ? p : _mm256_adds_epi16(p, zp);
      const __m128i b = _mm_packs_epi16(_mm256_castsi256_si128(w), _mm256_extracti128_si256(w, 1));
      const __m128i v = _mm_min_epi8(_mm_max_epi8(b, lo), hi);
      int8_t* o = out + static_cast<int64_t>(i) * ostride;
      if (n == 16) {
        _mm_storeu_si128(reinterpret_cast<__m128i*>(o), v);
      } else {
        alignas(16) int8_t tmp[16];
        _mm_store_si128(reinterpret_cast<__m128i*>(tmp), v);
        std::memcpy(o, tmp, static_cast<size_t>(n));
      }
    }
  }
};

// The GEMM on int8 weights (gemm.weight_bytes 1): V256's dots, each weight
// register sign-extended from 16 packed bytes as it is loaded (vpmovsxbw).
// Half the weight bytes of V256 stream through the caches per dot; at batch
// 1 the late 1x1 convolutions and the classifier of MobileNetV2 are bound
// by that stream.
struct V256N : V256 {
  using WElem = int8_t;
  static Reg load_w(const int8_t* p) {
    return _mm256_cvtepi8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
  }
};

}  // namespace

QLITE_INT8_DEFINE_ENTRY_POINTS(V256N)
QLITE_INT8_DEFINE_DEPTHWISE_ENTRY_POINT(DwV256)

QLITE_INT8_DEFINE_WIDE_ENTRY_POINTS(V256)

}  // namespace qlite::kernels::int8_avx2
#endif
