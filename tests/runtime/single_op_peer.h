// One-op models run in qlite's interpreter and in TensorFlow Lite 2.9, for
// the op-by-op comparisons (tflite_shape_ops_test.cpp,
// tflite_activation_ops_test.cpp): the same .tflite bytes, the same input
// bytes, the output bytes (or the error) of each.
#pragma once

#include <cstring>
#include <string>
#include <vector>

#include "qlite/runtime.h"
#include "qlite_run.h"
#include "runtime_models.h"
#include "tflite_peer.h"

namespace qlite::test {

struct Outcome {
  std::string error;  // empty when the model ran
  std::vector<int64_t> shape;
  std::vector<uint8_t> bytes;
};

// Output 0 of run_multi_in_qlite (qlite_run.h).
inline Outcome first_output(MultiOutcome m) {
  Outcome r;
  r.error = std::move(m.error);
  if (r.error.empty() && !m.bytes.empty()) {
    r.bytes = std::move(m.bytes[0]);
    r.shape = std::move(m.shapes[0]);
  }
  return r;
}

// Models with several runtime inputs (binary ops with two non-constant
// operands, SELECT): inputs[k] is graph input k's bytes.
inline Outcome run_in_qlite(const std::vector<uint8_t>& model, const std::vector<std::vector<uint8_t>>& inputs,
                            const QliteRunOptions& options = {}) {
  return first_output(run_multi_in_qlite(model, inputs, options));
}

inline Outcome run_in_qlite(const std::vector<uint8_t>& model, const std::vector<uint8_t>& input) {
  return run_in_qlite(model, std::vector<std::vector<uint8_t>>{input});
}

inline Outcome run_in_tflite(const TfLitePeer& peer, const std::vector<uint8_t>& model, std::vector<int32_t> in_shape,
                             const std::vector<uint8_t>& input) {
  Outcome r;
  try {
    const auto outs = peer.run(model, {PeerInput{std::move(in_shape), input}});
    if (outs.size() != 1) {
      r.error = "TFLite returned " + std::to_string(outs.size()) + " outputs";
      return r;
    }
    r.bytes = outs[0].bytes;
    r.shape.assign(outs[0].shape.begin(), outs[0].shape.end());
  } catch (const Error& e) {
    r.error = e.what();
    if (r.error.empty()) r.error = "TFLite failed";
  }
  return r;
}

inline Outcome run_in_tflite(const TfLitePeer& peer, const std::vector<uint8_t>& model,
                             const std::vector<PeerInput>& inputs) {
  Outcome r;
  try {
    const auto outs = peer.run(model, inputs);
    if (outs.size() != 1) {
      r.error = "TFLite returned " + std::to_string(outs.size()) + " outputs";
      return r;
    }
    r.bytes = outs[0].bytes;
    r.shape.assign(outs[0].shape.begin(), outs[0].shape.end());
  } catch (const Error& e) {
    r.error = e.what();
    if (r.error.empty()) r.error = "TFLite failed";
  }
  return r;
}

template <class T>
std::vector<uint8_t> as_bytes(const std::vector<T>& v) {
  std::vector<uint8_t> b(v.size() * sizeof(T));
  if (!b.empty()) std::memcpy(b.data(), v.data(), b.size());
  return b;
}

// Random contents of a tensor of n elements: floats uniform in
// [-float_limit, float_limit], 0 or 1 for bool, any bit pattern otherwise.
inline std::vector<uint8_t> random_tensor_bytes(Rng& rng, lite::TensorType t, size_t n, float float_limit) {
  std::vector<uint8_t> b(n * lite::tensor_type_size(t));
  if (t == lite::TensorType::kFloat32) {
    for (size_t i = 0; i < b.size(); i += 4) {
      const float f = rng.uniform(-float_limit, float_limit);
      std::memcpy(b.data() + i, &f, 4);
    }
  } else if (t == lite::TensorType::kBool) {
    for (uint8_t& x : b) x = static_cast<uint8_t>(rng.below(2));
  } else {
    for (uint8_t& x : b) x = static_cast<uint8_t>(rng.below(256));
  }
  return b;
}

}  // namespace qlite::test
