// One record per layer kind: everything the project knows about a Keras layer
// class, reached through one registration instead of `type() == "Conv2D"`
// chains in train, quant and convert (docs/DESIGN.md). QAT (the default 8-bit
// registry, the integer evaluation) and the converter (lowering) both read
// the record, so adding a layer is its own file plus one registration, and
// the two cannot disagree on what the layer lowers to.
//
// The record holds data and train-level functions only (the layering stays
// train < quant < convert): which TFLite op the layer becomes (OpKind) and
// that op's geometry (OpSpec), how QAT quantizes it by default (QuantRole,
// the quantized weight, per channel or not), and how the Keras weight layout
// maps to TFLite's (WeightLayout). Quant evaluates and convert writes each
// OpKind once, whatever layer produced it.
#pragma once

#include <array>
#include <optional>
#include <string>
#include <vector>

#include "qlite/train/layer.h"

namespace qlite {

// The TFLite builtin op a layer lowers to.
enum class OpKind : uint8_t {
  kNone,            // no TFLite form (InputLayer, wrappers)
  kConv2D,          // CONV_2D, OHWI weights per output channel
  kDepthwiseConv2D, // DEPTHWISE_CONV_2D, 1HWC weights per output channel (axis 3)
  kFullyConnected,  // FULLY_CONNECTED, [out, in] weights
  kMaxPool2D,       // MAX_POOL_2D
  kReshape,         // RESHAPE (Reshape, Flatten)
  kSoftmax,         // SOFTMAX over the last axis (activation "softmax")
  kAdd,             // ADD of two same-shaped inputs
  kMean,            // MEAN over axes {1, 2} (global average pooling)
  kIdentity,        // no op: the output is the input's tensor (Dropout, Activation "linear")
  kAveragePool2D,   // AVERAGE_POOL_2D
  kConcatenation,   // CONCATENATION along OpSpec::axis
  kPad,             // PAD with OpSpec::pads (ZeroPadding2D)
  kLogistic,        // LOGISTIC (activation "sigmoid")
  kTanh,            // TANH (activation "tanh")
  kHardSwish,       // HARD_SWISH (activation "hard_swish")
  kRelu,            // RELU or RELU6 (OpSpec::activation kRelu / kRelu6): a clamp no op before it absorbed
};
// "CONV_2D", ...; "NONE" for kNone, "IDENTITY" for kIdentity.
const char* op_kind_name(OpKind k);

// What the lowered op needs from the layer's config, read once.
struct OpSpec {
  OpKind op = OpKind::kNone;
  std::array<int, 2> kernel{1, 1};   // conv kernel or pool window (h, w)
  std::array<int, 2> strides{1, 1};  // (h, w)
  Padding padding = Padding::kValid;
  Activation activation = Activation::kLinear;  // fused into the op (activation_fusable once rewritten)
  bool keep_dims = false;                       // kMean
  int depth_multiplier = 1;                     // kDepthwiseConv2D
  int axis = -1;                                // kConcatenation: the axis of the per-sample
                                                // shape, >= 0 (the batch is not counted)
  std::array<std::array<int, 2>, 2> pads{};     // kPad: {{top, bottom}, {left, right}}
};

// y[..., c] = scale[c] * x[..., c] + offset[c]: what an inference-mode
// BatchNormalization computes.
struct ChannelAffine {
  std::vector<float> scale, offset;
};

// How QAT quantizes a layer by default (tfmot's Default8BitQuantizeRegistry).
enum class QuantRole : uint8_t {
  kNone,         // no default config: quantize_apply asks for a QuantizeConfig
  kWeighted,     // int8 weights (LastValue) and its own output range (MovingAverage)
  kPassThrough,  // the output keeps the input's scale and zero point
  kOutputRange,  // no weights, its own output range (MovingAverage): Add, global average
                 // pooling, Concatenate (whose producers may share it), hard_swish
  kFixedOutput,  // no weights, the output quantization TFLite fixes for the op
                 // (LOGISTIC, SOFTMAX: 1/256 and -128; TANH: 1/128 and 0)
};

// A Keras weight in TFLite's layout: element i of the TFLite tensor is
// element source[i] of the Keras one. Defined once per layer kind, used by
// QAT's lowering (int8) and the converter (float, float16, int8) alike.
struct WeightLayout {
  Shape shape;                  // TFLite's shape (Conv2D OHWI, Dense [out, in])
  std::vector<int64_t> source;  // size shape_numel(shape)
  int channel_axis = 0;         // TFLite's quantized_dimension for per-channel scales
  // The Keras tensor's values in this layout.
  template <class T>
  std::vector<T> apply(const T* keras) const {
    std::vector<T> out(source.size());
    for (size_t i = 0; i < source.size(); ++i) out[i] = keras[source[i]];
    return out;
  }
};

struct LayerKind {
  std::string class_name{};  // Keras' class name, "class_name" in model.json
  LayerFactory from_config = nullptr;
  // Lowering: the op and its geometry. op_spec is set when op != kNone.
  // A kind whose op depends on the instance (Activation: LOGISTIC, TANH, ...)
  // leaves `op` kNone and sets op_spec, whose .op is the truth (kNone for an
  // instance with no TFLite form); lowered_op() reads either.
  OpKind op = OpKind::kNone;
  OpSpec (*op_spec)(const Layer& layer) = nullptr;
  // Quantization: the default role; for kWeighted the quantized weight's
  // param name, whether it is per output channel by default, and the Keras
  // -> TFLite layout of that weight.
  QuantRole quant_role = QuantRole::kNone;
  // Overrides quant_role per instance when set (Activation: by its function).
  QuantRole (*quant_role_of)(const Layer& layer) = nullptr;
  std::string weight{};
  bool per_channel = false;
  WeightLayout (*tflite_weight_layout)(const Shape& keras_shape) = nullptr;
  // How many trailing axes of the Keras weight, flattened row-major, index
  // the output channel: 1 for Conv2D [kh, kw, in, out] and Dense [in, out];
  // 2 for DepthwiseConv2D [kh, kw, in, multiplier], whose output channel
  // c * multiplier + m is the flat index of its last two axes. Element i of
  // the weight belongs to output channel i % output_channels(). Per-channel
  // fake quant, the batch-norm fold and the bias all read it from here.
  int output_channel_axes = 1;
  // The shared rewrite (rewrite.h): the op accepts a fused activation
  // ("activation" in its config), ...
  bool fuses_activation = false;
  // ... a following per-channel affine layer (BatchNormalization) folds into
  // its weights (per output channel as output_channel_axes says, "use_bias"
  // in its config) ...
  bool folds_batch_norm = false;
  // ... the layer is such an affine map in inference (BatchNormalization,
  // Rescaling) ...
  std::optional<ChannelAffine> (*as_channel_affine)(const Layer& layer) = nullptr;
  // ... which trains with batch statistics (BatchNormalization: QAT may keep
  // it apart, RewriteOptions::keep_batch_norm; a Rescaling always folds) ...
  bool batch_statistics = false;
  // ... or the layer is a clamp such an op can absorb (ReLU, Activation):
  // returns it, or nullopt when this instance is no fusable clamp.
  std::optional<Activation> (*as_fused_activation)(const Layer& layer) = nullptr;
};

// The number of output channels of a weight of this kind with this Keras
// shape: the product of its last output_channel_axes dimensions.
int64_t weight_output_channels(const LayerKind& kind, const Shape& keras_shape);

// The record of a class name; nullptr when none is registered.
const LayerKind* find_layer_kind(const std::string& class_name);
// The record of a layer's type(); Error naming the registered classes otherwise.
const LayerKind& layer_kind(const Layer& layer);
// Adds or replaces a record (built-in kinds are registered on first use).
void register_layer_kind(LayerKind kind);
// Every registered class name, sorted (for messages).
std::vector<std::string> layer_kind_names();

// The op this layer instance lowers to (its record's op_spec), kNone when it
// has none or no record.
OpKind lowered_op(const Layer& layer);
// The default quantize role of this instance (quant_role_of, else quant_role);
// kNone without a record.
QuantRole quant_role(const Layer& layer);

}  // namespace qlite
