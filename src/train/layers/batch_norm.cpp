// BatchNormalization over the last (channel) axis, as Keras: in training the
// batch's mean and (biased) variance normalize, and the moving averages
// follow them with `momentum`; in inference the moving averages normalize.
//   y = gamma * (x - mean) / sqrt(var + epsilon) + beta
// The shared rewrite folds it into the Conv2D / Dense before it (its record's
// as_channel_affine), which is how it reaches QAT and the converter.
#include <algorithm>
#include <cmath>

#include "kernels/float_kernels.h"
#include "train/layers/builtin_kinds.h"
#include "train/layers/layer_util.h"

namespace qlite {
namespace {

class BatchNormLayer final : public Layer {
 public:
  BatchNormLayer(layers::BatchNormOptions o) : Layer(o.name), o_(o) {
    check(o_.axis == -1, detail::layer_label(*this) + ": only axis -1 (channels last) is supported");
    check(std::isfinite(o_.momentum) && o_.momentum >= 0.0f && o_.momentum <= 1.0f,
          detail::layer_label(*this) + ": momentum must be in [0, 1]");
    check(std::isfinite(o_.epsilon) && o_.epsilon > 0.0f, detail::layer_label(*this) + ": epsilon must be positive");
  }
  std::string type() const override { return "BatchNormalization"; }
  std::string default_name_stem() const override { return "batch_normalization"; }

  Shape build(std::span<const Shape> input_shapes, Rng&) override {
    check(input_shapes.size() == 1 && !input_shapes[0].empty(),
          detail::layer_label(*this) + ": expects one input with a channel axis");
    const int64_t c = input_shapes[0].back();
    if (built()) {
      check(input_shapes[0] == input_shapes_at0(), detail::layer_label(*this) + ": already built for " +
                                                       shape_str(input_shapes_at0()));
      return output_shape();
    }
    detail::check_weight_shape(detail::layer_label(*this), "gamma", Shape{c});
    auto make = [&](const char* name, float v, bool trainable) {
      Param p;
      p.name = name;
      p.value = Tensor({c});
      for (float& x : p.value.span_f32()) x = v;
      if (trainable) p.grad = Tensor({c});
      p.trainable = trainable;
      return p;
    };
    gamma_ = make("gamma", 1.0f, true);
    beta_ = make("beta", 0.0f, true);
    mean_ = make("moving_mean", 0.0f, false);
    var_ = make("moving_variance", 1.0f, false);
    mark_built(input_shapes, input_shapes[0]);
    return input_shapes[0];
  }

  std::vector<Param*> params() override {
    std::vector<Param*> p;
    if (o_.scale) p.push_back(&gamma_);
    if (o_.center) p.push_back(&beta_);
    p.push_back(&mean_);
    p.push_back(&var_);
    return p;
  }

  // Inference: y = s * x + t per channel.
  void affine(std::vector<float>& s, std::vector<float>& t) const {
    const int64_t c = mean_.value.numel();
    s.resize(static_cast<size_t>(c));
    t.resize(static_cast<size_t>(c));
    for (int64_t k = 0; k < c; ++k) {
      const float g = o_.scale ? gamma_.value.f32()[k] : 1.0f;
      const float b = o_.center ? beta_.value.f32()[k] : 0.0f;
      const float inv = 1.0f / std::sqrt(var_.value.f32()[k] + o_.epsilon);
      s[static_cast<size_t>(k)] = g * inv;
      t[static_cast<size_t>(k)] = b - mean_.value.f32()[k] * g * inv;
    }
  }

  void forward(std::span<const Tensor* const> in, Tensor& out, const RunContext& ctx) override {
    run_forward(in, out, ctx, nullptr);
  }

  bool forward_clamped(std::span<const Tensor* const> in, Tensor& out, const RunContext& ctx, float hi) override {
    if (!ctx.training) return false;
    run_forward(in, out, ctx, &hi);
    return true;
  }

  void backward(std::span<const Tensor* const> in, const Tensor& out, const Tensor& dout, std::span<Tensor* const> din,
                const RunContext& ctx) override {
    run_backward(in, out, dout, din, ctx, nullptr);
  }

  bool backward_clamped(std::span<const Tensor* const> in, const Tensor& out, const Tensor& dout,
                        std::span<Tensor* const> din, const RunContext& ctx, float hi) override {
    run_backward(in, out, dout, din, ctx, &hi);
    return true;
  }

 private:
  // f(k0, k1) for ranges of channels split over the pool, for the sums:
  // each channel's sum keeps its row order, so the split changes no bit.
  // Ranges are whole groups of 8 channels (an AVX2 register), a range at
  // least 16K elements (below that, handing it to another thread costs
  // about what it saves).
  template <class F>
  static void for_channel_ranges(ThreadPool* pool, int64_t rows, int64_t c, F&& f) {
    const int64_t groups = (c + 7) / 8;
    const int64_t min_groups = std::max<int64_t>(1, (int64_t{1} << 14) / std::max<int64_t>(1, rows * 8));
    parallel_for(pool, groups, [&](int64_t g0, int64_t g1, int) { f(g0 * 8, std::min(c, g1 * 8)); }, min_groups);
  }

  // hi: a clamp (ReLU / ReLU6) fused after the normalization, or null.
  void run_forward(std::span<const Tensor* const> in, Tensor& out, const RunContext& ctx, const float* hi) {
    const int64_t n = detail::check_batched_input(*this, in);
    out.resize_batched(n, output_shape());
    const int64_t c = output_shape().back();
    const int64_t rows = out.numel() / c;
    const float* x = in[0]->f32();
    float* y = out.f32();
    // The elementwise passes split rows over the pool (each element is
    // computed alone: the result does not depend on the split); the
    // per-channel sums stay in row order.
    // A chunk is at least 64K elements: the vectorised passes take about as
    // long as handing a chunk to another thread below that.
    const int64_t min_rows = std::max<int64_t>(1, (int64_t{1} << 16) / c);
    if (!ctx.training) {
      affine(s_, t_);
      parallel_for(ctx.pool, rows, [&](int64_t r0, int64_t r1, int) {
        for (int64_t r = r0; r < r1; ++r)
          for (int64_t k = 0; k < c; ++k) y[r * c + k] = x[r * c + k] * s_[k] + t_[k];
      }, min_rows);
      return;
    }
    // Batch moments in double: one pass of sums would lose digits for large
    // batches. The kernels keep each channel's sums in row order (channels
    // are the vector lanes), so every path gives the same bits.
    const Isa isa = active_isa();
    sum_.assign(static_cast<size_t>(c), 0.0);
    sq_.assign(static_cast<size_t>(c), 0.0);
    for_channel_ranges(ctx.pool, rows, c, [&](int64_t k0, int64_t k1) {
      kernels::float_bn_sums(isa, x + k0, rows, k1 - k0, sum_.data() + k0, c);
    });
    batch_mean_.resize(static_cast<size_t>(c));
    inv_std_.resize(static_cast<size_t>(c));
    for (int64_t k = 0; k < c; ++k) batch_mean_[k] = static_cast<float>(sum_[k] / static_cast<double>(rows));
    for_channel_ranges(ctx.pool, rows, c, [&](int64_t k0, int64_t k1) {
      kernels::float_bn_sq(isa, x + k0, rows, k1 - k0, batch_mean_.data() + k0, sq_.data() + k0, c);
    });
    const float m = o_.momentum;
    for (int64_t k = 0; k < c; ++k) {
      const float var = static_cast<float>(sq_[k] / static_cast<double>(rows));
      inv_std_[k] = 1.0f / std::sqrt(var + o_.epsilon);
      mean_.value.f32()[k] = mean_.value.f32()[k] * m + batch_mean_[k] * (1.0f - m);
      var_.value.f32()[k] = var_.value.f32()[k] * m + var * (1.0f - m);
    }
    gamma_now_.resize(static_cast<size_t>(c));
    beta_now_.resize(static_cast<size_t>(c));
    for (int64_t k = 0; k < c; ++k) {
      gamma_now_[k] = o_.scale ? gamma_.value.f32()[k] : 1.0f;
      beta_now_[k] = o_.center ? beta_.value.f32()[k] : 0.0f;
    }
    parallel_for(ctx.pool, rows, [&](int64_t r0, int64_t r1, int) {
      kernels::float_bn_normalize(isa, x + r0 * c, r1 - r0, c, gamma_now_.data(), batch_mean_.data(),
                                  inv_std_.data(), beta_now_.data(), hi, y + r0 * c);
    }, min_rows);
  }

  // The gradient of the training-mode forward (batch statistics); with hi,
  // of the clamp fused after it too (dout is then the clamp's output
  // gradient; the clamp's mask is recomputed from the input).
  void run_backward(std::span<const Tensor* const> in, const Tensor&, const Tensor& dout, std::span<Tensor* const> din,
                    const RunContext& ctx, const float* hi) {
    const int64_t n = detail::check_batched_input(*this, in);
    detail::check_dout(*this, dout, n);
    const int64_t c = output_shape().back();
    check(static_cast<int64_t>(inv_std_.size()) == c, detail::layer_label(*this) + ": backward without a training forward");
    const int64_t rows = dout.numel() / c;
    const float* x = in[0]->f32();
    const float* dy = dout.f32();
    const Isa isa = active_isa();
    sdy_.assign(static_cast<size_t>(c), 0.0);
    sdyx_.assign(static_cast<size_t>(c), 0.0);
    check(!hi || static_cast<int64_t>(gamma_now_.size()) == c,
          detail::layer_label(*this) + ": fused backward without a fused forward");
    for_channel_ranges(ctx.pool, rows, c, [&](int64_t k0, int64_t k1) {
      kernels::float_bn_grad_sums(isa, x + k0, dy + k0, rows, k1 - k0, batch_mean_.data() + k0, inv_std_.data() + k0,
                                  gamma_now_.data() + k0, beta_now_.data() + k0, hi, sdy_.data() + k0,
                                  sdyx_.data() + k0, c);
    });
    if (o_.scale)
      for (int64_t k = 0; k < c; ++k) gamma_.grad.f32()[k] = static_cast<float>(sdyx_[k]);
    if (o_.center)
      for (int64_t k = 0; k < c; ++k) beta_.grad.f32()[k] = static_cast<float>(sdy_[k]);
    if (din.empty() || din[0] == nullptr) return;
    din[0]->resize(in[0]->shape());
    float* dx = din[0]->f32();
    const double m = static_cast<double>(rows);
    // g * inv_std / m per channel, computed once: the same double operations
    // in the same order as in the per-element formula, without a division
    // per element.
    a_.resize(static_cast<size_t>(c));
    for (int64_t k = 0; k < c; ++k) {
      const double g = o_.scale ? gamma_.value.f32()[k] : 1.0;
      a_[static_cast<size_t>(k)] = g * inv_std_[k] / m;
    }
    parallel_for(ctx.pool, rows, [&](int64_t r0, int64_t r1, int) {
      kernels::float_bn_input_grad(isa, x + r0 * c, dy + r0 * c, r1 - r0, c, batch_mean_.data(), inv_std_.data(),
                                   gamma_now_.data(), beta_now_.data(), hi, a_.data(), m, sdy_.data(), sdyx_.data(),
                                   dx + r0 * c);
    }, std::max<int64_t>(1, (int64_t{1} << 16) / c));
  }

 public:
  json get_config() const override {
    return {{"name", name()},       {"axis", -1},          {"momentum", o_.momentum},
            {"epsilon", o_.epsilon}, {"center", o_.center}, {"scale", o_.scale},
            {"trainable", true},     {"dtype", "float32"}};
  }
  std::unique_ptr<Layer> clone() const override { return std::make_unique<BatchNormLayer>(*this); }

 private:
  const Shape& input_shapes_at0() const { return input_shapes().at(0); }
  layers::BatchNormOptions o_;
  Param gamma_, beta_, mean_, var_;
  std::vector<float> batch_mean_, inv_std_;  // of the last training forward
  std::vector<float> gamma_now_, beta_now_;  // training forward scratch
  std::vector<double> sum_, sq_, sdy_, sdyx_, a_;  // per-channel sums, reused across steps
  mutable std::vector<float> s_, t_;         // inference scratch
};

}  // namespace

namespace layers {
LayerPtr BatchNormalization(BatchNormOptions options) { return std::make_shared<BatchNormLayer>(std::move(options)); }
}  // namespace layers

namespace detail {
namespace {

LayerPtr batch_norm_from_config(const json& c) {
  layers::BatchNormOptions o;
  o.name = config_name(c);
  if (c.contains("axis") && !c["axis"].is_null()) {
    const json& a = c["axis"];
    const bool last = (a.is_number_integer() && a.get<int64_t>() == -1) ||
                      (a.is_array() && a.size() == 1 && a[0].is_number_integer() && a[0].get<int64_t>() == -1);
    check(last, "unsupported axis " + a.dump() + " (only -1, channels last)");
  }
  auto num = [&](const char* key, float dflt) {
    if (!c.contains(key) || c[key].is_null()) return dflt;
    check(c[key].is_number(), std::string("\"") + key + "\" must be a number");
    return c[key].get<float>();
  };
  o.momentum = num("momentum", o.momentum);
  o.epsilon = num("epsilon", o.epsilon);
  o.center = config_bool(c, "center", true);
  o.scale = config_bool(c, "scale", true);
  return layers::BatchNormalization(o);
}

std::optional<ChannelAffine> batch_norm_affine(const Layer& layer) {
  ChannelAffine a;
  dynamic_cast<const BatchNormLayer&>(layer).affine(a.scale, a.offset);
  return a;
}

}  // namespace

LayerKind batch_norm_kind() {
  return {.class_name = "BatchNormalization", .from_config = &batch_norm_from_config,
          .as_channel_affine = &batch_norm_affine, .batch_statistics = true};
}

}  // namespace detail
}  // namespace qlite
