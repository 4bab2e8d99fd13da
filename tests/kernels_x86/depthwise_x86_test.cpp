// Packed int8 depthwise convolution against the reference kernel: exact bytes
// on random awkward shapes (ragged channel blocks, kernels 1..5 and a few
// wider up to 16, any padding, strides, dilations, depth multipliers 1, 2, 3,
// 5 and 8, zero points),
// as whole batches and as row bands the way threads split an image, for every
// ISA this CPU runs, with guard bytes around the output and the scratch.
#include "x86_test_util.h"

namespace qlite::kernels::test {
namespace {

struct DwCase {
  ref::DepthwiseInt8Params p;
  std::vector<int8_t> x, w;
  std::vector<int32_t> bias;
  bool with_bias = true;
};

std::string case_str(const DwCase& c) {
  return geom_str(c.p.g) + " dm " + std::to_string(c.p.depth_multiplier) + " zp " +
         std::to_string(c.p.input_zero_point) + "/" + std::to_string(c.p.output_zero_point);
}

// Channel counts around the 16- and 64-channel blocks of the SIMD paths.
int dw_channels(Rng& rng) {
  switch (rng.below(4)) {
    case 0: return pick(rng, 1, 20);
    case 1: return pick(rng, 60, 70);
    case 2: return pick(rng, 120, 130);
    default: return pick(rng, 1, 130);
  }
}

// Any padding, not only SAME / VALID: pads and output sizes drawn freely, so
// that windows may hang over every border, and even lie wholly in padding.
ref::WindowGeometry free_geometry(Rng& rng, int in_c, int out_c, int max_kernel) {
  ref::WindowGeometry g;
  g.batch = rng.below(4) == 0 ? pick(rng, 2, 3) : 1;
  g.in_h = pick(rng, 1, 12);
  g.in_w = pick(rng, 1, 23);
  g.in_c = in_c;
  g.out_c = out_c;
  g.kernel_h = pick(rng, 1, max_kernel);
  g.kernel_w = pick(rng, 1, max_kernel);
  g.stride_h = pick(rng, 1, 3);
  g.stride_w = pick(rng, 1, 3);
  if (rng.below(3) == 0) {
    g.dilation_h = pick(rng, 1, 2);
    g.dilation_w = pick(rng, 1, 2);
  }
  const int eff_h = (g.kernel_h - 1) * g.dilation_h + 1, eff_w = (g.kernel_w - 1) * g.dilation_w + 1;
  g.pad_top = pick(rng, 0, eff_h);
  g.pad_left = pick(rng, 0, eff_w);
  const int pad_bottom = pick(rng, 0, eff_h), pad_right = pick(rng, 0, eff_w);
  g.out_h = std::max(1, (g.in_h + g.pad_top + pad_bottom - eff_h) / g.stride_h + 1);
  g.out_w = std::max(1, (g.in_w + g.pad_left + pad_right - eff_w) / g.stride_w + 1);
  return g;
}

DwCase make_case(Rng& rng, const ref::WindowGeometry& g, int dm) {
  DwCase c;
  c.p.g = g;
  c.p.depth_multiplier = dm;
  const int k = g.kernel_h * g.kernel_w;
  const Quant q = rand_quant(rng, g.out_c, k);
  c.p.input_zero_point = q.in_zp;
  c.p.output_zero_point = q.out_zp;
  c.p.requant = q.requant;
  c.p.act = q.act;
  c.x = rand_i8(rng, int64_t{g.batch} * g.in_h * g.in_w * g.in_c);
  c.w = rand_i8(rng, int64_t{k} * g.out_c);
  c.bias = rand_bias(rng, g.out_c, 1 << 14);
  c.with_bias = rng.below(6) != 0;
  return c;
}

// Whole batch, then the first image as 1..4 random row bands computed out of
// order with the same (dirty) scratch, as threads would.
void check_dw(Rng& rng, Isa isa, const DwCase& c) {
  const ref::WindowGeometry& g = c.p.g;
  const int32_t* bias = c.with_bias ? c.bias.data() : nullptr;
  std::vector<int8_t> want(static_cast<size_t>(g.batch) * g.out_h * g.out_w * g.out_c);
  ref::depthwise_conv2d_int8(c.p, c.x.data(), c.w.data(), bias, want.data());
  const PackedDepthwiseInt8 pd = pack_depthwise_conv2d_int8(isa, c.p, c.w.data(), bias);
  Scratch scratch(pd.scratch_bytes);
  Guarded out(want.size());
  depthwise_conv2d_int8(pd, g.batch, c.x.data(), out.data(), scratch.data());
  ASSERT_TRUE(out.guards_intact() && scratch.guard_intact()) << isa_name(isa) << " " << case_str(c);
  ASSERT_EQ(out.body(), want) << isa_name(isa) << " " << case_str(c);
  const int64_t out_img = int64_t{g.out_h} * g.out_w * g.out_c;
  std::vector<int> cuts = {0, g.out_h};
  for (int i = pick(rng, 0, 3); i > 0; --i) cuts.push_back(pick(rng, 0, g.out_h));
  std::sort(cuts.begin(), cuts.end());
  Guarded band(static_cast<size_t>(out_img));
  for (size_t i = cuts.size() - 1; i > 0; --i)
    depthwise_conv2d_int8_rows(pd, c.x.data(), band.data(), cuts[i - 1], cuts[i], scratch.data());
  ASSERT_TRUE(band.guards_intact() && scratch.guard_intact()) << isa_name(isa) << " bands " << case_str(c);
  ASSERT_EQ(band.body(), std::vector<int8_t>(want.begin(), want.begin() + out_img))
      << isa_name(isa) << " bands " << case_str(c);
}

TEST(DepthwiseX86, RandomAwkwardShapes) {
  Rng rng(14);
  for (int rep = 0; rep < 400; ++rep) {
    const int in_c = dw_channels(rng);
    const int dm = rng.below(8) == 0 ? pick(rng, 2, 3) : 1;
    const DwCase c = make_case(rng, free_geometry(rng, in_c, in_c * dm, rep % 3 == 0 ? 5 : 3), dm);
    for (Isa isa : runnable_isas()) {
      check_dw(rng, isa, c);
      if (HasFatalFailure()) return;
    }
  }
}

TEST(DepthwiseX86, SameAndValidPaddingWithWideKernels) {
  Rng rng(17);
  for (int rep = 0; rep < 60; ++rep) {
    const int c = dw_channels(rng);
    ref::WindowGeometry g = rand_geometry(rng, c, c, 9, true);  // 2 and 3 tap groups per row too
    const DwCase dc = make_case(rng, g, 1);
    for (Isa isa : runnable_isas()) {
      check_dw(rng, isa, dc);
      if (HasFatalFailure()) return;
    }
  }
}

// Kernels wider than kMaxDwKernel take the reference path on every ISA.
TEST(DepthwiseX86, KernelsBeyondTheSimdLimitFallBack) {
  Rng rng(18);
  ref::WindowGeometry g;
  g.in_h = 5, g.in_w = kMaxDwKernel + 3, g.in_c = g.out_c = 7;
  g.kernel_h = 2, g.kernel_w = kMaxDwKernel + 1;
  ref::apply_padding(g, Padding::kSame);
  const DwCase c = make_case(rng, g, 1);
  for (Isa isa : runnable_isas()) {
    EXPECT_EQ(pack_depthwise_conv2d_int8(isa, c.p, c.w.data(), c.bias.data()).isa, Isa::kReference);
    check_dw(rng, isa, c);
  }
}

// Depth multipliers > 1 run the SIMD kernels on channel-repeated rows:
// multipliers 2 and 8 (and 3, 5 for ragged blocks) with 3x3, 5x5 and 10x8
// kernels, SAME and VALID, strides 1 and 2, batches of 1..3.
TEST(DepthwiseX86, DepthMultipliersAndLargeKernels) {
  Rng rng(20);
  const int kernels[][2] = {{3, 3}, {5, 5}, {10, 8}, {8, 10}, {1, 1}, {16, 16}};
  for (int rep = 0; rep < 72; ++rep) {
    const int dm = std::vector<int>{2, 8, 3, 5}[static_cast<size_t>(rep % 4)];
    const int in_c = rep % 3 == 0 ? 1 : pick(rng, 1, 40);
    ref::WindowGeometry g;
    g.batch = pick(rng, 1, 3);
    g.in_c = in_c;
    g.out_c = in_c * dm;
    g.kernel_h = kernels[rep % 6][0];
    g.kernel_w = kernels[rep % 6][1];
    g.stride_h = pick(rng, 1, 2);
    g.stride_w = pick(rng, 1, 2);
    g.in_h = pick(rng, g.kernel_h, g.kernel_h + 12);
    g.in_w = pick(rng, g.kernel_w, g.kernel_w + 12);
    ref::apply_padding(g, rng.below(2) ? Padding::kSame : Padding::kValid);
    const DwCase c = make_case(rng, g, dm);
    for (Isa isa : runnable_isas()) {
      if (isa != Isa::kReference) {
        EXPECT_NE(pack_depthwise_conv2d_int8(isa, c.p, c.w.data(), c.bias.data()).isa, Isa::kReference);
      }
      check_dw(rng, isa, c);
      if (HasFatalFailure()) return;
    }
  }
}

// micro_speech_quantized.tflite's layer: 49x40x1 input, multiplier 8, 10x8
// kernel, stride 2, SAME.
TEST(DepthwiseX86, MicroSpeechLayer) {
  Rng rng(21);
  ref::WindowGeometry g;
  g.in_h = 49, g.in_w = 40, g.in_c = 1, g.out_c = 8;
  g.kernel_h = 10, g.kernel_w = 8;
  g.stride_h = g.stride_w = 2;
  ref::apply_padding(g, Padding::kSame);
  const DwCase c = make_case(rng, g, 8);
  for (Isa isa : runnable_isas()) {
    check_dw(rng, isa, c);
    if (HasFatalFailure()) return;
  }
}

TEST(DepthwiseX86, MobileNetShapes) {
  Rng rng(15);
  struct Shape {
    int hw, c, stride;
  };
  for (const Shape s : {Shape{56, 64, 1}, Shape{112, 32, 1}, Shape{28, 256, 2}, Shape{7, 1024, 1}}) {
    ref::WindowGeometry g;
    g.in_h = g.in_w = s.hw;
    g.in_c = g.out_c = s.c;
    g.kernel_h = g.kernel_w = 3;
    g.stride_h = g.stride_w = s.stride;
    ref::apply_padding(g, Padding::kSame);
    const DwCase c = make_case(rng, g, 1);
    for (Isa isa : runnable_isas()) {
      check_dw(rng, isa, c);
      if (HasFatalFailure()) return;
    }
  }
}

// Multipliers 2^30 * 2^(shift - 31) make rounding ties common: depthwise must
// use double rounding exactly as the reference does (the test counts the ties
// where double rounding and round-half-up differ, so it cannot pass vacuously).
TEST(DepthwiseX86, PowerOfTwoMultipliersHitDoubleRoundingTies) {
  Rng rng(16);
  const int channels = 19;
  DwCase c;
  c.p.g.in_h = 12, c.p.g.in_w = 10, c.p.g.in_c = c.p.g.out_c = channels;
  c.p.g.kernel_h = c.p.g.kernel_w = 3;
  ref::apply_padding(c.p.g, Padding::kSame);
  c.p.input_zero_point = -5;
  for (int ch = 0; ch < channels; ++ch) c.p.requant.push_back({1 << 30, -pick(rng, 6, 10)});
  c.x = rand_i8(rng, 12 * 10 * channels);
  c.w = rand_i8(rng, 9 * channels);
  c.bias = rand_bias(rng, channels, 1 << 8);
  int forms_differ = 0;
  for (int y = 0; y < 12; ++y)
    for (int x = 0; x < 10; ++x)
      for (int ch = 0; ch < channels; ++ch) {
        int32_t acc = c.bias[static_cast<size_t>(ch)];
        for (int ky = 0; ky < 3; ++ky)
          for (int kx = 0; kx < 3; ++kx) {
            const int iy = y + ky - 1, ix = x + kx - 1;
            if (iy < 0 || iy >= 12 || ix < 0 || ix >= 10) continue;
            acc += c.w[static_cast<size_t>((ky * 3 + kx) * channels + ch)] *
                   (c.x[static_cast<size_t>((iy * 10 + ix) * channels + ch)] + 5);
          }
        const auto& m = c.p.requant[static_cast<size_t>(ch)];
        forms_differ += ref::multiply_by_quantized_multiplier_half_up(acc, m) != ref::multiply_by_quantized_multiplier(acc, m);
      }
  EXPECT_GT(forms_differ, 0);
  for (Isa isa : runnable_isas()) {
    check_dw(rng, isa, c);
    if (HasFatalFailure()) return;
  }
}

// Multipliers >= 1 (left shifts) and huge biases: results far outside int16,
// where the output stage's saturating packs must still clamp exactly.
TEST(DepthwiseX86, LeftShiftsAndSaturation) {
  Rng rng(19);
  for (int rep = 0; rep < 40; ++rep) {
    const int ch = dw_channels(rng);
    DwCase c = make_case(rng, free_geometry(rng, ch, ch, 3), 1);
    for (auto& m : c.p.requant) m.shift = rep % 2 == 0 ? pick(rng, 1, 6) : -pick(rng, 0, 2);
    c.bias = rand_bias(rng, ch, int64_t{1} << 24);
    for (Isa isa : runnable_isas()) {
      check_dw(rng, isa, c);
      if (HasFatalFailure()) return;
    }
  }
}

// The fast requantization (PackedDepthwiseInt8::fast_rq) at its edges: right
// shifts 0 and 31, multipliers 0, 2^30 and 2^31 - 1, output zero points
// -128 and 127, and biases from small to near the int32 limits, where the
// accumulator or intermediate ranges stop fitting and the pack must fall back
// to the general form. Both outcomes must occur (so neither passes
// vacuously) and every case must match the reference.
TEST(DepthwiseX86, FastRequantizationEdges) {
  Rng rng(23);
  int fast = 0, general = 0;
  const int32_t mults[] = {0, 1 << 30, (1 << 30) + 1, 0x7FFFFFFF, 1518500250};
  for (int rep = 0; rep < 60; ++rep) {
    const int ch = dw_channels(rng);
    DwCase c = make_case(rng, free_geometry(rng, ch, ch, 3), 1);
    for (auto& m : c.p.requant) {
      m.multiplier = mults[rng.below(5)];
      switch (rng.below(4)) {
        case 0: m.shift = 0; break;
        case 1: m.shift = -31; break;
        default: m.shift = -pick(rng, 1, 12);
      }
    }
    c.p.output_zero_point = rng.below(2) == 0 ? -128 : 127;
    c.p.input_zero_point = rng.below(2) == 0 ? -128 : 127;
    const int64_t spread = rep % 3 == 0 ? int64_t{1} << 8 : rep % 3 == 1 ? int64_t{1} << 24 : (int64_t{1} << 31) - 400000;
    c.bias = rand_bias(rng, ch, spread);
    c.with_bias = true;
    for (Isa isa : runnable_isas()) {
      if (isa == Isa::kReference) continue;
      const PackedDepthwiseInt8 pd = pack_depthwise_conv2d_int8(isa, c.p, c.w.data(), c.bias.data());
      (pd.fast_rq ? fast : general)++;
      check_dw(rng, isa, c);
      if (HasFatalFailure()) return;
    }
  }
  if (!runnable_isas().empty() && runnable_isas().back() != Isa::kReference) {
    EXPECT_GT(fast, 0);
    EXPECT_GT(general, 0);
  }
}

// Pixel pairs (AVX-512, at most 32 channels, kernel 3 x 1..3, stride_w and
// dilation_w 1): odd and even output widths, any padding, both requantization
// forms (left shifts force the general one); the AVX-512 pack must take the
// pairs, the others never.
TEST(DepthwiseX86, PixelPairs) {
  Rng rng(31);
  int pairs = 0;
  for (int rep = 0; rep < 40; ++rep) {
    const int ch = pick(rng, 1, 32);
    ref::WindowGeometry g = free_geometry(rng, ch, ch, 3);
    g.kernel_h = 3;
    g.kernel_w = pick(rng, 1, 3);
    g.stride_w = g.dilation_w = 1;
    g.pad_top = pick(rng, 0, 2 * g.dilation_h + 1);
    g.pad_left = pick(rng, 0, g.kernel_w);
    g.out_h = std::max(1, (g.in_h + g.pad_top + pick(rng, 0, 2) - 2 * g.dilation_h - 1) / g.stride_h + 1);
    g.out_w = pick(rng, 1, g.in_w + 2);
    DwCase c = make_case(rng, g, 1);
    if (rep % 4 == 3)
      for (auto& m : c.p.requant) m.shift = pick(rng, 1, 3);
    for (Isa isa : runnable_isas()) {
      const PackedDepthwiseInt8 pd = pack_depthwise_conv2d_int8(isa, c.p, c.w.data(), c.bias.data());
      EXPECT_EQ(pd.pairs, isa == Isa::kAvx512) << isa_name(isa) << " " << case_str(c);
      pairs += pd.pairs;
      check_dw(rng, isa, c);
      if (HasFatalFailure()) return;
    }
  }
  EXPECT_EQ(pairs, int8_isa_available(Isa::kAvx512) ? 40 : 0);
}

// A fused ReLU or ReLU6 (act.min = the output zero point) clamps every
// output whose accumulator is negative, where the fast form's a < thr step
// acts, so the pack drops the step (rq_thr_zero). Multipliers of 2^30 with
// right shifts put many accumulators on the double rounding's ties, where
// the step changes outputs when nothing clamps them: every case must match
// the reference with the clamp (step dropped) and without it (act.min -128
// or the zero point - 1: step kept unless the zero point is -128).
TEST(DepthwiseX86, ClampedNegativeOutputsDropTheThresholdStep) {
  Rng rng(37);
  int dropped = 0, kept = 0;
  for (int rep = 0; rep < 80; ++rep) {
    const int ch = dw_channels(rng);
    DwCase c = make_case(rng, free_geometry(rng, ch, ch, 3), 1);
    for (auto& m : c.p.requant) {
      m.multiplier = 1 << 30;
      m.shift = -pick(rng, 1, 8);
    }
    const bool relu = rep % 2 == 0;
    // Without the clamp: act.min -128, or one step below the zero point,
    // where the step still shows (a tie at -1/2 rounds to -1).
    const int32_t below = rep % 4 == 1 ? std::max(-128, c.p.output_zero_point - 1) : -128;
    c.p.act.min = relu ? c.p.output_zero_point : below;
    c.p.act.max = relu && rep % 4 == 0 ? std::min(127, c.p.output_zero_point + pick(rng, 0, 40)) : 127;
    for (Isa isa : runnable_isas()) {
      if (isa == Isa::kReference) continue;
      const PackedDepthwiseInt8 pd = pack_depthwise_conv2d_int8(isa, c.p, c.w.data(), c.with_bias ? c.bias.data() : nullptr);
      if (pd.fast_rq) {
        if (relu) {
          EXPECT_TRUE(pd.rq_thr_zero) << isa_name(isa) << " " << case_str(c);
        }
        (pd.rq_thr_zero ? dropped : kept)++;
      }
      check_dw(rng, isa, c);
      if (HasFatalFailure()) return;
    }
  }
  if (!runnable_isas().empty() && runnable_isas().back() != Isa::kReference) {
    EXPECT_GT(dropped, 0);
    EXPECT_GT(kept, 0);
  }
}

// Typical layers (right shifts, moderate biases) take the fast form.
TEST(DepthwiseX86, TypicalLayersTakeTheFastRequantization) {
  Rng rng(29);
  for (int rep = 0; rep < 10; ++rep) {
    const int ch = dw_channels(rng);
    DwCase c = make_case(rng, free_geometry(rng, ch, ch, 3), 1);
    for (auto& m : c.p.requant) m.shift = -pick(rng, 0, 10);
    for (Isa isa : runnable_isas()) {
      if (isa == Isa::kReference) continue;
      const PackedDepthwiseInt8 pd = pack_depthwise_conv2d_int8(isa, c.p, c.w.data(), c.bias.data());
      EXPECT_TRUE(pd.fast_rq) << isa_name(isa) << " " << case_str(c);
    }
  }
}

}  // namespace
}  // namespace qlite::kernels::test
