// Quantized variants of math ops against the real TensorFlow Lite 2.9 (the
// same one-op .tflite file and input bytes, the same output bytes, on every
// Isa qlite has):
//  - uint8 DIV: every pair of byte values whose divisor is not a real 0,
//    under many quantizations and fused activations, same shapes and
//    broadcast;
//  - int8 RSQRT: every input value it is defined for (the zero point and
//    above) under many input / output quantizations; a value below the zero
//    point fails the invoke in both.
//  - int8 / uint8 LOG_SOFTMAX and L2_NORMALIZATION: random rows of many
//    lengths and rows holding every byte value, under many input
//    quantizations; the output quantizations TFLite fixes (others refused by
//    both), L2_NORMALIZATION beyond 4 dimensions refused by both.
// A failure under CI=true when the peer is missing (scripts/install_peers.sh).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "isa_runs.h"
#include "kernels/reference/quantized_math_kernels.h"
#include "single_op_peer.h"

namespace qlite::test {
namespace {

using T = TensorType;

std::vector<uint8_t> unary_model(BuiltinOp op, T type, const std::vector<int32_t>& shape, const Quantization& in_q,
                                 const Quantization& out_q) {
  ModelBuilder b;
  const int32_t x = b.add_tensor("x", type, shape, in_q);
  const int32_t y = b.add_tensor("y", type, shape, out_q);
  lite::OpOptions o;
  if (op == BuiltinOp::kL2Normalization) o = lite::L2NormOptions{};
  if (op == BuiltinOp::kLogSoftmax) o = lite::LogSoftmaxOptions{};
  b.add_operator(op, {x}, {y}, o);
  b.set_inputs({x});
  b.set_outputs({y});
  return b.finish();
}

// Both refuse (returns 0) or both give the same bytes (returns 1).
int compare(const TfLitePeer& peer, const std::vector<uint8_t>& model, const std::vector<int32_t>& shape,
            const std::vector<uint8_t>& input, const std::string& what, int* interior = nullptr) {
  SCOPED_TRACE(what);
  const Outcome theirs = run_in_tflite(peer, model, shape, input);
  for (Isa isa : runtime_isas()) {
    const Outcome ours = run_on(isa, model, input);
    EXPECT_EQ(ours.error.empty(), theirs.error.empty())
        << isa_name(isa) << ": qlite '" << ours.error << "', TFLite '" << theirs.error << "'";
    if (!ours.error.empty() || !theirs.error.empty()) continue;
    EXPECT_EQ(ours.bytes, theirs.bytes) << isa_name(isa);
  }
  if (!theirs.error.empty()) return 0;
  if (interior)
    for (uint8_t b : theirs.bytes) *interior += b != 0x7F && b != 0x80;
  return 1;
}

TEST(TfLiteQuantizedMath, Uint8DivOnEveryBytePairMatchesTfLite) {
  QLITE_REQUIRE_TFLITE_PEER(peer);
  Rng rng(1611);
  const Activation acts[] = {Activation::kLinear, Activation::kRelu, Activation::kRelu6, Activation::kReluN1To1};
  int ran = 0, cases = 0, interior = 0;
  for (int k = 0; k < 24; ++k) {
    const float s1 = std::exp2(-8.0f + 8.0f * rng.uniform()), s2 = std::exp2(-8.0f + 8.0f * rng.uniform());
    const int32_t z1 = static_cast<int32_t>(rng.below(256)), z2 = k % 3 == 0 ? 0 : static_cast<int32_t>(rng.below(256));
    // The output spans the quotients of moderate values: (s1 * 128) / (s2 * 8) over about 128 steps.
    const float so = s1 / s2 / 8.0f * std::exp2(-3.0f + 6.0f * rng.uniform());
    const int32_t zo = static_cast<int32_t>(rng.below(256));
    // Divisors: every byte but 0 (TFLite's CheckNonZero) and the zero point (a real 0).
    std::vector<uint8_t> divisors;
    for (int v = 1; v < 256; ++v)
      if (v != z2) divisors.push_back(static_cast<uint8_t>(v));
    const int cols = static_cast<int>(divisors.size());
    const bool broadcast = k % 2 == 1;
    std::vector<uint8_t> a, b;
    for (int i = 0; i < 256; ++i)
      for (int j = 0; j < cols; ++j) a.push_back(static_cast<uint8_t>(i));
    for (int i = 0; i < (broadcast ? 1 : 256); ++i) b.insert(b.end(), divisors.begin(), divisors.end());
    const std::vector<int32_t> sa = {256, cols}, sb = broadcast ? std::vector<int32_t>{cols} : sa;
    ModelBuilder mb;
    const int32_t x = mb.add_tensor("x", T::kUInt8, sa, Quantization::per_tensor(s1, z1));
    const int32_t d = mb.add_tensor("d", T::kUInt8, sb, Quantization::per_tensor(s2, z2));
    const int32_t y = mb.add_tensor("y", T::kUInt8, sa, Quantization::per_tensor(so, zo));
    lite::DivOptions o;
    o.activation = acts[rng.below(4)];
    mb.add_operator(BuiltinOp::kDiv, {x, d}, {y}, o);
    mb.set_inputs({x, d});
    mb.set_outputs({y});
    const auto model = mb.finish();
    char what[160];
    std::snprintf(what, sizeof what, "DIV uint8 %g/%d / %g/%d -> %g/%d %s%s", static_cast<double>(s1), z1,
                  static_cast<double>(s2), z2, static_cast<double>(so), zo, lite::activation_name(o.activation),
                  broadcast ? " broadcast" : "");
    SCOPED_TRACE(what);
    ++cases;
    const Outcome theirs = run_in_tflite(*peer, model, {PeerInput{sa, a}, PeerInput{sb, b}});
    const Outcome ours = run_in_qlite(model, {a, b});
    EXPECT_EQ(ours.error.empty(), theirs.error.empty()) << "qlite '" << ours.error << "', TFLite '" << theirs.error << "'";
    if (!ours.error.empty() || !theirs.error.empty()) continue;
    ASSERT_EQ(ours.bytes.size(), theirs.bytes.size());
    int diff = 0;
    for (size_t i = 0; i < ours.bytes.size(); ++i) diff += ours.bytes[i] != theirs.bytes[i];
    EXPECT_EQ(diff, 0) << diff << " of " << ours.bytes.size() << " values differ";
    ++ran;
    for (uint8_t v : theirs.bytes) interior += v != 0 && v != 255;
  }
  std::printf("uint8 DIV: %d of %d quantizations ran in both (every byte pair), %d interior outputs\n", ran, cases,
              interior);
  EXPECT_EQ(ran, cases);
  EXPECT_GT(interior, 100000);
}

TEST(TfLiteQuantizedMath, Uint8DivByTheZeroPointIsAnErrorInQlite) {
  ModelBuilder mb;
  const int32_t x = mb.add_tensor("x", T::kUInt8, {4}, Quantization::per_tensor(0.1f, 3));
  const int32_t d = mb.add_tensor("d", T::kUInt8, {4}, Quantization::per_tensor(0.1f, 7));
  const int32_t y = mb.add_tensor("y", T::kUInt8, {4}, Quantization::per_tensor(0.1f, 0));
  mb.add_operator(BuiltinOp::kDiv, {x, d}, {y}, lite::DivOptions{});
  mb.set_inputs({x, d});
  mb.set_outputs({y});
  const auto model = mb.finish();
  const Outcome ok = run_in_qlite(model, std::vector<std::vector<uint8_t>>{{10, 20, 30, 40}, {8, 9, 10, 11}});
  EXPECT_TRUE(ok.error.empty()) << ok.error;
  const Outcome bad = run_in_qlite(model, std::vector<std::vector<uint8_t>>{{10, 20, 30, 40}, {8, 7, 10, 11}});
  EXPECT_NE(bad.error.find("division by 0"), std::string::npos) << bad.error;
}

TEST(InvSqrtMultiplier, CloseToOneOverSqrt) {
  for (int32_t v : {2, 3, 4, 5, 17, 100, 255, 1000, 65535, 1 << 20, (1 << 29) + 7, 2147483647}) {
    const ref::QuantizedMultiplier m = ref::inv_sqrt_multiplier(v);
    const double got = m.multiplier / 2147483648.0 * std::exp2(m.shift);
    EXPECT_NEAR(got * std::sqrt(static_cast<double>(v)), 1.0, 1e-4) << v;
  }
}

TEST(TfLiteQuantizedMath, Int8RsqrtEveryDefinedValueMatchesTfLite) {
  QLITE_REQUIRE_TFLITE_PEER(peer);
  Rng rng(1606);
  int ran = 0, cases = 0, interior = 0;
  for (int k = 0; k < 40; ++k) {
    const float in_scale = std::exp2(-10.0f + 14.0f * rng.uniform());
    const int32_t in_zp = k % 4 == 0 ? -128 : k % 4 == 1 ? 0 : static_cast<int32_t>(rng.below(256)) - 128;
    // The output spans rsqrt over the inputs: 1 / sqrt(in_scale) at one step.
    const float out_scale = static_cast<float>(1.0 / std::sqrt(in_scale) / 127.0 * std::exp2(-2.0 + 4.0 * rng.uniform()));
    const int32_t out_zp = k % 3 == 0 ? -128 : static_cast<int32_t>(rng.below(256)) - 128;
    std::vector<uint8_t> input;
    for (int32_t q = in_zp; q <= 127; ++q) input.push_back(static_cast<uint8_t>(static_cast<int8_t>(q)));
    const std::vector<int32_t> shape = {static_cast<int32_t>(input.size())};
    char what[128];
    std::snprintf(what, sizeof what, "RSQRT int8 in %.6g/%d out %.6g/%d", static_cast<double>(in_scale), in_zp,
                  static_cast<double>(out_scale), out_zp);
    ++cases;
    ran += compare(*peer,
                   unary_model(BuiltinOp::kRsqrt, T::kInt8, shape, Quantization::per_tensor(in_scale, in_zp),
                               Quantization::per_tensor(out_scale, out_zp)),
                   shape, input, what, &interior);
  }
  std::printf("int8 RSQRT: %d of %d quantizations ran in both, %d interior outputs\n", ran, cases, interior);
  EXPECT_EQ(ran, cases);
  EXPECT_GT(interior, 1000);
}

TEST(TfLiteQuantizedMath, Int8RsqrtOfAValueBelowTheZeroPointFailsInBoth) {
  QLITE_REQUIRE_TFLITE_PEER(peer);
  const std::vector<int32_t> shape = {4};
  const auto model = unary_model(BuiltinOp::kRsqrt, T::kInt8, shape, Quantization::per_tensor(0.05f, -10),
                                 Quantization::per_tensor(0.02f, -128));
  EXPECT_EQ(compare(*peer, model, shape, {20, 30, static_cast<uint8_t>(-11), 40}, "value -11 below zero point -10"), 0);
  EXPECT_EQ(compare(*peer, model, shape, {20, 30, static_cast<uint8_t>(-10), 40}, "value at the zero point"), 1);
}

// Rows for the 8-bit row ops: random lengths, values around a random centre
// with a random spread, and some rows of all 256 values.
struct RowCase {
  std::vector<int32_t> shape;
  std::vector<uint8_t> bytes;
};
RowCase random_rows(Rng& rng, int k) {
  RowCase c;
  const int lengths[] = {1, 2, 3, 5, 8, 16, 33, 100, 256, 1000};
  const bool all_values = k % 5 == 0;
  const int depth = all_values ? 256 : lengths[rng.below(std::size(lengths))];
  const int rank = 1 + static_cast<int>(rng.below(4));
  int64_t outer = 1;
  for (int d = 0; d + 1 < rank; ++d) {
    const int e = 1 + static_cast<int>(rng.below(3));
    c.shape.push_back(e);
    outer *= e;
  }
  c.shape.push_back(depth);
  const int spread = 1 + static_cast<int>(rng.below(256));
  const int centre = static_cast<int>(rng.below(256));
  for (int64_t r = 0; r < outer; ++r) {
    std::vector<uint8_t> row(static_cast<size_t>(depth));
    for (int j = 0; j < depth; ++j)
      row[static_cast<size_t>(j)] =
          all_values ? static_cast<uint8_t>(j)
                     : static_cast<uint8_t>(std::clamp<int64_t>(centre + static_cast<int64_t>(rng.below(static_cast<uint64_t>(spread))) - spread / 2, 0, 255));
    if (all_values) rng.shuffle(row);
    c.bytes.insert(c.bytes.end(), row.begin(), row.end());
  }
  return c;
}

void row_op_suite(BuiltinOp op, uint64_t seed) {
  QLITE_REQUIRE_TFLITE_PEER(peer);
  Rng rng(seed);
  int ran = 0, cases = 0, interior = 0;
  for (T type : {T::kInt8, T::kUInt8}) {
    const bool is_signed = type == T::kInt8;
    for (int k = 0; k < 60; ++k) {
      const RowCase c = random_rows(rng, k);
      const float in_scale = std::exp2(-8.0f + 9.0f * rng.uniform());
      const int32_t in_zp = static_cast<int32_t>(rng.below(256)) - (is_signed ? 128 : 0);
      const Quantization out_q = op == BuiltinOp::kLogSoftmax
                                     ? Quantization::per_tensor(16.0f / 256, is_signed ? 127 : 255)
                                     : Quantization::per_tensor(1.0f / 128, is_signed ? 0 : 128);
      std::string what = std::string(op == BuiltinOp::kLogSoftmax ? "LOG_SOFTMAX " : "L2_NORMALIZATION ") +
                         (is_signed ? "int8" : "uint8") + " rank " + std::to_string(c.shape.size()) + " depth " +
                         std::to_string(c.shape.back()) + " scale " + std::to_string(in_scale) + " zp " +
                         std::to_string(in_zp);
      ++cases;
      ran += compare(*peer, unary_model(op, type, c.shape, Quantization::per_tensor(in_scale, in_zp), out_q), c.shape,
                     c.bytes, what, &interior);
    }
  }
  std::printf("%s int8 / uint8: %d of %d files ran in both, %d interior outputs\n",
              op == BuiltinOp::kLogSoftmax ? "LOG_SOFTMAX" : "L2_NORMALIZATION", ran, cases, interior);
  EXPECT_EQ(ran, cases);
  EXPECT_GT(interior, 5000);
}

TEST(TfLiteQuantizedMath, LogSoftmax8BitMatchesTfLite) { row_op_suite(BuiltinOp::kLogSoftmax, 1609); }
TEST(TfLiteQuantizedMath, L2Normalization8BitMatchesTfLite) { row_op_suite(BuiltinOp::kL2Normalization, 1610); }

TEST(TfLiteQuantizedMath, RowOpsRefusedLikeTfLite) {
  QLITE_REQUIRE_TFLITE_PEER(peer);
  const std::vector<int32_t> shape = {2, 8};
  const std::vector<uint8_t> input = {1, 2, 3, 4, 5, 6, 7, 8, 200, 100, 50, 25, 12, 6, 3, 1};
  struct Bad {
    BuiltinOp op;
    T type;
    float out_scale;
    int64_t out_zp;
    const char* what;
  };
  const Bad cases[] = {
      {BuiltinOp::kLogSoftmax, T::kInt8, 1.0f / 16, 0, "LOG_SOFTMAX int8 zero point 0"},
      {BuiltinOp::kLogSoftmax, T::kInt8, 1.0f / 8, 127, "LOG_SOFTMAX int8 scale 1/8"},
      {BuiltinOp::kLogSoftmax, T::kUInt8, 1.0f / 16, 127, "LOG_SOFTMAX uint8 zero point 127"},
      {BuiltinOp::kL2Normalization, T::kInt8, 1.0f / 128, 5, "L2_NORMALIZATION int8 zero point 5"},
      {BuiltinOp::kL2Normalization, T::kUInt8, 1.0f / 128, 0, "L2_NORMALIZATION uint8 zero point 0"},
      {BuiltinOp::kL2Normalization, T::kUInt8, 1.0f / 100, 128, "L2_NORMALIZATION uint8 scale 1/100"},
  };
  for (const Bad& c : cases)
    EXPECT_EQ(compare(*peer,
                      unary_model(c.op, c.type, shape, Quantization::per_tensor(0.1f, 3),
                                  Quantization::per_tensor(c.out_scale, c.out_zp)),
                      shape, input, c.what),
              0)
        << c.what;
  // L2_NORMALIZATION beyond 4 dimensions, 8-bit and float.
  const std::vector<int32_t> rank5 = {1, 2, 1, 2, 4};
  std::vector<uint8_t> in16(input.begin(), input.end());
  EXPECT_EQ(compare(*peer,
                    unary_model(BuiltinOp::kL2Normalization, T::kInt8, rank5, Quantization::per_tensor(0.1f, 3),
                                Quantization::per_tensor(1.0f / 128, 0)),
                    rank5, in16, "L2_NORMALIZATION int8 rank 5"),
            0);
  std::vector<float> f(16, 0.5f);
  EXPECT_EQ(compare(*peer,
                    unary_model(BuiltinOp::kL2Normalization, T::kFloat32, rank5, Quantization{}, Quantization{}),
                    rank5, as_bytes(f), "L2_NORMALIZATION float32 rank 5"),
            0);
}

}  // namespace
}  // namespace qlite::test
