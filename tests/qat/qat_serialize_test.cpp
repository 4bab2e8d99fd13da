// Save / load of quantized models: quantizer state travels, predictions are
// bit-identical, model.json round-trips the wrappers.
#include <filesystem>

#include "qat_test_util.h"

namespace qlite::quant {
namespace {
using namespace testing;

TEST(QatSerialize, SaveLoadIsBitIdentical) {
  auto m = small_model();
  auto q = quantize_model(*m);
  q->compile(Adam(), SparseCategoricalCrossentropy{true});
  const Tensor x = random_tensor({12, 8, 8}, 4);
  FitOptions fo;
  fo.batch_size = 4;
  fo.epochs = 2;
  q->fit(x, labels({0, 1, 2, 0, 1, 2, 0, 1, 2, 0, 1, 2}), fo);
  const Tensor before = q->predict(x);

  const auto dir = std::filesystem::temp_directory_path() / ("qlite_qat_" + std::to_string(::getpid()));
  save_model(*q, dir.string());
  auto back = load_model(dir.string());
  std::filesystem::remove_all(dir);
  const Tensor after = back->predict(x);
  ASSERT_EQ(after.shape(), before.shape());
  for (int64_t i = 0; i < after.numel(); ++i) ASSERT_EQ(after.f32()[i], before.f32()[i]) << i;
  // Every param, quantizer state included, came back.
  for (size_t i = 0; i < q->num_layers(); ++i) {
    EXPECT_EQ(back->layer(i).name(), q->layer(i).name());
    EXPECT_EQ(back->layer(i).type(), q->layer(i).type());
    auto a = q->layer(i).params();
    auto b = back->layer(i).params();
    ASSERT_EQ(a.size(), b.size());
    for (size_t k = 0; k < a.size(); ++k) {
      EXPECT_EQ(a[k]->name, b[k]->name);
      EXPECT_EQ(a[k]->trainable, b[k]->trainable);
      for (int64_t e = 0; e < a[k]->value.numel(); ++e) ASSERT_EQ(a[k]->value.f32()[e], b[k]->value.f32()[e]);
    }
  }
  // The EMA did move during fit (so the check above covers real state).
  EXPECT_NE(param(*back->find_layer("quant_dense"), "output_max").value.f32()[0], 6.0f);
  EXPECT_NE(param(*back->find_layer("quantize_layer"), "max").value.f32()[0], 0.0f);
  EXPECT_EQ(back->to_json(), q->to_json());
}

TEST(QatSerialize, CustomConfigSurvivesJson) {
  auto m = small_model();
  auto annotated = clone_model(*m, [](const Layer& l) -> LayerPtr {
    LayerPtr c(l.clone());
    return l.type() == "Dense" ? quantize_annotate_layer(c, quantize_config_with_bits(l, 4, 8)) : c;
  });
  auto q = quantize_apply(*annotated);
  auto back = model_from_json(q->to_json());
  back->build(0);
  const auto& w = dynamic_cast<const QuantizeWrapper&>(*back->find_layer("quant_dense"));
  EXPECT_EQ(w.config().weight_quantizers().at(0).quantizer.options.scheme.num_bits, 4);
  // Annotated models round-trip too.
  auto a2 = model_from_json(annotated->to_json());
  EXPECT_EQ(a2->to_json(), annotated->to_json());
}

}  // namespace
}  // namespace qlite::quant
