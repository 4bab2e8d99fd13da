// ZeroPadding2D: rows of zeros above and below, columns left and right of
// each NHWC image. Lowered to PAD with the int32 paddings
// [[0, 0], [top, bottom], [left, right], [0, 0]]; int8 PAD keeps its input's
// scale and zero point and pads with the zero point, which is exactly real 0
// (every quantization range contains 0), so QAT passes it through.
#include <cstring>

#include "train/layers/builtin_kinds.h"
#include "train/layers/layer_util.h"

namespace qlite {
namespace {

class ZeroPadding2DLayer final : public Layer {
 public:
  ZeroPadding2DLayer(layers::Padding2D pads, std::string name) : Layer(std::move(name)), pads_(pads) {
    for (const auto& p : pads_)
      check(p[0] >= 0 && p[1] >= 0 && p[0] < (1 << 20) && p[1] < (1 << 20),
            detail::layer_label(*this) + ": padding must be non-negative");
  }
  std::string type() const override { return "ZeroPadding2D"; }
  std::string default_name_stem() const override { return "zero_padding2d"; }

  Shape build(std::span<const Shape> input_shapes, Rng&) override {
    const std::string who = detail::layer_label(*this);
    check(input_shapes.size() == 1, who + ": expects exactly one input");
    const Shape& s = input_shapes[0];
    check(s.size() == 3 && s[0] > 0 && s[1] > 0 && s[2] > 0,
          who + ": needs a per-sample input (height, width, channels), got " + shape_str(s));
    h_ = s[0], w_ = s[1], c_ = s[2];
    mark_built(input_shapes, Shape{h_ + pads_[0][0] + pads_[0][1], w_ + pads_[1][0] + pads_[1][1], c_});
    return output_shape();
  }

  void forward(std::span<const Tensor* const> in, Tensor& out, const RunContext& ctx) override {
    const int64_t n = detail::check_batched_input(*this, in);
    out.resize_batched(n, output_shape());
    const float* x = in[0]->f32();
    float* y = out.f32();
    const int64_t oh = output_shape()[0], ow = output_shape()[1];
    detail::run_chunks(ctx, n, [&](int64_t i0, int64_t i1, int) {
      std::fill(y + i0 * oh * ow * c_, y + i1 * oh * ow * c_, 0.0f);
      for (int64_t i = i0; i < i1; ++i)
        for (int64_t r = 0; r < h_; ++r)
          std::memcpy(y + ((i * oh + r + pads_[0][0]) * ow + pads_[1][0]) * c_, x + (i * h_ + r) * w_ * c_,
                      static_cast<size_t>(w_ * c_) * sizeof(float));
    });
  }

  // The gradient of the cells inside; the padding gets none.
  void backward(std::span<const Tensor* const> in, const Tensor&, const Tensor& dout, std::span<Tensor* const> din,
                const RunContext& ctx) override {
    const int64_t n = detail::check_batched_input(*this, in);
    detail::check_dout(*this, dout, n);
    if (din.empty() || din[0] == nullptr) return;
    din[0]->resize(in[0]->shape());
    const int64_t oh = output_shape()[0], ow = output_shape()[1];
    detail::run_chunks(ctx, n, [&](int64_t i0, int64_t i1, int) {
      for (int64_t i = i0; i < i1; ++i)
        for (int64_t r = 0; r < h_; ++r)
          std::memcpy(din[0]->f32() + (i * h_ + r) * w_ * c_,
                      dout.f32() + ((i * oh + r + pads_[0][0]) * ow + pads_[1][0]) * c_,
                      static_cast<size_t>(w_ * c_) * sizeof(float));
    });
  }

  json get_config() const override {
    return {{"name", name()},
            {"padding", {{pads_[0][0], pads_[0][1]}, {pads_[1][0], pads_[1][1]}}},
            {"data_format", "channels_last"},
            {"trainable", true},
            {"dtype", "float32"}};
  }
  std::unique_ptr<Layer> clone() const override { return std::make_unique<ZeroPadding2DLayer>(*this); }
  const layers::Padding2D& pads() const { return pads_; }

 private:
  layers::Padding2D pads_;
  int64_t h_ = 0, w_ = 0, c_ = 0;
};

}  // namespace

namespace layers {
LayerPtr ZeroPadding2D(Padding2D padding, std::string name) {
  return std::make_shared<ZeroPadding2DLayer>(padding, std::move(name));
}
}  // namespace layers

namespace detail {
namespace {
// Keras: an int (all four sides), a pair (symmetric rows, symmetric columns)
// or a pair of pairs ((top, bottom), (left, right)).
layers::Padding2D config_padding2d(const json& c) {
  if (!c.contains("padding")) return {{{1, 1}, {1, 1}}};
  const json& v = c["padding"];
  auto side = [](const json& x) {
    const int64_t p = config_int(x, "padding");
    check(p >= 0 && p < (1 << 20), "\"padding\" must be non-negative, got " + x.dump());
    return static_cast<int>(p);
  };
  if (v.is_number_integer()) {
    const int p = side(v);
    return {{{p, p}, {p, p}}};
  }
  check(v.is_array() && v.size() == 2, "\"padding\" must be an int, a pair or a pair of pairs, got " + v.dump());
  layers::Padding2D out{};
  for (size_t d = 0; d < 2; ++d) {
    if (v[d].is_number_integer()) {
      out[d][0] = out[d][1] = side(v[d]);
    } else {
      check(v[d].is_array() && v[d].size() == 2, "\"padding\" must be an int, a pair or a pair of pairs, got " +
                                                     v.dump());
      out[d] = {side(v[d][0]), side(v[d][1])};
    }
  }
  return out;
}
LayerPtr zero_padding2d_from_config(const json& c) {
  config_channels_last(c);
  return layers::ZeroPadding2D(config_padding2d(c), config_name(c));
}
OpSpec zero_padding2d_op_spec(const Layer& layer) {
  return {.op = OpKind::kPad, .pads = dynamic_cast<const ZeroPadding2DLayer&>(layer).pads()};
}
}  // namespace

LayerKind zero_padding2d_kind() {
  return {.class_name = "ZeroPadding2D",
          .from_config = &zero_padding2d_from_config,
          .op = OpKind::kPad,
          .op_spec = &zero_padding2d_op_spec,
          .quant_role = QuantRole::kPassThrough};
}
}  // namespace detail
}  // namespace qlite
