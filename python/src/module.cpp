// The _qlite extension module: thin pybind11 bindings over the C++ library,
// one file per area (lite.cpp: qlite.lite's Interpreter; keras.cpp: models,
// layers, training, datasets; quant.cpp: QAT and the converter). The Python
// package (python/qlite) wraps these with the Keras / tfmot / tf.lite names.
#include "bindings.h"

PYBIND11_MODULE(_qlite, m) {
  m.doc() = "qlite's C++ library, bound with pybind11 (use the qlite package, not this module)";
  // Every qlite::Error that no binding turned into a ValueError / TypeError
  // reaches Python as a RuntimeError carrying the C++ message.
  py::register_exception_translator([](std::exception_ptr p) {
    try {
      if (p) std::rethrow_exception(p);
    } catch (const qlite::Error& e) {
      PyErr_SetString(PyExc_RuntimeError, e.what());
    }
  });
  m.attr("__version__") = "0.1.0";
  py::module_ lite = m.def_submodule("lite", "tf.lite's Interpreter over qlite::runtime");
  py::module_ keras = m.def_submodule("keras", "qlite::Model, layers, training and datasets");
  py::module_ quant = m.def_submodule("quant", "QAT (qlite::quant) and the converter (qlite::convert)");
  qlite::python::bind_lite(lite);
  qlite::python::bind_keras(keras);
  qlite::python::bind_quant(quant);
}
