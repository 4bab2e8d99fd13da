// LastValue / MovingAverage / AllValues quantizers (tfmot's quantizers.py and
// quant_ops.py semantics).
#include <algorithm>
#include <cmath>
#include <string>

#include "qlite/quant/qparams.h"

namespace qlite::quant {

Quantizer::Quantizer(QuantizerKind kind, QuantizerOptions options) : kind_(kind), options_(options) {
  check(options_.scheme.num_bits >= 2 && options_.scheme.num_bits <= 8, "Quantizer: num_bits must be in [2, 8]");
  check(options_.ema_decay >= 0.0 && options_.ema_decay <= 1.0, "Quantizer: ema_decay must be in [0, 1]");
  check(std::isfinite(options_.init_min) && std::isfinite(options_.init_max) &&
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
  check(static_cast<int64_t>(min_.size()) == c,
        "Quantizer: tensor " + shape_str(x.shape()) + " has " + std::to_string(c) + " channels, the range has " +
            std::to_string(min_.size()));
}

void Quantizer::observe(const Tensor& x) {
  check(x.dtype() == DType::kFloat32, "Quantizer: tensor must be float32");
  ensure_channels(x);
  std::vector<Range> batch;
  if (options_.per_axis) {
    batch = finite_channel_ranges(x, options_.axis);
  } else {
    batch.push_back(finite_range(x.span_f32()));
  }
  // tfmot's assign_moving_average(zero_debias=False): v -= (v - value) * (1 - decay),
  // with 1 - decay computed in double and cast to float32.
  const float one_minus_decay = static_cast<float>(1.0 - options_.ema_decay);
  for (size_t c = 0; c < batch.size(); ++c) {
    switch (kind_) {
      case QuantizerKind::kLastValue: {
        const Range r = quantizer_range(batch[c], options_.scheme);  // no finite value: [0, 0]
        min_[c] = r.min;
        max_[c] = r.max;
        break;
      }
      case QuantizerKind::kMovingAverage: {
        if (batch[c].empty()) break;  // nothing finite seen: keep the average as it is
        const Range r = quantizer_range(batch[c], options_.scheme);
        min_[c] -= (min_[c] - r.min) * one_minus_decay;
        max_[c] -= (max_[c] - r.max) * one_minus_decay;
        break;
      }
      case QuantizerKind::kAllValues: {
        if (batch[c].empty()) break;
        const Range r = quantizer_range(batch[c], options_.scheme);
        min_[c] = std::min({min_[c], r.min, 0.0f});
        max_[c] = std::max({max_[c], r.max, 0.0f});
        break;
      }
    }
  }
}

std::vector<QuantParams> Quantizer::params() const {
  check(!min_.empty(), "Quantizer: per-axis range not initialised (no tensor seen yet)");
  return choose_quant_params(min_, max_, options_.scheme);
}

void Quantizer::forward(const Tensor& x, Tensor& y, bool training) {
  check(x.dtype() == DType::kFloat32, "Quantizer: tensor must be float32");
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
  check(dy.shape() == x.shape(), "Quantizer::backward: gradient shape " + shape_str(dy.shape()) +
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
  check(mins.size() == maxs.size() && !mins.empty(), "Quantizer::set_range: need equal, non-empty min/max lists");
  check(options_.per_axis || mins.size() == 1, "Quantizer::set_range: a per-tensor quantizer has one range");
  for (size_t i = 0; i < mins.size(); ++i)
    check(std::isfinite(mins[i]) && std::isfinite(maxs[i]), "Quantizer::set_range: range bounds must be finite");
  min_ = std::move(mins);
  max_ = std::move(maxs);
}

}  // namespace qlite::quant
