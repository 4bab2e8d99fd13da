// Reference int8 pooling and mean: hand-computed cases and the float oracle.
#include <gtest/gtest.h>

#include <vector>

#include "int8_test_util.h"
#include "kernels/reference/int8_kernels.h"
#include "kernels/reference/reference_float.h"
#include "kernels/reference/uint8_kernels.h"

namespace qlite::ref {
namespace {

PoolInt8Params pool(int h, int w, int c, int k, int stride, Padding pad) {
  PoolInt8Params p;
  p.g.in_h = h;
  p.g.in_w = w;
  p.g.in_c = p.g.out_c = c;
  p.g.kernel_h = p.g.kernel_w = k;
  p.g.stride_h = p.g.stride_w = stride;
  apply_padding(p.g, pad);
  return p;
}

TEST(MaxPoolInt8, Hand) {
  const std::vector<int8_t> in = {-5, 3, -1, 7, -128, 2, 0, 1, 127};
  std::vector<int8_t> out(4);
  max_pool2d_int8(pool(3, 3, 1, 2, 1, Padding::kValid), in.data(), out.data());
  EXPECT_EQ(out, (std::vector<int8_t>{7, 3, 7, 127}));
  // SAME, stride 2: windows at (0,0), (0,2), (2,0), (2,2); the last three are cut by padding.
  max_pool2d_int8(pool(3, 3, 1, 2, 2, Padding::kSame), in.data(), out.data());
  EXPECT_EQ(out, (std::vector<int8_t>{7, 2, 1, 127}));
  PoolInt8Params relu = pool(3, 3, 1, 2, 1, Padding::kValid);
  relu.act = {0, 5};
  max_pool2d_int8(relu, in.data(), out.data());
  EXPECT_EQ(out, (std::vector<int8_t>{5, 3, 5, 5}));
}

TEST(AveragePoolInt8, HandRoundsHalfAwayFromZero) {
  std::vector<int8_t> out(1);
  std::vector<int8_t> in = {1, 2, 3, 5};  // 11 / 4 = 2.75 -> 3
  average_pool2d_int8(pool(2, 2, 1, 2, 1, Padding::kValid), in.data(), out.data());
  EXPECT_EQ(out[0], 3);
  in = {-1, -2, -3, -5};  // -2.75 -> -3
  average_pool2d_int8(pool(2, 2, 1, 2, 1, Padding::kValid), in.data(), out.data());
  EXPECT_EQ(out[0], -3);
  in = {1, 2, 1, 2};  // 1.5 -> 2
  average_pool2d_int8(pool(2, 2, 1, 2, 1, Padding::kValid), in.data(), out.data());
  EXPECT_EQ(out[0], 2);
  in = {-1, -2, -1, -2};  // -1.5 -> -2
  average_pool2d_int8(pool(2, 2, 1, 2, 1, Padding::kValid), in.data(), out.data());
  EXPECT_EQ(out[0], -2);
  in = {1, 1, 1, 2};  // 1.25 -> 1
  average_pool2d_int8(pool(2, 2, 1, 2, 1, Padding::kValid), in.data(), out.data());
  EXPECT_EQ(out[0], 1);
}

TEST(AveragePoolInt8, SameCountsOnlyInsideTaps) {
  // 3x3 SAME 2x2 stride 2: the corner window (2,2) holds only in(2,2) = 9.
  const std::vector<int8_t> in = {1, 2, 3, 4, 5, 6, 7, 8, 9};
  std::vector<int8_t> out(4);
  average_pool2d_int8(pool(3, 3, 1, 2, 2, Padding::kSame), in.data(), out.data());
  // (0,0): 12/4 = 3; (0,2): (3+6)/2 = 4.5 -> 5; (2,0): (7+8)/2 = 7.5 -> 8; (2,2): 9
  EXPECT_EQ(out, (std::vector<int8_t>{3, 5, 8, 9}));
}

// A window from a file's options can be far larger than the input (the
// interpreter fuzz target found AVERAGE_POOL_2D filter=83886086x6 on a 6x6
// image). The kernels visit only the taps inside the input: a window of
// 2^30 x 2^30 over a 3x2 image with SAME padding covers the whole image at
// every position, so each output is the image's max or rounded mean. Visiting
// every tap of such a window (2^60 per output) never finished.
TEST(PoolInt8, HugeWindowVisitsOnlyTheInput) {
  PoolInt8Params p = pool(3, 2, 2, 1, 1, Padding::kSame);
  p.g.kernel_h = p.g.kernel_w = 1 << 30;
  apply_padding(p.g, Padding::kSame);
  ASSERT_EQ(p.g.out_h, 3);
  ASSERT_EQ(p.g.out_w, 2);
  const std::vector<int8_t> in = {-5, 100, 3, -128, 7, 1, -1, 2, 0, 4, 6, -9};  // (3, 2, 2): channel 0 then 1 per pixel
  std::vector<int8_t> out(12);
  max_pool2d_int8(p, in.data(), out.data());
  for (size_t i = 0; i < out.size(); i += 2) {
    EXPECT_EQ(out[i], 7);
    EXPECT_EQ(out[i + 1], 100);
  }
  average_pool2d_int8(p, in.data(), out.data());  // channel 0: 10 / 6 -> 2; channel 1: -30 / 6 = -5
  for (size_t i = 0; i < out.size(); i += 2) {
    EXPECT_EQ(out[i], 2);
    EXPECT_EQ(out[i + 1], -5);
  }
  std::vector<uint8_t> in_u8(in.size()), out_u8(in.size());
  for (size_t i = 0; i < in.size(); ++i) in_u8[i] = static_cast<uint8_t>(in[i] + 128);
  PoolInt8Params pu = p;
  pu.act = {0, 255};
  max_pool2d_uint8(pu, in_u8.data(), out_u8.data());
  for (size_t i = 0; i < out_u8.size(); i += 2) {
    EXPECT_EQ(out_u8[i], 7 + 128);
    EXPECT_EQ(out_u8[i + 1], 100 + 128);
  }
  average_pool2d_uint8(pu, in_u8.data(), out_u8.data());  // (10 + 768) / 6 = 129.67 -> 130; (-30 + 768) / 6 = 123
  for (size_t i = 0; i < out_u8.size(); i += 2) {
    EXPECT_EQ(out_u8[i], 130);
    EXPECT_EQ(out_u8[i + 1], 123);
  }
}

TEST(PoolInt8, MatchesFloat) {
  Rng rng(3);
  for (Padding pad : {Padding::kSame, Padding::kValid}) {
    PoolInt8Params p = pool(9, 7, 4, 3, 2, pad);
    p.g.batch = 2;
    const test::QTensor in = test::random_activation(rng, 2 * 9 * 7 * 4);
    const size_t n = static_cast<size_t>(2 * p.g.out_h * p.g.out_w * 4);
    std::vector<int8_t> q(n);
    std::vector<float> f(n);
    average_pool2d_int8(p, in.q.data(), q.data());
    average_pool2d_f32(p.g, Activation::kLinear, in.real().data(), f.data());
    test::expect_within_one_step(q, f, in.scale, in.zero_point);
    max_pool2d_int8(p, in.q.data(), q.data());
    max_pool2d_f32(p.g, Activation::kLinear, in.real().data(), f.data());
    for (size_t i = 0; i < n; ++i) ASSERT_EQ(in.scale * static_cast<float>(q[i] - in.zero_point), f[i]);
  }
}

constexpr MeanInt8Method kMeanMethods[] = {MeanInt8Method::kRequantizeThenDivide, MeanInt8Method::kTruncatedMean,
                                           MeanInt8Method::kFloatRescale};

int8_t mean1(const std::vector<int8_t>& in, int h, int w, float si, int32_t zi, float so, int32_t zo,
             MeanInt8Method method) {
  const MeanInt8Params p = make_mean_params(1, h, w, 1, si, zi, so, zo, method);
  int8_t out = 0;
  mean_hw_int8(p, in.data(), &out);
  return out;
}

TEST(MeanInt8, HandEachTfLitePath) {
  using M = MeanInt8Method;
  // 2x2, inputs 1, 2, 3, 6 (raw sum 12), in (0.5, zp 1), out (0.25, zp -3).
  const std::vector<int8_t> in = {1, 2, 3, 6};
  // Requantize, then divide: offsets sum 8, MBQM(8, 2) = 16, (16 + 2) / 4 = 4, + -3 = 1.
  EXPECT_EQ(mean1(in, 2, 2, 0.5f, 1, 0.25f, -3, M::kRequantizeThenDivide), 1);
  // Float: 12 / 4 * 2 + (-1 * 2) = 4, + -3 = 1.
  EXPECT_EQ(mean1(in, 2, 2, 0.5f, 1, 0.25f, -3, M::kFloatRescale), 1);
  // Truncated raw mean (meant for equal quantization): 12 / 4 = 3.
  EXPECT_EQ(mean1(in, 2, 2, 0.5f, 1, 0.5f, 1, M::kTruncatedMean), 3);
  // Raw sum 11: 7 -> 14 -> (14 + 2) / 4 = 4 -> 1; float 2.75 * 2 - 2 = 3.5 -> 4
  // (half away) -> 1; truncated 11 / 4 = 2.
  const std::vector<int8_t> in2 = {1, 2, 3, 5};
  EXPECT_EQ(mean1(in2, 2, 2, 0.5f, 1, 0.25f, -3, M::kRequantizeThenDivide), 1);
  EXPECT_EQ(mean1(in2, 2, 2, 0.5f, 1, 0.25f, -3, M::kFloatRescale), 1);
  EXPECT_EQ(mean1(in2, 2, 2, 0.5f, 1, 0.5f, 1, M::kTruncatedMean), 2);

  // Where the former single requantization (by in / (out * h * w)) was off:
  // 1x3, equal (0.5, 0), {1, 0, 0}: MBQM(1, 1) = 1, (1 + 1) / 3 = 0 (it gave 1).
  EXPECT_EQ(mean1({1, 0, 0}, 1, 3, 0.5f, 0, 0.5f, 0, M::kRequantizeThenDivide), 0);
  // Negative: {-2, 0, 0}: (-2 - 1) / 3 = -1; {-1, 0, 0}: (-1 - 1) / 3 = 0.
  EXPECT_EQ(mean1({-2, 0, 0}, 1, 3, 0.5f, 0, 0.5f, 0, M::kRequantizeThenDivide), -1);
  EXPECT_EQ(mean1({-1, 0, 0}, 1, 3, 0.5f, 0, 0.5f, 0, M::kRequantizeThenDivide), 0);
  // 2x2 equal, {1, 1, 1, 0}: 3 / 4 truncates to 0 (it gave 1); {-1, -1, -1, 0} to 0.
  EXPECT_EQ(mean1({1, 1, 1, 0}, 2, 2, 0.5f, 0, 0.5f, 0, M::kTruncatedMean), 0);
  EXPECT_EQ(mean1({-1, -1, -1, 0}, 2, 2, 0.5f, 0, 0.5f, 0, M::kTruncatedMean), 0);
  // Truncation of the raw values, zero point included: zp -128, {-128, -127} -> -255 / 2 = -127.
  EXPECT_EQ(mean1({-128, -127}, 1, 2, 0.5f, -128, 0.5f, -128, M::kTruncatedMean), -127);
  // 2x2, in 0.5, out 1.0, {1, 1, 1, 0}: float round(0.375) = 0 (it gave 1),
  // but requantize-then-divide rounds 1.5 to 2 first: (2 + 2) / 4 = 1.
  EXPECT_EQ(mean1({1, 1, 1, 0}, 2, 2, 0.5f, 0, 1.0f, 0, M::kFloatRescale), 0);
  EXPECT_EQ(mean1({1, 1, 1, 0}, 2, 2, 0.5f, 0, 1.0f, 0, M::kRequantizeThenDivide), 1);
  // Float halves round away from zero: out zp 1, {-1, 0} -> round(-0.5) = -1, + 1 = 0; {1, 0} -> 2.
  EXPECT_EQ(mean1({-1, 0}, 1, 2, 1.0f, 0, 1.0f, 1, M::kFloatRescale), 0);
  EXPECT_EQ(mean1({1, 0}, 1, 2, 1.0f, 0, 1.0f, 1, M::kFloatRescale), 2);
  // Clamped: 127 everywhere, out scale 1/4 of in: 127 * 4 saturates.
  EXPECT_EQ(mean1({127, 127}, 1, 2, 1.0f, 0, 0.25f, 0, M::kFloatRescale), 127);
  EXPECT_EQ(mean1({127, 127}, 1, 2, 1.0f, 0, 0.25f, 0, M::kRequantizeThenDivide), 127);
  EXPECT_EQ(mean1({-128, -128}, 1, 2, 1.0f, 0, 0.25f, 0, M::kFloatRescale), -128);
}

// TFLite 2.9's choice (reduce.cc EvalMean / EvalMeanReferenceOps).
TEST(MeanInt8, TfLiteMethodChoice) {
  using M = MeanInt8Method;
  EXPECT_EQ(tflite_mean_method(true, {1, 2}, 0.5f, 1, 0.25f, -3), M::kRequantizeThenDivide);
  EXPECT_EQ(tflite_mean_method(true, {2, 1}, 0.5f, 1, 0.5f, 1), M::kRequantizeThenDivide);
  // The special case compares the axes as written: negative axes miss it.
  EXPECT_EQ(tflite_mean_method(true, {-3, -2}, 0.5f, 1, 0.5f, 1), M::kTruncatedMean);
  EXPECT_EQ(tflite_mean_method(true, {1, -2}, 0.5f, 1, 0.25f, -3), M::kFloatRescale);
  EXPECT_EQ(tflite_mean_method(false, {1, 2}, 0.5f, 1, 0.5f, 1), M::kTruncatedMean);
  EXPECT_EQ(tflite_mean_method(false, {1, 2}, 0.5f, 1, 0.5f, 2), M::kFloatRescale);
  EXPECT_EQ(tflite_mean_method(false, {1, 2}, 0.5f, 1, 0.25f, 1), M::kFloatRescale);
}

TEST(MeanInt8, EveryPathWithinOneStepOfFloat) {
  Rng rng(11);
  for (MeanInt8Method method : kMeanMethods)
    for (int hw : {1, 3, 7}) {
      const test::QTensor in = test::random_activation(rng, 2 * hw * hw * 5);
      const bool equal = method == MeanInt8Method::kTruncatedMean;
      const float out_scale = equal ? in.scale : in.scale * (0.3f + rng.uniform());
      const int32_t out_zp = equal ? in.zero_point : 12;
      MeanInt8Params p = make_mean_params(2, hw, hw, 5, in.scale, in.zero_point, out_scale, out_zp, method);
      std::vector<int8_t> q(10);
      std::vector<float> f(10);
      mean_hw_int8(p, in.q.data(), q.data());
      mean_hw_f32(2, hw, hw, 5, in.real().data(), f.data());
      if (!equal) {
        test::expect_within_one_step(q, f, out_scale, out_zp);
        continue;
      }
      // Truncation toward zero of the raw values: below the real mean by less
      // than a step where the raw mean is positive, above it where negative.
      for (size_t i = 0; i < q.size(); ++i) {
        const double got = (static_cast<double>(q[i]) - out_zp) * out_scale;
        EXPECT_LT(std::fabs(got - double{f[i]}), out_scale * 1.0001) << "element " << i;
      }
    }
}

}  // namespace
}  // namespace qlite::ref
