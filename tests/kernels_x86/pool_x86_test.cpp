// Max / average pooling, add and mean against the reference kernels, exact
// bytes, every runnable ISA, guard bytes around the outputs.
#include "x86_test_util.h"

namespace qlite::kernels::test {
namespace {

TEST(PoolX86, MaxAndAverageRandomShapes) {
  Rng rng(20);
  for (int rep = 0; rep < 300; ++rep) {
    const int c = rng.below(6) == 0 ? pick(rng, 60, 140) : rand_channels(rng);
    qlite::ref::PoolInt8Params p;
    p.g = rand_geometry(rng, c, c, rep % 3 == 0 ? 4 : 3, false);
    const int32_t zp = pick_of(rng, kZeroPoints);
    p.act = ref::fused_activation_range(pick_of(rng, kActs), 0.02f + 0.1f * rng.uniform(), zp);
    const auto x = rand_i8(rng, int64_t{p.g.batch} * p.g.in_h * p.g.in_w * c);
    const size_t n = static_cast<size_t>(p.g.batch) * p.g.out_h * p.g.out_w * c;
    std::vector<int8_t> want_max(n), want_avg(n);
    ref::max_pool2d_int8(p, x.data(), want_max.data());
    ref::average_pool2d_int8(p, x.data(), want_avg.data());
    for (Isa isa : runnable_isas()) {
      Guarded m(n), a(n);
      max_pool2d_int8(isa, p, x.data(), m.data());
      average_pool2d_int8(isa, p, x.data(), a.data());
      ASSERT_TRUE(m.guards_intact() && a.guards_intact()) << isa_name(isa) << " " << geom_str(p.g);
      ASSERT_EQ(m.body(), want_max) << isa_name(isa) << " max " << geom_str(p.g);
      ASSERT_EQ(a.body(), want_avg) << isa_name(isa) << " avg " << geom_str(p.g);
    }
  }
}

// The 2x2 / stride 2 / unpadded fast path (the seed model's pool): odd
// sizes (the last row and column unread), channel counts around the vector
// widths, every activation clamp, batches.
TEST(PoolX86, MaxPool2x2FastPathEveryChannelCount) {
  Rng rng(21);
  for (int c = 1; c <= 140; c += (c < 70 ? 1 : 7)) {
    qlite::ref::PoolInt8Params p;
    p.g.batch = pick(rng, 1, 3);
    p.g.in_h = pick(rng, 2, 29);
    p.g.in_w = pick(rng, 2, 29);
    p.g.in_c = p.g.out_c = c;
    p.g.kernel_h = p.g.kernel_w = p.g.stride_h = p.g.stride_w = 2;
    ref::apply_padding(p.g, rng.below(4) == 0 && p.g.in_h % 2 == 0 && p.g.in_w % 2 == 0 ? Padding::kSame
                                                                                        : Padding::kValid);
    p.act = ref::fused_activation_range(pick_of(rng, kActs), 0.02f + 0.1f * rng.uniform(), pick_of(rng, kZeroPoints));
    const auto x = rand_i8(rng, int64_t{p.g.batch} * p.g.in_h * p.g.in_w * c);
    const size_t n = static_cast<size_t>(p.g.batch) * p.g.out_h * p.g.out_w * c;
    std::vector<int8_t> want(n);
    ref::max_pool2d_int8(p, x.data(), want.data());
    for (Isa isa : runnable_isas()) {
      Guarded m(n);
      max_pool2d_int8(isa, p, x.data(), m.data());
      ASSERT_TRUE(m.guards_intact()) << isa_name(isa) << " " << geom_str(p.g);
      ASSERT_EQ(m.body(), want) << isa_name(isa) << " " << geom_str(p.g);
    }
  }
}

TEST(PoolX86, WindowInsidePaddingIsRejectedLikeReference) {
  qlite::ref::PoolInt8Params p;
  p.g.in_h = p.g.in_w = 2;
  p.g.in_c = p.g.out_c = 3;
  p.g.kernel_h = p.g.kernel_w = 1;
  p.g.out_h = p.g.out_w = 2;
  p.g.pad_top = 1;  // the first output row reads only padding
  std::vector<int8_t> x(12), y(12);
  EXPECT_THROW(ref::max_pool2d_int8(p, x.data(), y.data()), Error);
  for (Isa isa : runnable_isas()) {
    EXPECT_THROW(max_pool2d_int8(isa, p, x.data(), y.data()), Error) << isa_name(isa);
    EXPECT_THROW(average_pool2d_int8(isa, p, x.data(), y.data()), Error) << isa_name(isa);
  }
}

TEST(AddX86, RandomScalesZeroPointsAndLengths) {
  Rng rng(21);
  for (int rep = 0; rep < 200; ++rep) {
    const float s1 = std::ldexp(0.5f + rng.uniform(), -pick(rng, 1, 10));
    const float s2 = std::ldexp(0.5f + rng.uniform(), -pick(rng, 1, 10));
    const float so = std::ldexp(0.5f + rng.uniform(), -pick(rng, 1, 10));
    const auto p = ref::make_add_params(s1, pick_of(rng, kZeroPoints), s2, pick_of(rng, kZeroPoints), so,
                                        pick_of(rng, kZeroPoints), pick_of(rng, kActs));
    const int64_t n = pick(rng, 0, 200);
    const auto a = rand_i8(rng, n), b = rand_i8(rng, n);
    std::vector<int8_t> want(static_cast<size_t>(n));
    ref::add_int8(p, n, a.data(), b.data(), want.data());
    for (Isa isa : runnable_isas()) {
      Guarded out(static_cast<size_t>(n));
      add_int8(isa, p, n, a.data(), b.data(), out.data());
      ASSERT_TRUE(out.guards_intact()) << isa_name(isa);
      ASSERT_EQ(out.body(), want) << isa_name(isa) << " n " << n;
    }
  }
}

// The SIMD ADD scales its inputs in 32-bit arithmetic where the constants
// allow it (int8_pack.cpp, add_input_scale): every pair of input bytes, for
// scales from TFLite's own parameters (ratios up to 2^12 between the inputs)
// and for raw multipliers at the edges (0, 2^30, 2^31 - 1, shifts 0..-31,
// left shifts 0..22), where the 32-bit form applies and where it does not.
TEST(AddX86, EveryInputPairAgainstTheReference) {
  std::vector<int8_t> a(65536), b(65536);
  for (int i = 0; i < 65536; ++i) {
    a[static_cast<size_t>(i)] = static_cast<int8_t>(i & 255);
    b[static_cast<size_t>(i)] = static_cast<int8_t>(i >> 8);
  }
  auto check = [&](const ref::AddInt8Params& p, const std::string& what) {
    std::vector<int8_t> want(65536);
    ref::add_int8(p, 65536, a.data(), b.data(), want.data());
    for (Isa isa : runnable_isas()) {
      std::vector<int8_t> got(65536);
      add_int8(isa, p, 65536, a.data(), b.data(), got.data());
      for (size_t i = 0; i < got.size(); ++i)
        ASSERT_EQ(got[i], want[i]) << isa_name(isa) << " " << what << " a " << int{a[i]} << " b " << int{b[i]};
    }
  };
  Rng rng(2112);
  for (int rep = 0; rep < 40; ++rep) {
    const float s1 = std::ldexp(0.5f + rng.uniform(), -pick(rng, 1, 13));
    const float s2 = std::ldexp(0.5f + rng.uniform(), -pick(rng, 1, 13));
    const float so = std::ldexp(0.5f + rng.uniform(), -pick(rng, 1, 12));
    const auto p = ref::make_add_params(s1, pick(rng, -128, 127), s2, pick(rng, -128, 127), so, pick(rng, -128, 127),
                                        pick_of(rng, kActs));
    check(p, "scales " + std::to_string(s1) + " " + std::to_string(s2) + " " + std::to_string(so));
  }
  const int32_t mults[] = {0, 1, 1 << 30, (1 << 30) + 12345, 2147483647};
  for (int rep = 0; rep < 60; ++rep) {
    ref::AddInt8Params p;
    p.left_shift = rep < 23 ? rep : pick(rng, 0, 22);
    p.input1 = {pick_of(rng, mults), -pick(rng, 0, 31)};
    p.input2 = {rng.below(2) ? pick_of(rng, mults) : (1 << 30) + pick(rng, 0, (1 << 30) - 1), -pick(rng, 0, 31)};
    p.output = {(1 << 30) + pick(rng, 0, (1 << 30) - 1), -pick(rng, 0, 31)};
    p.input1_zero_point = pick(rng, -128, 127);
    p.input2_zero_point = pick(rng, -128, 127);
    p.output_zero_point = pick(rng, -128, 127);
    check(p, "raw rep " + std::to_string(rep));
  }
}

// Every arithmetic of TFLite 2.9's MEAN (ref::MeanInt8Method); the truncated
// mean with equal input and output quantization, as TFLite uses it.
TEST(MeanX86, RandomShapesScalesAndMethods) {
  constexpr ref::MeanInt8Method kMethods[] = {ref::MeanInt8Method::kRequantizeThenDivide,
                                              ref::MeanInt8Method::kTruncatedMean,
                                              ref::MeanInt8Method::kFloatRescale};
  Rng rng(22);
  for (int rep = 0; rep < 300; ++rep) {
    const int batch = pick(rng, 1, 3), h = pick(rng, 1, 17), w = pick(rng, 1, 19), c = rand_channels(rng);
    const ref::MeanInt8Method method = pick_of(rng, kMethods);
    const bool equal = method == ref::MeanInt8Method::kTruncatedMean;
    const float si = 0.01f + 0.1f * rng.uniform();
    const float so = equal ? si : rep % 5 == 0 ? si * 0.5f : si * (0.2f + 2.0f * rng.uniform());
    const int32_t zi = pick_of(rng, kZeroPoints), zo = equal ? zi : pick_of(rng, kZeroPoints);
    auto p = ref::make_mean_params(batch, h, w, c, si, zi, so, zo, method);
    p.act = ref::fused_activation_range(pick_of(rng, kActs), so, p.output_zero_point);
    const auto x = rand_i8(rng, int64_t{batch} * h * w * c);
    std::vector<int8_t> want(static_cast<size_t>(batch) * c);
    ref::mean_hw_int8(p, x.data(), want.data());
    for (Isa isa : runnable_isas()) {
      Guarded out(want.size());
      mean_hw_int8(isa, p, x.data(), out.data());
      ASSERT_TRUE(out.guards_intact()) << isa_name(isa);
      ASSERT_EQ(out.body(), want) << isa_name(isa) << " " << h << "x" << w << "x" << c << " method "
                                  << static_cast<int>(method);
    }
  }
}

// kFloatRescale is finished in SIMD registers on AVX-512 and AVX2 (the scalar steps
// in IEEE float, handed back to the scalar code when |value| >= 2^22): every
// sum of a 1x1, 2x2 and 7x7 window (inputs chosen to sweep the sums), scale
// ratios from 1e-3 to 1e30 (the last overflows to infinity), all zero points.
TEST(MeanX86, FloatRescaleEverySumAndExtremeScales) {
  Rng rng(23);
  for (const int hw : {1, 2, 7})
    for (const float ratio : {1e-3f, 0.37f, 1.0f, 2.5f, 3.0e5f, 1e30f})
      for (const int32_t zi : kZeroPoints)
        for (const int32_t zo : kZeroPoints) {
          const int c = 67;
          auto p = ref::make_mean_params(1, hw, hw, c, 0.02f * ratio, zi, 0.02f, zo, ref::MeanInt8Method::kFloatRescale);
          if (zo == 5) p.act = {-3, 90};
          // Channel ch, pixel i: values that walk the sums across [-128 n, 127 n].
          std::vector<int8_t> x(static_cast<size_t>(hw) * hw * c);
          for (int i = 0; i < hw * hw; ++i)
            for (int ch = 0; ch < c; ++ch)
              x[static_cast<size_t>(i) * c + ch] =
                  static_cast<int8_t>(ch * 4 - 128 + (i * 37 + static_cast<int>(rng.below(4))) % 5);
          std::vector<int8_t> want(static_cast<size_t>(c));
          ref::mean_hw_int8(p, x.data(), want.data());
          for (Isa isa : runnable_isas()) {
            Guarded out(want.size());
            mean_hw_int8(isa, p, x.data(), out.data());
            ASSERT_TRUE(out.guards_intact()) << isa_name(isa);
            ASSERT_EQ(out.body(), want) << isa_name(isa) << " hw " << hw << " ratio " << ratio << " zi " << zi;
          }
        }
}

}  // namespace
}  // namespace qlite::kernels::test
