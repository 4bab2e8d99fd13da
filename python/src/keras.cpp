// Models, layers, training and datasets: qlite::Model and qlite::layers as the
// Python package's keras wrappers (python/qlite/keras) call them. Arrays are
// converted as Keras converts them: images to float32 (float64 from
// `x / 255.0` included), labels from any integer dtype to int32.
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <limits>

#include "bindings.h"
#include "qlite/data.h"
#include "qlite/train.h"

namespace qlite::python {
namespace {

std::string json_dump(const json& j) { return j.dump(); }

py::object to_python(const json& j) { return py::module_::import("json").attr("loads")(j.dump()); }

Padding padding_from(const std::string& s) {
  if (s == "valid") return Padding::kValid;
  if (s == "same") return Padding::kSame;
  throw py::value_error("padding must be 'valid' or 'same', got '" + s + "'");
}

Activation activation_from(const py::object& a) {
  if (a.is_none()) return Activation::kLinear;
  if (!py::isinstance<py::str>(a)) throw py::type_error("activation must be a string such as 'relu' or None");
  try {
    return activation_from_string(a.cast<std::string>());
  } catch (const Error& e) {
    throw py::value_error(e.what());
  }
}

std::array<int, 2> pair_of(const py::object& o, const char* what) {
  if (py::isinstance<py::int_>(o)) {
    const int v = o.cast<int>();
    return {v, v};
  }
  const auto v = o.cast<std::vector<int>>();
  if (v.size() != 2) throw py::value_error(std::string(what) + " must be an int or a pair of ints");
  return {v[0], v[1]};
}

Shape shape_from(const py::object& o) {
  Shape s;
  for (const py::handle h : o) {
    if (h.is_none()) throw py::value_error("shapes are per sample here: None is only allowed for the batch");
    s.push_back(h.cast<int64_t>());
  }
  return s;
}

py::tuple shape_tuple(const Shape& s) {
  py::list l;
  for (int64_t d : s) l.append(d);
  return py::tuple(l);
}

// Images: any real dtype, converted to float32 as Keras does; C order. A
// float32 C-contiguous array is read in place (Tensor::borrow: the model
// copies its rows batch by batch); other dtypes and layouts are converted
// into a new float32 array first. `keep` holds the array the tensor reads,
// and must outlive it.
Tensor images_from(const py::object& o, const Model& model, const char* what, py::object& keep) {
  const py::array a = py::array::ensure(o);
  if (!a) throw py::type_error(std::string(what) + ": x is not convertible to a numpy array");
  const char kind = a.dtype().kind();
  if (kind != 'f' && kind != 'i' && kind != 'u' && kind != 'b')
    throw py::type_error(std::string(what) + ": x must be a numeric array, got dtype " + dtype_str(a));
  const Shape& sample = model.input_shape();
  bool ok = static_cast<size_t>(a.ndim()) == sample.size() + 1;
  for (size_t i = 0; ok && i < sample.size(); ++i) ok = a.shape(static_cast<py::ssize_t>(i + 1)) == sample[i];
  if (!ok) {
    Shape got(a.shape(), a.shape() + a.ndim());
    throw py::value_error(std::string(what) + ": model '" + model.name() + "' expects input (None" +
                          (sample.empty() ? "" : ", ") + shape_str(sample).substr(1) + " float32, got " +
                          shape_str(got) + " " + dtype_str(a));
  }
  auto f = py::array_t<float, py::array::c_style | py::array::forcecast>::ensure(a);
  if (!f) throw py::type_error(std::string(what) + ": x cannot be converted to float32");
  Tensor t = Tensor::borrow(const_cast<float*>(f.data()), Shape(f.shape(), f.shape() + f.ndim()));
  keep = std::move(f);
  return t;
}

// Sparse labels: (N,) or (N, 1), integer dtype (or float holding integers),
// each a class of the model's output: in [0, classes) (a ValueError otherwise,
// where Keras raises InvalidArgumentError).
Tensor labels_from(const py::object& o, int64_t rows, int64_t classes, const char* what) {
  const py::array a = py::array::ensure(o);
  if (!a) throw py::type_error(std::string(what) + ": y is not convertible to a numpy array");
  const char kind = a.dtype().kind();
  if (kind != 'i' && kind != 'u' && kind != 'f')
    throw py::type_error(std::string(what) + ": labels must be integers, got dtype " + dtype_str(a));
  const bool ok = (a.ndim() == 1 || (a.ndim() == 2 && a.shape(1) == 1)) && a.shape(0) == rows;
  if (!ok) {
    Shape got(a.shape(), a.shape() + a.ndim());
    throw py::value_error(std::string(what) + ": labels must have shape (" + std::to_string(rows) + ",), got " +
                          shape_str(got));
  }
  const auto d = py::array_t<double, py::array::c_style | py::array::forcecast>::ensure(a);
  Tensor t({rows}, DType::kInt32);
  int32_t* p = t.data<int32_t>();
  for (int64_t r = 0; r < rows; ++r) {
    const double v = d.data()[r];
    if (!(v >= -2147483648.0 && v <= 2147483647.0) || v != static_cast<double>(static_cast<int64_t>(v)))
      throw py::value_error(std::string(what) + ": label in row " + std::to_string(r) + " is not an integer class");
    if (v < 0 || v >= static_cast<double>(classes))
      throw py::value_error(std::string(what) + ": received a label value of " + std::to_string(static_cast<int64_t>(v)) +
                            " (row " + std::to_string(r) + ") which is outside the valid range of [0, " +
                            std::to_string(classes) + ")");
    p[r] = static_cast<int32_t>(v);
  }
  return t;
}

// The classes sparse labels index: the last dimension of the model's output.
int64_t output_classes(const Model& m) {
  const Shape& s = m.output_shape();
  return s.empty() ? 1 : s.back();
}

py::array to_numpy(const Tensor& t) {
  std::vector<py::ssize_t> shape(t.shape().begin(), t.shape().end());
  switch (t.dtype()) {
    case DType::kFloat32: {
      py::array_t<float> a(shape);
      std::memcpy(a.mutable_data(), t.raw(), t.nbytes());
      return a;
    }
    case DType::kInt32: {
      py::array_t<int32_t> a(shape);
      std::memcpy(a.mutable_data(), t.raw(), t.nbytes());
      return a;
    }
    case DType::kInt8: {
      py::array_t<int8_t> a(shape);
      std::memcpy(a.mutable_data(), t.raw(), t.nbytes());
      return a;
    }
    case DType::kUInt8: {
      py::array_t<uint8_t> a(shape);
      std::memcpy(a.mutable_data(), t.raw(), t.nbytes());
      return a;
    }
    default: throw py::type_error(std::string("no numpy conversion for ") + dtype_name(t.dtype()));
  }
}

py::list get_weights(Layer& l) {
  py::list out;
  for (Param* p : l.params()) out.append(to_numpy(p->value));
  return out;
}

py::list weight_names(Layer& l) {
  py::list out;
  for (Param* p : l.params()) out.append(l.name() + "/" + p->name);
  return out;
}

// Checks every array before changing anything, so a bad list leaves the weights as they were.
void set_weights(std::vector<Param*> params, const py::list& values, const std::string& who) {
  if (static_cast<size_t>(py::len(values)) != params.size())
    throw py::value_error(who + ": expects " + std::to_string(params.size()) + " weight arrays, got " +
                          std::to_string(py::len(values)));
  std::vector<py::array_t<float, py::array::c_style | py::array::forcecast>> arrays;
  for (size_t i = 0; i < params.size(); ++i) {
    auto a = py::array_t<float, py::array::c_style | py::array::forcecast>::ensure(values[i]);
    if (!a) throw py::type_error(who + ": weight " + std::to_string(i) + " is not a numeric array");
    const Shape got(a.shape(), a.shape() + a.ndim());
    if (got != params[i]->value.shape())
      throw py::value_error(who + ": weight " + std::to_string(i) + " ('" + params[i]->name + "') has shape " +
                            shape_str(params[i]->value.shape()) + ", got " + shape_str(got));
    if (params[i]->value.dtype() != DType::kFloat32)
      throw py::type_error(who + ": weight '" + params[i]->name + "' is not float32");
    arrays.push_back(std::move(a));
  }
  for (size_t i = 0; i < params.size(); ++i)
    std::memcpy(params[i]->value.raw(), arrays[i].data(), params[i]->value.nbytes());
}

std::vector<Param*> model_params(Model& m) {
  std::vector<Param*> all;
  for (Layer* l : m.unique_layers())  // a shared layer's weights once
    for (Param* p : l->params()) all.push_back(p);
  return all;
}

void require_built(Model& m, uint64_t seed = 0) {
  if (!m.is_built()) m.build(seed);
}

// Thrown by the epoch-end hook when a callback set model.stop_training.
struct StopTraining {};

py::dict logs_of(const FitProgress& p) {
  py::dict logs;
  logs["loss"] = p.loss;
  logs["accuracy"] = p.accuracy;
  if (p.val_loss) logs["val_loss"] = *p.val_loss;
  if (p.val_accuracy) logs["val_accuracy"] = *p.val_accuracy;
  return logs;
}

// Keras 2.9's Progbar pieces: a metric value ("%.4f", "%.4e" when |v| is
// not above 1e-3) and a duration per unit (s, ms or us).
std::string keras_value(double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, std::fabs(v) > 1e-3 ? "%.4f" : "%.4e", v);
  return buf;
}
std::string keras_time(double s, const char* unit) {
  char buf[64];
  if (s >= 1 || s == 0)
    std::snprintf(buf, sizeof buf, "%.0fs/%s", s, unit);
  else if (s >= 1e-3)
    std::snprintf(buf, sizeof buf, "%.0fms/%s", s * 1e3, unit);
  else
    std::snprintf(buf, sizeof buf, "%.0fus/%s", s * 1e6, unit);
  return buf;
}

// Keras' verbose=2 line: one per epoch, no bar.
void epoch_line(const FitProgress& p) {
  std::string line = "Epoch " + std::to_string(p.epoch + 1) + "/" + std::to_string(p.epochs) + "\n" +
                     std::to_string(p.steps) + "/" + std::to_string(p.steps);
  char buf[64];
  std::snprintf(buf, sizeof buf, " - %.0fs", p.elapsed_s);
  line += buf;
  line += " - loss: " + keras_value(p.loss) + " - accuracy: " + keras_value(p.accuracy);
  if (p.val_loss) line += " - val_loss: " + keras_value(*p.val_loss);
  if (p.val_accuracy) line += " - val_accuracy: " + keras_value(*p.val_accuracy);
  line += " - " + keras_time(p.elapsed_s, "epoch") + " - " +
          keras_time(p.steps > 0 ? p.elapsed_s / static_cast<double>(p.steps) : 0.0, "step") + "\n";
  std::fputs(line.c_str(), stdout);
  std::fflush(stdout);
}

// fit(..., verbose, on_epoch_end, on_batch_end, terminate_on_nan):
// verbose 0 silent, 1 Keras' progress bar, 2 one line per epoch.
// on_epoch_end(epoch, logs) -> True stops training after that epoch
// (model.stop_training); on_batch_end(batch, logs) is called after every
// batch when given. The GIL is released while C++ trains and taken back for
// the hooks. With terminate_on_nan, a non-finite loss ends fit as Keras'
// TerminateOnNaN does ("terminated" in the result); otherwise it is an Error.
py::dict fit(Model& m, const py::object& x, const py::object& y, int epochs, int batch_size,
             double validation_split, bool shuffle, uint64_t seed, int verbose, const py::object& on_epoch_end,
             const py::object& on_batch_end, bool terminate_on_nan) {
  if (!m.compiled()) throw std::runtime_error("You must compile your model before training/testing. Use `model.compile(optimizer, loss)`.");
  if (epochs < 1) throw py::value_error("fit: epochs must be >= 1");
  if (batch_size < 1) throw py::value_error("fit: batch_size must be >= 1");
  if (verbose < 0 || verbose > 2) throw py::value_error("fit: verbose must be 0, 1, 2 or 'auto'");
  if (!(validation_split >= 0.0 && validation_split < 1.0))
    throw py::value_error("fit: validation_split must be in [0, 1)");
  require_built(m, seed);
  py::object keep_x;  // the array tx reads (x itself when float32 and C-contiguous)
  const Tensor tx = images_from(x, m, "fit", keep_x);
  const Tensor ty = labels_from(y, tx.dim(0), output_classes(m), "fit");
  FitOptions o;
  o.epochs = epochs;
  o.batch_size = batch_size;
  o.validation_split = validation_split;
  o.shuffle = shuffle;
  o.seed = seed;
  ProgressCallback bar = verbose == 1 ? console_progress(stdout) : ProgressCallback{};
  const bool epoch_hook = !on_epoch_end.is_none(), batch_hook = !on_batch_end.is_none();
  FitProgress last;  // the latest report (the running metrics when training stops)
  o.on_progress = [&, bar](const FitProgress& p) {
    last = p;
    if (bar) {
      bar(p);
      if (p.epoch_end) std::fflush(stdout);
    }
    if (verbose == 2 && p.epoch_end) epoch_line(p);
    if (batch_hook && !p.epoch_end) {
      py::gil_scoped_acquire gil;
      on_batch_end(p.step - 1, logs_of(p));
    }
    if (epoch_hook && p.epoch_end) {
      bool stop = false;
      {
        py::gil_scoped_acquire gil;
        stop = on_epoch_end(p.epoch, logs_of(p)).cast<bool>();
      }
      if (stop && p.epoch + 1 < p.epochs) throw StopTraining{};
    }
  };
  py::module_::import("sys").attr("stdout").attr("flush")();
  History h;
  py::object terminated = py::none();
  {
    py::gil_scoped_release release;
    try {
      h = m.fit(tx, ty, o);
    } catch (const StopTraining&) {
    } catch (const TrainingDiverged& e) {
      if (!terminate_on_nan) throw;
      std::fflush(stdout);
      py::gil_scoped_acquire gil;
      py::dict t;
      t["message"] = e.what();
      t["epoch"] = e.epoch;
      t["step"] = e.step;
      FitProgress p = last;
      p.epoch = e.epoch;
      p.loss = std::numeric_limits<double>::quiet_NaN();
      t["logs"] = logs_of(p);
      terminated = t;
    }
    std::fflush(stdout);
  }
  py::dict hist;
  hist["loss"] = h.loss;
  hist["accuracy"] = h.accuracy;
  if (!h.val_loss.empty()) {
    hist["val_loss"] = h.val_loss;
    hist["val_accuracy"] = h.val_accuracy;
  }
  py::dict r;
  r["history"] = hist;
  r["images_per_second"] = h.images_per_second;
  r["train_samples"] = h.train_samples;
  r["val_samples"] = h.val_samples;
  r["terminated"] = terminated;
  return r;
}

py::tuple evaluate(Model& m, const py::object& x, const py::object& y, int batch_size) {
  if (!m.compiled()) throw std::runtime_error("You must compile your model before training/testing. Use `model.compile(optimizer, loss)`.");
  if (batch_size < 1) throw py::value_error("evaluate: batch_size must be >= 1");
  require_built(m);
  py::object keep_x;
  const Tensor tx = images_from(x, m, "evaluate", keep_x);
  const Tensor ty = labels_from(y, tx.dim(0), output_classes(m), "evaluate");
  EvalResult e;
  {
    py::gil_scoped_release release;
    e = m.evaluate(tx, ty, batch_size);
  }
  return py::make_tuple(e.loss, e.accuracy);
}

py::array predict(Model& m, const py::object& x, int batch_size) {
  if (batch_size < 1) throw py::value_error("predict: batch_size must be >= 1");
  require_built(m);
  py::object keep_x;
  const Tensor tx = images_from(x, m, "predict", keep_x);
  Tensor out;
  {
    py::gil_scoped_release release;
    out = m.predict(tx, batch_size);
  }
  return to_numpy(out);
}

// Keras' load_data(): ((x_train, y_train), (x_test, y_test)), uint8 images
// [N, 28, 28] and uint8 labels [N], from what the C++ loader reads (its
// pixels are byte / 255 in float32, which round back to the byte exactly).
py::tuple load_data(const std::string& name) {
  Dataset ds;
  {
    py::gil_scoped_release release;
    ds = load_dataset(name);
  }
  auto split = [](const Split& s) {
    std::vector<py::ssize_t> shape(s.x.shape().begin(), s.x.shape().end());
    py::array_t<uint8_t> x(shape);
    const float* px = s.x.data<float>();
    uint8_t* qx = x.mutable_data();
    for (int64_t i = 0; i < s.x.numel(); ++i) qx[i] = static_cast<uint8_t>(std::lround(px[i] * 255.0f));
    py::array_t<uint8_t> y(static_cast<py::ssize_t>(s.y.numel()));
    const int32_t* py_ = s.y.data<int32_t>();
    for (int64_t i = 0; i < s.y.numel(); ++i) y.mutable_data()[i] = static_cast<uint8_t>(py_[i]);
    return py::make_tuple(x, y);
  };
  return py::make_tuple(split(ds.train), split(ds.test));
}

using ModelPtr = std::shared_ptr<Model>;
ModelPtr share(std::unique_ptr<Model> m) { return ModelPtr(std::move(m)); }

}  // namespace

void bind_keras(py::module_& m) {
  py::class_<Layer, std::shared_ptr<Layer>>(m, "Layer")
      .def_property("name", &Layer::name, &Layer::set_name)
      .def_property_readonly("type", &Layer::type)
      .def_property_readonly("built", &Layer::built)
      .def_property_readonly("num_inputs", &Layer::num_inputs)
      .def_property_readonly("output_shape", [](const Layer& l) { return shape_tuple(l.output_shape()); })
      .def("count_params", &Layer::count_params)
      .def("get_config", [](const Layer& l) { return to_python(l.get_config()); })
      .def("get_config_json", [](const Layer& l) { return json_dump(l.get_config()); })
      .def("get_weights", [](Layer& l) { return get_weights(l); })
      .def("set_weights", [](Layer& l, const py::list& v) { set_weights(l.params(), v, "layer '" + l.name() + "' set_weights"); })
      .def("weight_names", [](Layer& l) { return weight_names(l); })
      .def("clone", [](const Layer& l) { return std::shared_ptr<Layer>(l.clone()); });

  py::class_<SymbolicTensor>(m, "SymbolicTensor")
      .def_property_readonly("layer", [](const SymbolicTensor& t) { return std::shared_ptr<Layer>(t.layer()); })
      .def_property_readonly("shape", [](const SymbolicTensor& t) -> py::object {
        if (!t.layer()->built()) return py::none();
        return shape_tuple(t.layer()->output_shape());
      });

  m.def("call", [](const std::shared_ptr<Layer>& l, const std::vector<SymbolicTensor>& xs, bool as_list) {
    const LayerPtr lp(l);
    return as_list ? lp(xs) : lp(xs.at(0));
  });

  m.def("Input", [](const py::object& shape, const std::string& name) { return layers::Input(shape_from(shape), name); },
        py::arg("shape"), py::arg("name") = "");
  m.def("InputLayer", [](const py::object& shape, const std::string& name) {
    return std::shared_ptr<Layer>(LayerPtr(layers::Input(shape_from(shape), name)));
  });
  m.def("Reshape", [](const py::object& shape, const std::string& name) {
    return std::shared_ptr<Layer>(layers::Reshape(shape_from(shape), name));
  });
  m.def("Flatten", [](const std::string& name) { return std::shared_ptr<Layer>(layers::Flatten(name)); });
  // Initializers arrive as the JSON text of Keras' serialized form (the
  // Python layer classes write it); empty: the layer's default.
  auto initializer = [](const std::string& text, const char* key, Initializer dflt) {
    if (text.empty()) return dflt;
    try {
      return Initializer::from_json(json::parse(text), key);
    } catch (const Error& e) {
      throw py::value_error(e.what());
    }
  };
  m.def("Conv2D", [initializer](int filters, const py::object& k, const py::object& strides,
                                const std::string& padding, const py::object& act, bool use_bias,
                                const std::string& name, const std::string& kernel_init, const std::string& bias_init) {
    return std::shared_ptr<Layer>(layers::Conv2D(
        filters, pair_of(k, "kernel_size"),
        {.strides = pair_of(strides, "strides"), .padding = padding_from(padding), .activation = activation_from(act),
         .use_bias = use_bias, .name = name,
         .kernel_initializer = initializer(kernel_init, "kernel_initializer", Initializer::glorot_uniform()),
         .bias_initializer = initializer(bias_init, "bias_initializer", Initializer::zeros())}));
  });
  m.def("DepthwiseConv2D", [initializer](const py::object& k, const py::object& strides, const std::string& padding,
                                         int depth_multiplier, const py::object& act, bool use_bias,
                                         const std::string& name, const std::string& kernel_init,
                                         const std::string& bias_init) {
    return std::shared_ptr<Layer>(layers::DepthwiseConv2D(
        pair_of(k, "kernel_size"),
        {.strides = pair_of(strides, "strides"), .padding = padding_from(padding),
         .depth_multiplier = depth_multiplier, .activation = activation_from(act), .use_bias = use_bias,
         .name = name,
         .depthwise_initializer = initializer(kernel_init, "depthwise_initializer", Initializer::glorot_uniform()),
         .bias_initializer = initializer(bias_init, "bias_initializer", Initializer::zeros())}));
  });
  auto pool_options = [](const py::object& strides, const std::string& padding, const std::string& name) {
    layers::PoolOptions o;
    if (!strides.is_none()) o.strides = pair_of(strides, "strides");
    o.padding = padding_from(padding);
    o.name = name;
    return o;
  };
  m.def("MaxPooling2D", [pool_options](const py::object& pool, const py::object& strides, const std::string& padding,
                                       const std::string& name) {
    return std::shared_ptr<Layer>(layers::MaxPooling2D(pair_of(pool, "pool_size"), pool_options(strides, padding, name)));
  });
  m.def("AveragePooling2D", [pool_options](const py::object& pool, const py::object& strides,
                                           const std::string& padding, const std::string& name) {
    return std::shared_ptr<Layer>(
        layers::AveragePooling2D(pair_of(pool, "pool_size"), pool_options(strides, padding, name)));
  });
  m.def("Dense", [initializer](int units, const py::object& act, bool use_bias, const std::string& name,
                               const std::string& kernel_init, const std::string& bias_init) {
    return std::shared_ptr<Layer>(layers::Dense(
        units, {.activation = activation_from(act), .use_bias = use_bias, .name = name,
                .kernel_initializer = initializer(kernel_init, "kernel_initializer", Initializer::glorot_uniform()),
                .bias_initializer = initializer(bias_init, "bias_initializer", Initializer::zeros())}));
  });
  m.def("BatchNormalization", [](int axis, float momentum, float epsilon, bool center, bool scale,
                                 const std::string& name) {
    return std::shared_ptr<Layer>(layers::BatchNormalization(
        {.axis = axis, .momentum = momentum, .epsilon = epsilon, .center = center, .scale = scale, .name = name}));
  });
  m.def("Add", [](const std::string& name) { return std::shared_ptr<Layer>(layers::Add(name)); });
  m.def("GlobalAveragePooling2D", [](bool keepdims, const std::string& name) {
    return std::shared_ptr<Layer>(layers::GlobalAveragePooling2D(keepdims, name));
  });
  m.def("ZeroPadding2D", [](const py::object& padding, const std::string& name) {
    layers::Padding2D p{};
    if (py::isinstance<py::int_>(padding)) {
      const int v = padding.cast<int>();
      p = {{{v, v}, {v, v}}};
    } else {
      const py::tuple t = padding.cast<py::tuple>();
      if (t.size() != 2) throw py::value_error("ZeroPadding2D: padding must be an int, 2 ints or 2 pairs");
      for (size_t i = 0; i < 2; ++i) {
        if (py::isinstance<py::int_>(t[i])) {
          p[i] = {t[i].cast<int>(), t[i].cast<int>()};
        } else {
          p[i] = pair_of(t[i], "padding");
        }
      }
    }
    return std::shared_ptr<Layer>(layers::ZeroPadding2D(p, name));
  });
  m.def("Dropout", [](float rate, uint64_t seed, const std::string& name) {
    return std::shared_ptr<Layer>(layers::Dropout(rate, seed, name));
  });
  m.def("Rescaling", [](float scale, float offset, const std::string& name) {
    return std::shared_ptr<Layer>(layers::Rescaling(scale, offset, name));
  });
  m.def("Concatenate", [](int axis, const std::string& name) {
    return std::shared_ptr<Layer>(layers::Concatenate(axis, name));
  });
  m.def("ReLU", [](std::optional<float> max_value, const std::string& name) {
    return std::shared_ptr<Layer>(layers::ReLU(max_value, name));
  });
  m.def("Activation", [](const py::object& act, const std::string& name) {
    return std::shared_ptr<Layer>(layers::ActivationLayer(activation_from(act), name));
  });
  m.def("layer_from_config", [](const std::string& class_name, const std::string& config) {
    return std::shared_ptr<Layer>(layer_from_config(class_name, json::parse(config)));
  });

  py::class_<Model, ModelPtr>(m, "Model")
      .def(py::init([](const SymbolicTensor& in, const SymbolicTensor& out, const std::string& name) {
        return std::make_shared<Model>(in, out, name);
      }))
      .def_property_readonly("name", &Model::name)
      .def_property_readonly("class_name", &Model::class_name)
      .def("build", &Model::build, py::arg("seed") = 0)
      .def_property_readonly("built", &Model::is_built)
      .def_property_readonly("num_layers", &Model::num_layers)
      .def("layer", [](const Model& md, size_t i) { return std::shared_ptr<Layer>(md.nodes().at(i).layer); })
      .def("node_inputs", [](const Model& md, size_t i) { return md.nodes().at(i).inputs; })
      .def("node_call", [](const Model& md, size_t i) { return md.nodes().at(i).call; })
      .def_property_readonly("input_shape", [](Model& md) { require_built(md); return shape_tuple(md.input_shape()); })
      .def_property_readonly("output_shape", [](Model& md) { require_built(md); return shape_tuple(md.output_shape()); })
      .def("compile", [](Model& md, const std::string& optimizer_config, bool from_logits) {
        md.compile(optimizer_from_config(json::parse(optimizer_config)), SparseCategoricalCrossentropy{from_logits});
      })
      .def_property_readonly("compiled", &Model::compiled)
      .def("optimizer_config", [](const Model& md) -> py::object {
        if (!md.optimizer()) return py::none();
        return to_python(optimizer_to_config(*md.optimizer()));
      })
      .def_property_readonly("from_logits", [](const Model& md) { return md.loss().from_logits; })
      .def("set_threads", &Model::set_threads)
      .def("threads", &Model::threads)
      .def("fit", &fit)
      .def("evaluate", &evaluate)
      .def("predict", &predict)
      .def("summary", &Model::summary)
      .def("count_params", [](Model& md) { require_built(md); return md.count_params(); })
      .def("get_weights", [](Model& md) {
        require_built(md);
        py::list out;
        for (Param* p : model_params(md)) out.append(to_numpy(p->value));
        return out;
      })
      .def("set_weights", [](Model& md, const py::list& v) {
        require_built(md);
        set_weights(model_params(md), v, "model '" + md.name() + "' set_weights");
      })
      .def("save", [](Model& md, const std::string& dir) {
        require_built(md);
        py::gil_scoped_release release;
        save_model(md, dir);
      })
      .def("clone", [](const Model& md) { return share(md.clone()); })
      .def("to_json", [](const Model& md) { return json_dump(md.to_json()); });

  py::class_<Sequential, Model, std::shared_ptr<Sequential>>(m, "Sequential")
      .def(py::init<std::string>(), py::arg("name") = "sequential")
      .def("add", [](Sequential& s, const std::shared_ptr<Layer>& l) { s.add(LayerPtr(l)); });

  m.def("load_model", [](const std::string& dir) {
    std::unique_ptr<Model> md;
    {
      py::gil_scoped_release release;
      md = load_model(dir);
    }
    return share(std::move(md));
  });
  m.def("clone_model", [](const Model& md, const py::object& fn) {
    if (fn.is_none()) return share(clone_model(md));
    return share(clone_model(md, [&fn](const Layer& l) -> LayerPtr {
      // The callable gets a copy (the source model is never changed) and returns a layer.
      std::shared_ptr<Layer> copy(l.clone());
      py::object r = fn(copy);
      return LayerPtr(r.cast<std::shared_ptr<Layer>>());
    }));
  });
  m.def("reads_in_place", [](Model& md, const py::object& x) {
    // Whether fit / evaluate / predict would read x in place (no float32 copy).
    require_built(md);
    py::object keep;
    const Tensor t = images_from(x, md, "reads_in_place", keep);
    return keep.is(x) && t.borrowed();
  });
  m.def("make_seed_model", [](int num_classes, uint64_t seed) { return share(make_seed_model(num_classes, seed)); });
  m.def("load_data", &load_data, py::arg("name"));
  m.def("activation_names", [] {
    return std::vector<std::string>{"linear", "relu", "relu6", "sigmoid", "softmax", "tanh", "hard_swish"};
  });
}

}  // namespace qlite::python
