// AVX2 8-bit elementwise kernels (kernels/elementwise_x86.h).
#if defined(__x86_64__)
#include <immintrin.h>

#include <cstring>

#include "kernels/elementwise_x86.h"
#include "kernels/x86/resize_impl.h"

namespace qlite::kernels::elementwise_avx2 {
namespace {

// ---- table lookup ------------------------------------------------------------
// 16 sub-tables of 16 bytes (each in both 128-bit lanes): vpshufb on the low
// nibble gives every sub-table's candidate, then a blend tree on bits 4..7
// picks one (vpblendvb reads bit 7 of each mask byte; a 16-bit left shift by
// 3 - j brings bit 4 + j of every byte to its bit 7).
struct Table {
  __m256i t[16];
  explicit Table(const uint8_t* table) {
    for (int k = 0; k < 16; ++k)
      t[k] = _mm256_broadcastsi128_si256(_mm_loadu_si128(reinterpret_cast<const __m128i*>(table + 16 * k)));
  }
  __m256i operator()(__m256i x) const {
    const __m256i lo = _mm256_and_si256(x, _mm256_set1_epi8(0x0F));
    __m256i r[16];
#pragma GCC unroll 16
    for (int k = 0; k < 16; ++k) r[k] = _mm256_shuffle_epi8(t[k], lo);
    __m256i m = _mm256_slli_epi16(x, 3);
#pragma GCC unroll 8
    for (int k = 0; k < 8; ++k) r[k] = _mm256_blendv_epi8(r[2 * k], r[2 * k + 1], m);
    m = _mm256_slli_epi16(x, 2);
#pragma GCC unroll 4
    for (int k = 0; k < 4; ++k) r[k] = _mm256_blendv_epi8(r[2 * k], r[2 * k + 1], m);
    m = _mm256_slli_epi16(x, 1);
    r[0] = _mm256_blendv_epi8(r[0], r[1], m);
    r[1] = _mm256_blendv_epi8(r[2], r[3], m);
    return _mm256_blendv_epi8(r[0], r[1], x);
  }
};

// ---- MUL ---------------------------------------------------------------------
// MultiplyByQuantizedMultiplier (double rounding) on 8 int32 lanes, as the
// AVX2 int8 kernels compute it (int8_kernels_avx2.cpp V256::mbqm): SRDHM =
// bits 31..62 of (x * M + 2^30) from two 64-bit products, then the rounding
// shift with threshold half (+ 1 for a negative value).
struct Rq {
  __m256i mult, rmask, rhalf, lo, hi, zp, off1, off2;
  __m128i lcount, rcount;
  bool any_left;
  explicit Rq(const qlite::ref::MulQuantParams& p) {
    const int left = p.m.shift > 0 ? p.m.shift : 0, right = p.m.shift > 0 ? 0 : -p.m.shift;
    mult = _mm256_set1_epi32(p.m.multiplier);
    rmask = _mm256_set1_epi32(static_cast<int32_t>((int64_t{1} << right) - 1));
    rhalf = _mm256_set1_epi32(static_cast<int32_t>(((int64_t{1} << right) - 1) >> 1));
    lcount = _mm_cvtsi32_si128(left);
    rcount = _mm_cvtsi32_si128(right);
    any_left = left > 0;
    lo = _mm256_set1_epi32(p.act.min - p.out_offset);
    hi = _mm256_set1_epi32(p.act.max - p.out_offset);
    zp = _mm256_set1_epi32(p.out_offset);
    off1 = _mm256_set1_epi32(p.in1_offset);
    off2 = _mm256_set1_epi32(p.in2_offset);
  }
  // clamp(MBQM(x) + zp) without int32 wrap: the clamp comes first.
  __m256i operator()(__m256i x) const {
    const __m256i a = any_left ? _mm256_sll_epi32(x, lcount) : x;
    const __m256i rnd = _mm256_set1_epi64x(int64_t{1} << 30);
    const __m256i pe = _mm256_add_epi64(_mm256_mul_epi32(a, mult), rnd);
    const __m256i po = _mm256_add_epi64(_mm256_mul_epi32(_mm256_srli_epi64(a, 32), mult), rnd);
    const __m256i s = _mm256_blend_epi32(_mm256_srli_epi64(pe, 31), _mm256_slli_epi64(po, 1), 0xAA);
    const __m256i thr = _mm256_sub_epi32(rhalf, _mm256_srai_epi32(s, 31));
    const __m256i up = _mm256_cmpgt_epi32(_mm256_and_si256(s, rmask), thr);
    const __m256i v = _mm256_sub_epi32(_mm256_sra_epi32(s, rcount), up);
    return _mm256_add_epi32(_mm256_min_epi32(_mm256_max_epi32(v, lo), hi), zp);
  }
};

template <bool S>
inline __m256i widen(const uint8_t* p) {
  const __m128i v = _mm_loadl_epi64(reinterpret_cast<const __m128i*>(p));
  return S ? _mm256_cvtepi8_epi32(v) : _mm256_cvtepu8_epi32(v);
}
template <bool S>
inline int32_t value(const uint8_t* p) {
  return S ? static_cast<int32_t>(static_cast<int8_t>(*p)) : static_cast<int32_t>(*p);
}

// 32 outputs from full 32-byte rows (or scalars): four 8-lane products, then
// saturating packs (exact: every value is already within the type) and one
// dword permute back to element order.
template <bool S, bool AS, bool BS>
inline void mul32(const Rq& q, const uint8_t* a, const uint8_t* b, __m256i sa, __m256i sb, uint8_t* out) {
  __m256i v[4];
#pragma GCC unroll 4
  for (int k = 0; k < 4; ++k) {
    const __m256i x = AS ? sa : _mm256_add_epi32(widen<S>(a + 8 * k), q.off1);
    const __m256i y = BS ? sb : _mm256_add_epi32(widen<S>(b + 8 * k), q.off2);
    v[k] = q(_mm256_mullo_epi32(x, y));
  }
  const __m256i w01 = _mm256_packs_epi32(v[0], v[1]), w23 = _mm256_packs_epi32(v[2], v[3]);
  const __m256i bytes = S ? _mm256_packs_epi16(w01, w23) : _mm256_packus_epi16(w01, w23);
  _mm256_storeu_si256(reinterpret_cast<__m256i*>(out),
                      _mm256_permutevar8x32_epi32(bytes, _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7)));
}

template <bool S, bool AS, bool BS>
void mul_loop(const qlite::ref::MulQuantParams& p, int64_t n, const uint8_t* a, const uint8_t* b, uint8_t* out) {
  const Rq q(p);
  const __m256i sa = _mm256_set1_epi32(value<S>(a) + p.in1_offset);
  const __m256i sb = _mm256_set1_epi32(value<S>(b) + p.in2_offset);
  int64_t i = 0;
  for (; i + 32 <= n; i += 32) mul32<S, AS, BS>(q, AS ? a : a + i, BS ? b : b + i, sa, sb, out + i);
  if (i < n) {  // the tail through padded copies
    const auto m = static_cast<size_t>(n - i);
    alignas(32) uint8_t ta[32] = {}, tb[32] = {}, to[32];
    if (!AS) std::memcpy(ta, a + i, m);
    if (!BS) std::memcpy(tb, b + i, m);
    mul32<S, AS, BS>(q, ta, tb, sa, sb, to);
    std::memcpy(out + i, to, m);
  }
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
// sum of p_k * w_k on 8 int32 lanes (exact: see resize_impl.h), then
// (|v| + 2^19) >> 20 with v's sign: the reference's rounding half away from zero.
struct Resize {
  static int64_t pixel(const int8_t* const (&p)[4], const int32_t (&w)[4], int64_t depth, int8_t* out) {
    const __m256i w0 = _mm256_set1_epi32(w[0]), w1 = _mm256_set1_epi32(w[1]);
    const __m256i w2 = _mm256_set1_epi32(w[2]), w3 = _mm256_set1_epi32(w[3]);
    const __m256i half = _mm256_set1_epi32(1 << 19);
    int64_t c = 0;
    for (; c + 8 <= depth; c += 8) {
      auto ld = [&](int k) {
        return _mm256_cvtepi8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(p[k] + c)));
      };
      __m256i v = _mm256_mullo_epi32(ld(0), w0);
      v = _mm256_add_epi32(v, _mm256_mullo_epi32(ld(1), w1));
      v = _mm256_add_epi32(v, _mm256_mullo_epi32(ld(2), w2));
      v = _mm256_add_epi32(v, _mm256_mullo_epi32(ld(3), w3));
      const __m256i q = _mm256_srli_epi32(_mm256_add_epi32(_mm256_abs_epi32(v), half), 20);
      const __m256i r = _mm256_sign_epi32(q, v);  // -q where v < 0, 0 where v == 0 (then q == 0 too)
      // The low byte of each lane (static_cast<int8_t>, as the reference).
      const __m256i b = _mm256_shuffle_epi8(r, _mm256_setr_epi8(0, 4, 8, 12, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
                                                                -1, 0, 4, 8, 12, -1, -1, -1, -1, -1, -1, -1, -1, -1,
                                                                -1, -1, -1));
      const int32_t lo = _mm256_extract_epi32(b, 0), hi = _mm256_extract_epi32(b, 4);
      std::memcpy(out + c, &lo, 4);
      std::memcpy(out + c + 4, &hi, 4);
    }
    return c;
  }

  // float32 / uint8 (float weights; this file is built with
  // -ffp-contract=off, so every product is rounded before its sum, as in
  // the reference). float32: 0 + p0 w0 + p1 w1 + p2 w2 + p3 w3.
  static int64_t pixel_f32(const float* const (&p)[4], const float (&w)[4], int64_t depth, float* out) {
    const __m256 w0 = _mm256_set1_ps(w[0]), w1 = _mm256_set1_ps(w[1]);
    const __m256 w2 = _mm256_set1_ps(w[2]), w3 = _mm256_set1_ps(w[3]);
    int64_t c = 0;
    for (; c + 8 <= depth; c += 8) {
      __m256 v = _mm256_add_ps(_mm256_setzero_ps(), _mm256_mul_ps(_mm256_loadu_ps(p[0] + c), w0));
      v = _mm256_add_ps(v, _mm256_mul_ps(_mm256_loadu_ps(p[1] + c), w1));
      v = _mm256_add_ps(v, _mm256_mul_ps(_mm256_loadu_ps(p[2] + c), w2));
      v = _mm256_add_ps(v, _mm256_mul_ps(_mm256_loadu_ps(p[3] + c), w3));
      _mm256_storeu_ps(out + c, v);
    }
    return c;
  }
  // uint8: p0 w0 + p1 w1 + p2 w2 + p3 w3 + 0.5, truncated to int32, whose low
  // byte is stored (static_cast<uint8_t> of the float, as x86 converts it).
  static int64_t pixel_u8(const uint8_t* const (&p)[4], const float (&w)[4], int64_t depth, uint8_t* out) {
    const __m256 w0 = _mm256_set1_ps(w[0]), w1 = _mm256_set1_ps(w[1]);
    const __m256 w2 = _mm256_set1_ps(w[2]), w3 = _mm256_set1_ps(w[3]);
    const __m256 half = _mm256_set1_ps(0.5f);
    const __m256i low_bytes = _mm256_setr_epi8(0, 4, 8, 12, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, 0, 4, 8,
                                               12, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1);
    int64_t c = 0;
    for (; c + 8 <= depth; c += 8) {
      auto ld = [&](int k) {
        return _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(p[k] + c))));
      };
      __m256 v = _mm256_mul_ps(ld(0), w0);
      v = _mm256_add_ps(v, _mm256_mul_ps(ld(1), w1));
      v = _mm256_add_ps(v, _mm256_mul_ps(ld(2), w2));
      v = _mm256_add_ps(v, _mm256_mul_ps(ld(3), w3));
      const __m256i b = _mm256_shuffle_epi8(_mm256_cvttps_epi32(_mm256_add_ps(v, half)), low_bytes);
      const int32_t lo = _mm256_extract_epi32(b, 0), hi = _mm256_extract_epi32(b, 4);
      std::memcpy(out + c, &lo, 4);
      std::memcpy(out + c + 4, &hi, 4);
    }
    return c;
  }
  // The exact 2x float32 upsample: four outputs per channel. x / 2 is
  // computed as x * 0.5, the same correctly rounded value.
  static int64_t quad_f32(const float* const (&p)[4], int64_t depth, float* o, int64_t out_row) {
    const __m256 half = _mm256_set1_ps(0.5f);
    int64_t c = 0;
    for (; c + 8 <= depth; c += 8) {
      const __m256 x0y0 = _mm256_loadu_ps(p[0] + c), x1y0 = _mm256_loadu_ps(p[1] + c);
      const __m256 x0y1 = _mm256_loadu_ps(p[2] + c), x1y1 = _mm256_loadu_ps(p[3] + c);
      _mm256_storeu_ps(o + c, x0y0);
      _mm256_storeu_ps(o + depth + c, _mm256_mul_ps(_mm256_add_ps(x0y0, x1y0), half));
      const __m256 bl = _mm256_mul_ps(_mm256_add_ps(x0y0, x0y1), half);
      _mm256_storeu_ps(o + out_row + c, bl);
      const __m256 right = _mm256_mul_ps(_mm256_add_ps(x1y0, x1y1), half);
      _mm256_storeu_ps(o + out_row + depth + c, _mm256_mul_ps(_mm256_add_ps(bl, right), half));
    }
    return c;
  }
};

}  // namespace

void resize_bilinear_s8(const qlite::ref::ResizeGeometry& g, const int8_t* in, int8_t* out) {
  resize_detail::resize_bilinear_s8<Resize>(g, in, out);
}
void resize_bilinear_f32(const qlite::ref::ResizeGeometry& g, const float* in, float* out) {
  resize_detail::resize_bilinear_f32<Resize>(g, in, out);
}
void resize_bilinear_u8(const qlite::ref::ResizeGeometry& g, const uint8_t* in, uint8_t* out) {
  resize_detail::resize_bilinear_u8<Resize>(g, in, out);
}

void lookup_bytes(const uint8_t* table, int64_t n, const uint8_t* in, uint8_t* out) {
  const Table t(table);
  int64_t i = 0;
  for (; i + 32 <= n; i += 32)
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(out + i),
                        t(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(in + i))));
  for (; i < n; ++i) out[i] = table[in[i]];
}

void mul_quant8(const qlite::ref::MulQuantParams& p, bool is_signed, int64_t n, const uint8_t* a, bool a_scalar,
                const uint8_t* b, bool b_scalar, uint8_t* out) {
  if (is_signed) mul_any<true>(p, n, a, a_scalar, b, b_scalar, out);
  else mul_any<false>(p, n, a, a_scalar, b, b_scalar, out);
}

}  // namespace qlite::kernels::elementwise_avx2
#endif
