// uint8 (TF1-era) CONV_2D, DEPTHWISE_CONV_2D and FULLY_CONNECTED through the
// optimized int8 kernels (pack_*_uint8: weights minus their zero point,
// activations flipped to int8) against the uint8 reference kernels: exact
// bytes on random awkward shapes for every SIMD ISA this CPU runs, with
// weight zero points that keep w - zw inside int8 (the AVX-512 VNNI layout)
// and ones that do not (the int16 AVX2 layout, whatever ISA was asked for).
#include "kernels/reference/uint8_kernels.h"
#include "x86_test_util.h"

namespace qlite::kernels::test {
namespace {

std::vector<Isa> simd_isas() {
  std::vector<Isa> v;
  for (Isa i : runnable_isas())
    if (i != Isa::kReference) v.push_back(i);
  return v;
}

std::vector<uint8_t> rand_u8(Rng& rng, int64_t n, int lo = 0, int hi = 255) {
  std::vector<uint8_t> v(static_cast<size_t>(n));
  for (auto& x : v) x = static_cast<uint8_t>(pick(rng, lo, hi));
  return v;
}

constexpr int32_t kU8ZeroPoints[] = {0, 1, 127, 128, 200, 255};

struct U8Quant {
  int32_t in_zp, out_zp, w_zp;
  ref::ActRange act;
  std::vector<ref::QuantizedMultiplier> requant;
};
// Weights in [w_lo, w_hi]: with w_zp = 128 and [0, 255] every w - zw fits int8.
U8Quant rand_u8_quant(Rng& rng, int k, bool fits) {
  U8Quant q;
  q.in_zp = pick_of(rng, kU8ZeroPoints);
  q.out_zp = pick_of(rng, kU8ZeroPoints);
  q.w_zp = fits ? 128 : pick_of(rng, kU8ZeroPoints);
  const float in_scale = 0.005f + 0.05f * rng.uniform();
  const float w_scale = std::ldexp(0.5f + rng.uniform(), -pick(rng, 4, 10));
  const float out_scale = in_scale * w_scale * std::sqrt(static_cast<float>(k)) * 128.0f * (0.05f + rng.uniform());
  q.act = ref::fused_activation_range(pick_of(rng, kActs), out_scale, q.out_zp, 0, 255);
  q.requant = ref::make_uint8_requant(in_scale, w_scale, out_scale);
  return q;
}

std::vector<int8_t> flipped(const std::vector<uint8_t>& v) {
  std::vector<int8_t> r(v.size());
  ref::flip_uint8_int8(static_cast<int64_t>(v.size()), v.data(), r.data());
  return r;
}
std::vector<uint8_t> flipped(const std::vector<int8_t>& v) {
  std::vector<uint8_t> r(v.size());
  ref::flip_uint8_int8(static_cast<int64_t>(v.size()), v.data(), r.data());
  return r;
}

TEST(UInt8X86, FlipIsTheZeroPointShift) {
  for (int x = 0; x < 256; ++x) {
    uint8_t in = static_cast<uint8_t>(x);
    int8_t out;
    ref::flip_uint8_int8(1, &in, &out);
    EXPECT_EQ(int{out}, x - 128);
  }
}

TEST(UInt8X86, ConvRandomAwkwardShapes) {
  Rng rng(1301);
  for (int rep = 0; rep < 200; ++rep) {
    const bool fits = rep % 3 == 0;
    const int in_c = rand_channels(rng), out_c = rand_channels(rng);
    ref::ConvInt8Params p;
    p.g = rand_geometry(rng, in_c, out_c, rep % 5 == 0 ? 5 : 3, true);
    const ref::WindowGeometry& g = p.g;
    const int k = g.kernel_h * g.kernel_w * in_c;
    const U8Quant q = rand_u8_quant(rng, k, fits);
    p.input_zero_point = q.in_zp;
    p.output_zero_point = q.out_zp;
    p.requant = q.requant;
    p.act = q.act;
    const auto x = rand_u8(rng, int64_t{g.batch} * g.in_h * g.in_w * in_c);
    const auto w = rand_u8(rng, int64_t{out_c} * k);
    const auto bias = rand_bias(rng, out_c, 1 << 16);
    const int32_t* b = rep % 4 == 1 ? nullptr : bias.data();
    const int64_t out_n = int64_t{g.batch} * g.out_h * g.out_w * out_c;
    std::vector<uint8_t> want(static_cast<size_t>(out_n));
    ref::conv2d_uint8(p, q.w_zp, x.data(), w.data(), b, want.data());
    const auto xi = flipped(x);
    for (Isa isa : simd_isas()) {
      const PackedConvInt8 pc = pack_conv2d_uint8(isa, p, q.w_zp, w.data(), b);
      // int8 weights exactly when every w - zw fits int8, else the wide
      // layout (int16 weights; on AVX-512 int16 pairs on 16 lanes, group 2).
      bool all_fit = true;
      for (uint8_t v : w) all_fit = all_fit && int{v} - q.w_zp >= -128 && int{v} - q.w_zp <= 127;
      EXPECT_EQ(pc.isa, isa);
      EXPECT_EQ(pc.gemm.weight_bytes, all_fit ? 1 : 2) << isa_name(isa);
      if (isa == Isa::kAvx512) {
        EXPECT_EQ(pc.gemm.group, all_fit ? 4 : 2);
      }
      Scratch scratch(pc.scratch_bytes);
      Guarded out(static_cast<size_t>(out_n));
      conv2d_int8(pc, g.batch, xi.data(), out.data(), scratch.data());
      ASSERT_TRUE(out.guards_intact() && scratch.guard_intact()) << isa_name(isa) << " " << geom_str(g);
      ASSERT_EQ(flipped(out.body()), want) << isa_name(isa) << " packed as " << isa_name(pc.isa) << " " << geom_str(g)
                                           << " zw " << q.w_zp;
    }
  }
}

TEST(UInt8X86, DepthwiseRandomAwkwardShapes) {
  Rng rng(1302);
  for (int rep = 0; rep < 200; ++rep) {
    const bool fits = rep % 3 == 0;
    const int c = rand_channels(rng);
    // Depth multipliers 2 and 8 too (the SIMD path repeats input channels).
    const int dm = rep % 6 == 5 ? (rep % 12 == 5 ? 2 : 8) : 1, oc = c * dm;
    ref::DepthwiseInt8Params p;
    p.depth_multiplier = dm;
    p.g = rand_geometry(rng, c, oc, rep % 5 == 0 ? 9 : 3, true);
    const ref::WindowGeometry& g = p.g;
    const U8Quant q = rand_u8_quant(rng, g.kernel_h * g.kernel_w, fits);
    p.input_zero_point = q.in_zp;
    p.output_zero_point = q.out_zp;
    p.requant = q.requant;
    p.act = q.act;
    ASSERT_TRUE(depthwise_int8_vectorized(p));
    const auto x = rand_u8(rng, int64_t{g.batch} * g.in_h * g.in_w * c);
    const auto w = rand_u8(rng, int64_t{g.kernel_h} * g.kernel_w * oc);
    const auto bias = rand_bias(rng, oc, 1 << 14);
    const int32_t* b = rep % 4 == 1 ? nullptr : bias.data();
    const int64_t out_n = int64_t{g.batch} * g.out_h * g.out_w * oc;
    std::vector<uint8_t> want(static_cast<size_t>(out_n));
    ref::depthwise_conv2d_uint8(p, q.w_zp, x.data(), w.data(), b, want.data());
    const auto xi = flipped(x);
    for (Isa isa : simd_isas()) {
      const PackedDepthwiseInt8 pd = pack_depthwise_conv2d_uint8(isa, p, q.w_zp, w.data(), b);
      Scratch scratch(pd.scratch_bytes);
      Guarded out(static_cast<size_t>(out_n));
      depthwise_conv2d_int8(pd, g.batch, xi.data(), out.data(), scratch.data());
      ASSERT_TRUE(out.guards_intact() && scratch.guard_intact()) << isa_name(isa) << " " << geom_str(g);
      ASSERT_EQ(flipped(out.body()), want) << isa_name(isa) << " packed as " << isa_name(pd.isa) << " " << geom_str(g)
                                           << " zw " << q.w_zp;
    }
  }
}

TEST(UInt8X86, FullyConnectedEveryKFrom1To100) {
  Rng rng(1303);
  for (int k = 1; k <= 100; ++k) {
    const bool fits = k % 3 == 0;
    ref::FullyConnectedInt8Params p;
    p.batch = pick(rng, 1, 4) + (k % 7 == 0 ? 9 : 0);
    p.in_features = k;
    p.out_features = rand_channels(rng);
    const U8Quant q = rand_u8_quant(rng, k, fits);
    p.input_zero_point = q.in_zp;
    p.output_zero_point = q.out_zp;
    p.requant = q.requant;
    p.act = q.act;
    const auto x = rand_u8(rng, int64_t{p.batch} * k), w = rand_u8(rng, int64_t{p.out_features} * k);
    const auto bias = rand_bias(rng, p.out_features, 1 << 15);
    const int32_t* b = k % 5 == 0 ? nullptr : bias.data();
    std::vector<uint8_t> want(static_cast<size_t>(p.batch) * p.out_features);
    ref::fully_connected_uint8(p, q.w_zp, x.data(), w.data(), b, want.data());
    const auto xi = flipped(x);
    for (Isa isa : simd_isas()) {
      const PackedFullyConnectedInt8 pf = pack_fully_connected_uint8(isa, p, q.w_zp, w.data(), b);
      bool all_fit = true;
      for (uint8_t v : w) all_fit = all_fit && int{v} - q.w_zp >= -128 && int{v} - q.w_zp <= 127;
      EXPECT_EQ(pf.gemm.weight_bytes, all_fit ? 1 : 2) << isa_name(isa) << " k " << k;
      Scratch scratch(pf.scratch_bytes);
      Guarded out(want.size());
      fully_connected_int8(pf, p.batch, xi.data(), out.data(), scratch.data());
      ASSERT_TRUE(out.guards_intact() && scratch.guard_intact()) << isa_name(isa) << " k " << k;
      ASSERT_EQ(flipped(out.body()), want) << isa_name(isa) << " k " << k << " zw " << q.w_zp;
    }
  }
}

TEST(UInt8X86, ReferenceIsaIsRefused) {
  ref::FullyConnectedInt8Params p;
  p.in_features = 3;
  p.out_features = 2;
  p.requant = {ref::quantize_multiplier(0.5)};
  p.act = {0, 255};
  const std::vector<uint8_t> w(6, 7);
  EXPECT_THROW(pack_fully_connected_uint8(Isa::kReference, p, 3, w.data(), nullptr), Error);
}

}  // namespace
}  // namespace qlite::kernels::test
