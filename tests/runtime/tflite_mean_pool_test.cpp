// int8 MEAN over H and W (global average pooling) and AVERAGE_POOL_2D against
// the real TensorFlow Lite 2.9: qlite's interpreter must produce the same bytes.
// TFLite's x86 build runs MEAN's reference kernel (reduce.cc), which takes
// one of three int8 paths:
//  - keep_dims and axes written {1, 2} or {2, 1}: reference_integer_ops::Mean,
//    requantize by in_scale / out_scale, then divide by h*w rounding half
//    away from zero (two roundings);
//  - otherwise, equal input and output quantization: reference_ops::Mean,
//    the raw sum divided by h*w in C++ integer division (truncation);
//  - otherwise: reference_ops::QuantizedMeanOrSum, in float.
// AVERAGE_POOL_2D int8 (optimized_integer_ops::AveragePool, or the reference
// one for windows over 16x16) sums the taps inside the image and divides by
// their count rounding half away from zero, as qlite does.
// The MEAN formulas are written out here (independently of int8_kernels.h) and
// checked against TFLite too, so a failure says whether qlite or the
// understanding of TFLite is wrong. Skipped without the peer
// (scripts/install_peers.sh), a failure under CI=true.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <string>

#include "kernels/reference/requantize.h"
#include "qlite/runtime.h"
#include "runtime_models.h"
#include "tflite_peer.h"

namespace qlite::test {
namespace {

struct MeanCase {
  int n, h, w, c;
  float in_scale;
  int32_t in_zp;
  float out_scale;
  int32_t out_zp;
  bool keep_dims;
  std::vector<int32_t> axes{1, 2};

  std::string str() const {
    std::string a;
    for (int32_t v : axes) a += std::to_string(v) + ",";
    return std::to_string(n) + "x" + std::to_string(h) + "x" + std::to_string(w) + "x" + std::to_string(c) +
           " in(" + std::to_string(in_scale) + "," + std::to_string(in_zp) + ") out(" + std::to_string(out_scale) +
           "," + std::to_string(out_zp) + ") keep_dims=" + std::to_string(keep_dims) + " axes=" + a;
  }
};

std::vector<uint8_t> mean_model(const MeanCase& k) {
  ModelBuilder b;
  const int32_t x =
      b.add_tensor("x", TensorType::kInt8, {k.n, k.h, k.w, k.c}, Quantization::per_tensor(k.in_scale, k.in_zp));
  const int32_t axes =
      b.add_constant("axes", TensorType::kInt32, {static_cast<int32_t>(k.axes.size())}, k.axes);
  const std::vector<int32_t> out_shape =
      k.keep_dims ? std::vector<int32_t>{k.n, 1, 1, k.c} : std::vector<int32_t>{k.n, k.c};
  const int32_t y = b.add_tensor("y", TensorType::kInt8, out_shape, Quantization::per_tensor(k.out_scale, k.out_zp));
  b.add_operator(BuiltinOp::kMean, {x, axes}, {y}, lite::ReducerOptions{k.keep_dims}, 2);
  b.set_inputs({x});
  b.set_outputs({y});
  return b.finish();
}

std::vector<int8_t> run_qlite(const std::vector<uint8_t>& model, const std::vector<int8_t>& x) {
  auto it = runtime::Interpreter::from_buffer(model);
  std::memcpy(it->input_bytes(0).data(), x.data(), x.size());
  it->invoke();
  const auto out = it->output_bytes(0);
  std::vector<int8_t> r(out.size());
  std::memcpy(r.data(), out.data(), out.size());
  return r;
}

std::vector<int8_t> run_tflite(const TfLitePeer& peer, const std::vector<uint8_t>& model, const MeanCase& k,
                               const std::vector<int8_t>& x) {
  const auto out = peer.run(model, {PeerInput::of<int8_t>({k.n, k.h, k.w, k.c}, x)});
  EXPECT_EQ(out.size(), 1u);
  if (out.empty()) return {};
  return out[0].values<int8_t>();
}

// TFLite 2.9's int8 MEAN arithmetic, written out from reduce.cc, reduce.h and
// integer_ops/mean.h. `raw` is the int32 sum of the h*w raw inputs.
int tflite_mean(const MeanCase& k, int32_t raw) {
  const int32_t n = k.h * k.w;
  const bool hw = k.axes.size() == 2 && ((k.axes[0] == 1 && k.axes[1] == 2) || (k.axes[0] == 2 && k.axes[1] == 1));
  if (k.keep_dims && hw) {
    const ref::QuantizedMultiplier m = ref::quantize_multiplier(double{k.in_scale} / double{k.out_scale});
    int32_t acc = ref::multiply_by_quantized_multiplier(raw - n * k.in_zp, m);
    acc = acc > 0 ? (acc + n / 2) / n : (acc - n / 2) / n;
    return std::clamp(acc + k.out_zp, -128, 127);
  }
  if (k.in_zp == k.out_zp && k.in_scale == k.out_scale) return raw / n;
  const float scale = k.in_scale / k.out_scale;
  const float bias = static_cast<float>(-k.in_zp) * scale;
  const float mean = static_cast<float>(raw) / static_cast<float>(n);
  const volatile float scaled = mean * scale;
  const float r = std::round(scaled + bias) + static_cast<float>(k.out_zp);
  return static_cast<int>(std::max(std::min(r, 127.0f), -128.0f));
}

std::vector<int8_t> random_input(const MeanCase& k, Rng& rng) {
  std::vector<int8_t> x(static_cast<size_t>(k.n) * k.h * k.w * k.c);
  for (auto& v : x) v = static_cast<int8_t>(static_cast<int>(rng.below(256)) - 128);
  return x;
}

// Compares qlite and the written-out formula with TFLite on input x.
void expect_same_as_tflite(const TfLitePeer& peer, const MeanCase& k, const std::vector<int8_t>& x) {
  SCOPED_TRACE(k.str());
  const std::vector<uint8_t> model = mean_model(k);
  const std::vector<int8_t> theirs = run_tflite(peer, model, k, x);
  ASSERT_EQ(theirs.size(), static_cast<size_t>(k.n * k.c));
  const std::vector<int8_t> ours = run_qlite(model, x);
  int formula_diff = 0, qlite_diff = 0;
  for (int b = 0; b < k.n; ++b)
    for (int c = 0; c < k.c; ++c) {
      int32_t raw = 0;
      for (int i = 0; i < k.h * k.w; ++i) raw += x[(static_cast<size_t>(b) * k.h * k.w + i) * k.c + c];
      const size_t o = static_cast<size_t>(b * k.c + c);
      formula_diff += tflite_mean(k, raw) != theirs[o];
      qlite_diff += ours[o] != theirs[o];
    }
  EXPECT_EQ(formula_diff, 0) << "the written-out TFLite arithmetic differs from TFLite";
  EXPECT_EQ(qlite_diff, 0) << "qlite's MEAN differs from TFLite on " << qlite_diff << " of " << k.n * k.c
                           << " outputs";
}

// Hand-computed, one channel, zero points 0; qlite's former single
// requantization by in_scale / (out_scale * h * w) (gemmlowp double rounding)
// gives 1 in the first three cases.
//  A keep_dims, 1x3 window, in = out scale 0.5, x = {1, 0, 0}: sum 1;
//    MBQM(1, 1) = 1, then (1 + 3/2) / 3 = 0. (Single: SRDHM(1, 2/3) = 1, then
//    1 / 2 rounds half away to 1.)
//  B no keep_dims, 2x2, in = out scale 0.5, x = {1, 1, 1, 0}: sum 3, equal
//    quantization: 3 / 4 truncates to 0.
//  C no keep_dims, 2x2, in 0.5, out 1.0, x = {1, 1, 1, 0}: float path,
//    round(3 / 4 * 0.5 + 0) = round(0.375) = 0.
//  D as C with keep_dims: MBQM(3, 0.5) = round(1.5) = 2, (2 + 2) / 4 = 1.
//    Same data as C, yet 1: TFLite's paths really differ.
TEST(TfLiteMean, HandComputedCasesWhereOneRoundingDiffers) {
  QLITE_REQUIRE_TFLITE_PEER(peer);
  auto check = [&](const MeanCase& k, const std::vector<int8_t>& x, int8_t want) {
    SCOPED_TRACE(k.str());
    const std::vector<uint8_t> model = mean_model(k);
    EXPECT_EQ(run_tflite(*peer, model, k, x), std::vector<int8_t>{want});
    EXPECT_EQ(run_qlite(model, x), std::vector<int8_t>{want});
  };
  check({1, 1, 3, 1, 0.5f, 0, 0.5f, 0, true}, {1, 0, 0}, 0);         // A
  check({1, 2, 2, 1, 0.5f, 0, 0.5f, 0, false}, {1, 1, 1, 0}, 0);     // B
  check({1, 2, 2, 1, 0.5f, 0, 1.0f, 0, false}, {1, 1, 1, 0}, 0);     // C
  check({1, 2, 2, 1, 0.5f, 0, 1.0f, 0, true}, {1, 1, 1, 0}, 1);      // D
}

// Shapes and quantizations: h*w = 1, 7x7 (MobileNet), 1x13, odd channel
// counts, zero points at both ends, equal and different input / output
// quantization, keep_dims true and false, and axes written in every way the
// runtime accepts ({2, 1} takes the keep_dims special case as {1, 2} does;
// negative axes miss it and take one of the general paths).
TEST(TfLiteMean, RandomShapesAndQuantizationsMatchExactly) {
  QLITE_REQUIRE_TFLITE_PEER(peer);
  struct Shape {
    int n, h, w, c;
  };
  struct Quant {
    float in_scale;
    int32_t in_zp;
    float out_scale;
    int32_t out_zp;
  };
  const Shape shapes[] = {{1, 1, 1, 5}, {2, 7, 7, 33}, {1, 1, 13, 17}, {3, 13, 1, 3}, {1, 3, 5, 1}, {2, 4, 4, 64}};
  const Quant quants[] = {
      {0.05f, -3, 0.05f, -3},       // equal
      {0.05f, -128, 0.05f, -128},   // equal, zero point at the bottom
      {0.031f, 127, 0.031f, 127},   // equal, zero point at the top
      {0.05f, -3, 0.0173f, 11},     // output finer: ratio > 1
      {0.02f, -128, 0.011f, 127},   // both zero points at the ends
      {0.031f, 127, 0.02f, -128},
      {0.02f, 5, 0.08f, 5},         // same zero point, different scale: ratio 1/4
      {0.02f, 5, 0.02f, 6},         // same scale, different zero point
      {0.5f, 0, 1.0f, 0},           // ratio 1/2: many ties
  };
  const std::vector<int32_t> axes_forms[] = {{1, 2}, {2, 1}, {-3, -2}, {2, -3}};
  Rng rng(2029);
  int cases = 0;
  for (const Shape& s : shapes)
    for (const Quant& q : quants)
      for (bool keep_dims : {true, false})
        for (const auto& axes : axes_forms) {
          const MeanCase k{s.n, s.h, s.w, s.c, q.in_scale, q.in_zp, q.out_scale, q.out_zp, keep_dims, axes};
          expect_same_as_tflite(*peer, k, random_input(k, rng));
          ++cases;
        }
  // Random scales and zero points (ratio in_scale / out_scale within [1/16, 16]).
  for (int i = 0; i < 60; ++i) {
    const int h = 1 + static_cast<int>(rng.below(9)), w = 1 + static_cast<int>(rng.below(9));
    const float in_scale = rng.uniform(0.002f, 0.1f);
    const float out_scale = in_scale * std::exp2(rng.uniform(-4.0f, 4.0f));
    const int32_t in_zp = static_cast<int32_t>(rng.below(256)) - 128;
    const int32_t out_zp = static_cast<int32_t>(rng.below(256)) - 128;
    const MeanCase k{1 + static_cast<int>(rng.below(3)), h, w, 1 + static_cast<int>(rng.below(40)), in_scale, in_zp,
                     out_scale, out_zp, i % 2 == 0, axes_forms[static_cast<size_t>(i / 2) % 4]};
    expect_same_as_tflite(*peer, k, random_input(k, rng));
    ++cases;
  }
  // Saturated inputs: every output at the clamp bounds.
  for (int8_t v : {int8_t{-128}, int8_t{127}})
    for (bool keep_dims : {true, false}) {
      const MeanCase k{1, 7, 7, 9, 0.05f, -3, 0.0173f, 11, keep_dims};
      expect_same_as_tflite(*peer, k, std::vector<int8_t>(static_cast<size_t>(7 * 7 * 9), v));
      ++cases;
    }
  EXPECT_GT(cases, 480);
}

// AVERAGE_POOL_2D int8: VALID and SAME padding (windows cut by the border
// average fewer taps), strides, windows over 16x16 (TFLite's reference
// kernel), fused activations, zero points at both ends.
TEST(TfLiteAveragePool, Int8RandomGeometriesMatchExactly) {
  QLITE_REQUIRE_TFLITE_PEER(peer);
  Rng rng(4242);
  const Activation acts[] = {Activation::kLinear, Activation::kRelu, Activation::kRelu6, Activation::kReluN1To1};
  const int32_t zps[] = {-128, -5, 0, 127};
  int differing = 0, outputs = 0;
  for (int rep = 0; rep < 120; ++rep) {
    const bool big = rep % 10 == 0;
    const int fh = big ? 17 + static_cast<int>(rng.below(4)) : 1 + static_cast<int>(rng.below(5));
    const int fw = big ? 17 : 1 + static_cast<int>(rng.below(5));
    const int sh = 1 + static_cast<int>(rng.below(3)), sw = 1 + static_cast<int>(rng.below(3));
    const bool same = rng.below(2) == 0;
    const int h = fh + static_cast<int>(rng.below(9)), w = fw + static_cast<int>(rng.below(9));
    const int n = 1 + static_cast<int>(rng.below(2)), c = 1 + static_cast<int>(rng.below(37));
    const int oh = same ? (h + sh - 1) / sh : (h - fh) / sh + 1, ow = same ? (w + sw - 1) / sw : (w - fw) / sw + 1;
    const float scale = rng.uniform(0.005f, 0.1f);
    const int32_t zp = zps[rng.below(4)];
    const Activation act = acts[rng.below(4)];
    ModelBuilder b;
    const int32_t x = b.add_tensor("x", TensorType::kInt8, {n, h, w, c}, Quantization::per_tensor(scale, zp));
    const int32_t y = b.add_tensor("y", TensorType::kInt8, {n, oh, ow, c}, Quantization::per_tensor(scale, zp));
    b.add_operator(BuiltinOp::kAveragePool2D, {x}, {y},
                   lite::Pool2DOptions{same ? lite::Padding::kSame : lite::Padding::kValid, sw, sh, fw, fh, act});
    b.set_inputs({x});
    b.set_outputs({y});
    const std::vector<uint8_t> model = b.finish();
    std::vector<int8_t> in(static_cast<size_t>(n) * h * w * c);
    for (auto& v : in) v = static_cast<int8_t>(static_cast<int>(rng.below(256)) - 128);
    const auto theirs = peer->run(model, {PeerInput::of<int8_t>({n, h, w, c}, in)});
    ASSERT_EQ(theirs.size(), 1u);
    const std::vector<int8_t> ours = run_qlite(model, in);
    ASSERT_EQ(ours.size(), theirs[0].bytes.size());
    const std::vector<int8_t> t = theirs[0].values<int8_t>();
    int diff = 0;
    for (size_t i = 0; i < ours.size(); ++i) diff += ours[i] != t[i];
    EXPECT_EQ(diff, 0) << "filter " << fh << "x" << fw << " stride " << sh << "x" << sw << (same ? " SAME" : " VALID")
                       << " in " << h << "x" << w << "x" << c << " zp " << zp;
    differing += diff;
    outputs += static_cast<int>(ours.size());
  }
  EXPECT_EQ(differing, 0) << "of " << outputs << " outputs";
}

}  // namespace
}  // namespace qlite::test
