// invoke() allocates nothing: operator new is counted (counting_new.h) while
// invokes run, for the seed model's forms, 1 and 2 threads, every kernel path.
#include <gtest/gtest.h>

#include "counting_new.h"
#include "kernels/float_kernels.h"
#include "kernels/int8_kernels_x86.h"
#include "qlite/convert.h"
#include "qlite/runtime.h"
#include "qlite/train.h"

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
          const long n = alloc_testing::allocations_during([&] {
            for (int i = 0; i < 5; ++i) it->invoke();
          });
          EXPECT_EQ(n, 0) << convert::mode_name(mode) << " isa " << isa_name(isa) << " threads " << threads
                          << " batch " << batch;
        }
      }
    }
  }
}

}  // namespace
}  // namespace qlite::test
