#include <condition_variable>
#include <exception>
#include <mutex>
#include <thread>

#include "qlite/core.h"

namespace qlite {

// Workers wait for a generation counter to change, run their chunk, and
// report back; the caller runs chunk 0 itself.
struct ThreadPool::Impl {
  std::mutex mu;
  std::condition_variable work_cv, done_cv;
  std::vector<std::thread> workers;
  Thunk thunk = nullptr;
  void* ctx = nullptr;
  int64_t n = 0;
  int chunks = 0;
  uint64_t generation = 0;
  int pending = 0;
  bool stop = false;
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
      {
        std::unique_lock<std::mutex> lock(mu);
        work_cv.wait(lock, [&] { return stop || generation != seen; });
        if (stop) return;
        seen = generation;
        if (index >= chunks) continue;
      }
      run_chunk(index);
      std::lock_guard<std::mutex> lock(mu);
      if (--pending == 0) done_cv.notify_one();
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
    impl_->stop = true;
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
    im.pending = static_cast<int>(chunks) - 1;
    im.error = nullptr;
    ++im.generation;
  }
  im.work_cv.notify_all();
  im.run_chunk(0);
  std::unique_lock<std::mutex> lock(im.mu);
  im.done_cv.wait(lock, [&] { return im.pending == 0; });
  im.thunk = nullptr;
  im.ctx = nullptr;
  if (im.error) std::rethrow_exception(im.error);
}

}  // namespace qlite
