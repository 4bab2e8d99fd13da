// Shared layers through QAT and conversion: a Conv2D called twice (each call
// followed by its own ReLU, fused into the one shared layer) and a Dense
// called twice. Each call lowers to its own op reading one weight buffer;
// QAT inference equals the int8 file in qlite's runtime value for value,
// the int8 files give TensorFlow Lite 2.9's bytes, and a batch norm that
// would fold into some calls of a shared layer only is refused.
#include <functional>

#include "convert_test_util.h"
#include "interop_test_util.h"
#include "peer_requirement.h"
#include "qlite/quant/qat.h"
#include "tflite_peer.h"

namespace qlite::test {
namespace {

using convert::IoType;
using convert::Mode;

std::unique_ptr<Model> shared_model() {
  auto in = layers::Input({28, 28}, "in");
  auto x = layers::Reshape({28, 28, 1}, "reshape")(in);
  x = layers::Conv2D(8, {3, 3}, {.strides = {2, 2}, .activation = Activation::kRelu, .name = "stem"})(x);
  auto c = layers::Conv2D(8, {3, 3}, {.padding = Padding::kSame, .name = "c"});
  auto x1 = layers::ReLU(std::nullopt, "relu_1")(c(x));
  auto x2 = layers::ReLU(std::nullopt, "relu_2")(c(x1));
  auto p = layers::MaxPooling2D({2, 2}, {.name = "pool"})(layers::Add("sum")({x1, x2}));
  auto f = layers::Dense(32, {.activation = Activation::kRelu, .name = "pre"})(layers::Flatten("flat")(p));
  auto d = layers::Dense(32, {.activation = Activation::kRelu6, .name = "d"});
  auto h1 = d(f);
  auto h2 = d(h1);
  auto out = layers::Dense(10, {.name = "logits"})(layers::Concatenate(-1, "cat")({h1, h2}));
  return std::make_unique<Model>(in, out, "shared");
}

const FloatAndQat& trained() {
  static FloatAndQat t = train_float_and_qat(shared_model(), 2000, 1000, 5);
  return t;
}

TEST(SharedDeploy, QatKeepsTheSharing) {
  REQUIRE_FASHION(ds);
  const Model& q = *trained().qat;
  int c_calls = 0, d_calls = 0;
  for (size_t i = 0; i < q.num_layers(); ++i) {
    c_calls += q.layer(i).name() == "quant_c";
    d_calls += q.layer(i).name() == "quant_d";
  }
  EXPECT_EQ(c_calls, 2);
  EXPECT_EQ(d_calls, 2);
  // The ReLUs fused into the shared conv: one layer, relu in its config.
  const auto& c = dynamic_cast<const quant::QuantizeWrapper&>(*q.find_layer("quant_c"));
  EXPECT_EQ(c.inner().get_config()["activation"], "relu");
  EXPECT_EQ(q.find_layer("relu_1"), nullptr);
  // Weights once: the float model's count plus the quantizers' state.
  int64_t weights = 0;
  for (const Layer* l : q.unique_layers())
    for (const Param* p : l->params())
      if (p->trainable) weights += p->value.numel();
  EXPECT_EQ(weights, trained().float_model->count_params());
}

// Every op of the shared layers reads the one kernel buffer of its layer.
TEST(SharedDeploy, EachCallIsAnOpReadingOneWeightBuffer) {
  REQUIRE_FASHION(ds);
  const Tensor rep = rows(ds->train.x, 0, 100);
  for (const Model* m : {trained().qat.get(), trained().float_model.get()}) {
    for (Mode mode : {Mode::kInt8, Mode::kFloat32}) {
      if (m == trained().qat.get() && mode != Mode::kInt8) continue;
      const auto r = convert_with(*m, mode, IoType::kFloat32, &rep);
      const auto& g = r.model.subgraphs[0];
      for (const char* name : {"c", "d"}) {
        const std::string layer = name;
        std::vector<uint32_t> buffers;
        int ops = 0;
        for (const auto& op : g.operators)
          if (op.inputs.size() >= 2 && g.tensors[static_cast<size_t>(op.inputs[1])].name == layer + "/kernel") {
            ++ops;
            buffers.push_back(g.tensors[static_cast<size_t>(op.inputs[1])].buffer);
          }
        ASSERT_EQ(ops, 2) << m->name() << " " << convert::mode_name(mode) << " " << layer;
        EXPECT_EQ(buffers[0], buffers[1]) << layer;
      }
      EXPECT_TRUE(mode != Mode::kInt8 || r.integer_only);
    }
  }
}

TEST(SharedDeploy, QatEqualsTheFileOnTwoThousandImages) {
  REQUIRE_FASHION(ds);
  Model& q = *trained().qat;
  const auto r = convert_with(q, Mode::kInt8);
  const QatFileAgreement a = qat_file_agreement(q, r.bytes, rows(ds->test.x, 0, 2000), 10);
  EXPECT_EQ(a.equal, 20000);
  EXPECT_EQ(a.same_class, 2000);  // zero QAT / int8 mismatches
  // And it learned something (chance is 0.1).
  const Split test = take(ds->test, 0, 1000);
  EXPECT_GT(q.evaluate(test.x, test.y).accuracy, 0.35);
}

TEST(SharedDeploy, Int8FilesIdenticalToTflite) {
  REQUIRE_FASHION(ds);
  QLITE_REQUIRE_TFLITE_PEER(peer);
  expect_int8_files_identical_to_tflite(*peer, *ds, {trained().qat.get(), trained().float_model.get()});
}

// A batch norm after one call of a shared conv would need other weights for
// that call: refused by QAT and the converter, naming the layer.
TEST(SharedDeploy, BatchNormAfterSomeCallsOfASharedLayerIsRefused) {
  auto in = layers::Input({6, 6, 2}, "in");
  auto c = layers::Conv2D(2, {3, 3}, {.padding = Padding::kSame, .name = "c"});
  auto x1 = layers::BatchNormalization({.name = "bn"})(c(in));
  auto x2 = c(x1);
  Model m(in, layers::Dense(3, {.name = "head"})(layers::GlobalAveragePooling2D(false, "gap")(x2)), "bn_shared");
  m.build(1);
  Tensor rep({4, 6, 6, 2});
  for (const auto& attempt : std::vector<std::function<void()>>{
           [&] { quant::quantize_model(m); }, [&] { convert_with(m, Mode::kFloat32); },
           [&] { convert_with(m, Mode::kInt8, IoType::kFloat32, &rep); }}) {
    try {
      attempt();
      ADD_FAILURE() << "expected an error";
    } catch (const Error& e) {
      const std::string what = e.what();
      EXPECT_NE(what.find("'c'"), std::string::npos) << what;
      EXPECT_NE(what.find("shared"), std::string::npos) << what;
      EXPECT_EQ(what.find('\n'), std::string::npos) << what;
    }
  }
  // A shared batch norm after two unshared convs folds into each (moving
  // statistics), but cannot train apart with batch statistics.
  auto in2 = layers::Input({6, 6, 2}, "in");
  auto bn = layers::BatchNormalization({.name = "bn"});
  auto a = bn(layers::Conv2D(2, {3, 3}, {.padding = Padding::kSame, .name = "ca"})(in2));
  auto b = bn(layers::Conv2D(2, {3, 3}, {.padding = Padding::kSame, .name = "cb"})(a));
  Model m2(in2, layers::Dense(3, {.name = "head"})(layers::GlobalAveragePooling2D(false, "gap")(b)), "bn_calls");
  m2.build(1);
  const auto folded = convert_with(m2, Mode::kFloat32);
  EXPECT_EQ(folded.ops.size(), 4u);  // CONV_2D, CONV_2D, MEAN, FULLY_CONNECTED
  EXPECT_NO_THROW(quant::quantize_model(m2));
  try {
    quant::quantize_model(m2, {.freeze_bn_after = 5});
    ADD_FAILURE() << "expected an error";
  } catch (const Error& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("'bn'"), std::string::npos) << what;
    EXPECT_EQ(what.find('\n'), std::string::npos) << what;
  }
}

}  // namespace
}  // namespace qlite::test
