// PAD and TRANSPOSE: the reference kernels by hand, and the runtime's
// row-wise / odometer kernels (kernels/shape_kernels.h) equal to them byte for
// byte on random and awkward geometries (size-1 and size-0 dims, no padding,
// padding only, every rank, element sizes 1 to 16). LOGISTIC / TANH tables and
// HARD_SWISH: hand values of the fixed-point helpers, the table form of
// HARD_SWISH equal to the element-wise reference, the x86 float-to-int rule.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <numeric>
#include <vector>

#include "kernels/reference/activation_kernels.h"
#include "kernels/reference/shape_kernels.h"
#include "kernels/shape_kernels.h"
#include "qlite/core.h"

namespace qlite::ref {
namespace {

std::vector<std::byte> random_bytes(Rng& rng, size_t n) {
  std::vector<std::byte> v(n);
  for (auto& b : v) b = static_cast<std::byte>(rng.below(256));
  return v;
}

TEST(PadReference, Hand) {
  // [2, 3] int8 padded (1, 0) and (0, 2) with 9.
  PadGeometry g;
  g.rank = 2;
  g.in_dims = {2, 3};
  g.before = {1, 0};
  g.after = {0, 2};
  const std::vector<int8_t> in = {1, 2, 3, 4, 5, 6};
  const int8_t v = 9;
  std::vector<int8_t> out(15);
  pad(g, 1, reinterpret_cast<const std::byte*>(in.data()), reinterpret_cast<const std::byte*>(&v),
      reinterpret_cast<std::byte*>(out.data()));
  EXPECT_EQ(out, (std::vector<int8_t>{9, 9, 9, 9, 9, 1, 2, 3, 9, 9, 4, 5, 6, 9, 9}));
}

TEST(PadReference, RefusesBadGeometry) {
  PadGeometry g;
  g.rank = 1;
  g.in_dims = {3};
  g.before = {-1};
  EXPECT_THROW(validate_pad(g, "t"), Error);
  g.before = {0};
  g.rank = 6;
  EXPECT_THROW(validate_pad(g, "t"), Error);
  g.rank = 0;
  EXPECT_THROW(validate_pad(g, "t"), Error);
  g.rank = 3;
  g.in_dims = {int64_t{1} << 40, int64_t{1} << 30, 1};
  EXPECT_THROW(validate_pad(g, "t"), Error);  // 2^70 elements
}

TEST(PadFast, EqualsReferenceOnRandomGeometries) {
  Rng rng(71);
  int cases = 0;
  for (int rep = 0; rep < 600; ++rep) {
    PadGeometry g;
    g.rank = 1 + static_cast<int>(rng.below(kMaxPadRank));
    for (int d = 0; d < g.rank; ++d) {
      const auto k = static_cast<size_t>(d);
      g.in_dims[k] = static_cast<int64_t>(rng.below(rep % 7 == 0 ? 2 : 5));  // 0 and 1 often
      g.before[k] = rng.below(3) == 0 ? 0 : static_cast<int64_t>(rng.below(4));
      g.after[k] = rng.below(3) == 0 ? 0 : static_cast<int64_t>(rng.below(4));
    }
    const size_t elem = std::vector<size_t>{1, 2, 4, 8, 3, 16}[rng.below(6)];
    const auto in = random_bytes(rng, static_cast<size_t>(g.in_numel()) * elem);
    const auto value = random_bytes(rng, elem);
    const size_t out_bytes = static_cast<size_t>(g.out_numel()) * elem;
    std::vector<std::byte> want(out_bytes + 1, std::byte{0x5a}), got(out_bytes + 1, std::byte{0x5a});
    pad(g, elem, in.data(), value.data(), want.data());
    kernels::pad(g, elem, in.data(), value.data(), got.data());
    ASSERT_EQ(want, got) << "rank " << g.rank << " elem " << elem << " rep " << rep;  // incl. the guard byte
    ++cases;
  }
  EXPECT_EQ(cases, 600);
}

TEST(TransposeReference, Hand) {
  TransposeGeometry g;
  g.rank = 3;
  g.in_dims = {2, 1, 3};
  g.perm = {2, 0, 1};  // out [3, 2, 1]
  const std::vector<int16_t> in = {1, 2, 3, 4, 5, 6};
  std::vector<int16_t> out(6);
  transpose(g, 2, reinterpret_cast<const std::byte*>(in.data()), reinterpret_cast<std::byte*>(out.data()));
  EXPECT_EQ(out, (std::vector<int16_t>{1, 4, 2, 5, 3, 6}));
  g.perm = {0, 0, 1};
  EXPECT_THROW(validate_transpose(g, "t"), Error);
  g.perm = {0, 3, 1};
  EXPECT_THROW(validate_transpose(g, "t"), Error);
}

TEST(TransposeFast, EqualsReferenceOnEveryPermutation) {
  Rng rng(72);
  int cases = 0;
  for (int rank = 1; rank <= kMaxTransposeRank; ++rank) {
    std::vector<int> perm(static_cast<size_t>(rank));
    std::iota(perm.begin(), perm.end(), 0);
    do {
      for (int rep = 0; rep < 3; ++rep) {
        TransposeGeometry g;
        g.rank = rank;
        for (int d = 0; d < rank; ++d) {
          g.in_dims[static_cast<size_t>(d)] = 1 + static_cast<int64_t>(rng.below(rank >= 4 ? 3 : 5));
          g.perm[static_cast<size_t>(d)] = perm[static_cast<size_t>(d)];
        }
        if (rep == 2) g.in_dims[rng.below(static_cast<uint64_t>(rank))] = 0;  // empty tensors too
        const size_t elem = std::vector<size_t>{1, 2, 4, 8, 16, 3}[rng.below(6)];
        const auto in = random_bytes(rng, static_cast<size_t>(g.numel()) * elem);
        std::vector<std::byte> want(in.size() + 1, std::byte{0x5a}), got(in.size() + 1, std::byte{0x5a});
        transpose(g, elem, in.data(), want.data());
        kernels::transpose(g, elem, in.data(), got.data());
        ASSERT_EQ(want, got) << "rank " << rank << " elem " << elem;
        ++cases;
      }
    } while (std::next_permutation(perm.begin(), perm.end()));
  }
  EXPECT_EQ(cases, 3 * (1 + 2 + 6 + 24 + 120));
}

// The channels-last fast path (an NCHW image with 2..4 planes to NHWC, the
// TRANSPOSE PyTorch's exports start with) on image-sized shapes, and shapes
// next to it that must take the general walk (5 planes, a batch permuted).
TEST(TransposeFast, ChannelsLastOfImagesEqualsReference) {
  Rng rng(73);
  const struct {
    std::array<int64_t, 4> dims;
    std::array<int, 4> perm;
  } cases[] = {{{1, 3, 224, 224}, {0, 2, 3, 1}}, {{2, 3, 17, 23}, {0, 2, 3, 1}}, {{3, 2, 1, 31}, {0, 2, 3, 1}},
               {{1, 4, 9, 1}, {0, 2, 3, 1}},     {{1, 5, 7, 7}, {0, 2, 3, 1}},   {{2, 3, 5, 6}, {2, 3, 0, 1}},
               {{4, 3, 8, 8}, {3, 2, 0, 1}},     {{1, 1, 3, 640}, {0, 1, 3, 2}}};
  for (const auto& c : cases)
    for (size_t elem : {size_t{1}, size_t{2}, size_t{4}}) {
      TransposeGeometry g;
      g.rank = 4;
      for (size_t d = 0; d < 4; ++d) g.in_dims[d] = c.dims[d], g.perm[d] = c.perm[d];
      const auto in = random_bytes(rng, static_cast<size_t>(g.numel()) * elem);
      std::vector<std::byte> want(in.size() + 1, std::byte{0x5a}), got(in.size() + 1, std::byte{0x5a});
      transpose(g, elem, in.data(), want.data());
      kernels::transpose(g, elem, in.data(), got.data());
      ASSERT_EQ(want, got) << c.dims[0] << "x" << c.dims[1] << "x" << c.dims[2] << "x" << c.dims[3] << " elem " << elem;
    }
}

TEST(ActivationReference, X86FloatToInt32) {
  EXPECT_EQ(x86_float_to_int32(2.9f), 2);
  EXPECT_EQ(x86_float_to_int32(-2.9f), -2);
  EXPECT_EQ(x86_float_to_int32(-2147483648.0f), std::numeric_limits<int32_t>::min());
  EXPECT_EQ(x86_float_to_int32(2147483648.0f), std::numeric_limits<int32_t>::min());
  EXPECT_EQ(x86_float_to_int32(1e20f), std::numeric_limits<int32_t>::min());
  EXPECT_EQ(x86_float_to_int32(std::nanf("")), std::numeric_limits<int32_t>::min());
}

TEST(ActivationReference, Int16FixedPointHelpers) {
  EXPECT_EQ(saturating_rounding_doubling_high_mul_i16(-32768, -32768), 32767);
  EXPECT_EQ(saturating_rounding_doubling_high_mul_i16(16384, 16384), 8192);
  EXPECT_EQ(saturating_rounding_doubling_high_mul_i16(3, 16384), 2);    // 1.5 rounds up
  EXPECT_EQ(saturating_rounding_doubling_high_mul_i16(-3, 16384), -1);  // -1.5 too (gemmlowp's nudge)
  EXPECT_EQ(saturating_rounding_doubling_high_mul_i16(-5, 16384), -2);  // -2.5 -> -2
  EXPECT_EQ(saturating_doubling_high_mul_i16(3, 16384), 1);             // truncates
  EXPECT_EQ(saturating_doubling_high_mul_i16(-3, 16384), -1);
  EXPECT_EQ(saturating_left_shift_i16(20000, 1), 32767);
  EXPECT_EQ(saturating_left_shift_i16(-20000, 1), -32768);
  EXPECT_EQ(rounding_divide_by_pot_i16(5, 1), 3);
  EXPECT_EQ(rounding_divide_by_pot_i16(-5, 1), -3);
  EXPECT_EQ(rounding_divide_by_pot_i16(-6, 2), -2);  // -1.5 away from zero
  // From exponent 16 on, gemmlowp's int16 mask is -1: 1 for x >= 0, -1 below.
  EXPECT_EQ(rounding_divide_by_pot_i16(0, 16), 1);
  EXPECT_EQ(rounding_divide_by_pot_i16(12345, 20), 1);
  EXPECT_EQ(rounding_divide_by_pot_i16(-1, 31), -1);
}

TEST(ActivationReference, HardSwishTableEqualsElementwise) {
  Rng rng(73);
  for (int rep = 0; rep < 200; ++rep) {
    const bool is_signed = rep % 2 == 0;
    const float in_scale = std::exp2(rng.uniform(-12.0f, 6.0f));
    const float out_scale = std::max(in_scale / 64.0f, std::exp2(rng.uniform(-12.0f, 6.0f)));
    const int32_t in_zp = static_cast<int32_t>(rng.below(256)) - (is_signed ? 128 : 0);
    const int32_t out_zp = static_cast<int32_t>(rng.below(256)) - (is_signed ? 128 : 0);
    const HardSwishParams p = make_hard_swish_params(is_signed, in_scale, in_zp, out_scale, out_zp);
    const ByteTable t = make_hard_swish_table(p, is_signed);
    std::vector<uint8_t> all(256), got(256), direct(256);
    std::iota(all.begin(), all.end(), 0);
    lookup_bytes(t, 256, all.data(), got.data());
    if (is_signed)
      hard_swish_int8(p, 256, reinterpret_cast<const int8_t*>(all.data()), reinterpret_cast<int8_t*>(direct.data()));
    else
      hard_swish_uint8(p, 256, all.data(), direct.data());
    ASSERT_EQ(got, direct) << rep;
  }
}

TEST(ActivationReference, HardSwishRefusesWhatTfLiteRefuses) {
  // in_scale / (128 out_scale) >= 1: a positive output exponent.
  EXPECT_THROW(make_hard_swish_params(true, 1.0f, 0, 1.0f / 256, 0), Error);
  // An input scale so large that the reluish rescale would shift left by 31 bits or more.
  EXPECT_THROW(make_hard_swish_params(true, 1e8f, 0, 1e8f, 0), Error);
  EXPECT_THROW(make_hard_swish_params(true, 0.1f, 200, 0.1f, 0), Error);  // zero point outside int8
  EXPECT_NO_THROW(make_hard_swish_params(false, 0.1f, 200, 0.1f, 0));
}

TEST(ActivationReference, TablesAreMonotoneAndHitTheEnds) {
  // LOGISTIC int8 with TFLite's fixed output (1/256, -128); TANH (1/128, 0).
  const ByteTable lg = make_activation_table(TableFunction::kLogistic, true, 0.1f, 0, 1.0f / 256, -128);
  const ByteTable th = make_activation_table(TableFunction::kTanh, true, 0.1f, 0, 1.0f / 128, 0);
  EXPECT_EQ(static_cast<int8_t>(lg.v[static_cast<uint8_t>(int8_t{-128})]), -128);  // sigmoid(-12.8) * 256 < 0.5
  EXPECT_EQ(static_cast<int8_t>(lg.v[0]), 0);                                      // 0.5 -> 128 - 128
  EXPECT_EQ(static_cast<int8_t>(lg.v[127]), 127);                                  // saturates
  EXPECT_EQ(static_cast<int8_t>(th.v[0]), 0);
  EXPECT_EQ(static_cast<int8_t>(th.v[127]), 127);
  EXPECT_EQ(static_cast<int8_t>(th.v[static_cast<uint8_t>(int8_t{-128})]), -128);
  for (int q = -127; q <= 127; ++q) {
    EXPECT_LE(static_cast<int8_t>(lg.v[static_cast<uint8_t>(q - 1)]), static_cast<int8_t>(lg.v[static_cast<uint8_t>(q)]));
    EXPECT_LE(static_cast<int8_t>(th.v[static_cast<uint8_t>(q - 1)]), static_cast<int8_t>(th.v[static_cast<uint8_t>(q)]));
  }
  // A tiny output scale overflows int32 in the float -> int conversion: x86
  // gives INT32_MIN, which clamps to the bottom even for positive values.
  const ByteTable tiny = make_activation_table(TableFunction::kTanh, true, 0.1f, 0, 1e-12f, 0);
  EXPECT_EQ(static_cast<int8_t>(tiny.v[100]), -128);
  EXPECT_EQ(static_cast<int8_t>(tiny.v[0]), 0);
}

}  // namespace
}  // namespace qlite::ref
