// Adam and SGD against update sequences computed by hand / by a plain double
// implementation of the published formulas.
#include <gtest/gtest.h>

#include <cmath>

#include "qlite/train/model.h"

namespace qlite {
namespace {

Param make_param(std::vector<float> v) {
  Param p;
  p.name = "w";
  p.value.resize({static_cast<int64_t>(v.size())});
  p.grad.resize({static_cast<int64_t>(v.size())});
  for (size_t i = 0; i < v.size(); ++i) p.value.f32()[i] = v[i];
  return p;
}

void set_grad(Param& p, std::vector<float> g) {
  for (size_t i = 0; i < g.size(); ++i) p.grad.f32()[i] = g[i];
}

TEST(Optimizer, SgdPlainByHand) {
  Param p = make_param({1.0f});
  Param* list[] = {&p};
  auto opt = SGD({0.1f, 0.0f});
  for (float g : {0.5f, 1.0f, -2.0f}) {
    set_grad(p, {g});
    opt->apply(list);
  }
  // 1 - 0.1 * (0.5 + 1 - 2) = 1.05
  EXPECT_NEAR(p.value.f32()[0], 1.05f, 1e-6);
}

TEST(Optimizer, SgdMomentumByHand) {
  Param p = make_param({1.0f});
  Param* list[] = {&p};
  auto opt = SGD({0.1f, 0.9f});
  // v1 = -0.05, p = 0.95; v2 = 0.9*-0.05 - 0.1 = -0.145, p = 0.805;
  // v3 = 0.9*-0.145 + 0.2 = 0.0695, p = 0.8745.
  const float expected[] = {0.95f, 0.805f, 0.8745f};
  const float grads[] = {0.5f, 1.0f, -2.0f};
  for (int s = 0; s < 3; ++s) {
    set_grad(p, {grads[s]});
    opt->apply(list);
    EXPECT_NEAR(p.value.f32()[0], expected[s], 1e-6) << "step " << s + 1;
  }
}

TEST(Optimizer, AdamFirstStepIsLearningRateTimesSign) {
  // Step 1: m = 0.1 g, v = 0.001 g^2, lr_t = lr sqrt(0.001) / 0.1, so the step is
  // lr * g / (|g| + eps / sqrt(0.001)) ~= lr * sign(g) for |g| >> 3e-6.
  Param p = make_param({1.0f, -0.5f});
  Param* list[] = {&p};
  auto opt = Adam({0.01f});
  set_grad(p, {0.3f, -2.0f});
  opt->apply(list);
  EXPECT_NEAR(p.value.f32()[0], 0.99f, 1e-6);
  EXPECT_NEAR(p.value.f32()[1], -0.49f, 1e-6);
}

TEST(Optimizer, AdamThreeStepsMatchPlainFormula) {
  const double lr = 0.02, b1 = 0.8, b2 = 0.99, eps = 1e-3;  // non-default, so each term matters
  Param p = make_param({0.5f, -1.5f, 2.0f});
  Param* list[] = {&p};
  auto opt = Adam({static_cast<float>(lr), static_cast<float>(b1), static_cast<float>(b2),
                   static_cast<float>(eps)});
  const std::vector<std::vector<float>> grads = {{0.1f, -0.2f, 0.0f}, {0.3f, 0.05f, -1.0f},
                                                 {-0.5f, 0.4f, 0.25f}};
  double w[3] = {0.5, -1.5, 2.0}, m[3] = {}, v[3] = {};
  for (int t = 1; t <= 3; ++t) {
    set_grad(p, grads[t - 1]);
    opt->apply(list);
    const double lr_t = lr * std::sqrt(1 - std::pow(b2, t)) / (1 - std::pow(b1, t));
    for (int k = 0; k < 3; ++k) {
      const double g = grads[t - 1][k];
      m[k] = b1 * m[k] + (1 - b1) * g;
      v[k] = b2 * v[k] + (1 - b2) * g * g;
      w[k] -= lr_t * m[k] / (std::sqrt(v[k]) + eps);
      EXPECT_NEAR(p.value.f32()[k], w[k], 2e-6) << "step " << t << " element " << k;
    }
  }
}

TEST(Optimizer, NonTrainableParamsAreNotUpdated) {
  Param a = make_param({1.0f}), b = make_param({2.0f});
  b.trainable = false;
  Param* list[] = {&a, &b};
  set_grad(a, {1.0f});
  set_grad(b, {1.0f});
  std::vector<std::unique_ptr<Optimizer>> opts;
  opts.push_back(Adam());
  opts.push_back(SGD());
  for (auto& opt : opts) {
    opt->apply(list);
    EXPECT_EQ(b.value.f32()[0], 2.0f) << opt->name();
    EXPECT_LT(a.value.f32()[0], 1.0f) << opt->name();
  }
}

TEST(Optimizer, ChangedParamListIsAnError) {
  Param a = make_param({1.0f}), b = make_param({2.0f, 3.0f});
  Param* one[] = {&a};
  Param* two[] = {&a, &b};
  auto opt = Adam();
  opt->apply(one);
  EXPECT_THROW(opt->apply(two), Error);
}

TEST(Optimizer, ConfigRoundTrip) {
  auto adam = Adam({0.005f, 0.85f, 0.995f, 1e-6f});
  auto back = optimizer_from_config(optimizer_to_config(*adam));
  EXPECT_EQ(back->name(), "Adam");
  EXPECT_EQ(back->get_config(), adam->get_config());
  EXPECT_EQ(back->learning_rate, 0.005f);
  EXPECT_EQ(optimizer_to_config(*adam)["config"]["learning_rate"].dump(), "0.005");
  auto sgd = SGD({0.1f, 0.9f});
  EXPECT_EQ(optimizer_from_config(optimizer_to_config(*sgd))->get_config(), sgd->get_config());
  EXPECT_THROW(optimizer_from_config(json{{"class_name", "RMSprop"}}), Error);
  EXPECT_THROW(optimizer_from_config(json{{"class_name", "Adam"}, {"config", {{"beta_1", "x"}}}}), Error);
  EXPECT_THROW(optimizer_from_config(json::array()), Error);
}

}  // namespace
}  // namespace qlite
