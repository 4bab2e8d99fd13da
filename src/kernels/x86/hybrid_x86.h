// Optimized dynamic-range ("hybrid") kernels: float activations, int8
// weights, float output, BIT-EXACT with qlite::ref::fully_connected_hybrid and
// qlite::ref::conv2d_hybrid (kernels/reference/hybrid_kernels.h) for every input,
// including NaN, infinities and rounding ties.
//
// Use: pack once at prepare time, then run many times. A packed op remembers
// the Isa it was packed for; Isa::kReference (and any shape whose dot length
// could overflow int32, where the reference throws) keeps nothing and runs the
// reference kernels, so every Isa is accepted. Scratch is the caller's
// (scratch_bytes; aligned to 4 bytes at least, 64 is best); nothing allocates at run time.
//
// How the SIMD paths stay exact:
//  - input quantization: SIMD min/max (a row holding a NaN takes its min/max
//    from std::minmax_element, as the reference, since NaN makes the result
//    order-dependent); scale and zero point from those in the reference's
//    scalar code (hybrid_pack.cpp); q = round-half-away-from-zero done as
//    trunc plus a +-1 step where |x - trunc| >= 0.5;
//  - dot products in int32 over an input buffer that holds e = q + offset
//    (AVX-512 VNNI: offset 128, u8 operand of vpdpbusd; AVX2: offset 0, int16
//    pairs of vpmaddwd), padding taps holding zp + offset, so that
//    acc = dot - (zp + offset) * sum(w) is the reference's sum over the taps
//    inside the image. int32 wrap-around is exact because the true sum fits
//    (packing falls back to the reference when it might not);
//  - the float epilogue as separate multiply and add (a compiler barrier
//    keeps GCC from contracting them into an FMA), min/max in std::min /
//    std::max's operand order so that NaN and -0.0 come out as the reference's.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "kernels/reference/hybrid_kernels.h"
#include "qlite/core.h"

namespace qlite::kernels {

// Packed weights of an int32 dot product over `ntaps` taps of `tap_groups`
// groups of `group` input elements each: element (tap, j) of output channel c
// lives at ((((c / lanes) * ntaps + tap) * tap_groups + j / group) * lanes + c % lanes) * group + j % group,
// zero past the tap's real length; int8 (AVX-512) or int16 (AVX2) elements.
struct PackedHybridGemm {
  int lanes = 0, group = 0, offset = 0;  // offset: the input buffer holds q + offset
  int n = 0, n_blocks = 0;
  int ntaps = 0, tap_groups = 0;
  std::vector<int32_t> steps;     // element offset of each dot group from the window's origin, tap-major
  std::vector<int8_t> weights;    // raw bytes
  std::vector<int32_t> wsum;      // sum of each channel's real weights, n_blocks * lanes
};

struct PackedFcHybrid {
  Isa isa = Isa::kReference;
  qlite::ref::HybridFcParams params;  // batch is given at run time
  int k_pad = 0;               // in_features rounded up to the group
  PackedHybridGemm gemm;
  // Rows are quantized and multiplied chunk_rows at a time, so the scratch
  // does not grow with the batch: per row a zero-point factor and a scale,
  // the bias padded to n_blocks * lanes (64-byte slots), then chunk_rows rows
  // of row_bytes at rows_offset.
  static constexpr int kChunkRows = 8;
  size_t row_bytes = 0, rows_offset = 0;
  size_t scratch_bytes = 0;  // for a call of any number of rows
};
PackedFcHybrid pack_fully_connected_hybrid(Isa isa, const qlite::ref::HybridFcParams& p, const int8_t* weights);
// input [rows, in], output [rows, out]; weights: the original [out, in]
// tensor (read by the reference path); bias [out] or nullptr.
void fully_connected_hybrid(const PackedFcHybrid& pf, int rows, const float* input, const int8_t* weights,
                            const float* bias, void* scratch, float* output);

struct PackedConvHybrid {
  Isa isa = Isa::kReference;
  qlite::ref::HybridConvParams params;  // geometry of one image (batch 1)
  // The quantized image sits in a padded buffer of rows_p x cols_p pixels of
  // in_c elements (only the rows and columns some window reads).
  int rows_p = 0, cols_p = 0;
  PackedHybridGemm gemm;
  // Scratch: per-channel zero-point correction, scale and bias (n_blocks *
  // lanes each, 64-byte slots), then the padded buffer at buf_offset.
  size_t buf_offset = 0;
  size_t scratch_bytes = 0;
};
PackedConvHybrid pack_conv2d_hybrid(Isa isa, const qlite::ref::HybridConvParams& p, const int8_t* weights);
// One image: input [in_h, in_w, in_c], output [out_h, out_w, out_c]; weights:
// the original OHWI tensor (read by the reference path); bias [out_c] or nullptr.
void conv2d_hybrid(const PackedConvHybrid& pc, const float* image, const int8_t* weights, const float* bias,
                   void* scratch, float* out_image);

namespace hybrid_detail {

// Per-row (per-image) input quantization as the reference derives it from
// the row's min and max: e = clamp(round(fzp + clamp(x * inv, +-1e6)), lo, hi) + offset.
struct RowQuant {
  float inv = 0.0f, fzp = 0.0f;
  float scaling = 1.0f;  // the reference's scaling_factor (before any weight scale)
  int32_t zp = 0, lo = 0, hi = 0;
  bool zero = false;  // all-zero (symmetric) or empty range (asymmetric): q = 0, scaling 1, zp 0
  // Asymmetric with an infinite end (ref::HybridRowParams::infinite_range):
  // rare enough that such a row (image) runs the reference itself.
  bool degenerate = false;
};
RowQuant symmetric_params(float mn, float mx);
RowQuant asymmetric_params(float mn, float mx);
// std::minmax_element's min and max, for rows that contain a NaN.
void minmax_scalar(const float* x, int64_t n, float* mn, float* mx);
// The reference kernels on `rows` rows (one image), with scratch laid out for them.
void fc_reference(const PackedFcHybrid& pf, int rows, const float* input, const int8_t* weights, const float* bias,
                  void* scratch, float* output);
void conv_reference(const PackedConvHybrid& pc, const float* image, const int8_t* weights, const float* bias,
                    void* scratch, float* out_image);

}  // namespace hybrid_detail

// The per-ISA implementations (packed ops validated; pointers non-null).
#define QLITE_HYBRID_KERNEL_DECLS                                                                            \
  void fully_connected(const PackedFcHybrid& pf, int rows, const float* input, const int8_t* weights,           \
                       const float* bias, void* scratch, float* output);                                     \
  void conv2d(const PackedConvHybrid& pc, const float* image, const int8_t* weights, const float* bias,         \
              void* scratch, float* out_image);

namespace hybrid_avx2 { QLITE_HYBRID_KERNEL_DECLS }
namespace hybrid_avx512 { QLITE_HYBRID_KERNEL_DECLS }
#undef QLITE_HYBRID_KERNEL_DECLS

}  // namespace qlite::kernels
