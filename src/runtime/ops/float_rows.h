// The float32 windowed ops' (CONV_2D, DEPTHWISE_CONV_2D) shared band walk:
// bands of output rows split over the pool, each band's input rows copied
// with the op's zero padding into the worker's scratch when it pads.
#pragma once

#include <cstring>

#include "kernels/float_kernels.h"
#include "runtime/ops/op_util.h"

namespace qlite::runtime::detail {

// The float kernels' activation for a fused one they take (not RELU_N1_TO_1).
inline kernels::FloatAct float_act(Activation a) {
  return a == Activation::kRelu    ? kernels::FloatAct::kRelu
         : a == Activation::kRelu6 ? kernels::FloatAct::kRelu6
                                   : kernels::FloatAct::kLinear;
}

// How an op's bands read their input: pad (copy the rows with their zero
// padding) when the windows reach outside the image, wp columns per row
// (>= pad_left + in_w when padding), and the scratch bytes per worker, which
// this requests for the node.
struct FloatBands {
  bool pad = false;
  int wp = 0;
  size_t stride = 64;
};
inline FloatBands plan_float_bands(PrepareContext& ctx, Node& n, const ref::WindowGeometry& g) {
  const int hp = (g.out_h - 1) * g.stride_h + (g.kernel_h - 1) * g.dilation_h + 1;
  const int wp = (g.out_w - 1) * g.stride_w + (g.kernel_w - 1) * g.dilation_w + 1;
  FloatBands b;
  b.pad = g.pad_top > 0 || g.pad_left > 0 || hp > g.in_h || wp > g.in_w;
  b.wp = b.pad ? g.pad_left + std::max(wp - g.pad_left, g.in_w) : g.in_w;
  if (b.pad) b.stride = scratch_stride(sizeof(float) * static_cast<size_t>(hp) * b.wp * g.in_c);
  ctx.request_scratch(n, b.stride * static_cast<size_t>(ctx.workers()));
  return b;
}

// The input rows that output rows [y0, y1) of one NHWC image read, from
// padded row y0 * stride_h on: a pointer into the image when the op does not
// pad, else a copy in buf of `wp` columns per row (wp >= pad_left + in_w),
// zeros outside the image.
inline const float* padded_rows_f32(const ref::WindowGeometry& g, bool pad, int wp, const float* image, int y0,
                                    int y1, float* buf) {
  const int64_t c = g.in_c;
  if (!pad) return image + int64_t{y0} * g.stride_h * g.in_w * c;
  const int rows = (y1 - 1 - y0) * g.stride_h + (g.kernel_h - 1) * g.dilation_h + 1;
  const int64_t left = int64_t{g.pad_left} * c, width = int64_t{wp} * c, body = int64_t{g.in_w} * c;
  for (int r = 0; r < rows; ++r) {
    float* dst = buf + r * width;
    const int iy = y0 * g.stride_h + r - g.pad_top;
    if (iy < 0 || iy >= g.in_h) {
      std::memset(dst, 0, sizeof(float) * static_cast<size_t>(width));
      continue;
    }
    std::memset(dst, 0, sizeof(float) * static_cast<size_t>(left));
    std::memcpy(dst + left, image + iy * body, sizeof(float) * static_cast<size_t>(body));
    std::memset(dst + left + body, 0, sizeof(float) * static_cast<size_t>(width - left - body));
  }
  return buf;
}

// fn(image_in, image_out, y0, y1, buf) for every band of output rows of the
// batch, split over the pool; buf is the worker's slice (stride bytes) of
// the node's scratch 0.
template <class F>
void for_float_bands(const EvalContext& c, const Node& n, const ref::WindowGeometry& g, size_t stride,
                     const float* in, float* out, F&& fn) {
  const int64_t in_img = int64_t{g.in_h} * g.in_w * g.in_c, out_img = int64_t{g.out_h} * g.out_w * g.out_c;
  std::byte* scratch = c.scratch_of(n, 0);
  split_work(c, c.scaled(g.batch) * g.out_h, c.scaled(n.work), [&](int64_t u0, int64_t u1, int chunk) {
    auto* buf = reinterpret_cast<float*>(scratch + static_cast<size_t>(chunk) * stride);
    for_image_rows(u0, u1, g.out_h, [&](int64_t img, int y0, int y1) {
      fn(in + img * in_img, out + img * out_img, y0, y1, buf);
    });
  });
}

}  // namespace qlite::runtime::detail
