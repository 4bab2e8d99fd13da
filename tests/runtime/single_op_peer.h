// One-op models run in qlite's interpreter and in TensorFlow Lite 2.9, for
// the op-by-op comparisons (tflite_shape_ops_test.cpp,
// tflite_activation_ops_test.cpp): the same .tflite bytes, the same input
// bytes, the output bytes (or the error) of each.
#pragma once

#include <cstring>
#include <string>
#include <vector>

#include "qlite/runtime.h"
#include "runtime_models.h"
#include "tflite_peer.h"

namespace qlite::test {

struct Outcome {
  std::string error;  // empty when the model ran
  std::vector<int64_t> shape;
  std::vector<uint8_t> bytes;
};

inline Outcome run_in_qlite(const std::vector<uint8_t>& model, const std::vector<uint8_t>& input) {
  Outcome r;
  try {
    auto it = runtime::Interpreter::from_buffer(model);
    const auto in = it->input_bytes(0);
    if (in.size() != input.size()) {
      r.error = "qlite input holds " + std::to_string(in.size()) + " bytes, given " + std::to_string(input.size());
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

// Models with several runtime inputs (binary ops with two non-constant
// operands, SELECT): inputs[k] is graph input k's bytes.
inline Outcome run_in_qlite(const std::vector<uint8_t>& model, const std::vector<std::vector<uint8_t>>& inputs) {
  Outcome r;
  try {
    auto it = runtime::Interpreter::from_buffer(model);
    for (size_t k = 0; k < inputs.size(); ++k) {
      const auto in = it->input_bytes(k);
      if (in.size() != inputs[k].size()) {
        r.error = "qlite input " + std::to_string(k) + " holds " + std::to_string(in.size()) + " bytes, given " +
                  std::to_string(inputs[k].size());
        return r;
      }
      if (!inputs[k].empty()) std::memcpy(in.data(), inputs[k].data(), inputs[k].size());
    }
    it->invoke();
    const auto out = it->output_bytes(0);
    r.bytes.assign(reinterpret_cast<const uint8_t*>(out.data()), reinterpret_cast<const uint8_t*>(out.data()) + out.size());
    r.shape = it->output_info(0).shape;
  } catch (const Error& e) {
    r.error = e.what();
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

}  // namespace qlite::test
