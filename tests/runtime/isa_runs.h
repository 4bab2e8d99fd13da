// One-op models run on each kernel path (Isa) the interpreter has on this
// CPU, for the comparisons with TensorFlow Lite 2.9 that must hold on every
// path (tflite_uint8_ops_test.cpp, tflite_int16_ops_test.cpp).
#pragma once

#include <vector>

#include "kernels/float_kernels.h"
#include "kernels/int8_kernels_x86.h"
#include "qlite/runtime.h"
#include "single_op_peer.h"

namespace qlite::test {

// The reference Isa and every SIMD one this CPU runs.
inline std::vector<Isa> runtime_isas() {
  std::vector<Isa> v;
  for (Isa isa : {Isa::kReference, Isa::kAvx2, Isa::kAvx512})
    if (kernels::int8_isa_available(isa) && kernels::isa_supported(isa)) v.push_back(isa);
  return v;
}

// run_in_qlite (single_op_peer.h) with the interpreter forced onto `isa`.
inline Outcome run_on(Isa isa, const std::vector<uint8_t>& model, const std::vector<uint8_t>& input) {
  return run_in_qlite(model, std::vector<std::vector<uint8_t>>{input}, {.isa = isa});
}

}  // namespace qlite::test
