// Once warmed up, a training step and an inference batch allocate nothing:
// operator new is counted in this executable (its own test binary, so the
// override affects no other suite).
#include <atomic>
#include <cstdlib>
#include <functional>
#include <new>

#include <gtest/gtest.h>

#include "qlite/train.h"

namespace {
std::atomic<long> g_allocations{0};
std::atomic<bool> g_counting{false};
}  // namespace

void* operator new(size_t n) {
  if (g_counting.load(std::memory_order_relaxed)) g_allocations.fetch_add(1, std::memory_order_relaxed);
  if (void* p = std::malloc(n ? n : 1)) return p;
  throw std::bad_alloc();
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, size_t) noexcept { std::free(p); }
// The nothrow forms too (std::stable_sort's temporary buffer uses them): a
// sanitizer's own nothrow new paired with the free() above is a mismatch.
void* operator new(size_t n, const std::nothrow_t&) noexcept {
  if (g_counting.load(std::memory_order_relaxed)) g_allocations.fetch_add(1, std::memory_order_relaxed);
  return std::malloc(n ? n : 1);
}
void operator delete(void* p, const std::nothrow_t&) noexcept { std::free(p); }

using namespace qlite;

namespace qlite::alloc_testing {
// Number of operator new calls made while fn runs (used by qat_no_alloc_test.cpp).
long allocations_during(const std::function<void()>& fn) {
  g_allocations = 0;
  g_counting = true;
  fn();
  g_counting = false;
  return g_allocations.load();
}
}  // namespace qlite::alloc_testing

namespace {
struct Counter {
  Counter() {
    g_allocations = 0;
    g_counting = true;
  }
  long stop() {
    g_counting = false;
    return g_allocations.load();
  }
};

void fill(Tensor& x, Tensor& y, uint64_t seed) {
  Rng rng(seed);
  for (float& v : x.span_f32()) v = rng.uniform();
  for (int64_t i = 0; i < y.numel(); ++i) y.data<int32_t>()[i] = static_cast<int32_t>(rng.below(10));
}
}  // namespace

TEST(NoAlloc, SeedTrainStepAndPredictAfterWarmUp) {
  for (int threads : {1, 2}) {
    auto model = make_seed_model(10, 1);
    model->compile(Adam(), SparseCategoricalCrossentropy{true});
    model->set_threads(threads);
    Tensor x({32, 28, 28}), y({32}, DType::kInt32);
    fill(x, y, 7);
    model->train_step(x, y);  // warm-up: buffers reach their size
    model->train_step(x, y);
    Counter c;
    for (int i = 0; i < 5; ++i) model->train_step(x, y);
    EXPECT_EQ(c.stop(), 0) << "training step allocated, threads=" << threads;
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
  Counter c2;
  model->evaluate(x1, y1, 32);
  const long one_batch = c2.stop();
  Counter c3;
  model->evaluate(x, y, 32);
  const long eight_batches = c3.stop();
  EXPECT_LE(eight_batches, one_batch) << "evaluate allocates per batch";
}
