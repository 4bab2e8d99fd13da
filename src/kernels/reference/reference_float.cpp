#include "kernels/reference/reference_float.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "qlite/core.h"

namespace qlite::ref {
namespace {

float activate(double v, Activation act) {
  const FloatActRange r = fused_activation_range_f32(act);
  float f = static_cast<float>(v);
  // Written so that NaN passes through rather than being clamped to a bound.
  if (f < r.min) f = r.min;
  if (f > r.max) f = r.max;
  return f;
}

int64_t in_index(const WindowGeometry& g, int b, int y, int x, int c) {
  return ((int64_t{b} * g.in_h + y) * g.in_w + x) * g.in_c + c;
}
int64_t out_index(const WindowGeometry& g, int b, int y, int x, int c) {
  return ((int64_t{b} * g.out_h + y) * g.out_w + x) * g.out_c + c;
}

}  // namespace

void conv2d_f32(const WindowGeometry& g, const float* input, const float* weights, const float* bias,
                Activation act, float* output) {
  validate_geometry(g, "conv2d_f32");
  QLITE_CHECK(input && weights && output, "conv2d_f32: null tensor");
  for (int b = 0; b < g.batch; ++b)
    for (int oy = 0; oy < g.out_h; ++oy)
      for (int ox = 0; ox < g.out_w; ++ox)
        for (int oc = 0; oc < g.out_c; ++oc) {
          double acc = bias ? bias[oc] : 0.0;
          for (int ky = 0; ky < g.kernel_h; ++ky) {
            const int iy = oy * g.stride_h - g.pad_top + ky * g.dilation_h;
            if (iy < 0 || iy >= g.in_h) continue;
            for (int kx = 0; kx < g.kernel_w; ++kx) {
              const int ix = ox * g.stride_w - g.pad_left + kx * g.dilation_w;
              if (ix < 0 || ix >= g.in_w) continue;
              const float* w = weights + ((int64_t{oc} * g.kernel_h + ky) * g.kernel_w + kx) * g.in_c;
              const float* x = input + in_index(g, b, iy, ix, 0);
              for (int ic = 0; ic < g.in_c; ++ic) acc += double{w[ic]} * x[ic];
            }
          }
          output[out_index(g, b, oy, ox, oc)] = activate(acc, act);
        }
}

void depthwise_conv2d_f32(const WindowGeometry& g, int depth_multiplier, const float* input, const float* weights,
                          const float* bias, Activation act, float* output) {
  validate_geometry(g, "depthwise_conv2d_f32");
  QLITE_CHECK(depth_multiplier > 0 && int64_t{g.in_c} * depth_multiplier == g.out_c,
              "depthwise_conv2d_f32: out_c must equal in_c * depth_multiplier");
  QLITE_CHECK(input && weights && output, "depthwise_conv2d_f32: null tensor");
  for (int b = 0; b < g.batch; ++b)
    for (int oy = 0; oy < g.out_h; ++oy)
      for (int ox = 0; ox < g.out_w; ++ox)
        for (int oc = 0; oc < g.out_c; ++oc) {
          const int ic = oc / depth_multiplier;
          double acc = bias ? bias[oc] : 0.0;
          for (int ky = 0; ky < g.kernel_h; ++ky) {
            const int iy = oy * g.stride_h - g.pad_top + ky * g.dilation_h;
            if (iy < 0 || iy >= g.in_h) continue;
            for (int kx = 0; kx < g.kernel_w; ++kx) {
              const int ix = ox * g.stride_w - g.pad_left + kx * g.dilation_w;
              if (ix < 0 || ix >= g.in_w) continue;
              acc += double{weights[(int64_t{ky} * g.kernel_w + kx) * g.out_c + oc]} * input[in_index(g, b, iy, ix, ic)];
            }
          }
          output[out_index(g, b, oy, ox, oc)] = activate(acc, act);
        }
}

void fully_connected_f32(int batch, int in_features, int out_features, const float* input, const float* weights,
                         const float* bias, Activation act, float* output) {
  QLITE_CHECK(batch > 0 && in_features > 0 && out_features > 0, "fully_connected_f32: dimensions must be positive");
  QLITE_CHECK(input && weights && output, "fully_connected_f32: null tensor");
  for (int b = 0; b < batch; ++b)
    for (int o = 0; o < out_features; ++o) {
      double acc = bias ? bias[o] : 0.0;
      const float* w = weights + int64_t{o} * in_features;
      const float* x = input + int64_t{b} * in_features;
      for (int k = 0; k < in_features; ++k) acc += double{w[k]} * x[k];
      output[int64_t{b} * out_features + o] = activate(acc, act);
    }
}

namespace {

template <class Fn>
void pool_f32(const WindowGeometry& g, Activation act, const float* input, float* output, const char* op,
              Fn reduce) {
  validate_geometry(g, op);
  QLITE_CHECK(g.in_c == g.out_c, std::string(op) + ": output channels must equal input channels");
  QLITE_CHECK(g.dilation_h == 1 && g.dilation_w == 1, std::string(op) + ": pooling has no dilation");
  QLITE_CHECK(input && output, std::string(op) + ": null tensor");
  for (int b = 0; b < g.batch; ++b)
    for (int oy = 0; oy < g.out_h; ++oy)
      for (int ox = 0; ox < g.out_w; ++ox)
        for (int c = 0; c < g.out_c; ++c) {
          const int y0 = oy * g.stride_h - g.pad_top, x0 = ox * g.stride_w - g.pad_left;
          const int ylo = std::max(y0, 0), yhi = std::min(y0 + g.kernel_h, g.in_h);
          const int xlo = std::max(x0, 0), xhi = std::min(x0 + g.kernel_w, g.in_w);
          QLITE_CHECK(ylo < yhi && xlo < xhi, std::string(op) + ": window lies entirely in the padding");
          output[out_index(g, b, oy, ox, c)] = activate(reduce(b, c, ylo, yhi, xlo, xhi), act);
        }
}

}  // namespace

void max_pool2d_f32(const WindowGeometry& g, Activation act, const float* input, float* output) {
  pool_f32(g, act, input, output, "max_pool2d_f32", [&](int b, int c, int ylo, int yhi, int xlo, int xhi) {
    double m = -std::numeric_limits<double>::infinity();
    for (int y = ylo; y < yhi; ++y)
      for (int x = xlo; x < xhi; ++x) m = std::max(m, double{input[in_index(g, b, y, x, c)]});
    return m;
  });
}

void average_pool2d_f32(const WindowGeometry& g, Activation act, const float* input, float* output) {
  pool_f32(g, act, input, output, "average_pool2d_f32", [&](int b, int c, int ylo, int yhi, int xlo, int xhi) {
    double s = 0.0;
    for (int y = ylo; y < yhi; ++y)
      for (int x = xlo; x < xhi; ++x) s += input[in_index(g, b, y, x, c)];
    return s / (static_cast<double>(yhi - ylo) * (xhi - xlo));
  });
}

void add_f32(int64_t n, const float* a, const float* b, Activation act, float* output) {
  QLITE_CHECK(n >= 0, "add_f32: negative size");
  QLITE_CHECK(n == 0 || (a && b && output), "add_f32: null tensor");
  // In float: a float sum rounded once equals the double sum rounded to
  // float (double has more than 2 * 24 + 2 bits, so the second rounding is
  // innocuous), and the float loop vectorises. Clamps as activate() does:
  // NaN passes through.
  const FloatActRange r = fused_activation_range_f32(act);
  add_f32_range(n, a, b, r.min, r.max, output);
}

void add_f32_range(int64_t n, const float* a, const float* b, float lo, float hi, float* output) {
  for (int64_t i = 0; i < n; ++i) {
    float f = a[i] + b[i];
    f = f < lo ? lo : f;
    output[i] = f > hi ? hi : f;
  }
}

void mean_hw_f32(int batch, int h, int w, int c, const float* input, float* output) {
  QLITE_CHECK(batch > 0 && h > 0 && w > 0 && c > 0, "mean_hw_f32: dimensions must be positive");
  QLITE_CHECK(input && output, "mean_hw_f32: null tensor");
  // Every channel's sum runs over the pixels in order, pixel by pixel for all
  // channels at once (contiguous reads).
  std::vector<double> s(static_cast<size_t>(c));
  for (int b = 0; b < batch; ++b) {
    std::fill(s.begin(), s.end(), 0.0);
    const float* x = input + int64_t{b} * h * w * c;
    for (int64_t i = 0; i < int64_t{h} * w; ++i, x += c)
      for (int ch = 0; ch < c; ++ch) s[static_cast<size_t>(ch)] += x[ch];
    for (int ch = 0; ch < c; ++ch)
      output[int64_t{b} * c + ch] = static_cast<float>(s[static_cast<size_t>(ch)] / (static_cast<double>(h) * w));
  }
}

void softmax_f32(int64_t outer, int depth, float beta, const float* input, float* output) {
  QLITE_CHECK(outer >= 0 && depth > 0, "softmax_f32: invalid shape");
  QLITE_CHECK(std::isfinite(beta), "softmax_f32: beta must be finite");
  QLITE_CHECK(outer == 0 || (input && output), "softmax_f32: null tensor");
  for (int64_t r = 0; r < outer; ++r) {
    const float* x = input + r * depth;
    float* y = output + r * depth;
    float m = x[0];
    for (int j = 1; j < depth; ++j) m = std::max(m, x[j]);
    double sum = 0.0;
    for (int j = 0; j < depth; ++j) sum += std::exp(double{beta} * (double{x[j]} - m));
    for (int j = 0; j < depth; ++j) y[j] = static_cast<float>(std::exp(double{beta} * (double{x[j]} - m)) / sum);
  }
}

}  // namespace qlite::ref
