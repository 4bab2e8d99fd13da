// Layer base helpers, activation names and the layer class registry.
#include <map>
#include <mutex>

#include "qlite/train/layer.h"
#include "qlite/train/layers.h"
#include "train/layers/builtin_factories.h"

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
  throw Error("unsupported activation '" + s + "' (expected linear, relu or relu6)");
}

std::string activation_name(Activation a) {
  switch (a) {
    case Activation::kLinear: return "linear";
    case Activation::kRelu: return "relu";
    case Activation::kRelu6: return "relu6";
    case Activation::kTanh: return "tanh";
    case Activation::kReluN1To1:
    case Activation::kSignBit:
      break;
  }
  throw Error(std::string("activation ") + activation_label(a) + " has no Keras name");
}

namespace {

struct Registry {
  std::mutex mu;
  std::map<std::string, LayerFactory> factories;
};

// The registry is the one piece of process-wide state the train area keeps:
// layer classes outside it (QAT wrappers) must be able to add themselves.
Registry& registry() {
  static Registry* r = [] {
    auto* reg = new Registry;
    reg->factories["InputLayer"] = &detail::input_from_config;
    reg->factories["Reshape"] = &detail::reshape_from_config;
    reg->factories["Flatten"] = &detail::flatten_from_config;
    reg->factories["Conv2D"] = &detail::conv2d_from_config;
    reg->factories["MaxPooling2D"] = &detail::max_pooling2d_from_config;
    reg->factories["Dense"] = &detail::dense_from_config;
    return reg;
  }();
  return *r;
}

}  // namespace

LayerPtr layer_from_config(const std::string& class_name, const json& config) {
  LayerFactory factory = nullptr;
  {
    Registry& reg = registry();
    std::lock_guard<std::mutex> lock(reg.mu);
    auto it = reg.factories.find(class_name);
    if (it != reg.factories.end()) factory = it->second;
  }
  check(factory != nullptr, "layer_from_config: unknown layer class '" + class_name + "'");
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
  check(!class_name.empty(), "register_layer_class: empty class name");
  check(factory != nullptr, "register_layer_class: null factory for '" + class_name + "'");
  Registry& reg = registry();
  std::lock_guard<std::mutex> lock(reg.mu);
  reg.factories[class_name] = factory;
}

}  // namespace qlite
