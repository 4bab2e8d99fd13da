// One-op models with any number of inputs and outputs, run in qlite's
// interpreter and in TensorFlow Lite 2.9 (the data-movement, shape and resize
// ops: tflite_data_ops_test.cpp and its neighbours). Every output is compared:
// bytes exactly for integer and bool tensors, float32 within a relative
// tolerance. Complements single_op_peer.h (one input, one output).
#pragma once

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <string>
#include <vector>

#include "qlite/lite.h"
#include "qlite/runtime.h"
#include "qlite_run.h"
#include "tflite_peer.h"

namespace qlite::test {

inline MultiOutcome run_multi_in_tflite(const TfLitePeer& peer, const std::vector<uint8_t>& model,
                                        const std::vector<std::vector<int32_t>>& shapes,
                                        const std::vector<std::vector<uint8_t>>& inputs) {
  MultiOutcome r;
  try {
    std::vector<PeerInput> in;
    for (size_t k = 0; k < inputs.size(); ++k) in.push_back(PeerInput{shapes[k], inputs[k]});
    for (const PeerTensor& t : peer.run(model, in)) {
      r.bytes.push_back(t.bytes);
      r.shapes.emplace_back(t.shape.begin(), t.shape.end());
    }
  } catch (const Error& e) {
    r.error = e.what();
    if (r.error.empty()) r.error = "TFLite failed";
  }
  return r;
}

// Float32 bytes equal within rel_tol relative to the larger magnitude (or
// abs_tol absolutely); NaN matches NaN.
inline bool floats_close(const std::vector<uint8_t>& a, const std::vector<uint8_t>& b, float rel_tol, float abs_tol,
                         std::string* where) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i + 4 <= a.size(); i += 4) {
    float x, y;
    std::memcpy(&x, a.data() + i, 4);
    std::memcpy(&y, b.data() + i, 4);
    if (std::isnan(x) && std::isnan(y)) continue;
    if (x == y) continue;
    const float m = std::max(std::fabs(x), std::fabs(y));
    if (std::fabs(x - y) <= std::max(rel_tol * m, abs_tol)) continue;
    if (where) *where = "element " + std::to_string(i / 4) + ": " + std::to_string(x) + " vs " + std::to_string(y);
    return false;
  }
  return true;
}

// Runs the model in both and expects the same outputs: shapes, and bytes
// (float32 outputs, listed in float_outputs, within rel_tol). Returns the
// total output bytes compared.
inline size_t expect_same_outputs(const TfLitePeer& peer, const std::vector<uint8_t>& model,
                                  const std::vector<std::vector<int32_t>>& shapes,
                                  const std::vector<std::vector<uint8_t>>& inputs, const std::vector<bool>& float_outputs,
                                  const std::string& what, float rel_tol = 1e-5f, float abs_tol = 0.0f) {
  SCOPED_TRACE(what);
  const MultiOutcome theirs = run_multi_in_tflite(peer, model, shapes, inputs);
  const MultiOutcome ours = run_multi_in_qlite(model, inputs);
  EXPECT_EQ(theirs.error, "");
  EXPECT_EQ(ours.error, "");
  if (!theirs.error.empty() || !ours.error.empty()) return 0;
  EXPECT_EQ(ours.shapes, theirs.shapes);
  EXPECT_EQ(ours.bytes.size(), theirs.bytes.size());
  size_t total = 0;
  for (size_t k = 0; k < std::min(ours.bytes.size(), theirs.bytes.size()); ++k) {
    const bool is_float = k < float_outputs.size() && float_outputs[k];
    std::string where;
    if (is_float)
      EXPECT_TRUE(floats_close(ours.bytes[k], theirs.bytes[k], rel_tol, abs_tol, &where))
          << "output " << k << " differs: " << where;
    else
      EXPECT_TRUE(ours.bytes[k] == theirs.bytes[k]) << "output " << k << " differs (" << ours.bytes[k].size()
                                                    << " and " << theirs.bytes[k].size() << " bytes)";
    total += theirs.bytes[k].size();
  }
  return total;
}

// Both refuse the model (qlite at load, TFLite at prepare or invoke); qlite's
// message contains `part`.
inline void expect_both_refuse_multi(const TfLitePeer& peer, const std::vector<uint8_t>& model,
                                     const std::vector<std::vector<int32_t>>& shapes,
                                     const std::vector<std::vector<uint8_t>>& inputs, const std::string& part) {
  SCOPED_TRACE("expecting a refusal: " + part);
  const MultiOutcome theirs = run_multi_in_tflite(peer, model, shapes, inputs);
  const MultiOutcome ours = run_multi_in_qlite(model, inputs);
  EXPECT_NE(theirs.error, "") << "TFLite ran it";
  EXPECT_NE(ours.error.find(part), std::string::npos) << ours.error;
}

}  // namespace qlite::test
