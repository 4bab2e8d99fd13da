// keras.applications-style builders: the layer counts, names, shapes and
// parameter counts Keras gives for the same arguments.
#include <gtest/gtest.h>

#include <filesystem>

#include "qlite/train.h"
#include "temp_dir.h"

namespace qlite {
namespace {

const Layer* find(const Model& m, const std::string& name) {
  const Layer* l = m.find_layer(name);
  EXPECT_NE(l, nullptr) << name;
  return l;
}

// Keras: MobileNetV2(alpha=1.0, input_shape=(224, 224, 3), classes=1000)
// has 156 layers and 3,538,984 parameters (34,112 non-trainable).
TEST(Applications, MobileNetV2MatchesKeras) {
  auto m = applications::MobileNetV2();
  m->build(0);
  EXPECT_EQ(m->name(), "mobilenetv2_1.00_224");
  EXPECT_EQ(m->num_layers(), 156u);
  EXPECT_EQ(m->count_params(), 3538984);
  int64_t frozen = 0;
  for (const Node& n : m->nodes())
    for (const Param* p : n.layer->params())
      if (!p->trainable) frozen += p->value.numel();
  EXPECT_EQ(frozen, 34112);
  EXPECT_EQ(m->layer(1).name(), "Conv1");
  EXPECT_EQ(m->layer(4).name(), "expanded_conv_depthwise");
  EXPECT_EQ(find(*m, "block_1_pad")->output_shape(), (Shape{113, 113, 96}));
  EXPECT_EQ(find(*m, "block_1_depthwise")->output_shape(), (Shape{56, 56, 96}));
  EXPECT_EQ(find(*m, "block_2_add")->output_shape(), (Shape{56, 56, 24}));
  EXPECT_EQ(find(*m, "block_16_project_BN")->output_shape(), (Shape{7, 7, 320}));
  EXPECT_EQ(find(*m, "out_relu")->output_shape(), (Shape{7, 7, 1280}));
  EXPECT_EQ(m->output_shape(), (Shape{1000}));
  EXPECT_EQ(m->layer(m->num_layers() - 1).get_config()["activation"], "softmax");
}

// Keras: MobileNet(alpha=1.0, input_shape=(224, 224, 3), classes=1000) has
// 4,253,864 parameters; stride-2 blocks pad ((0, 1), (0, 1)) then run 'valid'.
TEST(Applications, MobileNetV1MatchesKeras) {
  auto m = applications::MobileNetV1();
  m->build(0);
  EXPECT_EQ(m->name(), "mobilenet_1.00_224");
  EXPECT_EQ(m->count_params(), 4253864);
  EXPECT_EQ(find(*m, "conv_pad_2")->output_shape(), (Shape{113, 113, 64}));
  EXPECT_EQ(find(*m, "conv_dw_2")->output_shape(), (Shape{56, 56, 64}));
  EXPECT_EQ(find(*m, "conv_pw_13_relu")->output_shape(), (Shape{7, 7, 1024}));
  EXPECT_EQ(m->output_shape(), (Shape{1000}));
  EXPECT_THROW(applications::MobileNetV1({.input_shape = {28, 28, 1}}), Error);  // Keras' 32x32 minimum
}

TEST(Applications, MakeDivisibleAsKeras) {
  EXPECT_EQ(applications::make_divisible(32 * 0.35), 16);
  EXPECT_EQ(applications::make_divisible(32 * 1.0), 32);
  EXPECT_EQ(applications::make_divisible(1280 * 1.3), 1664);
  EXPECT_EQ(applications::make_divisible(16 * 0.75), 16);
  EXPECT_EQ(applications::make_divisible(24 * 0.35), 8);
}

// The reference network: 9,610 parameters; small width and odd inputs run,
// and the graph survives model.json + safetensors.
TEST(Applications, ReferenceNetworkAndSmallInputsRunAndRoundTrip) {
  auto ref = applications::MobileNetStyle();
  ref->build(0);
  EXPECT_EQ(ref->count_params(), 9610);
  EXPECT_EQ(ref->output_shape(), (Shape{10}));

  auto m = applications::MobileNetV2({.alpha = 0.35, .input_shape = {29, 27, 1}, .classes = 5});
  m->build(2);
  Tensor x({2, 29, 27, 1});
  Rng rng(4);
  for (float& v : x.span_f32()) v = rng.uniform(0.0f, 1.0f);
  const Tensor y = m->predict(x);
  ASSERT_EQ(y.shape(), (Shape{2, 5}));
  for (int64_t i = 0; i < 2; ++i) {
    double sum = 0;
    for (int64_t c = 0; c < 5; ++c) sum += y.f32()[i * 5 + c];
    EXPECT_NEAR(sum, 1.0, 1e-5);  // softmax output
  }
  testing::TempDir dir;
  save_model(*m, dir.path.string());
  auto back = load_model(dir.path.string());
  const Tensor z = back->predict(x);
  for (int64_t i = 0; i < y.numel(); ++i) EXPECT_EQ(y.f32()[i], z.f32()[i]) << i;
}

}  // namespace
}  // namespace qlite
