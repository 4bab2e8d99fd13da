// What TFLite 2.9 on x86 actually computes for int8 CONV_2D and
// FULLY_CONNECTED (both through ruy's GEMM): not gemmlowp's double rounding
// (SRDHM + RoundingDivideByPOT, ties away from zero) but
//   hi  = (acc * M0 + 2^30) >> 31           (round half up)
//   out = (hi + 2^(e-1)) >> e, e = -shift    (round half up, i.e. negative
//                                              halves toward +infinity)
// Each test checks three things against the real library: the formula above,
// written out here (independent of requantize.h); requantize.h's
// multiply_by_quantized_multiplier_half_up with the shared multiplier
// functions; and qlite's interpreter, byte for byte. Double rounding is
// counted too, to show the models do reach the ties where the forms differ.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>

#include "kernels/reference/requantize.h"
#include "qlite/runtime.h"
#include "runtime_models.h"
#include "tflite_peer.h"

namespace qlite::test {
namespace {

// Rounded half up exactly as above (M0 >= 0, right shift only).
int64_t ruy_requantize(int64_t acc, int32_t m0, int shift) {
  const int64_t hi = (acc * m0 + (int64_t{1} << 30)) >> 31;
  return shift < 0 ? (hi + (int64_t{1} << (-shift - 1))) >> (-shift) : hi;
}

std::vector<uint8_t> run_qlite(const std::vector<uint8_t>& model, const std::vector<uint8_t>& x) {
  auto it = runtime::Interpreter::from_buffer(model);
  std::memcpy(it->input_bytes(0).data(), x.data(), x.size());
  it->invoke();
  const auto out = it->output_bytes(0);
  std::vector<uint8_t> r(out.size());
  std::memcpy(r.data(), out.data(), out.size());
  return r;
}

struct Tally {
  int outputs = 0, vs_formula = 0, vs_requantize_h = 0, vs_double_rounding = 0;
  void add(int64_t acc, ref::QuantizedMultiplier q, int32_t zp, int tfl) {
    ++outputs;
    auto clamp8 = [&](int64_t v) { return static_cast<int>(std::clamp<int64_t>(v + zp, -128, 127)); };
    vs_formula += clamp8(ruy_requantize(acc, q.multiplier, q.shift)) != tfl;
    vs_requantize_h += clamp8(ref::multiply_by_quantized_multiplier_half_up(static_cast<int32_t>(acc), q)) != tfl;
    vs_double_rounding += clamp8(ref::multiply_by_quantized_multiplier(static_cast<int32_t>(acc), q)) != tfl;
  }
};

TEST(TfLiteRounding, Int8ConvUsesRoundHalfUpRequantization) {
  QLITE_REQUIRE_TFLITE_PEER(peer);
  const int H = 16, C = 8, F = 16, N = 8;
  Rng rng(77);
  std::vector<int8_t> w(static_cast<size_t>(F * 9 * C));
  for (auto& v : w) v = static_cast<int8_t>(static_cast<int>(rng.below(255)) - 127);
  std::vector<float> ws(F), bs(F);
  for (int f = 0; f < F; ++f) ws[static_cast<size_t>(f)] = rng.uniform(0.001f, 0.003f), bs[static_cast<size_t>(f)] = 0.02f * ws[static_cast<size_t>(f)];
  ModelBuilder b;
  const int32_t x = b.add_tensor("x", TensorType::kInt8, {N, H, H, C}, Quantization::per_tensor(0.02f, 3));
  const int32_t wt = b.add_constant("w", TensorType::kInt8, {F, 3, 3, C}, w, Quantization::per_axis(ws, std::vector<int64_t>(F, 0), 0));
  const int32_t bt = b.add_constant("b", TensorType::kInt32, {F}, std::vector<int32_t>(F, 0), Quantization::per_axis(bs, std::vector<int64_t>(F, 0), 0));
  const int32_t y = b.add_tensor("y", TensorType::kInt8, {N, H, H, F}, Quantization::per_tensor(0.01f, 0));
  b.add_operator(BuiltinOp::kConv2D, {x, wt, bt}, {y}, lite::Conv2DOptions{lite::Padding::kSame, 1, 1, Activation::kLinear, 1, 1}, 3);
  b.set_inputs({x});
  b.set_outputs({y});
  const std::vector<uint8_t> model = b.finish();
  std::vector<uint8_t> xin(static_cast<size_t>(N * H * H * C));
  for (auto& v : xin) v = static_cast<uint8_t>(rng.below(256));
  const auto out = peer->run(model, {PeerInput{{N, H, H, C}, xin}});
  const std::vector<ref::QuantizedMultiplier> qs = ref::conv_multipliers(0.02f, ws, 0.01f);
  Tally t;
  for (int n = 0; n < N; ++n)
    for (int oy = 0; oy < H; ++oy)
      for (int ox = 0; ox < H; ++ox)
        for (int f = 0; f < F; ++f) {
          int64_t acc = 0;
          for (int ky = 0; ky < 3; ++ky)
            for (int kx = 0; kx < 3; ++kx) {
              const int iy = oy + ky - 1, ix = ox + kx - 1;
              if (iy < 0 || iy >= H || ix < 0 || ix >= H) continue;
              for (int c = 0; c < C; ++c)
                acc += int64_t{w[static_cast<size_t>(((f * 3 + ky) * 3 + kx) * C + c)]} *
                       (static_cast<int8_t>(xin[static_cast<size_t>(((n * H + iy) * H + ix) * C + c)]) - 3);
            }
          // TFLite's PopulateConvolutionQuantizationParams, written out.
          const auto q = ref::quantize_multiplier(double{0.02f} * ws[static_cast<size_t>(f)] / double{0.01f});
          ASSERT_LT(q.shift, 0);
          ASSERT_EQ(q.multiplier, qs[static_cast<size_t>(f)].multiplier);
          ASSERT_EQ(q.shift, qs[static_cast<size_t>(f)].shift);
          t.add(acc, q, 0, static_cast<int8_t>(out[0].bytes[static_cast<size_t>(((n * H + oy) * H + ox) * F + f)]));
        }
  EXPECT_EQ(t.vs_formula, 0);
  EXPECT_EQ(t.vs_requantize_h, 0);
  EXPECT_GT(t.vs_double_rounding, 0) << "no tie where the forms differ: the test lost its power";
  EXPECT_EQ(run_qlite(model, xin), out[0].bytes) << "qlite's CONV_2D output differs from TFLite's";
  std::printf("TFLite 2.9 int8 conv: %d of %d outputs differ from double rounding, 0 from round-half-up\n",
              t.vs_double_rounding, t.outputs);
}

// FULLY_CONNECTED, per-tensor weights: round half up as conv, and the
// multiplier from the float product input_scale * weight_scale. Two weight
// scales: an exact power of two (M = 2^-11, so ties are frequent) and an
// arbitrary one (the float product differs from the double one).
TEST(TfLiteRounding, Int8FullyConnectedUsesRoundHalfUpAndFloatProductMultiplier) {
  QLITE_REQUIRE_TFLITE_PEER(peer);
  const int N = 256, K = 96, F = 64;
  struct Scales { float in, w, out; };
  for (const Scales s : {Scales{1.0f / 64, 1.0f / 128, 1.0f / 4}, Scales{0.0173f, 0.00231f, 0.0417f}}) {
    SCOPED_TRACE("scales " + std::to_string(s.in) + " " + std::to_string(s.w) + " " + std::to_string(s.out));
    Rng rng(91);
    std::vector<int8_t> w(static_cast<size_t>(F * K));
    for (auto& v : w) v = static_cast<int8_t>(static_cast<int>(rng.below(255)) - 127);
    std::vector<int32_t> bias(F);
    for (auto& v : bias) v = static_cast<int32_t>(rng.below(20001)) - 10000;
    const int32_t in_zp = -7, out_zp = 5;
    ModelBuilder b;
    const int32_t x = b.add_tensor("x", TensorType::kInt8, {N, K}, Quantization::per_tensor(s.in, in_zp));
    const int32_t wt = b.add_constant("w", TensorType::kInt8, {F, K}, w, Quantization::per_tensor(s.w, 0));
    // TFLite checks the bias scale against the float product.
    const int32_t bt = b.add_constant("b", TensorType::kInt32, {F}, bias, Quantization::per_tensor(s.in * s.w, 0));
    const int32_t y = b.add_tensor("y", TensorType::kInt8, {N, F}, Quantization::per_tensor(s.out, out_zp));
    b.add_operator(BuiltinOp::kFullyConnected, {x, wt, bt}, {y}, lite::FullyConnectedOptions{}, 4);
    b.set_inputs({x});
    b.set_outputs({y});
    const std::vector<uint8_t> model = b.finish();
    std::vector<uint8_t> xin(static_cast<size_t>(N * K));
    for (auto& v : xin) v = static_cast<uint8_t>(rng.below(256));
    const auto out = peer->run(model, {PeerInput{{N, K}, xin}});
    ASSERT_EQ(out.size(), 1u);
    ASSERT_EQ(out[0].bytes.size(), static_cast<size_t>(N * F));
    // GetQuantizedConvolutionMultipler of TFLite 2.9, written out: float product.
    const float product = s.in * s.w;
    const ref::QuantizedMultiplier q = ref::quantize_multiplier(double{product} / double{s.out});
    const std::vector<ref::QuantizedMultiplier> shared = ref::fully_connected_multipliers(s.in, {s.w}, s.out);
    ASSERT_EQ(shared.size(), 1u);
    ASSERT_EQ(shared[0].multiplier, q.multiplier);
    ASSERT_EQ(shared[0].shift, q.shift);
    ASSERT_LT(q.shift, 0);
    Tally t;
    for (int n = 0; n < N; ++n)
      for (int f = 0; f < F; ++f) {
        int64_t acc = bias[static_cast<size_t>(f)];
        for (int k = 0; k < K; ++k)
          acc += int64_t{w[static_cast<size_t>(f * K + k)]} *
                 (static_cast<int8_t>(xin[static_cast<size_t>(n * K + k)]) - in_zp);
        t.add(acc, q, out_zp, static_cast<int8_t>(out[0].bytes[static_cast<size_t>(n * F + f)]));
      }
    EXPECT_EQ(t.vs_formula, 0);
    EXPECT_EQ(t.vs_requantize_h, 0);
    EXPECT_EQ(run_qlite(model, xin), out[0].bytes) << "qlite's FULLY_CONNECTED output differs from TFLite's";
    std::printf("TFLite 2.9 int8 fully connected (M0 %d, shift %d): %d of %d outputs differ from double "
                "rounding, 0 from round-half-up\n",
                q.multiplier, q.shift, t.vs_double_rounding, t.outputs);
    // Batch 1 (a matrix-vector product inside TFLite) rounds the same way.
    int batch1_differs = 0;
    for (int n = 0; n < N; ++n) {
      const std::vector<uint8_t> row(xin.begin() + n * K, xin.begin() + (n + 1) * K);
      const auto one = peer->run(model, {PeerInput{{1, K}, row}});
      ASSERT_EQ(one[0].bytes.size(), static_cast<size_t>(F));
      batch1_differs += !std::equal(one[0].bytes.begin(), one[0].bytes.end(), out[0].bytes.begin() + n * F);
    }
    EXPECT_EQ(batch1_differs, 0) << "rows whose batch-1 result differs from the batched one";
    if (s.w == 1.0f / 128) {
      EXPECT_GT(t.vs_double_rounding, 0) << "no tie where the forms differ";
    } else {  // the case where CONV_2D's double product would give another M0
      EXPECT_NE(ref::conv_multipliers(s.in, {s.w}, s.out)[0].multiplier, q.multiplier);
    }
  }
}

}  // namespace
}  // namespace qlite::test
