// int16 LOGISTIC, TANH and SOFTMAX against the real TensorFlow Lite 2.9: the
// same one-op .tflite file and input bytes give the same output bytes in
// qlite's interpreter (on every Isa it has).
//  - LOGISTIC / TANH: every one of the 65,536 input values under many input
//    scales: the power-of-two scales TFLite runs in gemmlowp fixed point
//    (2^-12 for both, 2^-11 for TANH), near-powers within CheckedLog2's
//    tolerance, and general scales from 1e-7 to 1e3 that take the
//    interpolated-table path; which path each case took is counted so that
//    both are known to be covered.
//  - SOFTMAX: random rows of many lengths and betas, ranks 1 to 4.
//  - Files TFLite refuses (zero points other than 0, output scales other than
//    TFLite's fixed 2^-15, int16 SOFTMAX of rank 5) are refused by qlite.
// A failure under CI=true when the peer is missing (scripts/install_peers.sh).
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <cstring>
#include <numeric>
#include <string>
#include <vector>

#include "isa_runs.h"
#include "kernels/reference/int16_activation_kernels.h"
#include "single_op_peer.h"

namespace qlite::test {
namespace {

using T = TensorType;

std::vector<uint8_t> unary_model(BuiltinOp op, const std::vector<int32_t>& shape, float in_scale, int64_t in_zp,
                                 float out_scale, int64_t out_zp, float beta = 1.0f) {
  ModelBuilder b;
  const int32_t x = b.add_tensor("x", T::kInt16, shape, Quantization::per_tensor(in_scale, in_zp));
  const int32_t y = b.add_tensor("y", T::kInt16, shape, Quantization::per_tensor(out_scale, out_zp));
  lite::OpOptions options;
  if (op == BuiltinOp::kSoftmax) options = lite::SoftmaxOptions{beta};
  b.add_operator(op, {x}, {y}, options);
  b.set_inputs({x});
  b.set_outputs({y});
  return b.finish();
}

// Every int16 value once, shuffled, as a [256, 256] tensor.
std::vector<int16_t> every_value(Rng& rng) {
  std::vector<int16_t> v(65536);
  std::iota(v.begin(), v.end(), int16_t{-32768});
  rng.shuffle(v);
  return v;
}

// TFLite and qlite on every Isa: both refuse, or both give the same bytes.
// Returns 1 when both ran, 0 when both refused.
int compare(const TfLitePeer& peer, const std::vector<uint8_t>& model, const std::vector<int32_t>& shape,
            const std::vector<uint8_t>& input, const std::string& what, int64_t* interior = nullptr) {
  SCOPED_TRACE(what);
  const Outcome theirs = run_in_tflite(peer, model, shape, input);
  for (Isa isa : runtime_isas()) {
    const Outcome ours = run_on(isa, model, input);
    EXPECT_EQ(ours.error.empty(), theirs.error.empty())
        << isa_name(isa) << ": qlite '" << ours.error << "', TFLite '" << theirs.error << "'";
    if (!ours.error.empty() || !theirs.error.empty()) continue;
    EXPECT_EQ(ours.bytes.size(), theirs.bytes.size());
    if (ours.bytes.size() != theirs.bytes.size()) continue;
    int64_t diff = 0, first = -1;
    for (size_t i = 0; i < ours.bytes.size(); i += 2)
      if (std::memcmp(&ours.bytes[i], &theirs.bytes[i], 2) != 0) {
        if (first < 0) first = static_cast<int64_t>(i / 2);
        ++diff;
      }
    if (diff != 0) {
      int16_t in_v = 0, a = 0, b = 0;
      std::memcpy(&in_v, &input[static_cast<size_t>(first) * 2], 2);
      std::memcpy(&a, &ours.bytes[static_cast<size_t>(first) * 2], 2);
      std::memcpy(&b, &theirs.bytes[static_cast<size_t>(first) * 2], 2);
      ADD_FAILURE() << isa_name(isa) << ": " << diff << " of " << ours.bytes.size() / 2
                    << " values differ; first at input " << in_v << ": qlite " << a << ", TFLite " << b;
    }
  }
  if (!theirs.error.empty()) return 0;
  if (interior) {
    for (size_t i = 0; i < theirs.bytes.size(); i += 2) {
      int16_t v;
      std::memcpy(&v, &theirs.bytes[i], 2);
      *interior += v != 0 && v != 32767 && v != -32768;
    }
  }
  return 1;
}

TEST(SigmoidTable, EveryEntryIsSigmoidOfIOver24InUnsigned016) {
  const auto& t = ref::sigmoid_table_u16();
  for (int i = 0; i < 256; ++i) {
    const double want = std::min(65535.0, 65536.0 / (1.0 + std::exp(-i / 24.0)));
    EXPECT_LE(std::abs(t[static_cast<size_t>(i)] - want), 1.25) << i;  // TFLite's values stray by up to 1.11
    if (i > 0) {
      EXPECT_GE(t[static_cast<size_t>(i)], t[static_cast<size_t>(i - 1)]) << i;
    }
  }
}

TEST(Int16Softmax, TablesFollowExpAndReciprocal) {
  const auto p = ref::make_softmax_int16_params(1.0f / 4096, 0, 1.0f, 1.0f / 32768, 0);
  for (int i = 0; i < 513; ++i) {
    EXPECT_NEAR(p.exp_lut[static_cast<size_t>(i)] / 32768.0, std::exp(-10.0 + i * 10.0 / 512), 2.0 / 32768) << i;
    EXPECT_NEAR(p.one_over_one_plus_x_lut[static_cast<size_t>(i)] / 32768.0, 1.0 / (1.0 + i / 512.0), 2.0 / 32768)
        << i;
  }
}

struct Int16Scale {
  float scale;
  const char* kind;
};

void every_value_suite(BuiltinOp op) {
  QLITE_REQUIRE_TFLITE_PEER(peer);
  const bool tanh = op == BuiltinOp::kTanh;
  const char* name = tanh ? "TANH" : "LOGISTIC";
  Rng rng(tanh ? 1601 : 1602);
  std::vector<float> scales = {std::ldexp(1.0f, -12), std::ldexp(1.0f, -11), std::ldexp(1.0f, -13),
                               std::ldexp(1.0f, -10), std::ldexp(1.0f, -15), std::ldexp(1.0f, -12) * 1.0003f,
                               std::ldexp(1.0f, -11) * 0.9996f, std::ldexp(1.0f, -12) * 1.01f, 1.0f / 3000,
                               8.0f / 32768, 1e-7f, 3e-6f, 0.01f, 0.5f, 1.0f, 1.4f, 30.0f, 1000.0f};
  for (int i = 0; i < 8; ++i) scales.push_back(std::exp2(-16.0f + 14.0f * rng.uniform()));
  const std::vector<int32_t> shape = {256, 256};
  int ran = 0, lut = 0, fixed = 0;
  int64_t interior = 0;
  for (float s : scales) {
    const auto input = as_bytes(every_value(rng));
    char what[96];
    std::snprintf(what, sizeof what, "%s int16 input scale %.9g", name, s);
    ran += compare(*peer, unary_model(op, shape, s, 0, 1.0f / 32768, 0), shape, input, what, &interior);
    const auto p = tanh ? ref::make_tanh_int16_params(s, 0, 1.0f / 32768, 0)
                        : ref::make_logistic_int16_params(s, 0, 1.0f / 32768, 0);
    (p.lut ? lut : fixed) += 1;
  }
  std::printf("%s int16: %d of %zu scales ran in both (%d table path, %d fixed-point path), 65536 values each, "
              "%lld interior outputs\n",
              name, ran, scales.size(), lut, fixed, static_cast<long long>(interior));
  EXPECT_EQ(ran, static_cast<int>(scales.size()));
  EXPECT_GE(lut, 10);
  EXPECT_GE(fixed, tanh ? 3 : 2);
}

TEST(TfLiteInt16Activations, LogisticEveryInputValueMatchesTfLite) { every_value_suite(BuiltinOp::kLogistic); }
TEST(TfLiteInt16Activations, TanhEveryInputValueMatchesTfLite) { every_value_suite(BuiltinOp::kTanh); }

TEST(TfLiteInt16Activations, RefusedLikeTfLite) {
  QLITE_REQUIRE_TFLITE_PEER(peer);
  Rng rng(1603);
  const std::vector<int32_t> shape = {4, 16};
  std::vector<int16_t> x(64);
  for (auto& v : x) v = static_cast<int16_t>(static_cast<int64_t>(rng.below(65536)) - 32768);
  const auto input = as_bytes(x);
  struct Bad {
    BuiltinOp op;
    float in_scale;
    int64_t in_zp;
    float out_scale;
    int64_t out_zp;
    bool tflite_runs;
    const char* what;
  };
  const float q15 = 1.0f / 32768;
  const Bad cases[] = {
      {BuiltinOp::kLogistic, 1.0f / 4096, 0, 1.0f / 16384, 0, false, "LOGISTIC output scale 2^-14"},
      {BuiltinOp::kLogistic, 1.0f / 4096, 0, q15 * 1.0002f, 0, false, "LOGISTIC output scale near 2^-15"},
      {BuiltinOp::kLogistic, 1.0f / 4096, 0, q15, 5, false, "LOGISTIC output zero point 5"},
      {BuiltinOp::kLogistic, 1.0f / 4096, 3, q15, 0, false, "LOGISTIC input zero point 3"},
      {BuiltinOp::kTanh, 1.0f / 4096, 0, 1.0f / 16384, 0, false, "TANH output scale 2^-14"},
      {BuiltinOp::kTanh, 1.0f / 4096, 0, q15 * 1.0002f, 0, true, "TANH output scale within CheckedLog2 of 2^-15"},
      {BuiltinOp::kTanh, 1.0f / 4096, 0, q15 * 1.01f, 0, false, "TANH output scale 1% off 2^-15"},
      {BuiltinOp::kTanh, 1.0f / 4096, 0, q15, -1, false, "TANH output zero point -1"},
      {BuiltinOp::kTanh, 0.001f, 7, q15, 0, false, "TANH input zero point 7"},
      {BuiltinOp::kSoftmax, 0.001f, 0, q15, 1, false, "SOFTMAX output zero point 1"},
      {BuiltinOp::kSoftmax, 0.001f, 0, 1.0f / 16384, 0, false, "SOFTMAX output scale 2^-14"},
      {BuiltinOp::kSoftmax, 0.001f, 0, q15 * 1.0005f, 0, true, "SOFTMAX output scale within 0.1% of 2^-15"},
      {BuiltinOp::kSoftmax, 0.001f, 0, q15 * 1.002f, 0, false, "SOFTMAX output scale 0.2% off 2^-15"},
      {BuiltinOp::kSoftmax, 0.001f, 4, q15, 0, false, "SOFTMAX input zero point 4"},
  };
  for (const Bad& c : cases) {
    const int ran = compare(*peer, unary_model(c.op, shape, c.in_scale, c.in_zp, c.out_scale, c.out_zp), shape, input,
                            c.what);
    EXPECT_EQ(ran, c.tflite_runs ? 1 : 0) << c.what;
  }
  // int16 SOFTMAX of rank 5: TFLite 2.9 runs 1-D to 4-D only.
  const std::vector<int32_t> rank5 = {2, 1, 2, 2, 8};
  std::vector<int16_t> x5(64);
  for (auto& v : x5) v = static_cast<int16_t>(static_cast<int64_t>(rng.below(65536)) - 32768);
  EXPECT_EQ(compare(*peer, unary_model(BuiltinOp::kSoftmax, rank5, 0.001f, 0, q15, 0), rank5, as_bytes(x5),
                    "SOFTMAX int16 rank 5"),
            0);
}

TEST(TfLiteInt16Activations, SoftmaxRandomRowsMatchTfLite) {
  QLITE_REQUIRE_TFLITE_PEER(peer);
  Rng rng(1604);
  const int lengths[] = {1, 2, 3, 5, 8, 10, 16, 31, 64, 100, 257, 1000, 4000};
  const float betas[] = {1.0f, 0.5f, 2.0f, 0.1f, 0.25f, 1.7f, 10.0f};
  int ran = 0, cases = 0;
  int64_t interior = 0;
  for (int k = 0; k < 120; ++k) {
    const int depth = lengths[rng.below(std::size(lengths))];
    const float beta = betas[rng.below(std::size(betas))];
    // Input scales from 2^-16 to 2^-4: a row's spread from a few hundredths to thousands of units.
    const float scale = std::exp2(-16.0f + 12.0f * rng.uniform());
    const int rank = 1 + static_cast<int>(rng.below(4));
    std::vector<int32_t> shape;
    int64_t outer = 1;
    for (int d = 0; d + 1 < rank; ++d) {
      const int e = 1 + static_cast<int>(rng.below(depth > 500 ? 2 : 4));
      shape.push_back(e);
      outer *= e;
    }
    shape.push_back(depth);
    std::vector<int16_t> x(static_cast<size_t>(outer * depth));
    const int spread = rng.below(3) == 0 ? 65535 : 1 + static_cast<int>(rng.below(4000));
    const int centre = static_cast<int>(rng.below(65536)) - 32768;
    for (auto& v : x) {
      const int64_t r = centre + static_cast<int64_t>(rng.below(static_cast<uint64_t>(spread) + 1)) - spread / 2;
      v = static_cast<int16_t>(std::clamp<int64_t>(r, -32768, 32767));
    }
    char what[128];
    std::snprintf(what, sizeof what, "SOFTMAX int16 rank %d depth %d beta %g scale %.6g spread %d", rank, depth,
                  static_cast<double>(beta), static_cast<double>(scale), spread);
    ++cases;
    ran += compare(*peer, unary_model(BuiltinOp::kSoftmax, shape, scale, 0, 1.0f / 32768, 0, beta), shape,
                   as_bytes(x), what, &interior);
  }
  std::printf("SOFTMAX int16: %d of %d random files ran in both, %lld interior outputs\n", ran, cases,
              static_cast<long long>(interior));
  EXPECT_EQ(ran, cases);
  EXPECT_GT(interior, 10000);
}

}  // namespace
}  // namespace qlite::test
