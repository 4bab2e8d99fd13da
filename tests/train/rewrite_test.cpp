// The shared rewrite (rewrite.h): clamps fuse into the op before them only
// where TFLite computes them as one op, with the same weights and outputs.
#include <gtest/gtest.h>

#include <cmath>

#include "qlite/train.h"

namespace qlite {
namespace {

Tensor random_input(const Shape& per_sample, int64_t n, uint64_t seed) {
  Shape s{n};
  s.insert(s.end(), per_sample.begin(), per_sample.end());
  Tensor t(s);
  Rng rng(seed);
  for (float& v : t.span_f32()) v = rng.uniform(-2.0f, 2.0f);
  return t;
}

std::unique_ptr<Model> conv_relu_model(LayerPtr clamp) {
  auto m = std::make_unique<Model>("m");
  const int in = m->add_node(layers::Input({6, 6, 2}));
  const int conv = m->add_node(layers::Conv2D(4, {3, 3}, {.padding = Padding::kSame, .name = "conv"}), {in});
  const int act = m->add_node(std::move(clamp), {conv});
  const int flat = m->add_node(layers::Flatten(), {act});
  m->add_node(layers::Dense(3, {.name = "dense"}), {flat});
  m->build(5);
  return m;
}

TEST(Rewrite, ReluSixFusesIntoConvWithTheSameOutputs) {
  auto m = conv_relu_model(layers::ReLU(6.0f, "relu6"));
  const RewrittenModel rw = rewrite_for_lowering(*m);
  ASSERT_EQ(rw.model->num_layers(), m->num_layers() - 1);
  const Layer& conv = rw.model->layer(1);
  EXPECT_EQ(conv.type(), "Conv2D");
  EXPECT_EQ(conv.name(), "conv");
  EXPECT_EQ(conv.get_config()["activation"], "relu6");
  EXPECT_EQ(rw.sources[1], (std::vector<int>{1, 2}));
  EXPECT_EQ(rw.sources[2], (std::vector<int>{3}));
  // Same weights, same outputs, bit for bit (the fused clamp is the same min/max).
  const Tensor x = random_input({6, 6, 2}, 7, 1);
  const Tensor a = m->predict(x), b = rw.model->predict(x);
  ASSERT_EQ(a.numel(), b.numel());
  for (int64_t i = 0; i < a.numel(); ++i) EXPECT_EQ(a.f32()[i], b.f32()[i]) << i;
  // The source is untouched.
  EXPECT_EQ(m->layer(2).type(), "ReLU");
}

// Conv2D (no bias) -> BatchNormalization -> ReLU(6) becomes one Conv2D with
// the batch norm folded (kernel * s, bias s * 0 + t) and RELU6 fused; its
// outputs equal the three layers' in inference within float rounding.
TEST(Rewrite, BatchNormFoldsIntoConvThenReluFuses) {
  auto m = std::make_unique<Model>("m");
  const int in = m->add_node(layers::Input({5, 5, 3}));
  const int conv = m->add_node(layers::Conv2D(4, {3, 3}, {.use_bias = false, .name = "conv"}), {in});
  const int bn = m->add_node(layers::BatchNormalization({.name = "bn"}), {conv});
  const int act = m->add_node(layers::ReLU(6.0f), {bn});
  const int flat = m->add_node(layers::Flatten(), {act});
  m->add_node(layers::Dense(2, {.name = "dense"}), {flat});
  m->build(9);
  // Statistics as training would leave them.
  Rng rng(4);
  for (Param* p : m->layer(2).params())
    for (float& v : p->value.span_f32())
      v = p->name == "moving_variance" ? rng.uniform(0.2f, 3.0f) : rng.uniform(-1.0f, 1.0f);
  const RewrittenModel rw = rewrite_for_lowering(*m);
  ASSERT_EQ(rw.model->num_layers(), 4u);
  EXPECT_EQ(rw.sources[1], (std::vector<int>{1, 2, 3}));
  const Layer& folded = rw.model->layer(1);
  EXPECT_EQ(folded.get_config()["use_bias"], true);
  EXPECT_EQ(folded.get_config()["activation"], "relu6");
  // Hand check of channel 0: s = gamma / sqrt(var + 1e-3), t = beta - mean * s.
  const Layer& b = m->layer(2);
  const float g = b.params()[0]->value.f32()[0], beta = b.params()[1]->value.f32()[0];
  const float mean = b.params()[2]->value.f32()[0], var = b.params()[3]->value.f32()[0];
  const float s = g / std::sqrt(var + 1e-3f);
  EXPECT_FLOAT_EQ(folded.params()[0]->value.f32()[0], m->layer(1).params()[0]->value.f32()[0] * s);
  EXPECT_FLOAT_EQ(folded.params()[1]->value.f32()[0], beta - mean * s);
  const Tensor x = random_input({5, 5, 3}, 6, 2);
  const Tensor a = m->predict(x), r = rw.model->predict(x);
  for (int64_t i = 0; i < a.numel(); ++i) EXPECT_NEAR(a.f32()[i], r.f32()[i], 1e-5f * (1 + std::fabs(a.f32()[i])));
}

TEST(Rewrite, ActivationLayerFusesIntoDense) {
  Sequential m({layers::Input({5}), layers::Dense(4, {.name = "d"}), layers::ActivationLayer(Activation::kRelu)});
  m.build(2);
  const RewrittenModel rw = rewrite_for_lowering(m);
  ASSERT_EQ(rw.model->num_layers(), 2u);
  EXPECT_EQ(rw.model->class_name(), "Sequential");
  EXPECT_EQ(rw.model->layer(1).get_config()["activation"], "relu");
}

TEST(Rewrite, NothingFusesWhereTfliteWouldNeedTheInnerTensor) {
  // ReLU(5) is no fused activation of TFLite.
  EXPECT_EQ(rewrite_for_lowering(*conv_relu_model(layers::ReLU(5.0f))).model->num_layers(), 5u);
  // A conv that already has an activation keeps the clamp after it.
  Sequential s({layers::Input({4, 4, 1}), layers::Conv2D(2, {3, 3}, {.activation = Activation::kRelu, .name = "c"}),
                layers::ReLU(6.0f)});
  s.build(1);
  EXPECT_EQ(rewrite_for_lowering(s).model->num_layers(), 3u);
}

TEST(LayerKind, RecordsDescribeEveryBuiltInClass) {
  for (const char* name : {"InputLayer", "Reshape", "Flatten", "Conv2D", "MaxPooling2D", "Dense", "ReLU", "Activation",
                           "BatchNormalization"})
    EXPECT_NE(find_layer_kind(name), nullptr) << name;
  const LayerKind& conv = *find_layer_kind("Conv2D");
  EXPECT_EQ(conv.op, OpKind::kConv2D);
  EXPECT_EQ(conv.quant_role, QuantRole::kWeighted);
  EXPECT_EQ(conv.weight, "kernel");
  EXPECT_TRUE(conv.per_channel);
  EXPECT_FALSE(find_layer_kind("Dense")->per_channel);
  EXPECT_EQ(find_layer_kind("ReLU")->op, OpKind::kNone);
  try {
    layer_from_config("Conv3D", json::object());
    ADD_FAILURE() << "no error";
  } catch (const Error& e) {
    // The message lists the registered classes (other tests may register more).
    const std::string msg = e.what();
    EXPECT_NE(msg.find("unknown layer class 'Conv3D' (known: Activation, "), std::string::npos) << msg;
    for (const char* name : {"BatchNormalization", "Conv2D", "Dense", "MaxPooling2D", "ReLU"})
      EXPECT_NE(msg.find(name), std::string::npos) << msg;
  }
}

// HWIO [kh, kw, in, out] -> OHWI, written out by hand for a 2x1x2x3 kernel.
TEST(LayerKind, Conv2DWeightLayoutIsOhwi) {
  const WeightLayout w = find_layer_kind("Conv2D")->tflite_weight_layout({2, 1, 2, 3});
  EXPECT_EQ(w.shape, (Shape{3, 2, 1, 2}));
  EXPECT_EQ(w.channel_axis, 0);
  std::vector<int> keras(12);
  for (int i = 0; i < 12; ++i) keras[static_cast<size_t>(i)] = i;  // index ((h*1+w)*2+c)*3+o
  // o=0: (h0,c0)=0 (h0,c1)=3 (h1,c0)=6 (h1,c1)=9; o=1: +1; o=2: +2.
  EXPECT_EQ(w.apply(keras.data()), (std::vector<int>{0, 3, 6, 9, 1, 4, 7, 10, 2, 5, 8, 11}));
  const WeightLayout d = find_layer_kind("Dense")->tflite_weight_layout({2, 3});
  EXPECT_EQ(d.shape, (Shape{3, 2}));
  EXPECT_EQ(d.apply(keras.data()), (std::vector<int>{0, 3, 1, 4, 2, 5}));
}

// An activation TFLite cannot fuse splits off its op: the op without
// activation, then an Activation layer "<op>_<activation>" (a unique name),
// both listing the source node; the outputs are the same.
TEST(Rewrite, UnfusableActivationsSplitIntoTheirOwnLayer) {
  auto m = std::make_unique<Model>("split");
  const int in = m->add_node(layers::Input({6, 6, 2}));
  const int c = m->add_node(layers::Conv2D(4, {3, 3}, {.activation = Activation::kHardSwish, .name = "conv"}), {in});
  const int t = m->add_node(layers::ActivationLayer(Activation::kTanh, "conv_hard_swish"), {c});  // name taken
  const int f = m->add_node(layers::Flatten(), {t});
  m->add_node(layers::Dense(3, {.activation = Activation::kSoftmax, .name = "probs"}), {f});
  m->build(2);
  const RewrittenModel rw = rewrite_for_lowering(*m);
  ASSERT_EQ(rw.model->num_layers(), 7u);
  std::vector<std::string> names, types;
  for (size_t i = 0; i < rw.model->num_layers(); ++i) {
    names.push_back(rw.model->layer(i).name());
    types.push_back(rw.model->layer(i).type());
  }
  EXPECT_EQ(names, (std::vector<std::string>{"input_layer", "conv", "conv_hard_swish_1", "conv_hard_swish", "flatten",
                                             "probs", "probs_softmax"}));
  EXPECT_EQ(rw.model->layer(1).get_config()["activation"], "linear");
  EXPECT_EQ(rw.model->layer(2).get_config()["activation"], "hard_swish");
  EXPECT_EQ(rw.model->layer(5).get_config()["activation"], "linear");
  EXPECT_EQ(rw.model->layer(6).get_config()["activation"], "softmax");
  EXPECT_EQ(lowered_op(rw.model->layer(2)), OpKind::kHardSwish);
  EXPECT_EQ(lowered_op(rw.model->layer(6)), OpKind::kSoftmax);
  EXPECT_EQ(rw.sources[1], (std::vector<int>{1}));
  EXPECT_EQ(rw.sources[2], (std::vector<int>{1}));
  EXPECT_EQ(rw.sources[6], (std::vector<int>{4}));
  const Tensor x = random_input({6, 6, 2}, 5, 3);
  const Tensor a = m->predict(x), b = rw.model->predict(x);
  for (int64_t i = 0; i < a.numel(); ++i) ASSERT_EQ(a.f32()[i], b.f32()[i]);
}

}  // namespace
}  // namespace qlite
