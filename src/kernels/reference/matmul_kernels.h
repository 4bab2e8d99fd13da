// Reference kernels (the spec) of BATCH_MATMUL and TRANSPOSE_CONV as
// TensorFlow Lite 2.9 computes them on x86 (kernels/batch_matmul.cc,
// kernels/transpose_conv.cc and the reference / optimized kernels they pick).
//
// BATCH_MATMUL: out[..., i, j] = sum_k lhs[..., i, k] * rhs[..., k, j], with
// lhs / rhs read transposed in their last two dimensions when adj_x / adj_y
// are set, and the batch dimensions (up to 3, ranks 2..5; the runtime takes
// 2..4 as TFLite 2.9 does) broadcast numpy style. Integer accumulators are int32 for int8 (wrapping as TFLite's do)
// and int64 for int16.
//   - int8: TFLite 2.9 runs optimized_ops::BatchMatMul, a ruy GEMM that
//     requantizes with ruy's round-half-up (requantize.h, kHalfUp); zero
//     points on both inputs and the output; per-tensor scales, multiplier
//     from the float product lhs_scale * rhs_scale / out_scale
//     (GetQuantizedConvolutionMultipler, as FULLY_CONNECTED).
//   - int16: reference_ops::BatchMatMul<int16_t, int64_t>: zero points 0,
//     int64 accumulator, TFLite's int64 MultiplyByQuantizedMultiplier
//     (int16_kernels.h).
//
// TRANSPOSE_CONV: weights OHWI [out_c, fh, fw, in_c], input NHWC, output
// NHWC of the constant output_shape. Each input pixel scatters
// in * w[oc, fy, fx, ic] to out[y * stride_h - pad_h + fy, x * stride_w -
// pad_w + fx, oc] (outside the output: dropped); the bias is added after.
// Padding is TFLite's ComputePaddingHeightWidth with the OUTPUT size as the
// forward convolution's input (transpose_conv_padding). Integer outputs:
// the accumulator (int32, or int64 for 16x8) plus the bias, requantized with
// gemmlowp's double rounding (MultiplyByQuantizedMultiplier; TFLite's
// optimized int8 / uint8 path and its reference path both end in it), int64
// MultiplyByQuantizedMultiplier for 16x8; then the output zero point and
// the type's range (no fused activation in TFLite 2.9's TransposeConvOptions).
// 16x8 without a bias requantizes otherwise, as TFLite 2.9's 16x8 CONV_2D
// without one does (int16_kernels.h): the accumulator taken as int32
// (wrapping) and rounded ONCE with the full 31-bit multiplier; the int64
// form gave 7 of ~80 bias-free random files one unit off TFLite 2.9, this
// form none (tests/runtime/tflite_matmul_conv_test.cpp).
#pragma once

#include <cstdint>
#include <vector>

#include "kernels/reference/requantize.h"

namespace qlite::ref {

// ---- BATCH_MATMUL

// Shapes extended to rank 5 (leading 1s): the three batch dimensions, then
// the matrices as stored (rows x cols of lhs and rhs before adj_x / adj_y).
struct BatchMatMulShape {
  int64_t lhs_batch[3] = {1, 1, 1}, rhs_batch[3] = {1, 1, 1}, out_batch[3] = {1, 1, 1};
  int64_t lhs_rows = 1, lhs_cols = 1, rhs_rows = 1, rhs_cols = 1;
  bool adj_x = false, adj_y = false;
  // Derived: out is [..., m, n], k the accumulation depth.
  int64_t m() const { return adj_x ? lhs_cols : lhs_rows; }
  int64_t k() const { return adj_x ? lhs_rows : lhs_cols; }
  int64_t n() const { return adj_y ? rhs_rows : rhs_cols; }
};

// Builds the shape from the two tensors' shapes (ranks 2..5): throws Error
// when the batch dimensions do not broadcast or the depths differ. `out`
// receives the output shape (rank max(lhs, rhs)).
BatchMatMulShape make_batch_matmul_shape(const std::vector<int64_t>& lhs, const std::vector<int64_t>& rhs,
                                         bool adj_x, bool adj_y, std::vector<int64_t>& out);

void batch_matmul_f32(const BatchMatMulShape& s, const float* lhs, const float* rhs, float* out);

struct BatchMatMulInt8Params {
  BatchMatMulShape s;
  int32_t lhs_zero_point = 0, rhs_zero_point = 0, out_zero_point = 0;
  QuantizedMultiplier requant;
  Rounding rounding = Rounding::kHalfUp;
};
void batch_matmul_int8(const BatchMatMulInt8Params& p, const int8_t* lhs, const int8_t* rhs, int8_t* out);

// int16: zero points 0, int64 accumulator and requantization.
void batch_matmul_int16(const BatchMatMulShape& s, const QuantizedMultiplier& requant, const int16_t* lhs,
                        const int16_t* rhs, int16_t* out);

// Hybrid ("dynamic range"): float32 lhs, int8 rhs (symmetric, per-tensor
// scale), float32 output, as TFLite 2.9's batch_matmul.cc EvalHybrid and
// optimized_ops::BatchMatMul (int8 x int8 -> int32 GEMM, then a float
// epilogue):
//  - every lhs row (the m rows of each lhs matrix, read after adj_x, each k
//    long) is quantized on its own with hybrid_kernels.h's quantizers:
//    symmetric, or asymmetric with a zero point when asymmetric_inputs
//    (BatchMatMulOptions.asymmetric_quantize_inputs); the row's scale is then
//    multiplied (float) by the rhs scale;
//  - acc = exact int32 sum over k of q[i, k] * rhs[k, j] (wrapping);
//  - acc = int32(float(acc) - float(row_sum[j]) * float(zero_point)), where
//    row_sum[j] is the sum over k of rhs[k, j] (0 * row_sum when symmetric:
//    the round trip through float still rounds accumulators past 2^24);
//  - out = 0.0f + scale * float(acc).
// TFLite 2.9 finds a row's scale / zero point at m * (the sum of the output
// batch indices of the lhs batch dimensions that do not broadcast), and the
// row sums at n * (the same sum over the rhs's), not at the flat batch
// index: with two batch dimensions both larger than 1 this takes another
// row's scale. qlite reproduces that indexing (measured against TFLite 2.9:
// tests/runtime/tflite_matmul_conv_test.cpp, HybridMatchesTfLite). TFLite
// 2.9 also sizes its temporaries from the wrong dimensions and writes past
// them unless n <= m <= k; qlite computes every shape as TFLite does in bounds.
struct BatchMatMulHybridParams {
  BatchMatMulShape s;
  float rhs_scale = 1.0f;
  bool asymmetric_inputs = false;
};
// Work space the caller provides (nothing is allocated), sizes from
// batch_matmul_hybrid_scratch: the quantized lhs, one scale and zero point
// per lhs row, the rhs row sums, and (adj_x only) the lhs transposed.
struct BatchMatMulHybridScratch {
  int8_t* quantized = nullptr;    // lhs elements
  float* scaling = nullptr;       // lhs rows (lhs batch x m)
  int32_t* offsets = nullptr;     // lhs rows
  int32_t* row_sums = nullptr;    // rhs batch x n
  float* lhs_transposed = nullptr;  // lhs elements, adj_x only
};
struct BatchMatMulHybridScratchSizes {
  int64_t lhs_elements = 0, lhs_rows = 0, row_sums = 0;
};
BatchMatMulHybridScratchSizes batch_matmul_hybrid_scratch(const BatchMatMulShape& s);
void batch_matmul_hybrid(const BatchMatMulHybridParams& p, const float* lhs, const int8_t* rhs,
                         const BatchMatMulHybridScratch& scratch, float* out);

// The multiplier of int8 / int16 BATCH_MATMUL (TFLite's
// GetQuantizedConvolutionMultipler without bias: a float product, then double).
inline QuantizedMultiplier batch_matmul_multiplier(float lhs_scale, float rhs_scale, float out_scale) {
  return quantize_multiplier(fully_connected_effective_multiplier(lhs_scale, rhs_scale, out_scale));
}

// ---- TRANSPOSE_CONV

struct TransposeConvGeometry {
  int64_t batch = 1, in_h = 1, in_w = 1, in_c = 1;
  int64_t out_h = 1, out_w = 1, out_c = 1;
  int64_t filter_h = 1, filter_w = 1;
  int64_t stride_h = 1, stride_w = 1;
  int64_t pad_h = 0, pad_w = 0;  // top / left
};

// TFLite's ComputePaddingHeightWidth(stride, dilation 1, out_size, filter):
// the forward convolution's output size `conv_out` (which must equal the
// transposed convolution's input size) and the top/left padding.
struct TransposeConvPadding {
  int64_t conv_out = 0;
  int64_t pad = 0;
};
TransposeConvPadding transpose_conv_padding(bool same, int64_t out_size, int64_t filter, int64_t stride);

void transpose_conv_f32(const TransposeConvGeometry& g, const float* input, const float* weights,
                        const float* bias, float* output);

// int8 (weights symmetric, per channel: requant has out_c entries) or uint8
// (weights with a zero point, one multiplier). bias: out_c int32 or nullptr.
struct TransposeConvQuantParams {
  int32_t input_zero_point = 0, weights_zero_point = 0, output_zero_point = 0;
  std::vector<QuantizedMultiplier> requant;  // out_c entries, or 1 (uint8)
};
void transpose_conv_int8(const TransposeConvGeometry& g, const TransposeConvQuantParams& p, const int8_t* input, const int8_t* weights,
                         const int32_t* bias, int8_t* output);
void transpose_conv_uint8(const TransposeConvGeometry& g, const TransposeConvQuantParams& p, const uint8_t* input, const uint8_t* weights,
                          const int32_t* bias, uint8_t* output);
// 16x8: int16 input / output (zero points 0), int8 weights per channel, int64
// bias (int64 accumulator) or none (int32 accumulator, single rounding).
void transpose_conv_int16x8(const TransposeConvGeometry& g, const TransposeConvQuantParams& p, const int16_t* input, const int8_t* weights,
                            const int64_t* bias, int16_t* output);

}  // namespace qlite::ref
