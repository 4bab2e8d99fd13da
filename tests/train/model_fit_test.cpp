// fit / evaluate / predict on small Dense models: learning, Keras's
// validation split, equivalence with a manual train_step loop, determinism.
#include <gtest/gtest.h>

#include "model_test_util.h"

namespace qlite {
namespace {

using testing::all_weights;
using testing::dense_model;
using testing::separable_data;
using testing::slice_rows;

TEST(Fit, LearnsLinearlySeparableData) {
  auto data = separable_data(512, 4, 3, 1);
  auto m = dense_model(4, 3, 2);
  m->compile(Adam({0.05f}), {true});
  FitOptions o;
  o.epochs = 30;
  const History h = m->fit(data.x, data.y, o);
  ASSERT_EQ(h.loss.size(), 30u);
  EXPECT_LT(h.loss.back(), h.loss.front());
  EXPECT_GT(h.images_per_second, 0);
  const EvalResult r = m->evaluate(data.x, data.y);
  EXPECT_EQ(r.samples, 512);
  EXPECT_GE(r.accuracy, 0.95);
}

TEST(Fit, EqualsManualTrainStepsWithPartialLastBatch) {
  auto data = separable_data(70, 5, 4, 3);  // batches of 32, 32, 6
  auto a = dense_model(5, 4, 9), b = dense_model(5, 4, 9);
  a->compile(SGD({0.1f, 0.9f}), {true});
  b->compile(SGD({0.1f, 0.9f}), {true});
  FitOptions o;
  o.epochs = 2;
  o.shuffle = false;
  const History h = a->fit(data.x, data.y, o);
  for (int epoch = 0; epoch < 2; ++epoch) {
    double loss_sum = 0;
    int64_t correct = 0;
    for (int64_t s = 0; s < 70; s += 32) {
      const int64_t e = std::min<int64_t>(70, s + 32);
      const auto [loss, ok] = b->train_step(slice_rows(data.x, s, e), slice_rows(data.y, s, e));
      loss_sum += loss * static_cast<double>(e - s);
      correct += ok;
    }
    EXPECT_DOUBLE_EQ(h.loss[epoch], loss_sum / 70) << "epoch " << epoch;
    EXPECT_DOUBLE_EQ(h.accuracy[epoch], correct / 70.0) << "epoch " << epoch;
  }
  EXPECT_EQ(all_weights(*a), all_weights(*b));
}

TEST(Fit, ValidationSplitTakesTheLastRowsBeforeShuffling) {
  auto data = separable_data(100, 4, 3, 5);
  auto a = dense_model(4, 3, 1), b = dense_model(4, 3, 1);
  a->compile(Adam(), {true});
  b->compile(Adam(), {true});
  FitOptions o;
  o.epochs = 3;
  o.batch_size = 16;
  o.seed = 11;
  o.validation_split = 0.25;  // Keras: split_at = int(100 * 0.75) = 75
  const History h = a->fit(data.x, data.y, o);
  EXPECT_EQ(h.train_samples, 75);
  EXPECT_EQ(h.val_samples, 25);
  ASSERT_EQ(h.val_loss.size(), 3u);
  ASSERT_EQ(h.val_accuracy.size(), 3u);

  // Training on the first 75 rows alone gives the same weights: the last 25
  // never reached the optimizer, and the shuffle only covered the first 75.
  o.validation_split = 0;
  b->fit(slice_rows(data.x, 0, 75), slice_rows(data.y, 0, 75), o);
  EXPECT_EQ(all_weights(*a), all_weights(*b));

  const EvalResult v = a->evaluate(slice_rows(data.x, 75, 100), slice_rows(data.y, 75, 100), 16);
  EXPECT_EQ(h.val_loss.back(), v.loss);
  EXPECT_EQ(h.val_accuracy.back(), v.accuracy);
}

TEST(Fit, ValidationSplitRoundsLikeKeras) {
  auto data = separable_data(10, 2, 2, 5);
  auto m = dense_model(2, 2, 1);
  m->compile(Adam(), {true});
  FitOptions o;
  o.validation_split = 0.33;  // int(10 * 0.67) = 6
  const History h = m->fit(data.x, data.y, o);
  EXPECT_EQ(h.train_samples, 6);
  EXPECT_EQ(h.val_samples, 4);
}

std::vector<float> fit_weights(uint64_t fit_seed, int threads) {
  auto data = separable_data(300, 64, 5, 8);
  auto m = dense_model(64, 5, 3);
  m->set_threads(threads);
  m->compile(Adam({0.01f}), {true});
  FitOptions o;
  o.epochs = 2;
  o.batch_size = 25;
  o.seed = fit_seed;
  m->fit(data.x, data.y, o);
  return all_weights(*m);
}

TEST(Fit, DeterministicForSeedAndThreadCount) {
  const auto a = fit_weights(5, 1);
  EXPECT_EQ(a, fit_weights(5, 1));
  EXPECT_NE(a, fit_weights(6, 1));  // a different shuffle
  const auto t2 = fit_weights(5, 2);
  EXPECT_EQ(t2, fit_weights(5, 2));
  ASSERT_EQ(t2.size(), a.size());
  for (size_t i = 0; i < a.size(); ++i) EXPECT_NEAR(t2[i], a[i], 1e-4) << i;
}

TEST(Fit, FitBuildsAnUnbuiltModelWithItsSeed) {
  auto data = separable_data(40, 3, 2, 1);
  auto weights_after = [&](uint64_t seed) {
    Sequential m;
    m.add(layers::Input({3}));
    m.add(layers::Dense(2));
    m.compile(SGD({0.0f}), {true});  // lr 0: the weights stay as built
    FitOptions o;
    o.seed = seed;
    m.fit(data.x, data.y, o);
    return all_weights(m);
  };
  EXPECT_EQ(weights_after(4), all_weights(*dense_model(3, 2, 4)));
}

TEST(Fit, ProgressReportsEveryBatchAndEpochEnd) {
  auto data = separable_data(50, 3, 2, 2);
  auto m = dense_model(3, 2, 1);
  m->compile(Adam(), {true});
  std::vector<FitProgress> seen;
  FitOptions o;
  o.epochs = 2;
  o.batch_size = 8;  // 40 training rows: 5 steps
  o.validation_split = 0.2;
  o.on_progress = [&](const FitProgress& p) { seen.push_back(p); };
  const History h = m->fit(data.x, data.y, o);
  ASSERT_EQ(seen.size(), 2u * (5 + 1));
  for (int e = 0; e < 2; ++e) {
    for (int s = 0; s < 5; ++s) {
      const FitProgress& p = seen[e * 6 + s];
      EXPECT_EQ(p.epoch, e);
      EXPECT_EQ(p.epochs, 2);
      EXPECT_EQ(p.step, s + 1);
      EXPECT_EQ(p.steps, 5);
      EXPECT_FALSE(p.epoch_end);
      EXPECT_FALSE(p.val_loss.has_value());
    }
    const FitProgress& end = seen[e * 6 + 5];
    EXPECT_TRUE(end.epoch_end);
    EXPECT_EQ(end.loss, h.loss[e]);
    EXPECT_EQ(end.accuracy, h.accuracy[e]);
    EXPECT_EQ(seen[e * 6 + 4].loss, h.loss[e]);  // running mean after the last batch
    ASSERT_TRUE(end.val_loss && end.val_accuracy);
    EXPECT_EQ(*end.val_loss, h.val_loss[e]);
    EXPECT_EQ(*end.val_accuracy, h.val_accuracy[e]);
  }
}

TEST(Fit, BadInputsAreErrors) {
  auto data = separable_data(10, 4, 3, 1);
  auto m = dense_model(4, 3, 1);
  FitOptions o;
  EXPECT_THROW(m->fit(data.x, data.y, o), Error);  // not compiled
  m->compile(Adam(), {true});
  try {
    m->fit(Tensor({10, 5}), data.y, o);
    FAIL();
  } catch (const Error& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("(None, 4)"), std::string::npos) << msg;
    EXPECT_NE(msg.find("(10, 5)"), std::string::npos) << msg;
  }
  EXPECT_THROW(m->fit(data.x, slice_rows(data.y, 0, 9), o), Error);
  EXPECT_THROW(m->fit(data.x, Tensor({10}), o), Error);  // float labels
  Tensor bad = data.y;
  bad.data<int32_t>()[7] = 3;
  try {
    m->fit(data.x, bad, o);
    FAIL();
  } catch (const Error& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("label 3"), std::string::npos) << msg;
    EXPECT_NE(msg.find("row 7"), std::string::npos) << msg;
  }
  o.validation_split = 1.0;
  EXPECT_THROW(m->fit(data.x, data.y, o), Error);
  o.validation_split = 0;
  o.batch_size = 0;
  EXPECT_THROW(m->fit(data.x, data.y, o), Error);
  EXPECT_THROW(m->predict(Tensor({2, 3})), Error);
}

TEST(Predict, MatchesPlainDenseComputationAcrossBatchSizes) {
  auto data = separable_data(37, 6, 4, 3);
  auto m = dense_model(6, 4, 12);
  Param* k = m->layer(1).params()[0];
  Param* b = m->layer(1).params()[1];
  ASSERT_EQ(k->value.shape(), (Shape{6, 4}));
  for (int bs : {1, 5, 32, 100}) {
    const Tensor out = m->predict(data.x, bs);
    ASSERT_EQ(out.shape(), (Shape{37, 4}));
    for (int64_t i = 0; i < 37; ++i)
      for (int c = 0; c < 4; ++c) {
        double s = b->value.f32()[c];
        for (int f = 0; f < 6; ++f) s += double{data.x.f32()[i * 6 + f]} * k->value.f32()[f * 4 + c];
        EXPECT_NEAR(out.f32()[i * 4 + c], s, 1e-5) << "row " << i << " batch " << bs;
      }
  }
}

}  // namespace
}  // namespace qlite
