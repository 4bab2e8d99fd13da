// Dropout, AveragePooling2D, Concatenate, ZeroPadding2D and the activations
// sigmoid / softmax / tanh / hard_swish: Keras names, defaults and config
// round trips, hand-computed forward examples, and finite-difference checks
// of every gradient.
#include <cmath>
#include <limits>

#include "layer_test_util.h"

using namespace qlite;
using namespace qlite::test;

namespace {

Tensor forward_n(Layer& l, std::vector<const Tensor*> in, bool training = true, ThreadPool* pool = nullptr) {
  Tensor out;
  RunContext ctx{training, pool};
  l.forward(in, out, ctx);
  return out;
}

void build(Layer& l, std::vector<Shape> shapes) {
  Rng rng(1);
  l.build(shapes, rng);
}

void expect_values(const Tensor& t, const std::vector<float>& want, float tol = 0.0f) {
  ASSERT_EQ(t.numel(), static_cast<int64_t>(want.size()));
  for (size_t i = 0; i < want.size(); ++i) EXPECT_NEAR(t.f32()[i], want[i], tol) << "element " << i;
}

// Finite differences of L = sum(out * probe) over input k of a multi-input
// layer (every such layer here is linear: the difference is exact).
void check_input_gradient(Layer& l, std::vector<Tensor>& xs, size_t k, const Tensor& analytic, const Tensor& probe) {
  auto loss = [&] {
    std::vector<const Tensor*> in;
    for (const Tensor& x : xs) in.push_back(&x);
    const Tensor out = forward_n(l, in);
    double s = 0;
    for (int64_t i = 0; i < out.numel(); ++i) s += static_cast<double>(out.f32()[i]) * probe.f32()[i];
    return s;
  };
  ASSERT_EQ(analytic.shape(), xs[k].shape());
  const float eps = 1e-2f;
  for (int64_t i = 0; i < xs[k].numel(); ++i) {
    float& v = xs[k].f32()[i];
    const float keep = v;
    v = keep + eps;
    const double lp = loss();
    v = keep - eps;
    const double lm = loss();
    v = keep;
    EXPECT_NEAR(analytic.f32()[i], (lp - lm) / (2 * eps), 1e-3) << "input " << k << " element " << i;
  }
}

// ---- Dropout ---------------------------------------------------------------------

TEST(Dropout, InvertedDropoutInTrainingIdentityInInference) {
  auto d = layers::Dropout(0.25f, 7, "drop");
  build(*d, {{40, 50}});
  Tensor x({2, 40, 50});
  for (float& v : x.span_f32()) v = 1.5f;
  const Tensor y = forward_n(*d, {&x});
  int64_t zeros = 0;
  for (float v : y.span_f32()) {
    if (v == 0.0f) ++zeros;
    else EXPECT_EQ(v, 1.5f / 0.75f);  // kept values scaled by 1 / (1 - rate)
  }
  // 4000 draws at p = 0.25: 1000 expected, the seed fixes the count.
  EXPECT_GT(zeros, 900);
  EXPECT_LT(zeros, 1100);
  const Tensor inf = forward_n(*d, {&x}, false);
  for (float v : inf.span_f32()) EXPECT_EQ(v, 1.5f);
}

TEST(Dropout, MaskDependsOnSeedAndStepNotOnThreads) {
  auto make = [](uint64_t seed) {
    auto d = layers::Dropout(0.5f, seed);
    build(*d, {{64}});
    return d;
  };
  Rng rng(3);
  const Tensor x = random_tensor({37, 64}, rng);
  auto a = make(11), b = make(11), c = make(12);
  ThreadPool pool(3);
  const Tensor a1 = forward_n(*a, {&x}, true, nullptr), b1 = forward_n(*b, {&x}, true, &pool);
  const Tensor c1 = forward_n(*c, {&x});
  const Tensor a2 = forward_n(*a, {&x});
  int64_t same_seed = 0, other_seed = 0, next_step = 0;
  for (int64_t i = 0; i < x.numel(); ++i) {
    same_seed += a1.f32()[i] == b1.f32()[i];
    other_seed += a1.f32()[i] == c1.f32()[i];
    next_step += a1.f32()[i] == a2.f32()[i];
  }
  EXPECT_EQ(same_seed, x.numel());  // same seed and step, 1 or 3 threads: the same mask
  EXPECT_LT(other_seed, x.numel() * 3 / 4);
  EXPECT_LT(next_step, x.numel() * 3 / 4);  // a new step draws a new mask
  // A clone continues from the same step.
  auto clone = a->clone();
  EXPECT_EQ(forward_n(*clone, {&x}).span_f32()[5], forward_n(*a, {&x}).span_f32()[5]);
}

TEST(Dropout, GradientIsTheForwardMask) {
  auto d = layers::Dropout(0.3f, 5);
  build(*d, {{6, 7}});
  Rng rng(4);
  Tensor x = random_tensor({3, 6, 7}, rng);
  const Tensor probe = random_tensor({3, 6, 7}, rng);
  // Each evaluation runs on a copy at the same step, so all see one mask.
  auto at_step = d->clone();
  const Tensor out = run_forward(*d, x);
  const Tensor dx = run_backward(*d, x, out, probe);
  const float eps = 1e-2f;
  for (int64_t i = 0; i < x.numel(); ++i) {
    auto loss = [&] {
      auto l = at_step->clone();
      const Tensor o = run_forward(*l, x);
      double s = 0;
      for (int64_t k = 0; k < o.numel(); ++k) s += static_cast<double>(o.f32()[k]) * probe.f32()[k];
      return s;
    };
    const float keep = x.f32()[i];
    x.f32()[i] = keep + eps;
    const double lp = loss();
    x.f32()[i] = keep - eps;
    const double lm = loss();
    x.f32()[i] = keep;
    EXPECT_NEAR(dx.f32()[i], (lp - lm) / (2 * eps), 1e-3) << i;
  }
}

TEST(Dropout, KerasConfig) {
  LayerPtr d = layer_from_config("Dropout", json::parse(R"({"name": "dr", "rate": 0.5, "noise_shape": null,
                                                            "seed": null, "trainable": true})"));
  EXPECT_EQ(d->default_name_stem(), "dropout");
  const json c = d->get_config();
  EXPECT_EQ(c["rate"], 0.5);
  EXPECT_EQ(c["seed"], 0);
  EXPECT_THROW(layer_from_config("Dropout", json::parse(R"({"rate": 1.0})")), Error);
  EXPECT_THROW(layer_from_config("Dropout", json::parse(R"({"rate": 0.1, "noise_shape": [1, 1, 3]})")), Error);
  EXPECT_THROW(layers::Dropout(-0.1f), Error);
}

// ---- AveragePooling2D ---------------------------------------------------------------

TEST(AveragePooling2D, ValidWindows) {
  auto p = layers::AveragePooling2D({2, 2});
  build(*p, {{2, 4, 1}});
  const Tensor x = make_tensor({1, 2, 4, 1}, {1, 2, 3, 4, 5, 6, 7, 9});
  expect_values(forward_n(*p, {&x}), {(1 + 2 + 5 + 6) / 4.0f, (3 + 4 + 7 + 9) / 4.0f});
}

TEST(AveragePooling2D, SameBorderWindowsCountOnlyCellsInside) {
  layers::PoolOptions o;
  o.strides = std::array<int, 2>{1, 1};
  o.padding = Padding::kSame;
  auto p = layers::AveragePooling2D({3, 3}, o);
  build(*p, {{2, 2, 1}});
  const Tensor x = make_tensor({1, 2, 2, 1}, {1, 2, 3, 10});
  // Every 3x3 window around a 2x2 image holds all four cells.
  expect_values(forward_n(*p, {&x}), {4, 4, 4, 4});
  auto q = layers::AveragePooling2D({2, 2}, {.strides = std::array<int, 2>{2, 2}, .padding = Padding::kSame});
  build(*q, {{3, 3, 2}});
  Tensor y({1, 3, 3, 2});
  for (int64_t i = 0; i < 18; ++i) y.f32()[i] = static_cast<float>(i);
  // Output 2x2; the last row and column windows hold 2 and 1 cells.
  // channel 0 values: 0 2 4 / 6 8 10 / 12 14 16.
  const Tensor out = forward_n(*q, {&y});
  EXPECT_EQ(out.shape(), Shape({1, 2, 2, 2}));
  EXPECT_FLOAT_EQ(out.f32()[0], (0 + 2 + 6 + 8) / 4.0f);
  EXPECT_FLOAT_EQ(out.f32()[2], (4 + 10) / 2.0f);
  EXPECT_FLOAT_EQ(out.f32()[4], (12 + 14) / 2.0f);
  EXPECT_FLOAT_EQ(out.f32()[6], 16.0f);
  EXPECT_FLOAT_EQ(out.f32()[7], 17.0f);
}

TEST(AveragePooling2D, Gradient) {
  Rng rng(8);
  for (Padding pad : {Padding::kValid, Padding::kSame}) {
    auto p = layers::AveragePooling2D({3, 2}, {.strides = std::array<int, 2>{2, 1}, .padding = pad});
    build(*p, {{7, 5, 3}});
    Tensor x = random_tensor({2, 7, 5, 3}, rng);
    const Tensor out = run_forward(*p, x);
    const Tensor probe = random_tensor(out.shape(), rng);
    const Tensor dx = run_backward(*p, x, out, probe);
    check_gradient("average_pooling2d input", *p, x, x, dx, probe, rng);
  }
}

TEST(AveragePooling2D, KerasConfig) {
  LayerPtr p = layer_from_config("AveragePooling2D", json::parse(R"({"name": "ap", "pool_size": 3,
                                                                    "strides": null, "padding": "same"})"));
  EXPECT_EQ(p->default_name_stem(), "average_pooling2d");
  EXPECT_EQ(p->get_config()["strides"], json({3, 3}));
  EXPECT_EQ(layer_from_config("AveragePooling2D", json::object())->get_config()["pool_size"], json({2, 2}));
}

// ---- Concatenate ---------------------------------------------------------------------

TEST(Concatenate, JoinsAlongTheAxis) {
  auto c = layers::Concatenate();
  build(*c, {{2, 1, 2}, {2, 1, 1}});
  EXPECT_EQ(c->output_shape(), Shape({2, 1, 3}));
  const Tensor a = make_tensor({1, 2, 1, 2}, {1, 2, 3, 4});
  const Tensor b = make_tensor({1, 2, 1, 1}, {9, 8});
  expect_values(forward_n(*c, {&a, &b}), {1, 2, 9, 3, 4, 8});
  auto h = layers::Concatenate(1);  // Keras counts the batch: axis 1 is the height
  build(*h, {{1, 2, 1}, {2, 2, 1}});
  EXPECT_EQ(h->output_shape(), Shape({3, 2, 1}));
  const Tensor p = make_tensor({1, 1, 2, 1}, {1, 2});
  const Tensor q = make_tensor({1, 2, 2, 1}, {3, 4, 5, 6});
  expect_values(forward_n(*h, {&p, &q}), {1, 2, 3, 4, 5, 6});
}

TEST(Concatenate, GradientSplitsToEachInput) {
  Rng rng(9);
  auto c = layers::Concatenate(-1);
  build(*c, {{3, 2, 2}, {3, 2, 1}, {3, 2, 3}});
  std::vector<Tensor> xs = {random_tensor({2, 3, 2, 2}, rng), random_tensor({2, 3, 2, 1}, rng),
                            random_tensor({2, 3, 2, 3}, rng)};
  const Tensor out = forward_n(*c, {&xs[0], &xs[1], &xs[2]});
  const Tensor probe = random_tensor(out.shape(), rng);
  std::vector<Tensor> d(3);
  Tensor* din[3] = {&d[0], nullptr, &d[2]};  // no gradient asked for input 1
  const Tensor* in[3] = {&xs[0], &xs[1], &xs[2]};
  c->backward(in, out, probe, din, RunContext{true, nullptr});
  EXPECT_TRUE(d[1].empty());
  check_input_gradient(*c, xs, 0, d[0], probe);
  check_input_gradient(*c, xs, 2, d[2], probe);
}

TEST(Concatenate, ShapesAndConfig) {
  auto c = layers::Concatenate();
  Rng rng;
  EXPECT_THROW(c->build(std::vector<Shape>{{2, 2, 1}, {3, 2, 1}}, rng), Error);  // differ off the axis
  EXPECT_THROW(layers::Concatenate(0), Error);                                 // the batch
  Sequential m;
  m.add(layers::Input({4}));
  EXPECT_THROW(m.add(layers::Concatenate()), Error);  // reads one input
  LayerPtr k = layer_from_config("Concatenate", json::parse(R"({"name": "cat", "axis": 2})"));
  EXPECT_EQ(k->get_config()["axis"], 2);
  EXPECT_EQ(k->default_name_stem(), "concatenate");
  EXPECT_EQ(k->num_inputs(), Layer::kAnyInputs);
}

// ---- ZeroPadding2D -----------------------------------------------------------------

TEST(ZeroPadding2D, PadsTopBottomLeftRight) {
  auto z = layers::ZeroPadding2D({{{1, 0}, {0, 2}}});
  build(*z, {{1, 2, 1}});
  EXPECT_EQ(z->output_shape(), Shape({2, 4, 1}));
  const Tensor x = make_tensor({1, 1, 2, 1}, {3, 4});
  expect_values(forward_n(*z, {&x}), {0, 0, 0, 0, 3, 4, 0, 0});
}

TEST(ZeroPadding2D, Gradient) {
  Rng rng(10);
  auto z = layers::ZeroPadding2D({{{2, 1}, {0, 3}}});
  build(*z, {{3, 4, 2}});
  Tensor x = random_tensor({2, 3, 4, 2}, rng);
  const Tensor out = run_forward(*z, x);
  const Tensor probe = random_tensor(out.shape(), rng);
  const Tensor dx = run_backward(*z, x, out, probe);
  check_gradient("zero_padding2d input", *z, x, x, dx, probe, rng);
}

TEST(ZeroPadding2D, KerasConfigForms) {
  auto pads = [](const char* config) { return layer_from_config("ZeroPadding2D", json::parse(config))->get_config()["padding"]; };
  EXPECT_EQ(pads(R"({})"), json::parse("[[1, 1], [1, 1]]"));
  EXPECT_EQ(pads(R"({"padding": 2})"), json::parse("[[2, 2], [2, 2]]"));
  EXPECT_EQ(pads(R"({"padding": [1, 3]})"), json::parse("[[1, 1], [3, 3]]"));
  EXPECT_EQ(pads(R"({"padding": [[0, 1], [2, 3]], "data_format": "channels_last"})"),
            json::parse("[[0, 1], [2, 3]]"));
  EXPECT_THROW(pads(R"({"padding": [1, 2, 3]})"), Error);
  EXPECT_THROW(pads(R"({"padding": -1})"), Error);
  EXPECT_THROW(pads(R"({"padding": 1, "data_format": "channels_first"})"), Error);
  EXPECT_EQ(layers::ZeroPadding2D()->default_name_stem(), "zero_padding2d");
}

// ---- Rescaling -----------------------------------------------------------------

TEST(Rescaling, HandValuesAndGradient) {
  auto r = layers::Rescaling(0.5f, -1.0f);
  build(*r, {{2, 2}});
  EXPECT_EQ(r->output_shape(), Shape({2, 2}));
  const Tensor x = make_tensor({1, 2, 2}, {0, 2, -4, 255});
  expect_values(forward_n(*r, {&x}), {-1, 0, -3, 126.5f});
  Rng rng(12);
  auto g = layers::Rescaling(1.0f / 255, 0.25f);
  build(*g, {{3, 4, 2}});
  Tensor xs = random_tensor({2, 3, 4, 2}, rng);
  const Tensor out = run_forward(*g, xs);
  const Tensor probe = random_tensor(out.shape(), rng);
  const Tensor dx = run_backward(*g, xs, out, probe);
  check_gradient("rescaling input", *g, xs, xs, dx, probe, rng);
}

TEST(Rescaling, KerasConfig) {
  auto l = layer_from_config("Rescaling", json::parse(R"({"name": "r", "scale": 0.00392156862745098})"));
  EXPECT_EQ(l->get_config()["scale"].get<float>(), 1.0f / 255);
  EXPECT_EQ(l->get_config()["offset"].get<float>(), 0.0f);
  EXPECT_EQ(l->name(), "r");
  EXPECT_EQ(layer_from_config("Rescaling", l->get_config())->get_config(), l->get_config());
  EXPECT_THROW(layer_from_config("Rescaling", json::parse(R"({"offset": 1})")), Error);
  EXPECT_THROW(layer_from_config("Rescaling", json::parse(R"({"scale": [1, 2]})")), Error);
  EXPECT_THROW(layers::Rescaling(std::numeric_limits<float>::infinity()), Error);
  EXPECT_EQ(layers::Rescaling(2.0f)->default_name_stem(), "rescaling");
  EXPECT_TRUE(layers::Rescaling(2.0f)->params().empty());
}

// ---- activations -----------------------------------------------------------------

TEST(Activations, HandValues) {
  const Tensor x = make_tensor({1, 4}, {-4, -1, 0, 2});
  auto run = [&](Activation a) {
    auto l = layers::ActivationLayer(a);
    build(*l, {{4}});
    return forward_n(*l, {&x});
  };
  expect_values(run(Activation::kSigmoid),
                {1 / (1 + std::exp(4.0f)), 1 / (1 + std::exp(1.0f)), 0.5f, 1 / (1 + std::exp(-2.0f))}, 1e-7f);
  expect_values(run(Activation::kTanh), {std::tanh(-4.0f), std::tanh(-1.0f), 0, std::tanh(2.0f)}, 1e-7f);
  // hard_swish(x) = x * relu6(x + 3) / 6
  expect_values(run(Activation::kHardSwish), {0, -1 * 2 / 6.0f, 0, 2 * 5 / 6.0f}, 1e-7f);
  const float s = std::exp(-4.0f) + std::exp(-1.0f) + 1 + std::exp(2.0f);
  expect_values(run(Activation::kSoftmax), {std::exp(-4.0f) / s, std::exp(-1.0f) / s, 1 / s, std::exp(2.0f) / s},
                1e-7f);
}

TEST(Activations, KerasNames) {
  for (const char* name : {"sigmoid", "softmax", "tanh", "hard_swish", "relu", "relu6", "linear"}) {
    EXPECT_EQ(activation_name(activation_from_string(name)), name);
    LayerPtr l = layer_from_config("Activation", json{{"activation", name}});
    EXPECT_EQ(l->get_config()["activation"], name);
    LayerPtr d = layer_from_config("Dense", json{{"units", 3}, {"activation", name}});
    EXPECT_EQ(d->get_config()["activation"], name);
  }
  EXPECT_FALSE(activation_fusable(Activation::kSigmoid));
  EXPECT_FALSE(activation_fusable(Activation::kTanh));
  EXPECT_TRUE(activation_fusable(Activation::kRelu6));
  EXPECT_STREQ(activation_label(Activation::kHardSwish), "HARD_SWISH");
}

TEST(Activations, LayerGradients) {
  Rng rng(12);
  for (Activation a : {Activation::kSigmoid, Activation::kTanh, Activation::kSoftmax, Activation::kHardSwish}) {
    auto l = layers::ActivationLayer(a);
    build(*l, {{3, 5}});
    Tensor x = random_tensor({4, 3, 5}, rng, -5.0f, 5.0f);
    const Tensor out = run_forward(*l, x);
    const Tensor probe = random_tensor(out.shape(), rng);
    const Tensor dx = run_backward(*l, x, out, probe);
    check_gradient(std::string("activation ") + activation_label(a), *l, x, x, dx, probe, rng, 60);
  }
}

// Conv2D and Dense apply an unfusable activation after the op: the values
// equal op-then-Activation, and every gradient checks out.
TEST(Activations, UnfusedInConvAndDense) {
  Rng rng(13);
  for (Activation a : {Activation::kSigmoid, Activation::kSoftmax, Activation::kHardSwish, Activation::kTanh}) {
    auto conv = layers::Conv2D(4, {3, 3}, {.padding = Padding::kSame, .activation = a});
    auto lin = layers::Conv2D(4, {3, 3}, {.padding = Padding::kSame});
    build(*conv, {{5, 5, 2}});
    build(*lin, {{5, 5, 2}});  // same seed: same weights
    auto act = layers::ActivationLayer(a);
    build(*act, {{5, 5, 4}});
    Tensor x = random_tensor({2, 5, 5, 2}, rng, -2.0f, 2.0f);
    const Tensor y = run_forward(*conv, x);
    const Tensor z = run_forward(*lin, x);
    const Tensor want = run_forward(*act, z);
    for (int64_t i = 0; i < y.numel(); ++i) ASSERT_EQ(y.f32()[i], want.f32()[i]) << activation_label(a);
    const Tensor probe = random_tensor(y.shape(), rng);
    const Tensor dx = run_backward(*conv, x, y, probe);
    std::vector<Tensor> grads;
    for (Param* p : conv->params()) grads.push_back(p->grad);
    check_gradient(std::string("conv input ") + activation_label(a), *conv, x, x, dx, probe, rng, 60);
    int k = 0;
    for (Param* p : conv->params())
      check_gradient(std::string("conv ") + p->name, *conv, x, p->value, grads[static_cast<size_t>(k++)], probe, rng, 60);

    auto dense = layers::Dense(6, {.activation = a});
    build(*dense, {{7}});
    Tensor xd = random_tensor({3, 7}, rng, -2.0f, 2.0f);
    const Tensor yd = run_forward(*dense, xd);
    const Tensor pd = random_tensor(yd.shape(), rng);
    const Tensor dxd = run_backward(*dense, xd, yd, pd);
    const Tensor gk = dense->params()[0]->grad;
    check_gradient(std::string("dense input ") + activation_label(a), *dense, xd, xd, dxd, pd, rng, 60);
    check_gradient(std::string("dense kernel ") + activation_label(a), *dense, xd, dense->params()[0]->value, gk, pd,
                   rng, 60);
  }
}

// ---- a model of all of them: summary, save / load ---------------------------------

std::unique_ptr<Model> all_layers_model() {
  auto m = std::make_unique<Model>("all_new");
  const int in = m->add_node(layers::Input({6, 6, 2}));
  const int pad = m->add_node(layers::ZeroPadding2D({{{1, 1}, {0, 1}}}), {in});
  const int a = m->add_node(layers::Conv2D(3, {3, 3}, {.activation = Activation::kHardSwish}), {pad});
  const int b = m->add_node(
      layers::AveragePooling2D({2, 2}, {.strides = std::array<int, 2>{1, 1}, .padding = Padding::kSame}), {pad});
  const int b2 = m->add_node(layers::Conv2D(2, {3, 3}, {.activation = Activation::kSigmoid}), {b});
  const int cat = m->add_node(layers::Concatenate(), {a, b2});
  const int drop = m->add_node(layers::Dropout(0.2f, 3), {cat});
  const int flat = m->add_node(layers::Flatten(), {drop});
  const int t = m->add_node(layers::Dense(8, {.activation = Activation::kTanh}), {flat});
  m->add_node(layers::Dense(4, {.activation = Activation::kSoftmax}), {t});
  m->build(5);
  return m;
}

TEST(NewLayersModel, SummaryAndSaveLoadRoundTrip) {
  auto m = all_layers_model();
  const std::string s = m->summary();
  for (const char* t : {"(ZeroPadding2D)", "(AveragePooli", "(Concatenate)", "(Dropout)", "(None, 6, 5, 5)"})
    EXPECT_NE(s.find(t), std::string::npos) << t << "\n" << s;
  const std::string dir = ::testing::TempDir() + "/qlite_new_layers_model";
  save_model(*m, dir);
  auto back = load_model(dir);
  EXPECT_EQ(back->to_json(), m->to_json());
  Rng rng(2);
  const Tensor x = random_tensor({5, 6, 6, 2}, rng);
  const Tensor p = m->predict(x), q = back->predict(x);
  ASSERT_EQ(p.numel(), q.numel());
  for (int64_t i = 0; i < p.numel(); ++i) ASSERT_EQ(p.f32()[i], q.f32()[i]);
  for (int64_t r = 0; r < 5; ++r) {  // softmax rows
    double sum = 0;
    for (int64_t c = 0; c < 4; ++c) sum += p.f32()[r * 4 + c];
    EXPECT_NEAR(sum, 1.0, 1e-5);
  }
}

}  // namespace
