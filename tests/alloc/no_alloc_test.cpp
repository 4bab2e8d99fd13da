// Once warmed up, a training step and an inference batch allocate nothing:
// operator new is counted (counting_new.h).
#include <new>

#include <gtest/gtest.h>

#include "counting_new.h"
#include "qlite/train.h"

using namespace qlite;
using alloc_testing::allocations_during;

namespace {
void fill(Tensor& x, Tensor& y, uint64_t seed) {
  Rng rng(seed);
  for (float& v : x.span_f32()) v = rng.uniform();
  for (int64_t i = 0; i < y.numel(); ++i) y.data<int32_t>()[i] = static_cast<int32_t>(rng.below(10));
}
}  // namespace

// The zero counts below mean something only if the counter sees both forms.
TEST(NoAlloc, CounterSeesPlainAndNothrowNew) {
  int* volatile sink = nullptr;  // volatile: the allocations cannot be elided
  const long n = allocations_during([&] {
    sink = new int(1);
    delete sink;
    sink = new (std::nothrow) int(2);
    delete sink;
  });
  EXPECT_EQ(n, 2);
  EXPECT_EQ(allocations_during([] {}), 0);
}

TEST(NoAlloc, SeedTrainStepAndPredictAfterWarmUp) {
  for (int threads : {1, 2}) {
    auto model = make_seed_model(10, 1);
    model->compile(Adam(), SparseCategoricalCrossentropy{true});
    model->set_threads(threads);
    Tensor x({32, 28, 28}), y({32}, DType::kInt32);
    fill(x, y, 7);
    model->train_step(x, y);  // warm-up: buffers reach their size
    model->train_step(x, y);
    const long n = allocations_during([&] {
      for (int i = 0; i < 5; ++i) model->train_step(x, y);
    });
    EXPECT_EQ(n, 0) << "training step allocated, threads=" << threads;
  }
}

TEST(NoAlloc, EvaluateAllocatesOnlyAtStart) {
  auto model = make_seed_model(10, 1);
  model->compile(Adam(), SparseCategoricalCrossentropy{true});
  Tensor x({256, 28, 28}), y({256}, DType::kInt32);
  fill(x, y, 9);
  model->evaluate(x, y, 32);
  // A second evaluate over 8 batches allocates no more than one over 1 batch:
  // nothing is allocated per batch.
  Tensor x1({32, 28, 28}), y1({32}, DType::kInt32);
  fill(x1, y1, 3);
  const long one_batch = allocations_during([&] { model->evaluate(x1, y1, 32); });
  const long eight_batches = allocations_during([&] { model->evaluate(x, y, 32); });
  EXPECT_LE(eight_batches, one_batch) << "evaluate allocates per batch";
}
