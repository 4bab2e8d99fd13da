// LastValue / MovingAverage / AllValues / Fixed quantizers (tfmot's quantizers.py and
// quant_ops.py semantics).
#include <algorithm>
#include <cmath>
#include <string>

#include "qlite/quant/qparams.h"

namespace qlite::quant {

Quantizer::Quantizer(QuantizerKind kind, QuantizerOptions options) : kind_(kind), options_(options) {
  QLITE_CHECK(options_.scheme.num_bits >= 2 && options_.scheme.num_bits <= 8, "Quantizer: num_bits must be in [2, 8]");
  QLITE_CHECK(options_.ema_decay >= 0.0 && options_.ema_decay <= 1.0, "Quantizer: ema_decay must be in [0, 1]");
  QLITE_CHECK(std::isfinite(options_.init_min) && std::isfinite(options_.init_max) &&
            options_.init_min <= options_.init_max,
        "Quantizer: initial range must be finite with min <= max");
  if (!options_.per_axis) {
    // tfmot's range variables start at [-6, 6] (LastValue, MovingAverage) or
    // [0, 0] (AllValues).
    const bool zero = kind_ == QuantizerKind::kAllValues;
    min_.assign(1, zero ? 0.0f : options_.init_min);
    max_.assign(1, zero ? 0.0f : options_.init_max);
  }
}

Quantizer Quantizer::last_value(QuantScheme scheme, bool per_axis, int axis) {
  QuantizerOptions o;
  o.scheme = scheme;
  o.per_axis = per_axis;
  o.axis = axis;
  return Quantizer(QuantizerKind::kLastValue, o);
}

Quantizer Quantizer::moving_average(QuantScheme scheme) {
  QuantizerOptions o;
  o.scheme = scheme;
  return Quantizer(QuantizerKind::kMovingAverage, o);
}

Quantizer Quantizer::all_values(QuantScheme scheme) {
  QuantizerOptions o;
  o.scheme = scheme;
  return Quantizer(QuantizerKind::kAllValues, o);
}

int Quantizer::channel_axis(const Tensor& x) const { return split_axis(x.shape(), options_.axis).axis; }

void Quantizer::ensure_channels(const Tensor& x) {
  if (!options_.per_axis) return;
  const int64_t c = split_axis(x.shape(), options_.axis).channels;
  if (min_.empty()) {
    const bool zero = kind_ == QuantizerKind::kAllValues;
    min_.assign(static_cast<size_t>(c), zero ? 0.0f : options_.init_min);
    max_.assign(static_cast<size_t>(c), zero ? 0.0f : options_.init_max);
  }
  QLITE_CHECK(static_cast<int64_t>(min_.size()) == c,
        "Quantizer: tensor " + shape_str(x.shape()) + " has " + std::to_string(c) + " channels, the range has " +
            std::to_string(min_.size()));
}

void Quantizer::observe(const Tensor& x) {
  QLITE_CHECK(x.dtype() == DType::kFloat32, "Quantizer: tensor must be float32");
  ensure_channels(x);
  std::vector<Range> batch;
  if (options_.per_axis) {
    batch = finite_channel_ranges(x, options_.axis);
  } else {
    batch.push_back(finite_range(x.span_f32()));
  }
  for (size_t c = 0; c < batch.size(); ++c) update_quantizer_range(kind_, options_, batch[c], min_[c], max_[c]);
}

void update_quantizer_range(QuantizerKind kind, const QuantizerOptions& o, Range batch, float& min, float& max) {
  switch (kind) {
    case QuantizerKind::kLastValue: {
      const Range r = quantizer_range(batch, o.scheme);  // no finite value: [0, 0]
      min = r.min;
      max = r.max;
      return;
    }
    case QuantizerKind::kMovingAverage: {
      if (batch.empty()) return;  // nothing finite seen: keep the average as it is
      // tfmot's assign_moving_average(zero_debias=False): v -= (v - value) * (1 - decay),
      // with 1 - decay computed in double and cast to float32.
      const float one_minus_decay = static_cast<float>(1.0 - o.ema_decay);
      const Range r = quantizer_range(batch, o.scheme);
      min -= (min - r.min) * one_minus_decay;
      max -= (max - r.max) * one_minus_decay;
      return;
    }
    case QuantizerKind::kFixed:
      min = o.init_min;
      max = o.init_max;
      return;
    case QuantizerKind::kAllValues: {
      if (batch.empty()) return;
      const Range r = quantizer_range(batch, o.scheme);
      min = std::min({min, r.min, 0.0f});
      max = std::max({max, r.max, 0.0f});
      return;
    }
  }
}

std::vector<QuantParams> Quantizer::params() const {
  QLITE_CHECK(!min_.empty(), "Quantizer: per-axis range not initialised (no tensor seen yet)");
  return choose_quant_params(min_, max_, options_.scheme);
}

void Quantizer::forward(const Tensor& x, Tensor& y, bool training) {
  QLITE_CHECK(x.dtype() == DType::kFloat32, "Quantizer: tensor must be float32");
  if (training) {
    observe(x);
  } else {
    ensure_channels(x);
  }
  const std::vector<QuantParams> p = params();
  if (options_.per_axis) {
    fake_quant_per_channel(x, y, channel_axis(x), p);
  } else {
    if (&y != &x) y.resize(x.shape(), DType::kFloat32);
    fake_quant(x.span_f32(), y.span_f32(), p[0]);
  }
}

void Quantizer::backward(const Tensor& x, const Tensor& dy, Tensor& dx) const {
  QLITE_CHECK(dy.shape() == x.shape(), "Quantizer::backward: gradient shape " + shape_str(dy.shape()) +
                                     " differs from input " + shape_str(x.shape()));
  const std::vector<QuantParams> p = params();
  if (options_.per_axis) {
    fake_quant_per_channel_backward(x, dy, dx, channel_axis(x), p);
  } else {
    if (&dx != &dy) dx.resize(x.shape(), DType::kFloat32);
    fake_quant_backward(x.span_f32(), dy.span_f32(), dx.span_f32(), p[0]);
  }
}

void Quantizer::set_range(std::vector<float> mins, std::vector<float> maxs) {
  QLITE_CHECK(mins.size() == maxs.size() && !mins.empty(), "Quantizer::set_range: need equal, non-empty min/max lists");
  QLITE_CHECK(options_.per_axis || mins.size() == 1, "Quantizer::set_range: a per-tensor quantizer has one range");
  for (size_t i = 0; i < mins.size(); ++i)
    QLITE_CHECK(std::isfinite(mins[i]) && std::isfinite(maxs[i]), "Quantizer::set_range: range bounds must be finite");
  min_ = std::move(mins);
  max_ = std::move(maxs);
}

}  // namespace qlite::quant
