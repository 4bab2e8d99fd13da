// Reference RESIZE_BILINEAR and RESIZE_NEAREST_NEIGHBOR: THE spec of the two
// resize ops, written after TensorFlow Lite 2.9's arithmetic as its x86 build
// runs it (tensorflow/lite/kernels/resize_*.cc with the builtin, "generic
// optimized" kernels):
//  - float32 bilinear: optimized_ops' order of operations (a 2x upsample
//    without align_corners / half_pixel_centers averages neighbours; other
//    sizes accumulate the four weighted corners into a zeroed output);
//  - uint8 bilinear: the float weights of ResizeBilinearGenericSmallChannel,
//    plus 0.5, truncated;
//  - int8 / int16 bilinear: ResizeBilinearInteger's 10-bit fixed point;
//  - nearest neighbour: GetNearestNeighbor's float scale, for every type.
// Tensors are NHWC; the kernels move or weigh raw values, so a quantized
// input and output share scale and zero point (checked by the runtime op).
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>

namespace qlite::ref {

struct ResizeGeometry {
  int64_t batch = 0;
  int32_t in_h = 0, in_w = 0, out_h = 0, out_w = 0;
  int64_t depth = 0;
  bool align_corners = false;
  bool half_pixel_centers = false;
};

// int8 / int16 bilinear's 10-bit fixed-point scale of one axis, as
// ResizeBilinearInteger computes it.
inline int32_t integer_axis_scale(int32_t in, int32_t out, bool align_corners) {
  if (align_corners && out > 1) return ((1 << 10) * (in - 1) + (out - 1) / 2) / (out - 1);
  return ((1 << 10) * in + out / 2) / out;
}

// reference_ops::ComputeInterpolationValuesInteger: the 10-bit source
// coordinate of output index `value` and its two neighbours. TFLite clamps
// only `upper` to the input; its rounded scale can put `lower` past the last
// row on large upsamplings (1 -> 1100 rows: scale 1, so output row 1024 has
// lower 1), where TFLite 2.9 reads outside its input. qlite clamps `lower`
// too: such a pixel then reads the last row only (both neighbours), and
// every pixel TFLite computes inside its input is unchanged.
inline void interpolation_values_int(int32_t value, int32_t scale_10, bool half_pixel_centers, int32_t input_size,
                                     int32_t* scaled, int32_t* lower, int32_t* upper) {
  if (half_pixel_centers) *scaled = value * scale_10 + scale_10 / 2 - (1 << 9);
  else *scaled = value * scale_10;
  *lower = std::min(std::max(*scaled / (1 << 10), int32_t{0}), input_size - 1);
  *upper = std::min((*scaled + (1 << 10) - 1) / (1 << 10), input_size - 1);
}

// The element offset of input pixel (b, y, x) in an NHWC tensor of g.
inline int64_t input_offset(const ResizeGeometry& g, int64_t b, int64_t y, int64_t x) {
  return ((b * g.in_h + y) * g.in_w + x) * g.depth;
}

// TFLite's ComputeInterpolationValues: the source coordinate of output index
// `value` and its two neighbours, clamped to the input.
inline void interpolation_values(float value, float scale, bool half_pixel_centers, int32_t input_size, float* scaled,
                                 int32_t* lower, int32_t* upper) {
  if (half_pixel_centers) *scaled = (value + 0.5f) * scale - 0.5f;
  else *scaled = value * scale;
  const float fl = std::floor(*scaled);
  *lower = std::max(static_cast<int32_t>(fl), int32_t{0});
  *upper = std::min(static_cast<int32_t>(std::ceil(*scaled)), input_size - 1);
}

// The float scale of one axis, as TFLite computes it.
inline float axis_scale(int32_t in, int32_t out, bool align_corners) {
  if (align_corners && out > 1) return static_cast<float>(in - 1) / static_cast<float>(out - 1);
  return static_cast<float>(in) / static_cast<float>(out);
}

// The walk of the float-weight bilinear kernels (float32 other than the
// exact 2x, and uint8), shared by the reference and the SIMD kernels: for
// every output pixel in order, f(p, w, o) with p the input offsets (in
// elements) of the corners (y0, x0), (y0, x1), (y1, x0), (y1, x1), w their
// weights and o the pixel's output offset.
template <class F>
void for_each_bilinear_pixel(const ResizeGeometry& g, F&& f) {
  const float hs = axis_scale(g.in_h, g.out_h, g.align_corners), ws = axis_scale(g.in_w, g.out_w, g.align_corners);
  int64_t o = 0;
  for (int64_t b = 0; b < g.batch; ++b) {
    for (int32_t y = 0; y < g.out_h; ++y) {
      float iy;
      int32_t y0, y1;
      interpolation_values(static_cast<float>(y), hs, g.half_pixel_centers, g.in_h, &iy, &y0, &y1);
      for (int32_t x = 0; x < g.out_w; ++x) {
        float ix;
        int32_t x0, x1;
        interpolation_values(static_cast<float>(x), ws, g.half_pixel_centers, g.in_w, &ix, &x0, &x1);
        const int64_t p[4] = {input_offset(g, b, y0, x0), input_offset(g, b, y0, x1), input_offset(g, b, y1, x0),
                              input_offset(g, b, y1, x1)};
        const float dy = iy - static_cast<float>(y0), dx = ix - static_cast<float>(x0);
        const float w[4] = {(1 - dy) * (1 - dx), (1 - dy) * dx, dy * (1 - dx), dy * dx};
        f(p, w, o);
        o += g.depth;
      }
    }
  }
}

// One channel of a float-weight bilinear pixel (corners p as above, already
// offset): float32 as ResizeBilinearGeneric accumulates into a zeroed output
// (0 + p0 w0 + p1 w1 + p2 w2 + p3 w3, left to right: the leading zero turns
// a -0 first product into +0), uint8 as ResizeBilinearGenericSmallChannel
// (one expression left to right, + 0.5, truncated).
inline float bilinear_f32_element(const float* const (&p)[4], const float (&w)[4], int64_t c) {
  float v = 0.0f;
  for (int k = 0; k < 4; ++k) v += p[k][c] * w[k];
  return v;
}
inline uint8_t bilinear_u8_element(const uint8_t* const (&p)[4], const float (&w)[4], int64_t c) {
  const float v = static_cast<float>(p[0][c]) * w[0] + static_cast<float>(p[1][c]) * w[1] +
                  static_cast<float>(p[2][c]) * w[2] + static_cast<float>(p[3][c]) * w[3] + 0.5f;
  return static_cast<uint8_t>(v);
}

// The exact 2x float32 upsample without align_corners / half_pixel_centers
// (optimized_ops::ResizeBilinear2x2): input pixel (y0, x0) gives outputs
// (2y0, 2x0) .. (2y0 + 1, 2x0 + 1). The walk calls f(p, o) with p the input
// offsets of (y0, x0), (y0, x1), (y1, x0), (y1, x1) (x1, y1 clamped) and o
// the output offset of (2y0, 2x0); the other three outputs are depth and
// out_w * depth elements on.
inline bool is_exact_2x(const ResizeGeometry& g) {
  return !g.align_corners && !g.half_pixel_centers && int64_t{g.out_h} == 2 * int64_t{g.in_h} &&
         int64_t{g.out_w} == 2 * int64_t{g.in_w};
}
template <class F>
void for_each_bilinear_2x2(const ResizeGeometry& g, F&& f) {
  for (int64_t b = 0; b < g.batch; ++b)
    for (int32_t y0 = 0; y0 < g.in_h; ++y0)
      for (int32_t x0 = 0; x0 < g.in_w; ++x0) {
        const int32_t x1 = std::min(x0 + 1, g.in_w - 1), y1 = std::min(y0 + 1, g.in_h - 1);
        const int64_t p[4] = {input_offset(g, b, y0, x0), input_offset(g, b, y0, x1), input_offset(g, b, y1, x0),
                              input_offset(g, b, y1, x1)};
        f(p, ((b * g.out_h + 2 * int64_t{y0}) * g.out_w + 2 * int64_t{x0}) * g.depth);
      }
}
// The four outputs of one channel: (2y0, 2x0) is the input, the others the
// means of neighbours as the 2x2 kernel forms them.
inline void bilinear_2x2_element(const float* const (&p)[4], int64_t c, float* o, int64_t depth, int64_t out_row) {
  const float x0y0 = p[0][c], x1y0 = p[1][c], x0y1 = p[2][c], x1y1 = p[3][c];
  o[c] = x0y0;
  o[depth + c] = (x0y0 + x1y0) / 2;
  const float bl = (x0y0 + x0y1) / 2;
  o[out_row + c] = bl;
  o[out_row + depth + c] = (bl + ((x1y0 + x1y1) / 2)) / 2;
}

void resize_bilinear_f32(const ResizeGeometry& g, const float* in, float* out);
void resize_bilinear_u8(const ResizeGeometry& g, const uint8_t* in, uint8_t* out);
void resize_bilinear_s8(const ResizeGeometry& g, const int8_t* in, int8_t* out);
void resize_bilinear_s16(const ResizeGeometry& g, const int16_t* in, int16_t* out);

// Any element size: copies whole elements.
void resize_nearest(const ResizeGeometry& g, size_t elem_size, const std::byte* in, std::byte* out);

}  // namespace qlite::ref
