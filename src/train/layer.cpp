// Layer base helpers, activation names and the layer class registry.
#include <map>
#include <mutex>

#include "qlite/train/layer.h"
#include "qlite/train/layer_kind.h"
#include "qlite/train/layers.h"
#include "train/layers/builtin_kinds.h"

namespace qlite {

std::vector<const Param*> Layer::params() const {
  // params() is non-const only so that optimizers can write through the
  // pointers; reading them through a const layer is safe.
  std::vector<Param*> ps = const_cast<Layer*>(this)->params();
  return {ps.begin(), ps.end()};
}

int64_t Layer::count_params() const {
  int64_t n = 0;
  for (const Param* p : params()) n += p->value.numel();
  return n;
}

Activation activation_from_string(const std::string& s) {
  if (s == "linear" || s == "None" || s.empty()) return Activation::kLinear;
  if (s == "relu") return Activation::kRelu;
  if (s == "relu6") return Activation::kRelu6;
  if (s == "sigmoid") return Activation::kSigmoid;
  if (s == "softmax") return Activation::kSoftmax;
  if (s == "tanh") return Activation::kTanh;
  if (s == "hard_swish") return Activation::kHardSwish;
  throw Error("unsupported activation '" + s +
              "' (expected linear, relu, relu6, sigmoid, softmax, tanh or hard_swish)");
}

std::string activation_name(Activation a) {
  switch (a) {
    case Activation::kLinear: return "linear";
    case Activation::kRelu: return "relu";
    case Activation::kRelu6: return "relu6";
    case Activation::kTanh: return "tanh";
    case Activation::kSigmoid: return "sigmoid";
    case Activation::kSoftmax: return "softmax";
    case Activation::kHardSwish: return "hard_swish";
    case Activation::kReluN1To1:
    case Activation::kSignBit:
      break;
  }
  throw Error(std::string("activation ") + activation_label(a) + " has no Keras name");
}

namespace {

struct Registry {
  std::mutex mu;
  std::map<std::string, LayerKind> kinds;
};

// The registry is the one piece of process-wide state the train area keeps:
// layer classes outside it (QAT wrappers) must be able to add themselves.
Registry& registry() {
  static Registry* r = [] {
    auto* reg = new Registry;
    for (LayerKind k : {detail::input_kind(), detail::reshape_kind(), detail::flatten_kind(),
                        detail::conv2d_kind(), detail::max_pooling2d_kind(), detail::dense_kind(),
                        detail::relu_kind(), detail::activation_kind(), detail::batch_norm_kind(),
                        detail::add_kind(), detail::global_average_pooling2d_kind(), detail::dropout_kind(),
                        detail::average_pooling2d_kind(), detail::concatenate_kind(),
                        detail::zero_padding2d_kind(), detail::depthwise_conv2d_kind(), detail::rescaling_kind()})
      reg->kinds[k.class_name] = std::move(k);
    return reg;
  }();
  return *r;
}

std::string joined(const std::vector<std::string>& names) {
  std::string s;
  for (const std::string& n : names) s += (s.empty() ? "" : ", ") + n;
  return s;
}

}  // namespace

const char* op_kind_name(OpKind k) {
  switch (k) {
    case OpKind::kNone: return "NONE";
    case OpKind::kConv2D: return "CONV_2D";
    case OpKind::kDepthwiseConv2D: return "DEPTHWISE_CONV_2D";
    case OpKind::kFullyConnected: return "FULLY_CONNECTED";
    case OpKind::kMaxPool2D: return "MAX_POOL_2D";
    case OpKind::kReshape: return "RESHAPE";
    case OpKind::kSoftmax: return "SOFTMAX";
    case OpKind::kAdd: return "ADD";
    case OpKind::kMean: return "MEAN";
    case OpKind::kIdentity: return "IDENTITY";
    case OpKind::kAveragePool2D: return "AVERAGE_POOL_2D";
    case OpKind::kConcatenation: return "CONCATENATION";
    case OpKind::kPad: return "PAD";
    case OpKind::kLogistic: return "LOGISTIC";
    case OpKind::kTanh: return "TANH";
    case OpKind::kHardSwish: return "HARD_SWISH";
    case OpKind::kRelu: return "RELU";
  }
  return "?";
}

int64_t weight_output_channels(const LayerKind& kind, const Shape& keras_shape) {
  const int axes = kind.output_channel_axes;
  check(axes >= 1 && static_cast<size_t>(axes) <= keras_shape.size(),
        kind.class_name + ": a weight of shape " + shape_str(keras_shape) + " has no " + std::to_string(axes) +
            " trailing output-channel axes");
  int64_t c = 1;
  for (size_t d = keras_shape.size() - static_cast<size_t>(axes); d < keras_shape.size(); ++d) c *= keras_shape[d];
  return c;
}

const LayerKind* find_layer_kind(const std::string& class_name) {
  Registry& reg = registry();
  std::lock_guard<std::mutex> lock(reg.mu);
  auto it = reg.kinds.find(class_name);
  // Records are never removed and std::map nodes are stable, so the pointer
  // stays valid; a later registration of the same name replaces the fields
  // in place, which only registration code does (at start-up).
  return it == reg.kinds.end() ? nullptr : &it->second;
}

const LayerKind& layer_kind(const Layer& layer) {
  const LayerKind* k = find_layer_kind(layer.type());
  check(k != nullptr, "layer '" + layer.name() + "' has type " + layer.type() +
                          ", which no layer record describes (known: " + joined(layer_kind_names()) + ")");
  return *k;
}

void register_layer_kind(LayerKind kind) {
  check(!kind.class_name.empty(), "register_layer_kind: empty class name");
  check(kind.from_config != nullptr, "register_layer_kind: null factory for '" + kind.class_name + "'");
  check(kind.op == OpKind::kNone || kind.op_spec != nullptr,
        "register_layer_kind: '" + kind.class_name + "' lowers to an op but has no op_spec");
  check(kind.quant_role != QuantRole::kWeighted || (!kind.weight.empty() && kind.tflite_weight_layout != nullptr),
        "register_layer_kind: '" + kind.class_name + "' has quantized weights but no weight name or layout");
  check(kind.output_channel_axes >= 1,
        "register_layer_kind: '" + kind.class_name + "' needs at least one output-channel axis");
  Registry& reg = registry();
  std::lock_guard<std::mutex> lock(reg.mu);
  reg.kinds[kind.class_name] = std::move(kind);
}

std::vector<std::string> layer_kind_names() {
  Registry& reg = registry();
  std::lock_guard<std::mutex> lock(reg.mu);
  std::vector<std::string> names;
  for (const auto& [name, kind] : reg.kinds) names.push_back(name);
  return names;
}

OpKind lowered_op(const Layer& layer) {
  const LayerKind* k = find_layer_kind(layer.type());
  if (k == nullptr || k->op_spec == nullptr) return OpKind::kNone;
  return k->op_spec(layer).op;
}

QuantRole quant_role(const Layer& layer) {
  const LayerKind* k = find_layer_kind(layer.type());
  if (k == nullptr) return QuantRole::kNone;
  return k->quant_role_of != nullptr ? k->quant_role_of(layer) : k->quant_role;
}

LayerPtr layer_from_config(const std::string& class_name, const json& config) {
  const LayerKind* kind = find_layer_kind(class_name);
  check(kind != nullptr, "layer_from_config: unknown layer class '" + class_name + "' (known: " +
                             joined(layer_kind_names()) + ")");
  LayerFactory factory = kind->from_config;
  check(config.is_object(), "layer_from_config: config of " + class_name + " is not a JSON object");
  try {
    return factory(config);
  } catch (const Error& e) {
    throw Error("layer_from_config(" + class_name + "): " + e.what());
  } catch (const json::exception& e) {
    throw Error("layer_from_config(" + class_name + "): invalid config: " + e.what());
  }
}

void register_layer_class(const std::string& class_name, LayerFactory factory) {
  register_layer_kind({.class_name = class_name, .from_config = factory});
}

}  // namespace qlite
