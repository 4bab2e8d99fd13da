// LastValue / MovingAverage / AllValues quantizers: hand-computed range
// sequences (tfmot semantics), training vs inference, per-channel, degenerate data.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <vector>

#include "qlite/quant.h"

namespace qlite::quant {
namespace {

Tensor make(const Shape& shape, const std::vector<float>& v) {
  Tensor t(shape);
  for (size_t i = 0; i < v.size(); ++i) t.f32()[i] = v[i];
  return t;
}

TEST(MovingAverageQuantizer, EmaSequenceHandComputed) {
  Quantizer q = Quantizer::moving_average();
  ASSERT_EQ(q.min_values(), (std::vector<float>{-6.0f}));
  ASSERT_EQ(q.max_values(), (std::vector<float>{6.0f}));
  Tensor y;
  // Inference does not move the range.
  q.forward(make({2}, {-100.0f, 100.0f}), y, false);
  EXPECT_EQ(q.min_values()[0], -6.0f);
  EXPECT_EQ(q.max_values()[0], 6.0f);
  // Batch [-1, 2]: min = -6 - (-6 + 1) * 0.001 = -5.995; max = 6 - (6 - 2) * 0.001 = 5.996.
  q.forward(make({3}, {-1.0f, 0.5f, 2.0f}), y, true);
  EXPECT_NEAR(q.min_values()[0], -5.995f, 1e-6);
  EXPECT_NEAR(q.max_values()[0], 5.996f, 1e-6);
  // Batch [0.5, 3] -> range [0, 3]: min = -5.995 * 0.999 = -5.989005; max = 5.996 - 2.996 * 0.001 = 5.993004.
  q.forward(make({2}, {0.5f, 3.0f}), y, true);
  EXPECT_NEAR(q.min_values()[0], -5.989005f, 1e-6);
  EXPECT_NEAR(q.max_values()[0], 5.993004f, 1e-6);
  // The forward used the updated range: 100 clamps to its nudged max.
  q.forward(make({1}, {100.0f}), y, false);
  const QuantParams p = q.params()[0];
  EXPECT_FLOAT_EQ(y.f32()[0], p.nudged_max);
  EXPECT_NEAR(p.nudged_max, 5.993004f, p.scale);
  // A batch with nothing finite leaves the average alone.
  const float before = q.min_values()[0];
  q.forward(make({2}, {std::nanf(""), std::numeric_limits<float>::infinity()}), y, true);
  EXPECT_EQ(q.min_values()[0], before);
  EXPECT_EQ(y.f32()[0], 0.0f);  // NaN -> real 0
}

TEST(MovingAverageQuantizer, ConvergesToBatchRange) {
  Quantizer q = Quantizer::moving_average();
  Tensor y;
  const Tensor x = make({2}, {-0.5f, 1.5f});
  for (int i = 0; i < 20000; ++i) q.observe(x);
  EXPECT_NEAR(q.min_values()[0], -0.5f, 1e-3);
  EXPECT_NEAR(q.max_values()[0], 1.5f, 1e-3);
}

TEST(LastValueQuantizer, PerChannelSymmetricWeights) {
  // HWIO-like [1, 2, 3] with 3 output channels on the last axis.
  const Tensor w = make({1, 2, 3}, {0.5f, -2.0f, 0.0f, -1.0f, 1.0f, 0.0f});
  Quantizer q = Quantizer::last_value(kWeightScheme, /*per_axis=*/true, -1);
  EXPECT_TRUE(q.min_values().empty());
  Tensor y;
  q.forward(w, y, true);
  // Channel ranges: +-1, +-2, and [0, 0] for the all-zero channel.
  EXPECT_EQ(q.min_values(), (std::vector<float>{-1.0f, -2.0f, 0.0f}));
  EXPECT_EQ(q.max_values(), (std::vector<float>{1.0f, 2.0f, 0.0f}));
  const std::vector<QuantParams> p = q.params();
  EXPECT_FLOAT_EQ(p[0].scale, 2.0f / 254.0f);
  EXPECT_FLOAT_EQ(p[1].scale, 4.0f / 254.0f);
  EXPECT_TRUE(p[2].degenerate);
  // 0.5 on +-1: 0.5 / (2/254) = 63.5 -> 64 -> 64 * 2/254; the extremes are exact.
  EXPECT_FLOAT_EQ(y.f32()[0], 64 * 2.0f / 254.0f);
  EXPECT_FLOAT_EQ(y.f32()[1], -2.0f);
  EXPECT_FLOAT_EQ(y.f32()[3], -1.0f);
  EXPECT_EQ(y.f32()[2], 0.0f);
  // The next tensor replaces the range.
  q.forward(make({1, 2, 3}, {0.1f, 0.1f, 0.1f, 0.0f, 0.0f, 0.0f}), y, true);
  EXPECT_FLOAT_EQ(q.max_values()[1], 0.1f);
  EXPECT_THROW(q.forward(make({4}, {1, 2, 3, 4}), y, true), Error);  // 4 channels now
}

TEST(LastValueQuantizer, IgnoresNonFiniteAndBackwardIsSte) {
  Quantizer q = Quantizer::last_value(kActivationScheme);
  const Tensor x = make({4}, {std::nanf(""), -1.0f, 3.0f, std::numeric_limits<float>::infinity()});
  Tensor y, dx;
  q.forward(x, y, true);
  EXPECT_EQ(q.min_values()[0], -1.0f);
  EXPECT_EQ(q.max_values()[0], 3.0f);
  const Tensor dy = make({4}, {1.0f, 1.0f, 1.0f, 1.0f});
  q.backward(x, dy, dx);
  EXPECT_EQ(dx.f32()[0], 0.0f);  // NaN
  EXPECT_EQ(dx.f32()[1], 1.0f);
  EXPECT_EQ(dx.f32()[3], 0.0f);  // Inf is outside the range
  for (int i = 0; i < 4; ++i) EXPECT_FALSE(std::isnan(y.f32()[i]));
}

TEST(AllValuesQuantizer, RunningMinMax) {
  Quantizer q = Quantizer::all_values();
  EXPECT_EQ(q.min_values()[0], 0.0f);
  EXPECT_EQ(q.max_values()[0], 0.0f);
  Tensor y;
  q.forward(make({2}, {-1.0f, 2.0f}), y, true);
  q.forward(make({2}, {0.5f, 1.0f}), y, true);
  EXPECT_EQ(q.min_values()[0], -1.0f);
  EXPECT_EQ(q.max_values()[0], 2.0f);
  q.forward(make({2}, {-3.0f, 0.1f}), y, true);
  EXPECT_EQ(q.min_values()[0], -3.0f);
  EXPECT_EQ(q.max_values()[0], 2.0f);
  q.forward(make({1}, {100.0f}), y, false);
  EXPECT_EQ(q.max_values()[0], 2.0f);
}

TEST(Quantizer, AllZeroDataIsDegenerateNotNan) {
  Quantizer q = Quantizer::all_values();
  Tensor y, dx;
  const Tensor zeros(Shape{5});
  q.forward(zeros, y, true);
  for (int i = 0; i < 5; ++i) EXPECT_EQ(y.f32()[i], 0.0f);
  EXPECT_TRUE(q.params()[0].degenerate);
  const Tensor dy = make({5}, {1, 2, 3, 4, 5});
  q.backward(zeros, dy, dx);
  for (int i = 0; i < 5; ++i) EXPECT_EQ(dx.f32()[i], dy.f32()[i]);
}

TEST(Quantizer, SetRangeValidates) {
  Quantizer q = Quantizer::moving_average();
  q.set_range({-1.0f}, {3.0f});
  EXPECT_EQ(q.params()[0].zero_point, -64);
  EXPECT_THROW(q.set_range({-1.0f, 0.0f}, {1.0f, 1.0f}), Error);
  EXPECT_THROW(q.set_range({std::nanf("")}, {1.0f}), Error);
}

}  // namespace
}  // namespace qlite::quant
