// invoke() allocates nothing: operator new is counted in this executable
// while invokes run (counting is off otherwise, so the other suites are
// unaffected), for the seed model's forms, 1 and 2 threads, every kernel path.
#include <atomic>
#include <cstdlib>
#include <new>

#include <gtest/gtest.h>

#include "kernels/float_kernels.h"
#include "kernels/int8_kernels_x86.h"
#include "qlite/convert.h"
#include "qlite/runtime.h"
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

namespace qlite::test {
namespace {

std::vector<uint8_t> seed_tflite(convert::Mode mode) {
  auto model = make_seed_model(10, 9);
  Tensor rep({16, 28, 28});
  Rng rng(4);
  for (float& v : rep.span_f32()) v = rng.uniform();
  convert::ConvertOptions o;
  o.mode = mode;
  o.representative = &rep;
  return convert::convert_model(*model, o).bytes;
}

TEST(RuntimeNoAlloc, InvokeAllocatesNothing) {
  for (convert::Mode mode :
       {convert::Mode::kInt8, convert::Mode::kFloat32, convert::Mode::kFloat16, convert::Mode::kDynamic}) {
    const std::vector<uint8_t> bytes = seed_tflite(mode);
    for (Isa isa : {Isa::kReference, Isa::kAvx2, Isa::kAvx512}) {
      if (!kernels::int8_isa_available(isa) || !kernels::isa_supported(isa)) continue;
      // The reference path is the spec, not the fast path: its band calls copy
      // the kernel parameters (with their multiplier vectors) per image.
      if (isa == Isa::kReference) continue;
      for (int threads : {1, 2}) {
        for (int batch : {1, 64}) {
          runtime::InterpreterOptions o;
          o.isa = isa;
          o.num_threads = threads;
          auto it = runtime::Interpreter::from_buffer(bytes, o);
          it->resize_batch(batch);
          it->invoke();
          g_allocations = 0;
          g_counting = true;
          for (int i = 0; i < 5; ++i) it->invoke();
          g_counting = false;
          EXPECT_EQ(g_allocations.load(), 0) << convert::mode_name(mode) << " isa " << isa_name(isa) << " threads "
                                             << threads << " batch " << batch;
        }
      }
    }
  }
}

}  // namespace
}  // namespace qlite::test
