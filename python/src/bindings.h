// Shared declarations of the binding files (module.cpp, lite.cpp, keras.cpp, quant.cpp).
#pragma once

#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <string>

#include "qlite/core.h"

namespace py = pybind11;

namespace qlite::python {

void bind_lite(py::module_& m);
void bind_keras(py::module_& m);
void bind_quant(py::module_& m);

// numpy's name of a dtype, or of an array's ("float64").
inline std::string dtype_str(const py::dtype& d) { return d.attr("name").cast<std::string>(); }
inline std::string dtype_str(const py::array& a) { return dtype_str(a.dtype()); }

}  // namespace qlite::python
