// GlobalAveragePooling2D: the mean over H and W of an NHWC input, per channel
// ([N, C], or [N, 1, 1, C] with keepdims). Lowered to MEAN over axes {1, 2},
// as TFLite's converter writes it; QAT gives its output its own range and
// evaluates it with the MEAN arithmetic TFLite 2.9 picks for those tensors.
#include "train/layers/builtin_kinds.h"
#include "train/layers/layer_util.h"

namespace qlite {
namespace {

class GlobalAveragePooling2DLayer final : public Layer {
 public:
  GlobalAveragePooling2DLayer(bool keepdims, std::string name) : Layer(std::move(name)), keepdims_(keepdims) {}
  std::string type() const override { return "GlobalAveragePooling2D"; }
  std::string default_name_stem() const override { return "global_average_pooling2d"; }

  Shape build(std::span<const Shape> input_shapes, Rng&) override {
    check(input_shapes.size() == 1 && input_shapes[0].size() == 3,
          detail::layer_label(*this) + ": expects one [H, W, C] input");
    const Shape& s = input_shapes[0];
    check(s[0] > 0 && s[1] > 0, detail::layer_label(*this) + ": empty spatial input " + shape_str(s));
    const Shape out = keepdims_ ? Shape{1, 1, s[2]} : Shape{s[2]};
    mark_built(input_shapes, out);
    return out;
  }

  void forward(std::span<const Tensor* const> in, Tensor& out, const RunContext&) override {
    const int64_t n = detail::check_batched_input(*this, in);
    const Shape& s = input_shapes().at(0);
    const int64_t hw = s[0] * s[1], c = s[2];
    out.resize_batched(n, output_shape());
    const float* x = in[0]->f32();
    float* y = out.f32();
    std::vector<double> acc(static_cast<size_t>(c));
    for (int64_t b = 0; b < n; ++b) {
      std::fill(acc.begin(), acc.end(), 0.0);
      for (int64_t p = 0; p < hw; ++p)
        for (int64_t k = 0; k < c; ++k) acc[static_cast<size_t>(k)] += x[(b * hw + p) * c + k];
      for (int64_t k = 0; k < c; ++k) y[b * c + k] = static_cast<float>(acc[static_cast<size_t>(k)] / static_cast<double>(hw));
    }
  }

  void backward(std::span<const Tensor* const> in, const Tensor&, const Tensor& dout, std::span<Tensor* const> din,
                const RunContext&) override {
    const int64_t n = detail::check_batched_input(*this, in);
    detail::check_dout(*this, dout, n);
    if (din.empty() || din[0] == nullptr) return;
    const Shape& s = input_shapes().at(0);
    const int64_t hw = s[0] * s[1], c = s[2];
    din[0]->resize(in[0]->shape());
    const float* dy = dout.f32();
    float* dx = din[0]->f32();
    const float inv = 1.0f / static_cast<float>(hw);
    for (int64_t b = 0; b < n; ++b)
      for (int64_t p = 0; p < hw; ++p)
        for (int64_t k = 0; k < c; ++k) dx[(b * hw + p) * c + k] = dy[b * c + k] * inv;
  }

  json get_config() const override {
    return {{"name", name()}, {"data_format", "channels_last"}, {"keepdims", keepdims_}, {"trainable", true},
            {"dtype", "float32"}};
  }
  std::unique_ptr<Layer> clone() const override { return std::make_unique<GlobalAveragePooling2DLayer>(*this); }
  bool keepdims() const { return keepdims_; }

 private:
  bool keepdims_;
};

}  // namespace

namespace layers {
LayerPtr GlobalAveragePooling2D(bool keepdims, std::string name) {
  return std::make_shared<GlobalAveragePooling2DLayer>(keepdims, std::move(name));
}
}  // namespace layers

namespace detail {
namespace {
LayerPtr gap_from_config(const json& c) {
  config_channels_last(c);
  return layers::GlobalAveragePooling2D(config_bool(c, "keepdims", false), config_name(c));
}
OpSpec gap_op_spec(const Layer& layer) {
  return {.op = OpKind::kMean, .keep_dims = dynamic_cast<const GlobalAveragePooling2DLayer&>(layer).keepdims()};
}
}  // namespace

LayerKind global_average_pooling2d_kind() {
  return {.class_name = "GlobalAveragePooling2D",
          .from_config = &gap_from_config,
          .op = OpKind::kMean,
          .op_spec = &gap_op_spec,
          .quant_role = QuantRole::kOutputRange};
}
}  // namespace detail
}  // namespace qlite
