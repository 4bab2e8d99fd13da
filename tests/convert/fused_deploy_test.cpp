// Models written with batch norm and activation layers (Conv2D ->
// BatchNormalization -> ReLU(6), Conv2D -> Activation("relu")) go through the
// shared rewrite: QAT trains the folded, fused graph, the converter writes it
// with the batch norm folded and the clamps fused into CONV_2D, QAT
// inference equals qlite's runtime on the file value for value, and the
// file's int8 outputs equal TensorFlow Lite 2.9's byte for byte.
#include "convert_test_util.h"
#include "interop_test_util.h"
#include "qlite/quant/qat.h"
#include "peer_requirement.h"
#include "tflite_peer.h"

namespace qlite::test {
namespace {

using convert::IoType;
using convert::Mode;

std::unique_ptr<Model> layered_model() {
  auto m = std::make_unique<Sequential>("layered");
  m->add(layers::Input({28, 28}));
  m->add(layers::Reshape({28, 28, 1}));
  m->add(layers::Conv2D(8, {3, 3}, {.use_bias = false, .name = "conv_a"}));
  m->add(layers::BatchNormalization({.name = "bn_a"}));
  m->add(layers::ReLU(6.0f, "relu6_a"));
  m->add(layers::MaxPooling2D({2, 2}));
  m->add(layers::Conv2D(8, {3, 3}, {.strides = {2, 2}, .padding = Padding::kSame, .name = "conv_b"}));
  m->add(layers::ActivationLayer(Activation::kRelu, "relu_b"));
  m->add(layers::Flatten());
  m->add(layers::Dense(10, {.name = "logits"}));
  return m;
}

// A residual block, functional: the conv block's output is added to its
// input, then global average pooling (MEAN) feeds the classifier.
std::unique_ptr<Model> residual_model() {
  auto m = std::make_unique<Model>("residual");
  const int in = m->add_node(layers::Input({28, 28}));
  const int img = m->add_node(layers::Reshape({28, 28, 1}), {in});
  int x = m->add_node(layers::Conv2D(8, {3, 3}, {.strides = {2, 2}, .padding = Padding::kSame, .use_bias = false,
                                                 .name = "stem"}), {img});
  x = m->add_node(layers::BatchNormalization({.name = "stem_bn"}), {x});
  const int stem = m->add_node(layers::ReLU(6.0f), {x});
  x = m->add_node(layers::Conv2D(8, {3, 3}, {.padding = Padding::kSame, .use_bias = false, .name = "block"}), {stem});
  x = m->add_node(layers::BatchNormalization({.name = "block_bn"}), {x});
  x = m->add_node(layers::Add("residual_add"), {x, stem});
  x = m->add_node(layers::GlobalAveragePooling2D(false, "gap"), {x});
  m->add_node(layers::Dense(10, {.name = "logits"}), {x});
  return m;
}

using Trained = FloatAndQat;
Trained train_both(std::unique_ptr<Model> model) { return train_float_and_qat(std::move(model), 2000, 1000, 3); }

const Trained& trained() {
  static Trained t = train_both(layered_model());
  return t;
}

const Trained& residual() {
  static Trained t = train_both(residual_model());
  return t;
}

TEST(FusedDeploy, QatTrainsTheRewrittenGraph) {
  REQUIRE_FASHION(ds);
  const Model& q = *trained().qat;
  for (size_t i = 0; i < q.num_layers(); ++i) {
    EXPECT_NE(q.layer(i).type(), "ReLU");
    EXPECT_NE(q.layer(i).type(), "Activation");
    EXPECT_NE(q.layer(i).type(), "BatchNormalization");
  }
  const auto& a = dynamic_cast<const quant::QuantizeWrapper&>(*q.find_layer("quant_conv_a"));
  EXPECT_EQ(a.inner().get_config()["activation"], "relu6");
  EXPECT_EQ(a.inner().get_config()["use_bias"], true);  // the folded batch norm's offset
  EXPECT_EQ(a.lowered().activation, Activation::kRelu6);
}

TEST(FusedDeploy, ClampsFuseIntoConvInTheFile) {
  REQUIRE_FASHION(ds);
  const auto r = convert_with(*trained().qat, Mode::kInt8);
  std::vector<std::string> ops;
  for (const auto& op : r.ops) ops.push_back(op.op);
  EXPECT_EQ(ops, (std::vector<std::string>{"QUANTIZE", "RESHAPE", "CONV_2D", "MAX_POOL_2D", "CONV_2D",
                                           "FULLY_CONNECTED", "DEQUANTIZE"}));
  const auto& g = r.model.subgraphs[0];
  std::vector<Activation> acts;
  for (const auto& op : g.operators)
    if (const auto* c = std::get_if<lite::Conv2DOptions>(&op.options)) acts.push_back(c->activation);
  EXPECT_EQ(acts, (std::vector<Activation>{Activation::kRelu6, Activation::kRelu}));
  // The float model converts to the same graph shape (the converter runs the same rewrite).
  const auto f = convert_with(*trained().float_model, Mode::kFloat32);
  EXPECT_EQ(f.ops.size(), 5u);  // RESHAPE, CONV_2D, MAX_POOL_2D, CONV_2D, FULLY_CONNECTED
}

void expect_qat_equals_file(Model& q, const Dataset* ds) {
  const auto r = convert_with(q, Mode::kInt8);
  const Tensor x = rows(ds->test.x, 0, 2000);
  const Tensor sim = q.predict(x, 256);
  const RunOutput dep = run_qlite(r.bytes, x);
  ASSERT_EQ(dep.values.size(), static_cast<size_t>(sim.numel()));
  int64_t equal = 0, same_class = 0;
  for (int64_t k = 0; k < sim.numel(); ++k) equal += sim.f32()[k] == dep.values[static_cast<size_t>(k)];
  for (int64_t i = 0; i < 2000; ++i) same_class += argmax(sim.f32() + i * 10, 10) == argmax(dep.values.data() + i * 10, 10);
  EXPECT_EQ(equal, sim.numel());
  EXPECT_EQ(same_class, 2000);
}

TEST(FusedDeploy, QatEqualsTheFileOnTwoThousandImages) {
  REQUIRE_FASHION(ds);
  expect_qat_equals_file(*trained().qat, ds);
}

TEST(FusedDeploy, ResidualAddQatEqualsTheFile) {
  REQUIRE_FASHION(ds);
  const Model& q = *residual().qat;
  const auto& add = dynamic_cast<const quant::QuantizeWrapper&>(*q.find_layer("quant_residual_add"));
  const quant::LoweredQuant L = add.lowered();
  EXPECT_EQ(L.op, quant::LoweredOp::kAdd);
  ASSERT_EQ(L.inputs.size(), 2u);
  EXPECT_NE(L.inputs[0].scale, L.inputs[1].scale);  // ADD takes each input with its own scale
  const auto r = convert_with(q, Mode::kInt8);
  std::vector<std::string> ops;
  for (const auto& op : r.ops) ops.push_back(op.op);
  EXPECT_EQ(ops, (std::vector<std::string>{"QUANTIZE", "RESHAPE", "CONV_2D", "CONV_2D", "ADD", "MEAN",
                                           "FULLY_CONNECTED", "DEQUANTIZE"}));
  // Global average pooling re-quantizes: its own range, and MEAN's arithmetic
  // is the one TFLite 2.9 picks for keep_dims false (checked value for value below).
  const auto& gap = dynamic_cast<const quant::QuantizeWrapper&>(*q.find_layer("quant_gap"));
  EXPECT_EQ(gap.lowered().op, quant::LoweredOp::kMean);
  EXPECT_NE(gap.lowered().output.scale, gap.lowered().inputs.at(0).scale);
  expect_qat_equals_file(const_cast<Model&>(q), ds);
}

TEST(FusedDeploy, Int8FilesIdenticalToTflite) {
  REQUIRE_FASHION(ds);
  const TfLitePeer* peer = TfLitePeer::get();
  QLITE_REQUIRE_PEER(peer != nullptr, "TFLite 2.9 unavailable: " << TfLitePeer::unavailable_reason());
  const Tensor x = rows(ds->test.x, 0, 500);
  const Tensor rep = rows(ds->train.x, 0, 100);
  for (const Model* m : {trained().qat.get(), trained().float_model.get(), residual().qat.get(),
                         residual().float_model.get()}) {
    const auto r = convert_with(*m, Mode::kInt8, IoType::kInt8, &rep);
    const Int8Agreement a = int8_agreement(*peer, r, x);
    EXPECT_EQ(a.equal, a.total) << m->name();
  }
}

}  // namespace
}  // namespace qlite::test
