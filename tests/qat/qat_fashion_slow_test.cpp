// Fashion-MNIST end to end (Slow): a briefly trained float seed model, QAT
// with the seed recipe, and the exact int8 evaluation close to float.
#include "qat_test_util.h"
#include "qlite/data.h"

namespace qlite::quant {
namespace {
using namespace testing;

TEST(QatFashionSlow, SeedRecipeKeepsInt8AccuracyCloseToFloat) {
  Dataset ds;
  try {
    ds = load_dataset("fashion-mnist");
  } catch (const Error& e) {
    GTEST_SKIP() << "Fashion-MNIST not available: " << e.what();
  }
  auto base = make_seed_model(ds.num_classes, 0);
  base->compile(Adam(), SparseCategoricalCrossentropy{true});
  base->set_threads(2);
  const Split train = take(ds.train, 0, 20000);
  FitOptions fo;
  fo.batch_size = 32;
  base->fit(train.x, train.y, fo);
  const double float_acc = base->evaluate(ds.test.x, ds.test.y, 256).accuracy;

  auto q = quantize_model(*base);
  AdamOptions ao;
  ao.learning_rate = 1e-3f;
  q->compile(Adam(ao), SparseCategoricalCrossentropy{true});
  q->set_threads(2);
  const Split seed = take(ds.train, 0, 1000);
  FitOptions qo;
  qo.batch_size = 500;
  qo.validation_split = 0.1;
  q->fit(seed.x, seed.y, qo);
  const double int8_acc = q->evaluate(ds.test.x, ds.test.y, 256).accuracy;
  std::printf("float %.4f, QAT int8 %.4f\n", float_acc, int8_acc);
  EXPECT_GT(float_acc, 0.8);
  EXPECT_NEAR(int8_acc, float_acc, 0.015);
}

}  // namespace
}  // namespace qlite::quant
