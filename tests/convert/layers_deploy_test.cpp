// Models with ZeroPadding2D, AveragePooling2D, Concatenate, Dropout and the
// activations sigmoid / softmax / tanh / hard_swish, trained briefly, QAT'd
// and converted: QAT inference equals the file in qlite's runtime value for
// value, the int8 files give TensorFlow Lite 2.9's bytes, and the float32
// files TFLite 2.9's float outputs within rounding.
#include "convert_test_util.h"
#include "interop_test_util.h"
#include "peer_requirement.h"
#include "qlite/quant/qat.h"
#include "tflite_peer.h"

namespace qlite::test {
namespace {

using convert::IoType;
using convert::Mode;

// Conv -> ZeroPadding2D -> Conv valid stride 2 -> AveragePooling2D -> two
// branches and the pool itself concatenated -> Dropout -> Dense(softmax).
// The branch convs feed only the concat (they write in its range); the pool
// also feeds the branches (the concat requantizes it).
std::unique_ptr<Model> softmax_model() {
  auto m = std::make_unique<Model>("branches_softmax");
  const int in = m->add_node(layers::Input({28, 28}));
  int x = m->add_node(layers::Reshape({28, 28, 1}), {in});
  x = m->add_node(layers::Conv2D(8, {3, 3}, {.activation = Activation::kRelu, .name = "stem"}), {x});
  x = m->add_node(layers::ZeroPadding2D({{{1, 1}, {1, 1}}}, "pad"), {x});
  x = m->add_node(layers::Conv2D(8, {3, 3}, {.strides = {2, 2}, .activation = Activation::kRelu6, .name = "down"}),
                  {x});
  const int pool = m->add_node(layers::AveragePooling2D({2, 2}, {.strides = std::nullopt, .padding = Padding::kValid, .name = "pool"}), {x});
  const int a = m->add_node(layers::Conv2D(8, {1, 1}, {.activation = Activation::kRelu, .name = "branch_a"}), {pool});
  const int b = m->add_node(layers::Conv2D(8, {3, 3}, {.padding = Padding::kSame, .name = "branch_b"}), {pool});
  x = m->add_node(layers::Concatenate(-1, "cat"), {a, b, pool});
  x = m->add_node(layers::Dropout(0.2f, 4, "drop"), {x});
  x = m->add_node(layers::Flatten(), {x});
  m->add_node(layers::Dense(10, {.activation = Activation::kSoftmax, .name = "probs"}), {x});
  return m;
}

// hard_swish, tanh and sigmoid as activations of convs, 'same' average
// pooling, a concat of a sigmoid output (TFLite fixes its range: requantized)
// with a conv that writes in the concat's range.
std::unique_ptr<Model> swish_model() {
  auto m = std::make_unique<Model>("branches_swish");
  const int in = m->add_node(layers::Input({28, 28}));
  int x = m->add_node(layers::Reshape({28, 28, 1}), {in});
  x = m->add_node(layers::Conv2D(8, {3, 3}, {.activation = Activation::kHardSwish, .name = "stem"}), {x});
  x = m->add_node(layers::ZeroPadding2D({{{0, 1}, {1, 0}}}, "pad"), {x});
  x = m->add_node(layers::AveragePooling2D({3, 3}, {.strides = std::array<int, 2>{2, 2}, .padding = Padding::kSame,
                                                    .name = "pool"}),
                  {x});
  x = m->add_node(layers::Conv2D(8, {3, 3}, {.strides = {2, 2}, .activation = Activation::kTanh, .name = "down"}),
                  {x});
  const int a = m->add_node(layers::Conv2D(4, {1, 1}, {.activation = Activation::kSigmoid, .name = "branch_a"}), {x});
  const int b = m->add_node(layers::Conv2D(4, {1, 1}, {.activation = Activation::kRelu, .name = "branch_b"}), {x});
  x = m->add_node(layers::Concatenate(-1, "cat"), {a, b});
  x = m->add_node(layers::Flatten(), {x});
  m->add_node(layers::Dense(10, {.name = "logits"}), {x});
  return m;
}

using Trained = FloatAndQat;
Trained train_both(std::unique_ptr<Model> model, bool from_logits) {
  return train_float_and_qat(std::move(model), 2000, 1000, 3, from_logits);
}

const Trained& softmax_trained() {
  static Trained t = train_both(softmax_model(), false);
  return t;
}

const Trained& swish_trained() {
  static Trained t = train_both(swish_model(), true);
  return t;
}

const quant::QuantizeWrapper& wrapper(const Model& m, const std::string& name) {
  return dynamic_cast<const quant::QuantizeWrapper&>(*m.find_layer(name));
}

std::vector<std::string> op_names(const convert::ConvertResult& r) {
  std::vector<std::string> ops;
  for (const auto& op : r.ops) ops.push_back(op.op);
  return ops;
}

bool same_quant(const quant::TensorQuant& a, const quant::TensorQuant& b) {
  return a.scale == b.scale && a.zero_point == b.zero_point;
}

TEST(LayersDeploy, ConcatProducersShareItsRange) {
  REQUIRE_FASHION(ds);
  const Model& q = *softmax_trained().qat;
  const auto& cat = wrapper(q, "quant_cat");
  const quant::LoweredQuant L = cat.lowered();
  EXPECT_EQ(L.op, quant::LoweredOp::kConcatenation);
  ASSERT_EQ(L.inputs.size(), 3u);
  // The branch convs feed only the concat: no output range of their own, the concat's quantization.
  for (const char* branch : {"quant_branch_a", "quant_branch_b"}) {
    const auto& w = wrapper(q, branch);
    EXPECT_TRUE(w.takes_reader_range()) << branch;
    EXPECT_FALSE(w.config().output_quantizer().has_value()) << branch;
    EXPECT_TRUE(same_quant(w.output_quant(), L.output)) << branch;
    for (const Param* p : static_cast<const Layer&>(w).params()) EXPECT_NE(p->name, "output_min") << branch;
  }
  EXPECT_TRUE(same_quant(L.inputs[0], L.output));
  EXPECT_TRUE(same_quant(L.inputs[1], L.output));
  // The pool also feeds the branches and keeps its input's quantization: requantized.
  const auto& pool = wrapper(q, "quant_pool");
  EXPECT_FALSE(pool.takes_reader_range());
  EXPECT_TRUE(same_quant(L.inputs[2], wrapper(q, "quant_down").output_quant()));
  EXPECT_FALSE(same_quant(L.inputs[2], L.output));
  // Softmax split off the Dense, at TFLite's fixed 1/256, -128.
  const quant::LoweredQuant sm = wrapper(q, "quant_probs_softmax").lowered();
  EXPECT_EQ(sm.op, quant::LoweredOp::kActivation);
  EXPECT_EQ(sm.spec.op, OpKind::kSoftmax);
  EXPECT_EQ(sm.output.scale, 1.0f / 256.0f);
  EXPECT_EQ(sm.output.zero_point, -128);
  EXPECT_EQ(wrapper(q, "quant_probs").inner().get_config()["activation"], "linear");
}

TEST(LayersDeploy, FileOps) {
  REQUIRE_FASHION(ds);
  const auto r = convert_with(*softmax_trained().qat, Mode::kInt8);
  // Dropout writes no op; Flatten folds into FULLY_CONNECTED through it; the
  // pool's tensor is requantized (QUANTIZE int8 -> int8) for CONCATENATION.
  EXPECT_EQ(op_names(r), (std::vector<std::string>{"QUANTIZE", "RESHAPE", "CONV_2D", "PAD", "CONV_2D",
                                                   "AVERAGE_POOL_2D", "CONV_2D", "CONV_2D", "QUANTIZE",
                                                   "CONCATENATION", "FULLY_CONNECTED", "SOFTMAX", "DEQUANTIZE"}));
  EXPECT_TRUE(r.integer_only);
  const auto& g = r.model.subgraphs[0];
  for (const auto& op : g.operators) {
    if (!std::holds_alternative<lite::ConcatenationOptions>(op.options)) continue;
    EXPECT_EQ(std::get<lite::ConcatenationOptions>(op.options).axis, 3);
    const auto& out = g.tensors[static_cast<size_t>(op.outputs[0])].quantization;
    for (int32_t t : op.inputs) {  // every input at the output's parameters
      const auto& in = g.tensors[static_cast<size_t>(t)].quantization;
      EXPECT_EQ(in.scale, out.scale);
      EXPECT_EQ(in.zero_point, out.zero_point);
    }
  }
  const auto s = convert_with(*swish_trained().qat, Mode::kInt8);
  EXPECT_EQ(op_names(s), (std::vector<std::string>{"QUANTIZE", "RESHAPE", "CONV_2D", "HARD_SWISH", "PAD",
                                                   "AVERAGE_POOL_2D", "CONV_2D", "TANH", "CONV_2D", "LOGISTIC",
                                                   "CONV_2D", "QUANTIZE", "CONCATENATION",
                                                   "FULLY_CONNECTED", "DEQUANTIZE"}));
  // The float model converts to the same ops (no Dropout op either).
  const auto f = convert_with(*softmax_trained().float_model, Mode::kFloat32);
  EXPECT_EQ(op_names(f), (std::vector<std::string>{"RESHAPE", "CONV_2D", "PAD", "CONV_2D", "AVERAGE_POOL_2D",
                                                   "CONV_2D", "CONV_2D", "CONCATENATION", "FULLY_CONNECTED",
                                                   "SOFTMAX"}));
}

void expect_qat_equals_file(Model& q, const Dataset* ds) {
  const auto r = convert_with(q, Mode::kInt8);
  const Tensor x = rows(ds->test.x, 0, 2000);
  const Tensor sim = q.predict(x, 256);
  const RunOutput dep = run_qlite(r.bytes, x);
  ASSERT_EQ(dep.values.size(), static_cast<size_t>(sim.numel()));
  int64_t equal = 0, same_class = 0;
  for (int64_t k = 0; k < sim.numel(); ++k) equal += sim.f32()[k] == dep.values[static_cast<size_t>(k)];
  for (int64_t i = 0; i < 2000; ++i)
    same_class += argmax(sim.f32() + i * 10, 10) == argmax(dep.values.data() + i * 10, 10);
  EXPECT_EQ(equal, sim.numel()) << q.name();
  EXPECT_EQ(same_class, 2000) << q.name();
}

TEST(LayersDeploy, QatEqualsTheFileOnTwoThousandImages) {
  REQUIRE_FASHION(ds);
  expect_qat_equals_file(*softmax_trained().qat, ds);
  expect_qat_equals_file(*swish_trained().qat, ds);
}

// The models learn: QAT accuracy on 1,000 test images well above chance
// (0.1); after one brief epoch the softmax model reaches about 0.7, the swish
// one about 0.5.
TEST(LayersDeploy, TrainedModelsLearn) {
  REQUIRE_FASHION(ds);
  const Split test = take(ds->test, 0, 1000);
  for (const Trained* t : {&softmax_trained(), &swish_trained()}) {
    EXPECT_GT(t->qat->evaluate(test.x, test.y).accuracy, 0.35) << t->qat->name();
  }
}

TEST(LayersDeploy, Int8FilesIdenticalToTflite) {
  REQUIRE_FASHION(ds);
  QLITE_REQUIRE_TFLITE_PEER(peer);
  const Tensor x = rows(ds->test.x, 0, 500);
  const Tensor rep = rows(ds->train.x, 0, 100);
  for (const Model* m : {softmax_trained().qat.get(), softmax_trained().float_model.get(), swish_trained().qat.get(),
                         swish_trained().float_model.get()}) {
    const auto r = convert_with(*m, Mode::kInt8, IoType::kInt8, &rep);
    const Int8Agreement a = int8_agreement(*peer, r, x);
    EXPECT_EQ(a.equal, a.total) << m->name();
  }
}

TEST(LayersDeploy, Float32FilesMatchTflite) {
  REQUIRE_FASHION(ds);
  QLITE_REQUIRE_TFLITE_PEER(peer);
  const Tensor x = rows(ds->test.x, 0, 200);
  for (Model* m : {softmax_trained().float_model.get(), swish_trained().float_model.get()}) {
    const auto r = convert_with(*m, Mode::kFloat32);
    const auto theirs = peer->run(r.bytes, {PeerInput{{200, 28, 28}, graph_input_bytes(r, x)}});
    const RunOutput ours = run_qlite(r.bytes, x);
    const Tensor keras = m->predict(x, 100);
    ASSERT_EQ(theirs.size(), 1u);
    const std::vector<float> tf = theirs[0].values<float>();
    ASSERT_EQ(tf.size(), ours.values.size());
    const Compared c = compare_rows(ours.values, tf, 10);
    EXPECT_LT(c.max_rel, 2e-5) << m->name();
    EXPECT_EQ(c.argmax_same, 200) << m->name();
    const Compared k = compare_rows(std::vector<float>(keras.f32(), keras.f32() + keras.numel()), tf, 10);
    EXPECT_LT(k.max_rel, 2e-5) << m->name() << " (training graph)";
  }
}

}  // namespace
}  // namespace qlite::test
