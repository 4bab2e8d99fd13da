// RESIZE_BILINEAR vectorized over channels, bit-exact with the reference
// kernels (kernels/reference/resize_kernels.{h,cpp} are the spec). Included
// by the per-ISA translation units, after they define a traits type V whose
// functions compute the channels of one output pixel (or 2x2 block) for
// which they have full vectors and return how many they did; the rest take
// the reference's own per-channel expressions.
//  - int8: TFLite 2.9's ResizeBilinearInteger, 10 fractional bits:
//      static int64_t pixel(const int8_t* const (&p)[4], const int32_t (&w)[4], int64_t depth, int8_t* out)
//    (the rest go through exact()).
//  - float32 and uint8, float weights: the same float operations per
//    element in the same order as ref::bilinear_f32_element /
//    bilinear_u8_element / bilinear_2x2_element, so the including file must
//    be built with -ffp-contract=off (no multiply and add fused):
//      static int64_t pixel_f32(const float* const (&p)[4], const float (&w)[4], int64_t depth, float* out)
//      static int64_t pixel_u8(const uint8_t* const (&p)[4], const float (&w)[4], int64_t depth, uint8_t* out)
//      static int64_t quad_f32(const float* const (&p)[4], int64_t depth, float* o, int64_t out_row)
//
// Exactness in int32: the reference sums four int64 products
// p * w, w = (1024 - fy or fy) * (1024 - fx or fx), then rounds half away
// from zero at 2^20. With fy, fx in [-512, 1536] each |1024 - f| + |f| <= 2048,
// so |sum| <= 128 * 2048 * 2048 = 2^29 and every partial sum fits int32
// exactly. Coordinates give f in [-512, 1023] (the scaled coordinate is
// >= -512, and f is its remainder by 1024 when >= 0) except where the lower
// neighbour is clamped to the last row or column (ref::interpolation_values_int,
// large upsamplings): those pixels, and any other outside the bound, take
// exact() (the reference's int64 form).
#pragma once

#include <algorithm>
#include <cstdint>

#include "kernels/reference/resize_kernels.h"

namespace qlite::kernels::resize_detail {

using qlite::ref::integer_axis_scale;
using qlite::ref::interpolation_values_int;

inline int8_t exact(const int8_t* const (&p)[4], int64_t fy, int64_t fx, int64_t c) {
  const int64_t v = int64_t{p[0][c]} * ((1 << 10) - fy) * ((1 << 10) - fx) + int64_t{p[1][c]} * fy * ((1 << 10) - fx) +
                    int64_t{p[2][c]} * ((1 << 10) - fy) * fx + int64_t{p[3][c]} * fy * fx;
  const int64_t round = v > 0 ? (1 << 19) : -(1 << 19);
  return static_cast<int8_t>((v + round) / (1 << 20));
}

inline bool bounded(int64_t f) { return f >= -512 && f <= 1536; }

template <class V>
void resize_bilinear_s8(const qlite::ref::ResizeGeometry& g, const int8_t* in, int8_t* out) {
  const int32_t hs = integer_axis_scale(g.in_h, g.out_h, g.align_corners);
  const int32_t ws = integer_axis_scale(g.in_w, g.out_w, g.align_corners);
  int8_t* o = out;
  for (int64_t b = 0; b < g.batch; ++b) {
    for (int32_t y = 0; y < g.out_h; ++y) {
      int32_t iy, y0, y1;
      interpolation_values_int(y, hs, g.half_pixel_centers, g.in_h, &iy, &y0, &y1);
      const int64_t fy = iy - (1 << 10) * int64_t{y0};
      for (int32_t x = 0; x < g.out_w; ++x) {
        int32_t ix, x0, x1;
        interpolation_values_int(x, ws, g.half_pixel_centers, g.in_w, &ix, &x0, &x1);
        const int64_t fx = ix - (1 << 10) * int64_t{x0};
        using qlite::ref::input_offset;
        const int8_t* const p[4] = {in + input_offset(g, b, y0, x0), in + input_offset(g, b, y1, x0),
                                    in + input_offset(g, b, y0, x1), in + input_offset(g, b, y1, x1)};
        int64_t done = 0;
        if (bounded(fy) && bounded(fx)) {
          const auto wy0 = static_cast<int32_t>((1 << 10) - fy), wy1 = static_cast<int32_t>(fy);
          const auto wx0 = static_cast<int32_t>((1 << 10) - fx), wx1 = static_cast<int32_t>(fx);
          const int32_t w[4] = {wy0 * wx0, wy1 * wx0, wy0 * wx1, wy1 * wx1};
          done = V::pixel(p, w, g.depth, o);
        }
        for (int64_t c = done; c < g.depth; ++c) o[c] = exact(p, fy, fx, c);
        o += g.depth;
      }
    }
  }
}

template <class V>
void resize_bilinear_f32(const qlite::ref::ResizeGeometry& g, const float* in, float* out) {
  if (qlite::ref::is_exact_2x(g)) {
    const int64_t out_row = int64_t{g.out_w} * g.depth;
    qlite::ref::for_each_bilinear_2x2(g, [&](const int64_t (&p)[4], int64_t o) {
      const float* const q[4] = {in + p[0], in + p[1], in + p[2], in + p[3]};
      for (int64_t c = V::quad_f32(q, g.depth, out + o, out_row); c < g.depth; ++c)
        qlite::ref::bilinear_2x2_element(q, c, out + o, g.depth, out_row);
    });
    return;
  }
  qlite::ref::for_each_bilinear_pixel(g, [&](const int64_t (&p)[4], const float (&w)[4], int64_t o) {
    const float* const q[4] = {in + p[0], in + p[1], in + p[2], in + p[3]};
    for (int64_t c = V::pixel_f32(q, w, g.depth, out + o); c < g.depth; ++c)
      out[o + c] = qlite::ref::bilinear_f32_element(q, w, c);
  });
}

template <class V>
void resize_bilinear_u8(const qlite::ref::ResizeGeometry& g, const uint8_t* in, uint8_t* out) {
  qlite::ref::for_each_bilinear_pixel(g, [&](const int64_t (&p)[4], const float (&w)[4], int64_t o) {
    const uint8_t* const q[4] = {in + p[0], in + p[1], in + p[2], in + p[3]};
    for (int64_t c = V::pixel_u8(q, w, g.depth, out + o); c < g.depth; ++c)
      out[o + c] = qlite::ref::bilinear_u8_element(q, w, c);
  });
}

}  // namespace qlite::kernels::resize_detail
