// Reference int8 conv / depthwise / fully connected: hand-computed examples,
// and the float reference on dequantized operands as an independent oracle.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "int8_test_util.h"
#include "kernels/reference/geometry.h"
#include "kernels/reference/int8_kernels.h"
#include "kernels/reference/reference_float.h"

namespace qlite::ref {
namespace {

// 3x3 input, one channel, 2x2 kernel; input zp 1, output zp 3,
// M = 0.5 * 0.25 / 1.0 = 0.125.
ConvInt8Params hand_conv(Padding pad, Activation act) {
  ConvInt8Params p;
  p.g.in_h = p.g.in_w = 3;
  p.g.in_c = p.g.out_c = 1;
  p.g.kernel_h = p.g.kernel_w = 2;
  apply_padding(p.g, pad);
  p.input_zero_point = 1;
  p.output_zero_point = 3;
  p.requant = make_requant(0.5f, {0.25f}, 1.0f);
  p.act = fused_activation_range(act, 1.0f, 3);
  return p;
}
const std::vector<int8_t> kHandIn = {1, 2, 3, 4, 5, 6, 7, 8, 9};
const std::vector<int8_t> kHandW = {1, -1, 2, 0};

TEST(Conv2dInt8, HandValid) {
  const ConvInt8Params p = hand_conv(Padding::kValid, Activation::kLinear);
  ASSERT_EQ(p.g.out_h, 2);
  const int32_t bias = 10;
  std::vector<int8_t> out(4, 99);
  conv2d_int8(p, kHandIn.data(), kHandW.data(), &bias, out.data());
  // (0,0): 1*(1-1) - (2-1) + 2*(4-1) + 10 = 15 -> 15/8 = 1.875 -> 2 -> +3 = 5
  // (0,1): 1*(2-1) - (3-1) + 2*(5-1) + 10 = 17 -> 2.125 -> 2 -> 5
  // (1,0): 1*(4-1) - (5-1) + 2*(7-1) + 10 = 21 -> 2.625 -> 3 -> 6
  // (1,1): 1*(5-1) - (6-1) + 2*(8-1) + 10 = 23 -> 2.875 -> 3 -> 6
  EXPECT_EQ(out, (std::vector<int8_t>{5, 5, 6, 6}));
}

TEST(Conv2dInt8, HandSamePadsBottomRight) {
  const ConvInt8Params p = hand_conv(Padding::kSame, Activation::kLinear);
  ASSERT_EQ(p.g.out_h, 3);
  ASSERT_EQ(p.g.pad_top, 0);  // total pad 1 goes after
  const int32_t bias = 10;
  std::vector<int8_t> out(9, 99);
  conv2d_int8(p, kHandIn.data(), kHandW.data(), &bias, out.data());
  // (0,2): taps in(0,2) w=1 and in(1,2) w=2: (3-1) + 2*(6-1) + 10 = 22 -> 2.75 -> 3 -> 6
  EXPECT_EQ(out[2], 6);
  // (2,2): only in(2,2) w=1: (9-1) + 10 = 18 -> 2.25 -> 2 -> 5
  EXPECT_EQ(out[8], 5);
  EXPECT_EQ(out[0], 5);
}

TEST(Conv2dInt8, HandActivationsClamp) {
  std::vector<int8_t> out(4);
  // bias 100: (0,0) acc 105 -> 13.125 -> 13 + 3 = 16; relu6 max = 3 + 6/1 = 9.
  int32_t bias = 100;
  conv2d_int8(hand_conv(Padding::kValid, Activation::kRelu6), kHandIn.data(), kHandW.data(), &bias,
              out.data());
  EXPECT_EQ(out[0], 9);
  conv2d_int8(hand_conv(Padding::kValid, Activation::kLinear), kHandIn.data(), kHandW.data(), &bias,
              out.data());
  EXPECT_EQ(out[0], 16);
  // bias -100: acc -95 -> -11.875 -> -12 + 3 = -9; relu clamps to zp 3.
  bias = -100;
  conv2d_int8(hand_conv(Padding::kValid, Activation::kRelu), kHandIn.data(), kHandW.data(), &bias,
              out.data());
  EXPECT_EQ(out[0], 3);
  conv2d_int8(hand_conv(Padding::kValid, Activation::kLinear), kHandIn.data(), kHandW.data(), &bias,
              out.data());
  EXPECT_EQ(out[0], -9);
}

// CONV_2D requantizes round-half-up (TFLite 2.9's ruy on x86): negative
// halves go toward +infinity.
TEST(Conv2dInt8, HandNegativeTiesRoundUp) {
  const ConvInt8Params p = hand_conv(Padding::kValid, Activation::kLinear);
  const int32_t bias = -17;
  std::vector<int8_t> out(4, 99);
  conv2d_int8(p, kHandIn.data(), kHandW.data(), &bias, out.data());
  // Sums before the bias (HandValid): 5, 7, 11, 13; with bias -17: -12, -10, -6, -4.
  // M = 0.125 = 2^30 * 2^(-2-31): hi = floor(acc / 2 + 1/2), then / 4 rounded half up.
  // (0,0): -12 -> hi -6 -> -1.5 -> -1 (double rounding: -2) -> +3 = 2
  // (0,1): -10 -> hi -5 -> -1.25 -> -1 -> 2
  // (1,0): -6 -> hi -3 -> -0.75 -> -1 -> 2
  // (1,1): -4 -> hi -2 -> -0.5 -> 0 (double rounding: -1) -> 3
  EXPECT_EQ(out, (std::vector<int8_t>{2, 2, 2, 3}));
}

TEST(Conv2dInt8, PaddingTapsEqualRealZeroPadding) {
  Rng rng(7);
  ConvInt8Params same;
  same.g = {1, 5, 6, 3, 0, 0, 4, 3, 3, 2, 1, 1, 1, 0, 0};
  apply_padding(same.g, Padding::kSame);
  same.input_zero_point = -17;
  same.output_zero_point = 4;
  same.requant = make_requant(0.05f, {0.01f, 0.02f, 0.015f, 0.03f}, 0.1f);
  const auto in = test::random_int8(rng, 5 * 6 * 3);
  const auto w = test::random_int8(rng, 4 * 9 * 3, -127);
  const std::vector<int32_t> bias = {100, -50, 0, 7};
  std::vector<int8_t> a(static_cast<size_t>(same.g.out_h) * same.g.out_w * 4);
  conv2d_int8(same, in.data(), w.data(), bias.data(), a.data());
  // Pad explicitly with the input zero point (real 0) and run VALID.
  const int ph = same.g.pad_top, pw = same.g.pad_left;
  const int H = 5 + 2, W = 6 + 2;  // enough room on every side
  std::vector<int8_t> padded(static_cast<size_t>(H) * W * 3, static_cast<int8_t>(same.input_zero_point));
  for (int y = 0; y < 5; ++y)
    for (int x = 0; x < 6; ++x)
      for (int c = 0; c < 3; ++c) padded[((y + ph) * W + x + pw) * 3 + c] = in[(y * 6 + x) * 3 + c];
  ConvInt8Params valid = same;
  valid.g.in_h = H;
  valid.g.in_w = W;
  valid.g.pad_top = valid.g.pad_left = 0;
  std::vector<int8_t> b(a.size());
  conv2d_int8(valid, padded.data(), w.data(), bias.data(), b.data());
  EXPECT_EQ(a, b);
}

struct ConvCase {
  int in_h, in_w, in_c, out_c, k, stride, dilation;
  Padding pad;
  Activation act;
};

TEST(Conv2dInt8, MatchesFloatWithinOneStep) {
  const ConvCase cases[] = {
      {7, 6, 3, 5, 3, 1, 1, Padding::kSame, Activation::kLinear},
      {8, 8, 4, 2, 3, 2, 1, Padding::kSame, Activation::kRelu},
      {9, 7, 2, 3, 2, 1, 2, Padding::kValid, Activation::kRelu6},
      {5, 5, 1, 1, 5, 1, 1, Padding::kValid, Activation::kLinear},
      {6, 9, 8, 4, 1, 3, 1, Padding::kSame, Activation::kLinear},
  };
  Rng rng(42);
  for (const ConvCase& c : cases) {
    ConvInt8Params p;
    p.g.batch = 2;
    p.g.in_h = c.in_h;
    p.g.in_w = c.in_w;
    p.g.in_c = c.in_c;
    p.g.out_c = c.out_c;
    p.g.kernel_h = p.g.kernel_w = c.k;
    p.g.stride_h = p.g.stride_w = c.stride;
    p.g.dilation_h = p.g.dilation_w = c.dilation;
    apply_padding(p.g, c.pad);
    const test::QTensor in = test::random_activation(rng, int64_t{2} * c.in_h * c.in_w * c.in_c);
    const test::QWeights w = test::random_weights(rng, c.out_c, c.k * c.k * c.in_c);
    const std::vector<int32_t> bias = test::random_bias(rng, c.out_c, in.scale, w.scales);
    const float out_scale = 0.02f + 0.05f * rng.uniform();
    const int32_t out_zp = static_cast<int32_t>(rng.below(100)) - 50;
    p.input_zero_point = in.zero_point;
    p.output_zero_point = out_zp;
    p.requant = make_requant(in.scale, w.scales, out_scale);
    p.act = fused_activation_range(c.act, out_scale, out_zp);
    const int64_t n_out = int64_t{2} * p.g.out_h * p.g.out_w * c.out_c;
    std::vector<int8_t> q(static_cast<size_t>(n_out));
    conv2d_int8(p, in.q.data(), w.q.data(), bias.data(), q.data());

    std::vector<float> fb(bias.size());
    for (size_t i = 0; i < bias.size(); ++i) fb[i] = static_cast<float>(bias[i] * double{in.scale} * w.scales[i]);
    std::vector<float> f(static_cast<size_t>(n_out));
    conv2d_f32(p.g, in.real().data(), w.real().data(), fb.data(), Activation::kLinear, f.data());
    test::expect_within_one_step(q, f, out_scale, out_zp, p.act);
  }
}

TEST(DepthwiseConv2dInt8, Hand) {
  // 2x2 input with 2 channels, 2x2 kernel, VALID -> one pixel.
  DepthwiseInt8Params p;
  p.g.in_h = p.g.in_w = 2;
  p.g.in_c = p.g.out_c = 2;
  p.g.kernel_h = p.g.kernel_w = 2;
  apply_padding(p.g, Padding::kValid);
  p.input_zero_point = -2;
  p.output_zero_point = 0;
  // channel 0: M = 1 * 0.5 / 1 = 0.5; channel 1: M = 1 * 0.25 / 1 = 0.25.
  p.requant = make_requant(1.0f, {0.5f, 0.25f}, 1.0f);
  const std::vector<int8_t> in = {0, 1, 2, 3, 4, 5, 6, 7};  // (y, x, c)
  const std::vector<int8_t> w = {1, 1, 1, 2, 1, 3, 1, 4};    // (ky, kx, c)
  std::vector<int8_t> out(2);
  depthwise_conv2d_int8(p, in.data(), w.data(), nullptr, out.data());
  // c0: (0+2) + (2+2) + (4+2) + (6+2) = 20 -> * 0.5 = 10
  // c1: 1*(1+2) + 2*(3+2) + 3*(5+2) + 4*(7+2) = 3 + 10 + 21 + 36 = 70 -> * 0.25 = 17.5 -> 18
  EXPECT_EQ(out, (std::vector<int8_t>{10, 18}));
}

// DEPTHWISE_CONV_2D keeps the double-rounding form (TFLite 2.9's own depthwise
// kernels use it): negative halves go away from zero.
TEST(DepthwiseConv2dInt8, HandNegativeTiesRoundAwayFromZero) {
  DepthwiseInt8Params p;
  p.g.in_h = p.g.in_w = 2;
  p.g.in_c = p.g.out_c = 2;
  p.g.kernel_h = p.g.kernel_w = 2;
  apply_padding(p.g, Padding::kValid);
  p.input_zero_point = -2;
  // c0: M = 0.125 (2^30, shift -2); c1: M = 0.25 (2^30, shift -1).
  p.requant = make_requant(1.0f, {0.125f, 0.25f}, 1.0f);
  const std::vector<int8_t> in = {0, 1, 2, 3, 4, 5, 6, 7};
  const std::vector<int8_t> w = {1, 1, 1, 2, 1, 3, 1, 4};
  const std::vector<int32_t> bias = {-24, -140};
  std::vector<int8_t> out(2);
  depthwise_conv2d_int8(p, in.data(), w.data(), bias.data(), out.data());
  // Sums as in Hand: 20 and 70.
  // c0: 20 - 24 = -4 -> hi = floor(-2 + 1/2) = -2 -> -2 / 4 = -0.5 -> -1 (half up: 0)
  // c1: 70 - 140 = -70 -> hi = -35 -> -35 / 2 = -17.5 -> -18 (half up: -17)
  EXPECT_EQ(out, (std::vector<int8_t>{-1, -18}));
}

TEST(DepthwiseConv2dInt8, MatchesFloatWithinOneStep) {
  Rng rng(5);
  for (int dm : {1, 2}) {
    for (Padding pad : {Padding::kSame, Padding::kValid}) {
      DepthwiseInt8Params p;
      p.g.in_h = 7;
      p.g.in_w = 8;
      p.g.in_c = 3;
      p.g.out_c = 3 * dm;
      p.g.kernel_h = p.g.kernel_w = 3;
      p.g.stride_h = 2;
      apply_padding(p.g, pad);
      p.depth_multiplier = dm;
      const test::QTensor in = test::random_activation(rng, 7 * 8 * 3);
      // 1HWC weights; per-channel scales, quantized along the last axis.
      const test::QWeights wt = test::random_weights(rng, p.g.out_c, 9);  // [out_c, 9]
      std::vector<int8_t> w(static_cast<size_t>(9 * p.g.out_c));
      for (int c = 0; c < p.g.out_c; ++c)
        for (int k = 0; k < 9; ++k) w[static_cast<size_t>(k * p.g.out_c + c)] = wt.q[static_cast<size_t>(c * 9 + k)];
      const std::vector<int32_t> bias = test::random_bias(rng, p.g.out_c, in.scale, wt.scales);
      const float out_scale = 0.03f;
      p.input_zero_point = in.zero_point;
      p.output_zero_point = 7;
      p.requant = make_requant(in.scale, wt.scales, out_scale);
      std::vector<int8_t> q(static_cast<size_t>(p.g.out_h * p.g.out_w * p.g.out_c));
      depthwise_conv2d_int8(p, in.q.data(), w.data(), bias.data(), q.data());

      std::vector<float> fw(w.size()), fb(bias.size());
      for (size_t i = 0; i < w.size(); ++i) fw[i] = w[i] * wt.scales[i % static_cast<size_t>(p.g.out_c)];
      for (size_t i = 0; i < bias.size(); ++i) fb[i] = static_cast<float>(bias[i] * double{in.scale} * wt.scales[i]);
      std::vector<float> f(q.size());
      depthwise_conv2d_f32(p.g, dm, in.real().data(), fw.data(), fb.data(), Activation::kLinear, f.data());
      test::expect_within_one_step(q, f, out_scale, 7, p.act);
    }
  }
}

TEST(FullyConnectedInt8, Hand) {
  FullyConnectedInt8Params p;
  p.in_features = 3;
  p.out_features = 2;
  p.input_zero_point = 10;
  p.output_zero_point = -5;
  p.requant = make_requant(0.5f, {0.5f}, 0.25f);  // M = 1
  const std::vector<int8_t> x = {11, 12, 9};       // real offsets 1, 2, -1
  const std::vector<int8_t> w = {1, 2, 3, -1, 0, 4};
  const std::vector<int32_t> bias = {1, -2};
  std::vector<int8_t> out(2);
  fully_connected_int8(p, x.data(), w.data(), bias.data(), out.data());
  // o0: 1 + 4 - 3 + 1 = 3 -> -5 + 3 = -2; o1: -1 + 0 - 4 - 2 = -7 -> -12
  EXPECT_EQ(out, (std::vector<int8_t>{-2, -12}));
}

// FULLY_CONNECTED requantizes round-half-up, like CONV_2D.
TEST(FullyConnectedInt8, HandTiesRoundUp) {
  FullyConnectedInt8Params p;
  p.in_features = 3;
  p.out_features = 2;
  p.input_zero_point = 10;
  p.output_zero_point = -5;
  p.requant = make_fully_connected_requant(0.5f, {0.5f}, 1.0f);  // M = 0.25 = 2^30 * 2^(-1-31)
  ASSERT_EQ(p.requant[0].shift, -1);
  const std::vector<int8_t> x = {11, 12, 9};  // offsets 1, 2, -1
  const std::vector<int8_t> w = {1, 2, 3, -1, 0, 4};
  const std::vector<int32_t> bias = {-8, 11};
  std::vector<int8_t> out(2);
  fully_connected_int8(p, x.data(), w.data(), bias.data(), out.data());
  // o0: 1 + 4 - 3 - 8 = -6 -> hi = floor(-3 + 1/2) = -3 -> -1.5 -> -1 (double rounding: -2) -> -6
  // o1: -1 + 0 - 4 + 11 = 6 -> hi = 3 -> 1.5 -> 2 -> -3
  EXPECT_EQ(out, (std::vector<int8_t>{-6, -3}));
}

TEST(FullyConnectedInt8, MatchesFloatWithinOneStep) {
  Rng rng(9);
  for (bool per_channel : {false, true}) {
    for (int in_f : {1, 7, 64, 121}) {
      FullyConnectedInt8Params p;
      p.batch = 3;
      p.in_features = in_f;
      p.out_features = 5;
      const test::QTensor in = test::random_activation(rng, 3 * in_f);
      test::QWeights w = test::random_weights(rng, 5, in_f, !per_channel);
      const std::vector<int32_t> bias = test::random_bias(rng, 5, in.scale, w.scales);
      const float out_scale = 0.01f + 0.02f * rng.uniform();
      p.input_zero_point = in.zero_point;
      p.output_zero_point = -20;
      p.requant = per_channel ? make_fully_connected_requant(in.scale, w.scales, out_scale)
                              : make_fully_connected_requant(in.scale, {w.scales[0]}, out_scale);
      p.act = fused_activation_range(Activation::kRelu, out_scale, -20);
      std::vector<int8_t> q(15);
      fully_connected_int8(p, in.q.data(), w.q.data(), bias.data(), q.data());
      std::vector<float> fb(5);
      for (size_t i = 0; i < 5; ++i) fb[i] = static_cast<float>(bias[i] * double{in.scale} * w.scales[i]);
      std::vector<float> f(15);
      fully_connected_f32(3, in_f, 5, in.real().data(), w.real().data(), fb.data(), Activation::kLinear,
                          f.data());
      test::expect_within_one_step(q, f, out_scale, -20, p.act);
    }
  }
}

TEST(Int8Kernels, RejectBadParams) {
  ConvInt8Params p = hand_conv(Padding::kValid, Activation::kLinear);
  std::vector<int8_t> out(4);
  p.requant.assign(3, p.requant[0]);  // neither 1 nor out_c
  EXPECT_THROW(conv2d_int8(p, kHandIn.data(), kHandW.data(), nullptr, out.data()), Error);
  p = hand_conv(Padding::kValid, Activation::kLinear);
  p.input_zero_point = 300;
  EXPECT_THROW(conv2d_int8(p, kHandIn.data(), kHandW.data(), nullptr, out.data()), Error);
  p = hand_conv(Padding::kValid, Activation::kLinear);
  p.act = {10, 5};
  EXPECT_THROW(conv2d_int8(p, kHandIn.data(), kHandW.data(), nullptr, out.data()), Error);
  EXPECT_THROW(make_requant(0.0f, {1.0f}, 1.0f), Error);
}

// The windows' reach (rows and columns of the padded input that kernels size
// buffers from and index with int offsets) is bounded like tensor sizes. The
// fuzzer's input: SAME, a 3x3 filter with dilation 2^30 + 5 on a small image
// (its int arithmetic overflowed when the x86 kernels were packed).
TEST(WindowGeometry, HugeDilationOrStrideReachIsRefusedForConvolutions) {
  auto make = [](int dilation, int stride, Padding pad) {
    WindowGeometry g;
    g.in_h = 6, g.in_w = 5, g.in_c = 4, g.out_c = 4;
    g.kernel_h = g.kernel_w = 3;
    g.dilation_h = g.dilation_w = dilation;
    g.stride_h = g.stride_w = stride;
    apply_padding(g, pad);
    return g;
  };
  EXPECT_THROW(validate_window_reach(make(1073741829, 1, Padding::kSame), "conv"), Error);
  EXPECT_THROW(validate_window_reach(make(40000, 1, Padding::kSame), "conv"), Error);  // 80k x 80k x 4 values
  EXPECT_NO_THROW(validate_window_reach(make(2, 1, Padding::kSame), "conv"));
  EXPECT_NO_THROW(validate_window_reach(make(1, 1 << 30, Padding::kSame), "conv"));  // one window per axis
  try {
    validate_window_reach(make(1073741829, 1, Padding::kSame), "conv");
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("more than 2^31"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace qlite::ref
