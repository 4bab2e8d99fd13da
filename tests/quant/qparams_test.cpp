// Range -> scale/zero point, fake quantization and the STE mask against
// hand-computed values; zero exactly representable for any range.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <vector>

#include "qlite/quant.h"

namespace qlite::quant {
namespace {

TEST(ChooseQuantParams, AsymmetricHand) {
  // [-1, 3]: scale 4/255; zero point from min 1 / (4/255) = 63.75 -> 64 (unsigned) -> -64 signed.
  QuantParams p = choose_quant_params(-1.0f, 3.0f, kActivationScheme);
  EXPECT_FLOAT_EQ(p.scale, 4.0f / 255.0f);
  EXPECT_EQ(p.zero_point, -64);
  EXPECT_EQ(p.qmin, -128);
  EXPECT_EQ(p.qmax, 127);
  EXPECT_FLOAT_EQ(p.nudged_min, -64.0f * 4.0f / 255.0f);
  EXPECT_FLOAT_EQ(p.nudged_max, 191.0f * 4.0f / 255.0f);
  // [-1, 1]: 1 / (2/255) is 127.5 in exact arithmetic but 127.49999 in float,
  // so TensorFlow's float Nudge() (and qlite) picks 127 unsigned -> -1.
  EXPECT_EQ(choose_quant_params(-1.0f, 1.0f, kActivationScheme).zero_point, -1);
  // [0, 6] (a ReLU6 range): zero point -128, nudged range unchanged.
  p = choose_quant_params(0.0f, 6.0f, kActivationScheme);
  EXPECT_EQ(p.zero_point, -128);
  EXPECT_FLOAT_EQ(p.nudged_min, 0.0f);
  EXPECT_FLOAT_EQ(p.nudged_max, 6.0f);
  // [-6, 0]: zero point 127.
  EXPECT_EQ(choose_quant_params(-6.0f, 0.0f, kActivationScheme).zero_point, 127);
  // [2, 6] is extended to [0, 6].
  p = choose_quant_params(2.0f, 6.0f, kActivationScheme);
  EXPECT_FLOAT_EQ(p.scale, 6.0f / 255.0f);
  EXPECT_EQ(p.zero_point, -128);
  // [-0.3, 1]: scale 1.3/255 = 0.0050980; -min/scale = 58.846 -> 59 -> -69.
  p = choose_quant_params(-0.3f, 1.0f, kActivationScheme);
  EXPECT_EQ(p.zero_point, 59 - 128);
  EXPECT_FLOAT_EQ(p.nudged_min, -59.0f * (1.3f / 255.0f));
}

TEST(ChooseQuantParams, SymmetricNarrowIsZeroCentred) {
  // [-0.5, 2] -> [-2, 2], scale 4/254, zero point 0, integers [-127, 127].
  const QuantParams p = choose_quant_params(-0.5f, 2.0f, kWeightScheme);
  EXPECT_FLOAT_EQ(p.scale, 4.0f / 254.0f);
  EXPECT_EQ(p.zero_point, 0);
  EXPECT_EQ(p.qmin, -127);
  EXPECT_EQ(p.qmax, 127);
  EXPECT_FLOAT_EQ(p.nudged_min, -2.0f);
  EXPECT_FLOAT_EQ(p.nudged_max, 2.0f);
  Rng rng(5);
  for (int i = 0; i < 1000; ++i) {
    const float a = rng.uniform(-10, 10), b = rng.uniform(-10, 10);
    const QuantParams q = choose_quant_params(std::min(a, b), std::max(a, b), kWeightScheme);
    ASSERT_EQ(q.zero_point, 0);
    ASSERT_EQ(q.nudged_min, -q.nudged_max);
  }
}

TEST(ChooseQuantParams, FewBits) {
  // 4 bits: unsigned [0, 15]; [-1, 2]: scale 0.2, zero point 5 -> 5 - 8 = -3.
  QuantParams p = choose_quant_params(-1.0f, 2.0f, QuantScheme{4, false, false});
  EXPECT_FLOAT_EQ(p.scale, 0.2f);
  EXPECT_EQ(p.zero_point, -3);
  EXPECT_EQ(p.qmin, -8);
  EXPECT_EQ(p.qmax, 7);
  EXPECT_FLOAT_EQ(p.nudged_min, -1.0f);
  EXPECT_FLOAT_EQ(p.nudged_max, 2.0f);
  // 4 bits symmetric narrow: [-7, 7], [-0.7, 0.7] -> scale 0.1.
  p = choose_quant_params(-0.7f, 0.1f, QuantScheme{4, true, true});
  EXPECT_EQ(p.qmin, -7);
  EXPECT_EQ(p.qmax, 7);
  EXPECT_EQ(p.zero_point, 0);
  EXPECT_FLOAT_EQ(p.scale, 0.1f);
  // 2 bits: [0, 3] with [0, 3]: scale 1, zero point -2; integers [-2, 1].
  p = choose_quant_params(0.0f, 3.0f, QuantScheme{2, false, false});
  EXPECT_FLOAT_EQ(p.scale, 1.0f);
  EXPECT_EQ(p.zero_point, -2);
  EXPECT_EQ(p.qmin, -2);
  EXPECT_EQ(p.qmax, 1);
  // fake quant at 2 bits: 1.4 -> 1, 1.6 -> 2, 7 -> 3.
  EXPECT_EQ(fake_quant_value(1.4f, p), 1.0f);
  EXPECT_EQ(fake_quant_value(1.6f, p), 2.0f);
  EXPECT_EQ(fake_quant_value(7.0f, p), 3.0f);
  EXPECT_THROW(choose_quant_params(0.0f, 1.0f, QuantScheme{1, false, false}), Error);
  EXPECT_THROW(choose_quant_params(0.0f, 1.0f, QuantScheme{9, false, false}), Error);
}

TEST(ChooseQuantParams, ZeroIsExactlyRepresentable) {
  Rng rng(77);
  const QuantScheme schemes[] = {kActivationScheme, kWeightScheme, {4, false, false}, {2, false, true},
                                 {8, true, false}, {5, false, true}};
  for (const QuantScheme& s : schemes) {
    for (int i = 0; i < 3000; ++i) {
      // Ranges on either side of 0, straddling it, tiny and huge.
      const float mag = std::ldexp(1.0f, static_cast<int>(rng.below(40)) - 20);
      float lo = rng.uniform(-1, 1) * mag, hi = rng.uniform(-1, 1) * mag;
      if (lo > hi) std::swap(lo, hi);
      const QuantParams p = choose_quant_params(lo, hi, s);
      ASSERT_GE(p.zero_point, p.qmin);
      ASSERT_LE(p.zero_point, p.qmax);
      ASSERT_LE(p.nudged_min, 0.0f);
      ASSERT_GE(p.nudged_max, 0.0f);
      ASSERT_EQ(fake_quant_value(0.0f, p), 0.0f) << lo << " " << hi;
      ASSERT_EQ(fake_quant_int(0.0f, p), p.zero_point) << lo << " " << hi;
      ASSERT_TRUE(std::isfinite(p.scale) && p.scale > 0.0f);
    }
  }
}

TEST(ChooseQuantParams, DegenerateAndNonFinite) {
  const QuantParams z = choose_quant_params(0.0f, 0.0f, kActivationScheme);
  EXPECT_TRUE(z.degenerate);
  EXPECT_EQ(z.scale, 1.0f);
  EXPECT_EQ(z.zero_point, 0);
  EXPECT_EQ(fake_quant_value(3.0f, z), 0.0f);
  EXPECT_EQ(fake_quant_mask(3.0f, z), 1.0f);  // TF passes gradients through for [0, 0]
  // min == max > 0 extends to [0, max]; a range below float resolution is degenerate.
  EXPECT_FALSE(choose_quant_params(2.0f, 2.0f, kActivationScheme).degenerate);
  EXPECT_TRUE(choose_quant_params(0.0f, 1e-40f, kActivationScheme).degenerate);
  EXPECT_TRUE(choose_quant_params(-1e-41f, 0.0f, kWeightScheme).degenerate);
  EXPECT_THROW(choose_quant_params(std::nanf(""), 1.0f, kActivationScheme), Error);
  EXPECT_THROW(choose_quant_params(0.0f, std::numeric_limits<float>::infinity(), kActivationScheme), Error);
  EXPECT_THROW(choose_quant_params(-3e38f, 3e38f, kActivationScheme), Error);  // scale overflows
}

TEST(FakeQuant, HandValuesAndMask) {
  const QuantParams p = choose_quant_params(-1.0f, 3.0f, kActivationScheme);
  const float s = 4.0f / 255.0f;
  // 0.3: (0.3 + 64 s) / s + 0.5 = 19.125 + 64.5 -> 83 -> q = -128 + 83 = -45 -> (-45 + 64) s = 19 s.
  EXPECT_EQ(fake_quant_int(0.3f, p), -45);
  EXPECT_FLOAT_EQ(fake_quant_value(0.3f, p), 19 * s);
  EXPECT_FLOAT_EQ(fake_quant_value(-0.3f, p), -19 * s);
  // Above/below the nudged range: clamps to 191 s / -64 s, gradient 0.
  EXPECT_FLOAT_EQ(fake_quant_value(5.0f, p), 191 * s);
  EXPECT_FLOAT_EQ(fake_quant_value(-5.0f, p), -64 * s);
  EXPECT_EQ(fake_quant_mask(5.0f, p), 0.0f);
  EXPECT_EQ(fake_quant_mask(2.999f, p), 0.0f);  // nudged max is 2.99608
  EXPECT_EQ(fake_quant_mask(2.99f, p), 1.0f);
  EXPECT_EQ(fake_quant_mask(p.nudged_max, p), 1.0f);
  EXPECT_EQ(fake_quant_mask(p.nudged_min, p), 1.0f);
  EXPECT_EQ(fake_quant_mask(-1.01f, p), 0.0f);
  // NaN -> real 0 with zero gradient; Inf clamps.
  EXPECT_EQ(fake_quant_value(std::nanf(""), p), 0.0f);
  EXPECT_EQ(fake_quant_mask(std::nanf(""), p), 0.0f);
  EXPECT_FLOAT_EQ(fake_quant_value(std::numeric_limits<float>::infinity(), p), 191 * s);
  // The output is exactly dequantize(q).
  for (float x = -1.2f; x < 3.2f; x += 0.0137f)
    ASSERT_EQ(fake_quant_value(x, p), static_cast<float>(fake_quant_int(x, p) - p.zero_point) * p.scale);

  const std::vector<float> x = {-2.0f, 0.3f, 0.5f, 4.0f};
  const std::vector<float> dy = {1.0f, 2.0f, 3.0f, 4.0f};
  std::vector<float> y(4), dx(4);
  fake_quant(x, y, p);
  fake_quant_backward(x, dy, dx, p);
  EXPECT_EQ(dx, (std::vector<float>{0.0f, 2.0f, 3.0f, 0.0f}));
  EXPECT_FLOAT_EQ(y[1], 19 * s);
}

TEST(FakeQuant, PerChannelUsesEachChannelsRange) {
  Tensor x(Shape{3, 2});  // channels along the last axis
  const float v[] = {-1.0f, 10.0f, 0.5f, -3.0f, 2.0f, 4.0f};
  for (int i = 0; i < 6; ++i) x.f32()[i] = v[i];
  const std::vector<Range> r = finite_channel_ranges(x, -1);
  ASSERT_EQ(r.size(), 2u);
  EXPECT_EQ(r[0].min, -1.0f);
  EXPECT_EQ(r[0].max, 2.0f);
  EXPECT_EQ(r[1].min, -3.0f);
  EXPECT_EQ(r[1].max, 10.0f);
  const std::vector<QuantParams> p = {choose_quant_params(-1, 2, kWeightScheme),
                                      choose_quant_params(-3, 10, kWeightScheme)};
  Tensor y, dx;
  fake_quant_per_channel(x, y, -1, p);
  for (int i = 0; i < 6; ++i) ASSERT_EQ(y.f32()[i], fake_quant_value(v[i], p[static_cast<size_t>(i % 2)]));
  // Channel 0 is +-2 (scale 4/254): 0.5 -> round(31.75) = 32 -> 32 * 4/254.
  EXPECT_FLOAT_EQ(y.f32()[2], 32 * 4.0f / 254.0f);
  // Axis 0: three channels of two values.
  const std::vector<Range> r0 = finite_channel_ranges(x, 0);
  ASSERT_EQ(r0.size(), 3u);
  EXPECT_EQ(r0[1].min, -3.0f);
  EXPECT_EQ(r0[1].max, 0.5f);
  Tensor dy(Shape{3, 2});
  for (int i = 0; i < 6; ++i) dy.f32()[i] = 1.0f;
  // Channel 1's range is +-10 with weights' narrow scheme: all inside.
  fake_quant_per_channel_backward(x, dy, dx, -1, p);
  for (int i = 0; i < 6; ++i) EXPECT_EQ(dx.f32()[i], 1.0f);
  EXPECT_THROW(fake_quant_per_channel(x, y, 0, p), Error);  // 3 channels, 2 params
  EXPECT_THROW(finite_channel_ranges(x, 2), Error);
}

TEST(Ranges, SkipNonFinite) {
  const float inf = std::numeric_limits<float>::infinity();
  const std::vector<float> x = {std::nanf(""), -1.0f, inf, 2.0f, -inf};
  const Range r = finite_range(x);
  EXPECT_EQ(r.min, -1.0f);
  EXPECT_EQ(r.max, 2.0f);
  const std::vector<float> none = {std::nanf(""), inf};
  EXPECT_TRUE(finite_range(none).empty());
  const Range q = quantizer_range(finite_range(none), kActivationScheme);
  EXPECT_EQ(q.min, 0.0f);
  EXPECT_EQ(q.max, 0.0f);
}

TEST(Ranges, SymmetricFullRangeFollowsTfmot) {
  // r = -254/256: [-1, 1] -> [min(-1, 1 / r), max(1, -1 * r)] = [-1.007874, 1].
  const Range r = quantizer_range(Range{-1.0f, 1.0f}, QuantScheme{8, true, false});
  EXPECT_FLOAT_EQ(r.min, -256.0f / 254.0f);
  EXPECT_FLOAT_EQ(r.max, 1.0f);
  // scale 2.007874 / 255 = 1/127; zero point 128 unsigned -> 0.
  const QuantParams p = choose_quant_params(r.min, r.max, QuantScheme{8, true, false});
  EXPECT_EQ(p.zero_point, 0);
  EXPECT_FLOAT_EQ(p.scale, 1.0f / 127.0f);
}

}  // namespace
}  // namespace qlite::quant
