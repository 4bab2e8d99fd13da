// Quantization parameters from ranges, fake quantization and range
// quantizers (docs/QUANTIZATION.md, "Choosing scale and zero point" and "Range
// quantizers"). The integer kernels' arithmetic lives in
// src/kernels/reference/requantize.h; this header is the float side.
//
// Non-finite data: every range observer skips NaN and +-Inf values, so a
// range is always finite. choose_quant_params rejects non-finite bounds
// (qlite::Error). fake_quant maps a NaN input to real 0 with a zero gradient;
// +-Inf inputs clamp to the range ends.
#pragma once

#include <cstdint>
#include <limits>
#include <span>
#include <vector>

#include "qlite/core.h"

namespace qlite::quant {

// How a tensor is quantized. num_bits in [2, 8]; the integers are the signed
// view [-2^(b-1) (+1 if narrow), 2^(b-1) - 1], e.g. int8 [-128, 127] or
// narrow [-127, 127].
struct QuantScheme {
  int num_bits = 8;
  bool symmetric = false;
  bool narrow_range = false;
};

// Weights: 8 bits, symmetric, narrow range (TFLite's int8 weights).
inline constexpr QuantScheme kWeightScheme{8, true, true};
// Activations: 8 bits, asymmetric, full range.
inline constexpr QuantScheme kActivationScheme{8, false, false};

int32_t scheme_qmin(const QuantScheme& s);  // -128 for int8, -127 narrow, -8 for 4 bits
int32_t scheme_qmax(const QuantScheme& s);  // 127 for int8, 7 for 4 bits

struct QuantParams {
  float scale = 1.0f;
  int32_t zero_point = 0;  // signed view, in [qmin, qmax]
  int32_t qmin = -128;
  int32_t qmax = 127;
  // nudged_min = (qmin - zero_point) * scale, nudged_max = (qmax - zero_point) * scale.
  float nudged_min = 0.0f;
  float nudged_max = 0.0f;
  // The range was [0, 0] (or so narrow that the scale would be below the
  // smallest normal float). Then scale = 1, zero_point = 0, nudged_min =
  // nudged_max = 0; fake quantization outputs 0 and passes gradients through
  // unchanged, as TensorFlow's FakeQuantWithMinMaxVars does for min == max == 0.
  bool degenerate = false;
};

// A [min, max] range. Empty (min > max) when no finite value was seen.
struct Range {
  float min = std::numeric_limits<float>::infinity();
  float max = -std::numeric_limits<float>::infinity();
  bool empty() const { return min > max; }
};

// A tensor viewed as [outer, channels, inner] around one axis (negative axes
// count from the end). Throws Error on a bad axis.
struct AxisSplit {
  int64_t outer = 1;
  int64_t channels = 1;
  int64_t inner = 1;
  int axis = 0;  // normalised
};
AxisSplit split_axis(const Shape& shape, int axis);

// Min and max of the finite values of x (NaN and +-Inf skipped).
Range finite_range(std::span<const float> x);
// Per channel along `axis` of x (negative counts from the end).
std::vector<Range> finite_channel_ranges(const Tensor& x, int axis);

// The range a quantizer records for a batch range (tfmot quant_ops):
// asymmetric: [min(lo, 0), max(hi, 0)]; symmetric narrow: +-max(|lo|, |hi|);
// symmetric full range: [min(lo, hi / r), max(hi, lo * r)] with
// r = -(2^b - 2) / 2^b. An empty range gives [0, 0].
Range quantizer_range(Range batch, const QuantScheme& s);

// docs/QUANTIZATION.md steps 1-5, in float and in TensorFlow's unsigned view
// [0 or 1, 2^b - 1] exactly as its Nudge() does (so that the zero point rounds
// identically), then shifted to the signed view. Step 1 extends the range to
// contain 0 and, for symmetric narrow schemes, makes it +-max(|min|, |max|).
// Throws Error on non-finite bounds or a range whose scale overflows.
QuantParams choose_quant_params(float min, float max, const QuantScheme& s);
std::vector<QuantParams> choose_quant_params(std::span<const float> mins, std::span<const float> maxs,
                                             const QuantScheme& s);

// docs/QUANTIZATION.md, "Fake quantization". The integer chosen is
//   q = qmin + floor((clamp(x, nudged_min, nudged_max) - nudged_min) / scale + 0.5)
// and the output is (q - zero_point) * scale, i.e. exactly dequantize(q), which
// is how current TensorFlow reconstructs it (same q as the spec's
// "... * scale + nudged_min" form, without its extra float rounding).
int32_t fake_quant_int(float x, const QuantParams& p);
float fake_quant_value(float x, const QuantParams& p);
// Straight-through estimator: 1 inside [nudged_min, nudged_max], else 0
// (1 everywhere for a degenerate range, 0 for NaN).
float fake_quant_mask(float x, const QuantParams& p);

void fake_quant(std::span<const float> x, std::span<float> y, const QuantParams& p);
void fake_quant_backward(std::span<const float> x, std::span<const float> dy, std::span<float> dx,
                         const QuantParams& p);
// Per channel along `axis`; p.size() must equal x.dim(axis). y / dx are resized.
void fake_quant_per_channel(const Tensor& x, Tensor& y, int axis, std::span<const QuantParams> p);
void fake_quant_per_channel_backward(const Tensor& x, const Tensor& dy, Tensor& dx, int axis,
                                     std::span<const QuantParams> p);

// The int32 bias of an int8 CONV_2D / FULLY_CONNECTED / DEPTHWISE_CONV_2D,
// defined once for QAT's integer evaluation and the converter:
//   scale[c] = float(input_scale * weight_scale[c])  (the float product TFLite
//              compares the file's bias scale with; bias_scales() gives it),
//   q[c] = round(double(b[c]) / double(scale[c])), saturated to int32 (NaN: 0).
// weight_scales has one entry (per tensor) or one per bias entry. Error when a
// scale is not finite and positive.
std::vector<float> bias_scales(float input_scale, std::span<const float> weight_scales);
std::vector<int32_t> quantize_bias(std::span<const float> bias, float input_scale,
                                   std::span<const float> weight_scales);

enum class QuantizerKind : uint8_t {
  kLastValue,      // range of the current tensor (weights)
  kMovingAverage,  // EMA of batch ranges, decay 0.999, starts at [-6, 6] (activations)
  kAllValues,      // running min/max of everything seen, starts at [0, 0] (model input)
  kFixed,          // tfmot's FixedQuantizer: always [init_min, init_max] (the output
                   // quantization TFLite fixes for LOGISTIC, SOFTMAX, TANH)
};

struct QuantizerOptions {
  QuantScheme scheme = kActivationScheme;
  bool per_axis = false;
  int axis = -1;              // channel axis when per_axis (Keras: the last one)
  double ema_decay = 0.999;   // kMovingAverage; a Python float in tfmot, hence double
  float init_min = -6.0f;     // kLastValue / kMovingAverage / kFixed; kAllValues starts at 0
  float init_max = 6.0f;
};

// A tfmot quantizer: holds the range variables (one pair, or one per channel)
// and fake-quantizes. In training mode forward() first updates the range from
// x, then quantizes with the updated range (tfmot assigns, then quantizes);
// in inference mode the range is left untouched. Per-axis ranges are sized
// from the first tensor seen (or set_range).
class Quantizer {
 public:
  Quantizer(QuantizerKind kind, QuantizerOptions options);

  static Quantizer last_value(QuantScheme scheme = kWeightScheme, bool per_axis = false, int axis = -1);
  static Quantizer moving_average(QuantScheme scheme = kActivationScheme);
  static Quantizer all_values(QuantScheme scheme = kActivationScheme);

  QuantizerKind kind() const { return kind_; }
  const QuantizerOptions& options() const { return options_; }

  // Updates the range from x (the training-mode part of forward) without
  // quantizing; usable for calibration.
  void observe(const Tensor& x);
  // y = fake_quant(x) (resized to x's shape). training: observe(x) first.
  void forward(const Tensor& x, Tensor& y, bool training);
  // dx = dy * STE mask, for the range the last forward used.
  void backward(const Tensor& x, const Tensor& dy, Tensor& dx) const;

  // The range variables: size 1, or one per channel once known (empty before
  // a per-axis quantizer saw its first tensor).
  const std::vector<float>& min_values() const { return min_; }
  const std::vector<float>& max_values() const { return max_; }
  void set_range(std::vector<float> mins, std::vector<float> maxs);
  // Scale and zero point for the current range (one per channel).
  std::vector<QuantParams> params() const;

 private:
  void ensure_channels(const Tensor& x);
  int channel_axis(const Tensor& x) const;

  QuantizerKind kind_;
  QuantizerOptions options_;
  std::vector<float> min_;
  std::vector<float> max_;
};

// One channel's step of Quantizer::observe: updates [min, max] from the
// finite range `batch` of the values seen. Allocation-free, for per-step use.
void update_quantizer_range(QuantizerKind kind, const QuantizerOptions& o, Range batch, float& min, float& max);

}  // namespace qlite::quant
