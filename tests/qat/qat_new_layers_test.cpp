// QAT of Concatenate (producers that take the concat's range, producers that
// are requantized), of the activations TFLite gives a fixed output
// quantization, and of an activation the rewrite splits off its op.
#include <cstring>
#include <filesystem>

#include "qat_test_util.h"
#include "qlite/convert.h"
#include "qlite/runtime.h"

using namespace qlite;
using namespace qlite::quant;
using namespace qlite::quant::testing;

namespace {

// Input -> conv a -> conv b; concat(a, b) -> Flatten -> Dense. `a` feeds b
// and the concat, b only the concat.
std::unique_ptr<Model> concat_model() {
  auto m = std::make_unique<Model>("concat");
  const int in = m->add_node(layers::Input({6, 6, 2}));
  const int a = m->add_node(layers::Conv2D(3, {1, 1}, {.activation = Activation::kRelu, .name = "a"}), {in});
  const int b = m->add_node(layers::Conv2D(3, {3, 3}, {.padding = Padding::kSame, .name = "b"}), {a});
  const int c = m->add_node(layers::Conv2D(2, {1, 1}, {.name = "c"}), {in});
  const int cat = m->add_node(layers::Concatenate(-1, "cat"), {a, b, c});
  const int f = m->add_node(layers::Flatten(), {cat});
  m->add_node(layers::Dense(4, {.name = "out"}), {f});
  return m;
}

// A few training steps so the ranges move off their initial [-6, 6].
std::unique_ptr<Model> trained_qat(const Model& float_model) {
  auto q = quantize_model(float_model);
  q->compile(Adam());
  FitOptions fo;
  fo.batch_size = 8;
  fo.seed = 2;
  const Tensor x = random_tensor({64, 6, 6, 2}, 5, -2.0f, 2.0f);
  std::vector<int32_t> y(64);
  for (size_t i = 0; i < y.size(); ++i) y[i] = static_cast<int32_t>(i % 4);
  q->fit(x, labels(y), fo);
  return q;
}

const QuantizeWrapper& wrapper(const Model& m, const std::string& name) {
  return dynamic_cast<const QuantizeWrapper&>(*m.find_layer(name));
}

bool same(const TensorQuant& a, const TensorQuant& b) { return a.scale == b.scale && a.zero_point == b.zero_point; }

TEST(QatConcat, OnlyReaderSharesOthersAreRequantized) {
  auto f = concat_model();
  f->build(1);
  auto q = trained_qat(*f);
  const LoweredQuant L = wrapper(*q, "quant_cat").lowered();
  ASSERT_EQ(L.op, LoweredOp::kConcatenation);
  EXPECT_EQ(L.spec.axis, 2);
  EXPECT_FALSE(wrapper(*q, "quant_a").takes_reader_range());  // read by b too: its own range
  EXPECT_TRUE(wrapper(*q, "quant_b").takes_reader_range());
  EXPECT_TRUE(wrapper(*q, "quant_c").takes_reader_range());
  EXPECT_FALSE(same(L.inputs[0], L.output));
  EXPECT_TRUE(same(L.inputs[1], L.output));
  EXPECT_TRUE(same(L.inputs[2], L.output));
  // The file: a's tensor requantized by a QUANTIZE (int8 -> int8) in front
  // of CONCATENATION, b and c written at the concat's parameters; the QAT
  // inference equals the file value for value.
  convert::ConvertOptions o;
  o.mode = convert::Mode::kInt8;
  const convert::ConvertResult r = convert::convert_model(*q, o);
  std::vector<std::string> ops;
  for (const auto& op : r.ops) ops.push_back(op.op);
  EXPECT_EQ(ops, (std::vector<std::string>{"QUANTIZE", "CONV_2D", "CONV_2D", "CONV_2D", "QUANTIZE", "CONCATENATION",
                                           "FULLY_CONNECTED", "DEQUANTIZE"}));
  const Tensor x = random_tensor({20, 6, 6, 2}, 9, -2.0f, 2.0f);
  const Tensor sim = q->predict(x);
  auto interp = runtime::Interpreter::from_buffer(r.bytes);
  interp->resize_batch(20);
  auto in = interp->input_bytes(0);
  ASSERT_EQ(in.size(), x.nbytes());
  std::memcpy(in.data(), x.raw(), in.size());
  interp->invoke();
  auto out = interp->output_bytes(0);
  ASSERT_EQ(out.size(), sim.nbytes());
  std::vector<float> dep(static_cast<size_t>(sim.numel()));
  std::memcpy(dep.data(), out.data(), out.size());
  for (int64_t i = 0; i < sim.numel(); ++i) ASSERT_EQ(sim.f32()[i], dep[static_cast<size_t>(i)]) << i;
}

TEST(QatConcat, SharingSurvivesSaveAndLoad) {
  auto f = concat_model();
  f->build(1);
  auto q = trained_qat(*f);
  const std::string dir = ::testing::TempDir() + "/qlite_qat_concat";
  save_model(*q, dir);
  register_qat_layers();
  auto back = load_model(dir);
  // The config the file holds has no output quantizer for b: it links to the concat again.
  EXPECT_TRUE(wrapper(*back, "quant_b").takes_reader_range());
  EXPECT_TRUE(same(wrapper(*back, "quant_b").output_quant(), wrapper(*back, "quant_cat").output_quant()));
  const Tensor x = random_tensor({10, 6, 6, 2}, 4, -2.0f, 2.0f);
  const Tensor p = q->predict(x), r = back->predict(x);
  for (int64_t i = 0; i < p.numel(); ++i) ASSERT_EQ(p.f32()[i], r.f32()[i]);
  std::filesystem::remove_all(dir);
}

// A config without an output quantizer on an op needs one quantized
// Concatenate reading it: none, or two, is an error saying so.
TEST(QatConcat, ReaderRangeNeedsExactlyOneConcat) {
  auto no_output = [](const Layer& l) {
    QuantizeConfigPtr d = default_quantize_config(l);
    return std::make_shared<LayerQuantizeConfig>(d->weight_quantizers(), std::nullopt);
  };
  {
    auto m = std::make_unique<Model>("two");
    const int in = m->add_node(layers::Input({4, 4, 2}));
    LayerPtr conv = layers::Conv2D(2, {1, 1}, {.name = "shared"});
    const int a = m->add_node(quantize_annotate_layer(conv, no_output(*conv)), {in});
    const int c1 = m->add_node(quantize_annotate_layer(layers::Concatenate(-1, "c1")), {a, in});
    const int c2 = m->add_node(quantize_annotate_layer(layers::Concatenate(-1, "c2")), {a, c1});
    m->add_node(quantize_annotate_layer(layers::Flatten()), {c2});
    const std::string e = error_of([&] { quantize_apply(*m); });
    EXPECT_NE(e.find("two do"), std::string::npos) << e;
  }
  {
    auto m = std::make_unique<Sequential>("none");
    m->add(layers::Input({4, 4, 2}));
    LayerPtr conv = layers::Conv2D(2, {1, 1}, {.name = "lonely"});
    m->add(quantize_annotate_layer(conv, no_output(*conv)));
    m->add(quantize_annotate_layer(layers::Flatten()));
    auto q = quantize_apply(*m);
    const std::string e = error_of([&] { q->predict(random_tensor({1, 4, 4, 2}, 1)); });
    EXPECT_NE(e.find("no quantized Concatenate reads it"), std::string::npos) << e;
  }
}

TEST(QatActivations, FixedOutputQuantization) {
  struct Case {
    Activation a;
    float scale;
    int32_t zero_point;
  };
  for (const Case& c : {Case{Activation::kSigmoid, 1.0f / 256, -128}, Case{Activation::kSoftmax, 1.0f / 256, -128},
                        Case{Activation::kTanh, 1.0f / 128, 0}}) {
    const std::string act = activation_name(c.a);
    Sequential m("act");
    m.add(layers::Input({5}));
    m.add(layers::Dense(3, {.activation = c.a, .name = "d"}));
    m.build(1);
    // The op's config is a custom 4-bit one; the activation split off it gets the registry's.
    auto annotated = std::make_unique<Sequential>("act");
    annotated->add(layers::Input({5}));
    LayerPtr d(m.layer(1).clone());
    annotated->add(quantize_annotate_layer(d, quantize_config_with_bits(*d, 4, 8)));
    auto q = quantize_apply(*annotated);
    ASSERT_EQ(q->num_layers(), 4u) << act;  // input, quantize_layer, quant_d, quant_d_<act>
    const auto& w = wrapper(*q, "quant_d_" + act);
    EXPECT_EQ(w.inner().type(), "Activation");
    EXPECT_EQ(wrapper(*q, "quant_d").inner().get_config()["activation"], "linear");
    const std::optional<QuantizerSpec> spec = w.config().output_quantizer();
    ASSERT_TRUE(spec.has_value());
    EXPECT_EQ(spec->kind, QuantizerKind::kFixed);
    EXPECT_EQ(spec->options.scheme.num_bits, 8);
    EXPECT_EQ(QuantizerSpec::from_json(spec->to_json()).to_json(), spec->to_json());
    EXPECT_EQ(spec->to_json()["class_name"], "FixedQuantizer");
    const TensorQuant t = w.output_quant();
    EXPECT_EQ(t.scale, c.scale) << act;
    EXPECT_EQ(t.zero_point, c.zero_point) << act;
    // Training never moves a fixed range.
    q->compile(Adam());
    FitOptions fo;
    fo.batch_size = 4;
    q->fit(random_tensor({8, 5}, 3, -4.0f, 4.0f), labels({0, 1, 2, 0, 1, 2, 0, 1}), fo);
    EXPECT_EQ(w.output_quant().scale, c.scale) << act;
    EXPECT_EQ(w.output_quant().zero_point, c.zero_point) << act;
    EXPECT_EQ(w.lowered().op, LoweredOp::kActivation);
  }
  // In a 4-bit activation scheme the same rule: sigmoid [0, 15/16], scale 1/16.
  const QuantizeConfigPtr four = quantize_config_with_bits(*layers::ActivationLayer(Activation::kSigmoid), 8, 4);
  const QuantizerSpec s = *four->output_quantizer();
  const QuantParams p = choose_quant_params(s.options.init_min, s.options.init_max, s.options.scheme);
  EXPECT_EQ(p.scale, 1.0f / 16);
  EXPECT_EQ(p.zero_point, -8);
}

TEST(QatActivations, HardSwishHasItsOwnRange) {
  QuantizeConfigPtr c = default_quantize_config(*layers::ActivationLayer(Activation::kHardSwish));
  ASSERT_TRUE(c && c->output_quantizer());
  EXPECT_EQ(c->output_quantizer()->kind, QuantizerKind::kMovingAverage);
  // relu / relu6 standing alone (no op before them to fuse into) are RELU /
  // RELU6 ops with their own range, as tfmot quantizes a ReLU's output; a
  // ReLU layer with another bound has no op and no config.
  for (const LayerPtr& l : {layers::ActivationLayer(Activation::kRelu), layers::ActivationLayer(Activation::kRelu6),
                            layers::ReLU(std::nullopt), layers::ReLU(6.0f)}) {
    QuantizeConfigPtr r = default_quantize_config(*l);
    ASSERT_TRUE(r && r->output_quantizer()) << l->name();
    EXPECT_EQ(r->output_quantizer()->kind, QuantizerKind::kMovingAverage) << l->name();
  }
  EXPECT_EQ(default_quantize_config(*layers::ReLU(4.0f)), nullptr);
  QuantizeConfigPtr lin = default_quantize_config(*layers::ActivationLayer(Activation::kLinear));
  ASSERT_TRUE(lin);
  EXPECT_FALSE(lin->output_quantizer().has_value());  // linear: pass-through
  QuantizeConfigPtr drop = default_quantize_config(*layers::Dropout(0.5f));
  ASSERT_TRUE(drop);
  EXPECT_FALSE(drop->output_quantizer().has_value());
}

}  // namespace
