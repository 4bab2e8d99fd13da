#include "kernels/reference/resize_kernels.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <vector>

namespace qlite::ref {
namespace {

// TFLite's ComputeInterpolationValues: the source coordinate of output index
// `value` and its two neighbours, clamped to the input.
void interpolation_values(float value, float scale, bool half_pixel_centers, int32_t input_size, float* scaled,
                          int32_t* lower, int32_t* upper) {
  if (half_pixel_centers) *scaled = (value + 0.5f) * scale - 0.5f;
  else *scaled = value * scale;
  const float fl = std::floor(*scaled);
  *lower = std::max(static_cast<int32_t>(fl), int32_t{0});
  *upper = std::min(static_cast<int32_t>(std::ceil(*scaled)), input_size - 1);
}

// The float scale of one axis, as TFLite computes it.
float axis_scale(int32_t in, int32_t out, bool align_corners) {
  if (align_corners && out > 1) return static_cast<float>(in - 1) / static_cast<float>(out - 1);
  return static_cast<float>(in) / static_cast<float>(out);
}

int64_t offset(const ResizeGeometry& g, int64_t b, int64_t y, int64_t x) {
  return ((b * g.in_h + y) * g.in_w + x) * g.depth;
}

// optimized_ops::ResizeBilinear2x2 (scalar form): output (2y, 2x) .. (2y+1, 2x+1)
// from inputs (y0, x0), (y0, x1), (y1, x0), (y1, x1).
void bilinear_2x2_f32(const ResizeGeometry& g, const float* in, float* out) {
  const int64_t out_row = int64_t{g.out_w} * g.depth;
  for (int64_t b = 0; b < g.batch; ++b) {
    for (int32_t y0 = 0, y = 0; y <= g.out_h - 2; y += 2, ++y0) {
      for (int32_t x0 = 0, x = 0; x <= g.out_w - 2; x += 2, ++x0) {
        const int32_t x1 = std::min(x0 + 1, g.in_w - 1), y1 = std::min(y0 + 1, g.in_h - 1);
        float* o = out + ((b * g.out_h + y) * g.out_w + x) * g.depth;
        for (int64_t c = 0; c < g.depth; ++c) {
          const float x0y0 = in[offset(g, b, y0, x0) + c], x1y0 = in[offset(g, b, y0, x1) + c];
          const float x0y1 = in[offset(g, b, y1, x0) + c], x1y1 = in[offset(g, b, y1, x1) + c];
          o[c] = x0y0;
          o[g.depth + c] = (x0y0 + x1y0) / 2;
          const float bl = (x0y0 + x0y1) / 2;
          o[out_row + c] = bl;
          o[out_row + g.depth + c] = (bl + ((x1y0 + x1y1) / 2)) / 2;
        }
      }
    }
  }
}

// optimized_ops::ResizeBilinearGeneric: the output zeroed, then each corner's
// weighted input added in the order (y0, x0), (y0, x1), (y1, x0), (y1, x1).
void bilinear_generic_f32(const ResizeGeometry& g, const float* in, float* out) {
  const float hs = axis_scale(g.in_h, g.out_h, g.align_corners), ws = axis_scale(g.in_w, g.out_w, g.align_corners);
  float* o = out;
  for (int64_t b = 0; b < g.batch; ++b) {
    for (int32_t y = 0; y < g.out_h; ++y) {
      float iy;
      int32_t y0, y1;
      interpolation_values(static_cast<float>(y), hs, g.half_pixel_centers, g.in_h, &iy, &y0, &y1);
      for (int32_t x = 0; x < g.out_w; ++x) {
        float ix;
        int32_t x0, x1;
        interpolation_values(static_cast<float>(x), ws, g.half_pixel_centers, g.in_w, &ix, &x0, &x1);
        const int64_t offs[4] = {offset(g, b, y0, x0), offset(g, b, y0, x1), offset(g, b, y1, x0),
                                 offset(g, b, y1, x1)};
        const float dy = iy - static_cast<float>(y0), dx = ix - static_cast<float>(x0);
        const float w[4] = {(1 - dy) * (1 - dx), (1 - dy) * dx, dy * (1 - dx), dy * dx};
        for (int64_t c = 0; c < g.depth; ++c) o[c] = 0.0f;
        for (int k = 0; k < 4; ++k) {
          const float* src = in + offs[k];
          for (int64_t c = 0; c < g.depth; ++c) o[c] += src[c] * w[k];
        }
        o += g.depth;
      }
    }
  }
}

template <class T>
void bilinear_integer(const ResizeGeometry& g, const T* in, T* out) {
  const int32_t hs = integer_axis_scale(g.in_h, g.out_h, g.align_corners);
  const int32_t ws = integer_axis_scale(g.in_w, g.out_w, g.align_corners);
  T* o = out;
  for (int64_t b = 0; b < g.batch; ++b) {
    for (int32_t y = 0; y < g.out_h; ++y) {
      int32_t iy, y0, y1;
      interpolation_values_int(y, hs, g.half_pixel_centers, g.in_h, &iy, &y0, &y1);
      for (int32_t x = 0; x < g.out_w; ++x) {
        int32_t ix, x0, x1;
        interpolation_values_int(x, ws, g.half_pixel_centers, g.in_w, &ix, &x0, &x1);
        const int64_t fy = iy - (1 << 10) * y0, fx = ix - (1 << 10) * x0;
        const T* p00 = in + offset(g, b, y0, x0);
        const T* p10 = in + offset(g, b, y1, x0);
        const T* p01 = in + offset(g, b, y0, x1);
        const T* p11 = in + offset(g, b, y1, x1);
        for (int64_t c = 0; c < g.depth; ++c) {
          const int64_t v = int64_t{p00[c]} * ((1 << 10) - fy) * ((1 << 10) - fx) +
                            int64_t{p10[c]} * fy * ((1 << 10) - fx) + int64_t{p01[c]} * ((1 << 10) - fy) * fx +
                            int64_t{p11[c]} * fy * fx;
          const int64_t round = v > 0 ? (1 << 19) : -(1 << 19);
          o[c] = static_cast<T>((v + round) / (1 << 20));
        }
        o += g.depth;
      }
    }
  }
}

// TFLite's GetNearestNeighbor.
int32_t nearest(int32_t value, int32_t in_size, int32_t out_size, bool align_corners, bool half_pixel_centers) {
  const float scale = (align_corners && out_size > 1) ? static_cast<float>(in_size - 1) / static_cast<float>(out_size - 1)
                                                      : static_cast<float>(in_size) / static_cast<float>(out_size);
  const float off = half_pixel_centers ? 0.5f : 0.0f;
  const float pos = (static_cast<float>(value) + off) * scale;
  int32_t v = std::min(align_corners ? static_cast<int32_t>(std::round(pos)) : static_cast<int32_t>(std::floor(pos)),
                       in_size - 1);
  if (half_pixel_centers) v = std::max(int32_t{0}, v);
  return v;
}

}  // namespace

void resize_bilinear_f32(const ResizeGeometry& g, const float* in, float* out) {
  if (!g.align_corners && !g.half_pixel_centers && int64_t{g.out_h} == 2 * int64_t{g.in_h} &&
      int64_t{g.out_w} == 2 * int64_t{g.in_w})
    bilinear_2x2_f32(g, in, out);
  else
    bilinear_generic_f32(g, in, out);
}

void resize_bilinear_u8(const ResizeGeometry& g, const uint8_t* in, uint8_t* out) {
  const float hs = axis_scale(g.in_h, g.out_h, g.align_corners), ws = axis_scale(g.in_w, g.out_w, g.align_corners);
  uint8_t* o = out;
  for (int64_t b = 0; b < g.batch; ++b) {
    for (int32_t y = 0; y < g.out_h; ++y) {
      float iy;
      int32_t y0, y1;
      interpolation_values(static_cast<float>(y), hs, g.half_pixel_centers, g.in_h, &iy, &y0, &y1);
      for (int32_t x = 0; x < g.out_w; ++x) {
        float ix;
        int32_t x0, x1;
        interpolation_values(static_cast<float>(x), ws, g.half_pixel_centers, g.in_w, &ix, &x0, &x1);
        const uint8_t* p[4] = {in + offset(g, b, y0, x0), in + offset(g, b, y0, x1), in + offset(g, b, y1, x0),
                               in + offset(g, b, y1, x1)};
        const float dy = iy - static_cast<float>(y0), dx = ix - static_cast<float>(x0);
        const float w[4] = {(1 - dy) * (1 - dx), (1 - dy) * dx, dy * (1 - dx), dy * dx};
        for (int64_t c = 0; c < g.depth; ++c) {
          // One float expression, evaluated left to right as TFLite's.
          const float v = static_cast<float>(p[0][c]) * w[0] + static_cast<float>(p[1][c]) * w[1] +
                          static_cast<float>(p[2][c]) * w[2] + static_cast<float>(p[3][c]) * w[3] + 0.5f;
          o[c] = static_cast<uint8_t>(v);
        }
        o += g.depth;
      }
    }
  }
}

void resize_bilinear_s8(const ResizeGeometry& g, const int8_t* in, int8_t* out) { bilinear_integer(g, in, out); }
void resize_bilinear_s16(const ResizeGeometry& g, const int16_t* in, int16_t* out) { bilinear_integer(g, in, out); }

void resize_nearest(const ResizeGeometry& g, size_t elem_size, const std::byte* in, std::byte* out) {
  std::vector<int32_t> xs(static_cast<size_t>(g.out_w));
  for (int32_t x = 0; x < g.out_w; ++x)
    xs[static_cast<size_t>(x)] = nearest(x, g.in_w, g.out_w, g.align_corners, g.half_pixel_centers);
  const size_t pixel = static_cast<size_t>(g.depth) * elem_size;
  std::byte* o = out;
  for (int64_t b = 0; b < g.batch; ++b) {
    for (int32_t y = 0; y < g.out_h; ++y) {
      const int32_t iy = nearest(y, g.in_h, g.out_h, g.align_corners, g.half_pixel_centers);
      for (int32_t x = 0; x < g.out_w; ++x) {
        std::memcpy(o, in + static_cast<size_t>(offset(g, b, iy, xs[static_cast<size_t>(x)])) * elem_size, pixel);
        o += pixel;
      }
    }
  }
}

}  // namespace qlite::ref
