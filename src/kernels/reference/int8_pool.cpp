// Reference int8 max / average pooling and spatial mean.
#include <algorithm>
#include <string>

#include "kernels/reference/int8_detail.h"
#include "kernels/reference/int8_kernels.h"

namespace qlite::ref {
namespace {

void check_pool(const PoolInt8Params& p, const int8_t* input, const int8_t* output, const char* op) {
  validate_geometry(p.g, op);
  QLITE_CHECK(p.g.in_c == p.g.out_c, std::string(op) + ": output channels must equal input channels");
  QLITE_CHECK(p.g.dilation_h == 1 && p.g.dilation_w == 1, std::string(op) + ": pooling has no dilation");
  detail::check_act(p.act, op);
  QLITE_CHECK(input && output, std::string(op) + ": null tensor");
}

// Calls fn(value) for every tap of the window that lies inside the input.
template <class Fn>
int for_window(const WindowGeometry& g, const int8_t* input, int b, int oy, int ox, int c, Fn fn) {
  int count = 0;
  for (int ky = 0; ky < g.kernel_h; ++ky) {
    const int iy = oy * g.stride_h - g.pad_top + ky;
    if (iy < 0 || iy >= g.in_h) continue;
    for (int kx = 0; kx < g.kernel_w; ++kx) {
      const int ix = ox * g.stride_w - g.pad_left + kx;
      if (ix < 0 || ix >= g.in_w) continue;
      fn(int32_t{input[((int64_t{b} * g.in_h + iy) * g.in_w + ix) * g.in_c + c]});
      ++count;
    }
  }
  return count;
}

}  // namespace

void max_pool2d_int8(const PoolInt8Params& p, const int8_t* input, int8_t* output) {
  check_pool(p, input, output, "max_pool2d_int8");
  const WindowGeometry& g = p.g;
  for (int b = 0; b < g.batch; ++b)
    for (int oy = 0; oy < g.out_h; ++oy)
      for (int ox = 0; ox < g.out_w; ++ox)
        for (int c = 0; c < g.out_c; ++c) {
          int32_t m = -128;
          const int count = for_window(g, input, b, oy, ox, c, [&](int32_t v) { m = std::max(m, v); });
          QLITE_CHECK(count > 0, "max_pool2d_int8: window at (" + std::to_string(oy) + ", " + std::to_string(ox) +
                                     ") lies entirely in the padding");
          m = std::clamp(m, p.act.min, p.act.max);
          output[((int64_t{b} * g.out_h + oy) * g.out_w + ox) * g.out_c + c] = static_cast<int8_t>(m);
        }
}

void average_pool2d_int8(const PoolInt8Params& p, const int8_t* input, int8_t* output) {
  check_pool(p, input, output, "average_pool2d_int8");
  const WindowGeometry& g = p.g;
  for (int b = 0; b < g.batch; ++b)
    for (int oy = 0; oy < g.out_h; ++oy)
      for (int ox = 0; ox < g.out_w; ++ox)
        for (int c = 0; c < g.out_c; ++c) {
          int32_t sum = 0;
          const int count = for_window(g, input, b, oy, ox, c, [&](int32_t v) { sum += v; });
          QLITE_CHECK(count > 0, "average_pool2d_int8: window at (" + std::to_string(oy) + ", " +
                                     std::to_string(ox) + ") lies entirely in the padding");
          // Same scale and zero point in and out, so the raw values are averaged
          // (as TFLite does); C++ division truncates, hence the +-count/2.
          int32_t avg = sum > 0 ? (sum + count / 2) / count : (sum - count / 2) / count;
          avg = std::clamp(avg, p.act.min, p.act.max);
          output[((int64_t{b} * g.out_h + oy) * g.out_w + ox) * g.out_c + c] = static_cast<int8_t>(avg);
        }
}

MeanInt8Params make_mean_params(int batch, int h, int w, int c, float input_scale, int32_t input_zero_point,
                                float output_scale, int32_t output_zero_point) {
  QLITE_CHECK(batch > 0 && h > 0 && w > 0 && c > 0, "make_mean_params: dimensions must be positive");
  QLITE_CHECK(std::isfinite(input_scale) && input_scale > 0.0f && std::isfinite(output_scale) && output_scale > 0.0f,
              "make_mean_params: scales must be finite and > 0");
  MeanInt8Params p;
  p.batch = batch;
  p.h = h;
  p.w = w;
  p.c = c;
  p.input_zero_point = input_zero_point;
  p.output_zero_point = output_zero_point;
  const double count = static_cast<double>(h) * static_cast<double>(w);
  p.requant = quantize_multiplier(static_cast<double>(input_scale) / (static_cast<double>(output_scale) * count));
  return p;
}

void mean_hw_int8(const MeanInt8Params& p, const int8_t* input, int8_t* output) {
  QLITE_CHECK(p.batch > 0 && p.h > 0 && p.w > 0 && p.c > 0, "mean_hw_int8: dimensions must be positive");
  QLITE_CHECK(int64_t{p.h} * p.w * 255 < (int64_t{1} << 31), "mean_hw_int8: window too large for int32 sum");
  detail::check_zero_point(p.input_zero_point, "mean_hw_int8 input");
  detail::check_zero_point(p.output_zero_point, "mean_hw_int8 output");
  detail::check_act(p.act, "mean_hw_int8");
  QLITE_CHECK(input && output, "mean_hw_int8: null tensor");
  for (int b = 0; b < p.batch; ++b)
    for (int c = 0; c < p.c; ++c) {
      int64_t acc = 0;
      for (int y = 0; y < p.h; ++y)
        for (int x = 0; x < p.w; ++x)
          acc += int64_t{input[((int64_t{b} * p.h + y) * p.w + x) * p.c + c]} - p.input_zero_point;
      output[int64_t{b} * p.c + c] = detail::requant_output(acc, p.requant, p.output_zero_point, p.act, "mean_hw_int8");
    }
}

}  // namespace qlite::ref
