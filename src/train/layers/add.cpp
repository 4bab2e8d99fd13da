// Add: the elementwise sum of two same-shaped inputs (Keras' Add with two
// inputs; TFLite's ADD is binary). Residual connections of MobileNet-class
// models. QAT gives its output its own moving-average range and evaluates it
// with TFLite's integer ADD; the converter writes ADD.
#include "train/layers/builtin_kinds.h"
#include "train/layers/layer_util.h"

namespace qlite {
namespace {

class AddLayer final : public Layer {
 public:
  using Layer::Layer;
  std::string type() const override { return "Add"; }
  std::string default_name_stem() const override { return "add"; }
  int num_inputs() const override { return 2; }

  Shape build(std::span<const Shape> input_shapes, Rng&) override {
    check(input_shapes.size() == 2, detail::layer_label(*this) + ": expects exactly two inputs");
    check(input_shapes[0] == input_shapes[1], detail::layer_label(*this) + ": inputs " + shape_str(input_shapes[0]) +
                                                  " and " + shape_str(input_shapes[1]) +
                                                  " differ in shape (no broadcasting)");
    mark_built(input_shapes, input_shapes[0]);
    return input_shapes[0];
  }

  void forward(std::span<const Tensor* const> in, Tensor& out, const RunContext& ctx) override {
    const int64_t n = check_inputs(in);
    out.resize_batched(n, output_shape());
    const float* a = in[0]->f32();
    const float* b = in[1]->f32();
    float* y = out.f32();
    parallel_for(ctx.pool, out.numel(), [&](int64_t s, int64_t e, int) {
      for (int64_t i = s; i < e; ++i) y[i] = a[i] + b[i];
    }, int64_t{1} << 15);
  }

  void backward(std::span<const Tensor* const> in, const Tensor&, const Tensor& dout, std::span<Tensor* const> din,
                const RunContext&) override {
    detail::check_dout(*this, dout, check_inputs(in));
    for (Tensor* d : din)
      if (d != nullptr) {
        d->resize(dout.shape());
        std::copy(dout.f32(), dout.f32() + dout.numel(), d->f32());
      }
  }

  json get_config() const override { return {{"name", name()}, {"trainable", true}, {"dtype", "float32"}}; }
  std::unique_ptr<Layer> clone() const override { return std::make_unique<AddLayer>(*this); }

 private:
  int64_t check_inputs(std::span<const Tensor* const> in) const {
    if (!built()) throw Error(detail::layer_label(*this) + ": forward/backward before build");
    if (in.size() != 2 || in[0] == nullptr || in[1] == nullptr)
      throw Error(detail::layer_label(*this) + ": expects exactly two inputs");
    if (in[0]->shape() != in[1]->shape() || in[0]->dtype() != DType::kFloat32 ||
        in[0]->rank() != output_shape().size() + 1)
      throw Error(detail::layer_label(*this) + ": inputs " + shape_str(in[0]->shape()) + " and " +
                  shape_str(in[1]->shape()) + " do not match its built shape");
    return in[0]->dim(0);
  }
};

}  // namespace

namespace layers {
LayerPtr Add(std::string name) { return std::make_shared<AddLayer>(std::move(name)); }
}  // namespace layers

namespace detail {
namespace {
LayerPtr add_from_config(const json& c) { return layers::Add(config_name(c)); }
OpSpec add_op_spec(const Layer&) { return {.op = OpKind::kAdd}; }
}  // namespace

LayerKind add_kind() {
  return {.class_name = "Add",
          .from_config = &add_from_config,
          .op = OpKind::kAdd,
          .op_spec = &add_op_spec,
          .quant_role = QuantRole::kOutputRange};
}
}  // namespace detail
}  // namespace qlite
