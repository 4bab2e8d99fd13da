// The runtime's SIMD QUANTIZE (float -> int8, runtime_quantize.h) against the
// reference kernel, value for value, on every ISA this CPU runs: random
// values over many scales, every rounding tie and its float neighbours, and
// the values where TFLite's x86 rule matters (NaN, +-Inf, quotients outside
// int32), at lengths ragged around the 8- and 16-lane blocks.
#include <cmath>
#include <cstring>

#include "kernels/runtime_quantize.h"
#include "x86_test_util.h"

namespace qlite::kernels::test {
namespace {

using QuantizeFn = void (*)(int64_t, const float*, float, int32_t, int8_t*);

std::vector<std::pair<const char*, QuantizeFn>> simd_quantizers() {
  std::vector<std::pair<const char*, QuantizeFn>> v;
  if (int8_isa_available(Isa::kAvx2)) v.emplace_back("avx2", &quantize_f32_to_int8_avx2);
  if (int8_isa_available(Isa::kAvx512)) v.emplace_back("avx512", &quantize_f32_to_int8_avx512);
  return v;
}

std::vector<float> values_for(Rng& rng, float scale) {
  std::vector<float> v;
  for (int i = 0; i < 3000; ++i) v.push_back(rng.uniform(-400.0f, 400.0f) * scale);
  for (int k = -130; k <= 130; ++k) {
    const float tie = (static_cast<float>(k) + 0.5f) * scale;
    v.insert(v.end(), {tie, std::nextafter(tie, -INFINITY), std::nextafter(tie, INFINITY)});
  }
  v.insert(v.end(), {NAN, -NAN, INFINITY, -INFINITY, 1e30f, -1e30f, 2.2e9f * scale, -2.2e9f * scale,
                     2147483520.0f * scale, -2147483648.0f * scale, 0.0f, -0.0f, 1e-30f, -1e-30f});
  rng.shuffle(v);
  return v;
}

TEST(QuantizeX86, SimdEqualsTheReferenceValueForValue) {
  const auto fns = simd_quantizers();
  if (fns.empty()) GTEST_SKIP() << "no AVX2 on this CPU";
  Rng rng(771);
  int64_t checked = 0;
  for (float scale : {1.0f / 255, 1.0f / 256, 0.0123f, 0.3f, 1.0f, 1.7f, 1e-4f, 33.0f}) {
    for (int32_t zp : kZeroPoints) {
      const std::vector<float> x = values_for(rng, scale);
      for (int64_t len : {int64_t{1}, int64_t{7}, int64_t{15}, int64_t{17}, static_cast<int64_t>(x.size())}) {
        std::vector<int8_t> want(static_cast<size_t>(len));
        ref::quantize_f32_to_int8(len, x.data(), scale, zp, want.data());
        for (const auto& [name, fn] : fns) {
          std::vector<int8_t> got(static_cast<size_t>(len) + 16, 0x5a);  // guard bytes after the output
          fn(len, x.data(), scale, zp, got.data());
          for (int64_t i = 0; i < len; ++i)
            ASSERT_EQ(got[static_cast<size_t>(i)], want[static_cast<size_t>(i)])
                << name << " x " << x[static_cast<size_t>(i)] << " scale " << scale << " zp " << zp;
          for (size_t i = static_cast<size_t>(len); i < got.size(); ++i) ASSERT_EQ(got[i], 0x5a) << name << " wrote past n";
          checked += len;
        }
      }
    }
  }
  EXPECT_GT(checked, 100000);
}

// The SIMD paths divide in double as the reference does: random float bit
// patterns (every exponent, NaN, Inf, denormals) against random positive
// scales from 2^-126 to 2^20, and values one float step around the ties
// k + 0.5 for the same scales. (A form that multiplies by 1 / scale and
// divides only near a tie was as exact here and slower on Zen 5.)
TEST(QuantizeX86, DivisionEqualsTheReferenceOnRandomBits) {
  const auto fns = simd_quantizers();
  if (fns.empty()) GTEST_SKIP() << "no AVX2 on this CPU";
  Rng rng(4242);
  int64_t checked = 0;
  for (int rep = 0; rep < 300; ++rep) {
    const float scale = std::ldexp(1.0f + rng.uniform(), pick(rng, -126, 20));
    const int32_t zp = pick_of(rng, kZeroPoints);
    std::vector<float> x;
    for (int i = 0; i < 700; ++i) {
      const uint32_t bits = static_cast<uint32_t>(rng.next_u64());
      float f;
      std::memcpy(&f, &bits, sizeof f);
      x.push_back(f);
    }
    for (int i = 0; i < 300; ++i) {
      const float tie = (static_cast<float>(pick(rng, -200, 200)) + 0.5f) * scale;
      x.insert(x.end(), {tie, std::nextafter(tie, -INFINITY), std::nextafter(tie, INFINITY),
                         rng.uniform(-300.0f, 300.0f) * scale});
    }
    std::vector<int8_t> want(x.size());
    ref::quantize_f32_to_int8(static_cast<int64_t>(x.size()), x.data(), scale, zp, want.data());
    for (const auto& [name, fn] : fns) {
      std::vector<int8_t> got(x.size());
      fn(static_cast<int64_t>(x.size()), x.data(), scale, zp, got.data());
      for (size_t i = 0; i < x.size(); ++i)
        ASSERT_EQ(got[i], want[i]) << name << " x " << x[i] << " scale " << scale << " zp " << zp;
      checked += static_cast<int64_t>(x.size());
    }
  }
  EXPECT_GT(checked, 500000);
}

// The reference's rule itself on hand-computed values (TFLite 2.9 printed
// the same for these in tflite_quantize_test.cpp).
TEST(QuantizeX86, ReferenceFollowsTfLitesX86Rule) {
  const float x[] = {2.5f, -2.5f, 0.49999997f, NAN, INFINITY, -INFINITY, 3e9f, 2.1e9f};
  int8_t q[8];
  ref::quantize_f32_to_int8(8, x, 1.0f, 0, q);
  EXPECT_EQ(std::vector<int>(q, q + 8), (std::vector<int>{3, -3, 0, -128, -128, -128, -128, 127}));
  ref::quantize_f32_to_int8(8, x, 1.0f, -1, q);  // INT32_MIN - 1 wraps to INT32_MAX
  EXPECT_EQ(std::vector<int>(q, q + 8), (std::vector<int>{2, -4, -1, 127, 127, 127, 127, 127}));
}

}  // namespace
}  // namespace qlite::kernels::test
