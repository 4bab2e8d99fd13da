// Fake quantization (docs/QUANTIZATION.md, "Fake quantization") and its straight-through gradient.
#include <algorithm>
#include <cmath>
#include <string>

#include "qlite/quant/qparams.h"

namespace qlite::quant {

int32_t fake_quant_int(float x, const QuantParams& p) {
  if (p.degenerate || std::isnan(x)) return p.zero_point;
  // fmin/fmax order matches TF's cwiseMin(nudged_max).cwiseMax(nudged_min).
  const float clamped = std::fmax(std::fmin(x, p.nudged_max), p.nudged_min);
  const float shifted = clamped - p.nudged_min;
  // In float, "/ scale + 0.5" then floor, as FakeQuantWithMinMaxVars.
  float steps = std::floor(shifted / p.scale + 0.5f);
  // shifted <= nudged_max - nudged_min, so steps <= qmax - qmin up to float
  // error; the clamp only keeps the integer view in range in that case.
  steps = std::fmin(std::fmax(steps, 0.0f), static_cast<float>(p.qmax - p.qmin));
  return p.qmin + static_cast<int32_t>(steps);
}

float fake_quant_value(float x, const QuantParams& p) {
  if (p.degenerate || std::isnan(x)) return 0.0f;
  return static_cast<float>(fake_quant_int(x, p) - p.zero_point) * p.scale;
}

float fake_quant_mask(float x, const QuantParams& p) {
  if (p.degenerate) return 1.0f;
  return (x >= p.nudged_min && x <= p.nudged_max) ? 1.0f : 0.0f;  // false for NaN
}

void fake_quant(std::span<const float> x, std::span<float> y, const QuantParams& p) {
  QLITE_CHECK(x.size() == y.size(), "fake_quant: input and output sizes differ");
  for (size_t i = 0; i < x.size(); ++i) y[i] = fake_quant_value(x[i], p);
}

void fake_quant_backward(std::span<const float> x, std::span<const float> dy, std::span<float> dx,
                         const QuantParams& p) {
  QLITE_CHECK(x.size() == dy.size() && x.size() == dx.size(), "fake_quant_backward: sizes differ");
  for (size_t i = 0; i < x.size(); ++i) dx[i] = dy[i] * fake_quant_mask(x[i], p);
}

namespace {

template <class Fn>
void per_channel(const Tensor& x, int axis, std::span<const QuantParams> p, const char* op, Fn fn) {
  QLITE_CHECK(x.dtype() == DType::kFloat32, std::string(op) + ": tensor must be float32");
  const AxisSplit s = split_axis(x.shape(), axis);
  QLITE_CHECK(static_cast<int64_t>(p.size()) == s.channels,
        std::string(op) + ": " + std::to_string(p.size()) + " channel params for " + std::to_string(s.channels) +
            " channels of " + shape_str(x.shape()));
  for (int64_t o = 0; o < s.outer; ++o)
    for (int64_t c = 0; c < s.channels; ++c) {
      const int64_t base = (o * s.channels + c) * s.inner;
      for (int64_t i = 0; i < s.inner; ++i) fn(base + i, p[static_cast<size_t>(c)]);
    }
}

}  // namespace

void fake_quant_per_channel(const Tensor& x, Tensor& y, int axis, std::span<const QuantParams> p) {
  if (&y != &x) y.resize(x.shape(), DType::kFloat32);
  const float* in = x.f32();
  float* out = y.f32();
  per_channel(x, axis, p, "fake_quant_per_channel",
              [&](int64_t i, const QuantParams& q) { out[i] = fake_quant_value(in[i], q); });
}

void fake_quant_per_channel_backward(const Tensor& x, const Tensor& dy, Tensor& dx, int axis,
                                     std::span<const QuantParams> p) {
  QLITE_CHECK(dy.shape() == x.shape(), "fake_quant_per_channel_backward: gradient shape " + shape_str(dy.shape()) +
                                     " differs from input " + shape_str(x.shape()));
  if (&dx != &dy) dx.resize(x.shape(), DType::kFloat32);
  const float* in = x.f32();
  const float* g = dy.f32();
  float* out = dx.f32();
  per_channel(x, axis, p, "fake_quant_per_channel_backward",
              [&](int64_t i, const QuantParams& q) { out[i] = g[i] * fake_quant_mask(in[i], q); });
}

}  // namespace qlite::quant
