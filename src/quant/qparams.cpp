// Range -> scale / zero point (docs/QUANTIZATION.md, "Choosing scale and zero
// point", steps 1-5).
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <string>

#include "qlite/quant/qparams.h"

namespace qlite::quant {
namespace {

void check_scheme(const QuantScheme& s) {
  QLITE_CHECK(s.num_bits >= 2 && s.num_bits <= 8,
        "quant: num_bits must be in [2, 8], got " + std::to_string(s.num_bits));
}

// TensorFlow's unsigned view of the integer range.
int32_t unsigned_qmin(const QuantScheme& s) { return s.narrow_range ? 1 : 0; }
int32_t unsigned_qmax(const QuantScheme& s) { return (int32_t{1} << s.num_bits) - 1; }
int32_t signed_offset(const QuantScheme& s) { return int32_t{1} << (s.num_bits - 1); }

// A float in an error message: %g, so that a range of 3e+38 is not printed
// as a 39-digit number.
std::string short_float(float v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g", static_cast<double>(v));
  return buf;
}

}  // namespace

AxisSplit split_axis(const Shape& shape, int axis) {
  const int rank = static_cast<int>(shape.size());
  QLITE_CHECK(rank >= 1, "split_axis: per-channel quantization needs a tensor of rank >= 1");
  const int a = axis < 0 ? axis + rank : axis;
  QLITE_CHECK(a >= 0 && a < rank,
        "split_axis: axis " + std::to_string(axis) + " out of range for " + shape_str(shape));
  AxisSplit s;
  s.axis = a;
  for (int i = 0; i < a; ++i) s.outer *= shape[static_cast<size_t>(i)];
  s.channels = shape[static_cast<size_t>(a)];
  for (int i = a + 1; i < rank; ++i) s.inner *= shape[static_cast<size_t>(i)];
  return s;
}

int32_t scheme_qmin(const QuantScheme& s) {
  check_scheme(s);
  return unsigned_qmin(s) - signed_offset(s);
}

int32_t scheme_qmax(const QuantScheme& s) {
  check_scheme(s);
  return unsigned_qmax(s) - signed_offset(s);
}

Range finite_range(std::span<const float> x) {
  Range r;
  for (float v : x) {
    if (!std::isfinite(v)) continue;
    r.min = std::min(r.min, v);
    r.max = std::max(r.max, v);
  }
  return r;
}

std::vector<Range> finite_channel_ranges(const Tensor& x, int axis) {
  QLITE_CHECK(x.dtype() == DType::kFloat32, "finite_channel_ranges: tensor must be float32");
  const AxisSplit s = split_axis(x.shape(), axis);
  std::vector<Range> r(static_cast<size_t>(s.channels));
  const float* p = x.f32();
  for (int64_t o = 0; o < s.outer; ++o)
    for (int64_t c = 0; c < s.channels; ++c) {
      Range& rc = r[static_cast<size_t>(c)];
      const float* row = p + (o * s.channels + c) * s.inner;
      for (int64_t i = 0; i < s.inner; ++i) {
        const float v = row[i];
        if (!std::isfinite(v)) continue;
        rc.min = std::min(rc.min, v);
        rc.max = std::max(rc.max, v);
      }
    }
  return r;
}

Range quantizer_range(Range batch, const QuantScheme& s) {
  check_scheme(s);
  if (batch.empty()) return Range{0.0f, 0.0f};
  if (s.symmetric) {
    // tfmot: the ratio is a Python float, exact in float32 (-1 or -(2^b-2)/2^b).
    const float ratio =
        s.narrow_range ? -1.0f
                       : static_cast<float>(-static_cast<double>((1 << s.num_bits) - 2) / (1 << s.num_bits));
    return Range{std::min(batch.min, batch.max / ratio), std::max(batch.max, batch.min * ratio)};
  }
  return Range{std::min(batch.min, 0.0f), std::max(batch.max, 0.0f)};
}

QuantParams choose_quant_params(float min, float max, const QuantScheme& s) {
  check_scheme(s);
  QLITE_CHECK(std::isfinite(min) && std::isfinite(max),
        "choose_quant_params: range bounds must be finite, got [" + std::to_string(min) + ", " +
            std::to_string(max) + "]");
  const int32_t offset = signed_offset(s);
  QuantParams p;
  p.qmin = unsigned_qmin(s) - offset;
  p.qmax = unsigned_qmax(s) - offset;

  // Step 1.
  min = std::min(min, 0.0f);
  max = std::max(max, 0.0f);
  if (s.symmetric && s.narrow_range) {
    const float m = std::max(-min, max);
    min = -m;
    max = m;
  }
  // Steps 2-4 in float, in the unsigned view, as TensorFlow's Nudge().
  const float qmin_f = static_cast<float>(unsigned_qmin(s));
  const float qmax_f = static_cast<float>(unsigned_qmax(s));
  const float scale = (max - min) / (qmax_f - qmin_f);
  QLITE_CHECK(std::isfinite(scale), "choose_quant_params: range [" + short_float(min) + ", " + short_float(max) +
                                         "] is too wide for float");
  if (scale < std::numeric_limits<float>::min()) {
    // [0, 0] or a range narrower than float resolution: no division by zero,
    // no NaN; every value quantizes to the zero point 0.
    p.degenerate = true;
    p.scale = 1.0f;
    p.zero_point = 0;
    p.nudged_min = 0.0f;
    p.nudged_max = 0.0f;
    return p;
  }
  const float zp_from_min = qmin_f - min / scale;
  int32_t zp_u;
  if (zp_from_min < qmin_f) {
    zp_u = unsigned_qmin(s);
  } else if (zp_from_min > qmax_f) {
    zp_u = unsigned_qmax(s);
  } else {
    zp_u = static_cast<int32_t>(std::round(zp_from_min));  // half away from zero, as StdRound
  }
  p.scale = scale;
  p.zero_point = zp_u - offset;
  p.nudged_min = (qmin_f - static_cast<float>(zp_u)) * scale;
  p.nudged_max = (qmax_f - static_cast<float>(zp_u)) * scale;
  return p;
}

std::vector<QuantParams> choose_quant_params(std::span<const float> mins, std::span<const float> maxs,
                                             const QuantScheme& s) {
  QLITE_CHECK(mins.size() == maxs.size(), "choose_quant_params: " + std::to_string(mins.size()) + " mins but " +
                                        std::to_string(maxs.size()) + " maxs");
  std::vector<QuantParams> r;
  r.reserve(mins.size());
  for (size_t i = 0; i < mins.size(); ++i) r.push_back(choose_quant_params(mins[i], maxs[i], s));
  return r;
}

std::vector<float> bias_scales(float input_scale, std::span<const float> weight_scales) {
  std::vector<float> s;
  s.reserve(weight_scales.size());
  for (float ws : weight_scales) s.push_back(input_scale * ws);
  return s;
}

std::vector<int32_t> quantize_bias(std::span<const float> bias, float input_scale,
                                   std::span<const float> weight_scales) {
  const std::vector<float> scales = bias_scales(input_scale, weight_scales);
  check(scales.size() == 1 || scales.size() == bias.size(),
        "quantize_bias: " + std::to_string(scales.size()) + " weight scales for " + std::to_string(bias.size()) +
            " bias values");
  std::vector<int32_t> q(bias.size());
  for (size_t c = 0; c < bias.size(); ++c) {
    const float s = scales.size() == 1 ? scales[0] : scales[c];
    check(s > 0.0f && std::isfinite(s), "quantize_bias: bias scale " + short_float(s) +
                                            " (input scale x weight scale) is not finite and positive");
    const double v = std::round(static_cast<double>(bias[c]) / static_cast<double>(s));
    const double lim = 2147483647.0;  // symmetric, as the converter has always written it
    q[c] = static_cast<int32_t>(std::isnan(v) ? 0.0 : std::clamp(v, -lim, lim));
  }
  return q;
}

}  // namespace qlite::quant
