#include <atomic>
#include <chrono>
#include <condition_variable>
#include <exception>
#include <mutex>
#include <thread>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#endif

#include "qlite/core.h"

namespace qlite {

namespace {

inline void cpu_relax() {
#if defined(__x86_64__) || defined(__i386__)
  _mm_pause();
#else
  std::this_thread::yield();
#endif
}

// How long a worker waiting for work, or the caller waiting for the
// workers, polls before it sleeps on a condition variable. A training step
// or an invoke is a series of parallel regions of 5-100 us each, with short
// gaps between them; waking a sleeping thread costs tens of microseconds
// (a futex and the scheduler), so the gaps are bridged by polling. The
// window is short because on a busy machine (more runnable threads than
// cores: tests run in parallel, other processes) a thread polling for a
// descheduled peer holds a core the peer needs: with 200 us, 2-thread
// training beside two busy processes ran 1,180 images/s in two runs of
// three, against 1,600-3,500 with the condition variable alone; with 30 us,
// 3,200-4,100, and as fast as 200 us on an idle machine (bench/README.md).
constexpr std::chrono::microseconds kSpinWindow{30};

// Polls pred() for up to kSpinWindow; true when it became true.
template <class Pred>
bool spin_until(Pred&& pred) {
  const auto deadline = std::chrono::steady_clock::now() + kSpinWindow;
  for (;;) {
    for (int i = 0; i < 64; ++i) {
      if (pred()) return true;
      cpu_relax();
    }
    if (std::chrono::steady_clock::now() >= deadline) return pred();
  }
}

}  // namespace

// Workers wait for a generation counter to change, run their chunk, and
// report back; the caller runs chunk 0 itself. Both sides poll briefly
// before sleeping (see kSpinWindow). The job's fields change only under the
// mutex, and a worker reads them there; sleeping and waking go through the
// mutex too, so no wake-up is lost.
struct ThreadPool::Impl {
  std::mutex mu;
  std::condition_variable work_cv, done_cv;
  std::vector<std::thread> workers;
  Thunk thunk = nullptr;
  void* ctx = nullptr;
  int64_t n = 0;
  int chunks = 0;
  std::atomic<uint64_t> generation{0};
  std::atomic<int> pending{0};
  std::atomic<bool> stop{false};
  std::exception_ptr error;

  void chunk_range(int c, int64_t* b, int64_t* e) const {
    *b = n * c / chunks;
    *e = n * (c + 1) / chunks;
  }

  void run_chunk(int c) {
    int64_t b, e;
    chunk_range(c, &b, &e);
    try {
      if (b < e) thunk(ctx, b, e, c);
    } catch (...) {
      std::lock_guard<std::mutex> lock(mu);
      if (!error) error = std::current_exception();
    }
  }

  void worker(int index) {
    uint64_t seen = 0;
    for (;;) {
      auto ready = [&] {
        return stop.load(std::memory_order_acquire) || generation.load(std::memory_order_acquire) != seen;
      };
      if (!spin_until(ready)) {
        std::unique_lock<std::mutex> lock(mu);
        work_cv.wait(lock, ready);
      }
      if (stop.load(std::memory_order_acquire)) return;
      int job_chunks;
      {
        // The generation and its job read together: a worker left out of
        // one job (index >= chunks) may find the caller already on the next.
        std::lock_guard<std::mutex> lock(mu);
        seen = generation.load(std::memory_order_relaxed);
        job_chunks = chunks;
      }
      if (index >= job_chunks) continue;
      run_chunk(index);
      if (pending.fetch_sub(1, std::memory_order_acq_rel) == 1) {
        // The caller checks pending under the mutex before it sleeps:
        // taking the mutex here orders this notify after that check.
        { std::lock_guard<std::mutex> lock(mu); }
        done_cv.notify_one();
      }
    }
  }
};

ThreadPool::ThreadPool(int num_threads) : num_threads_(num_threads < 1 ? 1 : num_threads) {
  impl_ = std::make_unique<Impl>();
  for (int i = 1; i < num_threads_; ++i) impl_->workers.emplace_back([this, i] { impl_->worker(i); });
}

ThreadPool::~ThreadPool() {
  {
    std::lock_guard<std::mutex> lock(impl_->mu);
    impl_->stop.store(true, std::memory_order_release);
  }
  impl_->work_cv.notify_all();
  for (auto& t : impl_->workers) t.join();
}

void ThreadPool::run(int64_t n, int64_t min_chunk, Thunk thunk, void* ctx) {
  if (n <= 0) return;
  if (min_chunk < 1) min_chunk = 1;
  int64_t chunks = std::min<int64_t>(num_threads_, (n + min_chunk - 1) / min_chunk);
  if (chunks <= 1) {
    thunk(ctx, 0, n, 0);
    return;
  }
  Impl& im = *impl_;
  {
    std::lock_guard<std::mutex> lock(im.mu);
    im.thunk = thunk;
    im.ctx = ctx;
    im.n = n;
    im.chunks = static_cast<int>(chunks);
    im.pending.store(static_cast<int>(chunks) - 1, std::memory_order_relaxed);
    im.error = nullptr;
    im.generation.fetch_add(1, std::memory_order_release);
  }
  im.work_cv.notify_all();
  im.run_chunk(0);
  auto done = [&] { return im.pending.load(std::memory_order_acquire) == 0; };
  if (!spin_until(done)) {
    std::unique_lock<std::mutex> lock(im.mu);
    im.done_cv.wait(lock, done);
  }
  std::lock_guard<std::mutex> lock(im.mu);
  im.thunk = nullptr;
  im.ctx = nullptr;
  if (im.error) std::rethrow_exception(im.error);
}

}  // namespace qlite
