// AveragePooling2D on NHWC inputs: the mean of each window's cells inside
// the image ('same' border windows count only those, as Keras and TFLite do).
// Lowered to AVERAGE_POOL_2D; int8 AVERAGE_POOL_2D keeps its input's scale
// and zero point in TFLite 2.9, so QAT passes the quantization through and
// evaluates the op with the integer kernel.
#include <algorithm>

#include "train/layers/builtin_kinds.h"
#include "train/layers/layer_util.h"

namespace qlite {
namespace {

class AveragePooling2DLayer final : public Layer {
 public:
  AveragePooling2DLayer(std::array<int, 2> pool, layers::PoolOptions o)
      : Layer(o.name), pool_(pool), strides_(o.strides.value_or(pool)), padding_(o.padding) {
    check(pool_[0] > 0 && pool_[1] > 0, detail::layer_label(*this) + ": pool_size must be positive");
    check(strides_[0] > 0 && strides_[1] > 0, detail::layer_label(*this) + ": strides must be positive");
  }

  std::string type() const override { return "AveragePooling2D"; }
  std::string default_name_stem() const override { return "average_pooling2d"; }

  Shape build(std::span<const Shape> input_shapes, Rng&) override {
    const std::string who = detail::layer_label(*this);
    check(input_shapes.size() == 1, who + ": expects exactly one input");
    const detail::ConvGeometry g = detail::conv_geometry(who, input_shapes[0], pool_, strides_, padding_, "pool");
    h_ = g.h, w_ = g.w, c_ = g.c, oh_ = g.oh, ow_ = g.ow, top_ = g.pad_top, left_ = g.pad_left;
    mark_built(input_shapes, Shape{oh_, ow_, c_});
    return output_shape();
  }

  void forward(std::span<const Tensor* const> in, Tensor& out, const RunContext& ctx) override {
    const int64_t n = detail::check_batched_input(*this, in);
    out.resize_batched(n, output_shape());
    const float* x = in[0]->f32();
    float* y = out.f32();
    detail::run_chunks(ctx, n, [&](int64_t i0, int64_t i1, int) {
      for (int64_t i = i0; i < i1; ++i)
        for_each_window(i, [&](int64_t o, int64_t y0, int64_t y1, int64_t x0, int64_t x1) {
          const float inv = 1.0f / static_cast<float>((y1 - y0) * (x1 - x0));
          for (int64_t k = 0; k < c_; ++k) {
            float s = 0.0f;
            for (int64_t yy = y0; yy < y1; ++yy)
              for (int64_t xx = x0; xx < x1; ++xx) s += x[((i * h_ + yy) * w_ + xx) * c_ + k];
            y[o + k] = s * inv;
          }
        });
    });
  }

  // Each output's gradient spread evenly over the cells it averaged.
  void backward(std::span<const Tensor* const> in, const Tensor&, const Tensor& dout, std::span<Tensor* const> din,
                const RunContext& ctx) override {
    const int64_t n = detail::check_batched_input(*this, in);
    detail::check_dout(*this, dout, n);
    if (din.empty() || din[0] == nullptr) return;
    din[0]->resize(in[0]->shape());
    const float* dy = dout.f32();
    float* dx = din[0]->f32();
    detail::run_chunks(ctx, n, [&](int64_t i0, int64_t i1, int) {
      std::fill(dx + i0 * h_ * w_ * c_, dx + i1 * h_ * w_ * c_, 0.0f);
      for (int64_t i = i0; i < i1; ++i)
        for_each_window(i, [&](int64_t o, int64_t y0, int64_t y1, int64_t x0, int64_t x1) {
          const float inv = 1.0f / static_cast<float>((y1 - y0) * (x1 - x0));
          for (int64_t yy = y0; yy < y1; ++yy)
            for (int64_t xx = x0; xx < x1; ++xx)
              for (int64_t k = 0; k < c_; ++k) dx[((i * h_ + yy) * w_ + xx) * c_ + k] += dy[o + k] * inv;
        });
    });
  }

  json get_config() const override {
    return {{"name", name()},
            {"pool_size", {pool_[0], pool_[1]}},
            {"strides", {strides_[0], strides_[1]}},
            {"padding", detail::padding_name(padding_)},
            {"data_format", "channels_last"},
            {"trainable", true},
            {"dtype", "float32"}};
  }

  std::unique_ptr<Layer> clone() const override { return std::make_unique<AveragePooling2DLayer>(*this); }

 private:
  // f(output offset of the window's first channel, rows [y0, y1), cols [x0, x1)
  // of the cells inside the image) for every window of image i.
  template <class F>
  void for_each_window(int64_t i, F&& f) const {
    for (int64_t oy = 0; oy < oh_; ++oy) {
      const int64_t ys = oy * strides_[0] - top_;
      const int64_t y0 = std::max<int64_t>(ys, 0), y1 = std::min<int64_t>(ys + pool_[0], h_);
      for (int64_t ox = 0; ox < ow_; ++ox) {
        const int64_t xs = ox * strides_[1] - left_;
        const int64_t x0 = std::max<int64_t>(xs, 0), x1 = std::min<int64_t>(xs + pool_[1], w_);
        f(((i * oh_ + oy) * ow_ + ox) * c_, y0, y1, x0, x1);
      }
    }
  }

  std::array<int, 2> pool_;
  std::array<int, 2> strides_;
  Padding padding_;
  int64_t h_ = 0, w_ = 0, c_ = 0, oh_ = 0, ow_ = 0, top_ = 0, left_ = 0;
};

}  // namespace

namespace layers {
LayerPtr AveragePooling2D(std::array<int, 2> pool_size, PoolOptions options) {
  return std::make_shared<AveragePooling2DLayer>(pool_size, std::move(options));
}
}  // namespace layers

namespace detail {
namespace {
LayerPtr average_pooling2d_from_config(const json& c) {
  config_channels_last(c);
  layers::PoolOptions o;
  o.name = config_name(c);
  const std::array<int, 2> pool = c.contains("pool_size") ? config_pair(c["pool_size"], "pool_size")
                                                          : std::array<int, 2>{2, 2};
  if (c.contains("strides") && !c["strides"].is_null()) o.strides = config_pair(c["strides"], "strides");
  o.padding = config_padding(c);
  return layers::AveragePooling2D(pool, o);
}
OpSpec average_pooling2d_op_spec(const Layer& layer) {
  const json c = layer.get_config();
  OpSpec s;
  s.op = OpKind::kAveragePool2D;
  s.kernel = config_pair(c.at("pool_size"), "pool_size");
  s.strides = config_pair(c.at("strides"), "strides");
  s.padding = config_padding(c);
  return s;
}
}  // namespace
LayerKind average_pooling2d_kind() {
  return {.class_name = "AveragePooling2D",
          .from_config = &average_pooling2d_from_config,
          .op = OpKind::kAveragePool2D,
          .op_spec = &average_pooling2d_op_spec,
          .quant_role = QuantRole::kPassThrough};
}
}  // namespace detail
}  // namespace qlite
