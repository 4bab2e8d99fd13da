// Reference int8 add, quantize, dequantize, requantize, softmax and the
// float16 conversions.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <vector>

#include "int8_test_util.h"
#include "kernels/reference/int8_kernels.h"
#include "kernels/reference/reference_float.h"

namespace qlite::ref {
namespace {

TEST(AddInt8, Hand) {
  // s1 = 0.5, s2 = 0.25, out 1.0, all zero points 0. twice_max = 1:
  // M1 = 0.5, M2 = 0.25, M_out = 2^-20.
  const AddInt8Params p = make_add_params(0.5f, 0, 0.25f, 0, 1.0f, 0);
  EXPECT_EQ(p.input1.multiplier, 1 << 30);
  EXPECT_EQ(p.input1.shift, 0);
  EXPECT_EQ(p.input2.shift, -1);
  EXPECT_EQ(p.output.shift, -19);
  const std::vector<int8_t> a = {3, 1, -1, 100, -128};
  const std::vector<int8_t> b = {2, 0, 0, 127, -128};
  std::vector<int8_t> out(5);
  add_int8(p, 5, a.data(), b.data(), out.data());
  // 1.5 + 0.5 = 2; 0.5 -> 1 and -0.5 -> -1 (ties away from zero);
  // 50 + 31.75 = 81.75 -> 82; -64 - 32 = -96.
  EXPECT_EQ(out, (std::vector<int8_t>{2, 1, -1, 82, -96}));
}

TEST(AddInt8, MatchesFloat) {
  Rng rng(21);
  for (auto act : {Activation::kLinear, Activation::kRelu, Activation::kRelu6}) {
    const test::QTensor a = test::random_activation(rng, 500);
    const test::QTensor b = test::random_activation(rng, 500);
    const float out_scale = 0.05f + 0.1f * rng.uniform();
    const int32_t out_zp = -30;
    const AddInt8Params p = make_add_params(a.scale, a.zero_point, b.scale, b.zero_point, out_scale, out_zp, act);
    std::vector<int8_t> q(500);
    std::vector<float> f(500);
    add_int8(p, 500, a.q.data(), b.q.data(), q.data());
    add_f32(500, a.real().data(), b.real().data(), Activation::kLinear, f.data());
    test::expect_within_one_step(q, f, out_scale, out_zp, p.act);
  }
}

// Half away from zero, saturating for finite values; NaN and +-Inf as
// TFLite 2.9 on x86 gives them (int8_kernels.h): INT32_MIN plus the zero point.
TEST(QuantizeInt8, RoundsHalfAwayAndSaturates) {
  const float inf = std::numeric_limits<float>::infinity();
  const std::vector<float> x = {0.5f, -0.5f, 2.5f, -2.5f, 1.49f, 1000.0f, -1000.0f, std::nanf(""), inf, -inf, 0.0f};
  std::vector<int8_t> q(x.size());
  quantize_f32_to_int8(static_cast<int64_t>(x.size()), x.data(), 1.0f, 3, q.data());
  EXPECT_EQ(q, (std::vector<int8_t>{4, 2, 6, 0, 4, 127, -128, -128, -128, -128, 3}));
  std::vector<uint8_t> u(x.size());
  quantize_f32_to_uint8(static_cast<int64_t>(x.size()), x.data(), 0.5f, 128, u.data());
  // 0.5 / 0.5 = 1 -> 129; -1 -> 127; 5 -> 133; -5 -> 123; 2.98 -> 3 -> 131.
  EXPECT_EQ(u, (std::vector<uint8_t>{129, 127, 133, 123, 131, 255, 0, 0, 0, 0, 128}));
  EXPECT_THROW(quantize_f32_to_int8(1, x.data(), 0.0f, 0, q.data()), Error);
}

TEST(DequantizeInt8, Values) {
  const std::vector<int8_t> q = {-128, 0, 5, 127};
  std::vector<float> x(4);
  dequantize_int8(4, q.data(), 0.5f, 5, x.data());
  EXPECT_EQ(x, (std::vector<float>{-66.5f, -2.5f, 0.0f, 61.0f}));
  const std::vector<uint8_t> u = {0, 128, 255};
  std::vector<float> y(3);
  dequantize_uint8(3, u.data(), 0.25f, 128, y.data());
  EXPECT_EQ(y, (std::vector<float>{-32.0f, 0.0f, 31.75f}));
}

TEST(Float16, KnownValues) {
  EXPECT_EQ(half_to_float(0x3C00), 1.0f);
  EXPECT_EQ(half_to_float(0xC000), -2.0f);
  EXPECT_EQ(half_to_float(0x7BFF), 65504.0f);
  EXPECT_EQ(half_to_float(0x0001), std::ldexp(1.0f, -24));
  EXPECT_EQ(half_to_float(0x0400), std::ldexp(1.0f, -14));
  EXPECT_EQ(half_to_float(0x3555), 0x155 * std::ldexp(1.0f, -12) + 0.25f);  // 0.333252
  EXPECT_TRUE(std::isinf(half_to_float(0x7C00)));
  EXPECT_TRUE(std::isnan(half_to_float(0x7E00)));
  EXPECT_EQ(float_to_half(1.0f), 0x3C00);
  EXPECT_EQ(float_to_half(1.0f + std::ldexp(1.0f, -11)), 0x3C00);      // tie -> even
  EXPECT_EQ(float_to_half(1.0f + 3 * std::ldexp(1.0f, -11)), 0x3C02);  // tie -> even (up)
  EXPECT_EQ(float_to_half(65520.0f), 0x7C00);                          // rounds to Inf
  EXPECT_EQ(float_to_half(65519.0f), 0x7BFF);
  EXPECT_EQ(float_to_half(std::ldexp(1.0f, -25)), 0x0000);             // tie -> even (0)
  EXPECT_EQ(float_to_half(std::ldexp(1.5f, -25)), 0x0001);
  EXPECT_EQ(float_to_half(-0.0f), 0x8000);
  std::vector<uint16_t> h = {0x3C00, 0xBC00};
  std::vector<float> x(2);
  dequantize_f16(2, h.data(), x.data());
  EXPECT_EQ(x, (std::vector<float>{1.0f, -1.0f}));
}

TEST(Float16, RoundTripsEveryHalf) {
  for (uint32_t h = 0; h < 0x10000; ++h) {
    const float f = half_to_float(static_cast<uint16_t>(h));
    if (std::isnan(f)) {
      EXPECT_TRUE(std::isnan(half_to_float(float_to_half(f))));
      continue;
    }
    ASSERT_EQ(float_to_half(f), h) << std::hex << h;
    // Midpoints to the next half round to the even neighbour.
    if ((h & 0x7fffu) < 0x7bffu) {
      const float next = half_to_float(static_cast<uint16_t>(h + 1));
      const float mid = static_cast<float>((double{f} + next) / 2);
      if ((h & 0x8000u) == 0) {
        ASSERT_EQ(float_to_half(mid), (h & 1u) ? h + 1 : h) << std::hex << h;
      }
    }
  }
}

TEST(RequantizeInt8, Hand) {
  // 0.5 -> 0.25: q 3 (1.5) -> 6 + 10 = 16; -3 (-1.5) -> -6 + 10 = 4; 100 -> 210 clamps to 127.
  const RequantizeParams p = make_requantize_params(0.5f, 0, 0.25f, 10);
  const std::vector<int8_t> in = {3, -3, 100};
  std::vector<int8_t> out(3);
  requantize_int8(p, 3, in.data(), out.data());
  EXPECT_EQ(out, (std::vector<int8_t>{16, 4, 127}));
  // Scale up 3x with zero point shift: (7 - 1) * 1/3 = 2 -> 2 - 5 = -3; (6 - 1) / 3 = 1.67 -> 2 -> -3.
  const RequantizeParams q = make_requantize_params(0.1f, 1, 0.3f, -5);
  const std::vector<int8_t> in2 = {7, 6};
  requantize_int8(q, 2, in2.data(), out.data());
  EXPECT_EQ(out[0], -3);
  EXPECT_EQ(out[1], -3);
}

TEST(SoftmaxInt8, Hand) {
  const SoftmaxInt8Params p = make_softmax_params(0.1f, 1.0f);
  // Equal logits: 1/4 each -> 64 - 128 = -64.
  const std::vector<int8_t> in = {5, 5, 5, 5};
  std::vector<int8_t> out(4);
  softmax_int8(p, 1, 4, in.data(), out.data());
  EXPECT_EQ(out, (std::vector<int8_t>{-64, -64, -64, -64}));
  // One dominant logit: 127 vs -128 differ by 25.5 (e^-25.5 ~ 8e-12): 256 -> clamps to 127.
  const std::vector<int8_t> in2 = {127, -128};
  softmax_int8(p, 1, 2, in2.data(), out.data());
  EXPECT_EQ(out[0], 127);
  EXPECT_EQ(out[1], -128);
  // Two logits 10 steps apart with scale 0.1: p = 1 / (1 + e^-1) = 0.731059 -> 187.15 -> 187 -> 59;
  // the other 0.268941 -> 68.85 -> 69 -> -59.
  const std::vector<int8_t> in3 = {10, 0};
  softmax_int8(p, 1, 2, in3.data(), out.data());
  EXPECT_EQ(out[0], 59);
  EXPECT_EQ(out[1], -59);
}

TEST(SoftmaxInt8, MatchesFloat) {
  Rng rng(8);
  for (int depth : {1, 2, 10, 100}) {
    const test::QTensor in = test::random_activation(rng, 6 * depth);
    const SoftmaxInt8Params p = make_softmax_params(in.scale, 1.0f);
    std::vector<int8_t> q(static_cast<size_t>(6 * depth));
    std::vector<float> f(q.size());
    softmax_int8(p, 6, depth, in.q.data(), q.data());
    softmax_f32(6, depth, 1.0f, in.real().data(), f.data());
    test::expect_within_one_step(q, f, 1.0f / 256.0f, -128);
  }
}

TEST(ReferenceFloat, HandConvAndSoftmax) {
  // The conv hand example in real numbers: input offsets times 0.5, weights times 0.25.
  WindowGeometry g;
  g.in_h = g.in_w = 2;
  g.in_c = g.out_c = 1;
  g.kernel_h = g.kernel_w = 2;
  apply_padding(g, Padding::kValid);
  const std::vector<float> x = {1, 2, 3, 4};
  const std::vector<float> w = {0.5f, -1, 2, 0};
  const float bias = 0.25f;
  float y = 0;
  conv2d_f32(g, x.data(), w.data(), &bias, Activation::kLinear, &y);
  EXPECT_FLOAT_EQ(y, 0.5f - 2 + 6 + 0.25f);
  conv2d_f32(g, x.data(), w.data(), &bias, Activation::kRelu6, &y);
  EXPECT_FLOAT_EQ(y, 4.75f);
  const std::vector<float> logits = {0, std::log(3.0f)};
  std::vector<float> s(2);
  softmax_f32(1, 2, 1.0f, logits.data(), s.data());
  EXPECT_FLOAT_EQ(s[0], 0.25f);
  EXPECT_FLOAT_EQ(s[1], 0.75f);
}

}  // namespace
}  // namespace qlite::ref
