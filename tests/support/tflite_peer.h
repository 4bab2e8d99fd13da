// Runs .tflite bytes in the real TensorFlow Lite 2.9 C library, loaded with
// dlopen at run time so that building qlite never needs it. Install it with
// scripts/install_peers.sh; QLITE_TFLITE_LIB overrides the library path.
#pragma once

#include <cstdint>
#include <cstring>
#include <span>
#include <string>
#include <vector>

#include "peer_requirement.h"

namespace qlite::test {

// TfLiteType values of the C API (not the schema's TensorType numbering).
enum class PeerType : int { kFloat32 = 1, kInt32 = 2, kUInt8 = 3, kInt64 = 4, kInt8 = 9 };

struct PeerTensor {
  int type = 0;  // TfLiteType
  std::vector<int32_t> shape;
  std::vector<uint8_t> bytes;
  float scale = 0.0f;  // per-tensor quantization as the C API reports it
  int32_t zero_point = 0;

  template <class T>
  std::vector<T> values() const {
    std::vector<T> v(bytes.size() / sizeof(T));
    if (!v.empty()) std::memcpy(v.data(), bytes.data(), v.size() * sizeof(T));
    return v;
  }
};

struct PeerInput {
  std::vector<int32_t> shape;  // the input is resized to this shape before allocation
  std::vector<uint8_t> bytes;

  template <class T>
  static PeerInput of(std::vector<int32_t> shape, const std::vector<T>& values) {
    PeerInput in{std::move(shape), std::vector<uint8_t>(values.size() * sizeof(T))};
    if (!values.empty()) std::memcpy(in.bytes.data(), values.data(), in.bytes.size());
    return in;
  }
};

class TfLitePeer {
 public:
  // The loaded library, or nullptr when it cannot be loaded (see unavailable_reason()).
  static const TfLitePeer* get();
  static std::string unavailable_reason();
  static std::string default_library_path();

  std::string version() const;
  // Creates an interpreter for the model, resizes every input to the given
  // shape, allocates, copies the inputs in, invokes, and returns all outputs.
  // Throws qlite::Error with TFLite's own error messages when a step fails.
  std::vector<PeerTensor> run(std::span<const uint8_t> model, const std::vector<PeerInput>& inputs,
                              int num_threads = 1) const;
  // One interpreter invoked once per step (inputs resized to the first
  // step's shapes), TfLiteInterpreterResetVariableTensors before the steps
  // flagged in reset_before: the outputs of every step, for models with state.
  std::vector<std::vector<PeerTensor>> run_steps(std::span<const uint8_t> model,
                                                 const std::vector<std::vector<PeerInput>>& steps,
                                                 const std::vector<bool>& reset_before, int num_threads = 1) const;

  struct Api;  // resolved C API function pointers

 private:
  explicit TfLitePeer(const Api* api) : api_(api) {}
  const Api* api_;
};

}  // namespace qlite::test

// `const TfLitePeer* var`, the loaded library; when it is missing the test
// skips, or fails under CI=true (peer_requirement.h).
#define QLITE_REQUIRE_TFLITE_PEER(var)                                                         \
  const ::qlite::test::TfLitePeer* var = ::qlite::test::TfLitePeer::get();                     \
  QLITE_REQUIRE_PEER(var != nullptr, "TensorFlow Lite 2.9 C library unavailable: "             \
                                         << ::qlite::test::TfLitePeer::unavailable_reason())
