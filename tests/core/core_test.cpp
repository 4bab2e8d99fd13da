#include <atomic>
#include <chrono>
#include <numeric>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "qlite/core.h"

using namespace qlite;

TEST(Tensor, ZeroFilledAlignedAndReusesStorage) {
  Tensor t({2, 3, 4});
  EXPECT_EQ(t.numel(), 24);
  EXPECT_EQ(t.nbytes(), 96u);
  EXPECT_EQ(reinterpret_cast<uintptr_t>(t.raw()) % 64, 0u);
  for (float v : t.span_f32()) EXPECT_EQ(v, 0.0f);
  const void* before = t.raw();
  t.resize({4, 6});
  EXPECT_EQ(t.raw(), before) << "a smaller resize must keep the allocation";
  t.reshape({24});
  EXPECT_EQ(t.shape(), Shape({24}));
  EXPECT_THROW(t.reshape({5}), Error);
}

TEST(Tensor, CopyIsDeepAndDtypeChecked) {
  Tensor a({3});
  a.f32()[1] = 2.5f;
  Tensor b = a;
  b.f32()[1] = 7.0f;
  EXPECT_EQ(a.f32()[1], 2.5f);
  Tensor i({3}, DType::kInt8);
  EXPECT_THROW(i.f32(), Error);
  EXPECT_EQ(i.nbytes(), 3u);
}

TEST(Tensor, BorrowReadsInPlaceAndNeverFrees) {
  std::vector<float> mem = {1, 2, 3, 4, 5, 6};
  {
    const Tensor t = Tensor::borrow(mem.data(), {2, 3});
    EXPECT_TRUE(t.borrowed());
    EXPECT_EQ(t.raw(), mem.data());  // no copy
    EXPECT_EQ(t.shape(), (Shape{2, 3}));
    mem[4] = 50;
    EXPECT_EQ(t.f32()[4], 50.0f);  // reads the caller's memory
    Tensor c = t;  // a copy owns its storage
    EXPECT_FALSE(c.borrowed());
    EXPECT_NE(c.raw(), mem.data());
    EXPECT_EQ(c.f32()[4], 50.0f);
    Tensor moved = Tensor::borrow(mem.data(), {6});
    moved.resize({2});  // resizing allocates owned storage, never writes the borrowed memory
    EXPECT_FALSE(moved.borrowed());
    EXPECT_NE(moved.raw(), mem.data());
    moved.zero();
  }  // destroying borrowed tensors leaves the memory alone (ASan would report a bad free)
  EXPECT_EQ(mem, (std::vector<float>{1, 2, 3, 4, 50, 6}));
  EXPECT_FALSE(Tensor({2}).borrowed());
  EXPECT_THROW(Tensor::borrow(nullptr, {2}), Error);
  EXPECT_NO_THROW(Tensor::borrow(nullptr, {0, 4}));
}

TEST(Shape, NumelRejectsNegativeAndOverflow) {
  EXPECT_EQ(shape_numel({}), 1);
  EXPECT_EQ(shape_numel({0, 5}), 0);
  EXPECT_THROW(shape_numel({-1, 2}), Error);
  EXPECT_THROW(shape_numel({int64_t{1} << 40, int64_t{1} << 40}), Error);
  EXPECT_EQ(shape_str({28, 28, 1}), "(28, 28, 1)");
  EXPECT_EQ(shape_str({10}), "(10,)");
}

TEST(Rng, DeterministicAndInRange) {
  Rng a(42), b(42), c(43);
  bool differs = false;
  for (int i = 0; i < 1000; ++i) {
    const float x = a.uniform();
    EXPECT_EQ(x, b.uniform());
    differs |= x != c.uniform();
    EXPECT_GE(x, 0.0f);
    EXPECT_LT(x, 1.0f);
  }
  EXPECT_TRUE(differs);
  // below(n) is uniform: counts in 6 buckets within 5% of expectation over 60k draws.
  std::vector<int> counts(6);
  for (int i = 0; i < 60000; ++i) counts[a.below(6)]++;
  for (int n : counts) EXPECT_NEAR(n, 10000, 500);
  // normal(): mean ~0, variance ~1.
  double s = 0, s2 = 0;
  for (int i = 0; i < 100000; ++i) {
    const double x = a.normal();
    s += x;
    s2 += x * x;
  }
  EXPECT_NEAR(s / 1e5, 0.0, 0.02);
  EXPECT_NEAR(s2 / 1e5, 1.0, 0.02);
}

TEST(ThreadPool, CoversRangeOnceAndPropagatesErrors) {
  for (int threads : {1, 2, 3}) {
    ThreadPool pool(threads);
    for (int64_t n : {1, 2, 7, 1000}) {
      std::vector<std::atomic<int>> hits(n);
      pool.parallel_for(n, [&](int64_t b, int64_t e, int) {
        for (int64_t i = b; i < e; ++i) hits[i]++;
      });
      for (auto& h : hits) EXPECT_EQ(h.load(), 1);
    }
    EXPECT_THROW(pool.parallel_for(10, [](int64_t b, int64_t, int) {
      if (b > 0 || true) throw Error("boom");
    }),
                 Error);
  }
}

// Back-to-back jobs (workers still polling), jobs with fewer chunks than
// threads (a worker left out must not run the next job's chunk twice or
// miss it), and jobs after a pause long enough for workers to sleep.
TEST(ThreadPool, BackToBackJobsOfVaryingWidthRunEachChunkOnce) {
  for (int threads : {2, 3, 4}) {
    ThreadPool pool(threads);
    std::vector<std::atomic<int>> hits(64);
    int64_t expected = 0;
    for (int job = 0; job < 3000; ++job) {
      const int64_t n = 1 + job % 64;
      const int64_t min_chunk = 1 + (job / 7) % 40;  // 1 to threads chunks
      pool.parallel_for(n, [&](int64_t b, int64_t e, int) {
        for (int64_t i = b; i < e; ++i) hits[i]++;
      }, min_chunk);
      expected += n;
      if (job % 1000 == 999) std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    int64_t total = 0;
    for (int64_t i = 0; i < 64; ++i) {
      // Element i is in every job with n > i.
      int64_t jobs_with_i = 0;
      for (int job = 0; job < 3000; ++job) jobs_with_i += (1 + job % 64) > i;
      EXPECT_EQ(hits[i].load(), jobs_with_i) << "threads " << threads << " element " << i;
      total += hits[i].load();
    }
    EXPECT_EQ(total, expected);
  }
}

TEST(Cpu, ActiveIsaIsSupported) {
  const Isa isa = active_isa();
  const CpuFeatures& f = cpu_features();
  if (isa == Isa::kAvx512) {
    EXPECT_TRUE(f.avx512vnni);
  }
  if (isa == Isa::kAvx2) {
    EXPECT_TRUE(f.avx2);
  }
  EXPECT_NE(std::string(isa_name(isa)), "unknown");
}
