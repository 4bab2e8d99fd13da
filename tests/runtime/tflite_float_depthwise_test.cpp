// float32 DEPTHWISE_CONV_2D against TensorFlow Lite 2.9 on every kernel path
// this CPU has. AVX2 and AVX-512 run depth multiplier 1 without dilation
// through the vectorised depthwise kernel (bands of output rows, their input
// rows copied with the zero padding when the op pads); the reference Isa and
// the other cases (multiplier > 1, dilation, RELU_N1_TO_1) run the reference
// kernel. Float sums differ from TFLite's by rounding only, so outputs are
// compared within 1e-5 relative; one and two threads must give the same bits.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <string>
#include <vector>

#include "isa_runs.h"
#include "qlite/runtime.h"
#include "single_op_peer.h"

namespace qlite::test {
namespace {

using T = TensorType;
using lite::BuiltinOp;
using lite::ModelBuilder;

struct Case {
  int h = 9, w = 8, c = 5, k = 3, stride = 1, dm = 1, dilation = 1;
  bool same = true, bias = true;
  Activation act = Activation::kLinear;
  uint64_t seed = 1;
  std::string name() const {
    return std::to_string(h) + "x" + std::to_string(w) + "x" + std::to_string(c) + " k" + std::to_string(k) + " s" +
           std::to_string(stride) + " dm" + std::to_string(dm) + " d" + std::to_string(dilation) +
           (same ? " SAME" : " VALID") + (bias ? "" : " no-bias") + " act " + std::to_string(static_cast<int>(act));
  }
  int out_h() const { return same ? (h + stride - 1) / stride : (h - (k - 1) * dilation - 1) / stride + 1; }
  int out_w() const { return same ? (w + stride - 1) / stride : (w - (k - 1) * dilation - 1) / stride + 1; }
};

// bias_input false: no bias input (qlite's runs of a no-bias case); true: a
// bias input, of zeros for a no-bias case (TFLite 2.9's runs: its float
// depthwise crashes without one).
std::vector<uint8_t> depthwise_model(const Case& cs, bool bias_input) {
  Rng rng(cs.seed);
  ModelBuilder b;
  const int oc = cs.c * cs.dm;
  const int32_t x = b.add_tensor("x", T::kFloat32, {1, cs.h, cs.w, cs.c}, {}, {-1, cs.h, cs.w, cs.c});
  std::vector<float> wv(static_cast<size_t>(cs.k * cs.k * oc)), bv(static_cast<size_t>(oc));
  for (float& v : wv) v = rng.uniform() * 2 - 1;
  for (float& v : bv) v = cs.bias ? rng.uniform() - 0.5f : 0.0f;
  std::vector<int32_t> inputs{x, b.add_constant("w", T::kFloat32, {1, cs.k, cs.k, oc}, wv)};
  if (bias_input) inputs.push_back(b.add_constant("b", T::kFloat32, {oc}, bv));
  const int32_t y = b.add_tensor("y", T::kFloat32, {1, cs.out_h(), cs.out_w(), oc}, {}, {-1, cs.out_h(), cs.out_w(), oc});
  lite::DepthwiseConv2DOptions o;
  o.padding = cs.same ? Padding::kSame : Padding::kValid;
  o.stride_h = o.stride_w = cs.stride;
  o.depth_multiplier = cs.dm;
  o.activation = cs.act;
  o.dilation_h = o.dilation_w = cs.dilation;
  b.add_operator(BuiltinOp::kDepthwiseConv2D, inputs, {y}, o, cs.dilation > 1 ? 2 : 1);
  b.set_inputs({x});
  b.set_outputs({y});
  return lite::write_model(b.build());
}

std::vector<float> run_qlite(const std::vector<uint8_t>& model, Isa isa, int threads, int batch,
                             const std::vector<float>& input) {
  runtime::InterpreterOptions o;
  o.isa = isa;
  o.num_threads = threads;
  auto it = runtime::Interpreter::from_buffer(model, o);
  it->resize_batch(batch);
  const auto in = it->input_bytes(0);
  EXPECT_EQ(in.size(), input.size() * sizeof(float));
  std::memcpy(in.data(), input.data(), std::min(in.size(), input.size() * sizeof(float)));
  it->invoke();
  const auto out = it->output_bytes(0);
  std::vector<float> r(out.size() / sizeof(float));
  std::memcpy(r.data(), out.data(), r.size() * sizeof(float));
  return r;
}

// Returns how many elements were compared.
size_t expect_close_to_tflite(const TfLitePeer& peer, const Case& cs) {
  const std::vector<uint8_t> model = depthwise_model(cs, cs.bias), peer_model = depthwise_model(cs, true);
  Rng rng(cs.seed + 1000);
  size_t compared = 0;
  for (int batch : {1, 3}) {
    std::vector<float> input(static_cast<size_t>(batch * cs.h * cs.w * cs.c));
    for (float& v : input) v = rng.uniform() * 4 - 2;
    const auto outs = peer.run(peer_model, {PeerInput::of({batch, cs.h, cs.w, cs.c}, input)});
    EXPECT_EQ(outs.size(), 1u) << cs.name();
    if (outs.size() != 1) continue;
    std::vector<float> want(outs[0].bytes.size() / sizeof(float));
    std::memcpy(want.data(), outs[0].bytes.data(), want.size() * sizeof(float));
    for (Isa isa : runtime_isas()) {
      const std::vector<float> one = run_qlite(model, isa, 1, batch, input);
      const std::vector<float> two = run_qlite(model, isa, 2, batch, input);
      const std::string where = cs.name() + " " + isa_name(isa) + " batch " + std::to_string(batch);
      EXPECT_EQ(std::memcmp(one.data(), two.data(), one.size() * sizeof(float)), 0) << where << ": 2 threads differ";
      EXPECT_EQ(one.size(), want.size()) << where;
      if (one.size() != want.size()) continue;
      int bad = 0;
      for (size_t i = 0; i < want.size(); ++i)
        if (!(std::abs(one[i] - want[i]) <= 1e-5f * std::max(1.0f, std::abs(want[i]))) && bad++ < 3)
          ADD_FAILURE() << where << " element " << i << ": qlite " << one[i] << ", TFLite " << want[i];
      compared += want.size();
    }
  }
  return compared;
}

TEST(TfLiteFloatDepthwise, AwkwardShapesPaddingsStridesAndActivationsMatch) {
  QLITE_REQUIRE_TFLITE_PEER(peer);
  const Activation acts[] = {Activation::kLinear, Activation::kRelu, Activation::kRelu6, Activation::kReluN1To1};
  const int channels[] = {1, 3, 8, 13, 16, 17, 24, 33, 64};
  int cases = 0;
  uint64_t seed = 1;
  for (int k : {1, 3, 5})
    for (int stride : {1, 2})
      for (bool same : {true, false})
        for (int ci = 0; ci < 3; ++ci) {
          Case cs;
          cs.k = k, cs.stride = stride, cs.same = same;
          cs.c = channels[(seed * 5 + static_cast<uint64_t>(ci)) % 9];
          cs.h = k + 2 + static_cast<int>(seed % 7);
          cs.w = k + 1 + static_cast<int>(seed * 3 % 8);
          cs.act = acts[seed % 4];
          cs.bias = seed % 5 != 0;
          cs.seed = seed++;
          EXPECT_GT(expect_close_to_tflite(*peer, cs), 0u) << cs.name();
          ++cases;
        }
  EXPECT_EQ(cases, 36);
}

// The cases the vectorised path leaves to the reference kernel, and
// MobileNet's own layer shapes (14x14 and 7x7 at 16..64 channels, 112x112x32).
TEST(TfLiteFloatDepthwise, ReferenceFallbacksAndMobileNetLayersMatch) {
  QLITE_REQUIRE_TFLITE_PEER(peer);
  std::vector<Case> cases;
  Case dm;
  dm.c = 5, dm.dm = 3, dm.seed = 101;
  cases.push_back(dm);
  Case dil;
  dil.h = 11, dil.w = 10, dil.c = 9, dil.dilation = 2, dil.same = false, dil.seed = 102;
  cases.push_back(dil);
  for (auto [hw, c, s] : {std::tuple{14, 16, 1}, std::tuple{14, 32, 2}, std::tuple{7, 64, 1}, std::tuple{112, 32, 1}}) {
    Case m;
    m.h = m.w = hw, m.c = c, m.stride = s, m.act = Activation::kRelu6, m.seed = 200 + static_cast<uint64_t>(c);
    cases.push_back(m);
  }
  for (const Case& cs : cases) EXPECT_GT(expect_close_to_tflite(*peer, cs), 0u) << cs.name();
}

}  // namespace
}  // namespace qlite::test
