// The Keras layers qlite trains. Names and defaults follow Keras.
// Tensors are NHWC (channels last); Conv2D kernels are HWIO [kh, kw, in, out]
// and Dense kernels [in, out], as Keras stores them.
#pragma once

#include <array>
#include <optional>

#include "qlite/train/layer.h"

namespace qlite {

// Keras names: "linear" (or None), "relu", "relu6", "sigmoid", "softmax", "tanh",
// "hard_swish" (x * relu6(x + 3) / 6).
Activation activation_from_string(const std::string& s);
std::string activation_name(Activation a);


// A Keras initializer for a layer's kernel or bias. Every Keras built-in that
// draws from the fans is a VarianceScaling: glorot_* is scale 1 over fan_avg,
// he_* scale 2 over fan_in, lecun_* scale 1 over fan_in; *_uniform draws from
// [-limit, limit] with limit = sqrt(3 * scale / fan), *_normal from a normal
// truncated at two standard deviations, with the standard deviation corrected
// for the truncation (sqrt(scale / fan) / 0.87962566103423978), as Keras does.
// The values come from the model's seeded generator, not Keras' own, so a
// model is reproducible in qlite but does not draw Keras' numbers.
struct Initializer {
  enum class Kind { kVarianceScaling, kZeros, kOnes };
  enum class Mode { kFanIn, kFanOut, kFanAvg };
  enum class Distribution { kUniform, kTruncatedNormal, kUntruncatedNormal };
  Kind kind = Kind::kVarianceScaling;
  double scale = 1.0;
  Mode mode = Mode::kFanAvg;
  Distribution distribution = Distribution::kUniform;

  static Initializer glorot_uniform() { return {}; }
  static Initializer zeros() { return {.kind = Kind::kZeros}; }
  // "glorot_uniform", "GlorotUniform", "he_normal", "lecun_uniform", "zeros",
  // "ones", ... (Keras' names); Error for any other.
  static Initializer from_name(const std::string& name);
  // Keras' serialized form: a name, or {"class_name": ..., "config": {...}}
  // (VarianceScaling's config: scale, mode, distribution; seed is accepted and
  // ignored). Error naming `key` for anything else.
  static Initializer from_json(const json& j, const std::string& key);
  // {"class_name": "GlorotUniform", "config": {"seed": null}} and so on: the
  // Keras class name when the settings are a named initializer's, else
  // VarianceScaling with its config.
  json to_json() const;
  // Fills t, a weight of `shape` (Keras' fans: the last dimension is the
  // output, the one before it the input, the rest the receptive field; a 1-D
  // shape is its own fan in and out).
  void fill(Tensor& t, Rng& rng) const;
  bool operator==(const Initializer&) const = default;
};

namespace layers {

// InputLayer(shape): the model's input, per-sample shape without the batch.
SymbolicTensor Input(Shape shape, std::string name = "");
LayerPtr Reshape(Shape target_shape, std::string name = "");  // one dim may be -1
LayerPtr Flatten(std::string name = "");

struct Conv2DOptions {
  std::array<int, 2> strides{1, 1};
  Padding padding = Padding::kValid;
  Activation activation = Activation::kLinear;
  bool use_bias = true;
  std::string name;
  Initializer kernel_initializer = Initializer::glorot_uniform();
  Initializer bias_initializer = Initializer::zeros();
};
LayerPtr Conv2D(int filters, std::array<int, 2> kernel_size, Conv2DOptions options = {});

struct PoolOptions {
  std::optional<std::array<int, 2>> strides;  // default: pool_size
  Padding padding = Padding::kValid;
  std::string name;
};
LayerPtr MaxPooling2D(std::array<int, 2> pool_size = {2, 2}, PoolOptions options = {});

struct DenseOptions {
  Activation activation = Activation::kLinear;
  bool use_bias = true;
  std::string name;
  Initializer kernel_initializer = Initializer::glorot_uniform();
  Initializer bias_initializer = Initializer::zeros();
};
LayerPtr Dense(int units, DenseOptions options = {});

struct BatchNormOptions {
  int axis = -1;  // channels last only
  float momentum = 0.99f;
  float epsilon = 1e-3f;
  bool center = true;  // beta
  bool scale = true;   // gamma
  std::string name{};
};
// Keras' BatchNormalization: batch statistics in training (moving averages
// updated with `momentum`), moving averages in inference.
LayerPtr BatchNormalization(BatchNormOptions options = {});

// Add()([a, b]): a + b for two inputs of the same shape (no broadcasting).
LayerPtr Add(std::string name = "");

// GlobalAveragePooling2D(keepdims): the mean over H and W, [N, C] (or
// [N, 1, 1, C] with keepdims).
LayerPtr GlobalAveragePooling2D(bool keepdims = false, std::string name = "");

// DepthwiseConv2D(kernel_size): one kernel_size filter per input channel
// and depth multiplier (Keras' depthwise_kernel [kh, kw, in, multiplier]);
// output channel c * multiplier + m reads input channel c.
struct DepthwiseConv2DOptions {
  std::array<int, 2> strides{1, 1};
  Padding padding = Padding::kValid;
  int depth_multiplier = 1;
  Activation activation = Activation::kLinear;
  bool use_bias = true;
  std::string name;
  Initializer depthwise_initializer = Initializer::glorot_uniform();
  Initializer bias_initializer = Initializer::zeros();
};
LayerPtr DepthwiseConv2D(std::array<int, 2> kernel_size, DepthwiseConv2DOptions options = {});
// ZeroPadding2D(((top, bottom), (left, right))): zero rows and columns around
// each image (Keras' default pads one on every side).
using Padding2D = std::array<std::array<int, 2>, 2>;
LayerPtr ZeroPadding2D(Padding2D padding = {{{1, 1}, {1, 1}}}, std::string name = "");
// AveragePooling2D(pool_size): the mean of each window (Keras' 'same' windows
// at the border count only the cells inside the image).
LayerPtr AveragePooling2D(std::array<int, 2> pool_size = {2, 2}, PoolOptions options = {});
// Dropout(rate): in training, zeroes each element with probability `rate`
// and scales the rest by 1 / (1 - rate), from a generator seeded by `seed`;
// the identity in inference.
LayerPtr Dropout(float rate, uint64_t seed = 0, std::string name = "");
// Rescaling(scale, offset): x * scale + offset (Keras' preprocessing layer,
// e.g. Rescaling(1.0f / 255) on the input); no weights.
LayerPtr Rescaling(float scale, float offset = 0.0f, std::string name = "");
// Concatenate(axis)([a, b, ...]): the inputs joined along `axis` (-1: the
// channels); the other dimensions must match.
LayerPtr Concatenate(int axis = -1, std::string name = "");
// ReLU(max_value): y = min(max(x, 0), max_value) (Keras' ReLU with
// negative_slope 0 and threshold 0); ReLU(6) is ReLU6.
LayerPtr ReLU(std::optional<float> max_value = std::nullopt, std::string name = "");
// Activation("relu" | "relu6" | "linear"): the activation as a layer.
LayerPtr ActivationLayer(Activation activation, std::string name = "");

}  // namespace layers
}  // namespace qlite
