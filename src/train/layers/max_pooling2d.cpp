// MaxPooling2D on NHWC inputs. Forward keeps the argmax of every output so
// backward routes each gradient to the input that won (the first of equal
// maxima in row-major window order; padding never wins).
#include <algorithm>

#include "train/layers/builtin_kinds.h"
#include "train/layers/layer_util.h"

namespace qlite {
namespace {

class MaxPooling2DLayer final : public Layer {
 public:
  MaxPooling2DLayer(std::array<int, 2> pool, layers::PoolOptions o)
      : Layer(o.name), pool_(pool), strides_(o.strides.value_or(pool)), padding_(o.padding) {
    check(pool_[0] > 0 && pool_[1] > 0, detail::layer_label(*this) + ": pool_size must be positive");
    check(strides_[0] > 0 && strides_[1] > 0, detail::layer_label(*this) + ": strides must be positive");
  }

  std::string type() const override { return "MaxPooling2D"; }
  std::string default_name_stem() const override { return "max_pooling2d"; }

  Shape build(std::span<const Shape> input_shapes, Rng&) override {
    const std::string who = detail::layer_label(*this);
    check(input_shapes.size() == 1, who + ": expects exactly one input");
    const Shape& s = input_shapes[0];
    check(s.size() == 3 && s[0] > 0 && s[1] > 0 && s[2] > 0,
          who + ": needs a per-sample input (height, width, channels), got " + shape_str(s));
    check(s[0] * s[1] * s[2] < (int64_t{1} << 31), who + ": input " + shape_str(s) + " too large for 32-bit argmax");
    g_ = {};
    g_.H = s[0];
    g_.W = s[1];
    g_.C = s[2];
    g_.ph = pool_[0];
    g_.pw = pool_[1];
    g_.sh = strides_[0];
    g_.sw = strides_[1];
    if (padding_ == Padding::kValid) {
      check(g_.H >= g_.ph && g_.W >= g_.pw, who + ": pool " + std::to_string(g_.ph) + "x" + std::to_string(g_.pw) +
                                                " is larger than its input " + shape_str(s) + " with 'valid' padding");
      g_.OH = (g_.H - g_.ph) / g_.sh + 1;
      g_.OW = (g_.W - g_.pw) / g_.sw + 1;
    } else {
      int64_t total;
      detail::same_padding(g_.H, g_.ph, g_.sh, &g_.OH, &g_.pad_top, &total);
      detail::same_padding(g_.W, g_.pw, g_.sw, &g_.OW, &g_.pad_left, &total);
    }
    mark_built(input_shapes, Shape{g_.OH, g_.OW, g_.C});
    return output_shape();
  }

  void forward(std::span<const Tensor* const> in, Tensor& out, const RunContext& ctx) override {
    const int64_t n = detail::check_batched_input(*this, in);
    out.resize_batched(n, output_shape());
    argmax_.resize(out.shape(), DType::kInt32);
    const int64_t in_img = g_.H * g_.W * g_.C, out_img = g_.OH * g_.OW * g_.C;
    const Isa isa = active_isa();
    const float* x = in[0]->f32();
    detail::run_chunks(ctx, n, [&](int64_t i0, int64_t i1, int) {
      for (int64_t i = i0; i < i1; ++i)
        kernels::float_maxpool_forward(isa, g_, x + i * in_img, out.f32() + i * out_img,
                                       argmax_.data<int32_t>() + i * out_img);
    });
  }

  void backward(std::span<const Tensor* const> in, const Tensor& out, const Tensor& dout, std::span<Tensor* const> din,
                const RunContext& ctx) override {
    const int64_t n = detail::check_batched_input(*this, in);
    detail::check_dout(*this, dout, n);
    if (din.empty() || din[0] == nullptr) return;
    if (argmax_.shape() != out.shape() || argmax_.dtype() != DType::kInt32)
      throw Error(detail::layer_label(*this) + ": backward without a matching forward");
    din[0]->resize(in[0]->shape());
    const int64_t in_img = g_.H * g_.W * g_.C, out_img = g_.OH * g_.OW * g_.C;
    const Isa isa = active_isa();
    detail::run_chunks(ctx, n, [&](int64_t i0, int64_t i1, int) {
      for (int64_t i = i0; i < i1; ++i)
        kernels::float_maxpool_backward(isa, g_, dout.f32() + i * out_img, argmax_.data<int32_t>() + i * out_img,
                                        din[0]->f32() + i * in_img);
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

  std::unique_ptr<Layer> clone() const override { return std::make_unique<MaxPooling2DLayer>(*this); }

 private:
  std::array<int, 2> pool_;
  std::array<int, 2> strides_;
  Padding padding_;
  kernels::PoolGeom g_;
  Tensor argmax_;  // int32 [N, OH, OW, C], from the last forward
};

}  // namespace

namespace layers {
LayerPtr MaxPooling2D(std::array<int, 2> pool_size, PoolOptions options) {
  return std::make_shared<MaxPooling2DLayer>(pool_size, std::move(options));
}
}  // namespace layers

namespace detail {
LayerPtr max_pooling2d_from_config(const json& c) {
  config_channels_last(c);
  layers::PoolOptions o;
  o.name = config_name(c);
  const std::array<int, 2> pool = c.contains("pool_size") ? config_pair(c["pool_size"], "pool_size")
                                                          : std::array<int, 2>{2, 2};
  if (c.contains("strides") && !c["strides"].is_null()) o.strides = config_pair(c["strides"], "strides");
  o.padding = config_padding(c);
  return layers::MaxPooling2D(pool, o);
}
}  // namespace detail

namespace detail {
namespace {
OpSpec max_pooling2d_op_spec(const Layer& layer) {
  const json c = layer.get_config();
  OpSpec s;
  s.op = OpKind::kMaxPool2D;
  s.kernel = config_pair(c.at("pool_size"), "pool_size");
  s.strides = config_pair(c.at("strides"), "strides");
  s.padding = config_padding(c);
  return s;
}
}  // namespace
LayerKind max_pooling2d_kind() {
  return {.class_name = "MaxPooling2D",
          .from_config = &max_pooling2d_from_config,
          .op = OpKind::kMaxPool2D,
          .op_spec = &max_pooling2d_op_spec,
          .quant_role = QuantRole::kPassThrough};
}
}  // namespace detail

}  // namespace qlite
