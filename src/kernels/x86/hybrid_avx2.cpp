// AVX2 hybrid kernels: the templates of hybrid_impl.h on 8 lanes. Dot
// products: vpmaddwd on int16 pairs (input buffer holds q, weights widened
// to int16 at pack time; |products| <= 2^14, so the pair sums are exact).
#if defined(__x86_64__)
#include <immintrin.h>

#include <cstring>

#include "kernels/x86/hybrid_x86.h"
#include "kernels/x86/int_dot_avx2.h"

#define QLITE_HYBRID_NS hybrid_avx2
#include "kernels/x86/hybrid_impl.h"

namespace qlite::kernels::hybrid_avx2 {
namespace {

struct V256 : DotPairs256 {
  using F = __m256;
  static constexpr int kOffset = 0;

  static Reg mullo(Reg a, Reg b) { return _mm256_mullo_epi32(a, b); }

  static F cvt(Reg a) { return _mm256_cvtepi32_ps(a); }
  static F load_f(const float* p) { return _mm256_loadu_ps(p); }
  static F set1_f(float v) { return _mm256_set1_ps(v); }
  // The empty asm hides the product from GCC, which would otherwise contract
  // it with a following add into an FMA (one rounding instead of the reference's two).
  static F mul(F a, F b) {
    F p = _mm256_mul_ps(a, b);
    asm("" : "+x"(p));
    return p;
  }
  static F add_f(F a, F b) { return _mm256_add_ps(a, b); }
  static F max_f(F a, F b) { return _mm256_max_ps(a, b); }
  static F min_f(F a, F b) { return _mm256_min_ps(a, b); }
  static void store_f(float* p, F v, int n) {
    if (n >= 8) {
      _mm256_storeu_ps(p, v);
      return;
    }
    const __m256i m = _mm256_cmpgt_epi32(_mm256_set1_epi32(n), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
    _mm256_maskstore_ps(p, m, v);
  }

  static bool minmax(const float* x, int64_t n, float* mn, float* mx) {
    __m256 lo = _mm256_set1_ps(x[0]), hi = lo, nan = _mm256_setzero_ps();
    int64_t i = 0;
    if (n >= 32) {
      // Four independent chains: min/max latency, not load bandwidth, bounds one chain.
      __m256 lo1 = lo, hi1 = lo, lo2 = lo, hi2 = lo, lo3 = lo, hi3 = lo;
      for (; i + 32 <= n; i += 32) {
        const __m256 a = _mm256_loadu_ps(x + i), b = _mm256_loadu_ps(x + i + 8);
        const __m256 c = _mm256_loadu_ps(x + i + 16), d = _mm256_loadu_ps(x + i + 24);
        lo = _mm256_min_ps(lo, a), hi = _mm256_max_ps(hi, a);
        lo1 = _mm256_min_ps(lo1, b), hi1 = _mm256_max_ps(hi1, b);
        lo2 = _mm256_min_ps(lo2, c), hi2 = _mm256_max_ps(hi2, c);
        lo3 = _mm256_min_ps(lo3, d), hi3 = _mm256_max_ps(hi3, d);
        nan = _mm256_or_ps(nan, _mm256_or_ps(_mm256_cmp_ps(a, b, _CMP_UNORD_Q), _mm256_cmp_ps(c, d, _CMP_UNORD_Q)));
      }
      lo = _mm256_min_ps(_mm256_min_ps(lo, lo1), _mm256_min_ps(lo2, lo3));
      hi = _mm256_max_ps(_mm256_max_ps(hi, hi1), _mm256_max_ps(hi2, hi3));
    }
    for (; i + 8 <= n; i += 8) {
      const __m256 v = _mm256_loadu_ps(x + i);
      lo = _mm256_min_ps(lo, v);
      hi = _mm256_max_ps(hi, v);
      nan = _mm256_or_ps(nan, _mm256_cmp_ps(v, v, _CMP_UNORD_Q));
    }
    alignas(32) float l[8], h[8];
    _mm256_store_ps(l, lo);
    _mm256_store_ps(h, hi);
    bool has_nan = _mm256_movemask_ps(nan) != 0;
    float a = l[0], b = h[0];
    for (int j = 1; j < 8; ++j) {
      a = l[j] < a ? l[j] : a;
      b = h[j] > b ? h[j] : b;
    }
    for (; i < n; ++i) {
      has_nan = has_nan || x[i] != x[i];
      a = x[i] < a ? x[i] : a;
      b = x[i] > b ? x[i] : b;
    }
    *mn = a;
    *mx = b;
    return has_nan;
  }

  // 8 elements: clamp(round(fzp + clamp(x * inv, +-1e6)), lo, hi) as int16.
  struct Q {
    __m256 inv, fzp, lo, hi, half, one, sign;
    __m256i qlo, qhi;
  };
  static __m128i quantize8(const Q& q, __m256 x) {
    __m256 p = _mm256_mul_ps(x, q.inv);
    asm("" : "+x"(p));
    // _mm256_max_ps returns its second operand for a NaN, as std::fmax(NaN, -1e6f) returns -1e6f.
    const __m256 c = _mm256_min_ps(_mm256_max_ps(p, q.lo), q.hi);
    const __m256 s = _mm256_add_ps(q.fzp, c);
    const __m256 t = _mm256_round_ps(s, _MM_FROUND_TO_ZERO | _MM_FROUND_NO_EXC);
    // Round half away from zero: step by sign(s) where |s - trunc(s)| >= 0.5 (exact below 2^23).
    const __m256 frac = _mm256_andnot_ps(q.sign, _mm256_sub_ps(s, t));
    const __m256 step =
        _mm256_and_ps(_mm256_cmp_ps(frac, q.half, _CMP_GE_OQ), _mm256_or_ps(q.one, _mm256_and_ps(s, q.sign)));
    __m256i v = _mm256_cvttps_epi32(_mm256_add_ps(t, step));
    v = _mm256_min_epi32(_mm256_max_epi32(v, q.qlo), q.qhi);
    return _mm_packs_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
  }
  static void quantize(const float* x, int64_t n, const hybrid_detail::RowQuant& rq, int16_t* out) {
    if (rq.zero) {
      std::memset(out, 0, static_cast<size_t>(n) * sizeof(int16_t));
      return;
    }
    const Q q{_mm256_set1_ps(rq.inv), _mm256_set1_ps(rq.fzp), _mm256_set1_ps(-1.0e6f),
              _mm256_set1_ps(1.0e6f), _mm256_set1_ps(0.5f),   _mm256_set1_ps(1.0f),
              _mm256_set1_ps(-0.0f),  _mm256_set1_epi32(rq.lo), _mm256_set1_epi32(rq.hi)};
    int64_t i = 0;
    for (; i + 8 <= n; i += 8)
      _mm_storeu_si128(reinterpret_cast<__m128i*>(out + i), quantize8(q, _mm256_loadu_ps(x + i)));
    if (i < n) {
      alignas(32) float tail[8] = {};
      alignas(16) int16_t res[8];
      std::memcpy(tail, x + i, static_cast<size_t>(n - i) * sizeof(float));
      _mm_store_si128(reinterpret_cast<__m128i*>(res), quantize8(q, _mm256_load_ps(tail)));
      std::memcpy(out + i, res, static_cast<size_t>(n - i) * sizeof(int16_t));
    }
  }
};

}  // namespace

void fully_connected(const PackedFcHybrid& pf, int rows, const float* input, const int8_t* weights,
                     const float* bias, void* scratch, float* output) {
  Hybrid<V256>::fully_connected(pf, rows, input, weights, bias, scratch, output);
}

void conv2d(const PackedConvHybrid& pc, const float* image, const int8_t* weights, const float* bias, void* scratch,
            float* out_image) {
  Hybrid<V256>::conv2d(pc, image, weights, bias, scratch, out_image);
}

}  // namespace qlite::kernels::hybrid_avx2
#endif
