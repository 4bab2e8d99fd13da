// quantize_model / quantize_annotate_layer / quantize_apply: which layers get
// wrapped, where QuantizeLayers go, the original stays untouched, errors.
#include "qat_test_util.h"

namespace qlite::quant {
namespace {
using namespace testing;

std::vector<std::string> names(const Model& m) {
  std::vector<std::string> v;
  for (const Node& n : m.nodes()) v.push_back(n.layer->name() + ":" + n.layer->type());
  return v;
}

TEST(QuantizeModel, WrapsEverySupportedLayerAndQuantizesTheInput) {
  auto m = small_model();
  auto q = quantize_model(*m);
  const std::vector<std::string> want = {
      m->layer(0).name() + ":InputLayer",  "quantize_layer:QuantizeLayer",
      "quant_reshape:QuantizeWrapper",     "quant_conv2d:QuantizeWrapper",
      "quant_max_pooling2d:QuantizeWrapper", "quant_flatten:QuantizeWrapper",
      "quant_dense:QuantizeWrapper"};
  EXPECT_EQ(names(*q), want);
  EXPECT_EQ(q->class_name(), "Sequential");
  EXPECT_TRUE(q->is_built());
  // Every node reads the one before it (a chain).
  for (size_t i = 1; i < q->nodes().size(); ++i) EXPECT_EQ(q->nodes()[i].inputs, std::vector<int>{int(i) - 1});
  // summary() cuts the "Layer (type)" column at 28 characters, as Keras does.
  const std::string s = q->summary();
  EXPECT_NE(s.find("quant_dense (QuantizeWrapp"), std::string::npos) << s;
  EXPECT_NE(s.find("quant_conv2d (QuantizeWrap"), std::string::npos) << s;
  EXPECT_NE(s.find("quantize_layer (QuantizeLay"), std::string::npos) << s;
}

TEST(QuantizeModel, LeavesTheOriginalUntouched) {
  auto m = small_model();
  std::vector<Tensor> before;
  for (const Node& n : m->nodes())
    for (Param* p : n.layer->params()) before.push_back(p->value);
  const std::vector<std::string> names_before = names(*m);
  auto q = quantize_model(*m);
  q->compile(Adam(), SparseCategoricalCrossentropy{true});
  const Tensor x = random_tensor({6, 8, 8}, 3);
  FitOptions fo;
  fo.batch_size = 3;
  q->fit(x, labels({0, 1, 2, 0, 1, 2}), fo);
  EXPECT_EQ(names(*m), names_before);
  size_t i = 0;
  for (const Node& n : m->nodes())
    for (Param* p : n.layer->params()) {
      ASSERT_EQ(p->value.shape(), before[i].shape());
      for (int64_t k = 0; k < p->value.numel(); ++k) ASSERT_EQ(p->value.f32()[k], before[i].f32()[k]);
      ++i;
    }
  // ... while the quantized copy's kernel did train.
  const float* w0 = before[before.size() - 2].f32();
  const Tensor& w1 = param(*q->find_layer("quant_dense"), "kernel").value;
  bool moved = false;
  for (int64_t k = 0; k < w1.numel(); ++k) moved = moved || w1.f32()[k] != w0[k];
  EXPECT_TRUE(moved);
}

TEST(QuantizeApply, OnlyTheAnnotatedDenseIsQuantized) {
  auto m = small_model();
  auto annotated = clone_model(*m, [](const Layer& l) -> LayerPtr {
    LayerPtr c(l.clone());
    return l.type() == "Dense" ? quantize_annotate_layer(c) : c;
  });
  auto q = quantize_apply(*annotated);
  const std::vector<std::string> want = {
      m->layer(0).name() + ":InputLayer", "reshape:Reshape", "conv2d:Conv2D", "max_pooling2d:MaxPooling2D",
      "flatten:Flatten", "quantize_layer:QuantizeLayer", "quant_dense:QuantizeWrapper"};
  EXPECT_EQ(names(*q), want);
  // The float part keeps the original weights and the QuantizeLayer reads the Flatten.
  EXPECT_EQ(q->nodes()[5].inputs, std::vector<int>{4});
  const Tensor& k0 = param(m->layer(2), "kernel").value;
  const Tensor& k1 = param(q->layer(2), "kernel").value;
  for (int64_t k = 0; k < k0.numel(); ++k) ASSERT_EQ(k0.f32()[k], k1.f32()[k]);
  EXPECT_FALSE(layer_output_quant(q->layer(4)).has_value());
  EXPECT_TRUE(layer_output_quant(q->layer(5)).has_value());
}

TEST(QuantizeApply, NothingAnnotatedIsAnError) {
  auto m = small_model();
  EXPECT_NE(error_of([&] { quantize_apply(*m); }).find("no annotated layer"), std::string::npos);
}

// A layer the default registry does not know.
class Doubler final : public Layer {
 public:
  explicit Doubler(std::string name) : Layer(std::move(name)) {}
  std::string type() const override { return "Doubler"; }
  std::string default_name_stem() const override { return "doubler"; }
  Shape build(std::span<const Shape> s, Rng&) override {
    mark_built(s, s[0]);
    return s[0];
  }
  void forward(std::span<const Tensor* const> in, Tensor& out, const RunContext&) override {
    out.resize(in[0]->shape());
    for (int64_t i = 0; i < out.numel(); ++i) out.f32()[i] = 2.0f * in[0]->f32()[i];
  }
  void backward(std::span<const Tensor* const>, const Tensor&, const Tensor& dout, std::span<Tensor* const> din,
                const RunContext&) override {
    if (din.empty() || !din[0]) return;
    din[0]->resize(dout.shape());
    for (int64_t i = 0; i < dout.numel(); ++i) din[0]->f32()[i] = 2.0f * dout.f32()[i];
  }
  json get_config() const override { return {{"name", name()}}; }
  std::unique_ptr<Layer> clone() const override { return std::make_unique<Doubler>(*this); }
};

TEST(QuantizeModel, UnsupportedLayerErrorNamesLayerTypeAndTheWayOut) {
  Sequential m;
  m.add(layers::Input({4}));
  m.add(std::make_shared<Doubler>("twice"));
  m.add(layers::Dense(2));
  m.build(0);
  const std::string e = error_of([&] { quantize_model(m); });
  EXPECT_NE(e.find("'twice'"), std::string::npos) << e;
  EXPECT_NE(e.find("Doubler"), std::string::npos) << e;
  EXPECT_NE(e.find("quantize_annotate_layer(layer, config)"), std::string::npos) << e;
  // Selective annotation around it works: the Doubler stays float.
  auto annotated = clone_model(m, [](const Layer& l) -> LayerPtr {
    LayerPtr c(l.clone());
    return l.type() == "Dense" ? quantize_annotate_layer(c) : c;
  });
  auto q = quantize_apply(*annotated);
  EXPECT_EQ(q->layer(1).type(), "Doubler");
  EXPECT_EQ(q->layer(3).name(), "quant_dense");
}

TEST(QuantizeConfig, JsonRoundTrip) {
  auto m = small_model();
  QuantizeConfigPtr c = quantize_config_with_bits(m->layer(2), 4, 6);
  const json j = quantize_config_to_json(*c);
  QuantizeConfigPtr back = quantize_config_from_json(j);
  EXPECT_EQ(quantize_config_to_json(*back), j);
  ASSERT_EQ(back->weight_quantizers().size(), 1u);
  EXPECT_EQ(back->weight_quantizers()[0].quantizer.options.scheme.num_bits, 4);
  EXPECT_TRUE(back->weight_quantizers()[0].quantizer.options.per_axis);
  EXPECT_EQ(back->output_quantizer()->options.scheme.num_bits, 6);
  EXPECT_NE(error_of([] { quantize_config_from_json({{"class_name", "Nope"}, {"config", json::object()}}); })
                .find("Nope"),
            std::string::npos);
}

// A quantizer field read from a model.json is untrusted: a float where an
// int belongs (9e128 as num_bits, found by the model_json fuzzer) was an
// undefined float-to-int conversion; now every bad value is an Error naming
// the field, and fields of the right type and range still read.
TEST(QuantizerSpec, FromJsonRefusesFieldsOfTheWrongTypeOrRange) {
  const json good = QuantizerSpec::from_json({{"class_name", "LastValueQuantizer"}, {"num_bits", 7}, {"axis", -1},
                                              {"per_axis", true}, {"symmetric", true}, {"narrow_range", true}})
                        .to_json();
  EXPECT_EQ(QuantizerSpec::from_json(good).options.scheme.num_bits, 7);
  EXPECT_EQ(QuantizerSpec::from_json(good).options.axis, -1);
  const std::vector<std::pair<json, std::string>> bad = {
      {{{"num_bits", 9e128}}, "\"num_bits\" has the wrong type"},
      {{{"num_bits", 8.0}}, "\"num_bits\" has the wrong type"},
      {{{"num_bits", 4294967296LL}}, "\"num_bits\" is out of range"},
      {{{"num_bits", 18446744073709551615ULL}}, "\"num_bits\" is out of range"},
      {{{"axis", -4294967296LL}}, "\"axis\" is out of range"},
      {{{"per_axis", 1}}, "\"per_axis\" has the wrong type"},
      {{{"ema_decay", "0.9"}}, "\"ema_decay\" has the wrong type"},
  };
  for (const auto& [fields, want] : bad) {
    json j = fields;
    j["class_name"] = "LastValueQuantizer";
    EXPECT_NE(error_of([&] { QuantizerSpec::from_json(j); }).find(want), std::string::npos) << j.dump();
  }
}

}  // namespace
}  // namespace qlite::quant
