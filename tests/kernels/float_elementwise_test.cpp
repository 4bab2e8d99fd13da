// The float32 ADD and MEAN reference kernels against sums written here in
// double: ADD sums in float, which must equal the double sum rounded to
// float (double rounding is innocuous for one addition), on every awkward
// value (NaN, infinities, signed zeros, subnormals, overflow, ties) and every
// fused activation; MEAN over height and width equals each channel's double
// sum in pixel order, divided in double.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <vector>

#include "kernels/reference/reference_float.h"
#include "qlite/core.h"

namespace qlite::ref {
namespace {

bool same_bits(float a, float b) { return std::memcmp(&a, &b, sizeof(float)) == 0; }

float clamp_oracle(double v, Activation act) {
  float f = static_cast<float>(v);
  const FloatActRange r = fused_activation_range_f32(act);
  if (f < r.min) f = r.min;
  if (f > r.max) f = r.max;
  return f;
}

TEST(FloatElementwise, AddEqualsTheRoundedDoubleSumOnAwkwardValues) {
  constexpr float kInf = std::numeric_limits<float>::infinity();
  const float den = std::numeric_limits<float>::denorm_min(), big = std::numeric_limits<float>::max();
  std::vector<float> vals = {0.0f, -0.0f, 1.0f, -1.0f, 0.5f, 6.0f, -6.0f, 5.9999995f, 1e-30f, den, -den,
                             big, -big, kInf, -kInf, std::numeric_limits<float>::quiet_NaN(),
                             1.0f + std::ldexp(1.0f, -23), std::ldexp(1.0f, -24), 3.0f, 16777216.0f};
  Rng rng(3);
  for (int i = 0; i < 200; ++i) vals.push_back(std::ldexp(rng.uniform() * 2 - 1, static_cast<int>(rng.below(60)) - 30));
  std::vector<float> a, b;
  for (float x : vals)
    for (float y : vals) a.push_back(x), b.push_back(y);
  std::vector<float> out(a.size());
  int checked = 0;
  for (Activation act : {Activation::kLinear, Activation::kRelu, Activation::kRelu6, Activation::kReluN1To1}) {
    add_f32(static_cast<int64_t>(a.size()), a.data(), b.data(), act, out.data());
    for (size_t i = 0; i < a.size(); ++i) {
      const float want = clamp_oracle(double{a[i]} + b[i], act);
      if (std::isnan(want)) {
        EXPECT_TRUE(std::isnan(out[i])) << a[i] << " + " << b[i];
      } else {
        EXPECT_TRUE(same_bits(out[i], want)) << a[i] << " + " << b[i] << ": " << out[i] << " vs " << want;
      }
      ++checked;
    }
  }
  EXPECT_EQ(checked, 4 * static_cast<int>(vals.size() * vals.size()));
  // Hand-computed: ReLU6 of 4 + 3 is 6, ReLU of -0 + -0 keeps -0 (it is not below 0).
  const float x[2] = {4.0f, -0.0f}, y[2] = {3.0f, -0.0f};
  float r6[2], r[2];
  add_f32(2, x, y, Activation::kRelu6, r6);
  add_f32(2, x, y, Activation::kRelu, r);
  EXPECT_EQ(r6[0], 6.0f);
  EXPECT_TRUE(same_bits(r[1], -0.0f));
}

TEST(FloatElementwise, MeanEqualsEachChannelsDoubleSumInPixelOrder) {
  Rng rng(5);
  for (auto [batch, h, w, c] : {std::tuple{1, 7, 7, 64}, std::tuple{3, 5, 4, 3}, std::tuple{2, 1, 9, 17},
                                std::tuple{1, 1, 1, 1}}) {
    std::vector<float> in(static_cast<size_t>(batch * h * w * c));
    for (float& v : in) v = std::ldexp(rng.uniform() * 2 - 1, static_cast<int>(rng.below(20)) - 10);
    std::vector<float> out(static_cast<size_t>(batch * c));
    mean_hw_f32(batch, h, w, c, in.data(), out.data());
    for (int b = 0; b < batch; ++b)
      for (int ch = 0; ch < c; ++ch) {
        double s = 0;
        for (int i = 0; i < h * w; ++i) s += in[static_cast<size_t>((b * h * w + i) * c + ch)];
        const float want = static_cast<float>(s / (static_cast<double>(h) * w));
        EXPECT_TRUE(same_bits(out[static_cast<size_t>(b * c + ch)], want)) << batch << "x" << h << "x" << w << "x" << c;
      }
  }
  const float hand[4] = {1.0f, 10.0f, 3.0f, 20.0f};  // 1x2x1x2: channel means 2 and 15
  float m[2];
  mean_hw_f32(1, 2, 1, 2, hand, m);
  EXPECT_EQ(m[0], 2.0f);
  EXPECT_EQ(m[1], 15.0f);
}

}  // namespace
}  // namespace qlite::ref
