// Reshape (per-sample target shape, one -1 allowed) and Flatten (keeps the batch).
#include <cstring>

#include "train/layers/builtin_kinds.h"
#include "train/layers/layer_util.h"

namespace qlite {
namespace {

// Both layers only reinterpret the per-sample shape; data is copied as is.
class ReshapeBase : public Layer {
 public:
  using Layer::Layer;

  void forward(std::span<const Tensor* const> in, Tensor& out, const RunContext&) override {
    const int64_t n = detail::check_batched_input(*this, in);
    out.resize_batched(n, output_shape());
    if (out.nbytes()) std::memcpy(out.raw(), in[0]->raw(), out.nbytes());
  }

  void backward(std::span<const Tensor* const> in, const Tensor&, const Tensor& dout, std::span<Tensor* const> din,
                const RunContext&) override {
    const int64_t n = detail::check_batched_input(*this, in);
    detail::check_dout(*this, dout, n);
    if (din.empty() || din[0] == nullptr) return;
    din[0]->resize(in[0]->shape());
    if (dout.nbytes()) std::memcpy(din[0]->raw(), dout.raw(), dout.nbytes());
  }
};

class ReshapeLayer final : public ReshapeBase {
 public:
  ReshapeLayer(Shape target, std::string name) : ReshapeBase(std::move(name)), target_(std::move(target)) {
    int unknown = 0;
    for (int64_t d : target_) {
      check(d > 0 || d == -1, detail::layer_label(*this) + ": target_shape " + shape_str(target_) +
                                  " may hold positive dims and one -1");
      unknown += d == -1;
    }
    check(unknown <= 1, detail::layer_label(*this) + ": target_shape " + shape_str(target_) + " has more than one -1");
  }

  std::string type() const override { return "Reshape"; }
  std::string default_name_stem() const override { return "reshape"; }

  Shape build(std::span<const Shape> input_shapes, Rng&) override {
    check(input_shapes.size() == 1, detail::layer_label(*this) + ": expects exactly one input");
    const int64_t total = shape_numel(input_shapes[0]);
    Shape out = target_;
    int64_t known = 1;
    int64_t* unknown = nullptr;
    for (int64_t& d : out) {
      if (d == -1) unknown = &d;
      else known *= d;
    }
    if (unknown) {
      check(known > 0 && total % known == 0, detail::layer_label(*this) + ": cannot reshape " +
                                                 shape_str(input_shapes[0]) + " to " + shape_str(target_));
      *unknown = total / known;
    }
    check(shape_numel(out) == total, detail::layer_label(*this) + ": cannot reshape " + shape_str(input_shapes[0]) +
                                         " (" + std::to_string(total) + " values) to " + shape_str(target_));
    mark_built(input_shapes, out);
    return out;
  }

  json get_config() const override {
    return {{"name", name()}, {"target_shape", detail::shape_json(target_)}, {"trainable", true}, {"dtype", "float32"}};
  }

  std::unique_ptr<Layer> clone() const override { return std::make_unique<ReshapeLayer>(*this); }

 private:
  Shape target_;
};

class FlattenLayer final : public ReshapeBase {
 public:
  using ReshapeBase::ReshapeBase;
  std::string type() const override { return "Flatten"; }
  std::string default_name_stem() const override { return "flatten"; }

  Shape build(std::span<const Shape> input_shapes, Rng&) override {
    check(input_shapes.size() == 1, detail::layer_label(*this) + ": expects exactly one input");
    Shape out{shape_numel(input_shapes[0])};
    mark_built(input_shapes, out);
    return out;
  }

  json get_config() const override {
    return {{"name", name()}, {"data_format", "channels_last"}, {"trainable", true}, {"dtype", "float32"}};
  }

  std::unique_ptr<Layer> clone() const override { return std::make_unique<FlattenLayer>(*this); }
};

}  // namespace

namespace layers {
LayerPtr Reshape(Shape target_shape, std::string name) {
  return std::make_shared<ReshapeLayer>(std::move(target_shape), std::move(name));
}
LayerPtr Flatten(std::string name) { return std::make_shared<FlattenLayer>(std::move(name)); }
}  // namespace layers

namespace detail {
LayerPtr reshape_from_config(const json& c) {
  check(c.contains("target_shape"), "missing \"target_shape\"");
  return layers::Reshape(config_shape(c["target_shape"], "target_shape"), config_name(c));
}
LayerPtr flatten_from_config(const json& c) {
  config_channels_last(c);
  return layers::Flatten(config_name(c));
}
}  // namespace detail

namespace detail {
namespace {
OpSpec reshape_op_spec(const Layer&) { return {.op = OpKind::kReshape}; }
}  // namespace
LayerKind reshape_kind() {
  return {.class_name = "Reshape",
          .from_config = &reshape_from_config,
          .op = OpKind::kReshape,
          .op_spec = &reshape_op_spec,
          .quant_role = QuantRole::kPassThrough};
}
LayerKind flatten_kind() {
  return {.class_name = "Flatten",
          .from_config = &flatten_from_config,
          .op = OpKind::kReshape,
          .op_spec = &reshape_op_spec,
          .quant_role = QuantRole::kPassThrough};
}
}  // namespace detail

}  // namespace qlite
