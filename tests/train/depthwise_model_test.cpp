// DepthwiseConv2D in models: the shared rewrite folds a following batch norm
// into it per output channel (c * multiplier + m, the flattened last two
// axes of its kernel, as its record says) and fuses the clamp after it; its
// TFLite weight layout; save and load; and it learns.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <filesystem>

#include "model_test_util.h"
#include "qlite/train.h"

namespace qlite {
namespace {

namespace fs = std::filesystem;

Tensor random_input(const Shape& per_sample, int64_t n, uint64_t seed) {
  Shape s{n};
  s.insert(s.end(), per_sample.begin(), per_sample.end());
  Tensor t(s);
  Rng rng(seed);
  for (float& v : t.span_f32()) v = rng.uniform(-2.0f, 2.0f);
  return t;
}

// Moving statistics as training would leave them.
void randomize_batch_norm(Layer& bn, uint64_t seed) {
  Rng rng(seed);
  for (Param* p : bn.params())
    for (float& v : p->value.span_f32())
      v = p->name == "moving_variance" ? rng.uniform(0.2f, 3.0f) : rng.uniform(-1.0f, 1.0f);
}

// DepthwiseConv2D (multiplier 2, no bias) -> BatchNormalization -> ReLU(6)
// becomes one DepthwiseConv2D with the batch norm folded (kernel * s[o],
// bias t[o] for output channel o = c * 2 + m) and RELU6 fused; its outputs
// equal the three layers' in inference within float rounding.
TEST(RewriteDepthwise, BatchNormFoldsPerOutputChannelThenReluSixFuses) {
  auto m = std::make_unique<Model>("m");
  const int in = m->add_node(layers::Input({6, 6, 3}));
  const int dw = m->add_node(layers::DepthwiseConv2D({3, 3}, {.padding = Padding::kSame, .depth_multiplier = 2,
                                                              .use_bias = false, .name = "dw"}),
                             {in});
  const int bn = m->add_node(layers::BatchNormalization({.name = "bn"}), {dw});
  const int act = m->add_node(layers::ReLU(6.0f), {bn});
  const int flat = m->add_node(layers::Flatten(), {act});
  m->add_node(layers::Dense(2, {.name = "dense"}), {flat});
  m->build(9);
  randomize_batch_norm(m->layer(2), 4);
  const RewrittenModel rw = rewrite_for_lowering(*m);
  ASSERT_EQ(rw.model->num_layers(), 4u);
  EXPECT_EQ(rw.sources[1], (std::vector<int>{1, 2, 3}));
  const Layer& folded = rw.model->layer(1);
  EXPECT_EQ(folded.type(), "DepthwiseConv2D");
  EXPECT_EQ(folded.name(), "dw");
  EXPECT_EQ(folded.get_config()["use_bias"], true);
  EXPECT_EQ(folded.get_config()["activation"], "relu6");
  EXPECT_EQ(folded.get_config()["depth_multiplier"], 2);
  // Every kernel element by hand: element i = ((ky*3 + kx)*3 + c)*2 + m
  // belongs to output channel c*2 + m = i % 6, whose s = gamma / sqrt(var + 1e-3).
  const Layer& b = m->layer(2);
  auto bnp = [&](int k, int64_t o) { return b.params()[static_cast<size_t>(k)]->value.f32()[o]; };
  const Tensor& k0 = m->layer(1).params()[0]->value;
  const Tensor& k1 = folded.params()[0]->value;
  ASSERT_EQ(k1.shape(), Shape({3, 3, 3, 2}));
  for (int64_t i = 0; i < k0.numel(); ++i) {
    const int64_t o = i % 6;
    const float s = bnp(0, o) / std::sqrt(bnp(3, o) + 1e-3f);
    EXPECT_FLOAT_EQ(k1.f32()[i], k0.f32()[i] * s) << i;
  }
  for (int64_t o = 0; o < 6; ++o) {
    const float s = bnp(0, o) / std::sqrt(bnp(3, o) + 1e-3f);
    EXPECT_FLOAT_EQ(folded.params()[1]->value.f32()[o], bnp(1, o) - bnp(2, o) * s) << o;
  }
  const Tensor x = random_input({6, 6, 3}, 6, 2);
  const Tensor a = m->predict(x), r = rw.model->predict(x);
  ASSERT_EQ(a.numel(), r.numel());
  for (int64_t i = 0; i < a.numel(); ++i) EXPECT_NEAR(a.f32()[i], r.f32()[i], 1e-5f * (1 + std::fabs(a.f32()[i])));
}

// A depthwise layer with a bias and a stride: the folded bias is bias * s + t,
// and the folded layer's intermediate outputs match too (not only the logits).
TEST(RewriteDepthwise, BiasFoldsAndOutputsMatchUnderStride) {
  Sequential m({layers::Input({7, 7, 4}),
                layers::DepthwiseConv2D({3, 3}, {.strides = {2, 2}, .padding = Padding::kSame, .name = "dw"}),
                layers::BatchNormalization({.name = "bn"}), layers::ActivationLayer(Activation::kRelu)});
  m.build(3);
  for (float& v : m.layer(1).params()[1]->value.span_f32()) v = 0.25f;
  randomize_batch_norm(m.layer(2), 8);
  const RewrittenModel rw = rewrite_for_lowering(m);
  ASSERT_EQ(rw.model->num_layers(), 2u);
  EXPECT_EQ(rw.model->class_name(), "Sequential");
  const Layer& folded = rw.model->layer(1);
  EXPECT_EQ(folded.get_config()["activation"], "relu");
  const Layer& b = m.layer(2);
  for (int64_t o = 0; o < 4; ++o) {
    const float g = b.params()[0]->value.f32()[o], beta = b.params()[1]->value.f32()[o];
    const float mean = b.params()[2]->value.f32()[o], var = b.params()[3]->value.f32()[o];
    const float s = g / std::sqrt(var + 1e-3f);
    EXPECT_FLOAT_EQ(folded.params()[1]->value.f32()[o], 0.25f * s + (beta - mean * s));
  }
  const Tensor x = random_input({7, 7, 4}, 5, 3);
  const Tensor a = m.predict(x), r = rw.model->predict(x);
  ASSERT_EQ(a.shape(), r.shape());
  for (int64_t i = 0; i < a.numel(); ++i) EXPECT_NEAR(a.f32()[i], r.f32()[i], 1e-5f * (1 + std::fabs(a.f32()[i])));
}

// Keras [kh, kw, in, multiplier] -> TFLite [1, kh, kw, in * multiplier]: the
// same element order, scales along dimension 3.
TEST(LayerKindDepthwise, WeightLayoutIsOneHwc) {
  const LayerKind& k = *find_layer_kind("DepthwiseConv2D");
  EXPECT_EQ(k.quant_role, QuantRole::kWeighted);
  EXPECT_TRUE(k.per_channel);
  EXPECT_TRUE(k.fuses_activation);
  EXPECT_TRUE(k.folds_batch_norm);
  const WeightLayout w = k.tflite_weight_layout({2, 1, 2, 3});
  EXPECT_EQ(w.shape, (Shape{1, 2, 1, 6}));
  EXPECT_EQ(w.channel_axis, 3);
  std::vector<int> keras(12);
  for (int i = 0; i < 12; ++i) keras[static_cast<size_t>(i)] = i;
  EXPECT_EQ(w.apply(keras.data()), keras);
  EXPECT_EQ(weight_output_channels(k, {2, 1, 2, 3}), 6);
  EXPECT_EQ(weight_output_channels(*find_layer_kind("Conv2D"), {2, 1, 2, 3}), 3);
}

class DepthwiseSaveLoad : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("qlite_dw_test_" + std::to_string(::getpid()));
    fs::remove_all(dir_);
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
  fs::path dir_;
};

// Trained weights, config and the batch norm after it survive save and
// load: the loaded model predicts bit for bit the same.
TEST_F(DepthwiseSaveLoad, RoundTripIsBitIdentical) {
  Sequential m("dw_model");
  m.add(layers::Input({8, 8, 2}));
  m.add(layers::DepthwiseConv2D({3, 3}, {.strides = {2, 2}, .padding = Padding::kSame, .depth_multiplier = 2,
                                         .activation = Activation::kRelu6, .name = "dw"}));
  m.add(layers::BatchNormalization({.name = "bn"}));
  m.add(layers::GlobalAveragePooling2D());
  m.add(layers::Dense(3));
  m.compile(Adam(), SparseCategoricalCrossentropy{true});
  const Tensor x = random_input({8, 8, 2}, 24, 5);
  Tensor y({24}, DType::kInt32);
  for (int i = 0; i < 24; ++i) y.data<int32_t>()[i] = i % 3;
  FitOptions fo;
  fo.batch_size = 8;
  m.fit(x, y, fo);
  save_model(m, dir_.string());
  auto loaded = load_model(dir_.string());
  EXPECT_EQ(loaded->to_json(), m.to_json());
  EXPECT_EQ(loaded->find_layer("dw")->type(), "DepthwiseConv2D");
  EXPECT_EQ(loaded->find_layer("dw")->params()[0]->name, "depthwise_kernel");
  EXPECT_TRUE(testing::same_bits(m.predict(x), loaded->predict(x)));
}

// Adam steps on a learnable problem lower the loss: the gradients point the
// right way through padding, stride and the multiplier.
TEST(DepthwiseFit, LossFalls) {
  Sequential m("dw_fit");
  m.add(layers::Input({6, 6, 2}));
  m.add(layers::DepthwiseConv2D({3, 3}, {.padding = Padding::kSame, .depth_multiplier = 2,
                                         .activation = Activation::kRelu, .name = "dw_a"}));
  m.add(layers::DepthwiseConv2D({3, 3}, {.strides = {2, 2}, .padding = Padding::kSame, .name = "dw_b"}));
  m.add(layers::Flatten());
  m.add(layers::Dense(2));
  m.build(3);
  m.compile(Adam(AdamOptions{.learning_rate = 1e-2f}), SparseCategoricalCrossentropy{true});
  // Class 1 when the first channel's sum is positive.
  const Tensor x = random_input({6, 6, 2}, 128, 7);
  Tensor y({128}, DType::kInt32);
  for (int64_t i = 0; i < 128; ++i) {
    double d = 0;
    for (int64_t p = 0; p < 36; ++p) d += x.f32()[i * 72 + p * 2];
    y.data<int32_t>()[i] = d > 0 ? 1 : 0;
  }
  const double before = m.evaluate(x, y).loss;
  FitOptions fo;
  fo.epochs = 12;
  fo.batch_size = 16;
  m.fit(x, y, fo);
  const EvalResult after = m.evaluate(x, y);
  EXPECT_LT(after.loss, 0.5 * before);
  EXPECT_GT(after.accuracy, 0.85);
}

}  // namespace
}  // namespace qlite
