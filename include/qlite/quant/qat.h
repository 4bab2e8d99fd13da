// Quantization-aware training with the Keras / tfmot API names:
// quantize_model, quantize_annotate_layer, quantize_annotate_model,
// quantize_apply, QuantizeConfig, QuantizeWrapper, QuantizeLayer.
//
// A quantized model is an ordinary train::Model whose layers are wrapped:
//  - training (RunContext::training): weights are fake-quantized (LastValue,
//    per output channel for Conv2D and DepthwiseConv2D, per tensor for
//    Dense), the inner layer runs
//    with them, its output is fake-quantized (MovingAverage EMA, updated only
//    here); gradients follow the straight-through estimator to the float weights.
//  - inference (evaluate / predict): EXACT integer evaluation with the int8
//    reference kernels and requantize.h. Quantized layers exchange float
//    tensors holding exactly scale * (q - zero_point) for int8 q; each
//    quantized layer re-quantizes its input (exact, see qat_integer.cpp), runs
//    the int8 kernel and dequantizes its output. The numbers it uses are those
//    of lowered(): the converter writes exactly these into the .tflite file,
//    so QAT predictions equal the deployed model's, image for image.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "qlite/quant/qparams.h"
#include "qlite/train/layer_kind.h"
#include "qlite/train/model.h"
#include "qlite/train/rewrite.h"

namespace qlite::quant {

// ---- quantizer descriptions --------------------------------------------------
// A quantizer to create: its kind and options (bits, symmetric, narrow range,
// per-axis + axis, EMA decay, initial range).
struct QuantizerSpec {
  QuantizerKind kind = QuantizerKind::kMovingAverage;
  QuantizerOptions options;

  static QuantizerSpec last_value(QuantScheme scheme = kWeightScheme, bool per_axis = false, int axis = -1);
  static QuantizerSpec moving_average(QuantScheme scheme = kActivationScheme);
  static QuantizerSpec all_values(QuantScheme scheme = kActivationScheme);

  json to_json() const;
  static QuantizerSpec from_json(const json& j);  // Error on bad fields
};

// Which weight (by Param::name, e.g. "kernel") gets which quantizer.
struct WeightQuantizer {
  std::string param;
  QuantizerSpec quantizer;
};

// ---- QuantizeConfig ------------------------------------------------------------
// How one layer is quantized (tfmot's QuantizeConfig): its quantized weights
// and its output quantizer, or none (pass-through: the output keeps the
// input's quantization, as Reshape / Flatten / MaxPooling2D).
class QuantizeConfig {
 public:
  virtual ~QuantizeConfig() = default;
  // The name under which get_config() round-trips (register_quantize_config_class).
  virtual std::string class_name() const = 0;
  virtual std::vector<WeightQuantizer> weight_quantizers() const = 0;
  virtual std::optional<QuantizerSpec> output_quantizer() const = 0;
  virtual json get_config() const = 0;
  virtual std::shared_ptr<QuantizeConfig> clone() const = 0;
};
using QuantizeConfigPtr = std::shared_ptr<QuantizeConfig>;

// The data-driven config (class name "QuantizeConfig"): covers the registry's
// configs and user configs with other bit widths (2..8 bits). Activation
// schemes other than 8 bits are simulated exactly by qlite but have no TFLite
// int8 equivalent (LoweredQuant::tflite_compatible is false then).
class LayerQuantizeConfig final : public QuantizeConfig {
 public:
  LayerQuantizeConfig(std::vector<WeightQuantizer> weights, std::optional<QuantizerSpec> output);
  std::string class_name() const override { return "QuantizeConfig"; }
  std::vector<WeightQuantizer> weight_quantizers() const override { return weights_; }
  std::optional<QuantizerSpec> output_quantizer() const override { return output_; }
  json get_config() const override;
  std::shared_ptr<QuantizeConfig> clone() const override;
  static QuantizeConfigPtr from_config(const json& config);

 private:
  std::vector<WeightQuantizer> weights_;
  std::optional<QuantizerSpec> output_;
};

// {"class_name": ..., "config": ...} <-> config. Unknown classes are an Error.
json quantize_config_to_json(const QuantizeConfig& config);
QuantizeConfigPtr quantize_config_from_json(const json& j);
using QuantizeConfigFactory = QuantizeConfigPtr (*)(const json& config);
void register_quantize_config_class(const std::string& class_name, QuantizeConfigFactory factory);

// The default 8-bit registry (tfmot Default8BitQuantizeRegistry), from the
// layer records' QuantRole: Conv2D and DepthwiseConv2D (kernel per output
// channel, output MovingAverage), Dense (kernel per-tensor, output MovingAverage),
// Add / GlobalAveragePooling2D / Concatenate / Activation("hard_swish")
// (output MovingAverage), Activation("sigmoid" | "softmax" | "tanh")
// (FixedQuantizer: TFLite's fixed output quantization), Reshape / Flatten /
// MaxPooling2D / AveragePooling2D / ZeroPadding2D / Dropout /
// Activation("linear") (pass-through). nullptr for a layer it does not know
// (InputLayer included: the model input gets a QuantizeLayer instead).
QuantizeConfigPtr default_quantize_config(const Layer& layer);
// The registry's shape with other bit widths, for user configs: e.g.
// quantize_config_with_bits(layer, 4, 8) = 4-bit weights, 8-bit activations.
// Error when the registry does not know the layer.
QuantizeConfigPtr quantize_config_with_bits(const Layer& layer, int weight_bits, int activation_bits);

// ---- lowered integer parameters (the converter's contract) ---------------------
struct TensorQuant {
  float scale = 1.0f;
  int32_t zero_point = 0;
  int32_t qmin = -128, qmax = 127;  // the scheme's integer range
  int num_bits = 8;
};

enum class LoweredOp {
  kQuantize,     // QuantizeLayer: float input -> QUANTIZE to `output`
  kConv2D,       // CONV_2D (per-channel weights)
  kDepthwiseConv2D,  // DEPTHWISE_CONV_2D (per-channel weights, dimension 3)
  kDense,        // FULLY_CONNECTED (per-tensor weights, or per-channel if a config asks)
  kPassThrough,  // RESHAPE / MAX_POOL_2D / AVERAGE_POOL_2D / PAD / no op (Dropout):
                 // output = input quantization
  kAdd,          // ADD: every input with its own quantization (`inputs`), its own output range
  kMean,         // MEAN over H, W: its own output range, TFLite 2.9's arithmetic for the tensors
  kConcatenation,  // CONCATENATION (spec.axis): every input with its own quantization
                   // (`inputs`); one not at the output's is requantized first
                   // (QUANTIZE int8 -> int8 in the file)
  kActivation,     // LOGISTIC / TANH / SOFTMAX / HARD_SWISH (spec.op): TFLite's fixed output
                   // quantization, or its own range (HARD_SWISH)
};

// Every number the integer evaluation of a QuantizeWrapper / QuantizeLayer
// uses, derived once from the current weights and quantizer ranges:
//   weight scales/integers: choose_quant_params on the stored weight ranges,
//     q = fake_quant_int(w) (the integer the training forward used);
//   bias[c] = round(bias / (double(input.scale) * weight_scales[c])), clamped
//     to int32;
//   multiplier/shift = ref::conv_multipliers (Conv2D, DepthwiseConv2D) or
//     ref::fully_connected_multipliers (Dense, float product of the scales),
//     as TFLite 2.9 forms them (requantize.h, docs/QUANTIZATION.md);
//   act_min/act_max = TFLite's CalculateActivationRangeQuantized for the fused
//     activation, within [output.qmin, output.qmax].
// A converter that writes these (scales as float32, zero points, int8
// weights, int32 bias) gets a .tflite whose predictions equal QAT inference.
struct LoweredQuant {
  LoweredOp op = LoweredOp::kPassThrough;
  std::string name;        // the wrapper's name ("quant_dense", "quantize_layer")
  std::string inner_type;  // inner layer's type() ("Dense"); "QuantizeLayer" for kQuantize
  json inner_config;       // inner layer's get_config(); {} for kQuantize
  OpSpec spec;             // the op and geometry from the layer's record (op kNone for kQuantize)
  bool input_quantized = false;  // false only for kQuantize (float input)
  TensorQuant input;             // valid when input_quantized (input 0)
  std::vector<TensorQuant> inputs;  // kAdd, kMean, kConcatenation, kActivation: every input's quantization
  TensorQuant output;            // pass-through: equals input

  // kConv2D / kDepthwiseConv2D / kDense only.
  std::vector<float> weight_scales;  // one per output channel, or one (per tensor)
  int quantized_dimension = 0;       // of `weights`: the record's WeightLayout::channel_axis
  Shape weights_shape;               // TFLite's layout (record): Conv2D OHWI, depthwise 1HWC, Dense [out, in]
  std::vector<int8_t> weights;       // symmetric, zero point 0, in weights_shape
  std::vector<int32_t> bias;         // [out]; empty when the layer has no bias
  std::vector<int32_t> multiplier;   // size of weight_scales
  std::vector<int32_t> shift;        // same size; > 0 is a left shift
  Activation activation = Activation::kLinear;  // fused into the op
  int32_t act_min = -128, act_max = 127;
  // False when a scheme has no TFLite int8 form (activations below 8 bits).
  bool tflite_compatible = true;
};

// Common base of QuantizeWrapper and QuantizeLayer.
class QuantizedLayer : public Layer {
 public:
  using Layer::Layer;
  // The quantization of this layer's output tensor (pass-through: the input's).
  // Error when the model is not built / connected, or the input is float for a
  // layer that needs a quantized input.
  virtual TensorQuant output_quant() const = 0;
  virtual LoweredQuant lowered() const = 0;
  void connect_inputs(std::span<Layer* const> producers) override;

 protected:
  size_t num_producers() const { return producers_.size(); }
  void disconnect() { producers_.clear(); }  // a copy belongs to no model yet
  // The quantization of input i's producer output, nullopt when it is float.
  std::optional<TensorQuant> input_quant(size_t i = 0) const;

 private:
  std::vector<Layer*> producers_;  // owned by the same Model; set by Model::build
};

// Output quantization of any layer of a quantized model: nullopt for a float
// (not quantized) layer.
std::optional<TensorQuant> layer_output_quant(const Layer& layer);

// The model-input quantizer (tfmot QuantizeLayer), AllValues by default:
// training fake-quantizes its input and records the running min/max;
// inference runs QUANTIZE (round half away from zero) then dequantizes.
// State params: "min", "max" (non-trainable). Type "QuantizeLayer".
class QuantizeLayer final : public QuantizedLayer {
 public:
  explicit QuantizeLayer(QuantizerSpec spec = QuantizerSpec::all_values(), std::string name = "");
  std::string type() const override { return "QuantizeLayer"; }
  std::string default_name_stem() const override { return "quantize_layer"; }
  Shape build(std::span<const Shape> input_shapes, Rng& rng) override;
  void forward(std::span<const Tensor* const> in, Tensor& out, const RunContext& ctx) override;
  void backward(std::span<const Tensor* const> in, const Tensor& out, const Tensor& dout,
                std::span<Tensor* const> din, const RunContext& ctx) override;
  std::vector<Param*> params() override { return {&min_, &max_}; }
  json get_config() const override;
  std::unique_ptr<Layer> clone() const override;
  TensorQuant output_quant() const override;
  LoweredQuant lowered() const override;
  const QuantizerSpec& spec() const { return spec_; }

 private:
  QuantizerSpec spec_;
  Param min_, max_;
  std::vector<Range> parts_;  // per-chunk scratch of the range sweep
};

// A quantized layer (tfmot QuantizeWrapper), named quant_<inner name>, type
// "QuantizeWrapper". params(): the inner layer's params in their order (the
// quantized weights are the wrapper's float masters, same names), then the
// quantizer state, non-trainable: "<weight>_min"/"<weight>_max" (one per
// channel for per-axis) and "output_min"/"output_max".
class QuantizeWrapper final : public QuantizedLayer {
 public:
  // The config defaults to default_quantize_config(*inner); Error (naming the
  // layer, its type and quantize_annotate_layer(layer, config)) without one.
  explicit QuantizeWrapper(LayerPtr inner, QuantizeConfigPtr config = nullptr);
  // A Conv2D / DepthwiseConv2D / Dense (the op as the file has it: its fused
  // activation, use_bias true; its kernel unfolded) folded with the
  // BatchNormalization `batch_norm` (built, with its trained values) that
  // follows it, trained with batch statistics for the first
  // `freeze_bn_after` training steps and with the running statistics after
  // (QuantizeOptions::freeze_bn_after). The fake-quantized weights are the
  // folded ones, kernel * gamma / sqrt(moving_variance + epsilon) per output
  // channel; while unfrozen the op's output is corrected to the batch
  // statistics (docs/QUANTIZATION.md, "Batch norm in QAT"). params(): the
  // unfolded kernel, then the batch norm's (gamma, beta, moving_mean,
  // moving_variance), then the range state. Inference and lowered() use the
  // fold with the running statistics, exactly as the converter writes it.
  QuantizeWrapper(LayerPtr inner, QuantizeConfigPtr config, LayerPtr batch_norm, int64_t freeze_bn_after);
  ~QuantizeWrapper() override;
  std::string type() const override { return "QuantizeWrapper"; }
  std::string default_name_stem() const override { return "quant"; }
  int num_inputs() const override;  // the inner layer's
  Shape build(std::span<const Shape> input_shapes, Rng& rng) override;
  void forward(std::span<const Tensor* const> in, Tensor& out, const RunContext& ctx) override;
  void backward(std::span<const Tensor* const> in, const Tensor& out, const Tensor& dout,
                std::span<Tensor* const> din, const RunContext& ctx) override;
  std::vector<Param*> params() override;
  json get_config() const override;
  std::unique_ptr<Layer> clone() const override;
  TensorQuant output_quant() const override;
  LoweredQuant lowered() const override;
  // A Concatenate's wrapper also links the producers that take its range.
  void connect_inputs(std::span<Layer* const> producers) override;

  const Layer& inner() const;
  const QuantizeConfig& config() const;
  // The folded batch norm trained with batch statistics (nullptr when the
  // wrapper has none: a batch norm folded at quantize_apply with its moving
  // statistics is part of inner()'s weights), the steps it stays unfrozen
  // for, and the training steps done so far (training-mode forward passes:
  // one per optimizer step of fit; saved as the layer's training state).
  const Layer* batch_norm() const;
  int64_t freeze_bn_after() const;
  int64_t bn_steps() const;
  bool bn_frozen() const { return batch_norm() == nullptr || bn_steps() >= freeze_bn_after(); }
  json training_state() const override;
  void set_training_state(const json& state) override;
  // True when the config has no output quantizer although the op computes a
  // new tensor: its output is written in the range of the Concatenate that
  // reads it (tfmot's ConcatTransform; quantize_apply sets this up for a
  // producer whose only reader is a Concatenate).
  bool takes_reader_range() const;

 private:
  void forward_folded_bn(std::span<const Tensor* const> in, Tensor& out, const RunContext& ctx);
  void backward_folded_bn(std::span<const Tensor* const> in, const Tensor& dout, std::span<Tensor* const> din,
                          const RunContext& ctx);
  struct State;
  std::unique_ptr<State> s_;
};

// ---- the Keras API ---------------------------------------------------------------
// An annotation (type "QuantizeAnnotate"): behaves as the inner layer, marks it
// for quantize_apply, with an optional config (nullptr: the registry's).
LayerPtr quantize_annotate_layer(LayerPtr layer, QuantizeConfigPtr config = nullptr);
// The layer a QuantizeAnnotate marks, and the config it carries (nullptr:
// the registry's); nullptr for a layer that is not an annotation. Bindings
// use these to replace a config (e.g. one chosen in Python) before
// quantize_apply.
const Layer* annotated_layer(const Layer& layer);
QuantizeConfigPtr annotation_config(const Layer& layer);
// A clone of `model` with every layer but the InputLayer annotated.
std::unique_ptr<Model> quantize_annotate_model(const Model& model);
// A clone of `model` (never modified) in which every annotated layer becomes a
// QuantizeWrapper and a QuantizeLayer is inserted in front of every quantized
// region whose input is not already quantized. The result is built, with the
// weights of `model`; weight ranges start at the weights' ranges, activation
// ranges at [-6, 6]. Not compiled.
std::unique_ptr<Model> quantize_apply(const Model& model);
// Options of quantize_apply / quantize_model beyond tfmot's.
struct QuantizeOptions {
  // Conv2D / DepthwiseConv2D / Dense + BatchNormalization pairs (both
  // annotated): 0 (the default, fine-tuning a trained model) folds the batch
  // norm into the op's weights with its moving statistics, frozen from the
  // start; N > 0 keeps gamma, beta and the statistics in the wrapper
  // (QuantizeWrapper's batch-norm constructor), trains the first N steps with
  // batch statistics and the fold correction, updating the moving averages,
  // then freezes them. Must be >= 0.
  int64_t freeze_bn_after = 0;
};
std::unique_ptr<Model> quantize_apply(const Model& model, const QuantizeOptions& options);
// quantize_apply(quantize_annotate_model(model)).
std::unique_ptr<Model> quantize_model(const Model& model);
std::unique_ptr<Model> quantize_model(const Model& model, const QuantizeOptions& options);

// Registers QuantizeWrapper, QuantizeLayer and QuantizeAnnotate with
// register_layer_class (idempotent). Called by every function above; call it
// before load_model() when nothing else from QAT has run in the process.
void register_qat_layers();

}  // namespace qlite::quant
