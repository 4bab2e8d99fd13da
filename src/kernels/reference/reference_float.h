// Reference float32 kernels with the same layouts and geometry as the int8
// ones (NHWC activations, OHWI conv weights, 1HWC depthwise weights,
// [out, in] fully-connected weights). Used by the float runtime, by the
// converter, and as the independent oracle of the int8 kernels' tests.
// Accumulation is in double so that the result does not depend on loop order.
#pragma once

#include <cstdint>

#include "kernels/reference/geometry.h"
#include "kernels/reference/requantize.h"

namespace qlite::ref {

void conv2d_f32(const WindowGeometry& g, const float* input, const float* weights, const float* bias,
                Activation act, float* output);
void depthwise_conv2d_f32(const WindowGeometry& g, int depth_multiplier, const float* input, const float* weights,
                          const float* bias, Activation act, float* output);
void fully_connected_f32(int batch, int in_features, int out_features, const float* input, const float* weights,
                         const float* bias, Activation act, float* output);
void max_pool2d_f32(const WindowGeometry& g, Activation act, const float* input, float* output);
// Averages only the taps inside the input (TFLite's count_include_pad = false).
void average_pool2d_f32(const WindowGeometry& g, Activation act, const float* input, float* output);
void add_f32(int64_t n, const float* a, const float* b, Activation act, float* output);
// add_f32 with its clamp given as bounds: v = a + b (float), then
// v < lo ? lo : v and v > hi ? hi : v (NaN passes through).
void add_f32_range(int64_t n, const float* a, const float* b, float lo, float hi, float* output);
// Mean over H and W: [batch, h, w, c] -> [batch, c].
void mean_hw_f32(int batch, int h, int w, int c, const float* input, float* output);
// Softmax over the last dimension of [outer, depth], exp(beta * (x - max)).
void softmax_f32(int64_t outer, int depth, float beta, const float* input, float* output);

}  // namespace qlite::ref
