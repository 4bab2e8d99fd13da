// dlopen harness for the TensorFlow Lite C API. The declarations below mirror
// cc_deps/include/tensorflow/lite/c/c_api.h of tfjs-tflite-node 0.0.2 (TF 2.9);
// they are repeated here instead of included so that the build never depends
// on the peer being installed. Only opaque pointers, int32 enums and one
// two-field struct cross the boundary.
#include "tflite_peer.h"

#include <dlfcn.h>

#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <mutex>

#include "qlite/core.h"

#ifndef QLITE_SOURCE_DIR
#define QLITE_SOURCE_DIR "."
#endif

namespace qlite::test {
namespace {

struct TfLiteModel;
struct TfLiteInterpreterOptions;
struct TfLiteInterpreter;
struct TfLiteTensor;
using TfLiteStatus = int;  // kTfLiteOk = 0
using TfLiteType = int;
struct TfLiteQuantizationParams {
  float scale;
  int32_t zero_point;
};
using ErrorReporter = void (*)(void*, const char*, va_list);

}  // namespace

struct TfLitePeer::Api {
  const char* (*Version)();
  TfLiteModel* (*ModelCreate)(const void*, size_t);
  TfLiteModel* (*ModelCreateFromFile)(const char*);
  void (*ModelDelete)(TfLiteModel*);
  TfLiteInterpreterOptions* (*OptionsCreate)();
  void (*OptionsDelete)(TfLiteInterpreterOptions*);
  void (*OptionsSetNumThreads)(TfLiteInterpreterOptions*, int32_t);
  void (*OptionsSetErrorReporter)(TfLiteInterpreterOptions*, ErrorReporter, void*);
  TfLiteInterpreter* (*InterpreterCreate)(const TfLiteModel*, const TfLiteInterpreterOptions*);
  void (*InterpreterDelete)(TfLiteInterpreter*);
  int32_t (*GetInputTensorCount)(const TfLiteInterpreter*);
  TfLiteTensor* (*GetInputTensor)(const TfLiteInterpreter*, int32_t);
  TfLiteStatus (*ResizeInputTensor)(TfLiteInterpreter*, int32_t, const int*, int32_t);
  TfLiteStatus (*AllocateTensors)(TfLiteInterpreter*);
  TfLiteStatus (*Invoke)(TfLiteInterpreter*);
  TfLiteStatus (*ResetVariableTensors)(TfLiteInterpreter*);
  int32_t (*GetOutputTensorCount)(const TfLiteInterpreter*);
  const TfLiteTensor* (*GetOutputTensor)(const TfLiteInterpreter*, int32_t);
  TfLiteType (*TensorType)(const TfLiteTensor*);
  int32_t (*TensorNumDims)(const TfLiteTensor*);
  int32_t (*TensorDim)(const TfLiteTensor*, int32_t);
  size_t (*TensorByteSize)(const TfLiteTensor*);
  TfLiteQuantizationParams (*TensorQuantizationParams)(const TfLiteTensor*);
  TfLiteStatus (*TensorCopyFromBuffer)(TfLiteTensor*, const void*, size_t);
  TfLiteStatus (*TensorCopyToBuffer)(const TfLiteTensor*, void*, size_t);
};

namespace {

std::string g_reason;
const TfLitePeer::Api* g_api = nullptr;

template <class F>
bool resolve(void* lib, const char* name, F& fn) {
  fn = reinterpret_cast<F>(dlsym(lib, name));
  if (fn == nullptr) g_reason = std::string("symbol ") + name + " missing";
  return fn != nullptr;
}

const TfLitePeer::Api* load() {
  const std::string path = TfLitePeer::default_library_path();
  if (!std::filesystem::exists(path)) {
    g_reason = "TensorFlow Lite C library not found at " + path +
               " (run scripts/install_peers.sh or set QLITE_TFLITE_LIB)";
    return nullptr;
  }
  // Never dlclose'd: the library lives as long as the test process.
  void* lib = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (lib == nullptr) {
    const char* err = dlerror();
    g_reason = "dlopen(" + path + ") failed: " + (err ? err : "unknown error");
    return nullptr;
  }
  static TfLitePeer::Api api;
  const bool ok =
      resolve(lib, "TfLiteVersion", api.Version) &&
      resolve(lib, "TfLiteModelCreate", api.ModelCreate) &&
      resolve(lib, "TfLiteModelCreateFromFile", api.ModelCreateFromFile) &&
      resolve(lib, "TfLiteModelDelete", api.ModelDelete) &&
      resolve(lib, "TfLiteInterpreterOptionsCreate", api.OptionsCreate) &&
      resolve(lib, "TfLiteInterpreterOptionsDelete", api.OptionsDelete) &&
      resolve(lib, "TfLiteInterpreterOptionsSetNumThreads", api.OptionsSetNumThreads) &&
      resolve(lib, "TfLiteInterpreterOptionsSetErrorReporter", api.OptionsSetErrorReporter) &&
      resolve(lib, "TfLiteInterpreterCreate", api.InterpreterCreate) &&
      resolve(lib, "TfLiteInterpreterDelete", api.InterpreterDelete) &&
      resolve(lib, "TfLiteInterpreterGetInputTensorCount", api.GetInputTensorCount) &&
      resolve(lib, "TfLiteInterpreterGetInputTensor", api.GetInputTensor) &&
      resolve(lib, "TfLiteInterpreterResizeInputTensor", api.ResizeInputTensor) &&
      resolve(lib, "TfLiteInterpreterAllocateTensors", api.AllocateTensors) &&
      resolve(lib, "TfLiteInterpreterInvoke", api.Invoke) &&
      resolve(lib, "TfLiteInterpreterResetVariableTensors", api.ResetVariableTensors) &&
      resolve(lib, "TfLiteInterpreterGetOutputTensorCount", api.GetOutputTensorCount) &&
      resolve(lib, "TfLiteInterpreterGetOutputTensor", api.GetOutputTensor) &&
      resolve(lib, "TfLiteTensorType", api.TensorType) &&
      resolve(lib, "TfLiteTensorNumDims", api.TensorNumDims) &&
      resolve(lib, "TfLiteTensorDim", api.TensorDim) &&
      resolve(lib, "TfLiteTensorByteSize", api.TensorByteSize) &&
      resolve(lib, "TfLiteTensorQuantizationParams", api.TensorQuantizationParams) &&
      resolve(lib, "TfLiteTensorCopyFromBuffer", api.TensorCopyFromBuffer) &&
      resolve(lib, "TfLiteTensorCopyToBuffer", api.TensorCopyToBuffer);
  return ok ? &api : nullptr;
}

void collect_error(void* user, const char* format, va_list args) {
  char buf[1024];
  std::vsnprintf(buf, sizeof buf, format, args);
  auto* log = static_cast<std::string*>(user);
  if (!log->empty()) *log += "; ";
  *log += buf;
}

}  // namespace

std::string TfLitePeer::default_library_path() {
  if (const char* env = std::getenv("QLITE_TFLITE_LIB"); env && *env) return env;
  return std::string(QLITE_SOURCE_DIR) +
         "/third_party_peers/node_modules/tfjs-tflite-node/cc_deps/linux_amd64/"
         "libtensorflowlite_c.so";
}

const TfLitePeer* TfLitePeer::get() {
  static std::once_flag once;
  static std::unique_ptr<TfLitePeer> peer;
  std::call_once(once, [] {
    g_api = load();
    if (g_api) peer.reset(new TfLitePeer(g_api));
  });
  return peer.get();
}

std::string TfLitePeer::unavailable_reason() {
  get();
  return g_reason;
}

std::string TfLitePeer::version() const { return api_->Version(); }

std::vector<PeerTensor> TfLitePeer::run(std::span<const uint8_t> model,
                                        const std::vector<PeerInput>& inputs,
                                        int num_threads) const {
  return run_steps(model, {inputs}, {false}, num_threads).at(0);
}

std::vector<std::vector<PeerTensor>> TfLitePeer::run_steps(std::span<const uint8_t> model,
                                                           const std::vector<std::vector<PeerInput>>& steps,
                                                           const std::vector<bool>& reset_before,
                                                           int num_threads) const {
  const Api& a = *api_;
  if (steps.empty() || reset_before.size() != steps.size())
    throw Error("tflite peer: run_steps needs one reset flag per step");
  const std::vector<PeerInput>& inputs = steps[0];
  std::string log;
  auto fail = [&](const std::string& step) {
    throw Error("tflite peer: " + step + " failed" + (log.empty() ? "" : ": " + log));
  };
  // TfLiteModelCreate does not copy: the bytes must outlive model and interpreter.
  const std::vector<uint8_t> bytes(model.begin(), model.end());
  std::unique_ptr<TfLiteModel, void (*)(TfLiteModel*)> m(a.ModelCreate(bytes.data(), bytes.size()),
                                                         a.ModelDelete);
  if (!m) fail("TfLiteModelCreate");
  std::unique_ptr<TfLiteInterpreterOptions, void (*)(TfLiteInterpreterOptions*)> opts(
      a.OptionsCreate(), a.OptionsDelete);
  a.OptionsSetNumThreads(opts.get(), num_threads);
  a.OptionsSetErrorReporter(opts.get(), collect_error, &log);
  std::unique_ptr<TfLiteInterpreter, void (*)(TfLiteInterpreter*)> interp(
      a.InterpreterCreate(m.get(), opts.get()), a.InterpreterDelete);
  if (!interp) fail("TfLiteInterpreterCreate");

  const int32_t n_in = a.GetInputTensorCount(interp.get());
  if (n_in != static_cast<int32_t>(inputs.size()))
    throw Error("tflite peer: model has " + std::to_string(n_in) + " inputs, " +
                std::to_string(inputs.size()) + " given");
  for (int32_t i = 0; i < n_in; ++i) {
    const auto& shape = inputs[static_cast<size_t>(i)].shape;
    if (a.ResizeInputTensor(interp.get(), i, shape.data(), static_cast<int32_t>(shape.size())) != 0)
      fail("TfLiteInterpreterResizeInputTensor(" + std::to_string(i) + ")");
  }
  if (a.AllocateTensors(interp.get()) != 0) fail("TfLiteInterpreterAllocateTensors");
  std::vector<std::vector<PeerTensor>> results;
  for (size_t step = 0; step < steps.size(); ++step) {
  if (reset_before[step] && a.ResetVariableTensors(interp.get()) != 0) fail("TfLiteInterpreterResetVariableTensors");
  for (int32_t i = 0; i < n_in; ++i) {
    const auto& in = steps[step].at(static_cast<size_t>(i));
    TfLiteTensor* t = a.GetInputTensor(interp.get(), i);
    if (a.TensorByteSize(t) != in.bytes.size())
      throw Error("tflite peer: input " + std::to_string(i) + " takes " +
                  std::to_string(a.TensorByteSize(t)) + " bytes, " +
                  std::to_string(in.bytes.size()) + " given");
    if (a.TensorCopyFromBuffer(t, in.bytes.data(), in.bytes.size()) != 0)
      fail("TfLiteTensorCopyFromBuffer");
  }
  if (a.Invoke(interp.get()) != 0) fail("TfLiteInterpreterInvoke");

  std::vector<PeerTensor> outputs;
  for (int32_t i = 0; i < a.GetOutputTensorCount(interp.get()); ++i) {
    const TfLiteTensor* t = a.GetOutputTensor(interp.get(), i);
    PeerTensor out;
    out.type = a.TensorType(t);
    for (int32_t d = 0; d < a.TensorNumDims(t); ++d) out.shape.push_back(a.TensorDim(t, d));
    out.bytes.resize(a.TensorByteSize(t));
    if (a.TensorCopyToBuffer(t, out.bytes.data(), out.bytes.size()) != 0)
      fail("TfLiteTensorCopyToBuffer");
    const TfLiteQuantizationParams q = a.TensorQuantizationParams(t);
    out.scale = q.scale;
    out.zero_point = q.zero_point;
    outputs.push_back(std::move(out));
  }
  results.push_back(std::move(outputs));
  }
  return results;
}

}  // namespace qlite::test
