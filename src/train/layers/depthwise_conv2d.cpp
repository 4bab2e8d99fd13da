// DepthwiseConv2D on NHWC inputs: Keras' depthwise_kernel [kh, kw, in,
// multiplier], output channel c * multiplier + m reading input channel c,
// 'valid'/'same' padding, strides and a fused activation.
//
// Each image is first brought to the output's channel layout: input channel
// c repeated `multiplier` times, inside a zero border for 'same' padding.
// The kernel, read as [kh * kw][in * multiplier], then pairs channel for
// channel with that image, so the float kernels (float_kernels.h) run with
// the channels innermost and vectorised, and every window lies inside the
// image. The input gradient comes back in that layout and is summed over
// the multiplier and cropped. Without padding and with multiplier 1 the
// image is used as it is.
#include <algorithm>
#include <cstring>

#include "train/layers/builtin_kinds.h"
#include "train/layers/hooked_layer.h"
#include "train/layers/layer_util.h"

namespace qlite {
namespace {

// GCC's -O2 vectorizes only loops it needs no scalar remainder for; these
// two, run on every image with a depth multiplier, are worth its full cost
// model (4 lanes of SSE2 instead of one).
#if defined(__GNUC__) && !defined(__clang__)
#define QLITE_DW_VECTORIZE __attribute__((optimize("vect-cost-model=dynamic")))
#else
#define QLITE_DW_VECTORIZE
#endif

// d[k * m + j] = s[k] for j < m: each input channel repeated m times.
QLITE_DW_VECTORIZE void repeat_channels(const float* s, float* d, int64_t n, int64_t m) {
  if (m == 2) {
    for (int64_t k = 0; k < n; ++k) {
      d[2 * k] = s[k];
      d[2 * k + 1] = s[k];
    }
    return;
  }
  for (int64_t k = 0; k < n; ++k)
    for (int64_t j = 0; j < m; ++j) d[k * m + j] = s[k];
}

// d[k] = s[k * m] + s[k * m + 1] + ... (j ascending): the gradient of a
// repeated channel.
QLITE_DW_VECTORIZE void sum_channels(const float* s, float* d, int64_t n, int64_t m) {
  if (m == 2) {
    for (int64_t k = 0; k < n; ++k) d[k] = s[2 * k] + s[2 * k + 1];
    return;
  }
  for (int64_t k = 0; k < n; ++k) {
    float acc = s[k * m];
    for (int64_t j = 1; j < m; ++j) acc += s[k * m + j];
    d[k] = acc;
  }
}

class DepthwiseConv2DLayer final : public detail::HookedLayer<DepthwiseConv2DLayer> {
 public:
  DepthwiseConv2DLayer(std::array<int, 2> ks, layers::DepthwiseConv2DOptions o)
      : HookedLayer(o.name), ks_(ks), strides_(o.strides), padding_(o.padding), mult_(o.depth_multiplier),
        act_(o.activation), use_bias_(o.use_bias), kernel_init_(o.depthwise_initializer),
        bias_init_(o.bias_initializer) {
    check(ks[0] > 0 && ks[1] > 0, detail::layer_label(*this) + ": kernel_size must be positive");
    check(strides_[0] > 0 && strides_[1] > 0, detail::layer_label(*this) + ": strides must be positive");
    check(mult_ > 0, detail::layer_label(*this) + ": depth_multiplier must be positive, got " + std::to_string(mult_));
    detail::kernel_act(act_);  // refuses activations training has no form of
    kernel_.name = "depthwise_kernel";
    bias_.name = "bias";
  }

  std::string type() const override { return "DepthwiseConv2D"; }
  Activation activation() const { return act_; }
  std::string default_name_stem() const override { return "depthwise_conv2d"; }

  Shape build(std::span<const Shape> input_shapes, Rng& rng) override {
    const std::string who = detail::layer_label(*this);
    check(input_shapes.size() == 1, who + ": expects exactly one input");
    const Shape& s = input_shapes[0];
    if (built()) {
      check(s == Layer::input_shapes().at(0), who + ": already built for input " + shape_str(Layer::input_shapes().at(0)) +
                                           ", cannot rebuild for " + shape_str(s));
      return output_shape();
    }
    const detail::ConvGeometry g = detail::conv_geometry(who, s, ks_, strides_, padding_);
    h_ = g.h, w_ = g.w, cin_ = g.c, oh_ = g.oh, ow_ = g.ow;
    pad_top_ = g.pad_top, pad_left_ = g.pad_left, hp_ = g.hp, wp_ = g.wp;
    c_ = cin_ * mult_;
    check(hp_ * wp_ * c_ < (int64_t{1} << 40), who + ": input too large");
    // Keras draws it on shape (kh, kw, in, multiplier): fan in is the
    // receptive field times in, fan out the field times the multiplier.
    detail::check_weight_shape(who, "depthwise_kernel", Shape{ks_[0], ks_[1], cin_, mult_});
    kernel_.value.resize({ks_[0], ks_[1], cin_, mult_});
    kernel_init_.fill(kernel_.value, rng);
    kernel_.grad = Tensor(kernel_.value.shape());
    if (use_bias_) {
      bias_.value = Tensor({c_});
      bias_init_.fill(bias_.value, rng);
      bias_.grad = Tensor({c_});
    }
    mark_built(input_shapes, Shape{oh_, ow_, c_});
    return output_shape();
  }

 private:
  friend class detail::HookedLayer<DepthwiseConv2DLayer>;

  void forward_impl(std::span<const Tensor* const> in, Tensor& out, const RunContext& ctx, OutputHooks* hooks) {
    const int64_t n = detail::check_batched_input(*this, in);
    out.resize_batched(n, output_shape());
    const kernels::DepthwiseGeom g = geom();
    const float* b = use_bias_ ? bias_.value.f32() : nullptr;
    const float* w = kernel_.value.f32();
    const Isa isa = active_isa();
    const int64_t out_img = oh_ * ow_ * c_;
    const float* x = in[0]->f32();
    float* y = out.f32();
    grow_scratch(ctx, false);
    detail::run_chunks(ctx, n, [&](int64_t i0, int64_t i1, int c) {
      for (int64_t i = i0; i < i1; ++i) {
        kernels::float_depthwise_forward(isa, g, expanded(x, i, c), w, b, detail::kernel_act(act_), y + i * out_img);
        if (hooks) hooks->on_forward(c, y + i * out_img, out_img);
      }
    });
  }

  // As Conv2D: without an input gradient the activation gradient is fused
  // into the weight-gradient pass; with one, dz is materialised once for
  // both. With hooks and no input gradient, each image's hooked gradient
  // goes to a per-chunk scratch image.
  void backward_impl(std::span<const Tensor* const> in, const Tensor& out, const Tensor& dout,
                     std::span<Tensor* const> din, const RunContext& ctx, OutputHooks* hooks) {
    const int64_t n = detail::check_batched_input(*this, in);
    detail::check_dout(*this, dout, n);
    const Isa isa = active_isa();
    const int chunks = detail::num_chunks(ctx);
    const int64_t taps = int64_t{ks_[0]} * ks_[1];
    const int64_t wsize = taps * c_ + c_;
    const int64_t out_img = oh_ * ow_ * c_;
    const kernels::DepthwiseGeom g = geom();
    const float* x = in[0]->f32();

    Tensor* dx = din.empty() ? nullptr : din[0];
    const bool materialize = dx != nullptr && (act_ != Activation::kLinear || hooks);
    const bool per_image = hooks && !materialize;
    const bool hook_act = hooks && hooks->applies_activation_gradient();
    const float* dz = dout.f32();
    if (materialize) {
      dz_.resize(dout.shape());
      dz = dz_.f32();
    }
    if (per_image) dz_.resize({chunks, out_img});
    const kernels::FloatAct wact =
        materialize || hook_act ? kernels::FloatAct::kLinear : detail::kernel_act(act_);
    kernel_.grad.zero();
    if (use_bias_) bias_.grad.zero();
    if (chunks > 1) {
      partial_.resize({chunks - 1, wsize});
      partial_.zero();
    }
    if (dx) dx->resize(in[0]->shape());
    grow_scratch(ctx, dx != nullptr);
    detail::run_chunks(ctx, n, [&](int64_t i0, int64_t i1, int c) {
      if (materialize)
        detail::pre_activation_gradient(isa, act_, hooks, c, out.f32() + i0 * out_img, dout.f32() + i0 * out_img,
                                        dz_.f32() + i0 * out_img, (i1 - i0) * out_img);
      // Chunk 0 accumulates straight into the gradients, the others into
      // scratch added below in chunk order, so results are reproducible.
      float* dw = c == 0 ? kernel_.grad.f32() : partial_.f32() + (c - 1) * wsize;
      float* db = nullptr;
      if (use_bias_) db = c == 0 ? bias_.grad.f32() : dw + taps * c_;
      for (int64_t i = i0; i < i1; ++i) {
        const float* dzi = dz + i * out_img;
        if (per_image) {
          float* d = dz_.f32() + c * out_img;
          hooks->on_backward(c, out.f32() + i * out_img, dout.f32() + i * out_img, d, out_img);
          dzi = d;
        }
        kernels::float_depthwise_wgrad(isa, g, expanded(x, i, c), dzi, out.f32() + i * out_img, wact, dw, db);
        if (dx) input_gradient(isa, g, dzi, i, c, dx->f32());
      }
    });
    for (int c = 1; c < chunks; ++c) {
      const float* p = partial_.f32() + (c - 1) * wsize;
      float* gw = kernel_.grad.f32();
      for (int64_t i = 0; i < taps * c_; ++i) gw[i] += p[i];
      if (use_bias_)
        for (int64_t i = 0; i < c_; ++i) bias_.grad.f32()[i] += p[taps * c_ + i];
    }
  }

 public:
  std::vector<Param*> params() override {
    if (use_bias_) return {&kernel_, &bias_};
    return {&kernel_};
  }

  json get_config() const override {
    return {{"name", name()},
            {"kernel_size", {ks_[0], ks_[1]}},
            {"strides", {strides_[0], strides_[1]}},
            {"padding", detail::padding_name(padding_)},
            {"depth_multiplier", mult_},
            {"data_format", "channels_last"},
            {"dilation_rate", {1, 1}},
            {"groups", 1},
            {"activation", activation_name(act_)},
            {"use_bias", use_bias_},
            {"depthwise_initializer", kernel_init_.to_json()},
            {"bias_initializer", bias_init_.to_json()},
            {"trainable", true},
            {"dtype", "float32"}};
  }

  std::unique_ptr<Layer> clone() const override { return std::make_unique<DepthwiseConv2DLayer>(*this); }

 private:
  // The image goes through scratch when it is padded or its channels repeat.
  bool reshaped() const { return hp_ != h_ || wp_ != w_ || mult_ != 1; }

  kernels::DepthwiseGeom geom() const {
    kernels::DepthwiseGeom g;
    g.H = hp_;
    g.W = wp_;
    g.C = c_;
    g.OH = oh_;
    g.OW = ow_;
    g.kh = ks_[0];
    g.kw = ks_[1];
    g.sh = strides_[0];
    g.sw = strides_[1];
    return g;
  }

  // One scratch image per chunk for the expanded input and, in backward
  // with an input gradient, one for its gradient.
  void grow_scratch(const RunContext& ctx, bool input_gradient) {
    const int64_t chunks = detail::num_chunks(ctx);
    const int64_t img = hp_ * wp_ * c_;
    if (reshaped() && xe_.numel() < chunks * img) xe_.resize({chunks, img});
    if (input_gradient && reshaped() && de_.numel() < chunks * img) de_.resize({chunks, img});
  }

  // Image i of x in the output's channel layout and padded (chunk c's
  // scratch), or x's own image when nothing changes.
  const float* expanded(const float* x, int64_t i, int c) {
    const float* src = x + i * h_ * w_ * cin_;
    if (!reshaped()) return src;
    float* dst = xe_.f32() + c * hp_ * wp_ * c_;
    // Zeros only where the padding is: the rows above and below, and each
    // image row's left and right ends.
    const int64_t row = wp_ * c_, left = pad_left_ * c_, right = (wp_ - pad_left_ - w_) * c_;
    std::fill(dst, dst + pad_top_ * row, 0.0f);
    std::fill(dst + (pad_top_ + h_) * row, dst + hp_ * row, 0.0f);
    for (int64_t y = 0; y < h_; ++y) {
      const float* s = src + y * w_ * cin_;
      float* d = dst + ((y + pad_top_) * wp_ + pad_left_) * c_;
      std::fill(d - left, d, 0.0f);
      std::fill(d + w_ * c_, d + w_ * c_ + right, 0.0f);
      if (mult_ == 1) std::memcpy(d, s, static_cast<size_t>(w_ * cin_) * sizeof(float));
      else repeat_channels(s, d, w_ * cin_, mult_);
    }
    return dst;
  }

  // dx for image i from its output gradient dzi: the kernels' gradient in
  // the expanded layout, summed over the multiplier (m ascending) and cropped.
  void input_gradient(Isa isa, const kernels::DepthwiseGeom& g, const float* dzi, int64_t i, int c, float* dx) {
    float* dst = dx + i * h_ * w_ * cin_;
    if (!reshaped()) {
      kernels::float_depthwise_dgrad(isa, g, dzi, kernel_.value.f32(), dst);
      return;
    }
    float* de = de_.f32() + c * hp_ * wp_ * c_;
    kernels::float_depthwise_dgrad(isa, g, dzi, kernel_.value.f32(), de);
    for (int64_t y = 0; y < h_; ++y) {
      const float* s = de + ((y + pad_top_) * wp_ + pad_left_) * c_;
      float* d = dst + y * w_ * cin_;
      if (mult_ == 1) std::memcpy(d, s, static_cast<size_t>(w_ * cin_) * sizeof(float));
      else sum_channels(s, d, w_ * cin_, mult_);
    }
  }

  std::array<int, 2> ks_;
  std::array<int, 2> strides_;
  Padding padding_;
  int64_t mult_;
  Activation act_;
  bool use_bias_;
  Initializer kernel_init_, bias_init_;
  Param kernel_, bias_;
  int64_t h_ = 0, w_ = 0, cin_ = 0, c_ = 0, oh_ = 0, ow_ = 0, hp_ = 0, wp_ = 0, pad_top_ = 0, pad_left_ = 0;
  Tensor dz_, partial_, xe_, de_;  // scratch reused across steps
};

}  // namespace

namespace layers {
LayerPtr DepthwiseConv2D(std::array<int, 2> kernel_size, DepthwiseConv2DOptions options) {
  return std::make_shared<DepthwiseConv2DLayer>(kernel_size, std::move(options));
}
}  // namespace layers

namespace detail {
namespace {

LayerPtr depthwise_conv2d_from_config(const json& c) {
  config_channels_last(c);
  if (c.contains("dilation_rate") && !c["dilation_rate"].is_null())
    check(config_pair(c["dilation_rate"], "dilation_rate") == std::array<int, 2>{1, 1},
          "unsupported dilation_rate " + c["dilation_rate"].dump() + " (only 1)");
  if (c.contains("groups") && !c["groups"].is_null())
    check(c["groups"] == 1, "unsupported groups " + c["groups"].dump() + " (only 1)");
  layers::DepthwiseConv2DOptions o;
  o.name = config_name(c);
  check(c.contains("kernel_size"), "missing \"kernel_size\"");
  const std::array<int, 2> ks = config_pair(c["kernel_size"], "kernel_size");
  if (c.contains("strides")) o.strides = config_pair(c["strides"], "strides");
  o.padding = config_padding(c);
  if (c.contains("depth_multiplier")) o.depth_multiplier = config_positive(c, "depth_multiplier");
  o.activation = config_activation(c);
  o.use_bias = config_bool(c, "use_bias", true);
  config_initializer(c, "depthwise_initializer", o.depthwise_initializer);
  config_initializer(c, "bias_initializer", o.bias_initializer);
  return layers::DepthwiseConv2D(ks, o);
}

OpSpec depthwise_conv2d_op_spec(const Layer& layer) {
  const json c = layer.get_config();
  OpSpec s;
  s.op = OpKind::kDepthwiseConv2D;
  s.kernel = config_pair(c.at("kernel_size"), "kernel_size");
  s.strides = config_pair(c.at("strides"), "strides");
  s.padding = config_padding(c);
  s.activation = config_activation(c);
  s.depth_multiplier = config_positive(c, "depth_multiplier");
  return s;
}

// Keras [kh, kw, in, multiplier] -> TFLite 1HWC [1, kh, kw, in * multiplier]:
// the same order of elements (channel c * multiplier + m last), scales along
// dimension 3.
WeightLayout depthwise_conv2d_weight_layout(const Shape& k) {
  check(k.size() == 4, "DepthwiseConv2D depthwise_kernel must be 4-D, got " + shape_str(k));
  WeightLayout w;
  w.shape = {1, k[0], k[1], k[2] * k[3]};
  w.source.resize(static_cast<size_t>(shape_numel(k)));
  for (size_t i = 0; i < w.source.size(); ++i) w.source[i] = static_cast<int64_t>(i);
  w.channel_axis = 3;
  return w;
}

}  // namespace

LayerKind depthwise_conv2d_kind() {
  return {.class_name = "DepthwiseConv2D",
          .from_config = &depthwise_conv2d_from_config,
          .op = OpKind::kDepthwiseConv2D,
          .op_spec = &depthwise_conv2d_op_spec,
          .quant_role = QuantRole::kWeighted,
          .weight = "depthwise_kernel",
          .per_channel = true,
          .tflite_weight_layout = &depthwise_conv2d_weight_layout,
          .output_channel_axes = 2,
          .fuses_activation = true,
          .folds_batch_norm = true};
}

}  // namespace detail
}  // namespace qlite
