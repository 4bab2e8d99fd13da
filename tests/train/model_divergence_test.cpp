// Diverged training is never a success: a non-finite loss stops fit() with an
// Error (Keras' TerminateOnNaN), float and QAT alike; non-finite weights are
// never saved; optimizers refuse non-finite learning rates.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <limits>

#include "model_test_util.h"
#include "qlite/quant/qat.h"

namespace qlite {
namespace {

using testing::separable_data;

std::unique_ptr<Sequential> two_dense(uint64_t seed) {
  auto m = std::make_unique<Sequential>();
  m->add(layers::Input({4}));
  m->add(layers::Dense(8));
  m->add(layers::Dense(3));
  m->build(seed);
  return m;
}

std::string fit_error(Model& m, const testing::Data& d) {
  FitOptions o;
  o.epochs = 3;
  o.batch_size = 16;
  try {
    m.fit(d.x, d.y, o);
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

TEST(Divergence, HugeLearningRateStopsFloatFit) {
  const auto d = separable_data(128, 4, 3, 1);
  auto m = two_dense(2);
  m->compile(Adam({1e30f}), {true});
  const std::string msg = fit_error(*m, d);
  EXPECT_NE(msg.find("training diverged at epoch 1 step "), std::string::npos) << msg;
  EXPECT_NE(msg.find("lower the learning rate"), std::string::npos) << msg;
  EXPECT_EQ(msg.find('\n'), std::string::npos) << msg;
}

TEST(Divergence, HugeLearningRateStopsQatFit) {
  quant::register_qat_layers();
  const auto d = separable_data(128, 4, 3, 1);
  auto base = two_dense(2);
  auto q = quant::quantize_model(*base);
  q->compile(SGD({1e30f}), {true});
  const std::string msg = fit_error(*q, d);
  EXPECT_NE(msg.find("training diverged"), std::string::npos) << msg;
}

TEST(Divergence, FiniteTrainingIsUnaffected) {
  const auto d = separable_data(128, 4, 3, 1);
  auto m = two_dense(2);
  m->compile(Adam({0.01f}), {true});
  EXPECT_EQ(fit_error(*m, d), "");
  EXPECT_EQ(first_non_finite_param(*m), "");
}

TEST(Divergence, SaveModelRefusesNonFiniteWeightsAndWritesNothing) {
  auto m = two_dense(2);
  Param* kernel = m->layer(2).params()[0];
  kernel->value.f32()[5] = std::numeric_limits<float>::quiet_NaN();
  std::string tmpl = (std::filesystem::temp_directory_path() / "qlite_div_XXXXXX").string();
  const std::filesystem::path dir = ::mkdtemp(tmpl.data());
  try {
    save_model(*m, (dir / "m").string());
    FAIL() << "save_model accepted a NaN weight";
  } catch (const Error& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("layer '" + m->layer(2).name() + "' parameter '" + kernel->name + "' holds nan"),
              std::string::npos)
        << msg;
  }
  EXPECT_TRUE(std::filesystem::is_empty(dir));
  std::filesystem::remove_all(dir);
}

TEST(Divergence, OptimizersRefuseNonFiniteLearningRates) {
  EXPECT_THROW(Adam({std::numeric_limits<float>::infinity()}), Error);
  EXPECT_THROW(Adam({std::numeric_limits<float>::quiet_NaN()}), Error);
  EXPECT_THROW(SGD({std::numeric_limits<float>::infinity()}), Error);
}

}  // namespace
}  // namespace qlite
