// How the hostile-file tests run a (possibly mutated) file: load it, run it
// at the file's batch, then at batch 2. Every case must end in qlite::Error
// or in a model that runs; any other exception is a test failure.
#pragma once

#include <gtest/gtest.h>

#include <cstddef>
#include <exception>
#include <vector>

#include "qlite/runtime.h"

namespace qlite::test {

enum class HostileResult { kRan, kError };

inline HostileResult load_and_run(const std::vector<uint8_t>& bytes) {
  try {
    runtime::InterpreterOptions o;
    o.max_arena_bytes = size_t{64} << 20;
    auto it = runtime::Interpreter::from_buffer(bytes, o);
    for (int batch : {0, 2}) {
      if (batch) it->resize_batch(batch);
      for (size_t i = 0; i < it->num_inputs(); ++i) {
        auto in = it->input_bytes(i);
        for (size_t k = 0; k < in.size(); ++k) in[k] = std::byte{static_cast<unsigned char>(k * 7)};
      }
      it->invoke();
    }
    return HostileResult::kRan;
  } catch (const Error&) {
    return HostileResult::kError;
  } catch (const std::exception& e) {
    ADD_FAILURE() << "exception other than qlite::Error: " << e.what();
    return HostileResult::kError;
  }
}

}  // namespace qlite::test
