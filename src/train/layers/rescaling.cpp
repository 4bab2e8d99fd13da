// Rescaling(scale, offset): y = x * scale + offset, Keras' preprocessing
// layer (Rescaling(1 / 255) in front of a network). No weights. It is a
// per-channel affine map like an inference batch norm (as_channel_affine),
// so the shared rewrite folds it into a linear Conv2D / DepthwiseConv2D /
// Dense before it, and elsewhere (on the input, most often) makes it a 1x1
// DepthwiseConv2D with the scale as kernel and the offset as bias, whose
// weights QAT does not train (the layer had none to train).
#include <cmath>

#include "train/layers/builtin_kinds.h"
#include "train/layers/layer_util.h"

namespace qlite {
namespace {

class RescalingLayer final : public Layer {
 public:
  RescalingLayer(float scale, float offset, std::string name)
      : Layer(std::move(name)), scale_(scale), offset_(offset) {
    check(std::isfinite(scale) && std::isfinite(offset),
          detail::layer_label(*this) + ": scale and offset must be finite");
  }
  std::string type() const override { return "Rescaling"; }
  std::string default_name_stem() const override { return "rescaling"; }

  Shape build(std::span<const Shape> input_shapes, Rng&) override {
    check(input_shapes.size() == 1 && !input_shapes[0].empty(),
          detail::layer_label(*this) + ": expects exactly one input with at least one dimension per sample");
    mark_built(input_shapes, input_shapes[0]);
    return input_shapes[0];
  }

  void forward(std::span<const Tensor* const> in, Tensor& out, const RunContext& ctx) override {
    const int64_t n = detail::check_batched_input(*this, in);
    out.resize_batched(n, output_shape());
    const float* x = in[0]->f32();
    float* y = out.f32();
    const float s = scale_, o = offset_;
    parallel_for(ctx.pool, out.numel(), [&](int64_t b, int64_t e, int) {
      for (int64_t i = b; i < e; ++i) y[i] = x[i] * s + o;
    }, int64_t{1} << 15);
  }

  // dx = dy * scale.
  void backward(std::span<const Tensor* const> in, const Tensor&, const Tensor& dout, std::span<Tensor* const> din,
                const RunContext& ctx) override {
    detail::check_dout(*this, dout, detail::check_batched_input(*this, in));
    if (din.empty() || din[0] == nullptr) return;
    din[0]->resize(dout.shape());
    const float* dy = dout.f32();
    float* dx = din[0]->f32();
    const float s = scale_;
    parallel_for(ctx.pool, dout.numel(), [&](int64_t b, int64_t e, int) {
      for (int64_t i = b; i < e; ++i) dx[i] = dy[i] * s;
    }, int64_t{1} << 15);
  }

  json get_config() const override {
    return {{"name", name()}, {"scale", scale_}, {"offset", offset_}, {"trainable", true}, {"dtype", "float32"}};
  }
  std::unique_ptr<Layer> clone() const override { return std::make_unique<RescalingLayer>(*this); }
  float scale() const { return scale_; }
  float offset() const { return offset_; }

 private:
  float scale_, offset_;
};

}  // namespace

namespace layers {
LayerPtr Rescaling(float scale, float offset, std::string name) {
  return std::make_shared<RescalingLayer>(scale, offset, std::move(name));
}
}  // namespace layers

namespace detail {
namespace {
float config_scalar(const json& c, const char* key, float dflt) {
  if (!c.contains(key) || c[key].is_null()) return dflt;
  check(c[key].is_number(), std::string("\"") + key + "\" must be a number (qlite takes no per-channel lists), got " +
                                c[key].dump());
  return c[key].get<float>();
}
LayerPtr rescaling_from_config(const json& c) {
  check(c.contains("scale"), "missing \"scale\"");
  return layers::Rescaling(config_scalar(c, "scale", 1.0f), config_scalar(c, "offset", 0.0f), config_name(c));
}
// The same scale and offset for every channel (the last axis).
std::optional<ChannelAffine> rescaling_affine(const Layer& layer) {
  const auto& r = dynamic_cast<const RescalingLayer&>(layer);
  if (!r.built() || r.input_shapes().empty() || r.input_shapes()[0].empty()) return std::nullopt;
  const auto c = static_cast<size_t>(r.input_shapes()[0].back());
  return ChannelAffine{std::vector<float>(c, r.scale()), std::vector<float>(c, r.offset())};
}
}  // namespace

LayerKind rescaling_kind() {
  return {.class_name = "Rescaling", .from_config = &rescaling_from_config, .as_channel_affine = &rescaling_affine};
}
}  // namespace detail
}  // namespace qlite
