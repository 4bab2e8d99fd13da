// Packing, validation and dispatch of the optimized hybrid kernels, and the
// per-row quantization parameters, taken from the reference's. Built
// for baseline x86-64 (no ISA flags), like the reference kernels, so that the
// scalar float and double expressions here round exactly as the reference's.
#include <algorithm>
#include <cstddef>
#include <cmath>
#include <cstring>
#include <string>

#include "kernels/int8_kernels_x86.h"
#include "kernels/x86/hybrid_x86.h"

namespace qlite::kernels {
namespace hybrid_detail {

namespace {

RowQuant from_reference(const qlite::ref::HybridRowParams& p, int32_t lo, int32_t hi) {
  RowQuant r;
  r.lo = lo;
  r.hi = hi;
  r.zero = p.zero;
  r.degenerate = p.infinite_range;
  if (p.zero || p.infinite_range) return r;
  r.scaling = p.scaling;
  r.inv = p.inv;
  r.zp = p.zero_point;
  r.fzp = static_cast<float>(p.zero_point);
  return r;
}

}  // namespace

RowQuant symmetric_params(float mn, float mx) {
  return from_reference(qlite::ref::hybrid_symmetric_params(mn, mx), -127, 127);
}

RowQuant asymmetric_params(float mn, float mx) {
  return from_reference(qlite::ref::hybrid_asymmetric_params(mn, mx), -128, 127);
}

void minmax_scalar(const float* x, int64_t n, float* mn, float* mx) {
  const auto mm = std::minmax_element(x, x + n);
  *mn = *mm.first;
  *mx = *mm.second;
}

void fc_reference(const PackedFcHybrid& pf, int rows, const float* input, const int8_t* weights, const float* bias,
                  void* scratch, float* output) {
  constexpr int kChunk = PackedFcHybrid::kChunkRows;
  const int64_t in = pf.params.in_features, out = pf.params.out_features;
  auto* base = static_cast<std::byte*>(scratch);
  // Rows are independent in the reference, so running it a chunk at a time changes nothing.
  const qlite::ref::HybridScratch s{reinterpret_cast<int8_t*>(base + kChunk * (sizeof(float) + sizeof(int32_t))),
                                    reinterpret_cast<float*>(base),
                                    reinterpret_cast<int32_t*>(base + kChunk * sizeof(float))};
  for (int r0 = 0; r0 < rows; r0 += kChunk) {
    qlite::ref::HybridFcParams p = pf.params;
    p.batch = std::min(kChunk, rows - r0);
    qlite::ref::fully_connected_hybrid(p, input + r0 * in, weights, bias, s, output + r0 * out);
  }
}

void conv_reference(const PackedConvHybrid& pc, const float* image, const int8_t* weights, const float* bias,
                    void* scratch, float* out_image) {
  auto* base = static_cast<std::byte*>(scratch);
  const qlite::ref::HybridScratch s{reinterpret_cast<int8_t*>(base + sizeof(float) + sizeof(int32_t)),
                                    reinterpret_cast<float*>(base), reinterpret_cast<int32_t*>(base + sizeof(float))};
  qlite::ref::conv2d_hybrid(pc.params, image, weights, bias, s, out_image);
}

}  // namespace hybrid_detail

namespace {

// A literal message: the per-call checks must not build a std::string (invoke allocates nothing).
void require(bool cond, const char* message) {
  if (!cond) throw Error(message);
}

// Largest dot length whose true sum always fits in int32 (|w| <= 128,
// |q - zp| <= 255): longer ones run the reference, which reports overflow.
constexpr int64_t kMaxExactK = 2147483647 / (128 * 255);

size_t round64(size_t b) { return (b + 63) & ~size_t{64 - 1}; }

void set_isa_layout(PackedHybridGemm& g, Isa isa) {
  g.lanes = isa == Isa::kAvx512 ? 16 : 8;
  g.group = isa == Isa::kAvx512 ? 4 : 2;
  g.offset = isa == Isa::kAvx512 ? 128 : 0;
}

// elem(c, tap, j) for j < tap_len: the weight of channel c at element j of a tap.
template <class F>
void pack_weights(PackedHybridGemm& g, Isa isa, int n, int ntaps, int tap_len, F elem) {
  set_isa_layout(g, isa);
  g.n = n;
  g.n_blocks = (n + g.lanes - 1) / g.lanes;
  g.ntaps = ntaps;
  g.tap_groups = (tap_len + g.group - 1) / g.group;
  const int L = g.lanes, G = g.group;
  const size_t elems = static_cast<size_t>(g.n_blocks) * ntaps * g.tap_groups * L * G;
  const size_t esize = isa == Isa::kAvx512 ? 1 : 2;
  g.weights.assign(elems * esize, 0);
  g.wsum.assign(static_cast<size_t>(g.n_blocks) * L, 0);
  for (int c = 0; c < n; ++c) {
    int32_t sum = 0;
    for (int t = 0; t < ntaps; ++t) {
      for (int j = 0; j < tap_len; ++j) {
        const int8_t w = elem(c, t, j);
        sum += w;
        const size_t at =
            ((((static_cast<size_t>(c / L) * ntaps + t) * g.tap_groups + j / G) * L + c % L) * G) + j % G;
        if (esize == 1) {
          g.weights[at] = w;
        } else {
          const int16_t w16 = w;
          std::memcpy(g.weights.data() + at * 2, &w16, 2);
        }
      }
    }
    g.wsum[static_cast<size_t>(c)] = sum;
  }
}

Isa usable(Isa isa, int64_t k, const char* op) {
  if (isa == Isa::kReference) return isa;
  if (!int8_isa_available(isa))
    throw Error(std::string(op) + ": ISA " + isa_name(isa) + " is not supported by this CPU");
  return k > kMaxExactK ? Isa::kReference : isa;
}

}  // namespace

PackedFcHybrid pack_fully_connected_hybrid(Isa isa, const qlite::ref::HybridFcParams& p, const int8_t* weights) {
  require(p.in_features > 0 && p.out_features > 0, "pack_fully_connected_hybrid: dimensions must be positive");
  require(std::isfinite(p.weight_scale) && p.weight_scale > 0.0f,
          "pack_fully_connected_hybrid: weight scale must be finite and > 0");
  PackedFcHybrid pf;
  pf.isa = usable(isa, p.in_features, "pack_fully_connected_hybrid");
  // The reference path reads the weights at run time only.
  require(pf.isa == Isa::kReference || weights != nullptr, "pack_fully_connected_hybrid: null weights");
  pf.params = p;
  const size_t rows = PackedFcHybrid::kChunkRows, in = static_cast<size_t>(p.in_features);
  const size_t ref_bytes = rows * in + rows * sizeof(float) + rows * sizeof(int32_t);
  if (pf.isa == Isa::kReference) {
    pf.k_pad = p.in_features;
    pf.scratch_bytes = ref_bytes;
    return pf;
  }
  const int in_f = p.in_features;
  pack_weights(pf.gemm, pf.isa, p.out_features, 1, in_f,
               [&](int c, int, int j) { return weights[static_cast<size_t>(c) * in + static_cast<size_t>(j)]; });
  for (int j = 0; j < pf.gemm.tap_groups; ++j) pf.gemm.steps.push_back(j * pf.gemm.group);
  pf.k_pad = pf.gemm.tap_groups * pf.gemm.group;
  const size_t esize = pf.isa == Isa::kAvx512 ? 1 : 2;
  pf.row_bytes = round64(static_cast<size_t>(pf.k_pad) * esize);
  pf.rows_offset = 2 * round64(rows * sizeof(float)) +
                   round64(static_cast<size_t>(pf.gemm.n_blocks) * pf.gemm.lanes * sizeof(float));
  // A degenerate row runs the reference on one row, in the same scratch.
  pf.scratch_bytes = std::max(pf.rows_offset + rows * pf.row_bytes, ref_bytes);
  return pf;
}

void fully_connected_hybrid(const PackedFcHybrid& pf, int rows, const float* input, const int8_t* weights,
                            const float* bias, void* scratch, float* output) {
  require(rows >= 0, "fully_connected_hybrid: negative row count");
  require(reinterpret_cast<uintptr_t>(scratch) % 4 == 0, "fully_connected_hybrid: scratch not 4-byte aligned");
  require(input && weights && output && scratch,
          "fully_connected_hybrid: null tensor or scratch");
  if (rows == 0) return;
  switch (pf.isa) {
    case Isa::kAvx512: return hybrid_avx512::fully_connected(pf, rows, input, weights, bias, scratch, output);
    case Isa::kAvx2: return hybrid_avx2::fully_connected(pf, rows, input, weights, bias, scratch, output);
    case Isa::kReference: break;
  }
  hybrid_detail::fc_reference(pf, rows, input, weights, bias, scratch, output);
}

PackedConvHybrid pack_conv2d_hybrid(Isa isa, const qlite::ref::HybridConvParams& p, const int8_t* weights) {
  const qlite::ref::WindowGeometry& g = p.g;
  qlite::ref::validate_window_reach(g, "pack_conv2d_hybrid");
  require(p.weight_scales.size() == 1 || p.weight_scales.size() == static_cast<size_t>(g.out_c),
          "pack_conv2d_hybrid: expected 1 or out_c weight scales");
  for (float w : p.weight_scales)
    require(std::isfinite(w) && w > 0.0f, "pack_conv2d_hybrid: weight scales must be finite and > 0");
  PackedConvHybrid pc;
  const int64_t k = int64_t{g.kernel_h} * g.kernel_w * g.in_c;
  pc.isa = usable(isa, k, "pack_conv2d_hybrid");
  require(pc.isa == Isa::kReference || weights != nullptr, "pack_conv2d_hybrid: null weights");
  pc.params = p;
  pc.params.g.batch = 1;
  const size_t ref_bytes = static_cast<size_t>(int64_t{g.in_h} * g.in_w * g.in_c) + sizeof(float) + sizeof(int32_t);
  if (pc.isa == Isa::kReference) {
    pc.scratch_bytes = ref_bytes;
    return pc;
  }
  // Only the rows and columns some window reads (a strided VALID convolution
  // may leave the last ones unread); those outside the image hold padding.
  pc.rows_p = (g.out_h - 1) * g.stride_h + (g.kernel_h - 1) * g.dilation_h + 1;
  pc.cols_p = (g.out_w - 1) * g.stride_w + (g.kernel_w - 1) * g.dilation_w + 1;
  const int64_t cin = g.in_c, kw = g.kernel_w, kh = g.kernel_h;
  const auto w_at = [&](int c, int ky, int64_t e) {
    return weights[static_cast<size_t>(((c * kh + ky) * kw) * cin + e)];
  };
  std::vector<int64_t> taps;
  if (g.dilation_w == 1) {
    // One tap per window row: its kernel_w * in_c elements are contiguous in the buffer.
    pack_weights(pc.gemm, pc.isa, g.out_c, g.kernel_h, static_cast<int>(kw * cin),
                 [&](int c, int t, int j) { return w_at(c, t, j); });
    for (int ky = 0; ky < g.kernel_h; ++ky) taps.push_back(int64_t{ky} * g.dilation_h * pc.cols_p * cin);
  } else {
    pack_weights(pc.gemm, pc.isa, g.out_c, g.kernel_h * g.kernel_w, g.in_c, [&](int c, int t, int j) {
      return w_at(c, t / g.kernel_w, int64_t{t % g.kernel_w} * cin + j);
    });
    for (int ky = 0; ky < g.kernel_h; ++ky)
      for (int kx = 0; kx < g.kernel_w; ++kx)
        taps.push_back((int64_t{ky} * g.dilation_h * pc.cols_p + int64_t{kx} * g.dilation_w) * cin);
  }
  const size_t esize = pc.isa == Isa::kAvx512 ? 1 : 2;
  const size_t channels = static_cast<size_t>(pc.gemm.n_blocks) * pc.gemm.lanes;
  pc.buf_offset = 3 * round64(channels * 4);
  const size_t buf = static_cast<size_t>(pc.rows_p) * static_cast<size_t>(pc.cols_p) * static_cast<size_t>(cin);
  require(buf < (size_t{1} << 31), "pack_conv2d_hybrid: padded input too large");
  for (int64_t t : taps)
    for (int j = 0; j < pc.gemm.tap_groups; ++j)
      pc.gemm.steps.push_back(static_cast<int32_t>(t + int64_t{j} * pc.gemm.group));
  // Slack: a tap's last group reads up to group - 1 elements past the window.
  // A degenerate image runs the reference, in the same scratch.
  pc.scratch_bytes = std::max(pc.buf_offset + round64(buf * esize + 64), ref_bytes);
  return pc;
}

void conv2d_hybrid(const PackedConvHybrid& pc, const float* image, const int8_t* weights, const float* bias,
                   void* scratch, float* out_image) {
  require(reinterpret_cast<uintptr_t>(scratch) % 4 == 0, "conv2d_hybrid: scratch not 4-byte aligned");
  require(image && weights && out_image && scratch,
          "conv2d_hybrid: null tensor or scratch");
  switch (pc.isa) {
    case Isa::kAvx512: return hybrid_avx512::conv2d(pc, image, weights, bias, scratch, out_image);
    case Isa::kAvx2: return hybrid_avx2::conv2d(pc, image, weights, bias, scratch, out_image);
    case Isa::kReference: break;
  }
  hybrid_detail::conv_reference(pc, image, weights, bias, scratch, out_image);
}

}  // namespace qlite::kernels
