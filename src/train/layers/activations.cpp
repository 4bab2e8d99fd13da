// ReLU and Activation: activations as layers. The shared rewrite
// (rewrite.cpp) fuses the clamps (ReLU, relu, relu6, linear) into the conv /
// dense op before them, which is how they reach QAT and the converter; the
// other activations (sigmoid, softmax, tanh, hard_swish) are ops of their own
// (LOGISTIC, SOFTMAX, TANH, HARD_SWISH).
#include <bit>
#include <cmath>
#include <cstdint>

#include "kernels/float_kernels.h"
#include "train/layers/activation_math.h"
#include "train/layers/builtin_kinds.h"
#include "train/layers/layer_util.h"

namespace qlite {
namespace {

// y = clamp(x, 0, hi); dy/dx = 1 on (0, hi), else 0 (TensorFlow's ReluGrad /
// Relu6Grad: the kinks get zero gradient).
class ClampLayer : public Layer {
 public:
  using Layer::Layer;
  virtual float upper() const = 0;  // +inf for plain ReLU
  std::optional<float> clamp_upper() const override { return upper(); }

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
    const float hi = upper();
    const Isa isa = active_isa();
    // Written as the comparisons maxss / minss compute (NaN -> 0, like
    // fmax(x, 0)), vectorised (kernels::float_clamp_forward). Chunks of at
    // least 64K elements: below that a hand-off costs about the pass.
    parallel_for(ctx.pool, out.numel(), [&](int64_t b, int64_t e, int) {
      kernels::float_clamp_forward(isa, x + b, y + b, e - b, hi);
    }, int64_t{1} << 16);
  }

  void backward(std::span<const Tensor* const> in, const Tensor&, const Tensor& dout, std::span<Tensor* const> din,
                const RunContext& ctx) override {
    const int64_t n = detail::check_batched_input(*this, in);
    detail::check_dout(*this, dout, n);
    if (din.empty() || din[0] == nullptr) return;
    din[0]->resize(in[0]->shape());
    const float* x = in[0]->f32();
    const float* dy = dout.f32();
    float* dx = din[0]->f32();
    const float hi = upper();
    const Isa isa = active_isa();
    // dy where 0 < x < hi, else +0, selected with a mask (a branch per
    // element mispredicts on real activations).
    parallel_for(ctx.pool, dout.numel(), [&](int64_t b, int64_t e, int) {
      kernels::float_clamp_backward(isa, x + b, dy + b, dx + b, e - b, hi);
    }, int64_t{1} << 16);
  }
};

class ReLULayer final : public ClampLayer {
 public:
  ReLULayer(std::optional<float> max_value, std::string name) : ClampLayer(std::move(name)), max_value_(max_value) {
    check(!max_value_ || (std::isfinite(*max_value_) && *max_value_ > 0.0f),
          detail::layer_label(*this) + ": max_value must be finite and positive");
  }
  std::string type() const override { return "ReLU"; }
  std::string default_name_stem() const override { return "re_lu"; }
  float upper() const override { return max_value_ ? *max_value_ : INFINITY; }
  json get_config() const override {
    return {{"name", name()},
            {"max_value", max_value_ ? json(*max_value_) : json(nullptr)},
            {"negative_slope", 0.0},
            {"threshold", 0.0},
            {"trainable", true},
            {"dtype", "float32"}};
  }
  std::unique_ptr<Layer> clone() const override { return std::make_unique<ReLULayer>(*this); }
  std::optional<float> max_value() const { return max_value_; }

 private:
  std::optional<float> max_value_;
};

// Activation(name): any activation Keras layers take (activation_math.h);
// backward reads its input for the activations whose derivative needs it.
class ActivationClass final : public Layer {
 public:
  ActivationClass(Activation a, std::string name) : Layer(std::move(name)), act_(a) {
    activation_name(a);  // Error for an activation without a Keras name
  }
  std::string type() const override { return "Activation"; }
  std::string default_name_stem() const override { return "activation"; }

  Shape build(std::span<const Shape> input_shapes, Rng&) override {
    check(input_shapes.size() == 1, detail::layer_label(*this) + ": expects exactly one input");
    check(act_ != Activation::kSoftmax || !input_shapes[0].empty(),
          detail::layer_label(*this) + ": softmax needs at least one axis");
    mark_built(input_shapes, input_shapes[0]);
    return input_shapes[0];
  }

  void forward(std::span<const Tensor* const> in, Tensor& out, const RunContext& ctx) override {
    const int64_t n = detail::check_batched_input(*this, in);
    out.resize_batched(n, output_shape());
    const int64_t cols = cols_of(out);
    detail::activation_forward(act_, in[0]->f32(), out.f32(), out.numel() / cols, cols, ctx.pool);
  }

  void backward(std::span<const Tensor* const> in, const Tensor& out, const Tensor& dout, std::span<Tensor* const> din,
                const RunContext& ctx) override {
    detail::check_dout(*this, dout, detail::check_batched_input(*this, in));
    if (din.empty() || din[0] == nullptr) return;
    din[0]->resize(dout.shape());
    const int64_t cols = cols_of(dout);
    detail::activation_backward(act_, in[0]->f32(), out.f32(), dout.f32(), din[0]->f32(), dout.numel() / cols, cols,
                                ctx.pool);
  }

  json get_config() const override {
    return {{"name", name()}, {"activation", activation_name(act_)}, {"trainable", true}, {"dtype", "float32"}};
  }
  std::unique_ptr<Layer> clone() const override { return std::make_unique<ActivationClass>(*this); }
  Activation activation() const { return act_; }

 private:
  // Softmax works on rows of the last axis; elementwise activations do not care.
  int64_t cols_of(const Tensor& t) const {
    return output_shape().empty() || output_shape().back() == 0 ? std::max<int64_t>(t.numel(), 1)
                                                                : output_shape().back();
  }
  Activation act_;
};

}  // namespace

namespace layers {
LayerPtr ReLU(std::optional<float> max_value, std::string name) {
  return std::make_shared<ReLULayer>(max_value, std::move(name));
}
LayerPtr ActivationLayer(Activation activation, std::string name) {
  return std::make_shared<ActivationClass>(activation, std::move(name));
}
}  // namespace layers

namespace detail {
namespace {

LayerPtr relu_from_config(const json& c) {
  for (const char* key : {"negative_slope", "threshold"})
    if (c.contains(key) && !c[key].is_null())
      check(c[key].is_number() && c[key].get<double>() == 0.0,
            std::string("unsupported ") + key + " " + c[key].dump() + " (only 0)");
  std::optional<float> max_value;
  if (c.contains("max_value") && !c["max_value"].is_null()) {
    check(c["max_value"].is_number(), "\"max_value\" must be a number or null");
    max_value = c["max_value"].get<float>();
  }
  return layers::ReLU(max_value, config_name(c));
}

LayerPtr activation_from_config(const json& c) {
  check(c.contains("activation") && c["activation"].is_string(), "missing \"activation\"");
  return layers::ActivationLayer(config_activation(c), config_name(c));
}

// The clamps TFLite fuses: RELU (no bound) and RELU6.
std::optional<Activation> relu_as_fused(const Layer& layer) {
  const auto& r = dynamic_cast<const ReLULayer&>(layer);
  if (!r.max_value()) return Activation::kRelu;
  if (*r.max_value() == 6.0f) return Activation::kRelu6;
  return std::nullopt;
}

// relu, relu6 and linear fuse into the op before them; the others are ops
// of their own.
std::optional<Activation> activation_as_fused(const Layer& layer) {
  const Activation a = dynamic_cast<const ActivationClass&>(layer).activation();
  if (activation_fusable(a)) return a;
  return std::nullopt;
}

// The op an Activation layer is when it stands alone (the rewrite splits
// unfusable activations off their op into such a layer; relu and relu6
// stand alone where no op before them takes a fused activation: after a
// pooling, a concatenation, the input, a shared op whose calls differ).
OpKind activation_op(Activation a) {
  switch (a) {
    case Activation::kLinear: return OpKind::kIdentity;
    case Activation::kRelu:
    case Activation::kRelu6: return OpKind::kRelu;
    case Activation::kSigmoid: return OpKind::kLogistic;
    case Activation::kTanh: return OpKind::kTanh;
    case Activation::kSoftmax: return OpKind::kSoftmax;
    case Activation::kHardSwish: return OpKind::kHardSwish;
    default: return OpKind::kNone;
  }
}

OpSpec activation_op_spec(const Layer& layer) {
  const Activation a = dynamic_cast<const ActivationClass&>(layer).activation();
  const OpKind op = activation_op(a);
  return {.op = op, .activation = op == OpKind::kRelu ? a : Activation::kLinear};
}

// sigmoid, softmax, tanh: the output quantization TFLite fixes; hard_swish,
// relu, relu6: their own range (tfmot quantizes a standalone ReLU's output;
// TFLite's RELU requantizes to it); linear: nothing changes.
QuantRole activation_quant_role(const Layer& layer) {
  switch (activation_op(dynamic_cast<const ActivationClass&>(layer).activation())) {
    case OpKind::kIdentity: return QuantRole::kPassThrough;
    case OpKind::kLogistic:
    case OpKind::kTanh:
    case OpKind::kSoftmax: return QuantRole::kFixedOutput;
    case OpKind::kHardSwish:
    case OpKind::kRelu: return QuantRole::kOutputRange;
    default: return QuantRole::kNone;
  }
}

// A ReLU layer standing alone: RELU or RELU6 (the clamps relu_as_fused
// names), its own output range; other bounds have no op here.
OpSpec relu_op_spec(const Layer& layer) {
  const std::optional<Activation> a = relu_as_fused(layer);
  if (!a) return {};
  return {.op = OpKind::kRelu, .activation = *a};
}
QuantRole relu_quant_role(const Layer& layer) {
  return relu_as_fused(layer) ? QuantRole::kOutputRange : QuantRole::kNone;
}

}  // namespace

LayerKind relu_kind() {
  return {.class_name = "ReLU",
          .from_config = &relu_from_config,
          .op_spec = &relu_op_spec,
          .quant_role_of = &relu_quant_role,
          .as_fused_activation = &relu_as_fused};
}
LayerKind activation_kind() {
  return {.class_name = "Activation",
          .from_config = &activation_from_config,
          .op_spec = &activation_op_spec,
          .quant_role_of = &activation_quant_role,
          .as_fused_activation = &activation_as_fused};
}

}  // namespace detail
}  // namespace qlite
