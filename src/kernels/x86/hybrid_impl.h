// The hybrid kernels written once over a vector "traits" type T and compiled
// once per ISA file (hybrid_avx512.cpp, hybrid_avx2.cpp). Define
// QLITE_HYBRID_NS before including: everything lands in an ISA-named
// namespace and an anonymous one, so that code built with AVX-512 flags can
// never be picked by the linker for another path (hence no std:: algorithm
// templates here either). See hybrid_x86.h for why the results are exact.
//
// T provides: Elem / WElem (input-buffer and weight element), Reg (int32
// lanes), F (float lanes), kLanes, kGroup; integer ops (zero, load_w, bcast,
// dot, add, sub, load_i32, set1, mullo), float ops (cvt, load_f, set1_f,
// mul — never contracted with a following add —, add_f, max_f / min_f with
// the semantics of _mm_max_ps / _mm_min_ps, store_f of n <= kLanes lanes),
// minmax (returns true when the span holds a NaN) and quantize.
#pragma once

#include <cstddef>
#include <cstdint>

#include "kernels/reference/requantize.h"
#include "kernels/x86/hybrid_x86.h"

#ifndef QLITE_HYBRID_NS
#error "define QLITE_HYBRID_NS before including hybrid_impl.h"
#endif

namespace qlite::kernels::QLITE_HYBRID_NS {
namespace {

namespace hd = ::qlite::kernels::hybrid_detail;

inline int imin(int a, int b) { return a < b ? a : b; }
inline size_t round64(size_t b) { return (b + 63) & ~size_t{63}; }

template <class E>
inline void fill_n(E* d, int64_t n, E v) {
  for (int64_t i = 0; i < n; ++i) d[i] = v;
}

template <class T>
struct Hybrid {
  using Elem = typename T::Elem;
  using WElem = typename T::WElem;
  using Reg = typename T::Reg;
  using F = typename T::F;
  static constexpr int L = T::kLanes, G = T::kGroup;
  static constexpr int kMaxMR = 8;

  struct Dot {
    const WElem* w;
    const int32_t* steps;
    int nsteps, n_blocks;
  };
  static Dot dot_of(const PackedHybridGemm& g) {
    return Dot{reinterpret_cast<const WElem*>(g.weights.data()), g.steps.data(), static_cast<int>(g.steps.size()),
               g.n_blocks};
  }

  // The row's quantization parameters, from the reference's min and max.
  static hd::RowQuant row_params(const float* x, int64_t n, bool asymmetric) {
    float mn = 0.0f, mx = 0.0f;
    if (T::minmax(x, n, &mn, &mx)) hd::minmax_scalar(x, n, &mn, &mx);
    return asymmetric ? hd::asymmetric_params(mn, mx) : hd::symmetric_params(mn, mx);
  }

  // MR pixels (windows ps elements apart) x one block of L channels; KU sets
  // of accumulators over consecutive steps when MR alone is too few chains to
  // hide the dot instruction's latency.
  template <int MR, class Epi>
  static void tile(const Dot& d, const Elem* px, int64_t ps, int nb, const Epi& epi, int p0) {
    constexpr int KU = MR >= 4 ? 1 : MR == 1 ? 4 : 2;
    Reg acc[KU][MR];
    for (int u = 0; u < KU; ++u)
      for (int i = 0; i < MR; ++i) acc[u][i] = T::zero();
    const WElem* w = d.w + static_cast<size_t>(nb) * d.nsteps * L * G;
    const int32_t* st = d.steps;
    int s = 0;
    for (; s + KU <= d.nsteps; s += KU) {
      for (int u = 0; u < KU; ++u) {
        const Reg wv = T::load_w(w + static_cast<size_t>(s + u) * L * G);
        const Elem* x = px + st[s + u];
        for (int i = 0; i < MR; ++i) acc[u][i] = T::dot(acc[u][i], T::bcast(x + i * ps), wv);
      }
    }
    for (; s < d.nsteps; ++s) {
      const Reg wv = T::load_w(w + static_cast<size_t>(s) * L * G);
      const Elem* x = px + st[s];
      for (int i = 0; i < MR; ++i) acc[0][i] = T::dot(acc[0][i], T::bcast(x + i * ps), wv);
    }
    for (int u = 1; u < KU; ++u)
      for (int i = 0; i < MR; ++i) acc[0][i] = T::add(acc[0][i], acc[u][i]);
    for (int i = 0; i < MR; ++i) epi(p0 + i, nb, acc[0][i]);
  }

  template <class Epi>
  static void run(const Dot& d, const Elem* px, int64_t ps, int npix, const Epi& epi) {
    for (int nb = 0; nb < d.n_blocks; ++nb) {
      int p = 0;
      for (; p + kMaxMR <= npix; p += kMaxMR) tile<kMaxMR>(d, px + p * ps, ps, nb, epi, p);
      const Elem* x = px + p * ps;
      switch (npix - p) {
        case 1: tile<1>(d, x, ps, nb, epi, p); break;
        case 2: tile<2>(d, x, ps, nb, epi, p); break;
        case 3: tile<3>(d, x, ps, nb, epi, p); break;
        case 4: tile<4>(d, x, ps, nb, epi, p); break;
        case 5: tile<5>(d, x, ps, nb, epi, p); break;
        case 6: tile<6>(d, x, ps, nb, epi, p); break;
        case 7: tile<7>(d, x, ps, nb, epi, p); break;
        default: break;
      }
    }
  }

  // std::min(std::max(v, lo), hi) is (hi < max) ? hi : max with max = (v < lo) ? lo : v,
  // which _mm_max_ps(lo, v) and _mm_min_ps(hi, .) compute operand for operand.
  static F clamp_act(F v, F lo, F hi) { return T::min_f(hi, T::max_f(lo, v)); }

  // ---- fully connected -----------------------------------------------------
  struct FcEpi {
    float* out;
    int n;
    const int32_t* coef;  // per row: zero point + offset
    const float* scale;   // per row: input scale * weight scale
    const int32_t* wsum;
    const float* start;  // bias or zeros, padded
    F lo, hi;
    void operator()(int p, int nb, Reg acc) const {
      const int c0 = nb * L;
      const Reg corr = T::mullo(T::set1(coef[p]), T::load_i32(wsum + c0));
      // out = start + float(acc) * scale (VectorBatchVectorAssign, then MatrixBatchVectorMultiplyAccumulate).
      const F v = T::add_f(T::load_f(start + c0), T::mul(T::cvt(T::sub(acc, corr)), T::set1_f(scale[p])));
      T::store_f(out + static_cast<int64_t>(p) * n + c0, clamp_act(v, lo, hi), imin(L, n - c0));
    }
  };

  static void fully_connected(const PackedFcHybrid& pf, int rows, const float* input, const int8_t* weights,
                              const float* bias, void* scratch, float* output) {
    constexpr int kChunk = PackedFcHybrid::kChunkRows;
    const ::qlite::ref::HybridFcParams& p = pf.params;
    const PackedHybridGemm& g = pf.gemm;
    const int64_t k = p.in_features;
    const size_t chunk = kChunk;
    auto* base = static_cast<std::byte*>(scratch);
    auto* coef = reinterpret_cast<int32_t*>(base);
    auto* scale = reinterpret_cast<float*>(base + round64(chunk * sizeof(int32_t)));
    auto* start = reinterpret_cast<float*>(base + 2 * round64(chunk * sizeof(float)));
    auto* rows_buf = reinterpret_cast<Elem*>(base + pf.rows_offset);
    const int64_t row_elems = static_cast<int64_t>(pf.row_bytes / sizeof(Elem));
    const auto fill_start = [&] {
      for (int c = 0; c < g.n_blocks * L; ++c) start[c] = bias && c < g.n ? bias[c] : 0.0f;
    };
    fill_start();
    const ::qlite::ref::FloatActRange act = ::qlite::ref::fused_activation_range_f32(p.act);
    const FcEpi epi_base{nullptr, g.n, coef, scale, g.wsum.data(), start, T::set1_f(act.min), T::set1_f(act.max)};
    const Dot d = dot_of(g);
    for (int r0 = 0; r0 < rows; r0 += kChunk) {
      const int m = imin(kChunk, rows - r0);
      bool degenerate[kChunk] = {}, any_degenerate = false;
      for (int i = 0; i < m; ++i) {
        const float* x = input + static_cast<int64_t>(r0 + i) * k;
        Elem* e = rows_buf + i * row_elems;
        hd::RowQuant rq = row_params(x, k, p.asymmetric_inputs);
        if (rq.degenerate) {
          degenerate[i] = any_degenerate = true;
          rq.zero = true;  // a placeholder row; the reference overwrites its output below
        }
        T::quantize(x, k, rq, e);
        fill_n(e + k, pf.k_pad - k, static_cast<Elem>(0));
        coef[i] = rq.zp + T::kOffset;
        scale[i] = rq.scaling * p.weight_scale;  // fully_connected.cc: scaling_factors_ptr[b] *= filter scale
      }
      FcEpi epi = epi_base;
      epi.out = output + static_cast<int64_t>(r0) * g.n;
      run(d, rows_buf, row_elems, m, epi);
      if (any_degenerate) {
        // The chunk's buffers are spent, so the reference may use the scratch.
        for (int i = 0; i < m; ++i)
          if (degenerate[i])
            hd::fc_reference(pf, 1, input + static_cast<int64_t>(r0 + i) * k, weights, bias, scratch,
                             output + static_cast<int64_t>(r0 + i) * g.n);
        fill_start();
      }
    }
  }

  // ---- convolution -----------------------------------------------------------
  struct ConvEpi {
    float* out;  // the output row
    int n;
    const int32_t* corr;  // (zero point + offset) * sum w, padded
    const float* scale;   // padded
    const float* bias;    // padded, or nullptr: no add at all (x + 0.0f would turn -0.0 into +0.0)
    F lo, hi;
    void operator()(int p, int nb, Reg acc) const {
      const int c0 = nb * L;
      F v = T::mul(T::cvt(T::sub(acc, T::load_i32(corr + c0))), T::load_f(scale + c0));
      if (bias) v = T::add_f(v, T::load_f(bias + c0));
      T::store_f(out + static_cast<int64_t>(p) * n + c0, clamp_act(v, lo, hi), imin(L, n - c0));
    }
  };

  static void conv2d(const PackedConvHybrid& pc, const float* image, const int8_t* weights, const float* bias,
                     void* scratch, float* out_image) {
    const ::qlite::ref::HybridConvParams& p = pc.params;
    const ::qlite::ref::WindowGeometry& g = p.g;
    const PackedHybridGemm& gm = pc.gemm;
    const int64_t cin = g.in_c;
    const int nl = gm.n_blocks * L;
    auto* base = static_cast<std::byte*>(scratch);
    auto* corr = reinterpret_cast<int32_t*>(base);
    auto* scale = reinterpret_cast<float*>(base + round64(static_cast<size_t>(nl) * 4));
    auto* bias_p = reinterpret_cast<float*>(base + 2 * round64(static_cast<size_t>(nl) * 4));
    auto* buf = reinterpret_cast<Elem*>(base + pc.buf_offset);

    const hd::RowQuant rq = row_params(image, int64_t{g.in_h} * g.in_w * cin, p.per_channel);
    if (rq.degenerate) return hd::conv_reference(pc, image, weights, bias, scratch, out_image);
    // Per tensor: conv.cc EvalHybrid multiplies the input scale by the filter
    // scale once; per channel: HybridConvPerChannel forms per_channel_scale * input_scale.
    const float tensor_scale = rq.scaling * p.weight_scales[0];
    for (int c = 0; c < nl; ++c) {
      const bool real = c < g.out_c;
      corr[c] = static_cast<int32_t>(static_cast<uint32_t>(rq.zp + T::kOffset) * static_cast<uint32_t>(gm.wsum[c]));
      scale[c] = !real ? 0.0f : p.per_channel ? p.weight_scales[static_cast<size_t>(c)] * rq.scaling : tensor_scale;
      bias_p[c] = bias && real ? bias[c] : 0.0f;
    }

    // The padded, quantized input: windows read padding as zp + offset, which the correction cancels.
    const Elem pad = static_cast<Elem>(rq.zp + T::kOffset);
    const int64_t row_elems = int64_t{pc.cols_p} * cin;
    const int cols_in = imin(g.in_w, pc.cols_p - g.pad_left);
    for (int r = 0; r < pc.rows_p; ++r) {
      Elem* d = buf + r * row_elems;
      const int iy = r - g.pad_top;
      if (iy < 0 || iy >= g.in_h) {
        fill_n(d, row_elems, pad);
        continue;
      }
      fill_n(d, int64_t{g.pad_left} * cin, pad);
      T::quantize(image + int64_t{iy} * g.in_w * cin, int64_t{cols_in} * cin, rq, d + int64_t{g.pad_left} * cin);
      fill_n(d + int64_t{g.pad_left + cols_in} * cin, int64_t{pc.cols_p - g.pad_left - cols_in} * cin, pad);
    }
    fill_n(buf + pc.rows_p * row_elems, static_cast<int64_t>(64 / sizeof(Elem)), pad);

    const ::qlite::ref::FloatActRange act = ::qlite::ref::fused_activation_range_f32(p.act);
    const ConvEpi epi_base{nullptr, g.out_c, corr, scale, bias ? bias_p : nullptr, T::set1_f(act.min),
                           T::set1_f(act.max)};
    const Dot d = dot_of(gm);
    const int64_t ps = int64_t{g.stride_w} * cin, rs = int64_t{g.stride_h} * row_elems;
    for (int oy = 0; oy < g.out_h; ++oy) {
      ConvEpi epi = epi_base;
      epi.out = out_image + int64_t{oy} * g.out_w * g.out_c;
      run(d, buf + oy * rs, ps, g.out_w, epi);
    }
  }
};

}  // namespace
}  // namespace qlite::kernels::QLITE_HYBRID_NS
