// Quantization-aware training (qlite::quant: tfmot's quantize_model,
// quantize_annotate_layer, quantize_annotate_model, quantize_apply) and the
// .tflite converter (qlite::convert), as qlite.quantization.keras and
// qlite.lite.TFLiteConverter call them.
#include <cstring>
#include <mutex>

#include "bindings.h"
#include "qlite/convert.h"
#include "qlite/quant.h"
#include "qlite/train.h"

namespace qlite::python {
namespace {

using ModelPtr = std::shared_ptr<Model>;
ModelPtr share(std::unique_ptr<Model> m) { return ModelPtr(std::move(m)); }

bool is_quantization_aware(const Model& m) {
  for (const Node& n : m.nodes()) {
    const std::string t = n.layer->type();
    if (t == "QuantizeWrapper" || t == "QuantizeLayer") return true;
  }
  return false;
}

// convert(model, mode, io, representative, dynamic_min_elements) -> bytes.
// representative: None or a float32 array [N, model input shape...].
py::bytes convert(const Model& model, const std::string& mode, const std::string& io,
                  const py::object& representative) {
  convert::ConvertOptions o;
  try {
    o.mode = convert::mode_from_string(mode);
    o.io = convert::io_type_from_string(io);
  } catch (const Error& e) {
    throw py::value_error(e.what());
  }
  Tensor rep;
  if (!representative.is_none()) {
    const auto a = py::array_t<float, py::array::c_style | py::array::forcecast>::ensure(representative);
    if (!a || a.ndim() < 1 || a.shape(0) < 1)
      throw py::value_error("representative_dataset: expected at least one sample of numeric arrays");
    rep = Tensor(Shape(a.shape(), a.shape() + a.ndim()));
    std::memcpy(rep.raw(), a.data(), rep.nbytes());
    o.representative = &rep;
    o.representative_count = static_cast<int>(a.shape(0));
  }
  std::vector<uint8_t> bytes;
  {
    py::gil_scoped_release release;
    bytes = convert::convert_model(model, o).bytes;
  }
  return py::bytes(reinterpret_cast<const char*>(bytes.data()), bytes.size());
}

// A QuantizeConfig chosen in Python (a qlite.quantization.keras.QuantizeConfig
// subclass), carried by an annotation until quantize_apply: its class name and
// its get_config() as JSON (tfmot serializes it the same way), plus a token for
// the live Python object (kept by the Python package; 0 when there is none,
// as in a model loaded from a file). The token is never written: a file
// reloaded in another process is resolved from the class name and the config,
// inside a quantize_scope that names the class. The Python quantize_apply
// replaces the config with the LayerQuantizeConfig it translates to
// (resolve_python_configs); the C++ quantize_apply never sees it.
class PythonQuantizeConfig final : public quant::QuantizeConfig {
 public:
  PythonQuantizeConfig(int64_t token, std::string py_class, json config)
      : token_(token), py_class_(std::move(py_class)), config_(std::move(config)) {}
  std::string class_name() const override { return "PythonQuantizeConfig"; }
  std::vector<quant::WeightQuantizer> weight_quantizers() const override { throw unresolved(); }
  std::optional<quant::QuantizerSpec> output_quantizer() const override { throw unresolved(); }
  // config is null when the Python get_config() could not be written as JSON
  // (the model then cannot be saved: the Python Model.save refuses it first).
  json get_config() const override { return {{"python_class", py_class_}, {"config", config_}}; }
  std::shared_ptr<quant::QuantizeConfig> clone() const override {
    return std::make_shared<PythonQuantizeConfig>(*this);
  }
  static quant::QuantizeConfigPtr from_config(const json& c) {
    QLITE_CHECK(c.is_object() && c.contains("python_class") && c["python_class"].is_string() &&
                    !c["python_class"].get<std::string>().empty(),
                "PythonQuantizeConfig: config must be {\"python_class\": str, \"config\": {...}}");
    json config = c.contains("config") ? c["config"] : json(nullptr);
    QLITE_CHECK(config.is_null() || config.is_object(),
                "PythonQuantizeConfig: \"config\" must be an object (the class's get_config()) or null");
    return std::make_shared<PythonQuantizeConfig>(0, c["python_class"].get<std::string>(), std::move(config));
  }
  int64_t token() const { return token_; }
  const std::string& python_class() const { return py_class_; }
  const json& config() const { return config_; }

 private:
  Error unresolved() const {
    return Error("the Python QuantizeConfig '" + py_class_ +
                 "' is translated by qlite.quantization.keras.quantize_apply; it cannot be used from C++");
  }
  int64_t token_;
  std::string py_class_;
  json config_;
};

void register_python_config() {
  static std::once_flag once;
  std::call_once(once, [] { quant::register_quantize_config_class("PythonQuantizeConfig", &PythonQuantizeConfig::from_config); });
}

// A clone of `model` in which every annotation carrying a PythonQuantizeConfig
// carries instead the LayerQuantizeConfig that resolver(token, layer) returns
// as JSON (LayerQuantizeConfig::get_config's form); `layer` is a copy of the
// annotated layer. Other layers are copied as they are.
ModelPtr resolve_python_configs(const Model& model, const py::function& resolver) {
  register_python_config();
  return share(clone_model(model, [&resolver](const Layer& l) -> LayerPtr {
    const Layer* inner = quant::annotated_layer(l);
    const auto* pc = dynamic_cast<const PythonQuantizeConfig*>(quant::annotation_config(l).get());
    if (inner == nullptr || pc == nullptr) return LayerPtr(l.clone());
    std::shared_ptr<Layer> copy(inner->clone());
    copy->set_name(l.name());
    const std::string text = resolver(pc->token(), copy).cast<std::string>();
    quant::QuantizeConfigPtr config;
    try {
      config = quant::LayerQuantizeConfig::from_config(json::parse(text));
    } catch (const std::exception& e) {
      throw py::value_error("quantize_apply: layer '" + l.name() + "': " + e.what());
    }
    return quant::quantize_annotate_layer(LayerPtr(copy), config);
  }));
}

// Runs f, turning qlite::Error into ValueError (a user's model or config is wrong).
template <class F>
auto user_error_as_value_error(F&& f) {
  try {
    return f();
  } catch (const Error& e) {
    throw py::value_error(e.what());
  }
}

}  // namespace

void bind_quant(py::module_& m) {
  register_python_config();
  // config_text: the JSON of the Python config's get_config(), or None when it is not JSON.
  m.def("annotate_with_python_config", [](const std::shared_ptr<Layer>& l, int64_t token, const std::string& cls,
                                          const std::optional<std::string>& config_text) {
    const json config = config_text ? json::parse(*config_text) : json(nullptr);
    return std::shared_ptr<Layer>(
        quant::quantize_annotate_layer(LayerPtr(l), std::make_shared<PythonQuantizeConfig>(token, cls, config)));
  });
  m.def("python_config_tokens", [](const Model& md) {
    // (token, class name, layer name, get_config() JSON or None) of every annotation carrying a Python config.
    py::list out;
    for (const Layer* l : md.unique_layers()) {
      const auto* pc = dynamic_cast<const PythonQuantizeConfig*>(quant::annotation_config(*l).get());
      if (!pc) continue;
      const py::object config = pc->config().is_null() ? py::object(py::none()) : py::str(pc->config().dump());
      out.append(py::make_tuple(pc->token(), pc->python_class(), l->name(), config));
    }
    return out;
  });
  m.def("resolve_python_configs", &resolve_python_configs);
  m.def("default_quantize_config", [](const std::shared_ptr<Layer>& l) -> py::object {
    const quant::QuantizeConfigPtr c = quant::default_quantize_config(*l);
    if (!c) return py::none();
    return py::str(c->get_config().dump());
  });
  m.def("annotation_config", [](const std::shared_ptr<Layer>& l) -> py::object {
    const quant::QuantizeConfigPtr c = quant::annotation_config(*l);
    if (!c) return py::none();
    return py::str(quant::quantize_config_to_json(*c).dump());
  });
  m.def("wrapper_config", [](const std::shared_ptr<Layer>& l) -> py::object {
    const auto* w = dynamic_cast<const quant::QuantizeWrapper*>(l.get());
    if (!w) return py::none();
    return py::str(quant::quantize_config_to_json(w->config()).dump());
  });
  m.def("register_qat_layers", &quant::register_qat_layers);
  m.def(
      "quantize_model",
      [](const Model& md, int64_t freeze_bn_after) {
        return user_error_as_value_error(
            [&] { return share(quant::quantize_model(md, {.freeze_bn_after = freeze_bn_after})); });
      },
      py::arg("model"), py::arg("freeze_bn_after") = 0);
  m.def("quantize_annotate_model", [](const Model& md) { return share(quant::quantize_annotate_model(md)); });
  m.def("quantize_apply", [](const Model& md) {
    return user_error_as_value_error([&] { return share(quant::quantize_apply(md)); });
  });
  m.def("quantize_annotate_layer", [](const std::shared_ptr<Layer>& l) {
    return std::shared_ptr<Layer>(quant::quantize_annotate_layer(LayerPtr(l)));
  });
  m.def("is_quantization_aware", &is_quantization_aware);
  m.def("convert", &convert, py::arg("model"), py::arg("mode"), py::arg("io") = "float32",
        py::arg("representative") = py::none());
}

}  // namespace qlite::python
