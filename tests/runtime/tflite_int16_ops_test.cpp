// 16x8 quantization (int16 activations with zero point 0, int8 weights, int64
// or int32 bias) against the real TensorFlow Lite 2.9: random one-op CONV_2D
// and FULLY_CONNECTED files run in TFLite and in qlite (on every Isa the
// interpreter has; 16x8 runs the reference kernels, int16_kernels.h), output
// bytes identical. Plus the requantization itself checked by hand and the
// files TFLite refuses refused by qlite too.
// A failure under CI=true when the peer is missing (scripts/install_peers.sh).
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "kernels/reference/int16_kernels.h"
#include "qlite/runtime.h"
#include "isa_runs.h"
#include "single_op_peer.h"

namespace qlite::test {
namespace {

using T = TensorType;

int pick(Rng& rng, int lo, int hi) { return lo + static_cast<int>(rng.below(static_cast<uint64_t>(hi - lo + 1))); }

// int16 activations as a 16x8 converter leaves them: mostly moderate values,
// some at the rails.
std::vector<int16_t> rand_int16(Rng& rng, int64_t n) {
  std::vector<int16_t> v(static_cast<size_t>(n));
  for (auto& x : v) {
    const uint64_t k = rng.below(16);
    x = k == 0   ? static_cast<int16_t>(rng.below(2) ? 32767 : -32768)
        : k < 4  ? static_cast<int16_t>(static_cast<int64_t>(rng.below(65536)) - 32768)
                 : static_cast<int16_t>(static_cast<int64_t>(rng.below(8001)) - 4000);
  }
  return v;
}
std::vector<int8_t> rand_int8(Rng& rng, int64_t n) {
  std::vector<int8_t> v(static_cast<size_t>(n));
  for (auto& x : v) x = static_cast<int8_t>(static_cast<int64_t>(rng.below(255)) - 127);
  return v;
}
Activation rand_act(Rng& rng) {
  const Activation a[] = {Activation::kLinear, Activation::kRelu, Activation::kRelu6, Activation::kReluN1To1};
  return a[rng.below(4)];
}

struct Case {
  std::vector<uint8_t> model, input;
  std::vector<int32_t> in_shape;
  std::string what;
};

// Scales chosen so the output is spread over int16 (k accumulated terms of
// about 4000 x 64): the output scale near the accumulator's real spread.
struct Scales {
  float in, out;
  std::vector<float> w;
};
Scales rand_scales(Rng& rng, int k, int channels) {
  Scales s;
  s.in = std::exp2(static_cast<float>(pick(rng, -14, -6))) * (0.5f + rng.uniform());
  for (int c = 0; c < channels; ++c)
    s.w.push_back(std::exp2(static_cast<float>(pick(rng, -10, -5))) * (0.5f + rng.uniform()));
  s.out = s.in * s.w[0] * std::sqrt(static_cast<float>(k)) * 4000.0f * 64.0f / 32768.0f * 4.0f *
          (0.05f + rng.uniform());
  return s;
}

// A bias of int64 (usually) or int32, a few output steps to a large part of the range.
int32_t add_bias(ModelBuilder& b, Rng& rng, bool bias64, int n, int k, float in_scale, const std::vector<float>& ws) {
  const int64_t spread = static_cast<int64_t>(4000.0 * 64.0 * std::sqrt(static_cast<double>(k))) + 1;
  std::vector<float> scales;
  for (float w : ws) scales.push_back(in_scale * w);
  const Quantization q = ws.size() == 1 ? Quantization::per_tensor(scales[0], 0)
                                        : Quantization::per_axis(scales, std::vector<int64_t>(scales.size(), 0), 0);
  if (bias64) {
    std::vector<int64_t> v(static_cast<size_t>(n));
    for (auto& x : v) x = static_cast<int64_t>(rng.below(static_cast<uint64_t>(2 * spread + 1))) - spread;
    return b.add_constant("b", T::kInt64, {n}, v, q);
  }
  std::vector<int32_t> v(static_cast<size_t>(n));
  for (auto& x : v) x = static_cast<int32_t>(static_cast<int64_t>(rng.below(static_cast<uint64_t>(2 * spread + 1))) - spread);
  return b.add_constant("b", T::kInt32, {n}, v, q);
}

Quantization weight_quant(const std::vector<float>& ws) {
  return ws.size() == 1 ? Quantization::per_tensor(ws[0], 0)
                        : Quantization::per_axis(ws, std::vector<int64_t>(ws.size(), 0), 0);
}

Case conv_case(Rng& rng, bool bias64) {
  Case c;
  const int batch = pick(rng, 1, 2), h = pick(rng, 1, 10), w = pick(rng, 1, 10);
  const int cin = rng.below(2) ? pick(rng, 1, 4) : pick(rng, 5, 40);
  const int cout = pick(rng, 1, 24);
  const int kh = pick(rng, 1, 3), kw = pick(rng, 1, 3), sh = pick(rng, 1, 2), sw = pick(rng, 1, 2);
  const int dh = rng.below(4) == 0 ? 2 : 1, dw = rng.below(4) == 0 ? 2 : 1;
  Padding pad = rng.below(2) ? Padding::kSame : Padding::kValid;
  if ((kh - 1) * dh + 1 > h || (kw - 1) * dw + 1 > w) pad = Padding::kSame;
  const bool per_channel = rng.below(4) != 0;
  const Scales s = rand_scales(rng, kh * kw * cin, per_channel ? cout : 1);
  ModelBuilder b;
  c.in_shape = {batch, h, w, cin};
  const int32_t x = b.add_tensor("x", T::kInt16, c.in_shape, Quantization::per_tensor(s.in, 0));
  const int32_t wt =
      b.add_constant("w", T::kInt8, {cout, kh, kw, cin}, rand_int8(rng, int64_t{kh} * kw * cout * cin), weight_quant(s.w));
  // TFLite 2.9 refuses a 16x8 CONV_2D without a bias ("Tensor at index 2 was
  // optional but was expected"), and so does qlite (NoBiasConv2DIsRefusedLikeTfLite).
  const bool with_bias = true;
  const int32_t bias = add_bias(b, rng, bias64, cout, kh * kw * cin, s.in, s.w);
  const int oh = pad == Padding::kSame ? (h + sh - 1) / sh : (h - (kh - 1) * dh - 1) / sh + 1;
  const int ow = pad == Padding::kSame ? (w + sw - 1) / sw : (w - (kw - 1) * dw - 1) / sw + 1;
  const int32_t y = b.add_tensor("y", T::kInt16, {batch, oh, ow, cout}, Quantization::per_tensor(s.out, 0));
  lite::Conv2DOptions o;
  o.padding = pad;
  o.stride_h = sh, o.stride_w = sw, o.dilation_h = dh, o.dilation_w = dw;
  o.activation = rand_act(rng);
  b.add_operator(BuiltinOp::kConv2D, {x, wt, bias}, {y}, o);
  b.set_inputs({x});
  b.set_outputs({y});
  c.model = b.finish();
  c.input = as_bytes(rand_int16(rng, int64_t{batch} * h * w * cin));
  c.what = "CONV_2D 16x8 in " + std::to_string(batch) + "x" + std::to_string(h) + "x" + std::to_string(w) + "x" +
           std::to_string(cin) + " out_c " + std::to_string(cout) + " k " + std::to_string(kh) + "x" +
           std::to_string(kw) + " s " + std::to_string(sh) + std::to_string(sw) + " d " + std::to_string(dh) +
           std::to_string(dw) + (per_channel ? " per-channel" : " per-tensor") +
           (with_bias ? (bias64 ? " bias int64" : " bias int32") : " no bias") + " act " +
           lite::activation_name(o.activation);
  return c;
}

Case fc_case(Rng& rng, bool bias64) {
  Case c;
  const int batch = pick(rng, 1, 5), in = rng.below(3) == 0 ? pick(rng, 100, 300) : pick(rng, 1, 64);
  const int out = pick(rng, 1, 40);
  const Scales s = rand_scales(rng, in, 1);
  ModelBuilder b;
  c.in_shape = {batch, in};
  const int32_t x = b.add_tensor("x", T::kInt16, c.in_shape, Quantization::per_tensor(s.in, 0));
  const int32_t wt = b.add_constant("w", T::kInt8, {out, in}, rand_int8(rng, int64_t{out} * in), weight_quant(s.w));
  const bool with_bias = rng.below(8) != 0;
  const int32_t bias = with_bias ? add_bias(b, rng, bias64, out, in, s.in, s.w) : -1;
  const int32_t y = b.add_tensor("y", T::kInt16, {batch, out}, Quantization::per_tensor(s.out, 0));
  lite::FullyConnectedOptions o;
  o.activation = rand_act(rng);
  b.add_operator(BuiltinOp::kFullyConnected, {x, wt, bias}, {y}, o);
  b.set_inputs({x});
  b.set_outputs({y});
  c.model = b.finish();
  c.input = as_bytes(rand_int16(rng, int64_t{batch} * in));
  c.what = "FULLY_CONNECTED 16x8 " + std::to_string(batch) + "x" + std::to_string(in) + " -> " + std::to_string(out) +
           (with_bias ? (bias64 ? " bias int64" : " bias int32") : " no bias") + " act " + lite::activation_name(o.activation);
  return c;
}

// Every case in TFLite and on every qlite path. Returns the int16 outputs
// compared and how many lie strictly inside (-32768, 32767) and are not 0: a
// suite of saturated or clamped outputs would prove little.
struct Compared {
  int64_t outputs = 0, interior = 0, refused = 0;
};
Compared check_cases(const TfLitePeer& peer, const std::vector<Case>& cases) {
  Compared r;
  for (const Case& c : cases) {
    SCOPED_TRACE(c.what);
    const Outcome theirs = run_in_tflite(peer, c.model, c.in_shape, c.input);
    for (Isa isa : runtime_isas()) {
      const Outcome ours = run_on(isa, c.model, c.input);
      // Both run it, or both refuse it.
      EXPECT_EQ(ours.error.empty(), theirs.error.empty())
          << isa_name(isa) << ": qlite '" << ours.error << "', TFLite '" << theirs.error << "'";
      if (!ours.error.empty() || !theirs.error.empty()) continue;
      EXPECT_EQ(ours.bytes.size(), theirs.bytes.size()) << isa_name(isa);
      if (ours.bytes.size() != theirs.bytes.size()) continue;
      int diff = 0;
      for (size_t i = 0; i < ours.bytes.size(); i += 2) diff += std::memcmp(&ours.bytes[i], &theirs.bytes[i], 2) != 0;
      EXPECT_EQ(diff, 0) << isa_name(isa) << ": " << diff << " of " << ours.bytes.size() / 2 << " values differ";
    }
    if (!theirs.error.empty()) {
      ++r.refused;
      continue;
    }
    r.outputs += static_cast<int64_t>(theirs.bytes.size() / 2);
    for (size_t i = 0; i < theirs.bytes.size(); i += 2) {
      int16_t v;
      std::memcpy(&v, &theirs.bytes[i], 2);
      r.interior += v != 0 && v != 32767 && v != -32768;
    }
  }
  return r;
}

void run_suite(uint64_t seed, bool conv, bool bias64, const char* what) {
  QLITE_REQUIRE_TFLITE_PEER(peer);
  Rng rng(seed);
  std::vector<Case> cases;
  for (int i = 0; i < 100; ++i) cases.push_back(conv ? conv_case(rng, bias64) : fc_case(rng, bias64));
  const Compared n = check_cases(*peer, cases);
  std::printf("%s: %zu files (%lld refused by both), %lld int16 outputs (%lld not 0 or a rail) compared on %zu paths\n",
              what, cases.size(), static_cast<long long>(n.refused), static_cast<long long>(n.outputs),
              static_cast<long long>(n.interior), runtime_isas().size());
  EXPECT_EQ(n.refused, 0);
  EXPECT_GT(n.interior, n.outputs / 3);  // the rest: fused ReLUs at 0 and the rails
}

TEST(TfLiteInt16x8, Conv2DInt64BiasMatchesTfLite) { run_suite(1601, true, true, "16x8 CONV_2D, int64 bias"); }
TEST(TfLiteInt16x8, Conv2DInt32BiasMatchesTfLite) { run_suite(1602, true, false, "16x8 CONV_2D, int32 bias"); }
TEST(TfLiteInt16x8, FullyConnectedInt64BiasMatchesTfLite) {
  run_suite(1603, false, true, "16x8 FULLY_CONNECTED, int64 bias");
}
TEST(TfLiteInt16x8, FullyConnectedInt32BiasMatchesTfLite) {
  run_suite(1604, false, false, "16x8 FULLY_CONNECTED, int32 bias");
}

// TFLite's int64 MultiplyByQuantizedMultiplier by hand: M0 = 0x40000000
// (0.5) reduces to 0x4000; 5 * 0.5 = 2.5 rounds half up to 3, -5 * 0.5 to -2.
TEST(Int16Requantize, HandComputedValues) {
  EXPECT_EQ(ref::multiply_by_quantized_multiplier_int64(5, 0x40000000, 0), 3);
  EXPECT_EQ(ref::multiply_by_quantized_multiplier_int64(-5, 0x40000000, 0), -2);
  // The multiplier is first reduced to 15 bits, rounded: 0x40008000 -> 0x4001. So
  // 2^22 * 0x4001 / 2^20 = 65540, where the exact product (2^22 * 0x40008000 / 2^36 =
  // 65538.0) would give 65538.
  EXPECT_EQ(ref::multiply_by_quantized_multiplier_int64(int64_t{1} << 22, 0x40008000, -5), 65540);
  // Multipliers at or above 0x7FFF0000 saturate to 0x7FFF instead of overflowing the reduction.
  EXPECT_EQ(ref::multiply_by_quantized_multiplier_int64(1 << 15, 0x7FFFFFFF, 0), 0x7FFF);
  // Left shifts (shift > 0) multiply before the single rounding: 3 * 0.5 * 4 = 6.
  EXPECT_EQ(ref::multiply_by_quantized_multiplier_int64(3, 0x40000000, 2), 6);
  // The int32 accumulator's form rounds once with all 31 bits: 2^22 * 0x40008000 / 2^36
  // = 65538.0 exactly (the int64 form above gives 65540); 5 * 0.5 = 2.5 -> 3, -2.5 -> -2.
  EXPECT_EQ(ref::multiply_by_quantized_multiplier_single_round(1 << 22, 0x40008000, -5), 65538);
  EXPECT_EQ(ref::multiply_by_quantized_multiplier_single_round(5, 0x40000000, 0), 3);
  EXPECT_EQ(ref::multiply_by_quantized_multiplier_single_round(-5, 0x40000000, 0), -2);
}

// What TFLite refuses qlite refuses, with a message naming the reason.
TEST(TfLiteInt16x8, NonZeroZeroPointsAreRefusedLikeTfLite) {
  QLITE_REQUIRE_TFLITE_PEER(peer);
  for (int which = 0; which < 2; ++which) {
    ModelBuilder b;
    const int32_t x = b.add_tensor("x", T::kInt16, {1, 4}, Quantization::per_tensor(0.01f, which == 0 ? 3 : 0));
    const int32_t wt = b.add_constant("w", T::kInt8, {2, 4}, std::vector<int8_t>(8, 1), Quantization::per_tensor(0.1f, 0));
    const int32_t y = b.add_tensor("y", T::kInt16, {1, 2}, Quantization::per_tensor(0.01f, which == 1 ? 5 : 0));
    b.add_operator(BuiltinOp::kFullyConnected, {x, wt, -1}, {y}, lite::FullyConnectedOptions{});
    b.set_inputs({x});
    b.set_outputs({y});
    const auto model = b.finish();
    const std::vector<uint8_t> input(8, 0);
    const Outcome theirs = run_in_tflite(*peer, model, {1, 4}, input);
    const Outcome ours = run_in_qlite(model, input);
    EXPECT_NE(theirs.error, "") << "TFLite ran a 16x8 FULLY_CONNECTED with a non-zero " << (which ? "output" : "input")
                                << " zero point";
    EXPECT_NE(ours.error.find("zero point 0"), std::string::npos) << ours.error;
  }
}

// Accumulators beyond int32 (700 products of 32767 x 127, with and without an
// int32 bias, and with an int64 one), on an output scale that keeps the true
// result inside int16: what TFLite's int32 accumulator does there is what qlite must do.
TEST(TfLiteInt16x8, AccumulatorsBeyondInt32MatchTfLite) {
  QLITE_REQUIRE_TFLITE_PEER(peer);
  for (int bias_kind = 0; bias_kind < 3; ++bias_kind) {
    for (int sign = 0; sign < 2; ++sign) {
      SCOPED_TRACE("bias kind " + std::to_string(bias_kind) + " sign " + std::to_string(sign));
      const int in = 700, out = 3;
      const float in_scale = 1.0f / 32768.0f, w_scale = 1.0f / 128.0f;
      // real acc ~ 700 * 0.994 = 696; output scale 0.05 -> about 13,900 steps
      const float out_scale = 0.05f;
      ModelBuilder b;
      const int32_t x = b.add_tensor("x", T::kInt16, {1, in}, Quantization::per_tensor(in_scale, 0));
      std::vector<int8_t> wv(static_cast<size_t>(in * out), static_cast<int8_t>(sign ? -127 : 127));
      const int32_t wt = b.add_constant("w", T::kInt8, {out, in}, wv, Quantization::per_tensor(w_scale, 0));
      int32_t bias = -1;
      const Quantization bq = Quantization::per_tensor(in_scale * w_scale, 0);
      if (bias_kind == 1) bias = b.add_constant("b", T::kInt32, {out}, std::vector<int32_t>{0, 1000, -1000}, bq);
      if (bias_kind == 2) bias = b.add_constant("b", T::kInt64, {out}, std::vector<int64_t>{0, 1000, -1000}, bq);
      const int32_t y = b.add_tensor("y", T::kInt16, {1, out}, Quantization::per_tensor(out_scale, 0));
      b.add_operator(BuiltinOp::kFullyConnected, {x, wt, bias}, {y}, lite::FullyConnectedOptions{});
      b.set_inputs({x});
      b.set_outputs({y});
      const auto model = b.finish();
      const auto input = as_bytes(std::vector<int16_t>(static_cast<size_t>(in), 32767));
      const Outcome theirs = run_in_tflite(*peer, model, {1, in}, input);
      const Outcome ours = run_in_qlite(model, input);
      ASSERT_EQ(theirs.error, "");
      ASSERT_EQ(ours.error, "");
      std::vector<int16_t> t(out), q(out);
      std::memcpy(t.data(), theirs.bytes.data(), sizeof(int16_t) * out);
      std::memcpy(q.data(), ours.bytes.data(), sizeof(int16_t) * out);
      std::printf("bias kind %d sign %d: TFLite %d %d %d, qlite %d %d %d\n", bias_kind, sign, t[0], t[1], t[2], q[0], q[1], q[2]);
      EXPECT_EQ(q, t);
    }
  }
}

// One-op QUANTIZE / DEQUANTIZE files at the ends of a 16x8 model (and the
// requantizations between int16 and int8): input [n] of in_type, output of out_type.
Outcome one_op(const TfLitePeer* peer, BuiltinOp op, T in_type, Quantization in_q, T out_type, Quantization out_q,
               const std::vector<uint8_t>& input, int n) {
  ModelBuilder b;
  const int32_t x = b.add_tensor("x", in_type, {n}, in_q);
  const int32_t y = b.add_tensor("y", out_type, {n}, out_q);
  b.add_operator(op, {x}, {y});
  b.set_inputs({x});
  b.set_outputs({y});
  const auto model = b.finish();
  return peer ? run_in_tflite(*peer, model, {n}, input) : run_in_qlite(model, input);
}

// Float -> int16: random values, every rounding tie near zero and its float
// neighbours, values past the rails, on 12 scales and zero points 0 and others.
TEST(TfLiteInt16x8, QuantizeFromFloatMatchesTfLite) {
  QLITE_REQUIRE_TFLITE_PEER(peer);
  Rng rng(1605);
  int64_t compared = 0;
  for (int k = 0; k < 12; ++k) {
    const float scale = std::exp2(static_cast<float>(pick(rng, -16, 2))) * (0.5f + rng.uniform());
    const int32_t zp = k % 3 == 0 ? 0 : pick(rng, -300, 300);
    std::vector<float> v;
    for (int i = -2000; i <= 2000; ++i) {
      const float tie = (static_cast<float>(i) + 0.5f) * scale;
      v.push_back(tie);
      v.push_back(std::nextafter(tie, 0.0f));
      v.push_back(std::nextafter(tie, 1e30f));
    }
    for (int i = 0; i < 4000; ++i) v.push_back((rng.uniform() * 2.0f - 1.0f) * 40000.0f * scale);
    const std::vector<uint8_t> in = as_bytes(v);
    const int n = static_cast<int>(v.size());
    const Quantization q = Quantization::per_tensor(scale, zp);
    const Outcome theirs = one_op(peer, BuiltinOp::kQuantize, T::kFloat32, {}, T::kInt16, q, in, n);
    const Outcome ours = one_op(nullptr, BuiltinOp::kQuantize, T::kFloat32, {}, T::kInt16, q, in, n);
    ASSERT_EQ(theirs.error, "");
    ASSERT_EQ(ours.error, "");
    int diff = 0;
    for (size_t i = 0; i < ours.bytes.size(); i += 2) diff += std::memcmp(&ours.bytes[i], &theirs.bytes[i], 2) != 0;
    EXPECT_EQ(diff, 0) << "scale " << scale << " zero point " << zp;
    compared += n;
  }
  std::printf("QUANTIZE float32 -> int16: %lld values compared\n", static_cast<long long>(compared));
}

// int16 -> float32 and the requantizations int16 -> int16 / int8, on every
// input value; int8 -> int16, which TFLite 2.9 refuses, refused by both.
TEST(TfLiteInt16x8, DequantizeAndRequantizeMatchTfLite) {
  QLITE_REQUIRE_TFLITE_PEER(peer);
  Rng rng(1606);
  std::vector<int16_t> all16;
  for (int v = -32768; v <= 32767; ++v) all16.push_back(static_cast<int16_t>(v));
  std::vector<int8_t> all8;
  for (int v = -128; v <= 127; ++v) all8.push_back(static_cast<int8_t>(v));
  for (int k = 0; k < 8; ++k) {
    const float s16 = std::exp2(static_cast<float>(pick(rng, -16, -4))) * (0.5f + rng.uniform());
    const float s16b = s16 * std::exp2(static_cast<float>(pick(rng, -3, 3))) * (0.5f + rng.uniform());
    const float s8 = s16 * std::exp2(static_cast<float>(pick(rng, 5, 9))) * (0.5f + rng.uniform());
    const int32_t zp8 = pick(rng, -128, 127);
    struct Run {
      BuiltinOp op;
      T in_t;
      Quantization in_q;
      T out_t;
      Quantization out_q;
      std::vector<uint8_t> input;
      int n;
      const char* what;
    };
    const std::vector<Run> runs = {
        {BuiltinOp::kDequantize, T::kInt16, Quantization::per_tensor(s16, 0), T::kFloat32, {}, as_bytes(all16), 65536,
         "DEQUANTIZE int16"},
        {BuiltinOp::kQuantize, T::kInt16, Quantization::per_tensor(s16, 0), T::kInt16,
         Quantization::per_tensor(s16b, 0), as_bytes(all16), 65536, "QUANTIZE int16 -> int16"},
        {BuiltinOp::kQuantize, T::kInt16, Quantization::per_tensor(s16, 0), T::kInt8,
         Quantization::per_tensor(s8, zp8), as_bytes(all16), 65536, "QUANTIZE int16 -> int8"},
        {BuiltinOp::kQuantize, T::kInt8, Quantization::per_tensor(s8, zp8), T::kInt16,
         Quantization::per_tensor(s16, 0), as_bytes(all8), 256, "QUANTIZE int8 -> int16"},
    };
    for (const Run& r : runs) {
      SCOPED_TRACE(std::string(r.what) + " case " + std::to_string(k));
      const Outcome theirs = one_op(peer, r.op, r.in_t, r.in_q, r.out_t, r.out_q, r.input, r.n);
      const Outcome ours = one_op(nullptr, r.op, r.in_t, r.in_q, r.out_t, r.out_q, r.input, r.n);
      const bool refused = r.in_t == T::kInt8;
      EXPECT_EQ(theirs.error.empty(), !refused) << theirs.error;
      EXPECT_EQ(ours.error.empty(), !refused) << ours.error;
      if (!ours.error.empty() || !theirs.error.empty()) continue;
      EXPECT_EQ(ours.bytes, theirs.bytes);
    }
  }
}

// int16 ADD, both of TFLite's kernels: power-of-two scales with
// pot_scale_int16 (the schema default) take the shift-only kernel, anything
// else the general rescaling one. The second input is a constant, as a
// converter writes a bias-like addend, or the graph's x itself (x + x).
TEST(TfLiteInt16x8, AddMatchesTfLite) {
  QLITE_REQUIRE_TFLITE_PEER(peer);
  Rng rng(1607);
  int files = 0, pot_files = 0, refused = 0;
  int64_t compared = 0;
  for (int k = 0; k < 160; ++k) {
    const bool pot_flag = rng.below(4) != 0;
    const bool pot_scales = rng.below(2) == 0;
    auto scale = [&](int lo, int hi) {
      const float p2 = std::exp2(static_cast<float>(pick(rng, lo, hi)));
      return pot_scales ? p2 : p2 * (0.5f + rng.uniform());
    };
    const float so = scale(-14, -8);
    // Power-of-two cases mostly follow TFLite's rule (one input at the
    // output's scale, the other at most as large); some break it.
    const float s1 = pot_scales && rng.below(5) != 0 ? so : scale(-15, -8);
    const float s2 = scale(-16, -8);
    const Activation act = rand_act(rng);
    const int n = pick(rng, 1, 3000);
    lite::AddOptions o;
    o.activation = act;
    o.pot_scale_int16 = pot_flag;
    ModelBuilder b;
    const int32_t x = b.add_tensor("x", T::kInt16, {n}, Quantization::per_tensor(s1, 0));
    const bool self = rng.below(6) == 0;
    const int32_t k2 = self ? x
                            : b.add_constant("k", T::kInt16, {n}, rand_int16(rng, n), Quantization::per_tensor(s2, 0));
    const int32_t y = b.add_tensor("y", T::kInt16, {n}, Quantization::per_tensor(so, 0));
    b.add_operator(BuiltinOp::kAdd, {x, k2}, {y}, o);
    b.set_inputs({x});
    b.set_outputs({y});
    const auto model = b.finish();
    const auto input = as_bytes(rand_int16(rng, n));
    SCOPED_TRACE("case " + std::to_string(k) + " scales " + std::to_string(s1) + " " + std::to_string(self ? s1 : s2) +
                 " -> " + std::to_string(so) + " pot_scale_int16 " + std::to_string(pot_flag));
    const Outcome theirs = run_in_tflite(*peer, model, {n}, input);
    const Outcome ours = run_in_qlite(model, input);
    EXPECT_EQ(ours.error.empty(), theirs.error.empty()) << "qlite '" << ours.error << "', TFLite '" << theirs.error << "'";
    if (!theirs.error.empty()) ++refused;
    if (!ours.error.empty() || !theirs.error.empty()) continue;
    int diff = 0;
    for (size_t i = 0; i < ours.bytes.size(); i += 2) diff += std::memcmp(&ours.bytes[i], &theirs.bytes[i], 2) != 0;
    EXPECT_EQ(diff, 0) << diff << " of " << n << " values differ";
    ++files;
    pot_files += pot_flag && pot_scales;
    compared += n;
  }
  std::printf("int16 ADD: %d files run (%d with power-of-two scales and the flag), %d refused by both, %lld values\n",
              files, pot_files, refused, static_cast<long long>(compared));
  EXPECT_GT(pot_files, 30);
  EXPECT_GT(files, 120);
}

TEST(TfLiteInt16x8, NoBiasConv2DIsRefusedLikeTfLite) {
  QLITE_REQUIRE_TFLITE_PEER(peer);
  ModelBuilder b;
  const int32_t x = b.add_tensor("x", T::kInt16, {1, 3, 3, 2}, Quantization::per_tensor(0.01f, 0));
  const int32_t wt =
      b.add_constant("w", T::kInt8, {2, 1, 1, 2}, std::vector<int8_t>(4, 1), Quantization::per_tensor(0.1f, 0));
  const int32_t y = b.add_tensor("y", T::kInt16, {1, 3, 3, 2}, Quantization::per_tensor(0.01f, 0));
  b.add_operator(BuiltinOp::kConv2D, {x, wt, -1}, {y}, lite::Conv2DOptions{});
  b.set_inputs({x});
  b.set_outputs({y});
  const auto model = b.finish();
  const std::vector<uint8_t> input(36, 0);
  const Outcome theirs = run_in_tflite(*peer, model, {1, 3, 3, 2}, input);
  const Outcome ours = run_in_qlite(model, input);
  EXPECT_NE(theirs.error, "") << "TFLite 2.9 ran a 16x8 CONV_2D without a bias";
  EXPECT_NE(ours.error.find("needs a bias"), std::string::npos) << ours.error;
}

}  // namespace
}  // namespace qlite::test
