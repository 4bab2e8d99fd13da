// Inputs that once crashed a fuzz target (scripts/fuzz.sh), kept so the fix
// stays: each must load as a model or fail with qlite::Error, and the
// sanitizer build of this test must stay silent.
//  - reshape_without_shape_input: a RESHAPE with neither a shape input nor
//    options built an error message from a null shape tensor (UBSan).
//  - reshape_shape_overflow: a RESHAPE new shape whose product overflows
//    int64 (UBSan: signed overflow).
//  - pool_work_overflow: dimensions whose product (the threading work
//    estimate) overflows int64 (UBSan: signed overflow).
//  - softmax_table_pointer: an int8 SOFTMAX whose row maximum is negative
//    formed a pointer past its lookup table (UBSan: index out of bounds).
//  - huge_declared_batch: a batch near 2^31 overflowed the tiling arithmetic
//    (UBSan: signed overflow).
//  - misaligned_zero_point_*: int64 zero points at 4 mod 8, which the
//    flatbuffers verifier accepts; the reader read them in place (UBSan:
//    misaligned load).
//  - nan_min_shared_quant: quantization `min` values of NaN (informational,
//    so accepted); the writer's vector sharing compared floats, took the NaN
//    vector for another tensor's scale and wrote a file that no longer read
//    (found by the reader target's write-and-read-back property).
//  - min_max_only_quant: quantization with min/max but no scale, which the
//    writer dropped (same property).
//  - relu6_tiny_output_scale: a fused activation bound r / scale beyond
//    int64 for a tiny output scale (UBSan: float to integer overflow).
//  - conv_dilation_reach_overflow: a SAME CONV_2D with a 3x3 filter and
//    dilation 2^30 + 5, whose window reach overflowed int while the x86
//    kernels were packed (UBSan: signed overflow); validate_geometry now
//    bounds the reach.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <vector>

#include "qlite/lite.h"
#include "qlite/runtime.h"

namespace qlite::test {
namespace {

TEST(FuzzRegressions, EveryKeptCrashInputLoadsOrFailsCleanly) {
  const std::filesystem::path dir = std::filesystem::path(QLITE_SOURCE_DIR) / "tests/lite/fuzz_regressions";
  int files = 0;
  for (const auto& e : std::filesystem::directory_iterator(dir)) {
    std::ifstream f(e.path(), std::ios::binary);
    const std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
    ASSERT_FALSE(bytes.empty()) << e.path();
    ++files;
    lite::ModelDef m;
    try {
      m = lite::read_model(bytes);
    } catch (const Error&) {
      continue;
    }
    // What qlite writes of it reads back as the same model, bit for bit (the
    // writer may refuse options it does not parse, with an Error).
    std::vector<uint8_t> again;
    try {
      again = lite::write_model(m);
    } catch (const Error&) {
    }
    if (!again.empty()) {
      try {
        EXPECT_EQ(lite::read_model(again), m) << e.path();
      } catch (const Error& err) {
        ADD_FAILURE() << e.path() << ": the written model does not read back: " << err.what();
      }
    }
    // What the reader accepts goes on through the interpreter's load path.
    try {
      runtime::InterpreterOptions o;
      o.max_arena_bytes = size_t{64} << 20;
      auto it = runtime::Interpreter::from_model(m, o);
      for (size_t i = 0; i < it->num_inputs(); ++i) {
        auto in = it->input_bytes(i);
        std::fill(in.begin(), in.end(), std::byte{0});
      }
      it->invoke();
    } catch (const Error&) {
    }
  }
  EXPECT_GE(files, 10);
}

}  // namespace
}  // namespace qlite::test
