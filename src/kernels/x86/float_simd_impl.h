// The float training kernels written once over a SIMD traits type V, and
// instantiated by float_patch_avx2.cpp (V256 of simd_avx2.h) and
// float_patch_avx512.cpp (V512 of simd_avx512.h). Include only from files
// compiled with the matching ISA flags.
//
// V provides: reg / ireg / mask (lane-tail mask) / cmask (comparison result),
// kLanes, tail(n), load(p, m), store(p, v, m), bcast(p), zero(), set1(f),
// fmadd(a, b, c), add, max, min, gt(a, b), select(c, a, b) (c ? a : b),
// iset1(i), iota(), iadd, isub, iselect(c, a, b), iload(p, m), istore(p, v, m), ieq(a, b).
//
// Summation orders match the reference kernels (bias first, then window
// elements in order; pixels in row-major order), but FMA rounds once per
// step, so results differ from the reference by rounding only.
#pragma once

#include <algorithm>
#include <cstdint>
#include <vector>

#include "kernels/float_kernels.h"

namespace qlite::kernels::simd {

template <class V>
inline typename V::reg activate(typename V::reg v, FloatAct act) {
  if (act == FloatAct::kLinear) return v;
  v = V::max(v, V::zero());
  if (act == FloatAct::kRelu6) v = V::min(v, V::set1(6.0f));
  return v;
}

// P pixels along one grid row, one channel vector.
template <class V, int P>
inline void forward_tile(const PatchGeom& g, const float* in, const float* w, const float* bias, int64_t c0,
                         typename V::mask m, FloatAct act, float* out) {
  using reg = typename V::reg;
  reg acc[P];
  const reg b = bias ? V::load(bias + c0, m) : V::zero();
  _Pragma("GCC unroll 16")
  for (int p = 0; p < P; ++p) acc[p] = b;
  const int64_t in_col = g.in_col, R = g.R, C = g.C;
  const int64_t* offs = g.offs;
  const float* wc = w + c0;
  for (int64_t r = 0; r < R; ++r) {
    const reg wv = V::load(wc + r * C, m);
    const float* s = in + offs[r];
    _Pragma("GCC unroll 16")
    for (int p = 0; p < P; ++p) acc[p] = V::fmadd(V::bcast(s + p * in_col), wv, acc[p]);
  }
  _Pragma("GCC unroll 16")
  for (int p = 0; p < P; ++p) V::store(out + p * g.out_col + c0, activate<V>(acc[p], act), m);
}

template <class V>
inline void forward_tile_n(int n, const PatchGeom& g, const float* in, const float* w, const float* bias, int64_t c0,
                           typename V::mask m, FloatAct act, float* out) {
  switch (n) {
#define QLITE_CASE(k) \
  case k: forward_tile<V, k>(g, in, w, bias, c0, m, act, out); return;
    QLITE_CASE(1) QLITE_CASE(2) QLITE_CASE(3) QLITE_CASE(4) QLITE_CASE(5) QLITE_CASE(6)
    QLITE_CASE(7) QLITE_CASE(8) QLITE_CASE(9) QLITE_CASE(10) QLITE_CASE(11) QLITE_CASE(12)
#undef QLITE_CASE
  }
}

constexpr int kMaxTile = 12;  // accumulators kept in registers

// P pixels along one grid row, two whole channel vectors: per window
// element two weight loads and P broadcasts feed 2P FMAs (one vector's tile
// needs P + 1 loads for P), so the loads no longer bound the FMAs. Each
// output is the same chain as in forward_tile (bias, then the window
// elements in order), so the bits are the same.
template <class V, int P>
inline void forward_tile2(const PatchGeom& g, const float* in, const float* w, const float* bias, int64_t c0,
                          FloatAct act, float* out) {
  using reg = typename V::reg;
  constexpr int L = V::kLanes;
  const typename V::mask full = V::tail(L);
  reg a0[P], a1[P];
  const reg b0 = bias ? V::load(bias + c0, full) : V::zero(), b1 = bias ? V::load(bias + c0 + L, full) : V::zero();
  _Pragma("GCC unroll 16")
  for (int p = 0; p < P; ++p) a0[p] = b0, a1[p] = b1;
  const int64_t in_col = g.in_col, R = g.R, C = g.C;
  const int64_t* offs = g.offs;
  const float* wc = w + c0;
  for (int64_t r = 0; r < R; ++r) {
    const reg w0 = V::load(wc + r * C, full), w1 = V::load(wc + r * C + L, full);
    const float* s = in + offs[r];
    _Pragma("GCC unroll 16")
    for (int p = 0; p < P; ++p) {
      const reg x = V::bcast(s + p * in_col);
      a0[p] = V::fmadd(x, w0, a0[p]);
      a1[p] = V::fmadd(x, w1, a1[p]);
    }
  }
  _Pragma("GCC unroll 16")
  for (int p = 0; p < P; ++p) {
    V::store(out + p * g.out_col + c0, activate<V>(a0[p], act), full);
    V::store(out + p * g.out_col + c0 + L, activate<V>(a1[p], act), full);
  }
}

constexpr int kMaxTile2 = 6;  // 12 accumulators, 2 weights and a broadcast

template <class V>
inline void forward_tile2_n(int n, const PatchGeom& g, const float* in, const float* w, const float* bias, int64_t c0,
                            FloatAct act, float* out) {
  switch (n) {
#define QLITE_CASE(k) \
  case k: forward_tile2<V, k>(g, in, w, bias, c0, act, out); return;
    QLITE_CASE(1) QLITE_CASE(2) QLITE_CASE(3) QLITE_CASE(4) QLITE_CASE(5) QLITE_CASE(6)
#undef QLITE_CASE
  }
}

// Splits n into nearly equal tiles of at most kMaxTile (26 -> 9, 9, 8), so
// no tile is so short that FMA latency dominates it.
inline int tile_size(int64_t n) {
  const int64_t tiles = (n + kMaxTile - 1) / kMaxTile;
  return static_cast<int>((n + tiles - 1) / tiles);
}

template <class V>
void patch_forward(const PatchGeom& g, const float* in, const float* w, const float* bias, FloatAct act, float* out) {
  if (g.rows <= 0 || g.cols <= 0 || g.C <= 0) return;
  const int tile = tile_size(g.cols);
  const int64_t tiles2 = (g.cols + kMaxTile2 - 1) / kMaxTile2;
  const int tile2 = static_cast<int>((g.cols + tiles2 - 1) / tiles2);
  for (int64_t y = 0; y < g.rows; ++y) {
    const float* src = in + y * g.in_row;
    float* dst = out + y * g.out_row;
    int64_t c0 = 0;
    for (; c0 + 2 * V::kLanes <= g.C; c0 += 2 * V::kLanes)
      for (int64_t x = 0; x < g.cols; x += tile2) {
        const int n = static_cast<int>(std::min<int64_t>(tile2, g.cols - x));
        forward_tile2_n<V>(n, g, src + x * g.in_col, w, bias, c0, act, dst + x * g.out_col);
      }
    for (; c0 < g.C; c0 += V::kLanes) {
      const typename V::mask m = V::tail(g.C - c0);
      for (int64_t x = 0; x < g.cols; x += tile) {
        const int n = static_cast<int>(std::min<int64_t>(tile, g.cols - x));
        forward_tile_n<V>(n, g, src + x * g.in_col, w, bias, c0, m, act, dst + x * g.out_col);
      }
    }
  }
}

// dout * act'(out) for one vector (relu: out > 0; relu6: 0 < out < 6).
template <class V, FloatAct A>
inline typename V::reg act_grad(typename V::reg d, const float* out, typename V::mask m) {
  if constexpr (A == FloatAct::kLinear) {
    return d;
  } else {
    const typename V::reg o = V::load(out, m);
    d = V::select(V::gt(o, V::zero()), d, V::zero());
    if constexpr (A == FloatAct::kRelu6) d = V::select(V::gt(V::set1(6.0f), o), d, V::zero());
    return d;
  }
}

// RB window elements x one channel vector, reduced over every pixel.
template <class V, int RB, FloatAct A>
inline void wgrad_tile(const PatchGeom& g, const float* in, const float* dout, const float* out, int64_t r0,
                       int64_t c0, typename V::mask m, float* dw, float* db) {
  using reg = typename V::reg;
  reg acc[RB];
  reg dbacc = V::zero();
  int64_t o[RB];
  _Pragma("GCC unroll 16")
  for (int j = 0; j < RB; ++j) {
    acc[j] = V::zero();
    o[j] = g.offs[r0 + j];
  }
  const int64_t rows = g.rows, cols = g.cols, in_row = g.in_row, in_col = g.in_col;
  const int64_t out_row = g.out_row, out_col = g.out_col;
  for (int64_t y = 0; y < rows; ++y) {
    const float* srow = in + y * in_row;
    const int64_t orow = y * out_row + c0;
    for (int64_t x = 0; x < cols; ++x) {
      const float* s = srow + x * in_col;
      const int64_t oi = orow + x * out_col;
      const reg d = act_grad<V, A>(V::load(dout + oi, m), out + oi, m);
      if (db) dbacc = V::add(dbacc, d);
      _Pragma("GCC unroll 16")
      for (int j = 0; j < RB; ++j) acc[j] = V::fmadd(V::bcast(s + o[j]), d, acc[j]);
    }
  }
  _Pragma("GCC unroll 16")
  for (int j = 0; j < RB; ++j) {
    float* p = dw + (r0 + j) * g.C + c0;
    V::store(p, V::add(V::load(p, m), acc[j]), m);
  }
  if (db) V::store(db + c0, V::add(V::load(db + c0, m), dbacc), m);
}

template <class V, FloatAct A>
inline void wgrad_tile_n(int n, const PatchGeom& g, const float* in, const float* dout, const float* out, int64_t r0,
                         int64_t c0, typename V::mask m, float* dw, float* db) {
  switch (n) {
#define QLITE_CASE(k) \
  case k: wgrad_tile<V, k, A>(g, in, dout, out, r0, c0, m, dw, db); return;
    QLITE_CASE(1) QLITE_CASE(2) QLITE_CASE(3) QLITE_CASE(4) QLITE_CASE(5) QLITE_CASE(6)
    QLITE_CASE(7) QLITE_CASE(8) QLITE_CASE(9) QLITE_CASE(10) QLITE_CASE(11) QLITE_CASE(12)
#undef QLITE_CASE
  }
}

template <class V, FloatAct A>
void patch_wgrad_act(const PatchGeom& g, const float* in, const float* dout, const float* out, float* dw, float* db) {
  if (g.R <= 0 || g.C <= 0) return;
  const int tile = tile_size(g.R);
  for (int64_t c0 = 0; c0 < g.C; c0 += V::kLanes) {
    const typename V::mask m = V::tail(g.C - c0);
    for (int64_t r0 = 0; r0 < g.R; r0 += tile) {
      const int n = static_cast<int>(std::min<int64_t>(tile, g.R - r0));
      // The bias gradient rides along with the first tile of each channel block.
      wgrad_tile_n<V, A>(n, g, in, dout, out, r0, c0, m, dw, r0 == 0 ? db : nullptr);
    }
  }
}

template <class V>
void patch_wgrad(const PatchGeom& g, const float* in, const float* dout, const float* out, FloatAct act, float* dw,
                 float* db) {
  switch (act) {
    case FloatAct::kLinear: return patch_wgrad_act<V, FloatAct::kLinear>(g, in, dout, out, dw, db);
    case FloatAct::kRelu: return patch_wgrad_act<V, FloatAct::kRelu>(g, in, dout, out, dw, db);
    case FloatAct::kRelu6: return patch_wgrad_act<V, FloatAct::kRelu6>(g, in, dout, out, dw, db);
  }
}

// din[p, r0 + j] += sum_c dz[p][c] * wt[c][r0 + j] over one contiguous run
// of window elements (offs[r0 + j] = offs[r0] + j), four vectors at a time.
template <class V, bool kOverwrite>
inline void dgrad_run(const PatchGeom& g, const float* d, const float* wt, int64_t r0, int64_t len, float* dst) {
  using reg = typename V::reg;
  constexpr int L = V::kLanes;
  int64_t j = 0;
  for (; j + 4 * L <= len; j += 4 * L) {
    reg a0 = V::zero(), a1 = V::zero(), a2 = V::zero(), a3 = V::zero();
    if constexpr (!kOverwrite) {
      a0 = V::load(dst + j, V::tail(L));
      a1 = V::load(dst + j + L, V::tail(L));
      a2 = V::load(dst + j + 2 * L, V::tail(L));
      a3 = V::load(dst + j + 3 * L, V::tail(L));
    }
    const float* wr = wt + r0 + j;
    for (int64_t c = 0; c < g.C; ++c) {
      const reg b = V::bcast(d + c);
      const float* wc = wr + c * g.R;
      a0 = V::fmadd(b, V::load(wc, V::tail(L)), a0);
      a1 = V::fmadd(b, V::load(wc + L, V::tail(L)), a1);
      a2 = V::fmadd(b, V::load(wc + 2 * L, V::tail(L)), a2);
      a3 = V::fmadd(b, V::load(wc + 3 * L, V::tail(L)), a3);
    }
    V::store(dst + j, a0, V::tail(L));
    V::store(dst + j + L, a1, V::tail(L));
    V::store(dst + j + 2 * L, a2, V::tail(L));
    V::store(dst + j + 3 * L, a3, V::tail(L));
  }
  for (; j < len; j += L) {
    const typename V::mask m = V::tail(len - j);
    reg a = kOverwrite ? V::zero() : V::load(dst + j, m);
    for (int64_t c = 0; c < g.C; ++c) a = V::fmadd(V::bcast(d + c), V::load(wt + c * g.R + r0 + j, m), a);
    V::store(dst + j, a, m);
  }
}

// dgrad_run for 4 neighbouring pixels of a grid row at once, up to two
// vectors of window elements per pixel at a time: 4-8 independent FMA chains
// instead of 1-2 (a 1x1 convolution's short runs were latency bound). Only
// for pixels whose din runs do not overlap; each din element still gets its
// terms in the same order (its start, then c = 0, 1, ...), so the results
// are dgrad_run's bits.
template <class V, bool kOverwrite>
inline void dgrad_run4(const PatchGeom& g, const float* d, const float* wt, int64_t r0, int64_t len, float* dst) {
  using reg = typename V::reg;
  constexpr int L = V::kLanes;
  constexpr int P = 4;
  for (int64_t j = 0; j < len; j += 2 * L) {
    const typename V::mask m0 = V::tail(len - j), m1 = V::tail(len - j - L);
    const bool two = len - j > L;
    reg a[P][2];
    _Pragma("GCC unroll 4")
    for (int p = 0; p < P; ++p) {
      float* o = dst + p * g.in_col + j;
      a[p][0] = kOverwrite ? V::zero() : V::load(o, m0);
      a[p][1] = kOverwrite || !two ? V::zero() : V::load(o + L, m1);
    }
    const float* wr = wt + r0 + j;
    if (two) {
      for (int64_t c = 0; c < g.C; ++c) {
        const reg w0 = V::load(wr + c * g.R, m0), w1 = V::load(wr + c * g.R + L, m1);
        _Pragma("GCC unroll 4")
        for (int p = 0; p < P; ++p) {
          const reg b = V::bcast(d + p * g.out_col + c);
          a[p][0] = V::fmadd(b, w0, a[p][0]);
          a[p][1] = V::fmadd(b, w1, a[p][1]);
        }
      }
    } else {
      for (int64_t c = 0; c < g.C; ++c) {
        const reg w0 = V::load(wr + c * g.R, m0);
        _Pragma("GCC unroll 4")
        for (int p = 0; p < P; ++p) a[p][0] = V::fmadd(V::bcast(d + p * g.out_col + c), w0, a[p][0]);
      }
    }
    _Pragma("GCC unroll 4")
    for (int p = 0; p < P; ++p) {
      float* o = dst + p * g.in_col + j;
      V::store(o, a[p][0], m0);
      if (two) V::store(o + L, a[p][1], m1);
    }
  }
}

template <class V, bool kOverwrite>
void patch_dgrad_impl(const PatchGeom& g, const float* dz, const float* wt, float* din) {
  // Pixels in order within each run keep overlapping windows' sums in a
  // fixed order (read-modify-write of din, one pixel at a time). When no two
  // pixels' runs overlap (a 1x1 convolution with stride >= 1, Dense), the
  // order between pixels does not matter and four go at once.
  for (int64_t r0 = 0; r0 < g.R;) {
    int64_t len = 1;
    while (r0 + len < g.R && g.offs[r0 + len] == g.offs[r0] + len) ++len;
    const bool disjoint = len == g.R && len <= g.in_col && (g.rows == 1 || g.cols * g.in_col <= g.in_row);
    for (int64_t y = 0; y < g.rows; ++y) {
      int64_t x = 0;
      if (disjoint)
        for (; x + 4 <= g.cols; x += 4)
          dgrad_run4<V, kOverwrite>(g, dz + y * g.out_row + x * g.out_col, wt, r0, len,
                                    din + y * g.in_row + x * g.in_col + g.offs[r0]);
      for (; x < g.cols; ++x)
        dgrad_run<V, kOverwrite>(g, dz + y * g.out_row + x * g.out_col, wt, r0, len,
                     din + y * g.in_row + x * g.in_col + g.offs[r0]);
    }
    r0 += len;
  }
}

template <class V>
void patch_dgrad(const PatchGeom& g, const float* dz, const float* wt, float* din, bool overwrite) {
  if (overwrite) patch_dgrad_impl<V, true>(g, dz, wt, din);
  else patch_dgrad_impl<V, false>(g, dz, wt, din);
}

template <class V>
void act_backward(FloatAct act, const float* out, const float* dout, float* dz, int64_t n) {
  using reg = typename V::reg;
  if (act == FloatAct::kLinear) {
    if (dz != dout) std::copy(dout, dout + n, dz);
    return;
  }
  const reg zero = V::zero(), six = V::set1(6.0f);
  for (int64_t i = 0; i < n; i += V::kLanes) {
    const typename V::mask m = V::tail(n - i);
    const reg o = V::load(out + i, m);
    const reg d = V::load(dout + i, m);
    reg r = V::select(V::gt(o, zero), d, zero);
    if (act == FloatAct::kRelu6) r = V::select(V::gt(six, o), r, zero);
    V::store(dz + i, r, m);
  }
}

// A pooling window that lies inside the image, as offsets from its first
// element and, per element, its offset plus the lane numbers (so a winner's
// index is the window start plus the entry of the element that won).
template <class V>
struct PoolWindow {
  static constexpr int kMax = 16;
  int n = 0;
  int64_t delta[kMax];
  typename V::ireg rel[kMax];
  explicit PoolWindow(const PoolGeom& g) {
    if (int64_t{g.ph} * g.pw > kMax) return;
    for (int dy = 0; dy < g.ph; ++dy)
      for (int dx = 0; dx < g.pw; ++dx, ++n) {
        delta[n] = (dy * g.W + dx) * g.C;
        rel[n] = V::iadd(V::iset1(static_cast<int32_t>(delta[n])), V::iota());
      }
  }
};

template <class V, int NE>
inline void maxpool_window(const PoolWindow<V>& win, int ne, const float* in, int64_t first, typename V::mask m,
                           float* out, int32_t* argmax) {
  using reg = typename V::reg;
  using ireg = typename V::ireg;
  const int n = NE > 0 ? NE : ne;
  const float* s = in + first;
  reg best = V::load(s, m);
  ireg rel = win.rel[0];
  _Pragma("GCC unroll 16")
  for (int e = 1; e < n; ++e) {
    const reg v = V::load(s + win.delta[e], m);
    const typename V::cmask gt = V::gt(v, best);  // strictly greater: the first maximum stays
    best = V::select(gt, v, best);
    rel = V::iselect(gt, win.rel[e], rel);
  }
  V::store(out, best, m);
  V::istore(argmax, V::iadd(rel, V::iset1(static_cast<int32_t>(first))), m);
}

template <class V>
void maxpool_forward(const PoolGeom& g, const float* in, float* out, int32_t* argmax) {
  using reg = typename V::reg;
  using ireg = typename V::ireg;
  const ireg lane = V::iota();
  const PoolWindow<V> win(g);
  for (int64_t oy = 0; oy < g.OH; ++oy) {
    const int64_t y0 = std::max<int64_t>(oy * g.sh - g.pad_top, 0);
    const int64_t y1 = std::min<int64_t>(oy * g.sh - g.pad_top + g.ph, g.H);
    for (int64_t ox = 0; ox < g.OW; ++ox) {
      const int64_t x0 = std::max<int64_t>(ox * g.sw - g.pad_left, 0);
      const int64_t x1 = std::min<int64_t>(ox * g.sw - g.pad_left + g.pw, g.W);
      const int64_t o = (oy * g.OW + ox) * g.C;
      const bool inside = win.n > 0 && y1 - y0 == g.ph && x1 - x0 == g.pw;
      for (int64_t c0 = 0; c0 < g.C; c0 += V::kLanes) {
        const typename V::mask m = V::tail(g.C - c0);
        const int64_t first = (y0 * g.W + x0) * g.C + c0;
        if (inside) {
          if (win.n == 4) maxpool_window<V, 4>(win, 4, in, first, m, out + o + c0, argmax + o + c0);
          else if (win.n == 9) maxpool_window<V, 9>(win, 9, in, first, m, out + o + c0, argmax + o + c0);
          else maxpool_window<V, 0>(win, win.n, in, first, m, out + o + c0, argmax + o + c0);
          continue;
        }
        // Border window clipped by 'same' padding: first element in it starts;
        // later ones win only when strictly greater.
        reg best = V::load(in + first, m);
        ireg idx = V::iadd(V::iset1(static_cast<int32_t>(first)), lane);
        for (int64_t y = y0; y < y1; ++y) {
          for (int64_t x = x0; x < x1; ++x) {
            const int64_t i = (y * g.W + x) * g.C + c0;
            const reg v = V::load(in + i, m);
            const typename V::cmask gt = V::gt(v, best);
            best = V::select(gt, v, best);
            idx = V::iselect(gt, V::iadd(V::iset1(static_cast<int32_t>(i)), lane), idx);
          }
        }
        V::store(out + o + c0, best, m);
        V::istore(argmax + o + c0, idx, m);
      }
    }
  }
}

template <class V>
void maxpool_backward(const PoolGeom& g, const float* dout, const int32_t* argmax, float* din) {
  if (g.sh != g.ph || g.sw != g.pw) {
    // Overlapping or gapped windows: zero, then scatter-add.
    std::fill(din, din + g.H * g.W * g.C, 0.0f);
    const int64_t n = g.OH * g.OW * g.C;
    for (int64_t i = 0; i < n; ++i) din[argmax[i]] += dout[i];
    return;
  }
  // Windows tile the image: every covered input is written exactly once
  // (its gradient where it won, else zero), so no separate zeroing pass.
  using reg = typename V::reg;
  using ireg = typename V::ireg;
  const ireg lane = V::iota();
  const PoolWindow<V> win(g);
  const int64_t ycov = std::min<int64_t>(g.H, g.OH * g.sh - g.pad_top);
  const int64_t xcov = std::min<int64_t>(g.W, g.OW * g.sw - g.pad_left);
  for (int64_t oy = 0; oy < g.OH; ++oy) {
    const int64_t y0 = std::max<int64_t>(oy * g.sh - g.pad_top, 0);
    const int64_t y1 = std::min<int64_t>(oy * g.sh - g.pad_top + g.ph, g.H);
    for (int64_t ox = 0; ox < g.OW; ++ox) {
      const int64_t x0 = std::max<int64_t>(ox * g.sw - g.pad_left, 0);
      const int64_t x1 = std::min<int64_t>(ox * g.sw - g.pad_left + g.pw, g.W);
      const int64_t o = (oy * g.OW + ox) * g.C;
      for (int64_t c0 = 0; c0 < g.C; c0 += V::kLanes) {
        const typename V::mask m = V::tail(g.C - c0);
        const reg d = V::load(dout + o + c0, m);
        const ireg a = V::iload(argmax + o + c0, m);
        const int64_t first = (y0 * g.W + x0) * g.C + c0;
        if (win.n > 0 && y1 - y0 == g.ph && x1 - x0 == g.pw) {
          const ireg rel = V::isub(a, V::iset1(static_cast<int32_t>(first)));
          for (int e = 0; e < win.n; ++e)
            V::store(din + first + win.delta[e], V::select(V::ieq(rel, win.rel[e]), d, V::zero()), m);
          continue;
        }
        for (int64_t y = y0; y < y1; ++y) {
          for (int64_t x = x0; x < x1; ++x) {
            const int64_t i = (y * g.W + x) * g.C + c0;
            const typename V::cmask hit = V::ieq(a, V::iadd(V::iset1(static_cast<int32_t>(i)), lane));
            V::store(din + i, V::select(hit, d, V::zero()), m);
          }
        }
      }
    }
  }
  for (int64_t y = 0; y < g.H; ++y) {
    const int64_t x0 = y < ycov ? xcov : 0;
    std::fill(din + (y * g.W + x0) * g.C, din + (y + 1) * g.W * g.C, 0.0f);
  }
}

// ---- depthwise (float_kernels.h, DepthwiseGeom): channels in vectors, the
// same summation orders as the reference.

// P output pixels along one row, one channel vector.
template <class V, int P>
inline void dw_forward_tile(const DepthwiseGeom& g, const float* in, const float* w, const float* bias, int64_t c0,
                            typename V::mask m, FloatAct act, float* out) {
  using reg = typename V::reg;
  reg acc[P];
  const reg b = bias ? V::load(bias + c0, m) : V::zero();
  _Pragma("GCC unroll 16")
  for (int p = 0; p < P; ++p) acc[p] = b;
  const int64_t px = g.sw * g.C, row = g.W * g.C;
  for (int ky = 0; ky < g.kh; ++ky) {
    for (int kx = 0; kx < g.kw; ++kx) {
      const reg wv = V::load(w + (ky * g.kw + kx) * g.C + c0, m);
      const float* s = in + ky * row + kx * g.C + c0;
      _Pragma("GCC unroll 16")
      for (int p = 0; p < P; ++p) acc[p] = V::fmadd(V::load(s + p * px, m), wv, acc[p]);
    }
  }
  _Pragma("GCC unroll 16")
  for (int p = 0; p < P; ++p) V::store(out + p * g.C + c0, activate<V>(acc[p], act), m);
}

template <class V>
inline void dw_forward_tile_n(int n, const DepthwiseGeom& g, const float* in, const float* w, const float* bias,
                              int64_t c0, typename V::mask m, FloatAct act, float* out) {
  switch (n) {
#define QLITE_CASE(k) \
  case k: dw_forward_tile<V, k>(g, in, w, bias, c0, m, act, out); return;
    QLITE_CASE(1) QLITE_CASE(2) QLITE_CASE(3) QLITE_CASE(4) QLITE_CASE(5) QLITE_CASE(6)
    QLITE_CASE(7) QLITE_CASE(8) QLITE_CASE(9) QLITE_CASE(10) QLITE_CASE(11) QLITE_CASE(12)
#undef QLITE_CASE
  }
}

template <class V>
void depthwise_forward(const DepthwiseGeom& g, const float* in, const float* w, const float* bias, FloatAct act,
                       float* out) {
  const int tile = tile_size(g.OW);
  for (int64_t oy = 0; oy < g.OH; ++oy) {
    const float* src = in + oy * g.sh * g.W * g.C;
    float* dst = out + oy * g.OW * g.C;
    for (int64_t c0 = 0; c0 < g.C; c0 += V::kLanes) {
      const typename V::mask m = V::tail(g.C - c0);
      for (int64_t x = 0; x < g.OW; x += tile) {
        const int n = static_cast<int>(std::min<int64_t>(tile, g.OW - x));
        dw_forward_tile_n<V>(n, g, src + x * g.sw * g.C, w, bias, c0, m, act, dst + x * g.C);
      }
    }
  }
}

// RB taps x one channel vector, reduced over every output pixel.
template <class V, int RB, FloatAct A>
inline void dw_wgrad_tile(const DepthwiseGeom& g, const float* in, const float* dout, const float* out, int t0,
                          int64_t c0, typename V::mask m, float* dw, float* db) {
  using reg = typename V::reg;
  reg acc[RB];
  reg dbacc = V::zero();
  int64_t o[RB];
  _Pragma("GCC unroll 16")
  for (int j = 0; j < RB; ++j) {
    acc[j] = V::zero();
    o[j] = (((t0 + j) / g.kw) * g.W + (t0 + j) % g.kw) * g.C + c0;
  }
  const int64_t in_row = g.sh * g.W * g.C, in_col = g.sw * g.C;
  for (int64_t oy = 0; oy < g.OH; ++oy) {
    const float* srow = in + oy * in_row;
    const int64_t orow = oy * g.OW * g.C + c0;
    for (int64_t ox = 0; ox < g.OW; ++ox) {
      const float* s = srow + ox * in_col;
      const int64_t oi = orow + ox * g.C;
      const reg d = act_grad<V, A>(V::load(dout + oi, m), out + oi, m);
      if (db) dbacc = V::add(dbacc, d);
      _Pragma("GCC unroll 16")
      for (int j = 0; j < RB; ++j) acc[j] = V::fmadd(V::load(s + o[j], m), d, acc[j]);
    }
  }
  _Pragma("GCC unroll 16")
  for (int j = 0; j < RB; ++j) {
    float* p = dw + (t0 + j) * g.C + c0;
    V::store(p, V::add(V::load(p, m), acc[j]), m);
  }
  if (db) V::store(db + c0, V::add(V::load(db + c0, m), dbacc), m);
}

template <class V, FloatAct A>
inline void dw_wgrad_tile_n(int n, const DepthwiseGeom& g, const float* in, const float* dout, const float* out,
                            int t0, int64_t c0, typename V::mask m, float* dw, float* db) {
  switch (n) {
#define QLITE_CASE(k) \
  case k: dw_wgrad_tile<V, k, A>(g, in, dout, out, t0, c0, m, dw, db); return;
    QLITE_CASE(1) QLITE_CASE(2) QLITE_CASE(3) QLITE_CASE(4) QLITE_CASE(5) QLITE_CASE(6)
    QLITE_CASE(7) QLITE_CASE(8) QLITE_CASE(9) QLITE_CASE(10) QLITE_CASE(11) QLITE_CASE(12)
#undef QLITE_CASE
  }
}

template <class V, FloatAct A>
void depthwise_wgrad_act(const DepthwiseGeom& g, const float* in, const float* dout, const float* out, float* dw,
                         float* db) {
  const int taps = g.kh * g.kw;
  const int tile = tile_size(taps);
  for (int64_t c0 = 0; c0 < g.C; c0 += V::kLanes) {
    const typename V::mask m = V::tail(g.C - c0);
    for (int t0 = 0; t0 < taps; t0 += tile) {
      const int n = std::min(tile, taps - t0);
      // The bias gradient rides along with the first tile of each channel block.
      dw_wgrad_tile_n<V, A>(n, g, in, dout, out, t0, c0, m, dw, t0 == 0 ? db : nullptr);
    }
  }
}

template <class V>
void depthwise_wgrad(const DepthwiseGeom& g, const float* in, const float* dout, const float* out, FloatAct act,
                     float* dw, float* db) {
  switch (act) {
    case FloatAct::kLinear: return depthwise_wgrad_act<V, FloatAct::kLinear>(g, in, dout, out, dw, db);
    case FloatAct::kRelu: return depthwise_wgrad_act<V, FloatAct::kRelu>(g, in, dout, out, dw, db);
    case FloatAct::kRelu6: return depthwise_wgrad_act<V, FloatAct::kRelu6>(g, in, dout, out, dw, db);
  }
}

// The input gradient as forward passes, one per stride phase (py, px): the
// input positions y = py + sh*a, x = px + sw*b are reached by the taps
// ky = py + sh*j, kx = px + sw*i only, from output pixel (a - j, b - i), so
//   din(y, x) = sum over (j, i) of dz(a - j, b - i) * w(ky, kx),
// a stride-1 correlation of dz (inside a zero border) with that phase's taps
// flipped. Its taps in order are (ky, kx) descending: the order in which the
// reference's scatter adds the output pixels. Register-tiled and
// branch-free; a scatter with read-modify-write of din stalled on store
// forwarding (masked stores do not forward), and a gather over the windows
// covering each pixel on mispredicted short loops.
template <class V>
void depthwise_dgrad(const DepthwiseGeom& g, const float* dz, const float* w, float* din) {
  thread_local std::vector<float> padded, taps, phase_out;
  const int64_t C = g.C;
  for (int py = 0; py < g.sh; ++py) {
    for (int px = 0; px < g.sw; ++px) {
      const int64_t rows = (g.H - py + g.sh - 1) / g.sh, cols = (g.W - px + g.sw - 1) / g.sw;
      if (rows <= 0 || cols <= 0) continue;
      const int jy = (g.kh - py + g.sh - 1) / g.sh, jx = (g.kw - px + g.sw - 1) / g.sw;  // taps of this phase
      const bool direct = g.sh == 1 && g.sw == 1;  // one phase: din itself is the output
      float* out = din;
      if (!direct) {
        phase_out.resize(static_cast<size_t>(rows * cols * C));
        out = phase_out.data();
      }
      if (jy <= 0 || jx <= 0) {
        std::fill(out, out + rows * cols * C, 0.0f);
      } else {
        DepthwiseGeom t;
        t.H = rows + jy - 1;
        t.W = cols + jx - 1;
        t.C = C;
        t.OH = rows;
        t.OW = cols;
        t.kh = jy;
        t.kw = jx;
        // dz at (jy - 1, jx - 1) inside zeros, clipped to the rows and columns used.
        padded.assign(static_cast<size_t>(t.H * t.W * C), 0.0f);
        const int64_t ny = std::min<int64_t>(g.OH, t.H - (jy - 1)), nx = std::min<int64_t>(g.OW, t.W - (jx - 1));
        for (int64_t oy = 0; oy < ny; ++oy)
          std::copy(dz + oy * g.OW * C, dz + (oy * g.OW + nx) * C,
                    padded.data() + ((oy + jy - 1) * t.W + jx - 1) * C);
        taps.resize(static_cast<size_t>(jy * jx * C));
        for (int j = 0; j < jy; ++j)
          for (int i = 0; i < jx; ++i)
            std::copy(w + ((py + g.sh * j) * g.kw + px + g.sw * i) * C,
                      w + ((py + g.sh * j) * g.kw + px + g.sw * i + 1) * C,
                      taps.data() + ((jy - 1 - j) * jx + jx - 1 - i) * C);
        depthwise_forward<V>(t, padded.data(), taps.data(), nullptr, FloatAct::kLinear, out);
      }
      if (direct) continue;
      for (int64_t a = 0; a < rows; ++a)
        for (int64_t b = 0; b < cols; ++b)
          std::copy(out + (a * cols + b) * C, out + (a * cols + b + 1) * C,
                    din + ((py + g.sh * a) * g.W + px + g.sw * b) * C);
    }
  }
}

}  // namespace qlite::kernels::simd

// Defines the per-ISA entry points declared in float_kernels.h.
#define QLITE_DEFINE_FLOAT_KERNELS(V)                                                                        \
  void patch_forward(const PatchGeom& g, const float* in, const float* w, const float* bias, FloatAct act,   \
                     float* out) {                                                                           \
    simd::patch_forward<V>(g, in, w, bias, act, out);                                                        \
  }                                                                                                          \
  void patch_wgrad(const PatchGeom& g, const float* in, const float* dout, const float* out, FloatAct act,     \
                   float* dw, float* db) {                                                                   \
    simd::patch_wgrad<V>(g, in, dout, out, act, dw, db);                                                     \
  }                                                                                                          \
  void patch_dgrad(const PatchGeom& g, const float* dz, const float* wt, float* din, bool overwrite) {         \
    simd::patch_dgrad<V>(g, dz, wt, din, overwrite);                                                         \
  }                                                                                                          \
  void act_backward(FloatAct act, const float* out, const float* dout, float* dz, int64_t n) {                \
    simd::act_backward<V>(act, out, dout, dz, n);                                                            \
  }                                                                                                          \
  void maxpool_forward(const PoolGeom& g, const float* in, float* out, int32_t* argmax) {                    \
    simd::maxpool_forward<V>(g, in, out, argmax);                                                            \
  }                                                                                                          \
  void maxpool_backward(const PoolGeom& g, const float* dout, const int32_t* argmax, float* din) {           \
    simd::maxpool_backward<V>(g, dout, argmax, din);                                                         \
  }                                                                                                          \
  void depthwise_forward(const DepthwiseGeom& g, const float* in, const float* w, const float* bias,         \
                         FloatAct act, float* out) {                                                         \
    simd::depthwise_forward<V>(g, in, w, bias, act, out);                                                    \
  }                                                                                                          \
  void depthwise_wgrad(const DepthwiseGeom& g, const float* in, const float* dout, const float* out,         \
                       FloatAct act, float* dw, float* db) {                                                 \
    simd::depthwise_wgrad<V>(g, in, dout, out, act, dw, db);                                                 \
  }                                                                                                          \
  void depthwise_dgrad(const DepthwiseGeom& g, const float* dz, const float* w, float* din) {                \
    simd::depthwise_dgrad<V>(g, dz, w, din);                                                                 \
  }
