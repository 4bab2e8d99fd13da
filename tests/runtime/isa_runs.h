// One-op models run on each kernel path (Isa) the interpreter has on this
// CPU, for the comparisons with TensorFlow Lite 2.9 that must hold on every
// path (tflite_uint8_ops_test.cpp, tflite_int16_ops_test.cpp).
#pragma once

#include <cstring>
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
  Outcome r;
  try {
    runtime::InterpreterOptions o;
    o.isa = isa;
    auto it = runtime::Interpreter::from_buffer(model, o);
    const auto in = it->input_bytes(0);
    if (in.size() != input.size()) {
      r.error = "input size";
      return r;
    }
    if (!input.empty()) std::memcpy(in.data(), input.data(), input.size());
    it->invoke();
    const auto out = it->output_bytes(0);
    r.bytes.assign(reinterpret_cast<const uint8_t*>(out.data()), reinterpret_cast<const uint8_t*>(out.data()) + out.size());
    r.shape = it->output_info(0).shape;
  } catch (const Error& e) {
    r.error = e.what();
  }
  return r;
}

}  // namespace qlite::test
