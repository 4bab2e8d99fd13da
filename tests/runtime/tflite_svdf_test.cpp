// SVDF against the real TensorFlow Lite 2.9: one-op files with the state as a
// variable tensor, invoked five times in a row (the state carries over, and
// is reset before the fourth invoke in both), over seeded random shapes
// (batch, input size, units, rank, memory), with and without bias.
//  - int8 (int16 state and time weights): byte-identical at every invoke,
//    over quantizations where the feature products saturate the int16 state;
//  - float32: within 1e-5 relative, every fused activation TFLite applies;
//  - a small case worked by hand;
//  - files TFLite refuses (int8 without RELU, rank not dividing the filters)
//    are refused by qlite too, and the hybrid form with one line.
// A failure under CI=true when the peer is missing.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <string>
#include <vector>

#include "qlite/runtime.h"
#include "single_op_peer.h"

namespace qlite::test {
namespace {

using T = TensorType;
using runtime::Interpreter;

struct SvdfSpec {
  bool int8 = false;
  int batch = 1, input_size = 4, units = 2, rank = 1, memory = 3;
  bool bias = true;
  Activation act = Activation::kRelu;
  uint64_t seed = 1;
  std::string str() const {
    return std::string(int8 ? "int8" : "float32") + " batch " + std::to_string(batch) + " input " +
           std::to_string(input_size) + " units " + std::to_string(units) + " rank " + std::to_string(rank) +
           " memory " + std::to_string(memory) + (bias ? " bias" : "") + " " + lite::activation_name(act) +
           " seed " + std::to_string(seed);
  }
};

template <class V>
std::vector<uint8_t> bytes_of(const std::vector<V>& v) {
  std::vector<uint8_t> b(v.size() * sizeof(V));
  if (!b.empty()) std::memcpy(b.data(), v.data(), b.size());
  return b;
}

lite::ModelDef svdf_model(const SvdfSpec& s) {
  Rng rng(s.seed);
  ModelBuilder b;
  const int filters = s.units * s.rank;
  int32_t in, wf, wt, bias = -1, state, out;
  if (!s.int8) {
    std::vector<float> f(static_cast<size_t>(filters) * s.input_size), t(static_cast<size_t>(filters) * s.memory),
        bv(static_cast<size_t>(s.units));
    for (float& v : f) v = rng.uniform(-1, 1);
    for (float& v : t) v = rng.uniform(-1, 1);
    for (float& v : bv) v = rng.uniform(-0.5f, 0.5f);
    in = b.add_tensor("input", T::kFloat32, {s.batch, s.input_size});
    wf = b.add_constant("weights_feature", T::kFloat32, {filters, s.input_size}, f);
    wt = b.add_constant("weights_time", T::kFloat32, {filters, s.memory}, t);
    if (s.bias) bias = b.add_constant("bias", T::kFloat32, {s.units}, bv);
    state = b.add_tensor("state", T::kFloat32, {s.batch, filters * s.memory});
    out = b.add_tensor("output", T::kFloat32, {s.batch, s.units});
  } else {
    std::vector<int8_t> f(static_cast<size_t>(filters) * s.input_size);
    std::vector<int16_t> t(static_cast<size_t>(filters) * s.memory);
    std::vector<int32_t> bv(static_cast<size_t>(s.units));
    for (int8_t& v : f) v = static_cast<int8_t>(static_cast<int>(rng.below(255)) - 127);
    for (int16_t& v : t) v = static_cast<int16_t>(static_cast<int>(rng.below(8001)) - 4000);
    for (int32_t& v : bv) v = static_cast<int32_t>(rng.below(200001)) - 100000;
    const float in_s = rng.uniform(0.01f, 0.05f), wf_s = rng.uniform(0.002f, 0.02f);
    // A state scale small enough that some feature products saturate int16.
    const float st_s = in_s * wf_s * rng.uniform(0.5f, 8.0f), wt_s = rng.uniform(1e-4f, 1e-3f);
    const float out_s = st_s * wt_s * rng.uniform(2e4f, 4e5f);
    in = b.add_tensor("input", T::kInt8, {s.batch, s.input_size},
                      Quantization::per_tensor(in_s, static_cast<int64_t>(rng.below(41)) - 20));
    wf = b.add_constant("weights_feature", T::kInt8, {filters, s.input_size}, f, Quantization::per_tensor(wf_s, 0));
    wt = b.add_constant("weights_time", T::kInt16, {filters, s.memory}, t, Quantization::per_tensor(wt_s, 0));
    if (s.bias)
      bias = b.add_constant("bias", T::kInt32, {s.units}, bv, Quantization::per_tensor(st_s * wt_s, 0));
    state = b.add_tensor("state", T::kInt16, {s.batch, filters * s.memory}, Quantization::per_tensor(st_s, 0));
    out = b.add_tensor("output", T::kInt8, {s.batch, s.units},
                       Quantization::per_tensor(out_s, static_cast<int64_t>(rng.below(41)) - 20));
  }
  b.graph().tensors[static_cast<size_t>(state)].is_variable = true;
  b.add_operator(BuiltinOp::kSvdf, {in, wf, wt, bias, state}, {out}, lite::SvdfOptions{s.rank, s.act, false},
                 s.int8 ? 3 : 1);
  b.set_inputs({in});
  b.set_outputs({out});
  return b.build();
}

std::vector<uint8_t> random_input(Rng& rng, const SvdfSpec& s) {
  const size_t n = static_cast<size_t>(s.batch) * s.input_size;
  if (s.int8) {
    std::vector<uint8_t> v(n);
    for (uint8_t& x : v) x = static_cast<uint8_t>(rng.below(256));
    return v;
  }
  std::vector<float> v(n);
  for (float& x : v) x = rng.uniform(-2, 2);
  return bytes_of(v);
}

// Returns the number of values compared; *inside counts int8 outputs off the int8 bounds.
int compare_with_tflite(const TfLitePeer& peer, const SvdfSpec& s, int* inside = nullptr) {
  SCOPED_TRACE(s.str());
  const std::vector<uint8_t> model = lite::write_model(svdf_model(s));
  Rng rng(s.seed * 31 + 7);
  const std::vector<bool> resets = {false, false, false, true, false};
  std::vector<std::vector<PeerInput>> steps;
  std::vector<std::vector<uint8_t>> inputs;
  for (size_t k = 0; k < resets.size(); ++k) {
    inputs.push_back(random_input(rng, s));
    steps.push_back({PeerInput{{s.batch, s.input_size}, inputs.back()}});
  }
  const auto theirs = peer.run_steps(model, steps, resets);
  const auto all_ours = run_steps_in_qlite(model, inputs, resets);
  int compared = 0;
  for (size_t k = 0; k < steps.size(); ++k) {
    const std::vector<uint8_t>& ours = all_ours[k];
    const std::vector<uint8_t>& t = theirs[k].at(0).bytes;
    EXPECT_EQ(ours.size(), t.size()) << "invoke " << k;
    if (ours.size() != t.size()) return compared;
    if (s.int8) {
      EXPECT_EQ(std::memcmp(ours.data(), t.data(), t.size()), 0) << "invoke " << k;
      compared += static_cast<int>(t.size());
      if (inside)
        for (uint8_t v : t) *inside += v != 0x80 && v != 0x7f;
    } else {
      for (size_t i = 0; i < t.size() / 4; ++i) {
        float a, e;
        std::memcpy(&a, ours.data() + 4 * i, 4);
        std::memcpy(&e, t.data() + 4 * i, 4);
        EXPECT_NEAR(a, e, 1e-5f * std::max(1.0f, std::abs(e))) << "invoke " << k << " value " << i;
        ++compared;
      }
    }
  }
  return compared;
}

std::vector<SvdfSpec> random_specs(bool int8, uint64_t seed, int count) {
  Rng rng(seed);
  std::vector<SvdfSpec> v;
  const Activation float_acts[] = {Activation::kLinear, Activation::kRelu, Activation::kRelu6, Activation::kReluN1To1,
                                   Activation::kTanh};
  for (int i = 0; i < count; ++i) {
    SvdfSpec s;
    s.int8 = int8;
    s.batch = 1 + static_cast<int>(rng.below(3));
    s.input_size = 1 + static_cast<int>(rng.below(40));
    s.units = 1 + static_cast<int>(rng.below(8));
    s.rank = 1 + static_cast<int>(rng.below(3));
    s.memory = 1 + static_cast<int>(rng.below(10));
    s.bias = rng.below(4) != 0;
    s.act = int8 ? Activation::kRelu : float_acts[rng.below(5)];
    s.seed = seed * 1000 + static_cast<uint64_t>(i);
    v.push_back(s);
  }
  return v;
}

TEST(TfliteSvdf, Int8MatchesTfliteExactlyAcrossInvokes) {
  QLITE_REQUIRE_TFLITE_PEER(peer);
  int values = 0, inside = 0;
  for (const SvdfSpec& s : random_specs(true, 27, 60)) values += compare_with_tflite(*peer, s, &inside);
  EXPECT_GT(values, 2000);
  // Most outputs must lie inside the int8 range, or the comparison says little.
  EXPECT_GT(inside, values / 2) << inside << " of " << values;
  RecordProperty("values", values);
  RecordProperty("inside_int8_bounds", inside);
}

TEST(TfliteSvdf, FloatMatchesTfliteAcrossInvokes) {
  QLITE_REQUIRE_TFLITE_PEER(peer);
  int values = 0;
  for (const SvdfSpec& s : random_specs(false, 28, 60)) values += compare_with_tflite(*peer, s);
  EXPECT_GT(values, 2000);
  RecordProperty("values", values);
}

// One unit, rank 1, memory 2, input 2, worked by hand: weights_feature
// (1, 2), weights_time (3, 4), bias 0.5, no activation. Invoke 1 with (1, 1):
// activation 3, state (0, 3), output 4 * 3 + 0.5 = 12.5. Invoke 2 with
// (2, 0): activation 2, state (3, 2), output 3 * 3 + 4 * 2 + 0.5 = 17.5.
TEST(Svdf, HandComputedFloat) {
  ModelBuilder b;
  const int32_t in = b.add_tensor("input", T::kFloat32, {1, 2});
  const int32_t wf = b.add_constant("wf", T::kFloat32, {1, 2}, std::vector<float>{1, 2});
  const int32_t wt = b.add_constant("wt", T::kFloat32, {1, 2}, std::vector<float>{3, 4});
  const int32_t bias = b.add_constant("bias", T::kFloat32, {1}, std::vector<float>{0.5f});
  const int32_t state = b.add_tensor("state", T::kFloat32, {1, 2});
  b.graph().tensors[static_cast<size_t>(state)].is_variable = true;
  const int32_t out = b.add_tensor("out", T::kFloat32, {1, 1});
  b.add_operator(BuiltinOp::kSvdf, {in, wf, wt, bias, state}, {out},
                 lite::SvdfOptions{1, Activation::kLinear, false});
  b.set_inputs({in});
  b.set_outputs({out});
  const std::vector<uint8_t> bytes = b.finish();
  // The options survive a write and a read, and inspect() shows them.
  const lite::ModelDef back = lite::read_model(bytes);
  EXPECT_EQ(std::get<lite::SvdfOptions>(back.subgraphs[0].operators[0].options),
            (lite::SvdfOptions{1, Activation::kLinear, false}));
  const std::string text = lite::inspect(back);
  EXPECT_NE(text.find("SVDF v1 rank=1"), std::string::npos) << text;
  auto it = Interpreter::from_buffer(bytes);
  auto run = [&](float x0, float x1) {
    const float x[2] = {x0, x1};
    std::memcpy(it->input_bytes(0).data(), x, sizeof x);
    it->invoke();
    float y;
    std::memcpy(&y, it->output_bytes(0).data(), 4);
    return y;
  };
  EXPECT_EQ(run(1, 1), 12.5f);
  EXPECT_EQ(run(2, 0), 17.5f);
  it->reset_variables();
  EXPECT_EQ(run(1, 1), 12.5f);
}

TEST(TfliteSvdf, RefusedWhereTfliteRefuses) {
  QLITE_REQUIRE_TFLITE_PEER(peer);
  auto both_refuse = [&](const lite::ModelDef& m, const std::string& ours_contains) {
    const std::vector<uint8_t> bytes = lite::write_model(m, lite::WriteOptions{false});
    std::string theirs;
    try {
      const auto& g = m.subgraphs[0];
      const auto& t = g.tensors[static_cast<size_t>(g.inputs[0])];
      peer->run(bytes, {PeerInput{t.shape, std::vector<uint8_t>(
                                                static_cast<size_t>(t.shape[0] * t.shape[1]) *
                                                lite::tensor_type_size(t.type))}});
    } catch (const Error& e) {
      theirs = e.what();
    }
    EXPECT_NE(theirs, "") << ours_contains << ": TFLite ran it";
    std::string ours;
    try {
      Interpreter::from_buffer(bytes);
    } catch (const Error& e) {
      ours = e.what();
    }
    EXPECT_NE(ours.find(ours_contains), std::string::npos) << ours;
  };
  SvdfSpec s;
  s.int8 = true;
  s.act = Activation::kLinear;
  both_refuse(svdf_model(s), "needs the fused activation RELU");
  SvdfSpec r;
  r.units = 3;
  r.rank = 2;
  lite::ModelDef m = svdf_model(r);
  std::get<lite::SvdfOptions>(m.subgraphs[0].operators[0].options).rank = 4;  // 6 filters
  both_refuse(m, "rank 4 must divide the 6 filters");

  // The hybrid form: float input, int8 weights.
  ModelBuilder b;
  const int32_t in = b.add_tensor("input", T::kFloat32, {1, 2});
  const int32_t wf = b.add_constant("wf", T::kInt8, {1, 2}, std::vector<int8_t>{1, 2}, Quantization::per_tensor(0.1f, 0));
  const int32_t wt = b.add_constant("wt", T::kInt8, {1, 2}, std::vector<int8_t>{3, 4}, Quantization::per_tensor(0.1f, 0));
  const int32_t state = b.add_tensor("state", T::kFloat32, {1, 2});
  b.graph().tensors[static_cast<size_t>(state)].is_variable = true;
  const int32_t out = b.add_tensor("out", T::kFloat32, {1, 1});
  b.add_operator(BuiltinOp::kSvdf, {in, wf, wt, -1, state}, {out}, lite::SvdfOptions{1, Activation::kRelu, false}, 2);
  b.set_inputs({in});
  b.set_outputs({out});
  std::string hybrid;
  try {
    Interpreter::from_buffer(b.finish());
  } catch (const Error& e) {
    hybrid = e.what();
  }
  EXPECT_NE(hybrid.find("SVDF"), std::string::npos) << hybrid;
  EXPECT_NE(hybrid.find("hybrid form"), std::string::npos) << hybrid;
}

}  // namespace
}  // namespace qlite::test
