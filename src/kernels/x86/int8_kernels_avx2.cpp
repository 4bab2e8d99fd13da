// AVX2 int8 kernels: the templates of int8_impl.h on 8 int32 lanes.
// Dot products use vpmaddwd on int16 operands (x sign-extended, zero point
// folded into the bias): vpmaddubsw would be twice as fast but saturates its
// int16 pair sums (255 * 127 * 2 > 32767), which would break exactness.
// Requantization: SRDHM from two 64-bit products, then the rounding shift of
// the op's form in 32-bit lanes (AVX2 has no 64-bit arithmetic shift).
#if defined(__x86_64__)
#include <immintrin.h>

#include <cstring>

#include "kernels/int8_kernels_x86.h"

#define QLITE_INT8_NS int8_avx2
#include "kernels/x86/int8_impl.h"

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

struct V256 {
  using Elem = int16_t;
  using WElem = int16_t;
  using Reg = __m256i;
  using B = __m256i;
  static constexpr int kLanes = 8, kGroup = 2;
  static constexpr int kMaxMR = 4, kMaxNB = 2, kAccTarget = 6;  // 4 x 2 tile: 8 accumulators of 16 registers
  static constexpr int kDwMR = 4;
  static constexpr int kBLanes = 32;

  struct Rq {
    __m256i mult, mult_odd, left, right, rmask, rhalf, lo, hi, zp;
    bool any_left;
    bool neg_fix;  // double rounding: a negative value needs remainder > half + 1
  };

  static Reg zero() { return _mm256_setzero_si256(); }
  static Reg set1(int32_t v) { return _mm256_set1_epi32(v); }
  static Reg add(Reg a, Reg b) { return _mm256_add_epi32(a, b); }
  static Reg sub(Reg a, Reg b) { return _mm256_sub_epi32(a, b); }
  static Reg shl(Reg a, int s) { return _mm256_sll_epi32(a, _mm_cvtsi32_si128(s)); }
  static Reg load_i32(const int32_t* p) { return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)); }
  static Reg load_i32_n(const int32_t* p, int n) {
    return n >= 8 ? load_i32(p) : _mm256_maskload_epi32(p, lane_mask(n));
  }
  static Reg load_i8_i32(const int8_t* p, int n) {
    long long v = 0;
    if (n >= 8) std::memcpy(&v, p, 8);
    else std::memcpy(&v, p, static_cast<size_t>(n));
    return _mm256_cvtepi8_epi32(_mm_cvtsi64_si128(v));
  }

  // GEMM operands.
  static Reg load_w(const int16_t* p) { return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)); }
  static Reg bcast(const int16_t* x) {
    int32_t v;
    std::memcpy(&v, x, 4);
    return _mm256_set1_epi32(v);
  }
  static Reg dot(Reg acc, Reg x, Reg w) { return _mm256_add_epi32(acc, _mm256_madd_epi16(x, w)); }
  static int16_t pad_value(int32_t zp) { return static_cast<int16_t>(zp); }
  static void convert(const int8_t* s, int16_t* d, int64_t n) {
    int64_t i = 0;
    for (; i + 16 <= n; i += 16)
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(d + i),
                          _mm256_cvtepi8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(s + i))));
    for (; i < n; ++i) d[i] = s[i];
  }

  // Depthwise int16 pairs.
  static Reg load_u32(const uint32_t* p) { return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)); }
  static Reg dot2(Reg acc, Reg p, Reg w) { return _mm256_add_epi32(acc, _mm256_madd_epi16(p, w)); }
  static void make_pairs(const int8_t* a, const int8_t* b, int n, int32_t zp, uint32_t* dst) {
    auto widen = [&](const int8_t* p) {
      if (!p) return _mm_set1_epi16(static_cast<int16_t>(zp));
      long long v = 0;
      if (n >= 8) std::memcpy(&v, p, 8);
      else std::memcpy(&v, p, static_cast<size_t>(n));
      return _mm_cvtepi8_epi16(_mm_cvtsi64_si128(v));
    };
    const __m128i va = widen(a), vb = widen(b);
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(dst),
                        _mm256_set_m128i(_mm_unpackhi_epi16(va, vb), _mm_unpacklo_epi16(va, vb)));
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
    q.neg_fix = true;  // add and mean: double rounding
    return q;
  }
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
  static void store_clamped(Reg v, int32_t lo, int32_t hi, int8_t* out, int n) {
    v = _mm256_min_epi32(_mm256_max_epi32(v, _mm256_set1_epi32(lo)), _mm256_set1_epi32(hi));
    store_bytes8(v, out, n);
  }
  static Reg div_round(Reg s, int count) {
    const __m256i h = _mm256_set1_epi32(count / 2);
    const __m256i pos = _mm256_cmpgt_epi32(s, _mm256_setzero_si256());
    const __m256i adj = _mm256_blendv_epi8(_mm256_sub_epi32(s, h), _mm256_add_epi32(s, h), pos);
    return _mm256_cvttps_epi32(_mm256_div_ps(_mm256_cvtepi32_ps(adj), _mm256_set1_ps(static_cast<float>(count))));
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

}  // namespace

QLITE_INT8_DEFINE_ENTRY_POINTS(V256)

}  // namespace qlite::kernels::int8_avx2
#endif
