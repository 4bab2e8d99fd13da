// Keras' kernel and bias initializers: names and serialized forms, the fans
// and distributions each draws from (checked against formulas written here,
// not the code's), the unchanged glorot_uniform default, config round trips
// through model.json's layer configs, and errors naming the key.
#include <cmath>

#include "layer_test_util.h"

using namespace qlite;

namespace {

struct Stats {
  double mean = 0, sd = 0, max_abs = 0;
};

Stats stats(const Tensor& t) {
  Stats s;
  const int64_t n = t.numel();
  for (int64_t i = 0; i < n; ++i) s.mean += t.f32()[i];
  s.mean /= static_cast<double>(n);
  for (int64_t i = 0; i < n; ++i) {
    const double d = t.f32()[i] - s.mean;
    s.sd += d * d;
    s.max_abs = std::max(s.max_abs, std::fabs(static_cast<double>(t.f32()[i])));
  }
  s.sd = std::sqrt(s.sd / static_cast<double>(n - 1));
  return s;
}

Tensor draw(const Initializer& init, Shape shape, uint64_t seed = 3) {
  Tensor t(std::move(shape));
  Rng rng(seed);
  init.fill(t, rng);
  return t;
}

Param* param(Layer& l, const std::string& name) {
  for (Param* p : l.params())
    if (p->name == name) return p;
  return nullptr;
}

// Keras' fans for a conv kernel [kh, kw, in, out]: the receptive field
// times in / out. 3x3x64x128 -> 576 in, 1152 out.
TEST(Initializers, VarianceScalingFansAndDistributions) {
  const Shape k{3, 3, 64, 128};
  const double fan_in = 576, fan_out = 1152, fan_avg = (fan_in + fan_out) / 2;
  struct Case {
    const char* name;
    double var;
    bool uniform;
  };
  const Case cases[] = {
      {"glorot_uniform", 1 / fan_avg, true}, {"glorot_normal", 1 / fan_avg, false},
      {"he_uniform", 2 / fan_in, true},      {"he_normal", 2 / fan_in, false},
      {"lecun_uniform", 1 / fan_in, true},   {"lecun_normal", 1 / fan_in, false},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    const Tensor t = draw(Initializer::from_name(c.name), k);
    const Stats s = stats(t);
    const double sd = std::sqrt(c.var);
    // 73,728 draws: the sample sd is within 2% of the population's.
    EXPECT_NEAR(s.sd, sd, 0.02 * sd);
    EXPECT_NEAR(s.mean, 0.0, 0.02 * sd);
    if (c.uniform) {
      const double limit = std::sqrt(3 * c.var);
      EXPECT_LE(s.max_abs, limit);
      EXPECT_GT(s.max_abs, 0.999 * limit);
    } else {
      // Truncated at two of the parameter's standard deviations, which
      // Keras sets to sd / 0.87962566103423978 so the sample sd is sd.
      const double bound = 2 * sd / 0.87962566103423978;
      EXPECT_LE(s.max_abs, bound * (1 + 1e-6));
      EXPECT_GT(s.max_abs, 0.99 * bound);
    }
  }
}

TEST(Initializers, UntruncatedNormalAndFanOutAndOneDimensionalShapes) {
  Initializer vs;
  vs.scale = 0.5;
  vs.mode = Initializer::Mode::kFanOut;
  vs.distribution = Initializer::Distribution::kUntruncatedNormal;
  const Stats s = stats(draw(vs, {200, 400}));
  const double sd = std::sqrt(0.5 / 400);
  EXPECT_NEAR(s.sd, sd, 0.02 * sd);
  EXPECT_GT(s.max_abs, 3 * sd);  // 80,000 normal draws reach past 3 sd; a truncated one could not
  // A 1-D shape (a bias) is its own fan in and out.
  const Stats b = stats(draw(Initializer::from_name("he_uniform"), {30000}));
  const double limit = std::sqrt(6.0 / 30000);
  EXPECT_LE(b.max_abs, limit);
  EXPECT_GT(b.max_abs, 0.999 * limit);
  const Tensor ones = draw(Initializer::from_name("ones"), {7});
  const Tensor zeros = draw(Initializer::zeros(), {7});
  for (int64_t i = 0; i < 7; ++i) {
    EXPECT_EQ(ones.f32()[i], 1.0f);
    EXPECT_EQ(zeros.f32()[i], 0.0f);
  }
}

// The default stays the draw qlite always made: uniform(-limit, limit) from
// the layer's generator with limit = sqrt(6 / (fan_in + fan_out)), bit for
// bit, so seeded models train exactly as before.
TEST(Initializers, DefaultKernelIsTheSameGlorotUniformDraw) {
  auto conv = layers::Conv2D(8, {3, 3}, {.name = "c"});
  Rng rng(11);
  conv->build(std::vector<Shape>{{6, 6, 4}}, rng);
  Rng ref(11);
  const float limit = static_cast<float>(std::sqrt(6.0 / (9 * 4 + 9 * 8)));
  const Tensor& k = param(*conv, "kernel")->value;
  for (int64_t i = 0; i < k.numel(); ++i) ASSERT_EQ(k.f32()[i], ref.uniform(-limit, limit)) << i;
  for (float v : param(*conv, "bias")->value.span_f32()) EXPECT_EQ(v, 0.0f);
}

TEST(Initializers, LayersUseTheirInitializersAndWriteThemInTheirConfig) {
  Initializer torch_like;  // PyTorch's default for conv and linear weights
  torch_like.scale = 1.0 / 3;
  torch_like.mode = Initializer::Mode::kFanIn;
  auto dense = layers::Dense(50, {.name = "d", .kernel_initializer = torch_like,
                                  .bias_initializer = Initializer::from_name("ones")});
  Rng rng(5);
  dense->build(std::vector<Shape>{{300}}, rng);
  const Stats s = stats(param(*dense, "kernel")->value);
  const double limit = 1 / std::sqrt(300.0);  // sqrt(3 * (1/3) / 300)
  EXPECT_LE(s.max_abs, limit);
  EXPECT_GT(s.max_abs, 0.999 * limit);
  for (float v : param(*dense, "bias")->value.span_f32()) EXPECT_EQ(v, 1.0f);

  const json c = dense->get_config();
  EXPECT_EQ(c["kernel_initializer"]["class_name"], "VarianceScaling");
  EXPECT_EQ(c["kernel_initializer"]["config"]["mode"], "fan_in");
  EXPECT_EQ(c["kernel_initializer"]["config"]["distribution"], "uniform");
  EXPECT_DOUBLE_EQ(c["kernel_initializer"]["config"]["scale"].get<double>(), 1.0 / 3);
  EXPECT_EQ(c["bias_initializer"]["class_name"], "Ones");

  // Round trip: the layer rebuilt from its config draws the same weights.
  auto again = layer_from_config("Dense", c);
  Rng rng2(5);
  again->build(std::vector<Shape>{{300}}, rng2);
  EXPECT_EQ(again->get_config(), c);
  const Tensor& a = param(*dense, "kernel")->value;
  const Tensor& b = param(*again, "kernel")->value;
  for (int64_t i = 0; i < a.numel(); ++i) ASSERT_EQ(a.f32()[i], b.f32()[i]);

  auto dw = layers::DepthwiseConv2D({3, 3}, {.name = "dw", .depthwise_initializer = Initializer::from_name("he_normal")});
  EXPECT_EQ(dw->get_config()["depthwise_initializer"]["class_name"], "HeNormal");
  EXPECT_EQ(dw->get_config()["bias_initializer"]["class_name"], "Zeros");
  EXPECT_EQ(layer_from_config("DepthwiseConv2D", dw->get_config())->get_config(), dw->get_config());
  auto conv = layers::Conv2D(4, {1, 1}, {.name = "c"});
  EXPECT_EQ(conv->get_config()["kernel_initializer"]["class_name"], "GlorotUniform");
}

TEST(Initializers, KerasSpellingsAreAccepted) {
  EXPECT_EQ(Initializer::from_name("HeNormal"), Initializer::from_name("he_normal"));
  // Keras 3 writes module and registered_name too; a string works in configs.
  const json keras3 = {{"module", "keras.initializers"},
                       {"class_name", "HeUniform"},
                       {"config", {{"seed", 42}}},
                       {"registered_name", nullptr}};
  EXPECT_EQ(Initializer::from_json(keras3, "k"), Initializer::from_name("he_uniform"));
  EXPECT_EQ(Initializer::from_json("lecun_normal", "k"), Initializer::from_name("lecun_normal"));
  // VarianceScaling's "normal" is Keras' older name for truncated_normal.
  const json vs = {{"class_name", "VarianceScaling"},
                   {"config", {{"scale", 2.0}, {"mode", "fan_in"}, {"distribution", "normal"}}}};
  EXPECT_EQ(Initializer::from_json(vs, "k"), Initializer::from_name("he_normal"));
  // VarianceScaling's own defaults: scale 1, fan_in, truncated_normal.
  EXPECT_EQ(Initializer::from_json(json{{"class_name", "VarianceScaling"}}, "k"), Initializer::from_name("lecun_normal"));
  // A named initializer's settings serialize under its own name.
  EXPECT_EQ(Initializer::from_json(vs, "k").to_json()["class_name"], "HeNormal");
  json cfg = layers::Conv2D(2, {1, 1}, {.name = "c"})->get_config();
  cfg["kernel_initializer"] = "he_uniform";
  cfg["bias_initializer"] = nullptr;  // Keras' "none": the default
  const json back = layer_from_config("Conv2D", cfg)->get_config();
  EXPECT_EQ(back["kernel_initializer"]["class_name"], "HeUniform");
  EXPECT_EQ(back["bias_initializer"]["class_name"], "Zeros");
}

TEST(Initializers, BadInitializersAreErrorsNamingTheKey) {
  auto expect_error = [](const json& init, const std::string& needle) {
    json cfg = layers::Dense(3, {.name = "d"})->get_config();
    cfg["kernel_initializer"] = init;
    try {
      layer_from_config("Dense", cfg);
      ADD_FAILURE() << "accepted " << init.dump();
    } catch (const Error& e) {
      const std::string msg = e.what();
      EXPECT_NE(msg.find("kernel_initializer"), std::string::npos) << msg;
      EXPECT_NE(msg.find(needle), std::string::npos) << msg;
    }
  };
  expect_error("orthogonal", "unknown initializer 'orthogonal'");
  expect_error(3, "must be an initializer name");
  expect_error(json{{"config", json::object()}}, "must be an initializer name");
  expect_error(json{{"class_name", "VarianceScaling"}, {"config", {{"scale", -1.0}}}}, "\"scale\" must be positive");
  expect_error(json{{"class_name", "VarianceScaling"}, {"config", {{"scale", "big"}}}}, "\"scale\" must be a number");
  expect_error(json{{"class_name", "VarianceScaling"}, {"config", {{"mode", "fan_sum"}}}}, "unknown mode 'fan_sum'");
  expect_error(json{{"class_name", "VarianceScaling"}, {"config", {{"distribution", "cauchy"}}}},
               "unknown distribution 'cauchy'");
  expect_error(json{{"class_name", "HeUniform"}, {"config", {{"seed", "x"}}}}, "\"seed\" must be an integer or null");
  expect_error(json{{"class_name", "HeUniform"}, {"config", 5}}, "\"config\" must be an object");
}

}  // namespace
