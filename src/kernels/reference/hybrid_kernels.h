// Reference dynamic-range ("hybrid") kernels: float activations, int8
// weights, float output. They reproduce what TensorFlow Lite 2.9 computes for
// FULLY_CONNECTED and CONV_2D with int8 weights and a float32 input:
//  - the input is quantized on the fly, one scale per batch row (per image
//    for convolutions), with tensor_utils::SymmetricQuantizeFloats
//    (range = max|x|, scale = range / 127, q = round(x * (127 / range)) in
//    [-127, 127]) or, for per-channel convolutions and FULLY_CONNECTED with
//    asymmetric_quantize_inputs, with AsymmetricQuantizeFloats (range
//    extended to contain 0, scale and zero point chosen in double, q in
//    [-128, 127]);
//  - the dot products are exact int32 sums of w * (q - zero_point) over the
//    taps inside the image (TFLite's im2col pads with the zero point, which
//    contributes nothing);
//  - out = float(acc) * scale + bias, with scale = input_scale * weight_scale
//    multiplied in float in TFLite's order, then the fused activation clamp.
// A convolution is "per channel" (asymmetric inputs) only when its weight
// scales differ, as TFLite's conv.cc decides (is_hybrid_per_channel); equal
// per-channel scales take the symmetric per-tensor path.
#pragma once

#include <cstdint>
#include <vector>

#include "kernels/reference/geometry.h"
#include "kernels/reference/requantize.h"

namespace qlite::ref {

// The per-row quantization parameters both quantizers below derive from the
// row's min and max (shared with the optimized kernels, which find min / max
// and quantize with SIMD but must choose exactly these numbers):
//   q = clamp(round(zero_point + clamp(x * inv, +-1e6)), qmin, qmax).
struct HybridRowParams {
  bool zero = false;  // empty range: q = 0, scaling 1, zero point 0
  // Asymmetric only: an infinite end made TFLite's zero point NaN; the
  // finite candidate was taken instead (see hybrid_quantize_asymmetric).
  bool infinite_range = false;
  float scaling = 1.0f, inv = 0.0f;
  int32_t zero_point = 0;
};
HybridRowParams hybrid_symmetric_params(float min, float max);
HybridRowParams hybrid_asymmetric_params(float min, float max);

// tensor_utils::SymmetricQuantizeFloats. An all-zero input gives q = 0, scale 1.
void hybrid_quantize_symmetric(const float* x, int64_t n, int8_t* q, float* scaling_factor);
// tensor_utils::AsymmetricQuantizeFloats. A range of zero gives q = 0, scale 1, offset 0.
void hybrid_quantize_asymmetric(const float* x, int64_t n, int8_t* q, float* scaling_factor,
                                int32_t* offset);

// Caller-provided work space, so that the kernels allocate nothing.
struct HybridScratch {
  int8_t* quantized = nullptr;  // batch * row elements
  float* scaling = nullptr;     // batch
  int32_t* offsets = nullptr;   // batch (asymmetric modes only)
};

struct HybridFcParams {
  int batch = 1, in_features = 0, out_features = 0;
  float weight_scale = 1.0f;  // per tensor (TFLite 2.9 hybrid FC reads only params.scale)
  bool asymmetric_inputs = false;
  Activation act = Activation::kLinear;
};
// input [batch, in]; weights [out, in]; bias [out] or nullptr; output [batch, out].
void fully_connected_hybrid(const HybridFcParams& p, const float* input, const int8_t* weights,
                            const float* bias, const HybridScratch& scratch, float* output);

struct HybridConvParams {
  WindowGeometry g;
  std::vector<float> weight_scales;  // 1 or out_c
  bool per_channel = false;          // set by make_hybrid_conv_params
  Activation act = Activation::kLinear;
};
HybridConvParams make_hybrid_conv_params(const WindowGeometry& g, std::vector<float> weight_scales,
                                         Activation act);
// input NHWC float; weights OHWI int8; bias [out_c] or nullptr; output NHWC float.
// scratch.quantized holds batch * in_h * in_w * in_c elements.
void conv2d_hybrid(const HybridConvParams& p, const float* input, const int8_t* weights,
                   const float* bias, const HybridScratch& scratch, float* output);

}  // namespace qlite::ref
