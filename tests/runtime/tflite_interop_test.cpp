// The key check: the same models run in TensorFlow Lite 2.9 (the C
// library, dlopen'ed) and in qlite on the same random inputs. int8 outputs
// (and the DEQUANTIZE of int8 outputs) must be identical bytes: qlite
// requantizes CONV_2D and FULLY_CONNECTED round-half-up as TFLite's x86 GEMM
// (ruy) does (docs/QUANTIZATION.md, tflite_rounding_test.cpp). Float outputs
// within 1e-5 relative, hybrid outputs within 1e-3 relative. "Relative" is
// |qlite - tflite| <= tol * max(|tflite|, 0.01 * max|tflite over the output|),
// so that a value near zero produced by cancellation is judged against the
// output's magnitude rather than against itself.
// Skipped with the reason when the peer library is not installed
// (scripts/install_peers.sh); under CI=true that is a failure (peer_requirement.h).
#include <gtest/gtest.h>

#include <cmath>

#include "qlite/runtime.h"
#include "runtime_models.h"
#include "tflite_peer.h"

namespace qlite::test {
namespace {

using runtime::Interpreter;

enum class Compare { kExact, kFloat, kHybrid };

std::vector<uint8_t> random_bytes(const runtime::TensorInfo& in, uint64_t seed) {
  Rng rng(seed);
  const size_t n = static_cast<size_t>(shape_numel(in.shape));
  if (in.type == TensorType::kFloat32) {
    std::vector<float> v(n);
    for (float& x : v) x = rng.uniform(-1.0f, 1.0f);
    // A few exact zeros and an all-zero image exercise the degenerate paths.
    for (size_t i = 0; i < n; i += 7) v[i] = 0.0f;
    if (in.shape[0] > 1) std::fill(v.begin(), v.begin() + static_cast<long>(n / static_cast<size_t>(in.shape[0])), 0.0f);
    std::vector<uint8_t> b(n * 4);
    std::memcpy(b.data(), v.data(), b.size());
    return b;
  }
  std::vector<uint8_t> b(n);
  for (auto& x : b) x = static_cast<uint8_t>(rng.below(256));
  return b;
}

void compare_with_tflite(const lite::ModelDef& model, Compare how, int batch, uint64_t seed) {
  const TfLitePeer* peer = TfLitePeer::get();
  const std::vector<uint8_t> bytes = lite::write_model(model);
  auto it = Interpreter::from_buffer(bytes);
  it->resize_batch(batch);
  const runtime::TensorInfo in = it->input_info(0);
  const std::vector<uint8_t> x = random_bytes(in, seed);
  std::memcpy(it->input_bytes(0).data(), x.data(), x.size());
  it->invoke();
  std::vector<int32_t> shape(in.shape.begin(), in.shape.end());
  const auto peer_out = peer->run(bytes, {PeerInput{shape, x}});
  ASSERT_EQ(peer_out.size(), it->num_outputs());
  const runtime::TensorInfo out = it->output_info(0);
  EXPECT_EQ(std::vector<int64_t>(peer_out[0].shape.begin(), peer_out[0].shape.end()), out.shape);
  const auto ours = it->output_bytes(0);
  ASSERT_EQ(peer_out[0].bytes.size(), ours.size());
  if (how == Compare::kExact) {
    EXPECT_EQ(std::memcmp(peer_out[0].bytes.data(), ours.data(), ours.size()), 0);
    if (out.type == TensorType::kInt8) {
      const auto theirs = peer_out[0].values<int8_t>();
      size_t diff = 0;
      for (size_t i = 0; i < theirs.size(); ++i) diff += theirs[i] != static_cast<int8_t>(ours[i]);
      EXPECT_EQ(diff, 0u) << "int8 values differing from TFLite";
    }
    return;
  }
  ASSERT_EQ(out.type, TensorType::kFloat32);
  const auto theirs = peer_out[0].values<float>();
  const float* mine = reinterpret_cast<const float*>(ours.data());
  float peak = 0.0f;
  for (float v : theirs) peak = std::max(peak, std::abs(v));
  const double tol = how == Compare::kFloat ? 1e-5 : 1e-3;
  double worst = 0.0;
  for (size_t i = 0; i < theirs.size(); ++i) {
    const double denom = std::max<double>(std::abs(theirs[i]), 0.01 * peak);
    const double rel = denom == 0.0 ? std::abs(mine[i]) : std::abs(mine[i] - theirs[i]) / denom;
    worst = std::max(worst, rel);
    EXPECT_LE(rel, tol) << "element " << i << ": qlite " << mine[i] << " tflite " << theirs[i];
  }
  ::testing::Test::RecordProperty("worst_relative_error", std::to_string(worst));
}

TEST(TfLiteInterop, FloatCnn) {
  QLITE_REQUIRE_TFLITE_PEER(peer);
  const CnnSpec s;
  for (bool softmax : {true, false})
    compare_with_tflite(float_cnn(s, make_cnn_weights(s), false, softmax), Compare::kFloat, 16, 1);
}

TEST(TfLiteInterop, Float16WeightCnn) {
  QLITE_REQUIRE_TFLITE_PEER(peer);
  const CnnSpec s;
  compare_with_tflite(float_cnn(s, make_cnn_weights(s), true, false), Compare::kFloat, 16, 2);
}

TEST(TfLiteInterop, Int8CnnIdentical) {
  QLITE_REQUIRE_TFLITE_PEER(peer);
  CnnSpec s;
  s.h = s.w = 10, s.c = 3, s.filters = 6, s.classes = 10;
  for (uint64_t seed : {3u, 4u}) {
    s.seed = seed;
    const CnnWeights w = make_cnn_weights(s);
    for (bool softmax : {false, true}) {
      Int8CnnParams p;
      p.int8_io = true;
      p.softmax = softmax;
      SCOPED_TRACE("softmax " + std::to_string(softmax));
      compare_with_tflite(int8_cnn(s, w, p), Compare::kExact, 32, seed);
    }
  }
}

// With float I/O: QUANTIZE, CONV_2D, RESHAPE, MAX_POOL, FULLY_CONNECTED, the
// int8 SOFTMAX table and DEQUANTIZE together, identical to TFLite.
TEST(TfLiteInterop, Int8CnnFloatIoIdentical) {
  QLITE_REQUIRE_TFLITE_PEER(peer);
  for (uint64_t seed : {1u, 6u}) {
    CnnSpec s;
    s.seed = seed;
    const CnnWeights w = make_cnn_weights(s);
    for (bool softmax : {false, true}) {
      Int8CnnParams p;
      p.softmax = softmax;
      SCOPED_TRACE("seed " + std::to_string(seed) + " softmax " + std::to_string(softmax));
      compare_with_tflite(int8_cnn(s, w, p), Compare::kExact, 16, 8 + seed);
    }
  }
}

TEST(TfLiteInterop, HybridCnnWithin1e3) {
  QLITE_REQUIRE_TFLITE_PEER(peer);
  CnnSpec s;
  s.h = s.w = 10, s.c = 3, s.filters = 8, s.classes = 12;
  const CnnWeights w = make_cnn_weights(s);
  for (bool per_channel : {true, false})
    for (bool asym : {false, true}) {
      SCOPED_TRACE("per_channel " + std::to_string(per_channel) + " asymmetric " + std::to_string(asym));
      compare_with_tflite(hybrid_cnn(s, w, {per_channel, asym}), Compare::kHybrid, 16, 5);
    }
}

TEST(TfLiteInterop, MobileOps) {
  QLITE_REQUIRE_TFLITE_PEER(peer);
  compare_with_tflite(float_mobile(21), Compare::kFloat, 8, 6);
  compare_with_tflite(int8_mobile(22), Compare::kExact, 8, 7);
}

}  // namespace
}  // namespace qlite::test
