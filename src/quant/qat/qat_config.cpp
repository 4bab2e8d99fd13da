// Quantizer specs, QuantizeConfig serialisation and the default 8-bit registry.
#include <limits>
#include <map>
#include <mutex>
#include <type_traits>

#include "qlite/quant/qat.h"

namespace qlite::quant {
namespace {

const char* kind_name(QuantizerKind k) {
  switch (k) {
    case QuantizerKind::kLastValue: return "LastValueQuantizer";
    case QuantizerKind::kMovingAverage: return "MovingAverageQuantizer";
    case QuantizerKind::kAllValues: return "AllValuesQuantizer";
    case QuantizerKind::kFixed: return "FixedQuantizer";
  }
  return "?";
}

QuantizerKind kind_from_name(const std::string& s) {
  if (s == "LastValueQuantizer") return QuantizerKind::kLastValue;
  if (s == "MovingAverageQuantizer") return QuantizerKind::kMovingAverage;
  if (s == "AllValuesQuantizer") return QuantizerKind::kAllValues;
  if (s == "FixedQuantizer") return QuantizerKind::kFixed;
  throw Error("unknown quantizer '" + s +
              "' (expected LastValueQuantizer, MovingAverageQuantizer, AllValuesQuantizer or FixedQuantizer)");
}

// A quantizer field of type T: a JSON boolean for bool, an integer in T's
// range for integral T (a float such as 9e128 for an int would be undefined
// behaviour to convert), any number for floating-point T.
template <class T>
T field(const json& j, const char* key, T dflt) {
  if (!j.contains(key)) return dflt;
  const json& v = j.at(key);
  const auto wrong = [&](const char* what) {
    return Error(std::string("quantizer field \"") + key + "\" " + what + ": " + v.dump());
  };
  if constexpr (std::is_same_v<T, bool>) {
    if (!v.is_boolean()) throw wrong("has the wrong type");
    return v.get<bool>();
  } else if constexpr (std::is_integral_v<T>) {
    static_assert(std::is_signed_v<T>, "the range check below is written for signed fields");
    if (!v.is_number_integer()) throw wrong("has the wrong type");
    if (v.is_number_unsigned()) {
      const uint64_t u = v.get<uint64_t>();
      if (u > static_cast<uint64_t>(std::numeric_limits<T>::max())) throw wrong("is out of range");
      return static_cast<T>(u);
    }
    const int64_t x = v.get<int64_t>();
    if (x < static_cast<int64_t>(std::numeric_limits<T>::min()) || x > static_cast<int64_t>(std::numeric_limits<T>::max()))
      throw wrong("is out of range");
    return static_cast<T>(x);
  } else {
    if (!v.is_number()) throw wrong("has the wrong type");
    return static_cast<T>(v.get<double>());
  }
}

struct ConfigRegistry {
  std::mutex mu;
  std::map<std::string, QuantizeConfigFactory> factories;
};

ConfigRegistry& config_registry() {
  static ConfigRegistry* r = [] {
    auto* reg = new ConfigRegistry;
    reg->factories["QuantizeConfig"] = &LayerQuantizeConfig::from_config;
    return reg;
  }();
  return *r;
}

QuantScheme bits_scheme(QuantScheme s, int bits) {
  QLITE_CHECK(bits >= 2 && bits <= 8, "quantize_config_with_bits: bit widths must be in [2, 8], got " +
                                    std::to_string(bits));
  s.num_bits = bits;
  return s;
}

}  // namespace

QuantizerSpec QuantizerSpec::last_value(QuantScheme scheme, bool per_axis, int axis) {
  QuantizerSpec s;
  s.kind = QuantizerKind::kLastValue;
  s.options.scheme = scheme;
  s.options.per_axis = per_axis;
  s.options.axis = axis;
  return s;
}

QuantizerSpec QuantizerSpec::moving_average(QuantScheme scheme) {
  QuantizerSpec s;
  s.kind = QuantizerKind::kMovingAverage;
  s.options.scheme = scheme;
  return s;
}

QuantizerSpec QuantizerSpec::all_values(QuantScheme scheme) {
  QuantizerSpec s;
  s.kind = QuantizerKind::kAllValues;
  s.options.scheme = scheme;
  return s;
}

json QuantizerSpec::to_json() const {
  const QuantizerOptions& o = options;
  return {{"class_name", kind_name(kind)}, {"num_bits", o.scheme.num_bits},
          {"symmetric", o.scheme.symmetric}, {"narrow_range", o.scheme.narrow_range},
          {"per_axis", o.per_axis},           {"axis", o.axis},
          {"ema_decay", o.ema_decay},         {"init_min", o.init_min},
          {"init_max", o.init_max}};
}

QuantizerSpec QuantizerSpec::from_json(const json& j) {
  QLITE_CHECK(j.is_object() && j.contains("class_name") && j["class_name"].is_string(),
        "quantizer config must be an object with a \"class_name\", got " + j.dump());
  QuantizerSpec s;
  s.kind = kind_from_name(j["class_name"].get<std::string>());
  QuantizerOptions& o = s.options;
  o.scheme.num_bits = field<int>(j, "num_bits", 8);
  o.scheme.symmetric = field<bool>(j, "symmetric", false);
  o.scheme.narrow_range = field<bool>(j, "narrow_range", false);
  o.per_axis = field<bool>(j, "per_axis", false);
  o.axis = field<int>(j, "axis", -1);
  o.ema_decay = field<double>(j, "ema_decay", 0.999);
  o.init_min = field<float>(j, "init_min", -6.0f);
  o.init_max = field<float>(j, "init_max", 6.0f);
  Quantizer(s.kind, o);  // validates bits, decay and range with the quantizer's own messages
  return s;
}

LayerQuantizeConfig::LayerQuantizeConfig(std::vector<WeightQuantizer> weights, std::optional<QuantizerSpec> output)
    : weights_(std::move(weights)), output_(std::move(output)) {
  for (const WeightQuantizer& w : weights_) {
    QLITE_CHECK(!w.param.empty(), "QuantizeConfig: a weight quantizer needs a param name");
    Quantizer(w.quantizer.kind, w.quantizer.options);
  }
  if (output_) Quantizer(output_->kind, output_->options);
}

json LayerQuantizeConfig::get_config() const {
  json w = json::array();
  for (const WeightQuantizer& q : weights_) w.push_back({{"param", q.param}, {"quantizer", q.quantizer.to_json()}});
  return {{"weights", w}, {"output", output_ ? output_->to_json() : json(nullptr)}};
}

std::shared_ptr<QuantizeConfig> LayerQuantizeConfig::clone() const {
  return std::make_shared<LayerQuantizeConfig>(*this);
}

QuantizeConfigPtr LayerQuantizeConfig::from_config(const json& c) {
  QLITE_CHECK(c.is_object(), "QuantizeConfig: config must be an object");
  std::vector<WeightQuantizer> weights;
  if (c.contains("weights")) {
    QLITE_CHECK(c["weights"].is_array(), "QuantizeConfig: \"weights\" must be an array");
    for (const json& w : c["weights"]) {
      QLITE_CHECK(w.is_object() && w.contains("param") && w["param"].is_string() && w.contains("quantizer"),
            "QuantizeConfig: each weight needs \"param\" and \"quantizer\", got " + w.dump());
      weights.push_back({w["param"].get<std::string>(), QuantizerSpec::from_json(w["quantizer"])});
    }
  }
  std::optional<QuantizerSpec> out;
  if (c.contains("output") && !c["output"].is_null()) out = QuantizerSpec::from_json(c["output"]);
  return std::make_shared<LayerQuantizeConfig>(std::move(weights), std::move(out));
}

json quantize_config_to_json(const QuantizeConfig& config) {
  return {{"class_name", config.class_name()}, {"config", config.get_config()}};
}

QuantizeConfigPtr quantize_config_from_json(const json& j) {
  QLITE_CHECK(j.is_object() && j.contains("class_name") && j["class_name"].is_string() && j.contains("config"),
        "quantize config must be {\"class_name\": ..., \"config\": ...}, got " + j.dump());
  const std::string name = j["class_name"].get<std::string>();
  QuantizeConfigFactory f = nullptr;
  {
    ConfigRegistry& reg = config_registry();
    std::lock_guard<std::mutex> lock(reg.mu);
    auto it = reg.factories.find(name);
    if (it != reg.factories.end()) f = it->second;
  }
  QLITE_CHECK(f != nullptr, "unknown quantize config class '" + name +
                          "' (register it with register_quantize_config_class)");
  QuantizeConfigPtr c = f(j["config"]);
  QLITE_CHECK(c != nullptr, "quantize config factory for '" + name + "' returned null");
  return c;
}

void register_quantize_config_class(const std::string& class_name, QuantizeConfigFactory factory) {
  QLITE_CHECK(!class_name.empty() && factory != nullptr, "register_quantize_config_class: empty name or null factory");
  ConfigRegistry& reg = config_registry();
  std::lock_guard<std::mutex> lock(reg.mu);
  reg.factories[class_name] = factory;
}

namespace {

// The output range TFLite fixes for an op, in a `bits` scheme: LOGISTIC and
// SOFTMAX [0, 1 - 2^-b] (8 bits: scale 1/256, zero point -128), TANH
// [-1, 1 - 2^(1-b)] (8 bits: scale 1/128, zero point 0). Both bounds are
// exact in float, so choose_quant_params gives exactly those parameters.
QuantizerSpec fixed_output_quantizer(OpKind op, const QuantScheme& scheme) {
  QuantizerSpec s;
  s.kind = QuantizerKind::kFixed;
  s.options.scheme = scheme;
  const float levels = static_cast<float>(1 << scheme.num_bits);
  switch (op) {
    case OpKind::kLogistic:
    case OpKind::kSoftmax:
      s.options.init_min = 0.0f;
      s.options.init_max = 1.0f - 1.0f / levels;
      return s;
    case OpKind::kTanh:
      s.options.init_min = -1.0f;
      s.options.init_max = 1.0f - 2.0f / levels;
      return s;
    default:
      break;
  }
  throw Error(std::string("quantize: TFLite fixes no output quantization for ") + op_kind_name(op));
}

// The registry's config for a layer (its record's QuantRole), nullptr for
// layers without one.
QuantizeConfigPtr config_for(const Layer& layer, int weight_bits, int activation_bits) {
  const LayerKind* kind = find_layer_kind(layer.type());
  if (kind == nullptr) return nullptr;
  switch (quant_role(layer)) {
    case QuantRole::kNone:
      return nullptr;
    case QuantRole::kPassThrough:
      return std::make_shared<LayerQuantizeConfig>(std::vector<WeightQuantizer>{}, std::nullopt);
    case QuantRole::kOutputRange:
      return std::make_shared<LayerQuantizeConfig>(std::vector<WeightQuantizer>{},
                                                   QuantizerSpec::moving_average(bits_scheme(kActivationScheme,
                                                                                             activation_bits)));
    case QuantRole::kFixedOutput:
      return std::make_shared<LayerQuantizeConfig>(
          std::vector<WeightQuantizer>{},
          fixed_output_quantizer(lowered_op(layer), bits_scheme(kActivationScheme, activation_bits)));
    case QuantRole::kWeighted: {
      const QuantScheme w = bits_scheme(kWeightScheme, weight_bits);
      const QuantScheme a = bits_scheme(kActivationScheme, activation_bits);
      // Per output channel (axis -1: the record's trailing output-channel
      // axes, flattened; the Keras layout's last axis for Conv2D).
      return std::make_shared<LayerQuantizeConfig>(
          std::vector<WeightQuantizer>{{kind->weight, QuantizerSpec::last_value(w, kind->per_channel, -1)}},
          QuantizerSpec::moving_average(a));
    }
  }
  return nullptr;
}

}  // namespace

QuantizeConfigPtr quantize_config_with_bits(const Layer& layer, int weight_bits, int activation_bits) {
  QuantizeConfigPtr c = config_for(layer, weight_bits, activation_bits);
  QLITE_CHECK(c != nullptr, "quantize_config_with_bits: the default registry does not know " + layer.type() +
                                " '" + layer.name() + "'");
  return c;
}

QuantizeConfigPtr default_quantize_config(const Layer& layer) {
  return config_for(layer, 8, 8);
}

}  // namespace qlite::quant
