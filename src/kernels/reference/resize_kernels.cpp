#include "kernels/reference/resize_kernels.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <vector>

namespace qlite::ref {
namespace {

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
        const T* p00 = in + input_offset(g, b, y0, x0);
        const T* p10 = in + input_offset(g, b, y1, x0);
        const T* p01 = in + input_offset(g, b, y0, x1);
        const T* p11 = in + input_offset(g, b, y1, x1);
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
  if (is_exact_2x(g)) {
    const int64_t out_row = int64_t{g.out_w} * g.depth;
    for_each_bilinear_2x2(g, [&](const int64_t (&p)[4], int64_t o) {
      const float* const q[4] = {in + p[0], in + p[1], in + p[2], in + p[3]};
      for (int64_t c = 0; c < g.depth; ++c) bilinear_2x2_element(q, c, out + o, g.depth, out_row);
    });
    return;
  }
  for_each_bilinear_pixel(g, [&](const int64_t (&p)[4], const float (&w)[4], int64_t o) {
    const float* const q[4] = {in + p[0], in + p[1], in + p[2], in + p[3]};
    for (int64_t c = 0; c < g.depth; ++c) out[o + c] = bilinear_f32_element(q, w, c);
  });
}

void resize_bilinear_u8(const ResizeGeometry& g, const uint8_t* in, uint8_t* out) {
  for_each_bilinear_pixel(g, [&](const int64_t (&p)[4], const float (&w)[4], int64_t o) {
    const uint8_t* const q[4] = {in + p[0], in + p[1], in + p[2], in + p[3]};
    for (int64_t c = 0; c < g.depth; ++c) out[o + c] = bilinear_u8_element(q, w, c);
  });
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
        std::memcpy(o, in + static_cast<size_t>(input_offset(g, b, iy, xs[static_cast<size_t>(x)])) * elem_size, pixel);
        o += pixel;
      }
    }
  }
}

}  // namespace qlite::ref
