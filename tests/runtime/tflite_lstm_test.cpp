// UNIDIRECTIONAL_SEQUENCE_LSTM against the real TensorFlow Lite 2.9: one-op
// files with random weights (lstm_models.h), float32 and int8 with an int16
// cell state, time-major and batch-major, batches of 1 and 3, with and
// without CIFG, cell clipping, several cell-state scales and zero points. One
// interpreter of each runtime is invoked four times on random inputs with a
// reset of the variable tensors before the third invoke: int8 outputs must be
// byte-identical at every invoke, float outputs within 1e-5 relative.
// Variants qlite does not build (peephole, projection, layer normalization)
// are refused with a one-line error. A failure under CI=true when the peer is
// missing (scripts/install_peers.sh).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <string>
#include <vector>

#include "lstm_models.h"
#include "peer_requirement.h"
#include "qlite_run.h"
#include "qlite/runtime.h"
#include "tflite_peer.h"

namespace qlite::test {
namespace {

using runtime::Interpreter;

std::string describe(const LstmSpec& s) {
  return std::string(s.int8 ? "int8" : "float32") + (s.time_major ? " time-major" : " batch-major") +
         " batch " + std::to_string(s.batch) + " time " + std::to_string(s.time) + " input " +
         std::to_string(s.n_input) + " cells " + std::to_string(s.n_cell) + (s.cifg ? " CIFG" : "") +
         " clip " + std::to_string(s.cell_clip) + " cell 2^" + std::to_string(s.cell_log2) + " zps " +
         std::to_string(s.input_zp) + "/" + std::to_string(s.state_zp) + "/" + std::to_string(s.hidden_zp) +
         " seed " + std::to_string(s.seed);
}

void compare_with_tflite(const TfLitePeer& peer, const LstmSpec& spec, int* identical_floats, int* floats) {
  SCOPED_TRACE(describe(spec));
  const std::vector<uint8_t> model = lite::write_model(lstm_model(spec));
  auto it = Interpreter::from_buffer(model);
  ASSERT_EQ(it->num_variables(), 2u);
  const runtime::TensorInfo info = it->input_info(0);
  Rng rng(spec.seed * 7919 + 5);
  const std::vector<bool> resets = {false, false, true, false};
  std::vector<std::vector<PeerInput>> steps;
  for (size_t s = 0; s < resets.size(); ++s) {
    std::vector<uint8_t> bytes(it->input_bytes(0).size());
    if (spec.int8) {
      for (uint8_t& b : bytes) b = static_cast<uint8_t>(rng.below(256));
    } else {
      for (size_t k = 0; k + 4 <= bytes.size(); k += 4) {
        const float v = rng.uniform(-2.0f, 2.0f);
        std::memcpy(&bytes[k], &v, 4);
      }
    }
    steps.push_back({PeerInput{std::vector<int32_t>(info.shape.begin(), info.shape.end()), bytes}});
  }
  const auto theirs = peer.run_steps(model, steps, resets);
  std::vector<std::vector<uint8_t>> inputs;
  for (const auto& step : steps) inputs.push_back(step[0].bytes);
  const auto all_ours = run_steps_in_qlite(model, inputs, resets);
  for (size_t s = 0; s < steps.size(); ++s) {
    const std::vector<uint8_t>& ours = all_ours[s];
    const std::vector<uint8_t>& t = theirs[s].at(0).bytes;
    ASSERT_EQ(ours.size(), t.size()) << "invoke " << s;
    if (spec.int8) {
      ASSERT_EQ(std::memcmp(ours.data(), t.data(), t.size()), 0) << "invoke " << s;
    } else {
      for (size_t k = 0; k < t.size() / 4; ++k) {
        float a, b;
        std::memcpy(&a, ours.data() + 4 * k, 4);
        std::memcpy(&b, t.data() + 4 * k, 4);
        ASSERT_NEAR(a, b, 1e-5f * std::max(1.0f, std::abs(b))) << "invoke " << s << " value " << k;
        *identical_floats += a == b;
        ++*floats;
      }
    }
  }
}

std::vector<LstmSpec> specs(bool int8) {
  std::vector<LstmSpec> v;
  uint64_t seed = int8 ? 100 : 200;
  for (bool time_major : {false, true})
    for (int batch : {1, 3})
      for (bool cifg : {false, true}) {
        LstmSpec s;
        s.int8 = int8;
        s.time_major = time_major;
        s.batch = batch;
        s.cifg = cifg;
        s.seed = ++seed;
        v.push_back(s);
      }
  LstmSpec wide;  // awkward sizes, long sequence, clipping
  wide.int8 = int8, wide.n_input = 28, wide.n_cell = 20, wide.time = 28, wide.batch = 2, wide.cell_clip = 3.0f;
  wide.seed = ++seed;
  v.push_back(wide);
  LstmSpec zps;  // other zero points and cell-state scales
  zps.int8 = int8, zps.input_zp = -128, zps.state_zp = 17, zps.hidden_zp = 5, zps.cell_log2 = -15, zps.n_cell = 7;
  zps.seed = ++seed;
  v.push_back(zps);
  LstmSpec coarse = zps;
  coarse.cell_log2 = -9, coarse.hidden_zp = 0, coarse.input_zp = 127, coarse.state_zp = -128, coarse.seed = ++seed;
  v.push_back(coarse);
  if (!int8) {
    LstmSpec relu;
    relu.int8 = false, relu.activation = lite::Activation::kRelu6, relu.cell_clip = 0.5f, relu.seed = ++seed;
    v.push_back(relu);
    LstmSpec two_d;  // rank-2 input: one time step
    two_d.int8 = false, two_d.time = 1, two_d.seed = ++seed;
    v.push_back(two_d);
  }
  return v;
}

TEST(TfliteLstm, Int8MatchesTfliteByteForByteAcrossInvokesAndResets) {
  const TfLitePeer* peer = TfLitePeer::get();
  QLITE_REQUIRE_PEER(peer != nullptr, "TFLite 2.9 unavailable: " << TfLitePeer::unavailable_reason());
  int same = 0, total = 0;
  const std::vector<LstmSpec> all = specs(true);
  for (const LstmSpec& s : all) compare_with_tflite(*peer, s, &same, &total);
  std::printf("  int8 LSTM: %zu files, 4 invokes each, byte-identical to TFLite 2.9\n", all.size());
}

TEST(TfliteLstm, FloatMatchesTfliteAcrossInvokesAndResets) {
  const TfLitePeer* peer = TfLitePeer::get();
  QLITE_REQUIRE_PEER(peer != nullptr, "TFLite 2.9 unavailable: " << TfLitePeer::unavailable_reason());
  int same = 0, total = 0;
  for (const LstmSpec& s : specs(false)) compare_with_tflite(*peer, s, &same, &total);
  std::printf("  float LSTM: %d of %d outputs bit-identical to TFLite 2.9\n", same, total);
  EXPECT_GT(total, 0);
}

// The variable state is the only memory: the same input after a reset gives
// the first output again, without one it does not (no peer needed).
TEST(TfliteLstm, StateCarriesUntilReset) {
  for (bool int8 : {true, false}) {
    LstmSpec s;
    s.int8 = int8;
    s.batch = 2;
    auto it = Interpreter::from_buffer(lite::write_model(lstm_model(s)));
    auto in = it->input_bytes(0);
    Rng rng(3);
    for (auto& b : in) b = static_cast<std::byte>(int8 ? rng.below(256) : 0);
    if (!int8)
      for (size_t k = 0; k + 4 <= in.size(); k += 4) {
        const float v = rng.uniform(-1.0f, 1.0f);
        std::memcpy(in.data() + k, &v, 4);
      }
    auto out = [&] {
      it->invoke();
      const auto o = it->output_bytes(0);
      return std::vector<std::byte>(o.begin(), o.end());
    };
    const auto first = out();
    const auto second = out();
    EXPECT_NE(first, second) << (int8 ? "int8" : "float");
    it->reset_variables();
    EXPECT_EQ(out(), first) << (int8 ? "int8" : "float");
  }
}

TEST(TfliteLstm, VariantsNotBuiltAreOneLineErrors) {
  struct Case {
    const char* what;
    void (*edit)(lite::ModelDef&);
    const char* message;
  };
  // Tensor 1 is the input gate's input weights [6, 5]; the state tensors are
  // inputs 18 and 19 of operator 0.
  const Case cases[] = {
      {"peephole", [](lite::ModelDef& m) { m.subgraphs[0].operators[0].inputs[10] = 1; }, "peephole connections"},
      {"projection", [](lite::ModelDef& m) { m.subgraphs[0].operators[0].inputs[16] = 1; }, "projection"},
      {"layer norm", [](lite::ModelDef& m) { m.subgraphs[0].operators[0].inputs[21] = 1; }, "layer normalization"},
      {"state not variable", [](lite::ModelDef& m) {
         const auto h = static_cast<size_t>(m.subgraphs[0].operators[0].inputs[18]);
         m.subgraphs[0].tensors[h].is_variable = false;
       }, "before any operator writes it"},  // the validator: an ordinary tensor nobody writes
      {"no intermediates", [](lite::ModelDef& m) { m.subgraphs[0].operators[0].intermediates.clear(); },
       "5 intermediate tensors"},
      {"cell state not a power of two", [](lite::ModelDef& m) {
         const auto c = static_cast<size_t>(m.subgraphs[0].operators[0].inputs[19]);
         m.subgraphs[0].tensors[c].quantization.scale = {0.0003f};
       }, "power-of-two scale"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.what);
    lite::ModelDef m = lstm_model(LstmSpec{});
    c.edit(m);
    try {
      Interpreter::from_buffer(lite::write_model(m, lite::WriteOptions{false}));
      ADD_FAILURE() << "loaded";
    } catch (const Error& e) {
      const std::string msg = e.what();
      EXPECT_NE(msg.find(c.message), std::string::npos) << msg;
      EXPECT_NE(msg.find("UNIDIRECTIONAL_SEQUENCE_LSTM"), std::string::npos) << msg;
      EXPECT_EQ(msg.find('\n'), std::string::npos) << "one line: " << msg;
    }
  }
}

}  // namespace
}  // namespace qlite::test
