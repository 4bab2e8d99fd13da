// Dynamic-range reference kernels on hand-computed examples (TFLite 2.9's
// SymmetricQuantizeFloats / AsymmetricQuantizeFloats arithmetic written out
// below); the runtime tests compare them with TFLite itself.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "kernels/reference/hybrid_kernels.h"

namespace qlite::ref {
namespace {

TEST(HybridKernels, SymmetricQuantizationByHand) {
  // range = 1 -> scale 1/127, q = round(x * 127) with ties away from zero.
  const float x[] = {0.5f, -1.0f, 0.25f, 0.0f};
  int8_t q[4];
  float scale = 0;
  hybrid_quantize_symmetric(x, 4, q, &scale);
  EXPECT_FLOAT_EQ(scale, 1.0f / 127.0f);
  EXPECT_EQ(q[0], 64);  // 63.5 rounds away from zero
  EXPECT_EQ(q[1], -127);
  EXPECT_EQ(q[2], 32);  // 31.75
  EXPECT_EQ(q[3], 0);
  const float zeros[] = {0.0f, 0.0f};
  hybrid_quantize_symmetric(zeros, 2, q, &scale);
  EXPECT_EQ(scale, 1.0f);
  EXPECT_EQ(q[0], 0);
}

TEST(HybridKernels, AsymmetricQuantizationByHand) {
  // [min, max] = [-0.5, 1] -> scale 1.5 / 255; zero point -128 + 0.5 / scale = -43.
  const float x[] = {0.0f, 1.0f, 0.5f, -0.5f};
  int8_t q[4];
  float scale = 0;
  int32_t zp = 0;
  hybrid_quantize_asymmetric(x, 4, q, &scale, &zp);
  EXPECT_FLOAT_EQ(scale, 1.5f / 255.0f);
  EXPECT_EQ(zp, -43);
  EXPECT_EQ(q[0], -43);
  EXPECT_EQ(q[1], 127);
  EXPECT_EQ(q[2], 42);
  EXPECT_EQ(q[3], -128);
}

TEST(HybridKernels, AsymmetricQuantizationOfInfiniteRangesIsDefined) {
  // scale = inf, so every finite value is the zero point; the zero point is
  // the candidate of the finite end (-128 - min / inf = -128; 127 - max / inf
  // = 127), 0 when both ends are infinite. +-inf themselves land on the clamp.
  const float inf = std::numeric_limits<float>::infinity();
  struct Case {
    float x[3];
    int32_t zp;
    int8_t q_inf;  // what the infinite element becomes
  };
  const Case cases[] = {{{-0.5f, inf, 2.0f}, -128, -128}, {{-inf, 0.5f, -2.0f}, 127, -128}, {{-inf, inf, 1.0f}, 0, -128}};
  for (const Case& c : cases) {
    int8_t q[3];
    float scale = 0;
    int32_t zp = 99;
    hybrid_quantize_asymmetric(c.x, 3, q, &scale, &zp);
    EXPECT_EQ(scale, inf);
    EXPECT_EQ(zp, c.zp);
    for (int i = 0; i < 3; ++i) EXPECT_EQ(q[i], std::isinf(c.x[i]) ? c.q_inf : c.zp) << i;
  }
}

TEST(HybridKernels, FullyConnectedByHand) {
  // q(x) = [64, -127, 32, 0] with scale 1/127 (above); weights scale 0.5.
  // acc0 = 64 - 254 + 96 = -94, acc1 = -64; out = bias + acc * (1/127 * 0.5).
  const float x[] = {0.5f, -1.0f, 0.25f, 0.0f};
  const int8_t w[] = {1, 2, 3, 4, -1, 0, 0, 1};
  const float bias[] = {0.1f, -0.2f};
  int8_t q[4];
  float sc[1];
  int32_t off[1];
  float y[2];
  fully_connected_hybrid({1, 4, 2, 0.5f, false, Activation::kLinear}, x, w, bias, {q, sc, off}, y);
  EXPECT_NEAR(y[0], 0.1 - 94.0 * 0.5 / 127.0, 1e-6);
  EXPECT_NEAR(y[1], -0.2 - 64.0 * 0.5 / 127.0, 1e-6);
  fully_connected_hybrid({1, 4, 2, 0.5f, false, Activation::kRelu}, x, w, bias, {q, sc, off}, y);
  EXPECT_EQ(y[0], 0.0f);
  EXPECT_EQ(y[1], 0.0f);
}

TEST(HybridKernels, AsymmetricFullyConnectedSubtractsTheZeroPoint) {
  // q(x) = [-43, 127, 42, -128], zp -43 -> q - zp = [0, 170, 85, -85]; weights [1, 1, 2, 1]:
  // acc = 170 + 170 - 85 = 255; out = 255 * (1.5/255 * 0.25) = 0.375.
  const float x[] = {0.0f, 1.0f, 0.5f, -0.5f};
  const int8_t w[] = {1, 1, 2, 1};
  int8_t q[4];
  float sc[1];
  int32_t off[1];
  float y[1];
  fully_connected_hybrid({1, 4, 1, 0.25f, true, Activation::kLinear}, x, w, nullptr, {q, sc, off}, y);
  EXPECT_NEAR(y[0], 0.375, 1e-6);
}

TEST(HybridKernels, PerChannelOnlyWhenScalesDiffer) {
  WindowGeometry g;
  g.in_h = g.in_w = 2, g.in_c = 1, g.out_c = 2, g.out_h = g.out_w = 2;
  EXPECT_FALSE(make_hybrid_conv_params(g, {0.5f, 0.5f}, Activation::kLinear).per_channel);
  EXPECT_TRUE(make_hybrid_conv_params(g, {0.5f, 0.25f}, Activation::kLinear).per_channel);
  EXPECT_THROW(make_hybrid_conv_params(g, {0.5f, 0.25f, 1.0f}, Activation::kLinear), Error);
}

TEST(HybridKernels, OneByOneConvEqualsFullyConnectedPerImage) {
  // Per-tensor (symmetric) conv quantizes per image, not per pixel: with one
  // pixel per image the two kernels must agree exactly.
  const float x[] = {0.5f, -1.0f, 0.25f, 0.0f, 0.3f, 0.2f, -0.1f, 0.9f};  // 2 images of 1x1x4
  const int8_t w[] = {1, 2, 3, 4, -1, 0, 0, 1};
  const float bias[] = {0.1f, -0.2f};
  WindowGeometry g;
  g.batch = 2, g.in_h = g.in_w = 1, g.in_c = 4, g.out_c = 2;
  apply_padding(g, Padding::kValid);
  int8_t q[8];
  float sc[2];
  int32_t off[2];
  float yc[4], yf[4];
  conv2d_hybrid(make_hybrid_conv_params(g, {0.5f}, Activation::kLinear), x, w, bias, {q, sc, off}, yc);
  fully_connected_hybrid({2, 4, 2, 0.5f, false, Activation::kLinear}, x, w, bias, {q, sc, off}, yf);
  for (int i = 0; i < 4; ++i) EXPECT_EQ(yc[i], yf[i]) << i;
}

}  // namespace
}  // namespace qlite::ref
