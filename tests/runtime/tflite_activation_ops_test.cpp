// LOGISTIC, TANH and HARD_SWISH against the real TensorFlow Lite 2.9: the same
// one-op .tflite file and input bytes must give the same output bytes in
// qlite's interpreter.
//  - int8 and uint8: every one of the 256 input values, under many input
//    quantizations (scales from 1e-6 to 1000, zero points at both ends) and,
//    where TFLite lets the output quantization vary, many of those too.
//  - Which arithmetic TFLite 2.9 uses for LOGISTIC and TANH: its builtin op
//    resolver registers the generic kernels, which evaluate a 256-entry table
//    built in float at prepare (activations.cc PopulateLookupTable), not the
//    fixed-point gemmlowp paths. Established here: the table formula, written
//    out below independently of qlite's kernels, reproduces every TFLite
//    output; and TFLite honours an output quantization other than the fixed
//    one of the fixed-point kernels (TANH with scale 1/64 and zero point 10,
//    LOGISTIC with zero point 0), which those kernels could not.
//  - float32: random values over the range where the functions vary and far
//    beyond, compared within a tolerance (TFLite's float kernels are Eigen /
//    XNNPACK approximations; the count of bit-identical outputs is printed).
//  - Files TFLite refuses (LOGISTIC output scale other than 1/256, HARD_SWISH
//    output multiplier >= 1) are refused by qlite.
// A failure under CI=true when the peer is missing (scripts/install_peers.sh).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <limits>
#include <numeric>
#include <string>
#include <vector>

#include "kernels/reference/activation_kernels.h"
#include "single_op_peer.h"

namespace qlite::test {
namespace {

using T = TensorType;

std::vector<uint8_t> unary_model(BuiltinOp op, T type, const std::vector<int32_t>& shape, const Quantization& in_q,
                                 const Quantization& out_q) {
  ModelBuilder b;
  const int32_t x = b.add_tensor("x", type, shape, in_q);
  const int32_t y = b.add_tensor("y", type, shape, out_q);
  lite::OpOptions options;
  if (op == BuiltinOp::kHardSwish) options = lite::HardSwishOptions{};
  b.add_operator(op, {x}, {y}, options);
  b.set_inputs({x});
  b.set_outputs({y});
  return b.finish();
}

const char* op_name(BuiltinOp op) {
  return op == BuiltinOp::kLogistic ? "LOGISTIC" : op == BuiltinOp::kTanh ? "TANH" : "HARD_SWISH";
}

// TFLite 2.9's table (activations.cc PopulateLookupTable), written out from
// its source: float arithmetic, roundf, the x86 conversion of an out-of-range
// float to INT32_MIN, then the clamp.
int table_value(BuiltinOp op, bool is_signed, float in_scale, int32_t in_zp, float out_scale, int32_t out_zp, int q) {
  const float x = in_scale * static_cast<float>(q - in_zp);
  const float y = op == BuiltinOp::kLogistic ? 1.0f / (1.0f + std::exp(-x)) : std::tanh(x);
  const float r = std::round(y * (1.0f / out_scale)) + static_cast<float>(out_zp);
  const int32_t v = r >= -2147483648.0f && r < 2147483648.0f ? static_cast<int32_t>(r) : std::numeric_limits<int32_t>::min();
  return std::clamp(v, is_signed ? -128 : 0, is_signed ? 127 : 255);
}

// All 256 values of the type, in a [4, 8, 8] tensor, in shuffled order.
std::vector<uint8_t> every_value(Rng& rng) {
  std::vector<uint8_t> v(256);
  std::iota(v.begin(), v.end(), 0);
  rng.shuffle(v);
  return v;
}

struct Counts {
  int cases = 0, outputs = 0, formula_diff = 0;
};

// One quantized case: TFLite and qlite byte-identical; for the table ops the
// written-out formula too.
void check_quantized(const TfLitePeer& peer, BuiltinOp op, T type, const Quantization& in_q, const Quantization& out_q,
                     Rng& rng, Counts& c) {
  const bool is_signed = type == T::kInt8;
  const std::string what = std::string(op_name(op)) + " " + lite::tensor_type_name(type) + " in (" +
                           std::to_string(in_q.scale[0]) + ", " + std::to_string(in_q.zero_point[0]) + ") out (" +
                           std::to_string(out_q.scale[0]) + ", " + std::to_string(out_q.zero_point[0]) + ")";
  SCOPED_TRACE(what);
  const std::vector<int32_t> shape = {4, 8, 8};
  const std::vector<uint8_t> model = unary_model(op, type, shape, in_q, out_q);
  const std::vector<uint8_t> in = every_value(rng);
  const Outcome theirs = run_in_tflite(peer, model, shape, in);
  const Outcome ours = run_in_qlite(model, in);
  ASSERT_EQ(theirs.error, "");
  ASSERT_EQ(ours.error, "");
  ASSERT_EQ(theirs.bytes.size(), 256u);
  int diff = 0;
  for (size_t i = 0; i < 256; ++i) diff += ours.bytes[i] != theirs.bytes[i];
  EXPECT_EQ(diff, 0) << "qlite differs from TFLite on " << diff << " of 256 input values";
  if (op != BuiltinOp::kHardSwish) {
    for (size_t i = 0; i < 256; ++i) {
      const int q = is_signed ? static_cast<int8_t>(in[i]) : in[i];
      const int want = table_value(op, is_signed, in_q.scale[0], static_cast<int32_t>(in_q.zero_point[0]), out_q.scale[0],
                                   static_cast<int32_t>(out_q.zero_point[0]), q);
      const int got = is_signed ? static_cast<int8_t>(theirs.bytes[i]) : theirs.bytes[i];
      c.formula_diff += want != got;
    }
  }
  ++c.cases;
  c.outputs += 256;
}

std::vector<Quantization> input_quantizations(Rng& rng, bool is_signed) {
  const int32_t lo = is_signed ? -128 : 0;
  const float scales[] = {1e-6f, 1.0f / 256, 0.0123f, 0.05f, 0.1f, 0.37f, 1.0f, 8.0f, 1000.0f};
  std::vector<Quantization> r;
  for (float s : scales)
    for (int32_t zp : {lo, lo + 255, lo + 128, lo + static_cast<int32_t>(rng.below(256))})
      r.push_back(Quantization::per_tensor(s, zp));
  for (int i = 0; i < 12; ++i)
    r.push_back(Quantization::per_tensor(std::exp2(rng.uniform(-14.0f, 4.0f)), lo + static_cast<int32_t>(rng.below(256))));
  return r;
}

TEST(TfLiteActivations, LogisticTableMatchesOnEveryInputValue) {
  QLITE_REQUIRE_TFLITE_PEER(peer);
  Rng rng(4101);
  Counts c;
  for (T type : {T::kInt8, T::kUInt8}) {
    const bool is_signed = type == T::kInt8;
    // The output TFLite 2.9 requires: scale 1/256, and zero point -128 (int8) or 0 (uint8).
    const Quantization out = Quantization::per_tensor(1.0f / 256, is_signed ? -128 : 0);
    for (const Quantization& in : input_quantizations(rng, is_signed))
      check_quantized(*peer, BuiltinOp::kLogistic, type, in, out, rng, c);
  }
  EXPECT_EQ(c.formula_diff, 0) << "the written-out table formula differs from TFLite on " << c.formula_diff << " of "
                               << c.outputs << " outputs";
  std::printf("LOGISTIC: %d cases, %d outputs identical to TFLite 2.9; table formula differs on %d\n", c.cases,
              c.outputs, c.formula_diff);
  EXPECT_EQ(c.cases, 2 * (36 + 12));
}

TEST(TfLiteActivations, TanhTableMatchesOnEveryInputValue) {
  QLITE_REQUIRE_TFLITE_PEER(peer);
  Rng rng(4102);
  Counts c;
  for (T type : {T::kInt8, T::kUInt8}) {
    const bool is_signed = type == T::kInt8;
    const int32_t lo = is_signed ? -128 : 0;
    for (const Quantization& in : input_quantizations(rng, is_signed)) {
      // The conventional output (1/128, real 0 at the middle) and a random
      // other one: TFLite's table takes any output quantization.
      check_quantized(*peer, BuiltinOp::kTanh, type, in, Quantization::per_tensor(1.0f / 128, lo + 128), rng, c);
      check_quantized(*peer, BuiltinOp::kTanh, type, in,
                      Quantization::per_tensor(std::exp2(rng.uniform(-9.0f, 0.0f)), lo + static_cast<int32_t>(rng.below(256))),
                      rng, c);
    }
  }
  EXPECT_EQ(c.formula_diff, 0) << "the written-out table formula differs from TFLite on " << c.formula_diff << " of "
                               << c.outputs << " outputs";
  std::printf("TANH: %d cases, %d outputs identical to TFLite 2.9; table formula differs on %d\n", c.cases, c.outputs,
              c.formula_diff);
  EXPECT_EQ(c.cases, 2 * 2 * (36 + 12));
}

// The fixed-point TANH kernels (reference_integer_ops::Tanh,
// Tanh16bitPrecision) always write Q7 with zero point 0: with an output
// scale of 1/64 and zero point 10 their results would be off by a factor of
// two. TFLite 2.9's results follow the declared output: the table.
TEST(TfLiteActivations, TanhFollowsTheDeclaredOutputQuantization) {
  QLITE_REQUIRE_TFLITE_PEER(peer);
  const std::vector<int32_t> shape = {1, 4};
  const std::vector<uint8_t> model = unary_model(BuiltinOp::kTanh, T::kInt8, shape, Quantization::per_tensor(0.05f, 0),
                                                 Quantization::per_tensor(1.0f / 64, 10));
  const std::vector<int8_t> x = {0, 20, -20, 100};  // tanh(0, 1, -1, 5)
  // round(64 * tanh) + 10: 10, round(48.74) + 10, round(-48.74) + 10, 64 + 10 -> clamp
  const std::vector<int8_t> want = {10, 59, -39, 74};
  const Outcome theirs = run_in_tflite(*peer, model, shape, as_bytes(x));
  const Outcome ours = run_in_qlite(model, as_bytes(x));
  ASSERT_EQ(theirs.error, "");
  EXPECT_EQ(theirs.bytes, as_bytes(want));
  EXPECT_EQ(ours.bytes, as_bytes(want));
}

// Likewise LOGISTIC: the fixed-point kernels write Q8 with zero point -128
// whatever the file says (and their prepare insists on -128). TFLite 2.9
// runs an int8 output with zero point 0 and follows it: the table.
TEST(TfLiteActivations, LogisticFollowsTheDeclaredOutputZeroPoint) {
  QLITE_REQUIRE_TFLITE_PEER(peer);
  const std::vector<int32_t> shape = {1, 4};
  const std::vector<uint8_t> model = unary_model(BuiltinOp::kLogistic, T::kInt8, shape,
                                                 Quantization::per_tensor(0.05f, 0), Quantization::per_tensor(1.0f / 256, 0));
  const std::vector<int8_t> x = {0, 20, -20, -100};  // sigmoid(0, 1, -1, -5)
  // round(256 * sigmoid) + 0: 128 -> clamp 127, 187 -> 127, 69, 2 (the
  // fixed-point kernels would give 0, 59, -59, -126).
  const std::vector<int8_t> want = {127, 127, 69, 2};
  const Outcome theirs = run_in_tflite(*peer, model, shape, as_bytes(x));
  const Outcome ours = run_in_qlite(model, as_bytes(x));
  ASSERT_EQ(theirs.error, "");
  EXPECT_EQ(theirs.bytes, as_bytes(want));
  EXPECT_EQ(ours.bytes, as_bytes(want));
}

TEST(TfLiteActivations, HardSwishMatchesOnEveryInputValue) {
  QLITE_REQUIRE_TFLITE_PEER(peer);
  Rng rng(4103);
  Counts c;
  for (T type : {T::kInt8, T::kUInt8}) {
    const bool is_signed = type == T::kInt8;
    const int32_t lo = is_signed ? -128 : 0;
    for (const Quantization& in : input_quantizations(rng, is_signed)) {
      const float s = in.scale[0];
      // Output scales from just above in_scale / 128 (TFLite's limit: the
      // output multiplier in_scale / (128 out_scale) must stay below 1) to
      // 2^20 times that (output exponents far below -15).
      for (float factor : {1.01f, 2.0f, 9.0f, 128.0f, 1000.0f, 1048576.0f}) {
        const Quantization out =
            Quantization::per_tensor(s / 128.0f * factor, lo + static_cast<int32_t>(rng.below(256)));
        check_quantized(*peer, BuiltinOp::kHardSwish, type, in, out, rng, c);
      }
      // Zero points at the ends with the output scale of a typical layer.
      check_quantized(*peer, BuiltinOp::kHardSwish, type, in, Quantization::per_tensor(s * 0.75f, lo), rng, c);
      check_quantized(*peer, BuiltinOp::kHardSwish, type, in, Quantization::per_tensor(s * 0.75f, lo + 255), rng, c);
    }
  }
  std::printf("HARD_SWISH: %d cases, %d outputs identical to TFLite 2.9\n", c.cases, c.outputs);
  EXPECT_EQ(c.cases, 2 * (36 + 12) * 8);
}

TEST(TfLiteActivations, RefusedAsTfLiteRefuses) {
  QLITE_REQUIRE_TFLITE_PEER(peer);
  struct Case {
    BuiltinOp op;
    T type;
    Quantization in, out;
    const char* part;
  };
  const Case cases[] = {
      {BuiltinOp::kLogistic, T::kInt8, Quantization::per_tensor(0.1f, 0), Quantization::per_tensor(1.0f / 128, -128),
       "must have scale 1/256"},
      {BuiltinOp::kLogistic, T::kUInt8, Quantization::per_tensor(0.1f, 0), Quantization::per_tensor(0.0039f, 0),
       "must have scale 1/256"},
      {BuiltinOp::kHardSwish, T::kInt8, Quantization::per_tensor(1.0f, 0), Quantization::per_tensor(0.001f, 0),
       "must be below 1"},
      {BuiltinOp::kHardSwish, T::kUInt8, Quantization::per_tensor(0.5f, 0), Quantization::per_tensor(0.5f / 128, 0),
       "must be below 1"},
  };
  for (const Case& k : cases) {
    SCOPED_TRACE(op_name(k.op));
    const std::vector<uint8_t> model = unary_model(k.op, k.type, {1, 4}, k.in, k.out);
    const Outcome theirs = run_in_tflite(*peer, model, {1, 4}, std::vector<uint8_t>(4));
    const Outcome ours = run_in_qlite(model, std::vector<uint8_t>(4));
    EXPECT_NE(theirs.error, "") << "TFLite ran it";
    EXPECT_NE(ours.error.find(k.part), std::string::npos) << ours.error;
  }
}

// float32: shapes of rank 1 to 4 with size-1 dims, values in [-12, 12] and
// far beyond (+-100, +-1e30, +-inf). Within a tolerance of TFLite's
// approximations; qlite's float kernels are the C library's functions.
TEST(TfLiteActivations, Float32WithinTolerance) {
  QLITE_REQUIRE_TFLITE_PEER(peer);
  Rng rng(4104);
  const std::vector<std::vector<int32_t>> shapes = {{7}, {1, 1}, {3, 1, 5}, {2, 4, 1, 9}, {1, 16, 16, 3}, {5, 33}};
  for (BuiltinOp op : {BuiltinOp::kLogistic, BuiltinOp::kTanh, BuiltinOp::kHardSwish}) {
    int outputs = 0, identical = 0;
    double worst = 0.0;
    for (const auto& shape : shapes) {
      int64_t n = 1;
      for (int32_t d : shape) n *= d;
      std::vector<float> x(static_cast<size_t>(n));
      for (float& v : x) v = rng.uniform(-12.0f, 12.0f);
      const float specials[] = {0.0f, -0.0f, 100.0f, -100.0f, 1e30f, -1e30f, std::numeric_limits<float>::infinity(),
                                -std::numeric_limits<float>::infinity(), 3.0f, -3.0f};
      for (size_t i = 0; i < std::size(specials) && i < x.size(); ++i) x[i * 7 % x.size()] = specials[i];
      const std::vector<uint8_t> model = unary_model(op, T::kFloat32, shape, {}, {});
      const Outcome theirs = run_in_tflite(*peer, model, shape, as_bytes(x));
      const Outcome ours = run_in_qlite(model, as_bytes(x));
      ASSERT_EQ(theirs.error, "");
      ASSERT_EQ(ours.error, "");
      ASSERT_EQ(ours.bytes.size(), theirs.bytes.size());
      ASSERT_EQ(ours.shape, theirs.shape);
      std::vector<float> a(x.size()), b(x.size());
      std::memcpy(a.data(), ours.bytes.data(), ours.bytes.size());
      std::memcpy(b.data(), theirs.bytes.data(), theirs.bytes.size());
      for (size_t i = 0; i < a.size(); ++i) {
        ++outputs;
        if (std::memcmp(&a[i], &b[i], sizeof(float)) == 0) {
          ++identical;
          continue;
        }
        // Relative to the value (hard swish grows with x), at least 1e-6 absolute.
        const double err = std::abs(double{a[i]} - double{b[i]}) / std::max(1.0, std::abs(double{b[i]}));
        worst = std::max(worst, err);
        EXPECT_LE(err, 1e-6) << op_name(op) << " x = " << x[i] << ": qlite " << a[i] << ", TFLite " << b[i];
      }
    }
    std::printf("%s float32: %d of %d outputs bit-identical to TFLite 2.9, largest difference %.3g\n", op_name(op),
                identical, outputs, worst);
  }
}

// Batches large enough that qlite runs them in tiles of images: one image
// per tile (over 256 KiB each), and tiles of 2, 2 and 1 images (about 180 KiB
// each: the last tile runs below the batch the ops were prepared for).
TEST(TfLiteActivations, TiledBatchesMatch) {
  QLITE_REQUIRE_TFLITE_PEER(peer);
  Rng rng(4105);
  const Quantization q = Quantization::per_tensor(0.07f, -5);
  const struct {
    BuiltinOp op;
    Quantization out;
  } cases[] = {{BuiltinOp::kLogistic, Quantization::per_tensor(1.0f / 256, -128)},
               {BuiltinOp::kTanh, Quantization::per_tensor(1.0f / 128, 0)},
               {BuiltinOp::kHardSwish, Quantization::per_tensor(0.05f, -100)}};
  for (const std::vector<int32_t>& shape : {std::vector<int32_t>{3, 180, 180, 9}, std::vector<int32_t>{5, 90, 100, 10}}) {
    std::vector<uint8_t> in(static_cast<size_t>(shape[0]) * shape[1] * shape[2] * shape[3]);
    for (uint8_t& v : in) v = static_cast<uint8_t>(rng.below(256));
    for (const auto& k : cases) {
      SCOPED_TRACE(op_name(k.op));
      const std::vector<uint8_t> model = unary_model(k.op, T::kInt8, shape, q, k.out);
      const Outcome theirs = run_in_tflite(*peer, model, shape, in);
      const Outcome ours = run_in_qlite(model, in);
      ASSERT_EQ(theirs.error, "");
      ASSERT_EQ(ours.error, "");
      EXPECT_TRUE(ours.bytes == theirs.bytes);
    }
    // float32 too (the split over threads does not apply to one tile).
    std::vector<float> f(in.size());
    for (float& v : f) v = rng.uniform(-8.0f, 8.0f);
    const std::vector<uint8_t> model = unary_model(BuiltinOp::kLogistic, T::kFloat32, shape, {}, {});
    const Outcome ours = run_in_qlite(model, as_bytes(f));
    ASSERT_EQ(ours.error, "");
    std::vector<float> want(f.size()), got(f.size());
    ref::logistic_f32(static_cast<int64_t>(f.size()), f.data(), want.data());
    std::memcpy(got.data(), ours.bytes.data(), ours.bytes.size());
    EXPECT_TRUE(got == want);
  }
}

}  // namespace
}  // namespace qlite::test
