// qlite.lite.Interpreter: tf.lite.Interpreter's methods over qlite::runtime::Interpreter.
// Tensors are addressed by their index in the model's main subgraph, as in
// TensorFlow; the runtime exposes the graph inputs and outputs only.
#include <cstring>
#include <optional>

#include "bindings.h"
#include "qlite/runtime.h"

namespace qlite::python {
namespace {

using lite::TensorType;

// The numpy dtype of a tensor type; TypeError for types numpy or the runtime cannot hold.
py::dtype numpy_dtype(TensorType t) {
  switch (t) {
    case TensorType::kFloat32: return py::dtype::of<float>();
    case TensorType::kInt8: return py::dtype::of<int8_t>();
    case TensorType::kUInt8: return py::dtype::of<uint8_t>();
    case TensorType::kInt32: return py::dtype::of<int32_t>();
    case TensorType::kInt64: return py::dtype::of<int64_t>();
    case TensorType::kInt16: return py::dtype::of<int16_t>();
    case TensorType::kBool: return py::dtype::of<bool>();
    case TensorType::kFloat64: return py::dtype::of<double>();
    case TensorType::kFloat16: return py::dtype("float16");
    default: throw py::type_error(std::string("tensor type ") + lite::tensor_type_name(t) + " has no numpy dtype");
  }
}

// The numpy scalar type (np.float32, ...), which TF puts in 'dtype'.
py::object numpy_type(TensorType t) { return numpy_dtype(t).attr("type"); }

py::array_t<int32_t> int32_array(const std::vector<int64_t>& v) {
  py::array_t<int32_t> a(static_cast<py::ssize_t>(v.size()));
  for (size_t i = 0; i < v.size(); ++i) a.mutable_at(static_cast<py::ssize_t>(i)) = static_cast<int32_t>(v[i]);
  return a;
}

class PyInterpreter {
 public:
  void reset_variables() { it_->reset_variables(); }
  PyInterpreter(std::optional<std::string> model_path, std::optional<py::bytes> model_content,
                std::optional<int> num_threads) {
    if (model_path.has_value() == model_content.has_value())
      throw py::value_error("Interpreter: give exactly one of model_path= and model_content=");
    runtime::InterpreterOptions options;
    if (num_threads) {
      // TF accepts -1 for "the implementation's default".
      if (*num_threads < -1 || *num_threads == 0)
        throw py::value_error("Interpreter: num_threads must be >= 1 or -1, got " + std::to_string(*num_threads));
      options.num_threads = *num_threads == -1 ? 1 : *num_threads;
    }
    try {
      if (model_path) {
        it_ = runtime::Interpreter::from_file(*model_path, options);
      } else {
        const std::string_view bytes = *model_content;
        it_ = runtime::Interpreter::from_buffer(
            {reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()}, options);
      }
    } catch (const Error& e) {
      throw py::value_error(e.what());  // TF raises ValueError for a model it cannot load
    }
    const lite::SubGraphDef& g = it_->model().subgraphs.at(0);
    inputs_ = g.inputs;
    outputs_ = g.outputs;
    pending_batch_ = it_->batch();
    refresh();
  }

  void allocate_tensors() {
    if (pending_batch_ != it_->batch()) {
      // A new batch plans new buffers: a view from tensor() would point at freed memory.
      if (views_ > 0)
        throw std::runtime_error(
            "There is at least 1 reference to internal data in the interpreter in the form of a numpy array or "
            "slice. Be sure to only hold the function returned from tensor() if you are using raw data access.");
      try {
        it_->resize_batch(pending_batch_);
      } catch (const Error& e) {
        pending_batch_ = it_->batch();
        throw py::value_error(e.what());
      }
      invoked_ = false;
    }
    refresh();
    allocated_ = true;
  }

  py::list input_details() const {
    py::list l;
    for (size_t i = 0; i < inputs_.size(); ++i) l.append(details(it_->input_info(i), inputs_[i]));
    return l;
  }
  py::list output_details() const {
    py::list l;
    for (size_t i = 0; i < outputs_.size(); ++i) l.append(details(it_->output_info(i), outputs_[i]));
    return l;
  }

  void set_tensor(int tensor_index, const py::object& value) {
    const int i = input_position(tensor_index, "set_tensor");
    if (!allocated_)
      throw py::value_error("Cannot set tensor: Tensor is unallocated. Try calling allocate_tensors() first");
    const Io& io = in_[static_cast<size_t>(i)];
    // A non-contiguous array (or a list) is copied into a C-contiguous one here.
    const py::array a = py::array::ensure(value, py::array::c_style);
    if (!a) throw py::type_error("set_tensor: the value is not convertible to a numpy array");
    if (!py::detail::npy_api::get().PyArray_EquivTypes_(a.dtype().ptr(), io.dtype.ptr()))
      throw py::value_error("Cannot set tensor: Got value of type " + dtype_str(a) + " but expected type " +
                            dtype_str(io.dtype) + " for input " + std::to_string(i) +
                            ", name: " + io.name);
    if (static_cast<size_t>(a.ndim()) != io.shape.size())
      throw py::value_error("Cannot set tensor: Dimension mismatch. Got " + std::to_string(a.ndim()) +
                            " but expected " + std::to_string(io.shape.size()) + " for input " +
                            std::to_string(i) + " (" + io.name + ")");
    for (size_t d = 0; d < io.shape.size(); ++d)
      if (a.shape(static_cast<py::ssize_t>(d)) != io.shape[d])
        throw py::value_error("Cannot set tensor: Dimension mismatch. Got " +
                              std::to_string(a.shape(static_cast<py::ssize_t>(d))) + " but expected " +
                              std::to_string(io.shape[d]) + " for dimension " + std::to_string(d) + " of input " +
                              std::to_string(i) + " (" + io.name + ")");
    std::span<std::byte> dst = it_->input_bytes(static_cast<size_t>(i));
    std::memcpy(dst.data(), a.data(), dst.size());
  }

  void invoke() {
    if (!allocated_) throw py::value_error("Invoke called on model that is not ready: call allocate_tensors() first");
    {
      py::gil_scoped_release release;
      it_->invoke();
    }
    // An output whose shape follows values computed at run time (a dynamic
    // tensor) has the shape of this invoke, as TF's get_tensor reports it.
    for (size_t i = 0; i < outputs_.size(); ++i) out_[i].shape = it_->output_info(i).shape;
    invoked_ = true;
  }

  py::array get_tensor(int tensor_index) const {
    if (!allocated_)
      throw py::value_error("Cannot get tensor: Tensor is unallocated. Try calling allocate_tensors() first");
    for (size_t i = 0; i < outputs_.size(); ++i) {
      if (outputs_[i] != tensor_index) continue;
      if (!invoked_)
        throw py::value_error("get_tensor: output " + std::to_string(i) + " (" + out_[i].name +
                              ") has no value yet: call invoke() first");
      return copy_out(out_[i], it_->output_bytes(i));
    }
    const int i = input_position(tensor_index, "get_tensor");
    return copy_out(in_[static_cast<size_t>(i)], it_->input_bytes(static_cast<size_t>(i)));
  }

  void resize_tensor_input(int tensor_index, const py::object& size, bool strict) {
    const int i = input_position(tensor_index, "resize_tensor_input");
    const py::array_t<int64_t, py::array::c_style | py::array::forcecast> dims(size);
    if (dims.ndim() != 1) throw py::value_error("resize_tensor_input: tensor_size must be a 1-D list of dimensions");
    const Io& io = in_[static_cast<size_t>(i)];
    const std::string what = "resize_tensor_input: input " + std::to_string(i) + " (" + io.name + ") ";
    if (static_cast<size_t>(dims.size()) != io.shape.size())
      throw py::value_error(what + "has rank " + std::to_string(io.shape.size()) + ", got " +
                            std::to_string(dims.size()) + " dimensions");
    for (size_t d = 1; d < io.shape.size(); ++d)
      if (dims.at(static_cast<py::ssize_t>(d)) != io.shape[d])
        throw py::value_error(what + "can change only its batch dimension (0) in the qlite runtime; dimension " +
                              std::to_string(d) + " is " + std::to_string(io.shape[d]) + ", got " +
                              std::to_string(dims.at(static_cast<py::ssize_t>(d))));
    const int64_t n = io.shape.empty() ? 1 : dims.at(0);
    if (!io.shape.empty() && (n < 1 || n > (int64_t{1} << 30)))
      throw py::value_error(what + "batch must be in [1, 2^30], got " + std::to_string(n));
    if (strict && !io.shape.empty() && n != io.shape[0] && io.signature0 != -1)
      throw py::value_error(what + "dimension 0 is not dynamic in the model's shape_signature (strict=True)");
    if (!io.shape.empty() && n != io.shape[0]) {
      pending_batch_ = static_cast<int>(n);
      allocated_ = false;  // as in TensorFlow: allocate_tensors() again before set_tensor / invoke
    }
  }

  // A numpy view of a graph input or output over the runtime's own buffer
  // (tf.lite's Interpreter.tensor). Its base keeps `owner` (the Python
  // interpreter) alive and counts it in views_: while one is alive,
  // allocate_tensors() refuses to change the batch (RuntimeError, as TF's).
  py::array view(int tensor_index, const py::object& owner) {
    if (!allocated_)
      throw py::value_error("Cannot get tensor: Tensor is unallocated. Try calling allocate_tensors() first");
    for (size_t i = 0; i < outputs_.size(); ++i) {
      if (outputs_[i] != tensor_index) continue;
      if (!invoked_)
        throw py::value_error("tensor: output " + std::to_string(i) + " (" + out_[i].name +
                              ") has no value yet: call invoke() first");
      const Io& io = out_[i];
      std::vector<py::ssize_t> shape(io.shape.begin(), io.shape.end());
      py::array a(io.dtype, shape, {}, it_->output_bytes(i).data(), view_base(owner));
      // Outputs are read-only to the caller (the runtime writes them).
      py::detail::array_proxy(a.ptr())->flags &= ~py::detail::npy_api::NPY_ARRAY_WRITEABLE_;
      return a;
    }
    const size_t i = static_cast<size_t>(input_position(tensor_index, "tensor"));
    std::vector<py::ssize_t> shape(in_[i].shape.begin(), in_[i].shape.end());
    return py::array(in_[i].dtype, shape, {}, it_->input_bytes(i).data(), view_base(owner));
  }

  int64_t live_views() const { return views_; }

  int num_threads() const { return it_->thread_pool().num_threads(); }
  std::string isa() const { return isa_name(it_->isa()); }

 private:
  struct Io {
    std::string name;
    py::dtype dtype;
    Shape shape;
    int32_t signature0 = 0;
  };

  // The base object of a view: holds the Python interpreter and counts the view while it lives.
  struct ViewGuard {
    py::object owner;
    PyInterpreter* it;
  };
  py::capsule view_base(const py::object& owner) {
    ++views_;
    return py::capsule(new ViewGuard{owner, this}, [](void* p) {
      auto* g = static_cast<ViewGuard*>(p);
      --g->it->views_;
      delete g;  // releases the interpreter (the capsule is freed with the GIL held)
    });
  }

  py::array copy_out(const Io& io, std::span<const std::byte> bytes) const {
    std::vector<py::ssize_t> shape(io.shape.begin(), io.shape.end());
    py::array a(io.dtype, shape);
    std::memcpy(a.mutable_data(), bytes.data(), bytes.size());
    return a;
  }

  int input_position(int tensor_index, const char* what) const {
    for (size_t i = 0; i < inputs_.size(); ++i)
      if (inputs_[i] == tensor_index) return static_cast<int>(i);
    throw py::value_error(std::string(what) + ": tensor " + std::to_string(tensor_index) +
                          " is not an input of the model (inputs: " + list(inputs_) + ")" +
                          (std::string(what) == "get_tensor" ? " or an output (outputs: " + list(outputs_) + ")" : "") +
                          "; the qlite runtime exposes only the graph inputs and outputs");
  }

  static std::string list(const std::vector<int32_t>& v) {
    std::string s;
    for (int32_t x : v) s += (s.empty() ? "" : ", ") + std::to_string(x);
    return s;
  }

  const lite::TensorDef& def(int32_t tensor_index) const {
    return it_->model().subgraphs.at(0).tensors.at(static_cast<size_t>(tensor_index));
  }

  Io io_of(const runtime::TensorInfo& t, int32_t index) const {
    Io io{t.name, numpy_dtype(t.type), t.shape, 0};
    const lite::TensorDef& d = def(index);
    io.signature0 = d.shape_signature.empty() ? (d.shape.empty() ? 0 : d.shape[0]) : d.shape_signature[0];
    return io;
  }

  void refresh() {
    in_.clear();
    out_.clear();
    for (size_t i = 0; i < inputs_.size(); ++i) in_.push_back(io_of(it_->input_info(i), inputs_[i]));
    for (size_t i = 0; i < outputs_.size(); ++i) out_.push_back(io_of(it_->output_info(i), outputs_[i]));
  }

  py::dict details(const runtime::TensorInfo& t, int32_t index) const {
    const lite::TensorDef& d = def(index);
    py::dict r;
    r["name"] = t.name;
    r["index"] = index;
    r["shape"] = int32_array(t.shape);
    if (d.shape_signature.empty()) {
      r["shape_signature"] = int32_array(t.shape);
    } else {
      r["shape_signature"] = int32_array(Shape(d.shape_signature.begin(), d.shape_signature.end()));
    }
    r["dtype"] = numpy_type(t.type);
    // TF: (scale, zero_point) of a per-tensor quantization, (0.0, 0) otherwise.
    const lite::Quantization& q = t.quantization;
    const bool per_tensor = q.scale.size() == 1 && q.zero_point.size() == 1;
    r["quantization"] = py::make_tuple(per_tensor ? q.scale[0] : 0.0f,
                                       per_tensor ? static_cast<int>(q.zero_point[0]) : 0);
    py::array_t<float> scales(static_cast<py::ssize_t>(q.scale.size()));
    for (size_t k = 0; k < q.scale.size(); ++k) scales.mutable_at(static_cast<py::ssize_t>(k)) = q.scale[k];
    py::array_t<int32_t> zps(static_cast<py::ssize_t>(q.zero_point.size()));
    for (size_t k = 0; k < q.zero_point.size(); ++k)
      zps.mutable_at(static_cast<py::ssize_t>(k)) = static_cast<int32_t>(q.zero_point[k]);
    py::dict qp;
    qp["scales"] = scales;
    qp["zero_points"] = zps;
    qp["quantized_dimension"] = q.quantized_dimension;
    r["quantization_parameters"] = qp;
    r["sparsity_parameters"] = py::dict();
    return r;
  }

  std::unique_ptr<runtime::Interpreter> it_;
  std::vector<int32_t> inputs_, outputs_;  // tensor indices in subgraph 0
  std::vector<Io> in_, out_;               // at the current batch
  int pending_batch_ = 1;
  bool allocated_ = false;
  bool invoked_ = false;
  int64_t views_ = 0;  // numpy arrays alive over the runtime's buffers (tensor())
};

}  // namespace

void bind_lite(py::module_& m) {
  py::class_<PyInterpreter>(m, "Interpreter",
                            "Interpreter(model_path=None, model_content=None, num_threads=None)\n\n"
                            "tf.lite.Interpreter over the qlite runtime: loads and validates a .tflite model "
                            "(a file path, or its bytes), float32, dynamic-range, float16-weight and full int8 "
                            "models. Integer results are bit-identical to TensorFlow Lite 2.9. Raises ValueError "
                            "with the runtime's message for a file it cannot load or run.")
      // TF 2.9's parameters in TF's order; the experimental ones take their defaults only (qlite has no
      // delegates and exposes graph inputs and outputs only).
      .def(py::init([](std::optional<std::string> model_path, std::optional<py::bytes> model_content,
                       const py::object& experimental_delegates, std::optional<int> num_threads,
                       const py::object& experimental_op_resolver_type, bool experimental_preserve_all_tensors) {
             if (!experimental_delegates.is_none() && py::len(experimental_delegates) != 0)
               throw py::value_error("Interpreter: experimental_delegates are not supported by qlite (its kernels "
                                     "are built in; pass none)");
             if (!experimental_op_resolver_type.is_none())
               throw py::value_error("Interpreter: experimental_op_resolver_type is not supported by qlite (one "
                                     "resolver; QLITE_ISA=reference selects the reference kernels)");
             if (experimental_preserve_all_tensors)
               throw py::value_error("Interpreter: experimental_preserve_all_tensors=True is not supported by qlite "
                                     "(only graph inputs and outputs are readable)");
             return std::make_unique<PyInterpreter>(std::move(model_path), std::move(model_content), num_threads);
           }),
           py::arg("model_path") = py::none(), py::arg("model_content") = py::none(),
           py::arg("experimental_delegates") = py::none(), py::arg("num_threads") = py::none(),
           py::arg("experimental_op_resolver_type") = py::none(),
           py::arg("experimental_preserve_all_tensors") = false)
      .def("allocate_tensors", &PyInterpreter::allocate_tensors,
           "Plans the tensors for the current input shapes (after resize_tensor_input, the new batch). "
           "Needed before set_tensor, invoke and get_tensor, as in TensorFlow.")
      .def("get_input_details", &PyInterpreter::input_details,
           "A list with one dict per graph input, with TensorFlow's keys: name, index, shape, "
           "shape_signature, dtype, quantization (scale, zero_point), quantization_parameters "
           "{scales, zero_points, quantized_dimension}, sparsity_parameters.")
      .def("get_output_details", &PyInterpreter::output_details,
           "A list with one dict per graph output, with the keys of get_input_details(). An output whose "
           "shape follows values computed at run time (a dynamic tensor) has the shape of the last invoke().")
      .def("set_tensor", &PyInterpreter::set_tensor, py::arg("tensor_index"), py::arg("value"),
           "Copies a numpy array into the graph input with this index (details['index']). The dtype and "
           "shape must match exactly (ValueError otherwise); a non-contiguous array is copied first.")
      .def("invoke", &PyInterpreter::invoke, "Runs the model once (the GIL is released while it runs).")
      .def("get_tensor", &PyInterpreter::get_tensor, py::arg("tensor_index"),
           "A copy of a graph input or output as a numpy array, at the shape of the last invoke(). Reading an "
           "output before invoke() is a ValueError; intermediate tensors are not exposed by the qlite runtime.")
      .def("resize_tensor_input", &PyInterpreter::resize_tensor_input, py::arg("input_index"),
           py::arg("tensor_size"), py::arg("strict") = false,
           "Changes the batch (dimension 0) of a graph input; call allocate_tensors() afterwards. Other "
           "dimensions are fixed in the qlite runtime (ValueError). strict=True refuses a batch change "
           "when the model's shape_signature does not mark dimension 0 dynamic (-1).")
      .def(
          "tensor",
          [](const py::object& self, int tensor_index) {
            PyInterpreter& it = self.cast<PyInterpreter&>();
            it.view(tensor_index, self);  // checks now, as TF checks the index when tensor() is called
            return py::cpp_function([self, tensor_index]() { return self.cast<PyInterpreter&>().view(tensor_index, self); });
          },
          py::arg("tensor_index"),
          "A function returning a numpy view of a graph input or output over the runtime's buffer (no copy), "
          "as tf.lite's Interpreter.tensor(). Output views are read-only. While a view (or a slice of it) is "
          "alive, allocate_tensors() refuses to change the batch (RuntimeError, as TensorFlow's): hold the "
          "function, not the array.")
      .def(
          "reset_all_variables", [](PyInterpreter& it) { it.reset_variables(); },
          "Resets the variable tensors (an LSTM's state, which otherwise carries over from one invoke() to the "
          "next) to their initial values, as tf.lite's Interpreter.reset_all_variables(); a no-op for a model "
          "without variables.")
      .def_property_readonly("num_threads", &PyInterpreter::num_threads, "Worker threads of the runtime.")
      .def_property_readonly("isa", &PyInterpreter::isa,
                             "The kernel path the runtime chose: 'avx512', 'avx2' or 'reference'.");
}

}  // namespace qlite::python
