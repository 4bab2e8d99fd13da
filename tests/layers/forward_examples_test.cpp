// Hand-worked forward (and a few backward) examples, one per layer.
#include "layer_test_util.h"

using namespace qlite;
using namespace qlite::test;

namespace {

void set_param(Layer& l, const std::string& name, std::vector<float> v) {
  for (Param* p : l.params())
    if (p->name == name) {
      ASSERT_EQ(static_cast<int64_t>(v.size()), p->value.numel()) << name;
      for (size_t i = 0; i < v.size(); ++i) p->value.f32()[i] = v[i];
      return;
    }
  FAIL() << "no param " << name;
}

void expect_values(const Tensor& t, const Shape& s, const std::vector<float>& v) {
  ASSERT_EQ(t.shape(), s);
  for (size_t i = 0; i < v.size(); ++i) EXPECT_FLOAT_EQ(t.f32()[i], v[i]) << "element " << i;
}

LayerPtr built(LayerPtr l, const Shape& in_shape) {
  Rng rng(1);
  const Shape ins[1] = {in_shape};
  l->build(ins, rng);
  return l;
}

// x = 1..16 in a 4x4 single-channel image.
Tensor iota_image(int h, int w) {
  std::vector<float> v(static_cast<size_t>(h * w));
  for (size_t i = 0; i < v.size(); ++i) v[i] = static_cast<float>(i + 1);
  return make_tensor({1, h, w, 1}, v);
}

TEST(ForwardExample, Conv2DValidStride2Relu) {
  layers::Conv2DOptions o;
  o.strides = {2, 2};
  o.activation = Activation::kRelu;
  auto l = built(layers::Conv2D(1, {2, 2}, o), {4, 4, 1});
  set_param(*l, "kernel", {1, 2, 3, 4});  // HWIO [2,2,1,1]
  set_param(*l, "bias", {-70});
  // Windows: {1,2,5,6} -> 1+4+15+24 = 44; {3,4,7,8} -> 64; {9,10,13,14} -> 124; {11,12,15,16} -> 144.
  expect_values(run_forward(*l, iota_image(4, 4)), {1, 2, 2, 1}, {0, 0, 54, 74});
}

TEST(ForwardExample, Conv2DSameStride1PadsAfter) {
  // 3x3 input, 2x2 kernel, stride 1: pad_total = 1, all of it after (TF rule).
  layers::Conv2DOptions o;
  o.padding = Padding::kSame;
  o.use_bias = false;
  auto l = built(layers::Conv2D(1, {2, 2}, o), {3, 3, 1});
  EXPECT_EQ(l->params().size(), 1u);
  set_param(*l, "kernel", {1, 2, 3, 4});
  expect_values(run_forward(*l, iota_image(3, 3)), {1, 3, 3, 1}, {37, 47, 21, 67, 77, 33, 23, 26, 9});
}

TEST(ForwardExample, Conv2DSameStride2) {
  // 4x4 input, 3x3 kernel of ones, stride 2: out 2x2, pad_total = 1 (after).
  layers::Conv2DOptions o;
  o.padding = Padding::kSame;
  o.strides = {2, 2};
  auto l = built(layers::Conv2D(1, {3, 3}, o), {4, 4, 1});
  set_param(*l, "kernel", std::vector<float>(9, 1.0f));
  set_param(*l, "bias", {0.5f});
  // (0,0): rows 0-2, cols 0-2: 1+2+3+5+6+7+9+10+11 = 54; (0,1): cols 2-3: 3+4+7+8+11+12 = 45;
  // (1,0): rows 2-3: 9+10+11+13+14+15 = 72; (1,1): 11+12+15+16 = 54.
  expect_values(run_forward(*l, iota_image(4, 4)), {1, 2, 2, 1}, {54.5f, 45.5f, 72.5f, 54.5f});
}

TEST(ForwardExample, Conv2DChannelsMix) {
  // 1x1 kernel over 2 channels into 2 filters: a matrix product per pixel.
  auto l = built(layers::Conv2D(2, {1, 1}), {1, 2, 2});
  set_param(*l, "kernel", {1, 2, 3, 4});  // [ci][co]
  set_param(*l, "bias", {0, 10});
  // pixel (1,2): [1*1+2*3, 1*2+2*4] = [7, 10] + bias; pixel (-1,0.5): [0.5, 0].
  expect_values(run_forward(*l, make_tensor({1, 1, 2, 2}, {1, 2, -1, 0.5f})), {1, 1, 2, 2}, {7, 20, 0.5f, 10});
}

TEST(ForwardExample, MaxPoolTiesFirstWins) {
  auto l = built(layers::MaxPooling2D(), {4, 4, 1});
  const Tensor x = make_tensor({1, 4, 4, 1}, {1, 3, 2, 2,  //
                                              3, 0, 2, 1,  //
                                              5, 6, 7, 8,  //
                                              6, 4, 8, 0});
  const Tensor out = run_forward(*l, x);
  expect_values(out, {1, 2, 2, 1}, {3, 2, 6, 8});
  // Ties go to the first maximum in row-major window order: indices 1, 2, 9, 11.
  const Tensor dx = run_backward(*l, x, out, make_tensor({1, 2, 2, 1}, {1, 2, 3, 4}));
  expect_values(dx, {1, 4, 4, 1}, {0, 1, 2, 0, 0, 0, 0, 0, 0, 3, 0, 4, 0, 0, 0, 0});
}

TEST(ForwardExample, MaxPoolSamePaddingNeverWins) {
  layers::PoolOptions o;
  o.padding = Padding::kSame;
  auto l = built(layers::MaxPooling2D({2, 2}, o), {3, 3, 1});
  const Tensor x = make_tensor({1, 3, 3, 1}, {-1, -2, -3, -4, -5, -6, -7, -8, -9});
  expect_values(run_forward(*l, x), {1, 2, 2, 1}, {-1, -3, -7, -9});
}

TEST(ForwardExample, MaxPoolStridesDefaultToPoolSize) {
  auto l = built(layers::MaxPooling2D({3, 3}), {7, 6, 2});
  EXPECT_EQ(l->output_shape(), Shape({2, 2, 2}));
  EXPECT_EQ(l->get_config()["strides"], json({3, 3}));
}

TEST(ForwardExample, Dense3To2) {
  auto l = built(layers::Dense(2), {3});
  set_param(*l, "kernel", {1, 2, 3, 4, 5, 6});  // [in][out]
  set_param(*l, "bias", {0.5f, -1});
  const Tensor x = make_tensor({1, 3}, {1, 2, 3});
  const Tensor out = run_forward(*l, x);
  expect_values(out, {1, 2}, {22.5f, 27});  // 1+6+15+0.5, 2+8+18-1
  const Tensor dx = run_backward(*l, x, out, make_tensor({1, 2}, {1, -1}));
  expect_values(dx, {1, 3}, {-1, -1, -1});  // W @ [1,-1]
  expect_values(l->params()[0]->grad, {3, 2}, {1, -1, 2, -2, 3, -3});
  expect_values(l->params()[1]->grad, {2}, {1, -1});
}

TEST(ForwardExample, DenseRelu6) {
  layers::DenseOptions o;
  o.activation = Activation::kRelu6;
  auto l = built(layers::Dense(2, o), {3});
  set_param(*l, "kernel", {1, -2, 3, -4, 5, 0.5f});
  set_param(*l, "bias", {0, 0});
  // [1+6+15, -2-8+1.5] = [22, -8.5] -> [6, 0]; [0.1+0.3+0.5, -0.2-0.4+0.05] = [0.9, -0.55] -> [0.9, 0]
  expect_values(run_forward(*l, make_tensor({2, 3}, {1, 2, 3, 0.1f, 0.1f, 0.1f})), {2, 2}, {6, 0, 0.9f, 0});
}

TEST(ForwardExample, ReLUClampsAndActivationLayerMatches) {
  const Tensor x = make_tensor({1, 6}, {-3, -0.0f, 0.5f, 5.9f, 6, 100});
  expect_values(run_forward(*built(layers::ReLU(), {6}), x), {1, 6}, {0, 0, 0.5f, 5.9f, 6, 100});
  expect_values(run_forward(*built(layers::ReLU(6.0f), {6}), x), {1, 6}, {0, 0, 0.5f, 5.9f, 6, 6});
  expect_values(run_forward(*built(layers::ReLU(1.0f), {6}), x), {1, 6}, {0, 0, 0.5f, 1, 1, 1});
  expect_values(run_forward(*built(layers::ActivationLayer(Activation::kRelu6), {6}), x), {1, 6},
                {0, 0, 0.5f, 5.9f, 6, 6});
  expect_values(run_forward(*built(layers::ActivationLayer(Activation::kLinear), {6}), x), {1, 6},
                {-3, 0, 0.5f, 5.9f, 6, 100});
  // Keras configs round-trip, and what qlite cannot compute is refused.
  const LayerPtr r = layer_from_config("ReLU", {{"name", "r"}, {"max_value", 6.0}, {"negative_slope", 0.0}});
  EXPECT_EQ(r->get_config()["max_value"], 6.0);
  EXPECT_EQ(layer_from_config("ReLU", r->get_config())->get_config(), r->get_config());
  EXPECT_THROW(layer_from_config("ReLU", {{"negative_slope", 0.1}}), Error);
  EXPECT_THROW(layer_from_config("ReLU", {{"max_value", -1.0}}), Error);
  EXPECT_EQ(layer_from_config("Activation", {{"activation", "relu6"}})->get_config()["activation"], "relu6");
  EXPECT_THROW(layer_from_config("Activation", {{"activation", "swish"}}), Error);
}

// One channel, batch {1, 3}: mean 2, biased variance 1. Training normalizes
// with them and moves the averages by (1 - momentum); inference uses the
// averages. Values by hand.
TEST(ForwardExample, BatchNormTrainingAndInference) {
  auto l = built(layers::BatchNormalization({.momentum = 0.5f, .epsilon = 1e-3f}), {1});
  set_param(*l, "gamma", {2});
  set_param(*l, "beta", {1});
  const Tensor x = make_tensor({2, 1}, {1, 3});
  // y = 2 * (x - 2) / sqrt(1 + 1e-3) + 1
  const float k = 2.0f / std::sqrt(1.001f);
  expect_values(run_forward(*l, x), {2, 1}, {1 - k, 1 + k});
  // moving_mean = 0 * 0.5 + 2 * 0.5 = 1; moving_variance = 1 * 0.5 + 1 * 0.5 = 1.
  EXPECT_FLOAT_EQ(l->params()[2]->value.f32()[0], 1.0f);
  EXPECT_FLOAT_EQ(l->params()[3]->value.f32()[0], 1.0f);
  Tensor out;
  const Tensor* in[1] = {&x};
  l->forward(in, out, RunContext{false, nullptr});
  // Inference: 2 * (x - 1) / sqrt(1.001) + 1.
  expect_values(out, {2, 1}, {1.0f, 1 + 2 * k});
  const json c = l->get_config();
  EXPECT_EQ(c["momentum"], 0.5f);
  EXPECT_EQ(layer_from_config("BatchNormalization", c)->get_config(), c);
  EXPECT_THROW(layer_from_config("BatchNormalization", {{"axis", 1}}), Error);
  EXPECT_EQ(l->count_params(), 4);
}

// Add: the sum forward, the same gradient to both inputs backward.
TEST(ForwardExample, AddSumsAndSplitsTheGradient) {
  auto l = layers::Add();
  Rng rng(1);
  const Shape ins[2] = {{3}, {3}};
  l->build(ins, rng);
  const Tensor a = make_tensor({2, 3}, {1, 2, 3, 4, 5, 6}), b = make_tensor({2, 3}, {0.5f, -2, 10, 0, 0, -6});
  Tensor out;
  const Tensor* in[2] = {&a, &b};
  l->forward(in, out, RunContext{true, nullptr});
  expect_values(out, {2, 3}, {1.5f, 0, 13, 4, 5, 0});
  const Tensor dout = make_tensor({2, 3}, {1, -1, 2, 0, 3, 4});
  Tensor da, db;
  Tensor* din[2] = {&da, &db};
  l->backward(in, out, dout, din, RunContext{true, nullptr});
  expect_values(da, {2, 3}, {1, -1, 2, 0, 3, 4});
  expect_values(db, {2, 3}, {1, -1, 2, 0, 3, 4});
  const Shape bad[2] = {{3}, {4}};
  EXPECT_THROW(layers::Add()->build(bad, rng), Error);
  EXPECT_EQ(layer_from_config("Add", l->get_config())->get_config(), l->get_config());
}

TEST(ForwardExample, GlobalAveragePoolingMeansEachChannel) {
  // 2x2 image, 2 channels: channel 0 = {1, 2, 3, 6} -> 3, channel 1 = {0, -1, 1, 4} -> 1.
  const Tensor x = make_tensor({1, 2, 2, 2}, {1, 0, 2, -1, 3, 1, 6, 4});
  expect_values(run_forward(*built(layers::GlobalAveragePooling2D(), {2, 2, 2}), x), {1, 2}, {3, 1});
  expect_values(run_forward(*built(layers::GlobalAveragePooling2D(true), {2, 2, 2}), x), {1, 1, 1, 2}, {3, 1});
  const LayerPtr l = layer_from_config("GlobalAveragePooling2D", {{"name", "g"}, {"keepdims", true}});
  EXPECT_EQ(l->get_config()["keepdims"], true);
  EXPECT_THROW(layer_from_config("GlobalAveragePooling2D", {{"data_format", "channels_first"}}), Error);
}

TEST(ForwardExample, ReshapeFlattenInputKeepData) {
  const Tensor x = make_tensor({2, 6}, {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12});
  auto r = built(layers::Reshape({3, -1}), {6});
  EXPECT_EQ(r->output_shape(), Shape({3, 2}));
  const Tensor y = run_forward(*r, x);
  expect_values(y, {2, 3, 2}, {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12});
  auto f = built(layers::Flatten(), {3, 2});
  expect_values(run_forward(*f, y), {2, 6}, {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12});
  auto in = built(layers::Input({6}), {6});
  expect_values(run_forward(*in, x), {2, 6}, {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12});
}

TEST(ForwardExample, GlorotUniformRangeAndZeroBias) {
  auto l = built(layers::Conv2D(12, {3, 3}), {28, 28, 1});
  const float limit = std::sqrt(6.0f / (9 * 1 + 9 * 12));
  float lo = 1, hi = -1;
  for (float v : l->params()[0]->value.span_f32()) {
    lo = std::min(lo, v);
    hi = std::max(hi, v);
  }
  EXPECT_GE(lo, -limit);
  EXPECT_LE(hi, limit);
  EXPECT_LT(lo, -0.5f * limit);  // 108 draws cover the range
  EXPECT_GT(hi, 0.5f * limit);
  for (float v : l->params()[1]->value.span_f32()) EXPECT_EQ(v, 0.0f);
  EXPECT_EQ(l->count_params(), 9 * 12 + 12);
}

}  // namespace
