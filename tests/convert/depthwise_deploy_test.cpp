// A MobileNet-style model with DepthwiseConv2D, end to end: trained briefly
// on Fashion-MNIST, quantization-aware trained (each depthwise with its batch
// norm folded and its clamp fused by the shared rewrite, its kernel
// fake-quantized per output channel c * multiplier + m), converted. QAT
// inference equals qlite's runtime on the file value for value; the file's
// int8 outputs (QAT and post-training) equal TensorFlow Lite 2.9's byte for
// byte; the float32 and float16 files agree with TFLite 2.9's float within
// 1e-5 relative; the file is what TFLite 2.9's converter writes (1HWC
// weights, per-channel scales on dimension 3, int32 per-channel bias).
#include "convert_test_util.h"
#include "interop_test_util.h"
#include "peer_requirement.h"
#include "qlite/quant/qat.h"
#include "tflite_peer.h"

namespace qlite::test {
namespace {

using convert::IoType;
using convert::Mode;

// Momentum 0.9: the moving statistics settle within the brief training.
layers::BatchNormOptions bn(const char* name) { return {.momentum = 0.9f, .name = name}; }

// Conv -> BN -> ReLU6, depthwise (same, stride 1) -> BN -> ReLU6, depthwise
// (stride 2, multiplier 2) -> BN -> ReLU(6), pointwise conv -> BN -> ReLU6,
// pointwise conv + relu, global average pooling, dense.
std::unique_ptr<Model> mobile_model() {
  auto m = std::make_unique<Sequential>("mobile");
  m->add(layers::Input({28, 28}));
  m->add(layers::Reshape({28, 28, 1}));
  m->add(layers::Conv2D(16, {3, 3}, {.strides = {2, 2}, .padding = Padding::kSame, .use_bias = false,
                                     .name = "stem"}));
  m->add(layers::BatchNormalization(bn("stem_bn")));
  m->add(layers::ReLU(6.0f));
  m->add(layers::DepthwiseConv2D({3, 3}, {.padding = Padding::kSame, .use_bias = false, .name = "dw1"}));
  m->add(layers::BatchNormalization(bn("dw1_bn")));
  m->add(layers::ReLU(6.0f));
  m->add(layers::DepthwiseConv2D({3, 3}, {.strides = {2, 2}, .padding = Padding::kSame, .depth_multiplier = 2,
                                          .use_bias = false, .name = "dw2"}));
  m->add(layers::BatchNormalization(bn("dw2_bn")));
  m->add(layers::ReLU(6.0f));
  m->add(layers::Conv2D(32, {1, 1}, {.use_bias = false, .name = "pw1"}));
  m->add(layers::BatchNormalization(bn("pw1_bn")));
  m->add(layers::ReLU(6.0f));
  m->add(layers::Conv2D(48, {1, 1}, {.name = "pw2"}));
  m->add(layers::ActivationLayer(Activation::kRelu));
  m->add(layers::GlobalAveragePooling2D(false, "gap"));
  m->add(layers::Dense(10, {.name = "logits"}));
  return m;
}

struct Trained {
  std::unique_ptr<Model> float_model, qat;
};

// As the fused deploy tests: one epoch on 2,000 images (batch 16, Adam at
// 0.01, so that the network learns within it), then QAT on 1,000 more.
const Trained& trained() {
  static Trained t = [] {
    const Dataset& ds = *fashion();
    Trained r;
    r.float_model = mobile_model();
    r.float_model->compile(Adam(AdamOptions{.learning_rate = 1e-2f}), SparseCategoricalCrossentropy{true});
    FitOptions fo;
    fo.epochs = 1;
    fo.batch_size = 16;
    fo.seed = 3;
    const Split part = take(ds.train, 0, 2000);
    r.float_model->fit(part.x, part.y, fo);
    fo.batch_size = 32;
    r.qat = quant::quantize_model(*r.float_model);
    r.qat->compile(Adam(AdamOptions{.learning_rate = 1e-4f}), SparseCategoricalCrossentropy{true});
    const Split more = take(ds.train, 2000, 3000);
    r.qat->fit(more.x, more.y, fo);
    return r;
  }();
  return t;
}

std::vector<std::string> op_names(const convert::ConvertResult& r) {
  std::vector<std::string> ops;
  for (const auto& op : r.ops) ops.push_back(op.op);
  return ops;
}

const quant::QuantizeWrapper& wrapper(const Model& q, const std::string& name) {
  return dynamic_cast<const quant::QuantizeWrapper&>(*q.find_layer(name));
}

TEST(DepthwiseDeploy, QatTrainsTheFoldedDepthwise) {
  REQUIRE_FASHION(ds);
  const Model& q = *trained().qat;
  for (size_t i = 0; i < q.num_layers(); ++i) {
    EXPECT_NE(q.layer(i).type(), "ReLU");
    EXPECT_NE(q.layer(i).type(), "BatchNormalization");
  }
  // Output channels c * multiplier + m: 16 for dw1, 16 * 2 for dw2.
  for (const auto& [name, channels, mult] : {std::tuple{"quant_dw1", 16, 1}, std::tuple{"quant_dw2", 32, 2}}) {
    const quant::QuantizeWrapper& w = wrapper(q, name);
    EXPECT_EQ(w.inner().type(), "DepthwiseConv2D");
    EXPECT_EQ(w.inner().get_config()["activation"], "relu6") << name;
    EXPECT_EQ(w.inner().get_config()["use_bias"], true) << name;  // the folded batch norm's offset
    const quant::LoweredQuant L = w.lowered();
    EXPECT_EQ(L.op, quant::LoweredOp::kDepthwiseConv2D);
    EXPECT_EQ(L.spec.depth_multiplier, mult);
    EXPECT_EQ(L.weights_shape, (Shape{1, 3, 3, channels}));
    EXPECT_EQ(L.quantized_dimension, 3);
    EXPECT_EQ(L.weight_scales.size(), static_cast<size_t>(channels));
    EXPECT_EQ(L.bias.size(), static_cast<size_t>(channels));
    EXPECT_EQ(L.multiplier.size(), static_cast<size_t>(channels));
    EXPECT_EQ(L.activation, Activation::kRelu6);
    // Per-channel ranges: one min/max per output channel.
    for (const Param* p : const_cast<quant::QuantizeWrapper&>(w).params()) {
      if (p->name == "depthwise_kernel_min" || p->name == "depthwise_kernel_max") {
        EXPECT_EQ(p->value.numel(), channels) << name << " " << p->name;
      }
    }
    // Each channel's integers use its own range: every channel reaches +-127.
    for (int c = 0; c < channels; ++c) {
      int peak = 0;
      for (int t = 0; t < 9; ++t) peak = std::max(peak, std::abs(int{L.weights[static_cast<size_t>(t * channels + c)]}));
      EXPECT_EQ(peak, 127) << name << " channel " << c;
    }
  }
}

TEST(DepthwiseDeploy, FileIsWhatTfliteWrites) {
  REQUIRE_FASHION(ds);
  const auto r = convert_with(*trained().qat, Mode::kInt8);
  EXPECT_EQ(op_names(r), (std::vector<std::string>{"QUANTIZE", "RESHAPE", "CONV_2D", "DEPTHWISE_CONV_2D",
                                                   "DEPTHWISE_CONV_2D", "CONV_2D", "CONV_2D", "MEAN",
                                                   "FULLY_CONNECTED", "DEQUANTIZE"}));
  const auto& g = r.model.subgraphs[0];
  std::vector<lite::DepthwiseConv2DOptions> dws;
  for (const auto& op : g.operators) {
    const auto* o = std::get_if<lite::DepthwiseConv2DOptions>(&op.options);
    if (o == nullptr) continue;
    dws.push_back(*o);
    EXPECT_EQ(r.model.operator_codes[static_cast<size_t>(op.opcode_index)].version, 3);
    const auto& w = g.tensors[static_cast<size_t>(op.inputs[1])];
    const auto& b = g.tensors[static_cast<size_t>(op.inputs[2])];
    const int32_t c = w.shape.back();
    EXPECT_EQ(w.type, lite::TensorType::kInt8);
    EXPECT_EQ(w.shape, (std::vector<int32_t>{1, 3, 3, c}));
    EXPECT_EQ(w.quantization.quantized_dimension, 3);
    EXPECT_EQ(w.quantization.scale.size(), static_cast<size_t>(c));
    EXPECT_EQ(b.type, lite::TensorType::kInt32);
    EXPECT_EQ(b.shape, (std::vector<int32_t>{c}));
    EXPECT_EQ(b.quantization.scale.size(), static_cast<size_t>(c));
  }
  ASSERT_EQ(dws.size(), 2u);
  EXPECT_EQ(dws[0].padding, Padding::kSame);
  EXPECT_EQ(dws[0].stride_h, 1);
  EXPECT_EQ(dws[0].depth_multiplier, 1);
  EXPECT_EQ(dws[0].activation, Activation::kRelu6);
  EXPECT_EQ(dws[1].stride_h, 2);
  EXPECT_EQ(dws[1].stride_w, 2);
  EXPECT_EQ(dws[1].depth_multiplier, 2);
  EXPECT_EQ(dws[1].activation, Activation::kRelu6);
  EXPECT_EQ(dws[1].dilation_h, 1);
  EXPECT_EQ(dws[1].dilation_w, 1);

  // The float model writes the same graph in every mode: float weights in
  // float32 and float16 (with DEQUANTIZE), and the depthwise kernels stay
  // float in dynamic range (qlite has no hybrid DEPTHWISE_CONV_2D).
  const auto f = convert_with(*trained().float_model, Mode::kFloat32);
  EXPECT_EQ(op_names(f), (std::vector<std::string>{"RESHAPE", "CONV_2D", "DEPTHWISE_CONV_2D", "DEPTHWISE_CONV_2D",
                                                   "CONV_2D", "CONV_2D", "MEAN", "FULLY_CONNECTED"}));
  for (const auto& op : f.model.subgraphs[0].operators) {
    if (std::holds_alternative<lite::DepthwiseConv2DOptions>(op.options)) {
      EXPECT_EQ(f.model.subgraphs[0].tensors[static_cast<size_t>(op.inputs[1])].type, lite::TensorType::kFloat32);
    }
  }
  convert::ConvertOptions dyn;
  dyn.mode = Mode::kDynamic;
  dyn.dynamic_min_elements = 0;
  const auto d = convert::convert_model(*trained().float_model, dyn);
  for (const auto& s : d.ops) {
    if (s.op == "DEPTHWISE_CONV_2D") {
      EXPECT_FALSE(s.integer);
    }
  }
  const Tensor x = rows(ds->test.x, 0, 200);
  const Tensor want = trained().float_model->predict(x);
  for (const auto* file : {&f, &d}) {
    const RunOutput got = run_qlite(file->bytes, x);
    ASSERT_EQ(got.values.size(), static_cast<size_t>(want.numel()));
    int64_t same = 0;
    for (int64_t i = 0; i < 200; ++i) same += argmax(got.values.data() + i * 10, 10) == argmax(want.f32() + i * 10, 10);
    EXPECT_GE(same, 198);
  }
}

TEST(DepthwiseDeploy, QatEqualsTheFileOnTwoThousandImages) {
  REQUIRE_FASHION(ds);
  Model& q = *trained().qat;
  const auto r = convert_with(q, Mode::kInt8);
  const Tensor x = rows(ds->test.x, 0, 2000);
  const Tensor sim = q.predict(x, 256);
  const RunOutput dep = run_qlite(r.bytes, x);
  ASSERT_EQ(dep.values.size(), static_cast<size_t>(sim.numel()));
  int64_t equal = 0, same_class = 0;
  for (int64_t k = 0; k < sim.numel(); ++k) equal += sim.f32()[k] == dep.values[static_cast<size_t>(k)];
  for (int64_t i = 0; i < 2000; ++i)
    same_class += argmax(sim.f32() + i * 10, 10) == argmax(dep.values.data() + i * 10, 10);
  EXPECT_EQ(equal, sim.numel());
  EXPECT_EQ(same_class, 2000);
  // The QAT accuracy is the file's, and the model has learned something.
  const Split test = take(ds->test, 0, 2000);
  const double accuracy = q.evaluate(test.x, test.y, 256).accuracy;
  EXPECT_EQ(count_correct_rows(dep.values, 10, test.y), static_cast<int64_t>(std::llround(accuracy * 2000)));
  EXPECT_GT(accuracy, 0.55);
}

TEST(DepthwiseDeploy, Int8FilesIdenticalToTflite) {
  REQUIRE_FASHION(ds);
  QLITE_REQUIRE_TFLITE_PEER(peer);
  expect_int8_files_identical_to_tflite(*peer, *ds, {trained().qat.get(), trained().float_model.get()});
}

// Float files: qlite's runtime and TFLite 2.9 within 1e-5 of the row's
// largest logit, the same class everywhere.
TEST(DepthwiseDeploy, FloatFilesMatchTflite) {
  REQUIRE_FASHION(ds);
  QLITE_REQUIRE_TFLITE_PEER(peer);
  const Tensor x = rows(ds->test.x, 0, 500);
  for (Mode mode : {Mode::kFloat32, Mode::kFloat16}) {
    const auto r = convert_with(*trained().float_model, mode);
    const auto theirs = peer->run(r.bytes, {PeerInput{{500, 28, 28}, graph_input_bytes(r, x)}});
    const RunOutput ours = run_qlite(r.bytes, x);
    ASSERT_EQ(theirs.size(), 1u);
    const Compared c = compare_rows(ours.values, output_values(theirs[0].bytes, ours.type), 10);
    EXPECT_EQ(c.rows, 500);
    EXPECT_LE(c.max_rel, 1e-5) << convert::mode_name(mode);
    EXPECT_EQ(c.argmax_same, c.rows) << convert::mode_name(mode);
  }
}

}  // namespace
}  // namespace qlite::test
