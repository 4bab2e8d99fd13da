// InputLayer: the model's entry; forward copies the batch it is given.
#include <cstring>

#include "train/layers/builtin_kinds.h"
#include "train/layers/layer_util.h"

namespace qlite {
namespace {

class InputLayer final : public Layer {
 public:
  InputLayer(Shape shape, std::string name) : Layer(std::move(name)), shape_(std::move(shape)) {
    for (int64_t d : shape_)
      check(d > 0, "InputLayer '" + this->name() + "': shape " + shape_str(shape_) + " must have positive dims");
  }

  std::string type() const override { return "InputLayer"; }
  std::string default_name_stem() const override { return "input_layer"; }

  // The model may pass the shape it feeds (checked) or nothing.
  Shape build(std::span<const Shape> input_shapes, Rng&) override {
    check(input_shapes.size() <= 1, detail::layer_label(*this) + ": build takes at most one input shape");
    if (input_shapes.size() == 1)
      check(input_shapes[0] == shape_, detail::layer_label(*this) + ": fed shape " + shape_str(input_shapes[0]) +
                                           " differs from its declared shape " + shape_str(shape_));
    const Shape s[1] = {shape_};
    mark_built(s, shape_);
    return shape_;
  }

  void forward(std::span<const Tensor* const> in, Tensor& out, const RunContext&) override {
    const int64_t n = detail::check_batched_input(*this, in);
    out.resize_batched(n, shape_);
    if (out.nbytes()) std::memcpy(out.raw(), in[0]->raw(), out.nbytes());
  }

  void backward(std::span<const Tensor* const>, const Tensor&, const Tensor&, std::span<Tensor* const>,
                const RunContext&) override {}

  json get_config() const override {
    json shape = json::array({nullptr});
    for (int64_t d : shape_) shape.push_back(d);
    return {{"name", name()}, {"batch_input_shape", shape}, {"dtype", "float32"}};
  }

  std::unique_ptr<Layer> clone() const override { return std::make_unique<InputLayer>(*this); }

 private:
  Shape shape_;
};

}  // namespace

namespace layers {
SymbolicTensor Input(Shape shape, std::string name) {
  return SymbolicTensor(std::make_shared<InputLayer>(std::move(shape), std::move(name)), {});
}
}  // namespace layers

namespace detail {
LayerPtr input_from_config(const json& c) {
  if (c.contains("dtype") && !c["dtype"].is_null())
    check(c["dtype"] == "float32", "unsupported dtype " + c["dtype"].dump() + " (only float32)");
  Shape shape;
  const char* batched_key = c.contains("batch_input_shape") ? "batch_input_shape"
                            : c.contains("batch_shape")     ? "batch_shape"
                                                            : nullptr;
  if (batched_key) {
    const json& v = c[batched_key];
    check(v.is_array() && !v.empty(), std::string("\"") + batched_key + "\" must be a list starting with the batch");
    check(v[0].is_null() || v[0].is_number_integer(), std::string("\"") + batched_key + "\" has a bad batch entry");
    for (size_t i = 1; i < v.size(); ++i) shape.push_back(config_int(v[i], batched_key));
  } else {
    check(c.contains("shape"), "missing \"batch_input_shape\" (or \"batch_shape\" / \"shape\")");
    shape = config_shape(c["shape"], "shape");
  }
  return layers::Input(shape, config_name(c));
}
}  // namespace detail

namespace detail {
LayerKind input_kind() { return {.class_name = "InputLayer", .from_config = &input_from_config}; }
}  // namespace detail

}  // namespace qlite
