// Simulated equals deployed: the seed model, trained briefly and then
// quantization-aware trained briefly in the test, predicts (inference mode:
// QAT's exact integer evaluation) the same class as qlite's runtime on the
// int8 .tflite converted from it, on every test image. The fast test checks
// 2,000 images; the *Slow* one all 10,000.
#include "convert_test_util.h"
#include "qlite/quant/qat.h"

namespace qlite::test {
namespace {

using convert::IoType;
using convert::Mode;

std::unique_ptr<Model> qat_seed(const Dataset& ds) {
  auto base = train_seed(ds, 3000);
  auto q = quant::quantize_model(*base);
  q->compile(Adam(), SparseCategoricalCrossentropy{true});
  FitOptions fo;
  fo.epochs = 1;
  fo.batch_size = 32;
  fo.seed = 7;
  const Split part = take(ds.train, 3000, 5000);
  q->fit(part.x, part.y, fo);
  return q;
}

const Model& brief_qat() {
  static std::unique_ptr<Model> m = qat_seed(*fashion());
  return *m;
}

void expect_same_predictions(int64_t images) {
  REQUIRE_FASHION(ds);
  Model& q = const_cast<Model&>(brief_qat());
  const auto r = convert_with(q, Mode::kInt8);  // no representative data: learned ranges
  EXPECT_TRUE(r.quantization_aware);
  EXPECT_TRUE(r.integer_only);
  const Tensor x = rows(ds->test.x, 0, images);
  const Tensor sim = q.predict(x, 256);
  const RunOutput dep = run_qlite(r.bytes, x);
  ASSERT_EQ(dep.values.size(), static_cast<size_t>(sim.numel()));
  int64_t same = 0, equal_values = 0;
  for (int64_t i = 0; i < images; ++i) {
    const bool ok = argmax(sim.f32() + i * 10, 10) == argmax(dep.values.data() + i * 10, 10);
    same += ok;
    if (!ok && images - same < 5) ADD_FAILURE() << "image " << i << " predicted differently";
  }
  for (int64_t k = 0; k < sim.numel(); ++k) equal_values += sim.f32()[k] == dep.values[k];
  EXPECT_EQ(same, images);
  // The logits themselves are the same dequantized integers.
  EXPECT_EQ(equal_values, sim.numel());

  // int8 and uint8 I/O give the same integers.
  const auto r8 = convert_with(q, Mode::kInt8, IoType::kInt8);
  const RunOutput d8 = run_qlite(r8.bytes, rows(x, 0, std::min<int64_t>(images, 500)));
  const auto& g = r8.model.subgraphs[0];
  const auto& oq = g.tensors[g.outputs[0]].quantization;
  for (size_t k = 0; k < d8.raw.size(); ++k)
    EXPECT_EQ(oq.scale[0] * static_cast<float>(d8.raw[k] - oq.zero_point[0]), dep.values[k]) << k;
}

TEST(QatDeploy, SameArgmaxOnTwoThousandTestImages) { expect_same_predictions(2000); }

TEST(QatDeploy, SameArgmaxOnAllTestImagesSlow) { expect_same_predictions(10000); }

TEST(QatDeploy, OnlyInt8ModeForQatModels) {
  REQUIRE_FASHION(ds);
  EXPECT_THROW(convert_with(brief_qat(), Mode::kFloat32), Error);
}

// Selective annotation: only the Dense layer is quantized; the conv stays float
// with a QUANTIZE in front of the dense region. Integer I/O is then an error
// naming the float op.
TEST(QatDeploy, LayersLeftFloatStayFloatWithBoundaries) {
  REQUIRE_FASHION(ds);
  auto base = train_seed(*ds, 2000);
  auto annotated = clone_model(*base, [](const Layer& l) -> LayerPtr {
    LayerPtr c(l.clone().release());
    return l.type() == "Dense" ? quant::quantize_annotate_layer(c) : c;
  });
  auto q = quant::quantize_apply(*annotated);
  const auto r = convert_with(*q, Mode::kInt8);
  EXPECT_FALSE(r.integer_only);
  std::vector<std::string> ops;
  for (const auto& op : r.ops) ops.push_back(op.op);
  // The Flatten folds into FULLY_CONNECTED through the input quantizer: the
  // QUANTIZE reads the pool output as it is.
  EXPECT_EQ(ops, (std::vector<std::string>{"RESHAPE", "CONV_2D", "MAX_POOL_2D", "QUANTIZE", "FULLY_CONNECTED",
                                           "DEQUANTIZE"}));
  ASSERT_FALSE(r.float_ops.empty());
  EXPECT_NE(r.float_ops[0].find("RESHAPE"), std::string::npos);
  try {
    convert_with(*q, Mode::kInt8, IoType::kInt8);
    ADD_FAILURE() << "no error for int8 I/O with float layers";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("float"), std::string::npos) << e.what();
  }
  // The float conv is computed in a different order by training and runtime,
  // so an activation at a rounding boundary may quantize differently; the
  // predictions still agree almost everywhere.
  const Tensor x = rows(ds->test.x, 0, 1000);
  const Tensor sim = q->predict(x, 256);
  const RunOutput dep = run_qlite(r.bytes, x);
  int same = 0;
  for (int i = 0; i < 1000; ++i) same += argmax(sim.f32() + i * 10, 10) == argmax(dep.values.data() + i * 10, 10);
  EXPECT_GE(same, 995);
}

}  // namespace
}  // namespace qlite::test
