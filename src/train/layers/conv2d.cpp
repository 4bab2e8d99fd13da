// Conv2D on NHWC inputs with an HWIO kernel, Keras 'valid'/'same' padding,
// strides and a fused activation. 'same' inputs are copied into a
// zero-padded scratch image so the kernels only ever see 'valid' windows.
#include <algorithm>
#include <cstring>

#include "train/layers/builtin_kinds.h"
#include "train/layers/hooked_layer.h"
#include "train/layers/layer_util.h"

namespace qlite {
namespace {

class Conv2DLayer final : public detail::HookedLayer<Conv2DLayer> {
 public:
  Conv2DLayer(int filters, std::array<int, 2> ks, layers::Conv2DOptions o)
      : HookedLayer(o.name), filters_(filters), ks_(ks), strides_(o.strides), padding_(o.padding), act_(o.activation),
        use_bias_(o.use_bias), kernel_init_(o.kernel_initializer), bias_init_(o.bias_initializer) {
    check(filters > 0, detail::layer_label(*this) + ": filters must be positive, got " + std::to_string(filters));
    check(ks[0] > 0 && ks[1] > 0, detail::layer_label(*this) + ": kernel_size must be positive");
    check(strides_[0] > 0 && strides_[1] > 0, detail::layer_label(*this) + ": strides must be positive");
    kernel_.name = "kernel";
    bias_.name = "bias";
  }

  std::string type() const override { return "Conv2D"; }
  std::string default_name_stem() const override { return "conv2d"; }
  Activation activation() const { return act_; }

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
    check(hp_ * wp_ * cin_ < (int64_t{1} << 40), who + ": input too large");
    detail::check_weight_shape(who, "kernel", Shape{ks_[0], ks_[1], cin_, filters_});
    kernel_.value.resize({ks_[0], ks_[1], cin_, filters_});
    kernel_init_.fill(kernel_.value, rng);
    kernel_.grad = Tensor(kernel_.value.shape());
    if (use_bias_) {
      bias_.value = Tensor({filters_});
      bias_init_.fill(bias_.value, rng);
      bias_.grad = Tensor({filters_});
    }
    offs_.clear();
    for (int64_t ky = 0; ky < ks_[0]; ++ky)
      for (int64_t kx = 0; kx < ks_[1]; ++kx)
        for (int64_t ci = 0; ci < cin_; ++ci) offs_.push_back((ky * wp_ + kx) * cin_ + ci);
    mark_built(input_shapes, Shape{oh_, ow_, filters_});
    return output_shape();
  }

 private:
  friend class detail::HookedLayer<Conv2DLayer>;

  // Hooks see each image right after it is written (or, backward, just before
  // its gradient is used), while it is still in cache.
  void forward_impl(std::span<const Tensor* const> in, Tensor& out, const RunContext& ctx,
                    OutputHooks* hooks) {
    const int64_t n = detail::check_batched_input(*this, in);
    out.resize_batched(n, output_shape());
    const float* src = padded_input(*in[0], ctx);
    const int64_t in_img = hp_ * wp_ * cin_, out_img = oh_ * ow_ * filters_;
    const kernels::PatchGeom g = geom();
    const float* b = use_bias_ ? bias_.value.f32() : nullptr;
    const Isa isa = active_isa();
    float* y = out.f32();
    detail::run_chunks(ctx, n, [&](int64_t i0, int64_t i1, int c) {
      for (int64_t i = i0; i < i1; ++i) {
        kernels::float_patch_forward(isa, g, src + i * in_img, kernel_.value.f32(), b, detail::kernel_act(act_),
                                     y + i * out_img);
        if (hooks) hooks->on_forward(c, y + i * out_img, out_img);
      }
    });
  }

  void backward_impl(std::span<const Tensor* const> in, const Tensor& out, const Tensor& dout,
                     std::span<Tensor* const> din, const RunContext& ctx, OutputHooks* hooks) {
    const int64_t n = detail::check_batched_input(*this, in);
    detail::check_dout(*this, dout, n);
    const Isa isa = active_isa();
    const int chunks = detail::num_chunks(ctx);
    const int64_t r = static_cast<int64_t>(offs_.size());
    const int64_t wsize = r * filters_ + filters_;
    const int64_t in_img = hp_ * wp_ * cin_, out_img = oh_ * ow_ * filters_;
    const kernels::PatchGeom g = geom();
    const float* src = padded_input(*in[0], ctx);

    Tensor* dx = din.empty() ? nullptr : din[0];
    // Without an input gradient the activation gradient is fused into the
    // weight-gradient pass; with one, dz is materialised once for both.
    // With hooks and no input gradient, each image's hooked gradient goes to
    // a per-chunk scratch image that the weight-gradient pass reads from cache.
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
    float* dpad = nullptr;
    if (dx) {
      dx->resize(in[0]->shape());
      if (is_padded()) {
        dpad_.resize({n, hp_, wp_, cin_});
        dpad = dpad_.f32();
      } else {
        dpad = dx->f32();
      }
      transpose_kernel();
    }
    detail::run_chunks(ctx, n, [&](int64_t i0, int64_t i1, int c) {
      if (materialize)
        detail::pre_activation_gradient(isa, act_, hooks, c, out.f32() + i0 * out_img, dout.f32() + i0 * out_img,
                                        dz_.f32() + i0 * out_img, (i1 - i0) * out_img);
      // Chunk 0 accumulates straight into the gradients, the others into
      // scratch added below in chunk order, so results are reproducible.
      float* dw = c == 0 ? kernel_.grad.f32() : partial_.f32() + (c - 1) * wsize;
      float* db = nullptr;
      if (use_bias_) db = c == 0 ? bias_.grad.f32() : dw + r * filters_;
      for (int64_t i = i0; i < i1; ++i) {
        const float* dzi = dz + i * out_img;
        if (per_image) {
          float* d = dz_.f32() + c * out_img;
          hooks->on_backward(c, out.f32() + i * out_img, dout.f32() + i * out_img, d, out_img);
          dzi = d;
        }
        kernels::float_patch_wgrad(isa, g, src + i * in_img, dzi, out.f32() + i * out_img, wact, dw, db);
      }
      if (dpad) {
        std::fill(dpad + i0 * in_img, dpad + i1 * in_img, 0.0f);
        for (int64_t i = i0; i < i1; ++i)
          kernels::float_patch_dgrad(isa, g, dz + i * out_img, wt_.f32(), dpad + i * in_img, false);
        if (is_padded()) crop(dpad, dx->f32(), i0, i1);
      }
    });
    for (int c = 1; c < chunks; ++c) {
      const float* p = partial_.f32() + (c - 1) * wsize;
      float* gw = kernel_.grad.f32();
      for (int64_t i = 0; i < r * filters_; ++i) gw[i] += p[i];
      if (use_bias_)
        for (int64_t i = 0; i < filters_; ++i) bias_.grad.f32()[i] += p[r * filters_ + i];
    }
  }


 public:
  std::vector<Param*> params() override {
    if (use_bias_) return {&kernel_, &bias_};
    return {&kernel_};
  }

  json get_config() const override {
    return {{"name", name()},
            {"filters", filters_},
            {"kernel_size", {ks_[0], ks_[1]}},
            {"strides", {strides_[0], strides_[1]}},
            {"padding", detail::padding_name(padding_)},
            {"data_format", "channels_last"},
            {"dilation_rate", {1, 1}},
            {"groups", 1},
            {"activation", activation_name(act_)},
            {"use_bias", use_bias_},
            {"kernel_initializer", kernel_init_.to_json()},
            {"bias_initializer", bias_init_.to_json()},
            {"trainable", true},
            {"dtype", "float32"}};
  }

  std::unique_ptr<Layer> clone() const override { return std::make_unique<Conv2DLayer>(*this); }

 private:
  bool is_padded() const { return hp_ != h_ || wp_ != w_; }

  kernels::PatchGeom geom() const {
    kernels::PatchGeom g;
    g.rows = oh_;
    g.cols = ow_;
    g.in_row = strides_[0] * wp_ * cin_;
    g.in_col = strides_[1] * cin_;
    g.offs = offs_.data();
    g.R = static_cast<int64_t>(offs_.size());
    g.C = filters_;
    g.out_row = ow_ * filters_;
    g.out_col = filters_;
    return g;
  }

  // The input itself, or (for 'same' padding that pads) a zero-padded copy.
  const float* padded_input(const Tensor& x, const RunContext& ctx) {
    if (!is_padded()) return x.f32();
    const int64_t n = x.dim(0);
    padded_.resize({n, hp_, wp_, cin_});
    float* dst = padded_.f32();
    const float* s = x.f32();
    detail::run_chunks(ctx, n, [&](int64_t i0, int64_t i1, int) {
      std::fill(dst + i0 * hp_ * wp_ * cin_, dst + i1 * hp_ * wp_ * cin_, 0.0f);
      for (int64_t i = i0; i < i1; ++i)
        for (int64_t y = 0; y < h_; ++y)
          std::memcpy(dst + ((i * hp_ + y + pad_top_) * wp_ + pad_left_) * cin_, s + (i * h_ + y) * w_ * cin_,
                      static_cast<size_t>(w_ * cin_) * sizeof(float));
    });
    return dst;
  }

  void crop(const float* dpad, float* dx, int64_t i0, int64_t i1) const {
    for (int64_t i = i0; i < i1; ++i)
      for (int64_t y = 0; y < h_; ++y)
        std::memcpy(dx + (i * h_ + y) * w_ * cin_, dpad + ((i * hp_ + y + pad_top_) * wp_ + pad_left_) * cin_,
                    static_cast<size_t>(w_ * cin_) * sizeof(float));
  }

  void transpose_kernel() {
    const int64_t r = static_cast<int64_t>(offs_.size());
    wt_.resize({filters_, r});
    const float* w = kernel_.value.f32();
    float* t = wt_.f32();
    for (int64_t i = 0; i < r; ++i)
      for (int64_t c = 0; c < filters_; ++c) t[c * r + i] = w[i * filters_ + c];
  }

  int64_t filters_;
  std::array<int, 2> ks_;
  std::array<int, 2> strides_;
  Padding padding_;
  Activation act_;
  bool use_bias_;
  Initializer kernel_init_, bias_init_;
  Param kernel_, bias_;
  int64_t h_ = 0, w_ = 0, cin_ = 0, oh_ = 0, ow_ = 0, hp_ = 0, wp_ = 0, pad_top_ = 0, pad_left_ = 0;
  std::vector<int64_t> offs_;
  Tensor dz_, wt_, partial_, padded_, dpad_;  // scratch reused across steps
};

}  // namespace

namespace layers {
LayerPtr Conv2D(int filters, std::array<int, 2> kernel_size, Conv2DOptions options) {
  return std::make_shared<Conv2DLayer>(filters, kernel_size, std::move(options));
}
}  // namespace layers

namespace detail {
LayerPtr conv2d_from_config(const json& c) {
  config_channels_last(c);
  if (c.contains("dilation_rate") && !c["dilation_rate"].is_null())
    check(config_pair(c["dilation_rate"], "dilation_rate") == std::array<int, 2>{1, 1},
          "unsupported dilation_rate " + c["dilation_rate"].dump() + " (only 1)");
  if (c.contains("groups") && !c["groups"].is_null())
    check(c["groups"] == 1, "unsupported groups " + c["groups"].dump() + " (only 1)");
  layers::Conv2DOptions o;
  o.name = config_name(c);
  check(c.contains("kernel_size"), "missing \"kernel_size\"");
  const std::array<int, 2> ks = config_pair(c["kernel_size"], "kernel_size");
  if (c.contains("strides")) o.strides = config_pair(c["strides"], "strides");
  o.padding = config_padding(c);
  o.activation = config_activation(c);
  o.use_bias = config_bool(c, "use_bias", true);
  config_initializer(c, "kernel_initializer", o.kernel_initializer);
  config_initializer(c, "bias_initializer", o.bias_initializer);
  return layers::Conv2D(config_positive(c, "filters"), ks, o);
}
}  // namespace detail

namespace detail {
namespace {
OpSpec conv2d_op_spec(const Layer& layer) {
  const json c = layer.get_config();
  OpSpec s;
  s.op = OpKind::kConv2D;
  s.kernel = config_pair(c.at("kernel_size"), "kernel_size");
  s.strides = config_pair(c.at("strides"), "strides");
  s.padding = config_padding(c);
  s.activation = config_activation(c);
  return s;
}
// Keras HWIO [kh, kw, in, out] -> TFLite OHWI [out, kh, kw, in], scales along O.
WeightLayout conv2d_weight_layout(const Shape& k) {
  check(k.size() == 4, "Conv2D kernel must be 4-D, got " + shape_str(k));
  const int64_t kh = k[0], kw = k[1], in = k[2], out = k[3];
  WeightLayout w;
  w.shape = {out, kh, kw, in};
  w.source.resize(static_cast<size_t>(shape_numel(k)));
  size_t i = 0;
  for (int64_t o = 0; o < out; ++o)
    for (int64_t h = 0; h < kh; ++h)
      for (int64_t x = 0; x < kw; ++x)
        for (int64_t c = 0; c < in; ++c) w.source[i++] = ((h * kw + x) * in + c) * out + o;
  w.channel_axis = 0;
  return w;
}
}  // namespace

LayerKind conv2d_kind() {
  return {.class_name = "Conv2D",
          .from_config = &conv2d_from_config,
          .op = OpKind::kConv2D,
          .op_spec = &conv2d_op_spec,
          .quant_role = QuantRole::kWeighted,
          .weight = "kernel",
          .per_channel = true,
          .tflite_weight_layout = &conv2d_weight_layout,
          .fuses_activation = true,
          .folds_batch_norm = true};
}
}  // namespace detail

}  // namespace qlite
