// Packed int8 convolution and fully connected (depthwise: depthwise_x86_test.cpp) against
// the reference kernels: exact bytes on random awkward shapes, for every ISA
// this CPU runs, with guard bytes around the output and the scratch.
#include "x86_test_util.h"

namespace qlite::kernels::test {
namespace {

struct ConvCase {
  ref::ConvInt8Params p;
  std::vector<int8_t> input, weights;
  std::vector<int32_t> bias;
  bool with_bias = true;
};

ConvCase rand_conv(Rng& rng, int max_kernel) {
  ConvCase c;
  const int in_c = rand_channels(rng), out_c = rand_channels(rng);
  c.p.g = rand_geometry(rng, in_c, out_c, max_kernel, true);
  const int k = c.p.g.kernel_h * c.p.g.kernel_w * in_c;
  const Quant q = rand_quant(rng, out_c, k);
  c.p.input_zero_point = q.in_zp;
  c.p.output_zero_point = q.out_zp;
  c.p.requant = q.requant;
  c.p.act = q.act;
  c.input = rand_i8(rng, int64_t{c.p.g.batch} * c.p.g.in_h * c.p.g.in_w * in_c);
  c.weights = rand_i8(rng, int64_t{out_c} * k);
  c.with_bias = rng.below(5) != 0;
  c.bias = rand_bias(rng, out_c, 1 << 16);
  return c;
}

// Whole batch through the packed kernel, and once more as random row bands.
void check_conv(Isa isa, const ConvCase& c) {
  const ref::WindowGeometry& g = c.p.g;
  const int32_t* bias = c.with_bias ? c.bias.data() : nullptr;
  const int64_t out_n = int64_t{g.batch} * g.out_h * g.out_w * g.out_c;
  std::vector<int8_t> want(static_cast<size_t>(out_n));
  ref::conv2d_int8(c.p, c.input.data(), c.weights.data(), bias, want.data());
  const PackedConvInt8 pc = pack_conv2d_int8(isa, c.p, c.weights.data(), bias);
  Scratch scratch(pc.scratch_bytes);
  Guarded out(static_cast<size_t>(out_n));
  conv2d_int8(pc, g.batch, c.input.data(), out.data(), scratch.data());
  ASSERT_TRUE(out.guards_intact()) << isa_name(isa) << " " << geom_str(g);
  ASSERT_TRUE(scratch.guard_intact()) << isa_name(isa) << " " << geom_str(g);
  ASSERT_EQ(out.body(), want) << isa_name(isa) << " " << geom_str(g) << (pc.im2col ? " im2col" : " direct");
  // Bands of rows of the last image.
  const int64_t in_img = int64_t{g.in_h} * g.in_w * g.in_c, out_img = int64_t{g.out_h} * g.out_w * g.out_c;
  Guarded band(static_cast<size_t>(out_img));
  const int split = g.out_h / 2;
  conv2d_int8_rows(pc, c.input.data() + (g.batch - 1) * in_img, band.data(), split, g.out_h, scratch.data());
  conv2d_int8_rows(pc, c.input.data() + (g.batch - 1) * in_img, band.data(), 0, split, scratch.data());
  ASSERT_TRUE(band.guards_intact());
  ASSERT_EQ(band.body(), std::vector<int8_t>(want.end() - out_img, want.end())) << isa_name(isa) << " bands";
}

TEST(ConvX86, RandomAwkwardShapes) {
  Rng rng(10);
  for (int rep = 0; rep < 250; ++rep) {
    const ConvCase c = rand_conv(rng, rep % 5 == 0 ? 5 : 3);
    for (Isa isa : runnable_isas()) {
      check_conv(isa, c);
      if (HasFatalFailure()) return;
    }
  }
}

TEST(ConvX86, SeedAndLargeShapes) {
  Rng rng(11);
  struct S { int h, w, cin, cout, k; Padding pad; };
  for (S s : {S{28, 28, 1, 12, 3, Padding::kValid}, S{20, 20, 64, 64, 3, Padding::kSame},
              S{9, 9, 3, 32, 3, Padding::kSame}, S{6, 7, 130, 5, 1, Padding::kValid}}) {
    ConvCase c = rand_conv(rng, 3);
    ref::WindowGeometry& g = c.p.g;
    g = {};
    g.in_h = s.h; g.in_w = s.w; g.in_c = s.cin; g.out_c = s.cout; g.kernel_h = g.kernel_w = s.k;
    ref::apply_padding(g, s.pad);
    const Quant q = rand_quant(rng, s.cout, s.k * s.k * s.cin);
    c.p.requant = q.requant;
    c.p.act = q.act;
    c.p.output_zero_point = q.out_zp;
    c.input = rand_i8(rng, int64_t{s.h} * s.w * s.cin);
    c.weights = rand_i8(rng, int64_t{s.cout} * s.k * s.k * s.cin);
    c.bias = rand_bias(rng, s.cout, 1 << 16);
    for (Isa isa : runnable_isas()) {
      check_conv(isa, c);
      if (HasFatalFailure()) return;
    }
  }
}

// 1x1 stride-1 convolutions run a whole row band as one GEMM run whose tiles
// span row ends: MobileNet's pointwise shapes and ragged ones (widths that
// leave every remainder of a 6-pixel tile, channel counts around the blocks),
// batches of 1..3, SAME and VALID (equal for 1x1), whole and in bands.
TEST(ConvX86, PointwiseTilesSpanRowEnds) {
  Rng rng(12);
  struct S { int h, w, cin, cout; };
  std::vector<S> shapes = {S{7, 7, 32, 64}, S{14, 14, 16, 32}, S{14, 14, 64, 64}, S{28, 28, 24, 144}};
  for (int i = 0; i < 24; ++i)
    shapes.push_back(S{pick(rng, 1, 9), pick(rng, 1, 13), rand_channels(rng), rand_channels(rng)});
  for (S s : shapes) {
    ConvCase c = rand_conv(rng, 1);
    ref::WindowGeometry& g = c.p.g;
    g = {};
    g.batch = pick(rng, 1, 3);
    g.in_h = s.h; g.in_w = s.w; g.in_c = s.cin; g.out_c = s.cout; g.kernel_h = g.kernel_w = 1;
    ref::apply_padding(g, rng.below(2) ? Padding::kSame : Padding::kValid);
    const Quant q = rand_quant(rng, s.cout, s.cin);
    c.p.requant = q.requant;
    c.p.act = q.act;
    c.p.input_zero_point = q.in_zp;
    c.p.output_zero_point = q.out_zp;
    c.input = rand_i8(rng, int64_t{g.batch} * s.h * s.w * s.cin);
    c.weights = rand_i8(rng, int64_t{s.cout} * s.cin);
    c.bias = rand_bias(rng, s.cout, 1 << 16);
    for (Isa isa : runnable_isas()) {
      check_conv(isa, c);
      if (HasFatalFailure()) return;
    }
  }
}

TEST(FullyConnectedX86, EveryKFrom1To130) {
  Rng rng(12);
  for (int k = 1; k <= 130; ++k) {
    qlite::ref::FullyConnectedInt8Params p;
    p.batch = pick(rng, 1, 4) + (k % 7 == 0 ? 9 : 0);
    p.in_features = k;
    p.out_features = rand_channels(rng);
    const Quant q = rand_quant(rng, p.out_features, k);
    p.input_zero_point = q.in_zp;
    p.output_zero_point = q.out_zp;
    p.requant = q.requant;
    p.act = q.act;
    const auto x = rand_i8(rng, int64_t{p.batch} * k), w = rand_i8(rng, int64_t{p.out_features} * k);
    const auto bias = rand_bias(rng, p.out_features, 1 << 15);
    const int32_t* b = k % 5 == 0 ? nullptr : bias.data();
    std::vector<int8_t> want(static_cast<size_t>(p.batch) * p.out_features);
    ref::fully_connected_int8(p, x.data(), w.data(), b, want.data());
    for (Isa isa : runnable_isas()) {
      const PackedFullyConnectedInt8 pf = pack_fully_connected_int8(isa, p, w.data(), b);
      Scratch scratch(pf.scratch_bytes);
      Guarded out(want.size());
      fully_connected_int8(pf, p.batch, x.data(), out.data(), scratch.data());
      ASSERT_TRUE(out.guards_intact() && scratch.guard_intact()) << isa_name(isa) << " k " << k;
      ASSERT_EQ(out.body(), want) << isa_name(isa) << " k " << k << " out " << p.out_features;
    }
  }
}

// The small path (few rows, a dot of at most 64, at most two blocks of
// outputs: TFLite Micro's hello_world is 1-16-16-1) on every shape around its
// bounds, through the public entry point and through the function
// fully_connected_int8_fn resolves (what the runtime calls every invoke).
TEST(FullyConnectedX86, SmallLayersEveryShapeAroundThePathsBounds) {
  Rng rng(14);
  for (int k = 1; k <= 66; ++k)
    for (int n : {1, 2, 7, 8, 9, 15, 16, 17, 24, 31, 32, 33, 48}) {
      qlite::ref::FullyConnectedInt8Params p;
      p.batch = 1 + (k + n) % 7;  // 1..7 rows: below and above every ISA's tile height
      p.in_features = k;
      p.out_features = n;
      const Quant q = rand_quant(rng, n, k);
      p.input_zero_point = q.in_zp;
      p.output_zero_point = q.out_zp;
      p.requant = q.requant;
      p.act = q.act;
      const auto x = rand_i8(rng, int64_t{p.batch} * k), w = rand_i8(rng, int64_t{n} * k);
      const auto bias = rand_bias(rng, n, 1 << 15);
      const int32_t* b = (k + n) % 4 == 0 ? nullptr : bias.data();
      std::vector<int8_t> want(static_cast<size_t>(p.batch) * n);
      ref::fully_connected_int8(p, x.data(), w.data(), b, want.data());
      for (Isa isa : runnable_isas()) {
        const PackedFullyConnectedInt8 pf = pack_fully_connected_int8(isa, p, w.data(), b);
        Scratch scratch(pf.scratch_bytes);
        for (int rows = 1; rows <= p.batch; rows += p.batch - 1) {  // the first row alone, then all
          Guarded out(static_cast<size_t>(rows) * n), direct(static_cast<size_t>(rows) * n);
          fully_connected_int8(pf, rows, x.data(), out.data(), scratch.data());
          fully_connected_int8_fn(pf)(pf, rows, x.data(), direct.data(), scratch.data());
          ASSERT_TRUE(out.guards_intact() && direct.guards_intact() && scratch.guard_intact())
              << isa_name(isa) << " k " << k << " n " << n << " rows " << rows;
          const std::vector<int8_t> head(want.begin(), want.begin() + static_cast<int64_t>(rows) * n);
          ASSERT_EQ(out.body(), head) << isa_name(isa) << " k " << k << " n " << n << " rows " << rows;
          ASSERT_EQ(direct.body(), head) << isa_name(isa) << " k " << k << " n " << n << " rows " << rows;
          if (p.batch == 1) break;
        }
      }
    }
}

TEST(FullyConnectedX86, SeedShapesBatch1And300) {
  Rng rng(13);
  for (int batch : {1, 300}) {
    qlite::ref::FullyConnectedInt8Params p;
    p.batch = batch;
    p.in_features = 2028;
    p.out_features = 10;
    const Quant q = rand_quant(rng, 10, 2028);
    p.input_zero_point = q.in_zp;
    p.output_zero_point = q.out_zp;
    p.requant = q.requant;
    p.act = q.act;
    const auto x = rand_i8(rng, int64_t{batch} * 2028), w = rand_i8(rng, 10 * 2028);
    const auto bias = rand_bias(rng, 10, 1 << 16);
    std::vector<int8_t> want(static_cast<size_t>(batch) * 10);
    ref::fully_connected_int8(p, x.data(), w.data(), bias.data(), want.data());
    for (Isa isa : runnable_isas()) {
      const PackedFullyConnectedInt8 pf = pack_fully_connected_int8(isa, p, w.data(), bias.data());
      Scratch scratch(pf.scratch_bytes);
      Guarded out(want.size());
      fully_connected_int8(pf, batch, x.data(), out.data(), scratch.data());
      ASSERT_TRUE(out.guards_intact() && scratch.guard_intact()) << isa_name(isa);
      ASSERT_EQ(out.body(), want) << isa_name(isa) << " batch " << batch;
    }
  }
}

// The small-output path (one block of channels, at most 8 dot groups: the
// seed conv) in each of its requantization forms: multipliers below 1/2 (the
// fast form), in [1/2, 1) (no right shift) and >= 1 (left shift), with every
// channel count 1..17, few input channels, strides and SAME/VALID padding.
TEST(ConvX86, SmallOutputPathEveryChannelCountAndMultiplierRange) {
  Rng rng(17);
  for (int n = 1; n <= 17; ++n)
    for (int form = 0; form < 3; ++form) {
      ConvCase c = rand_conv(rng, 3);
      ref::WindowGeometry& g = c.p.g;
      g = {};
      g.batch = 1 + static_cast<int>(rng.below(2));
      g.in_h = pick(rng, 3, 12);
      g.in_w = pick(rng, 3, 13);
      g.in_c = pick(rng, 1, 3);
      g.out_c = n;
      g.kernel_h = pick(rng, 1, 3);
      g.kernel_w = pick(rng, 1, 3);
      g.stride_h = pick(rng, 1, 2);
      g.stride_w = pick(rng, 1, 2);
      ref::apply_padding(g, rng.below(2) ? Padding::kSame : Padding::kValid);
      c.p.requant.clear();
      for (int o = 0; o < n; ++o) {
        const int32_t m0 = (1 << 30) + static_cast<int32_t>(rng.below(1 << 30));
        const int shift = form == 0 ? -pick(rng, 1, 12) : form == 1 ? 0 : pick(rng, 1, 3);
        c.p.requant.push_back({m0, shift});
      }
      c.p.input_zero_point = pick_of(rng, kZeroPoints);
      c.p.output_zero_point = pick_of(rng, kZeroPoints);
      c.p.act = ref::fused_activation_range(pick_of(rng, kActs), 0.05f, c.p.output_zero_point);
      const int k = g.kernel_h * g.kernel_w * g.in_c;
      c.input = rand_i8(rng, int64_t{g.batch} * g.in_h * g.in_w * g.in_c);
      c.weights = rand_i8(rng, int64_t{n} * k);
      // Small weights for the larger multipliers, so that outputs are not all saturated.
      if (form > 0)
        for (auto& w : c.weights) w = static_cast<int8_t>(w / 32);
      c.bias = rand_bias(rng, n, form == 0 ? 1 << 16 : 64);
      for (Isa isa : runnable_isas()) {
        check_conv(isa, c);
        if (HasFatalFailure()) return;
      }
    }
}

// The GEMM tiles (more than one block of output channels, or long dots)
// requantize in T's fast form when every channel allows it (half up, no left
// shift, right shift 1..20): channels at both ends of that range, one channel
// just outside it (the general form for the whole op), long dots whose
// accumulators are large, partial last blocks, every activation range.
TEST(ConvX86, GemmTilesFastRequantizationAtItsBounds) {
  Rng rng(19);
  struct S { int h, w, cin, cout, k, stride; };
  for (S s : {S{5, 7, 16, 96, 1, 1}, S{4, 5, 300, 33, 1, 1}, S{7, 6, 24, 17, 3, 2}, S{3, 3, 960, 40, 1, 1},
              S{6, 6, 8, 64, 3, 1}})
    for (int variant = 0; variant < 3; ++variant) {
      ConvCase c = rand_conv(rng, 3);
      ref::WindowGeometry& g = c.p.g;
      g = {};
      g.batch = 1 + variant % 2;
      g.in_h = s.h, g.in_w = s.w, g.in_c = s.cin, g.out_c = s.cout;
      g.kernel_h = g.kernel_w = s.k;
      g.stride_h = g.stride_w = s.stride;
      ref::apply_padding(g, Padding::kSame);
      c.p.requant.clear();
      for (int o = 0; o < s.cout; ++o) {
        const int32_t m0 = variant == 2 ? (1 << 30) : (1 << 30) + static_cast<int32_t>(rng.below(1 << 30));
        // right shift 1 or 20 (alternating), or 21 for one channel in variant 1.
        int right = o % 2 == 0 ? 1 : 20;
        if (variant == 1 && o == s.cout - 1) right = 21;
        c.p.requant.push_back({m0, -right});
      }
      c.p.input_zero_point = pick_of(rng, kZeroPoints);
      c.p.output_zero_point = pick_of(rng, kZeroPoints);
      c.p.act = ref::fused_activation_range(pick_of(rng, kActs), 0.05f, c.p.output_zero_point);
      const int k = g.kernel_h * g.kernel_w * g.in_c;
      c.input = rand_i8(rng, int64_t{g.batch} * g.in_h * g.in_w * g.in_c);
      c.weights = rand_i8(rng, int64_t{s.cout} * k);
      c.bias = rand_bias(rng, s.cout, 1 << 20);
      c.with_bias = true;
      for (Isa isa : runnable_isas()) {
        check_conv(isa, c);
        if (HasFatalFailure()) return;
      }
    }
}

// Multipliers 2^30 * 2^(shift - 31) make rounding ties common: the packed
// kernels must pick each op's form (conv and FC half up; depthwise in
// depthwise_x86_test.cpp) exactly as the reference does.
TEST(Int8X86, PowerOfTwoMultipliersHitTiesInEachOpsForm) {
  Rng rng(16);
  const int channels = 19;
  std::vector<ref::QuantizedMultiplier> rq;
  for (int c = 0; c < channels; ++c) rq.push_back({1 << 30, -pick(rng, 6, 10)});
  // Conv.
  ConvCase c = rand_conv(rng, 3);
  c.p.g = {};
  c.p.g.batch = 2, c.p.g.in_h = 9, c.p.g.in_w = 11, c.p.g.in_c = 5, c.p.g.out_c = channels;
  c.p.g.kernel_h = c.p.g.kernel_w = 3;
  ref::apply_padding(c.p.g, Padding::kSame);
  c.p.requant = rq;
  c.p.act = {-128, 127};
  c.p.output_zero_point = 0;
  c.input = rand_i8(rng, 2 * 9 * 11 * 5);
  c.weights = rand_i8(rng, int64_t{channels} * 9 * 5);
  c.bias = rand_bias(rng, channels, 1 << 8);
  c.with_bias = true;
  for (Isa isa : runnable_isas()) {
    check_conv(isa, c);
    if (HasFatalFailure()) return;
  }
  // Fully connected; the test counts the ties where the two forms differ.
  ref::FullyConnectedInt8Params p;
  p.batch = 40;
  p.in_features = 37;
  p.out_features = channels;
  p.input_zero_point = 3;
  p.requant = rq;
  const auto x = rand_i8(rng, int64_t{p.batch} * p.in_features), w = rand_i8(rng, int64_t{channels} * p.in_features);
  const auto bias = rand_bias(rng, channels, 1 << 8);
  int forms_differ = 0;
  for (int b = 0; b < p.batch; ++b)
    for (int o = 0; o < channels; ++o) {
      int32_t acc = bias[static_cast<size_t>(o)];
      for (int k = 0; k < p.in_features; ++k)
        acc += int32_t{w[static_cast<size_t>(o * p.in_features + k)]} * (x[static_cast<size_t>(b * p.in_features + k)] - 3);
      const auto& m = rq[static_cast<size_t>(o)];
      forms_differ += ref::multiply_by_quantized_multiplier_half_up(acc, m) != ref::multiply_by_quantized_multiplier(acc, m);
    }
  EXPECT_GT(forms_differ, 0);
  std::vector<int8_t> want(static_cast<size_t>(p.batch) * channels);
  ref::fully_connected_int8(p, x.data(), w.data(), bias.data(), want.data());
  for (Isa isa : runnable_isas()) {
    const PackedFullyConnectedInt8 pf = pack_fully_connected_int8(isa, p, w.data(), bias.data());
    Scratch scratch(pf.scratch_bytes);
    Guarded out(want.size());
    fully_connected_int8(pf, p.batch, x.data(), out.data(), scratch.data());
    ASSERT_EQ(out.body(), want) << isa_name(isa);
  }
}

}  // namespace
}  // namespace qlite::kernels::test
