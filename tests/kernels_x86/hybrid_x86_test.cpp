// Optimized hybrid (float activations, int8 weights) fully connected and
// convolution against ref::fully_connected_hybrid / ref::conv2d_hybrid: the
// float outputs must be the same bits (memcmp), on random awkward shapes and
// on inputs built to hit every special case of the input quantization
// (all-zero rows, rounding ties, huge, infinite, NaN and subnormal values).
// Every ISA this CPU runs up to active_isa() is checked, so QLITE_ISA=avx2
// stands in for a machine without AVX-512.
#include <algorithm>
#include <cmath>
#include <limits>

#include "kernels/x86/hybrid_x86.h"
#include "x86_test_util.h"

namespace qlite::kernels::test {
namespace {


enum class Fill { kNormal, kPositive, kZero, kTies, kHuge, kSpecial, kTiny, kCount };

const char* fill_name(Fill f) {
  static const char* names[] = {"normal", "positive", "zero", "ties", "huge", "special", "tiny"};
  return names[static_cast<int>(f)];
}

// n values of one quantization row (a FC row or a whole image) of kind f.
void fill_row(Rng& rng, float* x, int64_t n, Fill f, bool asymmetric) {
  const float scale = std::pow(10.0f, rng.uniform(-3.0f, 3.0f));
  switch (f) {
    case Fill::kNormal:
      for (int64_t i = 0; i < n; ++i) x[i] = scale * rng.normal();
      break;
    case Fill::kPositive:
      for (int64_t i = 0; i < n; ++i) x[i] = rng.below(4) == 0 ? 0.0f : scale * rng.uniform();
      break;
    case Fill::kZero:
      for (int64_t i = 0; i < n; ++i) x[i] = rng.below(2) ? 0.0f : -0.0f;
      break;
    case Fill::kTies: {
      // A range that makes x * inv exact: symmetric range 127 * 2^e (inv = 2^-e);
      // asymmetric [-a, 255 - a] * 2^e (scale 2^e, integer zero point a - 128).
      // Half-integers times 2^e then land exactly on k + 0.5 after scaling.
      const float p2 = std::ldexp(1.0f, pick(rng, -10, 10));
      const int a = pick(rng, 0, 255);
      const int lo = asymmetric ? -a : -127, hi = asymmetric ? 255 - a : 127;
      for (int64_t i = 0; i < n; ++i) {
        const int k = pick(rng, lo, hi - 1);
        x[i] = p2 * (static_cast<float>(k) + (rng.below(4) == 0 ? 0.0f : 0.5f));
      }
      x[rng.below(static_cast<uint64_t>(n))] = p2 * static_cast<float>(hi);
      if (asymmetric) x[rng.below(static_cast<uint64_t>(n))] = p2 * static_cast<float>(lo);
      break;
    }
    case Fill::kHuge:
      for (int64_t i = 0; i < n; ++i) {
        const uint64_t r = rng.below(4);
        x[i] = r == 0   ? std::numeric_limits<float>::max() * (rng.below(2) ? 1.0f : -1.0f)
               : r == 1 ? std::ldexp(rng.normal(), pick(rng, 100, 127))
                        : scale * rng.normal();
      }
      break;
    case Fill::kSpecial: {
      for (int64_t i = 0; i < n; ++i) x[i] = scale * rng.normal();
      const float specials[] = {std::numeric_limits<float>::quiet_NaN(), std::numeric_limits<float>::infinity(),
                                -std::numeric_limits<float>::infinity()};
      const int count = pick(rng, 1, 3);
      for (int j = 0; j < count; ++j) {
        // Often at the start: std::minmax_element's result then depends most on where the NaN is.
        const uint64_t at = rng.below(3) == 0 ? rng.below(2) : rng.below(static_cast<uint64_t>(n));
        x[at] = pick_of(rng, specials);
      }
      break;
    }
    case Fill::kTiny:
      // Subnormal ranges: 127 / range overflows to infinity.
      for (int64_t i = 0; i < n; ++i) x[i] = rng.below(3) == 0 ? 0.0f : std::ldexp(rng.normal(), -140);
      break;
    case Fill::kCount: break;
  }
}

Fill rand_fill(Rng& rng) {
  // Mostly ordinary data, with every special kind well represented.
  return rng.below(3) == 0 ? Fill::kNormal : static_cast<Fill>(rng.below(static_cast<int>(Fill::kCount)));
}

std::vector<Isa> hybrid_isas() {
  std::vector<Isa> v;
  for (Isa i : {Isa::kReference, Isa::kAvx2, Isa::kAvx512})
    if (int8_isa_available(i) && static_cast<int>(i) <= static_cast<int>(active_isa())) v.push_back(i);
  return v;
}

void note_skipped() {
  for (Isa i : {Isa::kAvx2, Isa::kAvx512})
    if (!int8_isa_available(i) || static_cast<int>(i) > static_cast<int>(active_isa()))
      std::printf("[ SKIPPED  ] hybrid %s path: not available on this CPU or above QLITE_ISA\n", isa_name(i));
}

// A float output with NaN-patterned guards on both sides.
struct GuardedF {
  static constexpr size_t kGuard = 16;
  static constexpr uint32_t kSentinel = 0x7FC0BEEF;
  std::vector<uint32_t> buf;
  explicit GuardedF(size_t n) : buf(n + 2 * kGuard, kSentinel) {}
  float* data() { return reinterpret_cast<float*>(buf.data() + kGuard); }
  bool guards_intact() const {
    for (size_t i = 0; i < kGuard; ++i)
      if (buf[i] != kSentinel || buf[buf.size() - 1 - i] != kSentinel) return false;
    return true;
  }
  bool same_bits(const std::vector<float>& want) const {
    return std::memcmp(buf.data() + kGuard, want.data(), want.size() * sizeof(float)) == 0;
  }
};

std::vector<float> rand_bias_f(Rng& rng, int n) {
  std::vector<float> b(static_cast<size_t>(n));
  const float s = std::pow(10.0f, rng.uniform(-3.0f, 1.0f));
  for (auto& v : b) v = rng.below(8) == 0 ? (rng.below(2) ? 0.0f : -0.0f) : s * rng.normal();
  return b;
}

std::string first_diff(const float* got, const std::vector<float>& want) {
  for (size_t i = 0; i < want.size(); ++i)
    if (std::memcmp(&got[i], &want[i], sizeof(float)) != 0)
      return "first difference at " + std::to_string(i) + ": got " + std::to_string(got[i]) + " want " +
             std::to_string(want[i]);
  return "";
}

// ---- fully connected ---------------------------------------------------------

void check_fc(Rng& rng, int batch, int in, int out, const std::string& what) {
  ref::HybridFcParams p;
  p.batch = batch;
  p.in_features = in;
  p.out_features = out;
  p.weight_scale = std::ldexp(0.5f + rng.uniform(), -pick(rng, 3, 12));
  p.asymmetric_inputs = rng.below(2) != 0;
  p.act = pick_of(rng, kActs);
  const std::vector<int8_t> w = rand_i8(rng, int64_t{in} * out);
  const bool with_bias = rng.below(4) != 0;
  const std::vector<float> bias = rand_bias_f(rng, out);
  std::vector<float> x(static_cast<size_t>(batch) * in);
  std::string fills;
  for (int b = 0; b < batch; ++b) {
    const Fill f = rand_fill(rng);
    fills += std::string(fill_name(f)) + " ";
    fill_row(rng, x.data() + int64_t{b} * in, in, f, p.asymmetric_inputs);
  }
  std::vector<int8_t> q(x.size());
  std::vector<float> sc(static_cast<size_t>(batch));
  std::vector<int32_t> off(static_cast<size_t>(batch));
  std::vector<float> want(static_cast<size_t>(batch) * out);
  // An asymmetric row holding +inf gives the reference a NaN zero point; it
  // may then report int32 overflow, and the optimized kernels must as well.
  bool ref_threw = false;
  try {
    ref::fully_connected_hybrid(p, x.data(), w.data(), with_bias ? bias.data() : nullptr,
                                {q.data(), sc.data(), off.data()}, want.data());
  } catch (const Error&) {
    ref_threw = true;
  }
  for (Isa isa : hybrid_isas()) {
    const PackedFcHybrid pf = pack_fully_connected_hybrid(isa, p, w.data());
    ASSERT_EQ(pf.isa, isa);
    Scratch scratch(pf.scratch_bytes);
    GuardedF got(want.size());
    const auto call = [&] {
      fully_connected_hybrid(pf, batch, x.data(), w.data(), with_bias ? bias.data() : nullptr, scratch.data(),
                             got.data());
    };
    if (ref_threw) {
      ASSERT_THROW(call(), Error) << isa_name(isa) << " " << what;
      continue;
    }
    call();
    const std::string ctx = std::string(isa_name(isa)) + " " + what + " batch " + std::to_string(batch) + " in " +
                            std::to_string(in) + " out " + std::to_string(out) +
                            (p.asymmetric_inputs ? " asymmetric" : " symmetric") + " rows: " + fills;
    ASSERT_TRUE(got.guards_intact()) << ctx;
    ASSERT_TRUE(scratch.guard_intact()) << ctx;
    ASSERT_TRUE(got.same_bits(want)) << ctx << first_diff(got.data(), want);
  }
}

TEST(HybridX86, FullyConnectedRandomShapesBitExact) {
  note_skipped();
  Rng rng(31);
  for (int rep = 0; rep < 300; ++rep) {
    const int in = rep % 4 == 0 ? pick(rng, 1, 3000) : rep % 4 == 1 ? pick(rng, 1, 40) : pick(rng, 60, 300);
    check_fc(rng, pick(rng, 1, 5), in, pick(rng, 1, 40), "rep " + std::to_string(rep));
    if (HasFatalFailure()) return;
  }
}

TEST(HybridX86, FullyConnectedManyRowsAcrossChunks) {
  Rng rng(32);
  for (int rep = 0; rep < 20; ++rep) {
    check_fc(rng, pick(rng, 6, 40), pick(rng, 1, 700), pick(rng, 1, 40), "rep " + std::to_string(rep));
    if (HasFatalFailure()) return;
  }
}

TEST(HybridX86, FullyConnectedSeedShape) {
  Rng rng(33);
  for (int rep = 0; rep < 10; ++rep) {
    check_fc(rng, rep < 5 ? 1 : 17, 2028, 10, "seed");
    if (HasFatalFailure()) return;
  }
}

// An asymmetric row (image) holding +inf gives the reference a NaN zero point.
// With zero-sum weights its sums stay in int32 and it returns values rather
// than throwing; the optimized kernels run such rows through the reference,
// among ordinary rows in several chunks.
TEST(HybridX86, InfiniteAsymmetricRowsMatchTheReference) {
  Rng rng(34);
  const int batch = 21, in = 203, out = 19;  // rows long enough for the reference to overwrite all the scratch slots
  std::vector<int8_t> w = rand_i8(rng, int64_t{in} * out);
  for (int o = 0; o < out; ++o) {
    int sum = 0;
    for (int i = 0; i + 1 < in; ++i) sum += w[static_cast<size_t>(o * in + i)];
    int8_t& last = w[static_cast<size_t>(o * in + in - 1)];
    last = static_cast<int8_t>(std::clamp(-sum, -128, 127));
    sum += last;
    for (int i = 0; sum != 0 && i + 1 < in; ++i) {  // spread what the last weight could not absorb
      int8_t& v = w[static_cast<size_t>(o * in + i)];
      const int nv = std::clamp(v - sum, -128, 127);
      sum += nv - v;
      v = static_cast<int8_t>(nv);
    }
    ASSERT_EQ(sum, 0);
  }
  std::vector<float> x(static_cast<size_t>(batch) * in);
  for (int b = 0; b < batch; ++b) fill_row(rng, x.data() + b * in, in, Fill::kNormal, true);
  for (int b : {0, 5, 9, 20}) x[static_cast<size_t>(b * in + b % in)] = std::numeric_limits<float>::infinity();
  const std::vector<float> bias = rand_bias_f(rng, out);
  const ref::HybridFcParams p{batch, in, out, 0.01f, true, Activation::kLinear};
  std::vector<int8_t> q(x.size());
  std::vector<float> sc(batch), want(static_cast<size_t>(batch) * out);
  std::vector<int32_t> off(batch);
  ref::fully_connected_hybrid(p, x.data(), w.data(), bias.data(), {q.data(), sc.data(), off.data()}, want.data());
  for (Isa isa : hybrid_isas()) {
    const PackedFcHybrid pf = pack_fully_connected_hybrid(isa, p, w.data());
    Scratch scratch(pf.scratch_bytes);
    GuardedF got(want.size());
    fully_connected_hybrid(pf, batch, x.data(), w.data(), bias.data(), scratch.data(), got.data());
    ASSERT_TRUE(got.guards_intact() && scratch.guard_intact()) << isa_name(isa);
    ASSERT_TRUE(got.same_bits(want)) << isa_name(isa) << " " << first_diff(got.data(), want);
  }
  // The same weights as a 1x1 convolution over a 3x7 image of 203 channels, one image with +inf.
  ref::WindowGeometry g;
  g.in_h = 3, g.in_w = 7, g.in_c = in, g.out_c = out;
  ref::apply_padding(g, Padding::kSame);
  std::vector<float> ws(static_cast<size_t>(out));
  for (auto& v : ws) v = 0.001f + 0.01f * rng.uniform();
  const ref::HybridConvParams hp = ref::make_hybrid_conv_params(g, ws, Activation::kRelu);
  ASSERT_TRUE(hp.per_channel);
  std::vector<float> img(static_cast<size_t>(g.in_h) * g.in_w * in);
  fill_row(rng, img.data(), static_cast<int64_t>(img.size()), Fill::kNormal, true);
  img[40] = std::numeric_limits<float>::infinity();
  std::vector<float> want_c(static_cast<size_t>(g.out_h) * g.out_w * out);
  ref::conv2d_hybrid(hp, img.data(), w.data(), bias.data(), {q.data(), sc.data(), off.data()}, want_c.data());
  for (Isa isa : hybrid_isas()) {
    const PackedConvHybrid pc = pack_conv2d_hybrid(isa, hp, w.data());
    Scratch scratch(pc.scratch_bytes);
    GuardedF got(want_c.size());
    conv2d_hybrid(pc, img.data(), w.data(), bias.data(), scratch.data(), got.data());
    ASSERT_TRUE(got.guards_intact() && scratch.guard_intact()) << isa_name(isa);
    ASSERT_TRUE(got.same_bits(want_c)) << isa_name(isa) << " " << first_diff(got.data(), want_c);
  }
}

// The reference throws when an int32 accumulator can overflow; a dot long
// enough that it might keeps the reference path, so behaviour stays identical.
TEST(HybridX86, LongDotsKeepTheReference) {
  const int in = 70000;
  const std::vector<int8_t> w(static_cast<size_t>(in), -128);
  for (Isa isa : hybrid_isas()) {
    const PackedFcHybrid pf = pack_fully_connected_hybrid(isa, {1, in, 1, 1.0f, true, Activation::kLinear}, w.data());
    EXPECT_EQ(pf.isa, Isa::kReference) << isa_name(isa);
    // Asymmetric, all -1: zero point 127, q = -128, so the sum is -128 * -255 * 70000 > 2^31.
    const std::vector<float> x(static_cast<size_t>(in), -1.0f);
    Scratch scratch(pf.scratch_bytes);
    float y = 0.0f;
    EXPECT_THROW(fully_connected_hybrid(pf, 1, x.data(), w.data(), nullptr, scratch.data(), &y), Error);
  }
}

// ---- convolution ---------------------------------------------------------------

TEST(HybridX86, ConvRandomShapesBitExact) {
  note_skipped();
  Rng rng(41);
  int tested = 0;
  while (tested < 300) {
    const int in_c = rng.below(5) == 0 ? pick(rng, 33, 70) : pick(rng, 1, 20);
    const int out_c = rng.below(5) == 0 ? pick(rng, 33, 70) : pick(rng, 1, 20);
    ref::WindowGeometry g = rand_geometry(rng, in_c, out_c, 5, true);
    if (rng.below(6) == 0) {
      g.dilation_h = pick(rng, 1, 3);
      g.dilation_w = pick(rng, 1, 3);
      const Padding pad = rng.below(2) ? Padding::kSame : Padding::kValid;
      if (pad == Padding::kValid && ((g.kernel_h - 1) * g.dilation_h + 1 > g.in_h ||
                                          (g.kernel_w - 1) * g.dilation_w + 1 > g.in_w))
        continue;
      ref::apply_padding(g, pad);
    }
    g.batch = pick(rng, 1, 5);
    const int64_t macs = int64_t{g.batch} * g.out_h * g.out_w * g.out_c * g.kernel_h * g.kernel_w * in_c;
    if (macs > 4'000'000) continue;  // keep the reference fast
    ++tested;
    const bool per_channel = rng.below(2) != 0;
    std::vector<float> ws;
    const int nscales = per_channel || rng.below(2) ? out_c : 1;
    const float base = std::ldexp(0.5f + rng.uniform(), -pick(rng, 3, 12));
    for (int c = 0; c < nscales; ++c) ws.push_back(per_channel ? std::ldexp(0.5f + rng.uniform(), -pick(rng, 3, 12)) : base);
    const ref::HybridConvParams hp = ref::make_hybrid_conv_params(g, ws, pick_of(rng, kActs));
    const int64_t k = int64_t{g.kernel_h} * g.kernel_w * in_c;
    const std::vector<int8_t> w = rand_i8(rng, k * out_c);
    const bool with_bias = rng.below(4) != 0;
    const std::vector<float> bias = rand_bias_f(rng, out_c);
    const int64_t in_img = int64_t{g.in_h} * g.in_w * in_c, out_img = int64_t{g.out_h} * g.out_w * out_c;
    std::vector<float> x(static_cast<size_t>(g.batch * in_img));
    std::string fills;
    for (int b = 0; b < g.batch; ++b) {
      const Fill f = rand_fill(rng);
      fills += std::string(fill_name(f)) + " ";
      fill_row(rng, x.data() + b * in_img, in_img, f, hp.per_channel);
    }
    std::vector<int8_t> q(x.size());
    std::vector<float> sc(static_cast<size_t>(g.batch));
    std::vector<int32_t> off(static_cast<size_t>(g.batch));
    std::vector<float> want(static_cast<size_t>(g.batch * out_img));
    bool ref_threw = false;  // see check_fc
    try {
      ref::conv2d_hybrid(hp, x.data(), w.data(), with_bias ? bias.data() : nullptr, {q.data(), sc.data(), off.data()},
                         want.data());
    } catch (const Error&) {
      ref_threw = true;
    }
    ref::HybridConvParams one = hp;
    one.g.batch = 1;
    for (Isa isa : hybrid_isas()) {
      const PackedConvHybrid pc = pack_conv2d_hybrid(isa, one, w.data());
      Scratch scratch(pc.scratch_bytes);
      GuardedF got(want.size());
      const auto call = [&] {
        for (int b = 0; b < g.batch; ++b)
          conv2d_hybrid(pc, x.data() + b * in_img, w.data(), with_bias ? bias.data() : nullptr, scratch.data(),
                        got.data() + b * out_img);
      };
      if (ref_threw) {
        ASSERT_THROW(call(), Error) << isa_name(isa) << " " << geom_str(g);
        continue;
      }
      call();
      const std::string ctx = std::string(isa_name(isa)) + " " + geom_str(g) +
                              (hp.per_channel ? " per-channel" : " per-tensor") + (with_bias ? " bias" : "") +
                              " images: " + fills;
      ASSERT_TRUE(got.guards_intact()) << ctx;
      ASSERT_TRUE(scratch.guard_intact()) << ctx;
      ASSERT_TRUE(got.same_bits(want)) << ctx << " " << first_diff(got.data(), want);
    }
  }
}

}  // namespace
}  // namespace qlite::kernels::test
