// Dropout: Keras' inverted dropout. In training each element is kept with
// probability 1 - rate and scaled by 1 / (1 - rate), or zeroed; in inference
// it is the identity. The mask is a counter-based hash of (seed, training
// step, element index), so it depends on the seed and on how many training
// forwards the layer ran, never on the thread count or the chunking. QAT
// passes it through (identity at inference) and the converter writes no op
// for it (OpKind::kIdentity): its output is its input's tensor.
#include <cmath>

#include "train/layers/builtin_kinds.h"
#include "train/layers/layer_util.h"
#include "train/train_util.h"

namespace qlite {
namespace {

constexpr uint64_t kStreamDropout = 0x44524f50ull;  // "DROP"

class DropoutLayer final : public Layer {
 public:
  DropoutLayer(float rate, uint64_t seed, std::string name) : Layer(std::move(name)), rate_(rate), seed_(seed) {
    check(std::isfinite(rate) && rate >= 0.0f && rate < 1.0f,
          detail::layer_label(*this) + ": rate must be in [0, 1), got " + std::to_string(rate));
  }
  std::string type() const override { return "Dropout"; }
  std::string default_name_stem() const override { return "dropout"; }

  Shape build(std::span<const Shape> input_shapes, Rng&) override {
    check(input_shapes.size() == 1, detail::layer_label(*this) + ": expects exactly one input");
    mark_built(input_shapes, input_shapes[0]);
    return input_shapes[0];
  }

  void forward(std::span<const Tensor* const> in, Tensor& out, const RunContext& ctx) override {
    const int64_t n = detail::check_batched_input(*this, in);
    out.resize_batched(n, output_shape());
    const float* x = in[0]->f32();
    float* y = out.f32();
    if (!ctx.training || rate_ == 0.0f) {
      std::copy(x, x + out.numel(), y);
      masked_ = false;
      return;
    }
    step_seed_ = detail::mix_seed(seed_, kStreamDropout, steps_++);
    masked_ = true;
    const float scale = 1.0f / (1.0f - rate_);
    parallel_for(ctx.pool, out.numel(), [&](int64_t b, int64_t e, int) {
      for (int64_t i = b; i < e; ++i) y[i] = keep(i) ? x[i] * scale : 0.0f;
    }, int64_t{1} << 15);
  }

  // dx = dy * (the mask of the last forward) / (1 - rate); the identity after
  // an inference forward.
  void backward(std::span<const Tensor* const> in, const Tensor&, const Tensor& dout, std::span<Tensor* const> din,
                const RunContext& ctx) override {
    detail::check_dout(*this, dout, detail::check_batched_input(*this, in));
    if (din.empty() || din[0] == nullptr) return;
    din[0]->resize(dout.shape());
    const float* dy = dout.f32();
    float* dx = din[0]->f32();
    if (!masked_) {
      std::copy(dy, dy + dout.numel(), dx);
      return;
    }
    const float scale = 1.0f / (1.0f - rate_);
    parallel_for(ctx.pool, dout.numel(), [&](int64_t b, int64_t e, int) {
      for (int64_t i = b; i < e; ++i) dx[i] = keep(i) ? dy[i] * scale : 0.0f;
    }, int64_t{1} << 15);
  }

  json get_config() const override {
    return {{"name", name()},          {"rate", detail::float_json(rate_)}, {"noise_shape", nullptr},
            {"seed", seed_},           {"trainable", true},                 {"dtype", "float32"}};
  }
  std::unique_ptr<Layer> clone() const override { return std::make_unique<DropoutLayer>(*this); }
  json training_state() const override { return {{"steps", steps_}}; }
  void set_training_state(const json& state) override {
    check(state.is_object() && state.contains("steps") && state["steps"].is_number_unsigned(),
          detail::layer_label(*this) + ": training state must be {\"steps\": N}");
    steps_ = state["steps"].get<uint64_t>();
  }

 private:
  // Kept when a uniform [0, 1) draw (24 bits) is >= rate, as Keras keeps.
  bool keep(int64_t i) const {
    const uint64_t h = detail::splitmix(step_seed_ + static_cast<uint64_t>(i));
    return static_cast<float>(h >> 40) * (1.0f / 16777216.0f) >= rate_;
  }

  float rate_;
  uint64_t seed_;
  uint64_t steps_ = 0;      // training forwards so far
  uint64_t step_seed_ = 0;  // the last training forward's
  bool masked_ = false;     // the last forward dropped (training, rate > 0)
};

}  // namespace

namespace layers {
LayerPtr Dropout(float rate, uint64_t seed, std::string name) {
  return std::make_shared<DropoutLayer>(rate, seed, std::move(name));
}
}  // namespace layers

namespace detail {
namespace {
LayerPtr dropout_from_config(const json& c) {
  check(c.contains("rate") && c["rate"].is_number(), "missing \"rate\" (a number)");
  check(!c.contains("noise_shape") || c["noise_shape"].is_null(),
        "unsupported noise_shape " + (c.contains("noise_shape") ? c["noise_shape"].dump() : "") + " (only null)");
  uint64_t seed = 0;
  if (c.contains("seed") && !c["seed"].is_null()) {
    check(c["seed"].is_number_integer() && c["seed"].get<int64_t>() >= 0,
          "\"seed\" must be a non-negative integer or null, got " + c["seed"].dump());
    seed = c["seed"].get<uint64_t>();
  }
  return layers::Dropout(c["rate"].get<float>(), seed, config_name(c));
}
OpSpec dropout_op_spec(const Layer&) { return {.op = OpKind::kIdentity}; }
}  // namespace

LayerKind dropout_kind() {
  return {.class_name = "Dropout",
          .from_config = &dropout_from_config,
          .op = OpKind::kIdentity,
          .op_spec = &dropout_op_spec,
          .quant_role = QuantRole::kPassThrough};
}
}  // namespace detail
}  // namespace qlite
