// Finite-difference checks of every layer's input and parameter gradients,
// with L = sum(out * probe) for a random probe (so dL/dout = probe).
#include "layer_test_util.h"

using namespace qlite;
using namespace qlite::test;

namespace {

// Checks dL/dx and dL/dparam for every param of a built layer.
void check_layer(Layer& l, const Shape& in_shape, int64_t batch, Rng& rng, float lo = -1.0f, float hi = 1.0f) {
  const Shape ins[1] = {in_shape};
  l.build(ins, rng);
  Shape xs{batch};
  xs.insert(xs.end(), in_shape.begin(), in_shape.end());
  Tensor x = random_tensor(xs, rng, lo, hi);
  // Biases start at zero; give them values so they matter for the kinks too.
  for (Param* p : l.params())
    if (p->name == "bias")
      for (float& v : p->value.span_f32()) v = rng.uniform(-0.5f, 0.5f);
  const Tensor out = run_forward(l, x);
  const Tensor probe = random_tensor(out.shape(), rng);
  const Tensor dx = run_backward(l, x, out, probe);
  std::vector<Tensor> grads;
  for (Param* p : l.params()) grads.push_back(p->grad);
  const std::string who = l.name();
  check_gradient(who + " input", l, x, x, dx, probe, rng);
  int i = 0;
  for (Param* p : l.params()) {
    const Tensor& g = grads[i++];
    if (p->trainable) check_gradient(who + " " + p->name, l, x, p->value, g, probe, rng);  // state has no gradient
  }
}

struct ConvCase {
  int64_t n, h, w, cin;
  int filters, kh, kw, sh, sw;
  Padding pad;
  Activation act;
  bool bias;
};

TEST(GradientCheck, Conv2D) {
  const ConvCase cases[] = {
      {2, 5, 6, 3, 4, 3, 3, 1, 1, Padding::kValid, Activation::kRelu, true},
      {3, 7, 5, 2, 5, 3, 2, 2, 2, Padding::kSame, Activation::kRelu6, false},
      {1, 6, 6, 1, 12, 3, 3, 1, 1, Padding::kSame, Activation::kLinear, true},
      {2, 4, 5, 5, 3, 2, 3, 2, 1, Padding::kValid, Activation::kLinear, false},
      {2, 9, 8, 17, 19, 3, 3, 2, 2, Padding::kSame, Activation::kRelu, true},
      {1, 3, 3, 1, 1, 3, 3, 1, 1, Padding::kValid, Activation::kRelu6, true},
      {2, 6, 7, 4, 3, 4, 2, 3, 2, Padding::kSame, Activation::kRelu6, true},
  };
  Rng rng(11);
  int k = 0;
  for (const ConvCase& c : cases) {
    layers::Conv2DOptions o;
    o.strides = {c.sh, c.sw};
    o.padding = c.pad;
    o.activation = c.act;
    o.use_bias = c.bias;
    o.name = "conv" + std::to_string(k++);
    auto l = layers::Conv2D(c.filters, {c.kh, c.kw}, o);
    // relu6 needs pre-activations beyond 6 for its upper clamp to be exercised.
    const float range = c.act == Activation::kRelu6 ? 4.0f : 1.0f;
    check_layer(*l, {c.h, c.w, c.cin}, c.n, rng, -range, range);
  }
}

TEST(GradientCheck, Relu6ClampIsExercised) {
  Rng rng(5);
  layers::Conv2DOptions o;
  o.activation = Activation::kRelu6;
  auto l = layers::Conv2D(6, {3, 3}, o);
  const Shape ins[1] = {{6, 6, 4}};
  l->build(ins, rng);
  const Tensor x = random_tensor({2, 6, 6, 4}, rng, -4.0f, 4.0f);
  const Tensor out = run_forward(*l, x);
  int zero = 0, six = 0, mid = 0;
  for (float v : out.span_f32()) (v == 0.0f ? zero : v == 6.0f ? six : mid)++;
  EXPECT_GT(zero, 0);
  EXPECT_GT(six, 0);
  EXPECT_GT(mid, 0);
}

TEST(GradientCheck, Dense) {
  struct Case {
    int64_t n, k;
    int units;
    Activation act;
    bool bias;
  };
  const Case cases[] = {
      {3, 7, 5, Activation::kRelu, true},       {1, 1, 1, Activation::kLinear, true},
      {4, 33, 17, Activation::kRelu6, false},   {5, 20, 10, Activation::kLinear, true},
      {6, 130, 3, Activation::kRelu, false},
  };
  Rng rng(12);
  for (const Case& c : cases) {
    layers::DenseOptions o;
    o.activation = c.act;
    o.use_bias = c.bias;
    auto l = layers::Dense(c.units, o);
    const float range = c.act == Activation::kRelu6 ? 4.0f : 1.0f;
    check_layer(*l, {c.k}, c.n, rng, -range, range);
  }
}

TEST(GradientCheck, MaxPooling2D) {
  struct Case {
    int64_t n, h, w, c;
    std::array<int, 2> pool;
    std::optional<std::array<int, 2>> strides;
    Padding pad;
  };
  const Case cases[] = {
      {2, 5, 7, 3, {2, 2}, std::nullopt, Padding::kValid},
      {2, 5, 5, 4, {3, 3}, std::array<int, 2>{1, 1}, Padding::kValid},  // overlapping windows accumulate
      {3, 5, 6, 2, {2, 2}, std::nullopt, Padding::kSame},
      {1, 4, 4, 17, {3, 2}, std::array<int, 2>{2, 1}, Padding::kSame},
  };
  Rng rng(13);
  for (const Case& c : cases) {
    layers::PoolOptions o;
    o.strides = c.strides;
    o.padding = c.pad;
    auto l = layers::MaxPooling2D(c.pool, o);
    check_layer(*l, {c.h, c.w, c.c}, c.n, rng);
  }
}

TEST(GradientCheck, ReLUAndActivation) {
  Rng rng(17);
  // Inputs over [-8, 8] cross both kinks of ReLU(6).
  check_layer(*layers::ReLU(), {3, 4, 2}, 2, rng, -8.0f, 8.0f);
  check_layer(*layers::ReLU(6.0f), {3, 4, 2}, 2, rng, -8.0f, 8.0f);
  check_layer(*layers::ReLU(2.5f), {7}, 3, rng, -4.0f, 4.0f);
  for (Activation a : {Activation::kLinear, Activation::kRelu, Activation::kRelu6})
    check_layer(*layers::ActivationLayer(a), {5, 3}, 2, rng, -8.0f, 8.0f);
}

// Training-mode BatchNormalization (batch statistics): the input gradient
// goes through the mean and variance too.
TEST(GradientCheck, BatchNormalization) {
  Rng rng(18);
  for (bool center : {true, false})
    for (bool scale : {true, false}) {
      auto l = layers::BatchNormalization({.center = center, .scale = scale});
      const Shape ins[1] = {{3, 2, 5}};
      l->build(ins, rng);
      for (Param* p : l->params())
        if (p->trainable)
          for (float& v : p->value.span_f32()) v = rng.uniform(0.5f, 1.5f);
      check_layer(*l, {3, 2, 5}, 3, rng, -2.0f, 2.0f);
    }
  check_layer(*layers::BatchNormalization(), {7}, 9, rng);
}

TEST(GradientCheck, GlobalAveragePooling2D) {
  Rng rng(19);
  check_layer(*layers::GlobalAveragePooling2D(), {3, 4, 5}, 2, rng);
  check_layer(*layers::GlobalAveragePooling2D(true), {1, 7, 2}, 3, rng);
}

TEST(GradientCheck, ReshapeFlattenInput) {
  Rng rng(14);
  auto r = layers::Reshape({-1, 3});
  check_layer(*r, {2, 6}, 3, rng);
  auto f = layers::Flatten();
  check_layer(*f, {2, 3, 2}, 2, rng);
  // Input passes data through and has no gradient to give.
  LayerPtr in = layers::Input({4});
  const Shape ins[1] = {{4}};
  in->build(ins, rng);
  const Tensor x = random_tensor({2, 4}, rng);
  const Tensor out = run_forward(*in, x);
  for (int i = 0; i < 8; ++i) EXPECT_EQ(out.f32()[i], x.f32()[i]);
  EXPECT_NO_THROW(run_backward(*in, x, out, out));
}

}  // namespace

namespace {

// Without an input gradient the conv fuses its activation gradient into the
// weight-gradient pass; both paths must give the same parameter gradients.
TEST(GradientCheck, ConvWithoutInputGradientMatches) {
  Rng rng(15);
  for (Activation act : {Activation::kLinear, Activation::kRelu, Activation::kRelu6}) {
    for (Padding pad : {Padding::kValid, Padding::kSame}) {
      layers::Conv2DOptions o;
      o.activation = act;
      o.padding = pad;
      o.strides = {2, 1};
      auto l = layers::Conv2D(13, {3, 3}, o);
      const Shape ins[1] = {{7, 6, 2}};
      l->build(ins, rng);
      const Tensor x = random_tensor({3, 7, 6, 2}, rng, -4.0f, 4.0f);
      const Tensor out = run_forward(*l, x);
      const Tensor probe = random_tensor(out.shape(), rng);
      run_backward(*l, x, out, probe, true);
      const Tensor gk = l->params()[0]->grad, gb = l->params()[1]->grad;
      const Tensor none = run_backward(*l, x, out, probe, false);
      EXPECT_TRUE(none.empty());
      for (int64_t i = 0; i < gk.numel(); ++i)
        EXPECT_NEAR(gk.f32()[i], l->params()[0]->grad.f32()[i], 1e-4f * (1 + std::fabs(gk.f32()[i])));
      for (int64_t i = 0; i < gb.numel(); ++i)
        EXPECT_NEAR(gb.f32()[i], l->params()[1]->grad.f32()[i], 1e-4f * (1 + std::fabs(gb.f32()[i])));
    }
  }
}

// Batches smaller than the pool's chunking, and gradients overwritten (not
// accumulated) by a second backward.
TEST(GradientCheck, DenseSmallBatchOnPoolAndOverwrite) {
  Rng rng(16);
  ThreadPool pool(2);
  for (int64_t n : {1, 2, 9}) {
    auto a = layers::Dense(5), b = layers::Dense(5);
    const Shape ins[1] = {{37}};
    Rng r1(3), r2(3);
    a->build(ins, r1);
    b->build(ins, r2);
    const Tensor x = random_tensor({n, 37}, rng);
    const Tensor out = run_forward(*a, x);
    const Tensor probe = random_tensor(out.shape(), rng);
    const Tensor dxa = run_backward(*a, x, out, probe, true, nullptr);
    run_backward(*b, x, out, probe, true, &pool);
    const Tensor dxb = run_backward(*b, x, out, probe, true, &pool);  // second call: same grads
    for (int64_t i = 0; i < dxa.numel(); ++i) EXPECT_EQ(dxa.f32()[i], dxb.f32()[i]);
    for (size_t p = 0; p < 2; ++p) {
      const Tensor& ga = a->params()[p]->grad;
      const Tensor& gb = b->params()[p]->grad;
      for (int64_t i = 0; i < ga.numel(); ++i)
        EXPECT_NEAR(ga.f32()[i], gb.f32()[i], 1e-5f * (1 + std::fabs(ga.f32()[i])));
    }
  }
}

}  // namespace
