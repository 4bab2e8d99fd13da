// The real-TFLite check: models written by qlite's writer run in TensorFlow
// Lite 2.9 (the C library loaded with dlopen), and TFLite's outputs match values
// computed independently here. Skipped when the library is not installed
// (scripts/install_peers.sh), a failure under CI=true (peer_requirement.h).
#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "qlite/lite.h"
#include "sample_models.h"
#include "tflite_peer.h"

namespace qlite::test {
namespace {

TEST(TfLitePeer, ReportsVersion29) {
  QLITE_REQUIRE_TFLITE_PEER(peer);
  EXPECT_EQ(peer->version().rfind("2.9", 0), 0u) << peer->version();
}

// W and b from sample_models.h; y = relu(W x + b), computed by hand:
//   x = [1, 2, 3, 4]:      [1+4+9+16+0.5, -1+1+0+8-1, 0.25-4+3-4+2] = [30.5, 7, relu(-2.75)=0]
//   x = [-1, -1, -1, -1]:  [-10+0.5, -1.5-1, 1.75+2]                = [0, 0, 3.75]
//   x = [0.5, 0, -0.5, 1]: [0.5-1.5+4+0.5, -0.5+2-1, 0.125-0.5-1+2]  = [3.5, 0.5, 0.625]
TEST(TfLitePeer, FloatFullyConnectedReluAndReshapeAtBatch1And3) {
  QLITE_REQUIRE_TFLITE_PEER(peer);
  const std::vector<uint8_t> bytes = lite::write_model(float_fc_reshape_model());

  auto out1 = peer->run(bytes, {PeerInput::of<float>({1, 4}, {1, 2, 3, 4})});
  ASSERT_EQ(out1.size(), 1u);
  EXPECT_EQ(out1[0].type, static_cast<int>(PeerType::kFloat32));
  EXPECT_EQ(out1[0].shape, (std::vector<int32_t>{1, 3, 1}));
  const std::vector<float> y1 = out1[0].values<float>();
  const std::vector<float> want1 = {30.5f, 7.0f, 0.0f};
  ASSERT_EQ(y1.size(), want1.size());
  for (size_t i = 0; i < y1.size(); ++i) EXPECT_FLOAT_EQ(y1[i], want1[i]) << i;

  auto out3 = peer->run(
      bytes, {PeerInput::of<float>({3, 4}, {1, 2, 3, 4, -1, -1, -1, -1, 0.5f, 0, -0.5f, 1})});
  ASSERT_EQ(out3.size(), 1u);
  EXPECT_EQ(out3[0].shape, (std::vector<int32_t>{3, 3, 1}));
  const std::vector<float> y3 = out3[0].values<float>();
  const std::vector<float> want3 = {30.5f, 7.0f, 0.0f, 0.0f, 0.0f, 3.75f, 3.5f, 0.5f, 0.625f};
  ASSERT_EQ(y3.size(), want3.size());
  for (size_t i = 0; i < y3.size(); ++i) EXPECT_FLOAT_EQ(y3[i], want3[i]) << i;
}

// ---- docs/QUANTIZATION.md integer arithmetic, written out here as the oracle.

void quantize_multiplier(double m, int32_t& m0, int& shift) {
  if (m == 0.0) {
    m0 = 0, shift = 0;
    return;
  }
  const double q = std::frexp(m, &shift);
  int64_t q_fixed = std::llround(q * (int64_t{1} << 31));
  if (q_fixed == (int64_t{1} << 31)) q_fixed /= 2, ++shift;
  if (shift < -31) shift = 0, q_fixed = 0;
  m0 = static_cast<int32_t>(q_fixed);
}

int32_t srdhm(int32_t a, int32_t b) {
  if (a == b && a == std::numeric_limits<int32_t>::min()) return std::numeric_limits<int32_t>::max();
  const int64_t ab = static_cast<int64_t>(a) * b;
  const int64_t nudge = ab >= 0 ? (int64_t{1} << 30) : 1 - (int64_t{1} << 30);
  return static_cast<int32_t>((ab + nudge) / (int64_t{1} << 31));
}

int32_t rounding_divide_by_pot(int32_t x, int e) {
  const int32_t mask = static_cast<int32_t>((int64_t{1} << e) - 1);
  const int32_t remainder = x & mask;
  const int32_t threshold = (mask >> 1) + (x < 0 ? 1 : 0);
  return (x >> e) + (remainder > threshold ? 1 : 0);
}

int32_t multiply_by_quantized_multiplier(int32_t x, int32_t m0, int shift) {
  const int left = shift > 0 ? shift : 0;
  const int right = shift > 0 ? 0 : -shift;
  return rounding_divide_by_pot(srdhm(static_cast<int32_t>(x * (int64_t{1} << left)), m0), right);
}

std::vector<int8_t> int8_fc_oracle(const Int8FcParams& p, const std::vector<int8_t>& x, int batch) {
  int32_t m0;
  int shift;
  // TFLite forms the multiplier in double from the float scales.
  quantize_multiplier(static_cast<double>(p.in_scale) * static_cast<double>(p.w_scale) /
                          static_cast<double>(p.out_scale),
                      m0, shift);
  int32_t act_min = -128, act_max = 127;
  if (p.activation == lite::Activation::kRelu) act_min = std::max(act_min, p.out_zp);
  std::vector<int8_t> y;
  for (int b = 0; b < batch; ++b) {
    for (int o = 0; o < p.out; ++o) {
      int32_t acc = p.bias[static_cast<size_t>(o)];
      for (int k = 0; k < p.in; ++k)
        acc += static_cast<int32_t>(p.weights[static_cast<size_t>(o * p.in + k)]) *
               (static_cast<int32_t>(x[static_cast<size_t>(b * p.in + k)]) - p.in_zp);
      const int32_t v = multiply_by_quantized_multiplier(acc, m0, shift) + p.out_zp;
      y.push_back(static_cast<int8_t>(std::clamp(v, act_min, act_max)));
    }
  }
  return y;
}

TEST(TfLitePeer, Int8FullyConnectedMatchesIntegerOracleExactly) {
  QLITE_REQUIRE_TFLITE_PEER(peer);
  Rng rng(7);
  for (const lite::Activation act : {lite::Activation::kLinear, lite::Activation::kRelu}) {
    Int8FcParams p;
    p.in = 37, p.out = 11;
    p.in_scale = 0.0213f, p.w_scale = 0.00731f, p.out_scale = 0.517f;
    p.in_zp = -7, p.out_zp = 3;
    p.activation = act;
    for (int i = 0; i < p.in * p.out; ++i)
      p.weights.push_back(static_cast<int8_t>(static_cast<int>(rng.below(255)) - 127));
    for (int o = 0; o < p.out; ++o)
      p.bias.push_back(static_cast<int32_t>(rng.below(20001)) - 10000);
    const std::vector<uint8_t> bytes = lite::write_model(int8_fc_model(p));
    for (const int batch : {1, 5}) {
      std::vector<int8_t> x;
      for (int i = 0; i < batch * p.in; ++i)
        x.push_back(static_cast<int8_t>(static_cast<int>(rng.below(256)) - 128));
      const auto out = peer->run(bytes, {PeerInput::of<int8_t>({batch, p.in}, x)});
      ASSERT_EQ(out.size(), 1u);
      EXPECT_EQ(out[0].type, static_cast<int>(PeerType::kInt8));
      EXPECT_EQ(out[0].shape, (std::vector<int32_t>{batch, p.out}));
      EXPECT_FLOAT_EQ(out[0].scale, p.out_scale);
      EXPECT_EQ(out[0].zero_point, p.out_zp);
      const std::vector<int8_t> want = int8_fc_oracle(p, x, batch);
      const std::vector<int8_t> got = out[0].values<int8_t>();
      ASSERT_EQ(got.size(), want.size());
      int in_range = 0;
      for (size_t i = 0; i < got.size(); ++i) {
        EXPECT_EQ(got[i], want[i]) << "batch " << batch << " element " << i;
        in_range += want[i] > std::max<int32_t>(-128, act == lite::Activation::kRelu ? p.out_zp : -128) &&
                    want[i] < 127;
      }
      // The data must exercise requantization, not only saturation and the ReLU floor.
      EXPECT_GE(in_range, static_cast<int>(want.size()) / 3);
    }
  }
}

TEST(TfLitePeer, Int8FullyConnectedWithReshapeFromOptionsOnly) {
  QLITE_REQUIRE_TFLITE_PEER(peer);
  Int8FcParams p;
  p.weights = {127, -127, 3, 0, 10, 20, -30, 40, -1, -2, -3, -4};
  p.bias = {100, -200, 0};
  // By hand, x = [10, -3, 0, 5], x - zp_in = [13, 0, 3, 8]:
  //   acc = [100 + 1651 + 0 + 9 + 0, -200 + 130 - 90 + 320, 0 - 13 - 9 - 32] = [1760, 160, -54]
  //   M = 0.05 * 0.02 / 0.07 = 1/70; acc / 70 = [25.14, 2.29, -0.77] -> round [25, 2, -1]
  //   + zp_out 5 = [30, 7, 4]
  const auto out = peer->run(lite::write_model(int8_fc_model(p, true)),
                             {PeerInput::of<int8_t>({1, 4}, {10, -3, 0, 5})});
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].shape, (std::vector<int32_t>{1, 3, 1}));
  EXPECT_EQ(out[0].values<int8_t>(), (std::vector<int8_t>{30, 7, 4}));
}

TEST(TfLitePeer, BrokenModelIsReportedNotCrashed) {
  QLITE_REQUIRE_TFLITE_PEER(peer);
  lite::ModelDef m = float_fc_reshape_model();
  m.subgraphs[0].operators[0].inputs.pop_back();
  m.subgraphs[0].operators[0].inputs.pop_back();  // FC with only an input
  const auto bytes = lite::write_model(m, lite::WriteOptions{.validate = false});
  EXPECT_THROW(peer->run(bytes, {PeerInput::of<float>({1, 4}, {1, 2, 3, 4})}), Error);
}

}  // namespace
}  // namespace qlite::test
