// Adam and SGD with Keras (TF2 optimizer_v2) update rules.
#include <cmath>

#include "qlite/train/model.h"
#include "train/train_util.h"

namespace qlite {

namespace {

// Per-param slots, created on the first apply() and checked on every later one
// so that a changed param list is an Error rather than silent corruption.
class SlotSet {
 public:
  void ensure(std::span<Param* const> params, int slots_per_param, const std::string& opt) {
    if (slots_.empty() && !params.empty()) {
      slots_.resize(params.size() * slots_per_param);
      for (size_t i = 0; i < params.size(); ++i)
        for (int s = 0; s < slots_per_param; ++s) {
          Tensor& t = slots_[i * slots_per_param + s];
          t.resize(params[i]->value.shape());
          t.zero();
        }
      return;
    }
    QLITE_CHECK(slots_.size() == params.size() * slots_per_param,
          opt + ": the parameter list changed between updates (" +
              std::to_string(slots_.size() / slots_per_param) + " then " +
              std::to_string(params.size()) + " params); re-compile the model");
    for (size_t i = 0; i < params.size(); ++i)
      for (int s = 0; s < slots_per_param; ++s)
        QLITE_CHECK(slots_[i * slots_per_param + s].shape() == params[i]->value.shape(),
              opt + ": parameter '" + params[i]->name + "' changed shape from " +
                  shape_str(slots_[i * slots_per_param + s].shape()) + " to " +
                  shape_str(params[i]->value.shape()));
  }
  float* slot(size_t i, int s, int per) { return slots_[i * per + s].f32(); }
  const std::vector<Tensor>& all() const { return slots_; }
  void set(std::vector<Tensor> slots, const std::string& opt) {
    for (const Tensor& t : slots)
      QLITE_CHECK(t.dtype() == DType::kFloat32, opt + ": optimizer slots must be float32");
    slots_ = std::move(slots);
  }

 private:
  std::vector<Tensor> slots_;
};

void check_grad(const Param& p, const std::string& opt) {
  QLITE_CHECK(p.value.dtype() == DType::kFloat32, opt + ": parameter '" + p.name + "' is " +
                                                dtype_name(p.value.dtype()) + ", not float32");
  QLITE_CHECK(p.grad.dtype() == DType::kFloat32 && p.grad.shape() == p.value.shape(),
        opt + ": parameter '" + p.name + "' has gradient " + shape_str(p.grad.shape()) +
            " for value " + shape_str(p.value.shape()));
}

class AdamOptimizer final : public Optimizer {
 public:
  explicit AdamOptimizer(const AdamOptions& o) : o_(o) { learning_rate = o.learning_rate; }
  std::string name() const override { return "Adam"; }

  void apply(std::span<Param* const> params) override {
    slots_.ensure(params, 2, "Adam");
    ++t_;
    // The bias correction folded into the step size, as TF's ResourceApplyAdam.
    const double b1t = std::pow(static_cast<double>(o_.beta_1), static_cast<double>(t_));
    const double b2t = std::pow(static_cast<double>(o_.beta_2), static_cast<double>(t_));
    const float lr_t = static_cast<float>(learning_rate * std::sqrt(1.0 - b2t) / (1.0 - b1t));
    const float b1 = o_.beta_1, b2 = o_.beta_2, eps = o_.epsilon;
    for (size_t i = 0; i < params.size(); ++i) {
      Param& p = *params[i];
      if (!p.trainable) continue;
      check_grad(p, "Adam");
      float* w = p.value.f32();
      const float* g = p.grad.f32();
      float* m = slots_.slot(i, 0, 2);
      float* v = slots_.slot(i, 1, 2);
      const int64_t n = p.value.numel();
      for (int64_t k = 0; k < n; ++k) {
        // The algebraic form of TF's ApplyAdam kernel, so float rounding matches it too.
        m[k] += (g[k] - m[k]) * (1.0f - b1);
        v[k] += (g[k] * g[k] - v[k]) * (1.0f - b2);
        w[k] -= (m[k] * lr_t) / (std::sqrt(v[k]) + eps);
      }
    }
  }

  json get_config() const override {
    return {{"name", "Adam"},
            {"learning_rate", detail::float_json(learning_rate)},
            {"beta_1", detail::float_json(o_.beta_1)},
            {"beta_2", detail::float_json(o_.beta_2)},
            {"epsilon", detail::float_json(o_.epsilon)}};
  }
  std::unique_ptr<Optimizer> clone() const override {
    AdamOptions o = o_;
    o.learning_rate = learning_rate;
    return std::make_unique<AdamOptimizer>(o);
  }
  std::vector<std::string> slot_names() const override { return {"m", "v"}; }
  OptimizerState state() const override { return {t_, slots_.all()}; }
  void set_state(OptimizerState s) override {
    QLITE_CHECK(s.iterations >= 0 && s.slots.size() % 2 == 0, "Adam: invalid optimizer state");
    slots_.set(std::move(s.slots), "Adam");
    t_ = s.iterations;
  }

 private:
  AdamOptions o_;
  int64_t t_ = 0;
  SlotSet slots_;
};

class SgdOptimizer final : public Optimizer {
 public:
  explicit SgdOptimizer(const SgdOptions& o) : momentum_(o.momentum) { learning_rate = o.learning_rate; }
  std::string name() const override { return "SGD"; }

  void apply(std::span<Param* const> params) override {
    if (momentum_ != 0.0f) slots_.ensure(params, 1, "SGD");
    ++t_;
    const float lr = learning_rate, mu = momentum_;
    for (size_t i = 0; i < params.size(); ++i) {
      Param& p = *params[i];
      if (!p.trainable) continue;
      check_grad(p, "SGD");
      float* w = p.value.f32();
      const float* g = p.grad.f32();
      const int64_t n = p.value.numel();
      if (mu == 0.0f) {
        for (int64_t k = 0; k < n; ++k) w[k] -= lr * g[k];
      } else {
        float* v = slots_.slot(i, 0, 1);
        for (int64_t k = 0; k < n; ++k) {
          v[k] = mu * v[k] - lr * g[k];
          w[k] += v[k];
        }
      }
    }
  }

  json get_config() const override {
    return {{"name", "SGD"},
            {"learning_rate", detail::float_json(learning_rate)},
            {"momentum", detail::float_json(momentum_)}};
  }
  std::unique_ptr<Optimizer> clone() const override {
    return std::make_unique<SgdOptimizer>(SgdOptions{learning_rate, momentum_});
  }
  std::vector<std::string> slot_names() const override {
    return momentum_ != 0.0f ? std::vector<std::string>{"momentum"} : std::vector<std::string>{};
  }
  OptimizerState state() const override { return {t_, slots_.all()}; }
  void set_state(OptimizerState s) override {
    QLITE_CHECK(s.iterations >= 0 && (momentum_ != 0.0f || s.slots.empty()), "SGD: invalid optimizer state");
    slots_.set(std::move(s.slots), "SGD");
    t_ = s.iterations;
  }

 private:
  float momentum_;
  int64_t t_ = 0;
  SlotSet slots_;
};

float config_float(const json& c, const char* key, float fallback, const std::string& cls) {
  if (!c.contains(key)) return fallback;
  const json& v = c[key];
  QLITE_CHECK(v.is_number(), cls + " optimizer config: '" + key + "' must be a number");
  const double d = v.get<double>();
  QLITE_CHECK(std::isfinite(d), cls + " optimizer config: '" + key + "' is not finite");
  return static_cast<float>(d);
}

}  // namespace

std::unique_ptr<Optimizer> Adam(AdamOptions options) {
  // isfinite: an infinite rate trains nothing but NaN and saves as JSON null.
  QLITE_CHECK(std::isfinite(options.learning_rate) && std::isfinite(options.epsilon) && options.learning_rate >= 0 &&
                  options.beta_1 >= 0 && options.beta_1 < 1 && options.beta_2 >= 0 && options.beta_2 < 1 &&
                  options.epsilon >= 0,
              "Adam: learning_rate and epsilon must be finite and >= 0 and beta_1, beta_2 in [0, 1), got learning_rate " +
                  std::to_string(options.learning_rate));
  return std::make_unique<AdamOptimizer>(options);
}

std::unique_ptr<Optimizer> SGD(SgdOptions options) {
  QLITE_CHECK(std::isfinite(options.learning_rate) && options.learning_rate >= 0 && options.momentum >= 0 &&
                  options.momentum <= 1,
              "SGD: learning_rate must be finite and >= 0 and momentum in [0, 1], got learning_rate " +
                  std::to_string(options.learning_rate));
  return std::make_unique<SgdOptimizer>(options);
}

std::unique_ptr<Optimizer> optimizer_from_config(const json& j) {
  QLITE_CHECK(j.is_object(), "optimizer config must be an object");
  QLITE_CHECK(j.contains("class_name") && j["class_name"].is_string(),
        "optimizer config: missing string 'class_name'");
  const std::string cls = j["class_name"].get<std::string>();
  const json empty = json::object();
  const json& c = j.contains("config") ? j["config"] : empty;
  QLITE_CHECK(c.is_object(), "optimizer config: 'config' of " + cls + " must be an object");
  if (cls == "Adam") {
    AdamOptions o;
    o.learning_rate = config_float(c, "learning_rate", o.learning_rate, cls);
    o.beta_1 = config_float(c, "beta_1", o.beta_1, cls);
    o.beta_2 = config_float(c, "beta_2", o.beta_2, cls);
    o.epsilon = config_float(c, "epsilon", o.epsilon, cls);
    return Adam(o);
  }
  if (cls == "SGD") {
    SgdOptions o;
    o.learning_rate = config_float(c, "learning_rate", o.learning_rate, cls);
    o.momentum = config_float(c, "momentum", o.momentum, cls);
    return SGD(o);
  }
  throw Error("unknown optimizer class '" + cls + "' (known: Adam, SGD)");
}

json optimizer_to_config(const Optimizer& opt) {
  return {{"class_name", opt.name()}, {"config", opt.get_config()}};
}

}  // namespace qlite
