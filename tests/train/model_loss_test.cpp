// Sparse categorical cross-entropy: hand-computed values, finite differences,
// label validation; arg-max accuracy.
#include <gtest/gtest.h>

#include <cmath>

#include "qlite/train/model.h"

namespace qlite {
namespace {

Tensor floats(Shape s, std::vector<float> v) {
  Tensor t(s);
  for (size_t i = 0; i < v.size(); ++i) t.f32()[i] = v[i];
  return t;
}

Tensor ints(std::vector<int32_t> v) {
  Tensor t({static_cast<int64_t>(v.size())}, DType::kInt32);
  for (size_t i = 0; i < v.size(); ++i) t.data<int32_t>()[i] = v[i];
  return t;
}

TEST(Loss, FromLogitsByHand) {
  Tensor z = floats({2, 3}, {1, 2, 3, 0, 0, 0});
  Tensor y = ints({2, 1});
  Tensor d;
  const double loss = sparse_categorical_crossentropy(z, y, true, &d);
  // Row 0: log(e + e^2 + e^3) - 3 = 0.4076059644; row 1: log 3 = 1.0986122887.
  EXPECT_NEAR(loss, (0.4076059644 + 1.0986122887) / 2, 1e-6);
  // softmax(1, 2, 3) = (0.0900306, 0.2447285, 0.6652410); gradient = (p - onehot) / 2.
  const float want[] = {0.0450153f, 0.1223642f, (0.6652410f - 1) / 2,
                        1.0f / 6,   (1.0f / 3 - 1) / 2, 1.0f / 6};
  for (int i = 0; i < 6; ++i) EXPECT_NEAR(d.f32()[i], want[i], 1e-6) << i;
}

TEST(Loss, FromProbabilitiesByHand) {
  Tensor p = floats({2, 3}, {0.2f, 0.3f, 0.5f, 0.1f, 0.7f, 0.2f});
  Tensor y = ints({0, 1});
  Tensor d;
  const double loss = sparse_categorical_crossentropy(p, y, false, &d);
  EXPECT_NEAR(loss, (1.6094379124 + 0.3566749439) / 2, 1e-6);  // (-log 0.2 - log 0.7) / 2
  // Keras takes log(p) as logits: d/dp_j = (1/sum(p) - [j == y]/p_y) / rows, sum(p) = 1 here.
  const float want[] = {-2.0f, 0.5f, 0.5f, 0.5f, (1 - 1 / 0.7f) / 2, 0.5f};
  for (int i = 0; i < 6; ++i) EXPECT_NEAR(d.f32()[i], want[i], 1e-5) << i;
}

TEST(Loss, ProbabilitiesAreClippedLikeKeras) {
  Tensor p = floats({1, 3}, {0.0f, 1.0f, 0.0f});
  Tensor d;
  // -log(1e-7) + log(1e-7 + (1 - 1e-7) + 1e-7) = 16.1180956510 + ~1e-7
  EXPECT_NEAR(sparse_categorical_crossentropy(p, ints({0}), false, &d), 16.1180957, 1e-5);
  EXPECT_EQ(d.f32()[0], 0.0f);  // clipped: no gradient, as tf.clip_by_value
  EXPECT_EQ(d.f32()[1], 0.0f);
  EXPECT_EQ(d.f32()[2], 0.0f);
  EXPECT_TRUE(std::isfinite(sparse_categorical_crossentropy(p, ints({1}), false, nullptr)));
}

void finite_difference_check(bool from_logits) {
  Rng rng(42);
  const int rows = 4, classes = 5;
  Tensor z({rows, classes});
  for (float& v : z.span_f32()) v = from_logits ? rng.uniform(-3, 3) : rng.uniform(0.05f, 0.9f);
  Tensor y = ints({0, 4, 2, 2});
  Tensor d;
  sparse_categorical_crossentropy(z, y, from_logits, &d);
  const float h = 1e-3f;
  for (int i = 0; i < rows * classes; ++i) {
    Tensor zp = z, zm = z;
    zp.f32()[i] += h;
    zm.f32()[i] -= h;
    const double fd = (sparse_categorical_crossentropy(zp, y, from_logits, nullptr) -
                       sparse_categorical_crossentropy(zm, y, from_logits, nullptr)) /
                      (static_cast<double>(zp.f32()[i]) - zm.f32()[i]);
    EXPECT_NEAR(d.f32()[i], fd, 1e-3 * std::max(1.0, std::abs(fd))) << "element " << i;
  }
}

TEST(Loss, GradientMatchesFiniteDifferencesLogits) { finite_difference_check(true); }
TEST(Loss, GradientMatchesFiniteDifferencesProbabilities) { finite_difference_check(false); }

TEST(Loss, LabelOutOfRangeIsAnErrorNamingValueAndRow) {
  Tensor z({3, 4});
  for (int32_t bad : {4, -1}) {
    try {
      sparse_categorical_crossentropy(z, ints({0, 3, bad}), true, nullptr);
      FAIL() << "no error for label " << bad;
    } catch (const Error& e) {
      const std::string msg = e.what();
      EXPECT_NE(msg.find("label " + std::to_string(bad)), std::string::npos) << msg;
      EXPECT_NE(msg.find("row 2"), std::string::npos) << msg;
    }
  }
  EXPECT_THROW(sparse_categorical_crossentropy(z, ints({0, 1}), true, nullptr), Error);  // count
  Tensor yf({3});
  EXPECT_THROW(sparse_categorical_crossentropy(z, yf, true, nullptr), Error);  // dtype
}

TEST(Loss, LargeLogitsStayFinite) {
  Tensor z = floats({1, 3}, {1000.0f, -1000.0f, 0.0f});
  Tensor d;
  EXPECT_NEAR(sparse_categorical_crossentropy(z, ints({1}), true, &d), 2000.0, 1e-3);
  EXPECT_NEAR(d.f32()[0], 1.0f, 1e-6);
  EXPECT_NEAR(d.f32()[1], -1.0f, 1e-6);
}

TEST(Accuracy, ArgMaxFirstMaximumWins) {
  Tensor z = floats({3, 3}, {1, 1, 0, 0, 2, 2, -1, -3, -2});
  EXPECT_EQ(count_correct(z, ints({0, 1, 0})), 3);
  EXPECT_EQ(count_correct(z, ints({1, 2, 2})), 0);
}

}  // namespace
}  // namespace qlite
