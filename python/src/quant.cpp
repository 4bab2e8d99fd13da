// Quantization-aware training (qlite::quant: tfmot's quantize_model,
// quantize_annotate_layer, quantize_annotate_model, quantize_apply) and the
// .tflite converter (qlite::convert), as qlite.quantization.keras and
// qlite.lite.TFLiteConverter call them.
#include <cstring>

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

}  // namespace

void bind_quant(py::module_& m) {
  m.def("register_qat_layers", &quant::register_qat_layers);
  m.def("quantize_model", [](const Model& md) { return share(quant::quantize_model(md)); });
  m.def("quantize_annotate_model", [](const Model& md) { return share(quant::quantize_annotate_model(md)); });
  m.def("quantize_apply", [](const Model& md) { return share(quant::quantize_apply(md)); });
  m.def("quantize_annotate_layer", [](const std::shared_ptr<Layer>& l) {
    return std::shared_ptr<Layer>(quant::quantize_annotate_layer(LayerPtr(l)));
  });
  m.def("is_quantization_aware", &is_quantization_aware);
  m.def("convert", &convert, py::arg("model"), py::arg("mode"), py::arg("io") = "float32",
        py::arg("representative") = py::none());
}

}  // namespace qlite::python
