// Reference int8 pooling and mean: hand-computed cases and the float oracle.
#include <gtest/gtest.h>

#include <vector>

#include "int8_test_util.h"
#include "kernels/reference/int8_kernels.h"
#include "kernels/reference/reference_float.h"

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

TEST(MeanInt8, Hand) {
  // 2x2 spatial, 1 channel: inputs 1, 2, 3, 6 with zp 1 -> offsets 0, 1, 2, 5, sum 8.
  // in_scale 0.5, out_scale 0.25: M = 0.5 / (0.25 * 4) = 0.5 -> 4, + zp -3 = 1.
  const std::vector<int8_t> in = {1, 2, 3, 6};
  MeanInt8Params p = make_mean_params(1, 2, 2, 1, 0.5f, 1, 0.25f, -3);
  std::vector<int8_t> out(1);
  mean_hw_int8(p, in.data(), out.data());
  EXPECT_EQ(out[0], 1);
  // Offsets 0, 1, 2, 4 (sum 7): 3.5 -> 4 (ties away from zero) -> 1.
  const std::vector<int8_t> in2 = {1, 2, 3, 5};
  mean_hw_int8(p, in2.data(), out.data());
  EXPECT_EQ(out[0], 1);
}

TEST(MeanInt8, MatchesFloat) {
  Rng rng(11);
  for (int hw : {1, 3, 7}) {
    const test::QTensor in = test::random_activation(rng, 2 * hw * hw * 5);
    const float out_scale = in.scale * (0.3f + rng.uniform());
    MeanInt8Params p = make_mean_params(2, hw, hw, 5, in.scale, in.zero_point, out_scale, 12);
    std::vector<int8_t> q(10);
    std::vector<float> f(10);
    mean_hw_int8(p, in.q.data(), q.data());
    mean_hw_f32(2, hw, hw, 5, in.real().data(), f.data());
    test::expect_within_one_step(q, f, out_scale, 12);
  }
}

}  // namespace
}  // namespace qlite::ref
