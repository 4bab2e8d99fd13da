// The int8 kernels written once over a vector "traits" type T and compiled
// once per ISA file (int8_kernels_avx512.cpp, int8_kernels_avx2.cpp). Define
// QLITE_INT8_NS before including: everything lands in an ISA-named namespace
// and an anonymous one, so code built with AVX-512 flags can never be picked
// by the linker for another path. For the same reason this file avoids
// std:: algorithm templates and anything that may throw (the entry points in
// int8_dispatch.cpp validate before calling in).
//
// T provides: Elem / WElem (input-buffer and weight element), Reg, kLanes,
// kGroup (elements per lane per dot), kMaxMR x kMaxNB (register tile),
// kAccTarget (independent accumulators wanted), and the operations used
// below (load/bcast/dot, requantization, byte vectors). Depthwise lives in
// int8_depthwise_impl.h.
#pragma once

#include <array>
#include <cstdint>
#include <cstring>
#include <type_traits>
#include <utility>

#include "kernels/int8_kernels_x86.h"

#ifndef QLITE_INT8_NS
#error "define QLITE_INT8_NS before including int8_impl.h"
#endif

namespace qlite::kernels::QLITE_INT8_NS {
namespace {

inline int imin(int a, int b) { return a < b ? a : b; }
inline int imax(int a, int b) { return a > b ? a : b; }

template <class E>
inline void fill_n(E* d, int64_t n, E v) {
  for (int64_t i = 0; i < n; ++i) d[i] = v;
}

constexpr int kMaxSegments = 64;  // im2col copy segments per window kept in a table

// Copies n elements, possibly writing and reading up to 63 bytes more (the
// scratch has slack; whatever lands past the segment is overwritten later or
// meets a zero weight).
template <class E>
inline void copy_small(E* d, const E* s, int n) {
  const size_t bytes = static_cast<size_t>(n) * sizeof(E);
  if (bytes <= 8) std::memcpy(d, s, 8);
  else if (bytes <= 16) std::memcpy(d, s, 16);
  else if (bytes <= 32) std::memcpy(d, s, 32);
  else if (bytes <= 64) std::memcpy(d, s, 64);
  else std::memcpy(d, s, bytes);
}

// Whether channels c0 .. c0 + lanes - 1 take the cheaper requantization form
// of CONV_2D and FULLY_CONNECTED (T::FastRq: MBQM + zp as the high dword of
// one 64-bit sum, shifted right by right - 1): half-up rounding, no channel
// shifting left, every channel shifting right by 1..20, so that the sum
// acc * M + 2^(30 + right) + 2^30 + zp * 2^(31 + right) stays inside int64.
inline bool fast_requant_ok(const Int8Requant& r, int c0, int lanes) {
  if (r.rounding != qlite::ref::Rounding::kHalfUp || r.any_left) return false;
  for (int c = c0; c < c0 + lanes && c < r.channels; ++c)
    if (r.right[static_cast<size_t>(c)] < 1 || r.right[static_cast<size_t>(c)] > 20) return false;
  return true;
}

template <class T>
struct Kernels {
  using Elem = typename T::Elem;
  using WElem = typename T::WElem;
  using Reg = typename T::Reg;
  static constexpr int L = T::kLanes, G = T::kGroup;
  static constexpr Elem kZeroGroup[G] = {};

  // ---- GEMM over prepared input rows -------------------------------------
  struct Args {
    const WElem* w;
    size_t panel_elems;  // weights per full panel of T::kMaxNB blocks (PackedGemmInt8)
    int n_blocks, n;
    const int32_t* bias;
    const Int8Requant* rq;
    const int32_t* taps;
    int ntaps, ngroups;
    bool fast;  // every channel block takes T's fast requantization (T::fast_ok)
  };

  // MR output pixels x NB blocks of L channels, from block nb0, a multiple
  // of T::kMaxNB with NB = min(T::kMaxNB, n_blocks - nb0): one whole panel
  // of the weights, read front to back. KU sets of accumulators over
  // consecutive k-groups when the tile alone has too few to hide latency.
  // NG > 0: one tap of exactly NG k-groups (1x1 convolutions and fully
  // connected with a short K), a loop GCC unrolls whole, so the accumulators
  // stay in registers (with the runtime trip counts it keeps them on the
  // stack around the loop, which costs as much as the dots when K is 16).
  // Measured on the reference network: K = 16 1.44 -> 1.28 us; K = 32 and 64
  // were no faster (1.00 -> 1.04, 1.44 -> 1.47 us), so only 4 groups get it.
  template <int MR, int NB, int NG = 0>
  static void tile(const Args& a, const Elem* px, int ps, int nb0, int8_t* out, int os) {
    constexpr int KU = imax_c(1, (T::kAccTarget + MR * NB - 1) / (MR * NB));
    Reg acc[KU][MR][NB];
    for (int j = 0; j < NB; ++j) {
      const Reg b = T::load_i32(a.bias + (nb0 + j) * L);
      for (int i = 0; i < MR; ++i) {
        acc[0][i][j] = b;
        for (int u = 1; u < KU; ++u) acc[u][i][j] = T::zero();
      }
    }
    constexpr size_t wk = static_cast<size_t>(NB) * L * G;
    constexpr size_t kPrefetchSteps = 1024 / (wk * sizeof(WElem)) + 1;  // about 1 KB ahead
    const WElem* w = a.w + static_cast<size_t>(nb0 / T::kMaxNB) * a.panel_elems;
    auto step = [&](Reg (&ac)[MR][NB], const Elem* x) {
      Reg wv[NB];
      // One pixel (batch-1 FULLY_CONNECTED): nothing reuses the weights, so
      // the walk is bound by how early they arrive.
      if constexpr (MR == 1) __builtin_prefetch(w + kPrefetchSteps * wk);
      for (int j = 0; j < NB; ++j) wv[j] = T::load_w(w + j * L * G);
      for (int i = 0; i < MR; ++i) {
        const Reg xv = T::bcast(x + i * ps);
        for (int j = 0; j < NB; ++j) ac[i][j] = T::dot(ac[i][j], xv, wv[j]);
      }
      w += wk;
    };
    if constexpr (NG > 0) {
      static_assert(NG % KU == 0);
      const Elem* xt = px + a.taps[0];
#pragma GCC unroll 16
      for (int g = 0; g < NG; g += KU)
#pragma GCC unroll 4
        for (int u = 0; u < KU; ++u) step(acc[u], xt + (g + u) * G);
    } else {
      for (int t = 0; t < a.ntaps; ++t) {
        const Elem* xt = px + a.taps[t];
        int g = 0;
        for (; g + KU <= a.ngroups; g += KU)
          for (int u = 0; u < KU; ++u) step(acc[u], xt + (g + u) * G);
        for (; g < a.ngroups; ++g) step(acc[0], xt + g * G);
      }
    }
    for (int u = 1; u < KU; ++u)
      for (int i = 0; i < MR; ++i)
        for (int j = 0; j < NB; ++j) acc[0][i][j] = T::add(acc[0][i][j], acc[u][i][j]);
    requantize_store<MR, NB>(a, acc[0], nb0, out, os);
  }

  // The accumulators of MR pixels x NB blocks (from channel block nb0)
  // requantized and stored, output pixels os bytes apart: tile()'s
  // epilogue, shared with fc_small so both write the same bytes.
  template <int MR, int NB>
  static void requantize_store(const Args& a, const Reg (&acc)[MR][NB], int nb0, int8_t* out, int os) {
    if (a.fast) {
      // MBQM with the zero point folded into its rounding constant and one
      // 32-bit shift, saturated to bytes (the small conv path's form): fewer
      // instructions per 16 outputs, which matters when K is short (16..32).
      if constexpr ((NB == 2 || NB == 4) && requires { T::kFastBlocks; }) {
        if ((nb0 + NB) * L <= a.n) {  // every block full: one packed store per pixel
          typename T::FastRq rq[NB];
          for (int j = 0; j < NB; ++j) rq[j] = T::fast_rq(*a.rq, (nb0 + j) * L);
          if constexpr (NB == 2 && MR >= 2) {
            // Exactly 2L channels: pixel pairs are 4L contiguous bytes, which
            // the 4-block store writes in one go (its byte order is pixel i's
            // two blocks, then pixel i + 1's).
            if (os == 2 * L) {
              int i = 0;
              for (; i + 2 <= MR; i += 2) {
                Reg v[4];
                for (int q = 0; q < 2; ++q)
                  for (int j = 0; j < 2; ++j) v[q * 2 + j] = T::mbqm_fast(acc[i + q][j], rq[j]);
                T::template store_fast_blocks<4>(v, rq[0], out + i * os + nb0 * L);
              }
              if (i < MR) {
                Reg v[2];
                for (int j = 0; j < 2; ++j) v[j] = T::mbqm_fast(acc[i][j], rq[j]);
                T::template store_fast_blocks<2>(v, rq[0], out + i * os + nb0 * L);
              }
              return;
            }
          }
          for (int i = 0; i < MR; ++i) {
            Reg v[NB];
            for (int j = 0; j < NB; ++j) v[j] = T::mbqm_fast(acc[i][j], rq[j]);
            T::template store_fast_blocks<NB>(v, rq[0], out + i * os + nb0 * L);
          }
          return;
        }
      }
      for (int j = 0; j < NB; ++j) {
        const int c0 = (nb0 + j) * L;
        const int n = imin(L, a.n - c0);
        const typename T::FastRq rq = T::fast_rq(*a.rq, c0);
        for (int i = 0; i < MR; ++i) T::store_fast1(T::mbqm_fast(acc[i][j], rq), rq, out + i * os + c0, n);
      }
      return;
    }
    for (int j = 0; j < NB; ++j) {
      const int c0 = (nb0 + j) * L;
      const int n = imin(L, a.n - c0);
      const typename T::Rq rq = T::load_rq(*a.rq, c0);
      for (int i = 0; i < MR; ++i) T::store_out(T::mbqm(acc[i][j], rq), rq, out + i * os + c0, n);
    }
  }
  static constexpr int imax_c(int x, int y) { return x > y ? x : y; }

  using TileFn = void (*)(const Args&, const Elem*, int, int, int8_t*, int);
  template <size_t... I>
  static constexpr std::array<TileFn, sizeof...(I)> make_tiles(std::index_sequence<I...>) {
    return {&tile<static_cast<int>(I) / T::kMaxNB + 1, static_cast<int>(I) % T::kMaxNB + 1>...};
  }
  static constexpr std::array<TileFn, T::kMaxMR * T::kMaxNB> kTiles =
      make_tiles(std::make_index_sequence<T::kMaxMR * T::kMaxNB>{});

  // Full-height tiles of one tap and 4 k-groups (K = 16 for vpdpbusd), by nb - 1.
  static constexpr int kShortNG = 4;
  template <size_t... I>
  static constexpr std::array<TileFn, sizeof...(I)> make_short(std::index_sequence<I...>) {
    return {&tile<T::kMaxMR, static_cast<int>(I) + 1, kShortNG>...};
  }
  static constexpr std::array<TileFn, T::kMaxNB> kShortTiles = make_short(std::make_index_sequence<T::kMaxNB>{});

  // npix output pixels whose windows start ps elements apart; output pixels os bytes apart.
  static void gemm_row(const Args& a, const Elem* px, int npix, int ps, int8_t* out, int os) {
    const bool short_k = a.ntaps == 1 && a.ngroups == kShortNG;
    for (int nb0 = 0; nb0 < a.n_blocks; nb0 += T::kMaxNB) {
      const int nb = imin(T::kMaxNB, a.n_blocks - nb0);
      const TileFn full = short_k ? kShortTiles[nb - 1] : kTiles[(T::kMaxMR - 1) * T::kMaxNB + nb - 1];
      int p = 0;
      for (; p + T::kMaxMR <= npix; p += T::kMaxMR)
        full(a, px + static_cast<int64_t>(p) * ps, ps, nb0, out + static_cast<int64_t>(p) * os, os);
      if (p < npix)
        kTiles[(npix - p - 1) * T::kMaxNB + nb - 1](a, px + static_cast<int64_t>(p) * ps, ps, nb0,
                                                    out + static_cast<int64_t>(p) * os, os);
    }
  }

  static Args gemm_args(const PackedGemmInt8& g, const int32_t* taps, int ntaps, int ngroups) {
    bool fast = g.n > 0;
    for (int c0 = 0; fast && c0 < g.n; c0 += L) fast = T::fast_ok(g.rq, c0);
    static_assert(T::kMaxNB == (L == 8 ? kGemmPanelAvx2 : kGemmPanelAvx512), "tile width != packed panel");
    return Args{reinterpret_cast<const WElem*>(g.weights.data()),
                static_cast<size_t>(g.k_pad) * T::kMaxNB * L,
                g.n_blocks, g.n, g.bias.data(), &g.rq, taps, ntaps, ngroups, fast};
  }

  // ---- convolution ---------------------------------------------------------
  // Padded rows [r_lo, r_hi) of the input window, converted to Elem.
  static void fill_rows(const PackedConvInt8& pc, const int8_t* image, Elem* pad, int r_lo, int r_hi) {
    const qlite::ref::WindowGeometry& g = pc.params.g;
    const Elem pv = T::pad_value(pc.params.input_zero_point);
    const int cp = pc.cin_p, cols = pc.cols_p;
    const int c_lo = imin(imax(g.pad_left, 0), cols);
    const int c_hi = imax(imin(g.pad_left + g.in_w, cols), c_lo);
    for (int r = r_lo; r < r_hi; ++r) {
      Elem* d = pad + static_cast<int64_t>(r) * cols * cp;
      const int iy = r - g.pad_top;
      if (iy < 0 || iy >= g.in_h) {
        fill_n(d, int64_t{cols} * cp, pv);
        continue;
      }
      fill_n(d, int64_t{c_lo} * cp, pv);
      const int8_t* s = image + (static_cast<int64_t>(iy) * g.in_w + (c_lo - g.pad_left)) * g.in_c;
      if (cp == g.in_c) {
        T::convert(s, d + static_cast<int64_t>(c_lo) * cp, int64_t{c_hi - c_lo} * cp);
      } else {
        for (int c = c_lo; c < c_hi; ++c) {
          T::convert(s + static_cast<int64_t>(c - c_lo) * g.in_c, d + static_cast<int64_t>(c) * cp, g.in_c);
          fill_n(d + static_cast<int64_t>(c) * cp + g.in_c, cp - g.in_c, pv);
        }
      }
      fill_n(d + static_cast<int64_t>(c_hi) * cp, int64_t{cols - c_hi} * cp, pv);
    }
  }

  // One block of output channels and a short dot (NG groups in all, the
  // seed's conv: 3): weights, bias and requantization constants stay in
  // registers for the whole band, four pixels are requantized and stored
  // together (T::store_out4), and no tile bookkeeping runs per pixel.
  static constexpr int kSmallMaxGroups = 8;
  template <int NG>
  static void small_rows(const PackedConvInt8& pc, const Elem* pad, int8_t* out_image, int y0, int y1) {
    if (T::fast_ok(pc.gemm.rq, 0)) return small_rows_rq<NG, 2>(pc, pad, out_image, y0, y1);
    if (T::plain(T::load_rq(pc.gemm.rq, 0))) return small_rows_rq<NG, 1>(pc, pad, out_image, y0, y1);
    small_rows_rq<NG, 0>(pc, pad, out_image, y0, y1);
  }
  // kForm: 2 = T's fast form (MBQM + zp, packed stores), 1 = no left shift and
  // half up, 0 = general.
  template <int NG, int kForm>
  static void small_rows_rq(const PackedConvInt8& pc, const Elem* pad, int8_t* out_image, int y0, int y1) {
    const qlite::ref::WindowGeometry& g = pc.params.g;
    const PackedGemmInt8& gm = pc.gemm;
    const int cp = pc.cin_p, cols = pc.cols_p, n = g.out_c, gpt = pc.tap_groups, out_w = g.out_w;
    const WElem* wp = reinterpret_cast<const WElem*>(gm.weights.data());
    Reg w[NG];
    int64_t off[NG];
    for (int i = 0; i < NG; ++i) {
      w[i] = T::load_w(wp + i * L * G);
      off[i] = pc.tap_offsets[static_cast<size_t>(i / gpt)] + (i % gpt) * G;
    }
    const Reg b = T::load_i32(gm.bias.data());
    using Q = std::conditional_t<kForm == 2, typename T::FastRq, typename T::Rq>;
    Q rq;
    if constexpr (kForm == 2) rq = T::fast_rq(gm.rq, 0);
    else rq = T::load_rq(gm.rq, 0);
    auto requant = [&](Reg acc) {
      if constexpr (kForm == 2) return T::mbqm_fast(acc, rq);
      else if constexpr (kForm == 1) return T::mbqm_plain(acc, rq);
      else return T::mbqm_general(acc, rq);
    };
    const int64_t ps = int64_t{g.stride_w} * cp;
    for (int oy = y0; oy < y1; ++oy) {
      const Elem* row = pad + static_cast<int64_t>(oy) * g.stride_h * cols * cp;
      int8_t* o = out_image + static_cast<int64_t>(oy) * out_w * n;
      int ox = 0;
      for (; ox + 4 <= out_w; ox += 4) {
        const Elem* x = row + ox * ps;
        Reg acc[4] = {b, b, b, b};
        for (int i = 0; i < NG; ++i)
          for (int p = 0; p < 4; ++p) acc[p] = T::dot(acc[p], T::bcast(x + p * ps + off[i]), w[i]);
        for (int p = 0; p < 4; ++p) acc[p] = requant(acc[p]);
        if constexpr (kForm == 2) T::store_fast4(acc, rq, o + static_cast<int64_t>(ox) * n, n);
        else T::store_out4(acc, rq, o + static_cast<int64_t>(ox) * n, n);
      }
      for (; ox < out_w; ++ox) {
        Reg acc = b;
        for (int i = 0; i < NG; ++i) acc = T::dot(acc, T::bcast(row + ox * ps + off[i]), w[i]);
        if constexpr (kForm == 2) T::store_fast1(requant(acc), rq, o + static_cast<int64_t>(ox) * n, n);
        else T::store_out(requant(acc), rq, o + static_cast<int64_t>(ox) * n, n);
      }
    }
  }
  using SmallFn = void (*)(const PackedConvInt8&, const Elem*, int8_t*, int, int);
  template <size_t... I>
  static constexpr std::array<SmallFn, sizeof...(I)> make_small(std::index_sequence<I...>) {
    return {&small_rows<static_cast<int>(I) + 1>...};
  }
  static constexpr std::array<SmallFn, kSmallMaxGroups> kSmall =
      make_small(std::make_index_sequence<kSmallMaxGroups>{});

  static void conv_rows(const PackedConvInt8& pc, const int8_t* image, int8_t* out_image, int y0, int y1,
                        void* scratch) {
    const qlite::ref::WindowGeometry& g = pc.params.g;
    Elem* pad = static_cast<Elem*>(scratch);
    const int r_lo = y0 * g.stride_h;
    const int r_hi = (y1 - 1) * g.stride_h + (g.kernel_h - 1) * g.dilation_h + 1;
    fill_rows(pc, image, pad, r_lo, r_hi);
    const int cp = pc.cin_p, cols = pc.cols_p;
    const int groups = static_cast<int>(pc.tap_offsets.size()) * pc.tap_groups;
    if (!pc.im2col && pc.gemm.n_blocks == 1 && groups >= 1 && groups <= kSmallMaxGroups)
      return kSmall[static_cast<size_t>(groups - 1)](pc, pad, out_image, y0, y1);
    if (!pc.im2col) {
      const Args a = gemm_args(pc.gemm, pc.tap_offsets.data(), static_cast<int>(pc.tap_offsets.size()), pc.tap_groups);
      // 1x1, stride 1, no column padding: the band's pixels are one run, so
      // full tiles span row ends (7x7 rows of 6-pixel tiles would end each
      // row with a 1-pixel tile).
      if (g.kernel_h == 1 && g.kernel_w == 1 && g.stride_h == 1 && g.stride_w == 1 && cols == g.out_w)
        return gemm_row(a, pad + static_cast<int64_t>(y0) * cols * cp, (y1 - y0) * g.out_w, cp,
                        out_image + static_cast<int64_t>(y0) * g.out_w * g.out_c, g.out_c);
      // Windows start stride_w pixels apart; with one output column there is
      // no step (a file's stride may be any int: stride_w * cp could
      // overflow, while with two or more columns it fits in the padded row).
      const int ps = g.out_w > 1 ? g.stride_w * cp : 0;
      for (int oy = y0; oy < y1; ++oy)
        gemm_row(a, pad + static_cast<int64_t>(oy) * g.stride_h * cols * cp, g.out_w, ps,
                 out_image + static_cast<int64_t>(oy) * g.out_w * g.out_c, g.out_c);
      return;
    }
    // im2col: window rows of k_pad elements, one per output pixel of the band.
    // Stores through Elem* may alias anything, so every size lives in a local.
    const size_t pad_bytes = (static_cast<size_t>(pc.rows_p) * cols * cp * sizeof(Elem) + 64 + 63) & ~size_t{63};
    Elem* col = reinterpret_cast<Elem*>(static_cast<char*>(scratch) + pad_bytes);
    const int kp = pc.gemm.k_pad, k = pc.gemm.k, out_w = g.out_w;
    const int seg = g.dilation_w == 1 ? g.kernel_w * g.in_c : g.in_c;
    const int nseg = g.kernel_h * (g.dilation_w == 1 ? 1 : g.kernel_w);
    int64_t seg_off[kMaxSegments];
    for (int ky = 0, i = 0; ky < g.kernel_h; ++ky)
      for (int sx = 0; sx < nseg / g.kernel_h; ++sx, ++i)
        if (i < kMaxSegments) seg_off[i] = (int64_t{ky} * g.dilation_h * cols + int64_t{sx} * g.dilation_w) * cp;
    const int64_t row_step = int64_t{g.stride_h} * cols * cp, px_step = int64_t{g.stride_w} * cp;
    for (int oy = y0; oy < y1; ++oy) {
      Elem* d0 = col + static_cast<int64_t>(oy - y0) * out_w * kp;
      const Elem* base = pad + oy * row_step;
      for (int ox = 0; ox < out_w; ++ox, d0 += kp, base += px_step) {
        // Elements [k, k_pad) meet zero weights; zero them first (one small
        // store, no per-pixel memset), segment over-copies may then land there.
        if (kp > k) std::memcpy(d0 + kp - G, kZeroGroup, G * sizeof(Elem));
        if (nseg <= kMaxSegments) {
          for (int i = 0; i < nseg; ++i) copy_small(d0 + i * seg, base + seg_off[i], seg);
        } else {
          for (int ky = 0, i = 0; ky < g.kernel_h; ++ky)
            for (int sx = 0; sx < nseg / g.kernel_h; ++sx, ++i)
              copy_small(d0 + i * seg, base + (int64_t{ky} * g.dilation_h * cols + int64_t{sx} * g.dilation_w) * cp, seg);
        }
      }
    }
    static constexpr int32_t kZeroTap[1] = {0};
    const Args a = gemm_args(pc.gemm, kZeroTap, 1, kp / G);
    gemm_row(a, col, (y1 - y0) * g.out_w, kp, out_image + static_cast<int64_t>(y0) * g.out_w * g.out_c, g.out_c);
  }

  // ---- fully connected -----------------------------------------------------
  // ---- small fully connected ----------------------------------------------
  // A few rows of a short dot into at most two blocks of outputs (TFLite
  // Micro's hello_world is 1-16-16-1). At that size the set-up around the
  // dots costs more than the dots: measured with callgrind on hello_world
  // (AVX2), fc_rows' scratch pass and gemm_row's tile dispatch took 150 of the
  // ~390 instructions per op. Here the row is converted on the stack, the
  // accumulators stay in registers over the whole dot (two sets, even and odd
  // k-groups, to halve the dependency chain; integer sums, so the order does
  // not change them) and tile()'s own epilogue writes the bytes.
  static constexpr int kSmallFcMaxK = 64;
  static bool fc_small_ok(const PackedGemmInt8& gm, int rows) {
    return rows < T::kMaxMR && gm.k_pad <= kSmallFcMaxK && gm.n_blocks <= 2;
  }
  template <int NB>
  static void fc_small(const PackedGemmInt8& gm, int rows, const int8_t* in, int8_t* out) {
    static constexpr int32_t kZeroTap[1] = {0};
    const Args a = gemm_args(gm, kZeroTap, 1, gm.k_pad / G);
    const size_t wk = static_cast<size_t>(NB) * L * G;  // one k-group of every block
    alignas(64) Elem x[kSmallFcMaxK];
    for (int r = 0; r < rows; ++r) {
      T::convert(in + static_cast<int64_t>(r) * gm.k, x, gm.k);
      for (int e = gm.k; e < gm.k_pad; ++e) x[e] = Elem{0};
      Reg acc[2][1][NB];
      for (int j = 0; j < NB; ++j) {
        acc[0][0][j] = T::load_i32(a.bias + j * L);
        acc[1][0][j] = T::zero();
      }
      const WElem* w = a.w;
      int g = 0;
      for (; g + 2 <= a.ngroups; g += 2, w += 2 * wk) {
        const Reg x0 = T::bcast(x + g * G), x1 = T::bcast(x + (g + 1) * G);
        for (int j = 0; j < NB; ++j) {
          acc[0][0][j] = T::dot(acc[0][0][j], x0, T::load_w(w + j * L * G));
          acc[1][0][j] = T::dot(acc[1][0][j], x1, T::load_w(w + wk + j * L * G));
        }
      }
      if (g < a.ngroups) {
        const Reg x0 = T::bcast(x + g * G);
        for (int j = 0; j < NB; ++j) acc[0][0][j] = T::dot(acc[0][0][j], x0, T::load_w(w + j * L * G));
      }
      for (int j = 0; j < NB; ++j) acc[0][0][j] = T::add(acc[0][0][j], acc[1][0][j]);
      requantize_store<1, NB>(a, acc[0], 0, out + static_cast<int64_t>(r) * gm.n, gm.n);
    }
  }

  static void fc_rows(const PackedFullyConnectedInt8& pf, int rows, const int8_t* in, int8_t* out, void* scratch) {
    const PackedGemmInt8& gm = pf.gemm;
    if (fc_small_ok(gm, rows)) {
      if (gm.n_blocks == 1) return fc_small<1>(gm, rows, in, out);
      return fc_small<2>(gm, rows, in, out);
    }
    Elem* buf = static_cast<Elem*>(scratch);
    static constexpr int32_t kZeroTap[1] = {0};
    const Args a = gemm_args(gm, kZeroTap, 1, gm.k_pad / G);
    for (int r0 = 0; r0 < rows; r0 += pf.chunk_rows) {
      const int nr = imin(pf.chunk_rows, rows - r0);
      for (int r = 0; r < nr; ++r) {
        Elem* d = buf + static_cast<int64_t>(r) * gm.k_pad;
        T::convert(in + static_cast<int64_t>(r0 + r) * gm.k, d, gm.k);
        for (int e = gm.k; e < gm.k_pad; ++e) d[e] = Elem{0};
      }
      gemm_row(a, buf, nr, gm.k_pad, out + static_cast<int64_t>(r0) * gm.n, gm.n);
    }
  }

  // ---- requantization alone (tests) ----------------------------------------
  static void requantize_channels(const Int8Requant& rq, int64_t pixels, const int32_t* acc, int8_t* out) {
    for (int64_t p = 0; p < pixels; ++p)
      for (int c0 = 0; c0 < rq.channels; c0 += L) {
        const int n = imin(L, rq.channels - c0);
        const typename T::Rq r = T::load_rq(rq, c0);
        const int64_t i = p * rq.channels + c0;
        T::store_out(T::mbqm(T::load_i32_n(acc + i, n), r), r, out + i, n);
      }
  }

  // ---- pooling -------------------------------------------------------------
  template <class Fn>
  static void for_pool_windows(const qlite::ref::WindowGeometry& g, Fn fn) {
    for (int b = 0; b < g.batch; ++b)
      for (int oy = 0; oy < g.out_h; ++oy) {
        const int iy0 = oy * g.stride_h - g.pad_top;
        const int ky0 = imax(0, -iy0), ky1 = imin(g.kernel_h, g.in_h - iy0);
        for (int ox = 0; ox < g.out_w; ++ox) {
          const int ix0 = ox * g.stride_w - g.pad_left;
          const int kx0 = imax(0, -ix0), kx1 = imin(g.kernel_w, g.in_w - ix0);
          fn(b, oy, ox, iy0, ix0, ky0, ky1, kx0, kx1);
        }
      }
  }

  static constexpr int kPoolRowBytes = 8192;  // input row span of the 2x2 fast path, on the stack

  // 2x2 windows, stride 2, no padding (the seed model's pool): the two input
  // rows are first reduced over their whole width with full vectors, then
  // adjacent pixels pairwise. Same maxima, so the same bytes as the general
  // path, with half the loads and no per-window bookkeeping.
  static bool max_pool_2x2(const qlite::ref::PoolInt8Params& p, const int8_t* in, int8_t* out) {
    const qlite::ref::WindowGeometry& g = p.g;
    const int c = g.in_c;
    const int64_t span = int64_t{2} * g.out_w * c;  // the part of an input row the windows read
    if (g.kernel_h != 2 || g.kernel_w != 2 || g.stride_h != 2 || g.stride_w != 2 || g.pad_top != 0 ||
        g.pad_left != 0 || 2 * g.out_h > g.in_h || 2 * g.out_w > g.in_w || span > kPoolRowBytes)
      return false;
    alignas(64) int8_t rmax[kPoolRowBytes + 64];
    const typename T::B lo = T::bset1(static_cast<int8_t>(p.act.min)), hi = T::bset1(static_cast<int8_t>(p.act.max));
    for (int b = 0; b < g.batch; ++b)
      for (int oy = 0; oy < g.out_h; ++oy) {
        const int8_t* r0 = in + ((static_cast<int64_t>(b) * g.in_h + 2 * oy) * g.in_w) * c;
        const int8_t* r1 = r0 + static_cast<int64_t>(g.in_w) * c;
        for (int64_t i = 0; i < span; i += T::kBLanes) {
          const int n = static_cast<int>(span - i < T::kBLanes ? span - i : T::kBLanes);
          T::bstore(rmax + i, T::bmax(T::bload(r0 + i, n), T::bload(r1 + i, n)), n);
        }
        int8_t* o = out + (static_cast<int64_t>(b) * g.out_h + oy) * g.out_w * c;
        for (int ox = 0; ox < g.out_w; ++ox)
          for (int cb = 0; cb < c; cb += T::kBLanes) {
            const int n = imin(T::kBLanes, c - cb);
            const int8_t* q = rmax + static_cast<int64_t>(2 * ox) * c + cb;
            const typename T::B m = T::bmax(T::bload(q, n), T::bload(q + c, n));
            T::bstore(o + static_cast<int64_t>(ox) * c + cb, T::bmin(T::bmax(m, lo), hi), n);
          }
      }
    return true;
  }

  static void max_pool(const qlite::ref::PoolInt8Params& p, const int8_t* in, int8_t* out) {
    if (max_pool_2x2(p, in, out)) return;
    const qlite::ref::WindowGeometry& g = p.g;
    const int c = g.in_c;
    const typename T::B lo = T::bset1(static_cast<int8_t>(p.act.min)), hi = T::bset1(static_cast<int8_t>(p.act.max));
    for_pool_windows(g, [&](int b, int oy, int ox, int iy0, int ix0, int ky0, int ky1, int kx0, int kx1) {
      const int8_t* img = in + static_cast<int64_t>(b) * g.in_h * g.in_w * c;
      int8_t* o = out + ((static_cast<int64_t>(b) * g.out_h + oy) * g.out_w + ox) * c;
      for (int cb = 0; cb < c; cb += T::kBLanes) {
        const int n = imin(T::kBLanes, c - cb);
        typename T::B m = lo;  // clamping below act.min is the same as starting there
        for (int ky = ky0; ky < ky1; ++ky)
          for (int kx = kx0; kx < kx1; ++kx)
            m = T::bmax(m, T::bload(img + ((static_cast<int64_t>(iy0) + ky) * g.in_w + ix0 + kx) * c + cb, n));
        T::bstore(o + cb, T::bmin(m, hi), n);
      }
    });
  }

  static void average_pool(const qlite::ref::PoolInt8Params& p, const int8_t* in, int8_t* out) {
    const qlite::ref::WindowGeometry& g = p.g;
    const int c = g.in_c;
    for_pool_windows(g, [&](int b, int oy, int ox, int iy0, int ix0, int ky0, int ky1, int kx0, int kx1) {
      const int8_t* img = in + static_cast<int64_t>(b) * g.in_h * g.in_w * c;
      int8_t* o = out + ((static_cast<int64_t>(b) * g.out_h + oy) * g.out_w + ox) * c;
      const int count = (ky1 - ky0) * (kx1 - kx0);
      for (int cb = 0; cb < c; cb += L) {
        const int n = imin(L, c - cb);
        Reg s = T::zero();
        for (int ky = ky0; ky < ky1; ++ky)
          for (int kx = kx0; kx < kx1; ++kx)
            s = T::add(s, T::load_i8_i32(img + ((static_cast<int64_t>(iy0) + ky) * g.in_w + ix0 + kx) * c + cb, n));
        T::store_clamped(T::div_round(s, count), p.act.min, p.act.max, o + cb, n);
      }
    });
  }

  // ---- add / mean ----------------------------------------------------------
  // One input's scaling MBQM((q - zp) << left_shift) of ADD in 32-bit lanes
  // (see add_input_scale above): hi + ((lo + k - [q < thr] d) >> s), with
  // hi = q * mq and lo = q * mr.
  struct AddIn {
    Reg mq, mr, k, thr, d;
    int s;
  };
  static AddIn add_in(const AddInScale& c) {
    return AddIn{T::set1(c.mq), T::set1(c.mr), T::set1(c.k), T::set1(c.thr), T::set1(c.d), c.s};
  }
  static Reg add_scaled(Reg q, const AddIn& c) {
    const Reg lo = T::sub_where_lt(T::add(T::mullo(q, c.mr), c.k), q, c.thr, c.d);
    return T::add(T::mullo(q, c.mq), T::sra(lo, c.s));
  }

  // ADD's output stage in the cheaper double rounding (fast_double_rounding,
  // constants from prepare_add_int8: the raw sums' least value folded into
  // the inputs' offset so that the sum arrives non-negative, the zero point
  // inside the rounding constant). Two registers (2 L outputs) per step.
  static void add_fast_output(const PreparedAddInt8& pp, const AddIn& i1, const AddIn& i2, int64_t n,
                              const int8_t* a, const int8_t* b, int8_t* out) {
    const typename T::DrFast dq = T::dr_fast(pp.f);
    const Reg off = T::set1(pp.fast_off);
    auto raw = [&](Reg x, Reg y) { return T::add(T::add(add_scaled(x, i1), add_scaled(y, i2)), off); };
    const qlite::ref::ActRange act = pp.p.act;
    const auto lo8 = static_cast<int8_t>(act.min), hi8 = static_cast<int8_t>(act.max);
    int64_t i = 0;
    for (; i + 2 * L <= n; i += 2 * L) {
      Reg x0, x1, y0, y1;
      T::load2_i32(a + i, x0, x1);
      T::load2_i32(b + i, y0, y1);
      T::store2_clamped(T::dr_fast_apply(raw(x0, y0), dq), T::dr_fast_apply(raw(x1, y1), dq), lo8, hi8, out + i);
    }
    for (; i < n; i += L) {
      const int m = static_cast<int>(n - i < L ? n - i : L);
      const Reg v = T::dr_fast_apply(raw(T::load_i8_i32(a + i, m), T::load_i8_i32(b + i, m)), dq);
      T::store_clamped(v, act.min, act.max, out + i, m);
    }
  }

  static void add(const PreparedAddInt8& pp, int64_t n, const int8_t* a, const int8_t* b, int8_t* out) {
    const qlite::ref::AddInt8Params& p = pp.p;
    if (pp.in32) {
      const AddIn i1 = add_in(pp.c1), i2 = add_in(pp.c2);
      if constexpr (requires { T::dr_fast_apply; }) {
        if (pp.fast_out) return add_fast_output(pp, i1, i2, n, a, b, out);
      }
      const typename T::Rq ro = T::uniform_rq(p.output, p.output_zero_point, p.act.min, p.act.max);
      // -zp * mq of both inputs, with 32-bit wrap-around: every partial sum
      // below is exact modulo 2^32 and the total is the reference's raw sum.
      const Reg off = T::set1(static_cast<int32_t>(static_cast<uint32_t>(pp.c1.off) + static_cast<uint32_t>(pp.c2.off)));
      for (int64_t i = 0; i < n; i += L) {
        const int m = static_cast<int>(n - i < L ? n - i : L);
        const Reg s = T::add(T::add(add_scaled(T::load_i8_i32(a + i, m), i1), add_scaled(T::load_i8_i32(b + i, m), i2)),
                             off);
        T::store_out(T::mbqm(s, ro), ro, out + i, m);
      }
      return;
    }
    const typename T::Rq ro = T::uniform_rq(p.output, p.output_zero_point, p.act.min, p.act.max);
    const typename T::Rq r1 = T::uniform_rq(p.input1, 0, -128, 127);
    const typename T::Rq r2 = T::uniform_rq(p.input2, 0, -128, 127);
    const Reg z1 = T::set1(p.input1_zero_point), z2 = T::set1(p.input2_zero_point);
    for (int64_t i = 0; i < n; i += L) {
      const int m = static_cast<int>(n - i < L ? n - i : L);
      const Reg x1 = T::shl(T::sub(T::load_i8_i32(a + i, m), z1), p.left_shift);
      const Reg x2 = T::shl(T::sub(T::load_i8_i32(b + i, m), z2), p.left_shift);
      const Reg s = T::add(T::mbqm(x1, r1), T::mbqm(x2, r2));
      T::store_out(T::mbqm(s, ro), ro, out + i, m);
    }
  }

  // Sums with SIMD; every output is finished by the reference's own
  // ref::mean_int8_from_sum (TFLite 2.9's arithmetic, some of it in float),
  // so the paths cannot differ, except kFloatRescale on a T with
  // mean_float_rescale: the same IEEE float steps on a register of sums
  // (which hands the block back when a value leaves the range where that is
  // evident). batch * c outputs against h * w * c loads.
  static void mean(const qlite::ref::MeanInt8Params& p, const int8_t* in, int8_t* out) {
    const int64_t hw = int64_t{p.h} * p.w;
    for (int b = 0; b < p.batch; ++b) {
      const int8_t* img = in + static_cast<int64_t>(b) * hw * p.c;
      for (int cb = 0; cb < p.c; cb += L) {
        const int n = imin(L, p.c - cb);
        Reg s0 = T::zero(), s1 = T::zero();
        int64_t i = 0;
        for (; i + 1 < hw; i += 2) {
          s0 = T::add(s0, T::load_i8_i32(img + i * p.c + cb, n));
          s1 = T::add(s1, T::load_i8_i32(img + (i + 1) * p.c + cb, n));
        }
        if (i < hw) s0 = T::add(s0, T::load_i8_i32(img + i * p.c + cb, n));
        const Reg s = T::add(s0, s1);
        int8_t* o = out + static_cast<int64_t>(b) * p.c + cb;
        if constexpr (requires { T::kFloatMean; })
          if (p.method == qlite::ref::MeanInt8Method::kFloatRescale && T::mean_float_rescale(p, s, o, n)) continue;
        int32_t sums[L];
        std::memcpy(sums, &s, sizeof s);
        for (int j = 0; j < n; ++j) o[j] = qlite::ref::mean_int8_from_sum(p, sums[j]);
      }
    }
  }
};

// Scalar constants of one quantized multiplier, as make_int8_requant computes them per channel.
struct RqScalar {
  int32_t mult, left, right, rmask, rhalf;
  int64_t round64, fix64, shift64;
};
inline RqScalar rq_scalar(const qlite::ref::QuantizedMultiplier& m) {
  RqScalar s;
  s.mult = m.multiplier;
  s.left = m.shift > 0 ? m.shift : 0;
  s.right = m.shift > 0 ? 0 : -m.shift;
  s.rmask = static_cast<int32_t>((int64_t{1} << s.right) - 1);
  s.rhalf = s.rmask >> 1;
  s.round64 = (int64_t{1} << 30) + (s.right > 0 ? int64_t{1} << (30 + s.right) : 0);
  s.fix64 = s.right > 0 ? int64_t{1} << 31 : 0;
  s.shift64 = 31 + s.right;
  return s;
}

}  // namespace
}  // namespace qlite::kernels::QLITE_INT8_NS

// The entry points of one ISA, defined from its traits type.
#define QLITE_INT8_DEFINE_ENTRY_POINTS(T)                                                                         \
  void requantize_channels(const Int8Requant& rq, int64_t pixels, const int32_t* acc, int8_t* out) {            \
    Kernels<T>::requantize_channels(rq, pixels, acc, out);                                                       \
  }                                                                                                              \
  void conv2d_rows(const PackedConvInt8& pc, const int8_t* image, int8_t* out_image, int y0, int y1,             \
                   void* scratch) {                                                                              \
    Kernels<T>::conv_rows(pc, image, out_image, y0, y1, scratch);                                                \
  }                                                                                                              \
  void fully_connected_rows(const PackedFullyConnectedInt8& pf, int rows, const int8_t* input, int8_t* output,    \
                            void* scratch) {                                                                     \
    Kernels<T>::fc_rows(pf, rows, input, output, scratch);                                                       \
  }                                                                                                              \
  void max_pool2d(const qlite::ref::PoolInt8Params& p, const int8_t* input, int8_t* output) {                           \
    Kernels<T>::max_pool(p, input, output);                                                                      \
  }                                                                                                              \
  void average_pool2d(const qlite::ref::PoolInt8Params& p, const int8_t* input, int8_t* output) {                       \
    Kernels<T>::average_pool(p, input, output);                                                                  \
  }                                                                                                              \
  void add(const PreparedAddInt8& p, int64_t n, const int8_t* a, const int8_t* b, int8_t* output) {                  \
    Kernels<T>::add(p, n, a, b, output);                                                                         \
  }                                                                                                              \
  void mean_hw(const qlite::ref::MeanInt8Params& p, const int8_t* input, int8_t* output) { Kernels<T>::mean(p, input, output); }

// The wide GEMM layout's entry points (gemm.weight_bytes 2), from its traits type.
#define QLITE_INT8_DEFINE_WIDE_ENTRY_POINTS(T)                                                                   \
  void conv2d_rows_wide(const PackedConvInt8& pc, const int8_t* image, int8_t* out_image, int y0, int y1,       \
                        void* scratch) {                                                                         \
    Kernels<T>::conv_rows(pc, image, out_image, y0, y1, scratch);                                                \
  }                                                                                                              \
  void fully_connected_rows_wide(const PackedFullyConnectedInt8& pf, int rows, const int8_t* input,             \
                                 int8_t* output, void* scratch) {                                                \
    Kernels<T>::fc_rows(pf, rows, input, output, scratch);                                                       \
  }
