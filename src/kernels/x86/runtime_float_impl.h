// The runtime's float32 inference kernels written once over a SIMD traits
// type V (kLanes, reg, mask, tail(n) for n <= 0 too, load(p, m) (masked
// lanes read as zero, never touching memory), store(p, v, m), zero(),
// set1(f), fmadd, add, max, min, hsum), instantiated by
// runtime_float_avx2.cpp (V256 of simd_avx2.h) and runtime_float_avx512.cpp
// (V512 of simd_avx512.h). Include only from files compiled with the
// matching ISA flags.
#pragma once

#include <algorithm>
#include <cstdint>
#include <limits>

#include "kernels/runtime_float.h"

namespace qlite::kernels::rtf_simd {

// max(a, b) of x86 returns a > b ? a : b, so max(tap, acc) keeps acc when the
// tap is NaN or equal, as the reference's `acc < tap ? tap : acc` does.
template <class V>
void max_pool_rows(const PoolGeom& g, float lo, float hi, const float* image, float* out_image, int64_t y0,
                   int64_t y1) {
  using reg = typename V::reg;
  const reg vlo = V::set1(lo), vhi = V::set1(hi), ninf = V::set1(-std::numeric_limits<float>::infinity());
  const int64_t C = g.C;
  for (int64_t oy = y0; oy < y1; ++oy) {
    const int64_t wy = oy * g.sh - g.pad_top;
    const int64_t ylo = std::max<int64_t>(wy, 0), yhi = std::min<int64_t>(wy + g.ph, g.H);
    for (int64_t ox = 0; ox < g.OW; ++ox) {
      const int64_t wx = ox * g.sw - g.pad_left;
      const int64_t xlo = std::max<int64_t>(wx, 0), xhi = std::min<int64_t>(wx + g.pw, g.W);
      float* o = out_image + (oy * g.OW + ox) * C;
      for (int64_t c0 = 0; c0 < C; c0 += V::kLanes) {
        const auto m = V::tail(C - c0);
        reg acc = ninf;
        for (int64_t y = ylo; y < yhi; ++y) {
          const float* p = image + (y * g.W + xlo) * C + c0;
          for (int64_t x = xlo; x < xhi; ++x, p += C) acc = V::max(V::load(p, m), acc);
        }
        V::store(o + c0, V::min(vhi, V::max(vlo, acc)), m);
      }
    }
  }
}

// NO outputs of one row, each with U accumulators: NO * U = 8 independent
// FMA chains hide the FMA latency; the row is read once per NO outputs.
template <class V, int NO, int U>
inline void dot_block(int64_t K, const float* x, const float* w, const float* bias, FloatAct act, float* out) {
  using reg = typename V::reg;
  constexpr int64_t kStep = int64_t{U} * V::kLanes;
  reg acc[NO][U];
  _Pragma("GCC unroll 8") for (int j = 0; j < NO; ++j)
    _Pragma("GCC unroll 8") for (int u = 0; u < U; ++u) acc[j][u] = V::zero();
  const auto full = V::tail(V::kLanes);
  int64_t k = 0;
  for (; k + kStep <= K; k += kStep) {
    _Pragma("GCC unroll 8") for (int u = 0; u < U; ++u) {
      const reg xv = V::load(x + k + u * V::kLanes, full);
      _Pragma("GCC unroll 8") for (int j = 0; j < NO; ++j) {
        acc[j][u] = V::fmadd(xv, V::load(w + j * K + k + u * V::kLanes, full), acc[j][u]);
      }
    }
  }
  for (int u = 0; u < U && k + u * V::kLanes < K; ++u) {
    const auto m = V::tail(K - k - u * V::kLanes);
    const reg xv = V::load(x + k + u * V::kLanes, m);
    _Pragma("GCC unroll 8") for (int j = 0; j < NO; ++j) {
      acc[j][u] = V::fmadd(xv, V::load(w + j * K + k + u * V::kLanes, m), acc[j][u]);
    }
  }
  _Pragma("GCC unroll 8") for (int j = 0; j < NO; ++j) {
    reg s = acc[j][0];
    for (int u = 1; u < U; ++u) s = V::add(s, acc[j][u]);
    float v = V::hsum(s) + (bias ? bias[j] : 0.0f);
    if (act != FloatAct::kLinear) v = std::max(v, 0.0f);
    if (act == FloatAct::kRelu6) v = std::min(v, 6.0f);
    out[j] = v;
  }
}

template <class V>
void fc_dot(int64_t rows, int64_t K, int64_t N, const float* in, const float* w, const float* bias, FloatAct act,
            float* out) {
  for (int64_t r = 0; r < rows; ++r) {
    const float* x = in + r * K;
    float* y = out + r * N;
    int64_t o = 0;
    for (; o + 4 <= N; o += 4) dot_block<V, 4, 2>(K, x, w + o * K, bias ? bias + o : nullptr, act, y + o);
    for (; o + 2 <= N; o += 2) dot_block<V, 2, 4>(K, x, w + o * K, bias ? bias + o : nullptr, act, y + o);
    for (; o < N; ++o) dot_block<V, 1, 8>(K, x, w + o * K, bias ? bias + o : nullptr, act, y + o);
  }
}

// NB registers of outputs [o0, o0 + NB * kLanes) of one row of fc_small.
template <class V, int NB>
inline void fc_small_block(int64_t K, int64_t N, int64_t o0, const float* x, const float* wt, const float* bias,
                           FloatAct act, float* y) {
  using reg = typename V::reg;
  typename V::mask m[NB];
  reg a0[NB], a1[NB];
  _Pragma("GCC unroll 4") for (int j = 0; j < NB; ++j) {
    m[j] = V::tail(N - o0 - j * V::kLanes);
    a0[j] = bias ? V::load(bias + o0 + j * V::kLanes, m[j]) : V::zero();
    a1[j] = V::zero();
  }
  const float* w = wt + o0;
  int64_t k = 0;
  for (; k + 2 <= K; k += 2, w += 2 * N) {
    const reg x0 = V::set1(x[k]), x1 = V::set1(x[k + 1]);
    _Pragma("GCC unroll 4") for (int j = 0; j < NB; ++j) {
      a0[j] = V::fmadd(x0, V::load(w + j * V::kLanes, m[j]), a0[j]);
      a1[j] = V::fmadd(x1, V::load(w + N + j * V::kLanes, m[j]), a1[j]);
    }
  }
  if (k < K) {
    const reg x0 = V::set1(x[k]);
    _Pragma("GCC unroll 4") for (int j = 0; j < NB; ++j) a0[j] = V::fmadd(x0, V::load(w + j * V::kLanes, m[j]), a0[j]);
  }
  _Pragma("GCC unroll 4") for (int j = 0; j < NB; ++j) {
    reg v = V::add(a0[j], a1[j]);
    // max(0, v) and min(6, v) keep a NaN v, as TFLite's std::max(v, 0.f) does.
    if (act != FloatAct::kLinear) v = V::max(V::zero(), v);
    if (act == FloatAct::kRelu6) v = V::min(V::set1(6.0f), v);
    V::store(y + o0 + j * V::kLanes, v, m[j]);
  }
}

// Rows of a fully connected layer with a short dot (K <= kSmallFcK), the
// weights transposed to [K][N]: one broadcast input element times registers
// of outputs per step, two accumulator sets (even and odd k) to halve the
// FMA chain. On tiny layers (TFLite Micro's hello_world, 1-16-16-1) this is
// a few dozen instructions where fc_dot's horizontal sums per output cost
// several hundred. A row's result does not depend on how rows are split.
template <class V>
void fc_small(int64_t rows, int64_t K, int64_t N, const float* in, const float* wt, const float* bias, FloatAct act,
              float* out) {
  constexpr int64_t kBlock = 4 * V::kLanes;
  for (int64_t r = 0; r < rows; ++r) {
    const float* x = in + r * K;
    float* y = out + r * N;
    int64_t o0 = 0;
    for (; o0 + kBlock <= N; o0 += kBlock) fc_small_block<V, 4>(K, N, o0, x, wt, bias, act, y);
    const int64_t left = N - o0;
    if (left > 3 * V::kLanes) fc_small_block<V, 4>(K, N, o0, x, wt, bias, act, y);
    else if (left > 2 * V::kLanes) fc_small_block<V, 3>(K, N, o0, x, wt, bias, act, y);
    else if (left > V::kLanes) fc_small_block<V, 2>(K, N, o0, x, wt, bias, act, y);
    else if (left > 0) fc_small_block<V, 1>(K, N, o0, x, wt, bias, act, y);
  }
}

// Conv2D through the patch geometry (float_kernels.h) when the input step
// between neighbouring pixels (stride * Cin) is a small constant: the P
// pixels' taps are then fixed displacements from one pointer, where the
// general patch kernel spends integer registers on P runtime offsets. Same
// summation order as the patch kernel (bias, then window elements in order).
template <class V, int P, int IC>
inline void conv_tile(const PatchGeom& g, const float* in, const float* w, const float* bias, int64_t c0,
                      typename V::mask m, FloatAct act, float* out) {
  using reg = typename V::reg;
  reg acc[P];
  const reg b = bias ? V::load(bias + c0, m) : V::zero();
  _Pragma("GCC unroll 16")
  for (int p = 0; p < P; ++p) acc[p] = b;
  const int64_t R = g.R, C = g.C;
  const int64_t* offs = g.offs;
  const float* wc = w + c0;
  for (int64_t r = 0; r < R; ++r) {
    const reg wv = V::load(wc + r * C, m);
    const float* src = in + offs[r];
    _Pragma("GCC unroll 16")
    for (int p = 0; p < P; ++p) acc[p] = V::fmadd(V::set1(src[p * IC]), wv, acc[p]);
  }
  _Pragma("GCC unroll 16")
  for (int p = 0; p < P; ++p) {
    reg v = acc[p];
    if (act != FloatAct::kLinear) v = V::max(v, V::zero());
    if (act == FloatAct::kRelu6) v = V::min(v, V::set1(6.0f));
    V::store(out + p * g.out_col + c0, v, m);
  }
}

constexpr int kMaxConvTile = 12;

template <class V, int IC>
void conv_rows_ic(const PatchGeom& g, const float* in, const float* w, const float* bias, FloatAct act, float* out) {
  // Nearly equal tiles of at most kMaxConvTile pixels (26 -> 9, 9, 8).
  const int64_t tiles = (g.cols + kMaxConvTile - 1) / kMaxConvTile;
  const int64_t tile = (g.cols + tiles - 1) / tiles;
  for (int64_t y = 0; y < g.rows; ++y)
    for (int64_t c0 = 0; c0 < g.C; c0 += V::kLanes) {
      const auto m = V::tail(g.C - c0);
      for (int64_t x0 = 0; x0 < g.cols; x0 += tile) {
        const float* src = in + y * g.in_row + x0 * IC;
        float* dst = out + y * g.out_row + x0 * g.out_col;
        switch (std::min(tile, g.cols - x0)) {
#define QLITE_CASE(k) \
  case k: conv_tile<V, k, IC>(g, src, w, bias, c0, m, act, dst); break;
          QLITE_CASE(1) QLITE_CASE(2) QLITE_CASE(3) QLITE_CASE(4) QLITE_CASE(5) QLITE_CASE(6)
          QLITE_CASE(7) QLITE_CASE(8) QLITE_CASE(9) QLITE_CASE(10) QLITE_CASE(11) QLITE_CASE(12)
#undef QLITE_CASE
        }
      }
    }
}

template <class V>
bool conv_small(const PatchGeom& g, const float* in, const float* w, const float* bias, FloatAct act, float* out) {
  if (g.rows <= 0 || g.cols <= 0 || g.C <= 0) return true;
  switch (g.in_col) {
    case 1: conv_rows_ic<V, 1>(g, in, w, bias, act, out); return true;
    case 2: conv_rows_ic<V, 2>(g, in, w, bias, act, out); return true;
    case 3: conv_rows_ic<V, 3>(g, in, w, bias, act, out); return true;
    case 4: conv_rows_ic<V, 4>(g, in, w, bias, act, out); return true;
    default: return false;
  }
}

// ref::add_f32's element: the float sum, then v < lo ? lo : v and
// v > hi ? hi : v, which x86 max(lo, v) / min(hi, v) are in this operand
// order (a comparison with a NaN is false and returns the second operand).
template <class V>
void add_clamped(int64_t n, const float* a, const float* b, float lo, float hi, float* out) {
  const typename V::reg l = V::set1(lo), h = V::set1(hi);
  for (int64_t i = 0; i < n; i += V::kLanes) {
    const typename V::mask m = V::tail(n - i);
    const typename V::reg v = V::add(V::load(a + i, m), V::load(b + i, m));
    V::store(out + i, V::min(h, V::max(l, v)), m);
  }
}

}  // namespace qlite::kernels::rtf_simd

// The definitions of runtime_float.h's per-ISA functions on traits V, for a
// file that opens the ISA's namespace (rtf_avx2, rtf_avx512).
#define QLITE_DEFINE_RUNTIME_FLOAT_KERNELS(V)                                                                \
  void max_pool_rows(const PoolGeom& g, float lo, float hi, const float* image, float* out_image, int64_t y0, \
                     int64_t y1) {                                                                           \
    rtf_simd::max_pool_rows<V>(g, lo, hi, image, out_image, y0, y1);                                         \
  }                                                                                                          \
  void fc_dot(int64_t rows, int64_t K, int64_t N, const float* in, const float* w, const float* bias,         \
              FloatAct act, float* out) {                                                                    \
    rtf_simd::fc_dot<V>(rows, K, N, in, w, bias, act, out);                                                  \
  }                                                                                                          \
  void fc_small(int64_t rows, int64_t K, int64_t N, const float* in, const float* wt, const float* bias,       \
                FloatAct act, float* out) {                                                                  \
    rtf_simd::fc_small<V>(rows, K, N, in, wt, bias, act, out);                                               \
  }                                                                                                          \
  bool conv_small(const PatchGeom& g, const float* in, const float* w, const float* bias, FloatAct act,       \
                  float* out) {                                                                              \
    return rtf_simd::conv_small<V>(g, in, w, bias, act, out);                                                \
  }                                                                                                          \
  void add_clamped(int64_t n, const float* a, const float* b, float lo, float hi, float* out) {              \
    rtf_simd::add_clamped<V>(n, a, b, lo, hi, out);                                                          \
  }
