// Reference int8 and int16 max / average pooling, and the int8 spatial mean.
#include <algorithm>
#include <cmath>
#include <limits>
#include <string>
#include <type_traits>

#include "kernels/reference/int8_detail.h"
#include "kernels/reference/int8_kernels.h"
#include "kernels/reference/types16_kernels.h"

namespace qlite::ref {
namespace {

template <class T>
void check_pool(const PoolInt8Params& p, const T* input, const T* output, const char* op) {
  validate_geometry(p.g, op);
  QLITE_CHECK(p.g.in_c == p.g.out_c, std::string(op) + ": output channels must equal input channels");
  QLITE_CHECK(p.g.dilation_h == 1 && p.g.dilation_w == 1, std::string(op) + ": pooling has no dilation");
  if constexpr (std::is_same_v<T, int8_t>) {
    detail::check_act(p.act, op);
  } else {
    QLITE_CHECK(p.act.min >= std::numeric_limits<T>::min() && p.act.max <= std::numeric_limits<T>::max() &&
                    p.act.min <= p.act.max,
                std::string(op) + ": activation range outside int16");
  }
  QLITE_CHECK(input && output, std::string(op) + ": null tensor");
}

// Calls fn(value) for every tap of the window that lies inside the input,
// row by row. Only the taps inside are visited (TFLite's filter_y_start /
// filter_y_end): a pool's window comes from the file's options, not from a
// weight tensor, so it can be far larger than the input.
template <class T, class Fn>
int for_window(const WindowGeometry& g, const T* input, int b, int oy, int ox, int c, Fn fn) {
  int count = 0;
  const int64_t y0 = int64_t{oy} * g.stride_h - g.pad_top, x0 = int64_t{ox} * g.stride_w - g.pad_left;
  const int64_t y_begin = std::max<int64_t>(y0, 0), y_end = std::min<int64_t>(y0 + g.kernel_h, g.in_h);
  const int64_t x_begin = std::max<int64_t>(x0, 0), x_end = std::min<int64_t>(x0 + g.kernel_w, g.in_w);
  for (int64_t iy = y_begin; iy < y_end; ++iy)
    for (int64_t ix = x_begin; ix < x_end; ++ix) {
      fn(int32_t{input[((int64_t{b} * g.in_h + iy) * g.in_w + ix) * g.in_c + c]});
      ++count;
    }
  return count;
}

// TFLite's quantized max pooling (int8 and int16 alike): the raw values'
// maximum over the taps inside the input, clamped to the fused activation.
template <class T>
void max_pool2d(const PoolInt8Params& p, const T* input, T* output, const char* op) {
  check_pool(p, input, output, op);
  const WindowGeometry& g = p.g;
  for (int b = 0; b < g.batch; ++b)
    for (int oy = 0; oy < g.out_h; ++oy)
      for (int ox = 0; ox < g.out_w; ++ox)
        for (int c = 0; c < g.out_c; ++c) {
          int32_t m = std::numeric_limits<T>::min();
          const int count = for_window(g, input, b, oy, ox, c, [&](int32_t v) { m = std::max(m, v); });
          QLITE_CHECK(count > 0, std::string(op) + ": window at (" + std::to_string(oy) + ", " + std::to_string(ox) +
                                     ") lies entirely in the padding");
          output[((int64_t{b} * g.out_h + oy) * g.out_w + ox) * g.out_c + c] =
              static_cast<T>(std::clamp(m, p.act.min, p.act.max));
        }
}

// TFLite's quantized average pooling: same scale and zero point in and out,
// so the raw values are averaged, rounded half away from zero (C++ division
// truncates, hence the +-count/2). The sum is int64: a window of more than
// 65536 taps of 32767 leaves int32 (TFLite's int32 would wrap; such windows
// come only from hostile options, and prepare refuses them).
template <class T>
void average_pool2d(const PoolInt8Params& p, const T* input, T* output, const char* op) {
  check_pool(p, input, output, op);
  const WindowGeometry& g = p.g;
  for (int b = 0; b < g.batch; ++b)
    for (int oy = 0; oy < g.out_h; ++oy)
      for (int ox = 0; ox < g.out_w; ++ox)
        for (int c = 0; c < g.out_c; ++c) {
          int64_t sum = 0;
          const int count = for_window(g, input, b, oy, ox, c, [&](int32_t v) { sum += v; });
          QLITE_CHECK(count > 0, std::string(op) + ": window at (" + std::to_string(oy) + ", " +
                                     std::to_string(ox) + ") lies entirely in the padding");
          const int64_t avg = sum > 0 ? (sum + count / 2) / count : (sum - count / 2) / count;
          output[((int64_t{b} * g.out_h + oy) * g.out_w + ox) * g.out_c + c] =
              static_cast<T>(std::clamp<int64_t>(avg, p.act.min, p.act.max));
        }
}

}  // namespace

void max_pool2d_int8(const PoolInt8Params& p, const int8_t* input, int8_t* output) {
  max_pool2d(p, input, output, "max_pool2d_int8");
}

void average_pool2d_int8(const PoolInt8Params& p, const int8_t* input, int8_t* output) {
  average_pool2d(p, input, output, "average_pool2d_int8");
}

void max_pool2d_int16(const PoolInt8Params& p, const int16_t* input, int16_t* output) {
  max_pool2d(p, input, output, "max_pool2d_int16");
}

void average_pool2d_int16(const PoolInt8Params& p, const int16_t* input, int16_t* output) {
  average_pool2d(p, input, output, "average_pool2d_int16");
}

MeanInt8Method tflite_mean_method(bool keep_dims, const std::vector<int32_t>& axes, float input_scale,
                                  int32_t input_zero_point, float output_scale, int32_t output_zero_point) {
  // reduce.cc EvalMean (kReference) -> EvalMeanReferenceOps<int8_t>, in this order.
  const bool hw_axes = axes.size() == 2 && ((axes[0] == 1 && axes[1] == 2) || (axes[0] == 2 && axes[1] == 1));
  if (keep_dims && hw_axes) return MeanInt8Method::kRequantizeThenDivide;
  if (input_zero_point == output_zero_point && input_scale == output_scale) return MeanInt8Method::kTruncatedMean;
  return MeanInt8Method::kFloatRescale;
}

MeanInt8Params make_mean_params(int batch, int h, int w, int c, float input_scale, int32_t input_zero_point,
                                float output_scale, int32_t output_zero_point, MeanInt8Method method) {
  QLITE_CHECK(batch > 0 && h > 0 && w > 0 && c > 0, "make_mean_params: dimensions must be positive");
  QLITE_CHECK(std::isfinite(input_scale) && input_scale > 0.0f && std::isfinite(output_scale) && output_scale > 0.0f,
              "make_mean_params: scales must be finite and > 0");
  MeanInt8Params p;
  p.batch = batch;
  p.h = h;
  p.w = w;
  p.c = c;
  p.method = method;
  p.input_zero_point = input_zero_point;
  p.output_zero_point = output_zero_point;
  if (method == MeanInt8Method::kRequantizeThenDivide) {
    // TFLite's PrepareMeanOrSum: the double quotient of the float scales.
    p.requant = quantize_multiplier(static_cast<double>(input_scale) / static_cast<double>(output_scale));
  } else if (method == MeanInt8Method::kFloatRescale) {
    // QuantizedMeanOrSum: float quotient, and -zp (an int) times it in float.
    p.scale = input_scale / output_scale;
    p.bias = static_cast<float>(-input_zero_point) * p.scale;
  }
  return p;
}

int8_t mean_int8_from_sum(const MeanInt8Params& p, int32_t raw_sum) {
  const int32_t n = p.h * p.w;
  int32_t v = 0;
  switch (p.method) {
    case MeanInt8Method::kRequantizeThenDivide: {
      // The zero point is subtracted per element in TFLite; the int32 total is
      // the same (each term within [-255, 255], n * 255 < 2^31: checked by the callers).
      const int32_t acc = multiply_by_quantized_multiplier(raw_sum - n * p.input_zero_point, p.requant);
      // TFLite adds n/2 in int32; it can only wrap for an acc within n/2 of
      // the int32 limits, where TFLite wraps too (here without UB).
      const int32_t half = n / 2;
      const int32_t num = static_cast<int32_t>(acc > 0 ? static_cast<uint32_t>(acc) + static_cast<uint32_t>(half)
                                                       : static_cast<uint32_t>(acc) - static_cast<uint32_t>(half));
      v = static_cast<int32_t>(std::clamp(int64_t{num / n} + p.output_zero_point, int64_t{-128}, int64_t{127}));
      break;
    }
    case MeanInt8Method::kTruncatedMean:
      v = raw_sum / n;  // a mean of int8 values: within [-128, 127]
      break;
    case MeanInt8Method::kFloatRescale: {
      const float mean = static_cast<float>(raw_sum) / static_cast<float>(n);
      // volatile: the product is rounded to float before the add, as in TFLite,
      // whatever the compiler's floating-point contraction (FMA) setting.
      const volatile float scaled = mean * p.scale;
      float r = std::round(scaled + p.bias) + static_cast<float>(p.output_zero_point);
      r = std::min(r, 127.0f);
      r = std::max(r, -128.0f);
      v = static_cast<int32_t>(r);
      break;
    }
  }
  return static_cast<int8_t>(std::clamp(v, p.act.min, p.act.max));
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
      int32_t sum = 0;
      for (int y = 0; y < p.h; ++y)
        for (int x = 0; x < p.w; ++x) sum += input[((int64_t{b} * p.h + y) * p.w + x) * p.c + c];
      output[int64_t{b} * p.c + c] = mean_int8_from_sum(p, sum);
    }
}

}  // namespace qlite::ref
