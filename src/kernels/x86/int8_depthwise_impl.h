// The int8 depthwise convolution written once over a traits type T and
// compiled once per ISA file (int8_kernels_avx512.cpp, int8_kernels_avx2.cpp),
// which define QLITE_INT8_NS first (see int8_impl.h for why everything lands
// in an ISA-named and an anonymous namespace).
//
// Scheme: every input row is turned once into a "group row": for each column
// x and channel c, the T::kGroup values X[x + t * dilation_w][c], t < kGroup,
// side by side in 4 bytes (4 x u8 for vpdpbusd, 2 x int16 for vpmaddwd). One
// dot instruction then covers kGroup horizontal taps of a whole register of
// channels, and taps kGroup * j + t of a wider kernel read the group at
// column x + kGroup * j * dilation_w. Group rows live in a ring of
// (kernel_h - 1) * dilation_h + 1 rows, so each is built once per call and
// reused by every output row that needs it. Channels come in blocks of
// T::kBlock held in T::kRegs registers; the in-lane unpacks that build groups
// permute channels inside a block, and the saturating packs of the output
// stage undo exactly that permutation, so weights, bias and requantization
// constants are packed in the permuted order (PackedDepthwiseInt8).
//
// T provides: Reg, kBlock, kRegs, kGroup, kMR (output pixels per tile), kPairs
// (whether pd.pairs may be packed for it: then tile_pairs is compiled), Pad,
// make_pad, build, build_full (a whole block whose kGroup taps, step bytes
// apart, all lie inside the row), load, dot, and requant_store<MR, Fast>
// (requantize a tile's accumulators and store kBlock bytes per pixel; Fast:
// 0 the exact 64-bit form, 1 the fast form of PackedDepthwiseInt8, 2 the fast
// form without its a < thr step, when pd.rq_thr_zero).
#pragma once

#include <cstdint>
#include <cstring>

#include "kernels/int8_kernels_x86.h"

#ifndef QLITE_INT8_NS
#error "define QLITE_INT8_NS before including int8_depthwise_impl.h"
#endif

namespace qlite::kernels::QLITE_INT8_NS {
namespace {

template <class T>
struct Depthwise {
  using Reg = typename T::Reg;
  static constexpr int kB = T::kBlock, kR = T::kRegs, kL = T::kBlock / T::kRegs, kG = T::kGroup;

  static constexpr int kKwg5 = (5 + kG - 1) / kG;  // tap groups of a 5-wide row

  static int dmin(int a, int b) { return a < b ? a : b; }

  // Input row iy with every channel repeated depth_multiplier times (output
  // channel order: input channel ci feeds outputs ci * dm .. ci * dm + dm - 1),
  // so that a multiplier > 1 runs the multiplier-1 kernel unchanged.
  static const int8_t* expand_row(const PackedDepthwiseInt8& pd, const int8_t* image, int iy, int8_t* dst) {
    const qlite::ref::WindowGeometry& g = pd.params.g;
    const int dm = pd.params.depth_multiplier, ic = g.in_c;
    const int8_t* src = image + static_cast<int64_t>(iy) * g.in_w * ic;
    int8_t* d = dst;
    if (ic == 1) {
      for (int x = 0; x < g.in_w; ++x, d += dm) std::memset(d, src[x], static_cast<size_t>(dm));
    } else {
      for (int64_t i = 0, n = int64_t{g.in_w} * ic; i < n; ++i, d += dm)
        for (int m = 0; m < dm; ++m) d[m] = src[i];
    }
    return dst;
  }

  // Group row of padded input row r (r - pad_top is the image row).
  static void build_row(const PackedDepthwiseInt8& pd, const int8_t* image, int r, const typename T::Pad& pad,
                        uint32_t* dst, int8_t* expanded) {
    const qlite::ref::WindowGeometry& g = pd.params.g;
    const int c = g.out_c, cp = pd.c_pad;
    const int iy = r - g.pad_top;
    const bool row_in = iy >= 0 && iy < g.in_h;
    const int8_t* src = image + static_cast<int64_t>(iy) * g.in_w * c;
    if (row_in && pd.params.depth_multiplier != 1) src = expand_row(pd, image, iy, expanded);
    // Taps past kernel_w meet zero weights (one group per row only): no load.
    const int taps_used = pd.kw_groups == 1 && !pd.pairs ? g.kernel_w : kG;
    const int64_t tstep = static_cast<int64_t>(g.dilation_w) * c;
    const int last_tap = (kG - 1) * g.dilation_w;
    // Columns [i_lo, i_hi) have every tap of their group inside the row:
    // full blocks without per-tap checks (taps past kernel_w load real
    // pixels; their weights are zero), in a loop of their own so that the
    // checks run once per row, not once per column.
    int i_lo = pd.q_cols, i_hi = pd.q_cols;
    if (row_in) {
      i_lo = (g.pad_left + pd.q_step - 1) / pd.q_step;  // first x0 >= 0
      const int x_max = g.in_w - 1 - last_tap;          // last x0 allowed
      i_hi = x_max + g.pad_left < 0 ? 0 : (x_max + g.pad_left) / pd.q_step + 1;
      if (i_lo < 0) i_lo = 0;
      if (i_hi > pd.q_cols) i_hi = pd.q_cols;
      if (i_lo > i_hi) i_lo = i_hi;
    }
    if (i_lo == i_hi) {
    } else if (c % kB == 0) {
      const int64_t px_step = static_cast<int64_t>(pd.q_step) * c;
      const int8_t* p = src + static_cast<int64_t>(i_lo * pd.q_step - g.pad_left) * c;
      uint32_t* d = dst + static_cast<int64_t>(i_lo) * cp;
      for (int i = i_lo; i < i_hi; ++i, p += px_step, d += cp)
        for (int cb = 0; cb < c; cb += kB) T::build_full(p, tstep, cb, d + cb);
    } else {
      for (int i = i_lo; i < i_hi; ++i) {
        const int8_t* p = src + static_cast<int64_t>(i * pd.q_step - g.pad_left) * c;
        uint32_t* d = dst + static_cast<int64_t>(i) * cp;
        int cb = 0;
        for (; cb + kB <= c; cb += kB) T::build_full(p, tstep, cb, d + cb);
        const int8_t* tap[kG];
        for (int t = 0; t < kG; ++t) tap[t] = p + t * tstep;
        T::build(tap, cb, c - cb, pad, d + cb);
      }
    }
    for (int i = 0; i < pd.q_cols; ++i) {
      if (i == i_lo) i = i_hi;
      if (i >= pd.q_cols) break;
      const int x0 = i * pd.q_step - g.pad_left;
      uint32_t* d = dst + static_cast<int64_t>(i) * cp;
      const int8_t* tap[kG];
      for (int t = 0; t < kG; ++t) {
        const int ix = x0 + t * g.dilation_w;
        tap[t] = row_in && t < taps_used && ix >= 0 && ix < g.in_w ? src + static_cast<int64_t>(ix) * c : nullptr;
      }
      for (int cb = 0; cb < c; cb += kB) T::build(tap, cb, dmin(kB, c - cb), pad, d + cb);
    }
  }

  // MR output pixels starting at ox, channel block cb, of one output row.
  // KH / KWG: kernel rows and tap groups per row when known at compile time
  // (0: read from pd). Fully unrolled tap loops keep the accumulators in
  // registers; with runtime trip counts GCC shuffles them between registers.
  // Pixel pairs (pd.pairs, ox even): pixels ox + 2p and ox + 2p + 1 read the
  // group at column ox / 2 + p, with weights and weights_odd.
  template <int MR, int KH, int Fast>
  static void tile_pairs(const PackedDepthwiseInt8& pd, const uint32_t* const* rows, int ox, int cb, int8_t* out) {
    const qlite::ref::WindowGeometry& g = pd.params.g;
    const int cp = pd.c_pad;
    Reg acc[MR][kR];
#pragma GCC unroll 16
    for (int k = 0; k < kR; ++k) {
      const Reg b = T::load(reinterpret_cast<const uint32_t*>(pd.bias.data()) + cb + k * kL);
#pragma GCC unroll 16
      for (int i = 0; i < MR; ++i) acc[i][k] = b;
    }
    const uint32_t* we = pd.weights.data() + cb;
    const uint32_t* wo = pd.weights_odd.data() + cb;
#pragma GCC unroll 16
    for (int ky = 0; ky < KH; ++ky, we += cp, wo += cp) {
      const uint32_t* q = rows[ky] + (ox / 2) * static_cast<int64_t>(cp) + cb;
#pragma GCC unroll 16
      for (int k = 0; k < kR; ++k) {
        const Reg a = T::load(we + k * kL), b = T::load(wo + k * kL);
#pragma GCC unroll 16
        for (int i = 0; i < MR; ++i) acc[i][k] = T::dot(acc[i][k], T::load(q + (i / 2) * cp + k * kL), i % 2 ? b : a);
      }
    }
    T::template requant_store<MR, Fast>(acc, pd, cb, dmin(kB, g.out_c - cb), out, g.out_c);
  }

  // KWG -1: pixel pairs.
  template <int MR, int KH, int KWG, int Fast>
  static void any_tile(const PackedDepthwiseInt8& pd, const uint32_t* const* rows, int ox, int cb, int8_t* out) {
    if constexpr (KWG == -1) tile_pairs<MR, KH, Fast>(pd, rows, ox, cb, out);
    else tile<MR, KH, KWG, Fast>(pd, rows, ox, cb, out);
  }

  template <int MR, int KH, int KWG, int Fast>
  static void tile(const PackedDepthwiseInt8& pd, const uint32_t* const* rows, int ox, int cb, int8_t* out) {
    const qlite::ref::WindowGeometry& g = pd.params.g;
    const int cp = pd.c_pad;
    const int kh = KH > 0 ? KH : g.kernel_h, kwg = KWG > 0 ? KWG : pd.kw_groups;
    Reg acc[MR][kR];
#pragma GCC unroll 16
    for (int k = 0; k < kR; ++k) {
      const Reg b = T::load(reinterpret_cast<const uint32_t*>(pd.bias.data()) + cb + k * kL);
#pragma GCC unroll 16
      for (int i = 0; i < MR; ++i) acc[i][k] = b;
    }
    const uint32_t* w = pd.weights.data() + cb;
    const int64_t pix = static_cast<int64_t>(pd.col_step) * cp;
    const int64_t jstep = static_cast<int64_t>(pd.group_cols) * cp;
#pragma GCC unroll 16
    for (int ky = 0; ky < kh; ++ky) {
      const uint32_t* q = rows[ky] + ox * pix + cb;
#pragma GCC unroll 4
      for (int j = 0; j < kwg; ++j, w += cp, q += jstep) {
        Reg wv[kR];
#pragma GCC unroll 16
        for (int k = 0; k < kR; ++k) wv[k] = T::load(w + k * kL);
#pragma GCC unroll 16
        for (int i = 0; i < MR; ++i)
#pragma GCC unroll 16
          for (int k = 0; k < kR; ++k) acc[i][k] = T::dot(acc[i][k], T::load(q + i * pix + k * kL), wv[k]);
      }
    }
    T::template requant_store<MR, Fast>(acc, pd, cb, dmin(kB, g.out_c - cb), out, g.out_c);
  }

  // One output row, channel block by block. Not inlined: one call per row,
  // and each form keeps its own function (inlined, the forms made rows() one
  // 67 KB function, and the 56x56x64 layer ran 20-40% slower).
  template <int KH, int KWG, int Fast>
  [[gnu::noinline]] static void out_row(const PackedDepthwiseInt8& pd, const uint32_t* const* rows, int8_t* orow) {
    const qlite::ref::WindowGeometry& g = pd.params.g;
    const int c = g.out_c;
    for (int cb = 0; cb < c; cb += kB) {
      int ox = 0;
      for (; ox + T::kMR <= g.out_w; ox += T::kMR)
        any_tile<T::kMR, KH, KWG, Fast>(pd, rows, ox, cb, orow + static_cast<int64_t>(ox) * c + cb);
      // The rest in tiles of 4 and 2 where the full tile is wider (a 14-wide
      // row with 8-pixel tiles would otherwise end in six 1-pixel tiles, each
      // loading every requantization constant).
      if constexpr (T::kMR > 4)
        for (; ox + 4 <= g.out_w; ox += 4) any_tile<4, KH, KWG, Fast>(pd, rows, ox, cb, orow + static_cast<int64_t>(ox) * c + cb);
      if constexpr (T::kMR > 2)
        for (; ox + 2 <= g.out_w; ox += 2) any_tile<2, KH, KWG, Fast>(pd, rows, ox, cb, orow + static_cast<int64_t>(ox) * c + cb);
      for (; ox < g.out_w; ++ox) any_tile<1, KH, KWG, Fast>(pd, rows, ox, cb, orow + static_cast<int64_t>(ox) * c + cb);
    }
  }

  // One output row in requantization form Fast, with MobileNet's 3x3 and
  // 5x5 unrolled. Pixel pairs (KWG -1) are packed for 3 kernel rows only.
  template <int Fast>
  static void row_of(const PackedDepthwiseInt8& pd, const uint32_t* const* rows_ptr, int8_t* orow) {
    const qlite::ref::WindowGeometry& g = pd.params.g;
    if (T::kPairs && pd.pairs) out_row<3, T::kPairs ? -1 : 1, Fast>(pd, rows_ptr, orow);
    else if (g.kernel_h == 3 && pd.kw_groups == 1) out_row<3, 1, Fast>(pd, rows_ptr, orow);
    else if (g.kernel_h == 5 && pd.kw_groups == kKwg5) out_row<5, kKwg5, Fast>(pd, rows_ptr, orow);
    else out_row<0, 0, Fast>(pd, rows_ptr, orow);
  }

  static void rows(const PackedDepthwiseInt8& pd, const int8_t* image, int8_t* out_image, int y0, int y1,
                   void* scratch) {
    const qlite::ref::WindowGeometry& g = pd.params.g;
    const int c = g.out_c, ring = pd.ring_rows;
    const int64_t row_len = static_cast<int64_t>(pd.q_cols) * pd.c_pad;
    uint32_t* ring_buf = static_cast<uint32_t*>(scratch);
    // Which padded input row each ring slot holds (-1: none yet).
    int32_t* slot_row = reinterpret_cast<int32_t*>(ring_buf + ring * row_len);
    int8_t* expanded = static_cast<int8_t*>(scratch) + pd.expand_offset;
    for (int s = 0; s < ring; ++s) slot_row[s] = -1;
    const typename T::Pad pad = T::make_pad(pd.params.input_zero_point);
    const uint32_t* rows_ptr[kMaxDwKernel];
    for (int oy = y0; oy < y1; ++oy) {
      for (int ky = 0; ky < g.kernel_h; ++ky) {
        const int r = oy * g.stride_h + ky * g.dilation_h, s = r % ring;
        uint32_t* slot = ring_buf + s * row_len;
        if (slot_row[s] != r) {
          build_row(pd, image, r, pad, slot, expanded);
          slot_row[s] = r;
        }
        rows_ptr[ky] = slot;
      }
      int8_t* orow = out_image + static_cast<int64_t>(oy) * g.out_w * c;
      // The requantization form is a template argument so that no tile tests it.
      if (!pd.fast_rq) row_of<0>(pd, rows_ptr, orow);
      else if (pd.rq_thr_zero) row_of<2>(pd, rows_ptr, orow);
      else row_of<1>(pd, rows_ptr, orow);
    }
  }
};

}  // namespace
}  // namespace qlite::kernels::QLITE_INT8_NS

#define QLITE_INT8_DEFINE_DEPTHWISE_ENTRY_POINT(T)                                                            \
  void depthwise_rows(const PackedDepthwiseInt8& pd, const int8_t* image, int8_t* out_image, int y0, int y1,   \
                      void* scratch) {                                                                         \
    Depthwise<T>::rows(pd, image, out_image, y0, y1, scratch);                                                 \
  }
