// Dense: out = act(x @ kernel + bias) on [N, K] inputs; kernel is [K, units].
#include <algorithm>
#include <cstring>
#include <numeric>

#include "train/layers/builtin_kinds.h"
#include "train/layers/hooked_layer.h"
#include "train/layers/layer_util.h"

namespace qlite {
namespace {

class DenseLayer final : public detail::HookedLayer<DenseLayer> {
 public:
  DenseLayer(int units, layers::DenseOptions o) : HookedLayer(o.name), units_(units), act_(o.activation), use_bias_(o.use_bias),
        kernel_init_(o.kernel_initializer), bias_init_(o.bias_initializer) {
    check(units > 0, detail::layer_label(*this) + ": units must be positive, got " + std::to_string(units));
    kernel_.name = "kernel";
    bias_.name = "bias";
  }

  std::string type() const override { return "Dense"; }
  std::string default_name_stem() const override { return "dense"; }
  Activation activation() const { return act_; }

  Shape build(std::span<const Shape> input_shapes, Rng& rng) override {
    check(input_shapes.size() == 1, detail::layer_label(*this) + ": expects exactly one input");
    const Shape& s = input_shapes[0];
    if (built()) {
      check(s == input_shapes_at0(), detail::layer_label(*this) + ": already built for input " +
                                         shape_str(input_shapes_at0()) + ", cannot rebuild for " + shape_str(s));
      return output_shape();
    }
    check(s.size() == 1 && s[0] > 0, detail::layer_label(*this) + ": needs a flat per-sample input (features,), got " +
                                         shape_str(s) + "; add a Flatten before it");
    const int64_t k = s[0];
    detail::check_weight_shape(detail::layer_label(*this), "kernel", Shape{k, units_});
    kernel_.value.resize({k, units_});
    kernel_init_.fill(kernel_.value, rng);
    kernel_.grad = Tensor({k, units_});
    if (use_bias_) {
      bias_.value = Tensor({units_});
      bias_init_.fill(bias_.value, rng);
      bias_.grad = Tensor({units_});
    }
    offs_.resize(static_cast<size_t>(k));
    std::iota(offs_.begin(), offs_.end(), int64_t{0});
    unit_offs_.resize(static_cast<size_t>(units_));
    std::iota(unit_offs_.begin(), unit_offs_.end(), int64_t{0});
    mark_built(input_shapes, Shape{units_});
    return output_shape();
  }

 private:
  friend class detail::HookedLayer<DenseLayer>;

  void forward_impl(std::span<const Tensor* const> in, Tensor& out, const RunContext& ctx,
                    OutputHooks* hooks) {
    const int64_t n = detail::check_batched_input(*this, in);
    const int64_t k = input_shapes_at0()[0];
    out.resize({n, units_});
    const float* x = in[0]->f32();
    float* y = out.f32();
    const float* w = kernel_.value.f32();
    const float* b = use_bias_ ? bias_.value.f32() : nullptr;
    const Isa isa = active_isa();
    detail::run_chunks(ctx, n, [&](int64_t b0, int64_t b1, int c) {
      kernels::float_patch_forward(isa, geom(b1 - b0, k), x + b0 * k, w, b, detail::kernel_act(act_), y + b0 * units_);
      if (hooks) hooks->on_forward(c, y + b0 * units_, (b1 - b0) * units_);
    }, kMinChunk);
  }

  // All three products run on the patch-forward kernel, vectorised along the
  // long K axis (units = 10 would fill only 10 of 16 lanes):
  //   dW^T[u][k] = sum_m dz[m][u] * x[m][k]     (pixels = units, reduce over rows)
  //   dx[m][k]   = sum_u dz[m][u] * W^T[u][k]   (pixels = rows, reduce over units)
  void backward_impl(std::span<const Tensor* const> in, const Tensor& out, const Tensor& dout,
                     std::span<Tensor* const> din, const RunContext& ctx, OutputHooks* hooks) {
    const int64_t n = detail::check_batched_input(*this, in);
    detail::check_dout(*this, dout, n);
    const int64_t k = input_shapes_at0()[0];
    const int64_t u = units_;
    const Isa isa = active_isa();
    const int chunks = detail::num_chunks(ctx);
    const int64_t wsize = u * k + u;

    const float* dz = dout.f32();
    const bool materialize = act_ != Activation::kLinear || hooks;
    if (materialize) {
      dz_.resize(dout.shape());
      dz = dz_.f32();
    }
    partial_.resize({chunks, wsize});
    ran_.assign(static_cast<size_t>(chunks), 0);
    if (static_cast<int64_t>(row_offs_.size()) < n) {
      row_offs_.resize(static_cast<size_t>(n));
      for (int64_t i = 0; i < n; ++i) row_offs_[static_cast<size_t>(i)] = i * u;
    }
    Tensor* dx = din.empty() ? nullptr : din[0];
    if (dx) dx->resize(in[0]->shape());
    transpose_kernel();
    const float* x = in[0]->f32();
    detail::run_chunks(ctx, n, [&](int64_t b0, int64_t b1, int c) {
      const int64_t rows = b1 - b0;
      if (materialize)
        detail::pre_activation_gradient(isa, act_, hooks, c, out.f32() + b0 * u, dout.f32() + b0 * u,
                                        dz_.f32() + b0 * u, rows * u);
      const float* d = dz + b0 * u;
      float* dwt = partial_.f32() + c * wsize;
      kernels::PatchGeom gw;
      gw.rows = 1;
      gw.cols = u;
      gw.in_col = 1;
      gw.offs = row_offs_.data();
      gw.R = rows;
      gw.C = k;
      gw.out_col = k;
      kernels::float_patch_forward(isa, gw, d, x + b0 * k, nullptr, kernels::FloatAct::kLinear, dwt);
      float* db = dwt + u * k;
      for (int64_t j = 0; j < u; ++j) db[j] = 0.0f;
      for (int64_t m = 0; m < rows; ++m)
        for (int64_t j = 0; j < u; ++j) db[j] += d[m * u + j];
      if (dx) {
        kernels::PatchGeom gx;
        gx.rows = 1;
        gx.cols = rows;
        gx.in_col = u;
        gx.offs = unit_offs_.data();
        gx.R = u;
        gx.C = k;
        gx.out_col = k;
        kernels::float_patch_forward(isa, gx, d, wt_.f32(), nullptr, kernels::FloatAct::kLinear, dx->f32() + b0 * k);
      }
      ran_[static_cast<size_t>(c)] = 1;
    }, kMinChunk);
    // Chunk partial sums are added in chunk order (deterministic) while
    // transposing back to the [K, units] layout of the kernel.
    float* gw = kernel_.grad.f32();
    float* gb = use_bias_ ? bias_.grad.f32() : nullptr;
    kernel_.grad.zero();
    if (gb) bias_.grad.zero();
    for (int c = 0; c < chunks; ++c) {
      if (!ran_[static_cast<size_t>(c)]) continue;
      const float* p = partial_.f32() + c * wsize;
      for (int64_t r = 0; r < k; ++r)
        for (int64_t j = 0; j < u; ++j) gw[r * u + j] += p[j * k + r];
      if (gb)
        for (int64_t j = 0; j < u; ++j) gb[j] += p[u * k + j];
    }
  }


 public:
  std::vector<Param*> params() override {
    if (use_bias_) return {&kernel_, &bias_};
    return {&kernel_};
  }

  json get_config() const override {
    return {{"name", name()},           {"units", units_},       {"activation", activation_name(act_)},
            {"use_bias", use_bias_},    {"kernel_initializer", kernel_init_.to_json()},
            {"bias_initializer", bias_init_.to_json()},          {"trainable", true},
            {"dtype", "float32"}};
  }

  std::unique_ptr<Layer> clone() const override { return std::make_unique<DenseLayer>(*this); }

 private:
  static constexpr int64_t kMinChunk = 4;

  const Shape& input_shapes_at0() const { return input_shapes().at(0); }

  kernels::PatchGeom geom(int64_t n, int64_t k) const {
    kernels::PatchGeom g;
    g.rows = 1;
    g.cols = n;
    g.in_col = k;
    g.offs = offs_.data();
    g.R = k;
    g.C = units_;
    g.out_col = units_;
    return g;
  }

  void transpose_kernel() {
    const int64_t k = kernel_.value.dim(0);
    wt_.resize({units_, k});
    const float* w = kernel_.value.f32();
    float* t = wt_.f32();
    for (int64_t r = 0; r < k; ++r)
      for (int64_t c = 0; c < units_; ++c) t[c * k + r] = w[r * units_ + c];
  }

  int64_t units_;
  Activation act_;
  bool use_bias_;
  Initializer kernel_init_, bias_init_;
  Param kernel_, bias_;
  std::vector<int64_t> offs_, unit_offs_, row_offs_;  // window offsets: 0..K-1, 0..units-1, m*units
  std::vector<char> ran_;                            // which chunks ran in the last backward
  Tensor dz_, wt_, partial_;                         // scratch reused across steps
};

}  // namespace

namespace layers {
LayerPtr Dense(int units, DenseOptions options) { return std::make_shared<DenseLayer>(units, std::move(options)); }
}  // namespace layers

namespace detail {
LayerPtr dense_from_config(const json& c) {
  layers::DenseOptions o;
  o.name = config_name(c);
  o.activation = config_activation(c);
  o.use_bias = config_bool(c, "use_bias", true);
  config_initializer(c, "kernel_initializer", o.kernel_initializer);
  config_initializer(c, "bias_initializer", o.bias_initializer);
  return layers::Dense(config_positive(c, "units"), o);
}
}  // namespace detail

namespace detail {
namespace {
OpSpec dense_op_spec(const Layer& layer) {
  OpSpec s;
  s.op = OpKind::kFullyConnected;
  s.activation = config_activation(layer.get_config());
  return s;
}
// Keras [in, out] -> TFLite [out, in]. Per tensor by default: TFLite 2.9
// mis-computes per-channel FULLY_CONNECTED and Arm NN aborts on it
// (docs/QUANTIZATION.md).
WeightLayout dense_weight_layout(const Shape& k) {
  check(k.size() == 2, "Dense kernel must be 2-D, got " + shape_str(k));
  const int64_t in = k[0], out = k[1];
  WeightLayout w;
  w.shape = {out, in};
  w.source.resize(static_cast<size_t>(in * out));
  size_t i = 0;
  for (int64_t o = 0; o < out; ++o)
    for (int64_t c = 0; c < in; ++c) w.source[i++] = c * out + o;
  w.channel_axis = 0;
  return w;
}
}  // namespace

LayerKind dense_kind() {
  return {.class_name = "Dense",
          .from_config = &dense_from_config,
          .op = OpKind::kFullyConnected,
          .op_spec = &dense_op_spec,
          .quant_role = QuantRole::kWeighted,
          .weight = "kernel",
          .per_channel = false,
          .tflite_weight_layout = &dense_weight_layout,
          .fuses_activation = true,
          .folds_batch_norm = true};
}
}  // namespace detail

}  // namespace qlite
