// Layers no op before them absorbs, through the shared rewrite, QAT and
// conversion: a BatchNormalization after a Concatenate and after an Add
// (DenseNet's and pre-activation ResNet's BN -> ReLU) and after global
// average pooling, which becomes a 1x1 DEPTHWISE_CONV_2D with the batch
// norm's scale as its per-channel kernel and its offset as bias (a following
// clamp fuses into it; a [C] sample is reshaped to [1, 1, C], and a
// [28, 28] one, the input's, to [1, 28, 28]); and ReLU /
// Activation relu6 after a pooling and after global average pooling, which
// become RELU / RELU6 ops with their own output range (tfmot quantizes a
// standalone ReLU's output). Checked: the rewrite against the float model,
// the float32 file against the model, QAT inference against the int8 file
// value for value, and the int8 files against TensorFlow Lite 2.9.
#include <cmath>

#include "convert_test_util.h"
#include "interop_test_util.h"
#include "peer_requirement.h"
#include "qlite/quant/qat.h"
#include "qlite/train/layer_kind.h"
#include "qlite/train/rewrite.h"
#include "tflite_peer.h"

namespace qlite::test {
namespace {

using convert::IoType;
using convert::Mode;

std::unique_ptr<Model> standalone_model() {
  auto in = layers::Input({28, 28}, "in");
  // On [28, 28] samples (rank 2): seen as [1, 28, 28] by the 1x1 depthwise.
  auto x = layers::Reshape({28, 28, 1}, "reshape")(layers::BatchNormalization({.momentum = 0.9f, .name = "bn_in"})(in));
  x = layers::Conv2D(8, {3, 3}, {.padding = Padding::kSame, .name = "c1"})(x);
  x = layers::ReLU(std::nullopt, "relu_pool")(layers::MaxPooling2D({2, 2}, {.name = "pool"})(x));  // 14x14x8
  auto a = layers::Conv2D(8, {3, 3}, {.padding = Padding::kSame, .name = "a"})(x);
  auto b = layers::Conv2D(8, {1, 1}, {.activation = Activation::kRelu, .name = "b"})(x);
  auto cat = layers::Concatenate(-1, "cat")({a, b});
  x = layers::ActivationLayer(Activation::kRelu6, "act6")(layers::BatchNormalization({.momentum = 0.9f, .name = "bn_cat"})(cat));
  x = layers::Conv2D(16, {3, 3}, {.strides = {2, 2}, .padding = Padding::kSame, .name = "c2"})(x);  // 7x7x16
  x = layers::ReLU(std::nullopt, "relu2")(layers::BatchNormalization({.momentum = 0.9f, .name = "bn2"})(x));
  auto z = layers::DepthwiseConv2D({3, 3}, {.padding = Padding::kSame, .name = "dw"})(x);
  auto s = layers::BatchNormalization({.momentum = 0.9f, .name = "bn_add"})(layers::Add("add")({x, z}));
  auto g = layers::ReLU(6.0f, "relu_gap")(layers::GlobalAveragePooling2D(false, "gap")(s));
  g = layers::BatchNormalization({.momentum = 0.9f, .name = "bn_vec"})(g);  // on [16] samples
  return std::make_unique<Model>(in, layers::Dense(10, {.name = "logits"})(g), "standalone");
}

const FloatAndQat& trained() {
  static FloatAndQat t = train_float_and_qat(standalone_model(), 5000, 1000, 7);
  return t;
}

std::vector<std::string> op_names(const convert::ConvertResult& r) {
  std::vector<std::string> names;
  for (const auto& op : r.model.subgraphs[0].operators)
    names.push_back(lite::builtin_op_name(r.model.operator_codes[op.opcode_index].builtin));
  return names;
}
int64_t count(const std::vector<std::string>& v, const std::string& s) { return std::count(v.begin(), v.end(), s); }

// The rewrite by hand: each standalone batch norm is a 1x1 depthwise with
// its scale and offset (the clamp after bn_cat fused into it), the clamps
// after the pooling ops stay layers, and the rewritten model computes what
// the model does.
TEST(StandaloneOpsDeploy, RewriteMakesStandaloneBatchNormA1x1Depthwise) {
  auto m = standalone_model();
  m->build(1);
  // Moving statistics away from (0, 1), so that the fold is not the identity.
  for (const char* name : {"bn_in", "bn_cat", "bn_add", "bn_vec"}) {
    Layer& bn = *m->find_layer(name);
    float v = 0.5f;
    for (Param* p : bn.params())
      for (int64_t i = 0; i < p->value.numel(); ++i) {
        v += 0.37f;
        p->value.f32()[i] = v - std::floor(v) + 0.25f;
      }
  }
  const RewrittenModel rw = rewrite_for_lowering(*m);
  Model& r = *rw.model;
  for (const char* name : {"bn_in", "bn_cat", "bn_add", "bn_vec"}) {
    const Layer* l = r.find_layer(name);
    ASSERT_NE(l, nullptr) << name;
    EXPECT_EQ(l->type(), "DepthwiseConv2D") << name;
    const json c = l->get_config();
    EXPECT_EQ(c["kernel_size"], json::array({1, 1})) << name;
    EXPECT_EQ(c["activation"], std::string(name) == "bn_cat" ? "relu6" : "linear") << name;
    // kernel = gamma / sqrt(var + eps), bias = beta - mean * kernel.
    const Layer& bn = *m->find_layer(name);
    const ChannelAffine a = *layer_kind(bn).as_channel_affine(bn);
    const Param* k = nullptr;
    const Param* b = nullptr;
    for (const Param* p : r.find_layer(name)->params()) (p->name == "bias" ? b : k) = p;
    ASSERT_TRUE(k && b);
    ASSERT_EQ(k->value.numel(), static_cast<int64_t>(a.scale.size()));
    for (size_t i = 0; i < a.scale.size(); ++i) {
      EXPECT_EQ(k->value.f32()[i], a.scale[i]);
      EXPECT_EQ(b->value.f32()[i], a.offset[i]);
    }
  }
  ASSERT_NE(r.find_layer("bn_vec_hwc"), nullptr);
  ASSERT_NE(r.find_layer("bn_vec_flat"), nullptr);
  EXPECT_EQ(r.find_layer("bn_vec_hwc")->output_shape(), (Shape{1, 1, 16}));
  EXPECT_EQ(r.find_layer("bn_vec_flat")->output_shape(), (Shape{16}));
  ASSERT_NE(r.find_layer("bn_in_hwc"), nullptr);
  ASSERT_NE(r.find_layer("bn_in_flat"), nullptr);
  EXPECT_EQ(r.find_layer("bn_in_hwc")->output_shape(), (Shape{1, 28, 28}));
  EXPECT_EQ(r.find_layer("bn_in_flat")->output_shape(), (Shape{28, 28}));
  EXPECT_EQ(r.find_layer("act6"), nullptr);  // fused
  ASSERT_NE(r.find_layer("relu_pool"), nullptr);
  ASSERT_NE(r.find_layer("relu_gap"), nullptr);
  EXPECT_EQ(r.find_layer("relu2"), nullptr);  // into c2 with bn2, as before
  Tensor x({16, 28, 28});
  Rng rng(3);
  for (int64_t i = 0; i < x.numel(); ++i) x.f32()[i] = rng.uniform();
  const Tensor want = m->predict(x, 16), got = r.predict(x, 16);
  ASSERT_EQ(want.numel(), got.numel());
  float worst = 0;
  for (int64_t i = 0; i < want.numel(); ++i) worst = std::max(worst, std::fabs(want.f32()[i] - got.f32()[i]));
  EXPECT_LT(worst, 1e-4f);
}

TEST(StandaloneOpsDeploy, Float32FileComputesTheModel) {
  REQUIRE_FASHION(ds);
  Model& m = *trained().float_model;
  const auto r = convert_with(m, Mode::kFloat32);
  const std::vector<std::string> ops = op_names(r);
  EXPECT_EQ(count(ops, "DEPTHWISE_CONV_2D"), 5) << "dw, bn_in, bn_cat, bn_add, bn_vec";
  EXPECT_EQ(count(ops, "RESHAPE"), 4)
      << "bn_in's [1, 28, 28] and back, the input's [28, 28, 1], and bn_vec's [1, 1, C] (its [C] folds into the Dense)";
  EXPECT_EQ(count(ops, "RELU"), 1);
  EXPECT_EQ(count(ops, "RELU6"), 1);
  const Tensor x = rows(ds->test.x, 0, 500);
  const Tensor want = m.predict(x, 250);
  const RunOutput got = run_qlite(r.bytes, x);
  const Compared c = compare_rows(got.values, std::vector<float>(want.f32(), want.f32() + want.numel()), 10);
  EXPECT_LT(c.max_rel, 1e-4);
  EXPECT_EQ(c.argmax_same, 500);
}

TEST(StandaloneOpsDeploy, QatEqualsTheFileOnTwoThousandImages) {
  REQUIRE_FASHION(ds);
  Model& q = *trained().qat;
  const auto r = convert_with(q, Mode::kInt8);
  EXPECT_TRUE(r.integer_only);
  const std::vector<std::string> ops = op_names(r);
  EXPECT_EQ(count(ops, "RELU"), 1);
  EXPECT_EQ(count(ops, "RELU6"), 1);
  EXPECT_EQ(count(ops, "QUANTIZE"), 1) << "the input only";
  const QatFileAgreement a = qat_file_agreement(q, r.bytes, rows(ds->test.x, 0, 2000), 10);
  EXPECT_EQ(a.equal, 20000);
  EXPECT_EQ(a.same_class, 2000);  // zero QAT / int8 mismatches
  const Split test = take(ds->test, 0, 1000);
  EXPECT_GT(q.evaluate(test.x, test.y).accuracy, 0.4);  // it learned something (chance is 0.1)
}

// QAT and calibrated (PTQ) int8 files: TensorFlow Lite 2.9 gives qlite's bytes.
TEST(StandaloneOpsDeploy, Int8FilesIdenticalToTflite) {
  REQUIRE_FASHION(ds);
  QLITE_REQUIRE_TFLITE_PEER(peer);
  expect_int8_files_identical_to_tflite(*peer, *ds, {trained().qat.get(), trained().float_model.get()});
}

// A RELU6 op whose input goes well past 6 (the clamp above matters): QAT on
// inputs in [-12, 12], then QAT inference, the int8 file in qlite and in
// TensorFlow Lite 2.9 agree value for value.
TEST(StandaloneOpsDeploy, Relu6OpClampsAsTheFileDoes) {
  auto in = layers::Input({4, 4, 2}, "in");
  auto p = layers::MaxPooling2D({2, 2}, {.name = "pool"})(in);
  auto r6 = layers::ReLU(6.0f, "r6")(p);
  Model m(in, layers::Dense(3, {.name = "head"})(layers::Flatten("flat")(r6)), "relu6");
  m.compile(Adam(), SparseCategoricalCrossentropy{true});
  Tensor x({256, 4, 4, 2});
  Tensor y({256}, DType::kInt32);
  Rng rng(11);
  for (int64_t i = 0; i < x.numel(); ++i) x.f32()[i] = rng.uniform(-12.0f, 12.0f);
  for (int64_t i = 0; i < 256; ++i) y.data<int32_t>()[i] = static_cast<int32_t>(rng.below(3));
  FitOptions fo;
  fo.epochs = 1;
  fo.batch_size = 32;
  m.fit(x, y, fo);
  auto q = quant::quantize_model(m);
  q->compile(Adam(AdamOptions{.learning_rate = 1e-4f}), SparseCategoricalCrossentropy{true});
  q->fit(x, y, fo);
  const auto r = convert_with(*q, Mode::kInt8);
  EXPECT_EQ(count(op_names(r), "RELU6"), 1);
  const QatFileAgreement agree = qat_file_agreement(*q, r.bytes, x, 3);
  EXPECT_EQ(agree.equal, 768);
  QLITE_REQUIRE_TFLITE_PEER(peer);
  const auto r8 = convert_with(*q, Mode::kInt8, IoType::kInt8);
  const Int8Agreement a = int8_agreement(*peer, r8, x);
  EXPECT_EQ(a.equal, a.total);
}

// Rescaling(1 / 127.5, -1) on the input (Keras' MobileNet preprocessing) is a
// 1x1 depthwise QAT does not train; one after a linear Conv2D folds into it.
TEST(StandaloneOpsDeploy, RescalingOnTheInputAndAfterAConv) {
  REQUIRE_FASHION(ds);
  auto in = layers::Input({28, 28}, "in");
  auto x = layers::Rescaling(255.0f / 127.5f, -1.0f, "pre")(layers::Reshape({28, 28, 1}, "reshape")(in));
  x = layers::Conv2D(8, {3, 3}, {.strides = {2, 2}, .padding = Padding::kSame, .name = "c"})(x);
  x = layers::ReLU(std::nullopt, "r")(layers::Rescaling(0.5f, 0.125f, "post")(x));
  Model m(in, layers::Dense(10, {.name = "logits"})(layers::GlobalAveragePooling2D(false, "gap")(x)), "rescaling");
  m.compile(Adam(), SparseCategoricalCrossentropy{true});
  FitOptions fo;
  fo.epochs = 1;
  fo.batch_size = 32;
  const Split part = take(ds->train, 0, 2000);
  m.fit(part.x, part.y, fo);
  const RewrittenModel rw = rewrite_for_lowering(m);
  ASSERT_NE(rw.model->find_layer("pre"), nullptr);
  EXPECT_EQ(rw.model->find_layer("pre")->type(), "DepthwiseConv2D");
  EXPECT_EQ(rw.model->find_layer("post"), nullptr);  // folded into c, with r fused
  EXPECT_EQ(rw.model->find_layer("c")->get_config()["activation"], "relu");
  // With batch statistics asked for, a Rescaling still folds (it has none).
  EXPECT_NO_THROW(quant::quantize_model(m, {.freeze_bn_after = 5}));
  auto q = quant::quantize_model(m);
  const auto& pre = dynamic_cast<const quant::QuantizeWrapper&>(*q->find_layer("quant_pre"));
  EXPECT_EQ(pre.inner().type(), "DepthwiseConv2D");
  Tensor kernel_before;
  for (Param* p : q->find_layer("quant_pre")->params())
    if (p->name == "depthwise_kernel") {
      EXPECT_FALSE(p->trainable);
      kernel_before = p->value;
    }
  ASSERT_EQ(kernel_before.numel(), 1);
  q->compile(Adam(AdamOptions{.learning_rate = 1e-3f}), SparseCategoricalCrossentropy{true});
  const Split more = take(ds->train, 2000, 2500);
  q->fit(more.x, more.y, fo);
  for (Param* p : q->find_layer("quant_pre")->params())
    if (p->name == "depthwise_kernel") {
      EXPECT_EQ(p->value.f32()[0], kernel_before.f32()[0]);
    }
  const auto r = convert_with(*q, Mode::kInt8);
  const Tensor xt = rows(ds->test.x, 0, 1000);
  const QatFileAgreement agree = qat_file_agreement(*q, r.bytes, xt, 10);
  EXPECT_EQ(agree.equal, 10000);
  const Tensor want = m.predict(xt, 250);
  const RunOutput f32 = run_qlite(convert_with(m, Mode::kFloat32).bytes, xt);
  const Compared c = compare_rows(f32.values, std::vector<float>(want.f32(), want.f32() + want.numel()), 10);
  EXPECT_LT(c.max_rel, 1e-4);
  QLITE_REQUIRE_TFLITE_PEER(peer);
  const Int8Agreement a = int8_agreement(*peer, convert_with(*q, Mode::kInt8, IoType::kInt8), xt);
  EXPECT_EQ(a.equal, a.total);
}

}  // namespace
}  // namespace qlite::test
