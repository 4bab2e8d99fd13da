// The third-party .tflite files of ../shared/models (QLITE_MODELS_DIR) that
// qlite's runtime loads (the listed ones must) run exactly as in TensorFlow Lite 2.9: random inputs,
// integer outputs byte for byte, float outputs within float rounding. The
// folder is material outside the repository, so its absence skips; a file
// qlite refuses is left to RuntimeOpRecords.RealFilesListEveryUnsupportedOp.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "peer_requirement.h"
#include "qlite/runtime.h"
#include "tflite_peer.h"

namespace qlite::test {
namespace {

using runtime::Interpreter;

std::string models_dir() {
  const char* env = std::getenv("QLITE_MODELS_DIR");
  return env != nullptr ? env : QLITE_SHARED_MODELS_DIR;
}

TEST(SharedModelsTflite, EveryLoadableFileRunsAsTflite) {
  const std::string dir = models_dir();
  if (!std::filesystem::is_directory(dir)) GTEST_SKIP() << "no models in " << dir;
  const TfLitePeer* peer = TfLitePeer::get();
  QLITE_REQUIRE_PEER(peer != nullptr, "TFLite 2.9 unavailable: " << TfLitePeer::unavailable_reason());
  int compared = 0;
  std::vector<std::string> names;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    if (entry.path().extension() != ".tflite") continue;
    const std::string path = entry.path().string();
    std::unique_ptr<Interpreter> it;
    try {
      it = Interpreter::from_file(path);
    } catch (const Error&) {
      continue;  // unsupported ops or types: listed by op_records_test
    }
    std::ifstream in(path, std::ios::binary);
    const std::vector<uint8_t> model{std::istreambuf_iterator<char>(in), {}};
    std::vector<PeerInput> inputs;
    Rng rng(11);
    for (size_t i = 0; i < it->num_inputs(); ++i) {
      const runtime::TensorInfo info = it->input_info(i);
      auto dst = it->input_bytes(i);
      std::vector<uint8_t> bytes(dst.size());
      if (info.type == lite::TensorType::kFloat32) {
        for (size_t k = 0; k + 4 <= bytes.size(); k += 4) {
          const float v = rng.uniform(-1.0f, 1.0f);
          std::memcpy(&bytes[k], &v, 4);
        }
      } else {
        for (uint8_t& b : bytes) b = static_cast<uint8_t>(rng.uniform(0.0f, 256.0f));
      }
      std::memcpy(dst.data(), bytes.data(), bytes.size());
      std::vector<int32_t> shape(info.shape.begin(), info.shape.end());
      inputs.push_back(PeerInput{shape, bytes});
    }
    it->invoke();
    const std::vector<PeerTensor> theirs = peer->run(model, inputs);
    ASSERT_EQ(theirs.size(), it->num_outputs()) << path;
    for (size_t o = 0; o < theirs.size(); ++o) {
      const auto ours = it->output_bytes(o);
      ASSERT_EQ(ours.size(), theirs[o].bytes.size()) << path;
      if (it->output_info(o).type == lite::TensorType::kFloat32) {
        const std::vector<float> t = theirs[o].values<float>();
        for (size_t k = 0; k < t.size(); ++k) {
          float v;
          std::memcpy(&v, ours.data() + 4 * k, 4);
          EXPECT_NEAR(v, t[k], 1e-5f * std::max(1.0f, std::abs(t[k]))) << path << " output " << o << "[" << k << "]";
        }
      } else {
        EXPECT_EQ(std::memcmp(ours.data(), theirs[o].bytes.data(), ours.size()), 0) << path << " output " << o;
      }
    }
    ++compared;
    names.push_back(entry.path().filename().string());
    std::printf("  same as TFLite 2.9: %s\n", entry.path().filename().string().c_str());
  }
  EXPECT_GE(compared, 1) << "no file of " << dir << " loads in qlite";
  // The files known to load must be among them (a regression that made one
  // of them fail to load would otherwise only shrink the list). The TF1-era
  // uint8 MobileNet v1 runs on the uint8 path (int8 kernels with the zero
  // points folded at pack time).
  for (const char* must : {"hello_world_float.tflite", "hello_world_int8.tflite", "micro_speech_quantized.tflite",
                           "mobilenet_v2_quantized_1x3x224x224.tflite", "mobilenet_v1_0.25_128_quant.tflite",
                           "trained_lstm_int8.tflite"})
    if (std::filesystem::exists(dir + "/" + must)) {
      EXPECT_NE(std::find(names.begin(), names.end(), must), names.end()) << must << " did not load in qlite";
    }
}

// The int8 LSTM (UNIDIRECTIONAL_SEQUENCE_LSTM with variable output and cell
// state) over consecutive invokes: the state carries from one invoke to the
// next in both runtimes, and reset_variables() matches
// TfLiteInterpreterResetVariableTensors. Step 3 repeats step 0's input after a
// reset, so it must also reproduce step 0's output (an oracle independent of
// TFLite); step 1 repeats it without a reset, so the carried state must show.
TEST(SharedModelsTflite, LstmStateCarriesAcrossInvokesAndResets) {
  const std::string path = models_dir() + "/trained_lstm_int8.tflite";
  if (!std::filesystem::exists(path)) GTEST_SKIP() << "no " << path;
  const TfLitePeer* peer = TfLitePeer::get();
  QLITE_REQUIRE_PEER(peer != nullptr, "TFLite 2.9 unavailable: " << TfLitePeer::unavailable_reason());
  std::ifstream in(path, std::ios::binary);
  const std::vector<uint8_t> model{std::istreambuf_iterator<char>(in), {}};
  for (const Isa isa : {Isa::kReference, active_isa()}) {
    runtime::InterpreterOptions options;
    options.isa = isa;
    auto it = Interpreter::from_buffer(model, options);
    ASSERT_EQ(it->num_variables(), 2u);
    const runtime::TensorInfo info = it->input_info(0);
    Rng rng(29);
    std::vector<uint8_t> first(it->input_bytes(0).size());
    for (uint8_t& b : first) b = static_cast<uint8_t>(rng.uniform(0.0f, 256.0f));
    std::vector<std::vector<PeerInput>> steps;
    const std::vector<bool> resets = {false, false, false, true, false, true};
    for (size_t s = 0; s < resets.size(); ++s) {
      std::vector<uint8_t> bytes = first;
      if (s != 1 && s != 3)
        for (uint8_t& b : bytes) b = static_cast<uint8_t>(rng.uniform(0.0f, 256.0f));
      steps.push_back({PeerInput{std::vector<int32_t>(info.shape.begin(), info.shape.end()), bytes}});
    }
    const auto theirs = peer->run_steps(model, steps, resets);
    std::vector<std::vector<uint8_t>> ours;
    for (size_t s = 0; s < steps.size(); ++s) {
      if (resets[s]) it->reset_variables();
      std::memcpy(it->input_bytes(0).data(), steps[s][0].bytes.data(), steps[s][0].bytes.size());
      it->invoke();
      const auto out = it->output_bytes(0);
      ours.emplace_back(reinterpret_cast<const uint8_t*>(out.data()),
                        reinterpret_cast<const uint8_t*>(out.data()) + out.size());
      ASSERT_EQ(ours[s], theirs[s][0].bytes) << isa_name(isa) << " invoke " << s;
    }
    EXPECT_EQ(ours[3], ours[0]) << "a reset must restore the initial state";
    EXPECT_NE(ours[1], ours[0]) << "the same input with carried state gave the same output";
  }
}

}  // namespace
}  // namespace qlite::test
