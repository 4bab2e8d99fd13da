// The 8-bit elementwise kernels (kernels/elementwise_x86.h) on every path this
// CPU runs, against the reference definitions: byte-table lookup (LOGISTIC,
// TANH, HARD_SWISH, LEAKY_RELU ... tables) and int8 / uint8 MUL, same-shape,
// scalar and row broadcasts, on awkward lengths around the 16-, 32- and
// 64-byte blocks, with guard bytes around every output.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <string>
#include <vector>

#include "kernels/elementwise_x86.h"
#include "kernels/reference/math_kernels.h"
#include "kernels/reference/resize_kernels.h"
#include "x86_test_util.h"

namespace qlite::kernels::test {
namespace {

constexpr int64_t kLengths[] = {1, 2, 7, 15, 16, 17, 31, 32, 33, 63, 64, 65, 127, 128, 129, 255, 256, 257, 1000, 4099};

std::vector<uint8_t> rand_u8(Rng& rng, int64_t n) {
  std::vector<uint8_t> v(static_cast<size_t>(n));
  for (auto& x : v) x = static_cast<uint8_t>(rng.below(256));
  return v;
}

// Output bytes with 64 sentinel bytes on both sides.
struct GuardedU8 {
  static constexpr size_t kGuard = 64;
  std::vector<uint8_t> buf;
  explicit GuardedU8(int64_t n) : buf(static_cast<size_t>(n) + 2 * kGuard, 0x5A) {}
  uint8_t* data() { return buf.data() + kGuard; }
  std::vector<uint8_t> body() const { return {buf.begin() + kGuard, buf.end() - static_cast<std::ptrdiff_t>(kGuard)}; }
  bool intact() const {
    for (size_t i = 0; i < kGuard; ++i)
      if (buf[i] != 0x5A || buf[buf.size() - 1 - i] != 0x5A) return false;
    return true;
  }
};

// ---- lookup ------------------------------------------------------------------

TEST(ElementwiseX86, LookupEveryByteEveryLength) {
  Rng rng(131);
  for (Isa isa : runnable_isas()) {
    for (int t = 0; t < 6; ++t) {
      ref::ByteTable table;
      for (auto& v : table.v) v = static_cast<uint8_t>(rng.below(256));
      // Every input byte, in order and shuffled, then random data of awkward lengths.
      std::vector<uint8_t> all(256);
      for (int i = 0; i < 256; ++i) all[static_cast<size_t>(i)] = static_cast<uint8_t>(i);
      std::vector<std::vector<uint8_t>> inputs = {all};
      rng.shuffle(all);
      inputs.push_back(all);
      for (int64_t n : kLengths) inputs.push_back(rand_u8(rng, n));
      for (const auto& in : inputs) {
        const auto n = static_cast<int64_t>(in.size());
        std::vector<uint8_t> want(in.size());
        ref::lookup_bytes(table, n, in.data(), want.data());
        GuardedU8 got(n);
        lookup_bytes(isa, table, n, in.data(), got.data());
        ASSERT_EQ(got.body(), want) << isa_name(isa) << " n " << n;
        ASSERT_TRUE(got.intact()) << isa_name(isa) << " n " << n;
        // In place, from an unaligned start.
        std::vector<uint8_t> inplace(in.size() + 1);
        std::memcpy(inplace.data() + 1, in.data(), in.size());
        lookup_bytes(isa, table, n, inplace.data() + 1, inplace.data() + 1);
        ASSERT_EQ(std::vector<uint8_t>(inplace.begin() + 1, inplace.end()), want) << isa_name(isa) << " in place";
      }
    }
  }
}

TEST(ElementwiseX86, LookupOfRealActivationTables) {
  // The tables the runtime makes: LOGISTIC, TANH (TFLite's float tables) and
  // HARD_SWISH (int16 fixed point), int8 and uint8, over every input byte.
  Rng rng(7);
  for (Isa isa : runnable_isas()) {
    for (bool is_signed : {true, false}) {
      const int32_t zp = is_signed ? -3 : 131;
      const ref::ByteTable tables[] = {
          ref::make_activation_table(ref::TableFunction::kLogistic, is_signed, 0.05f, zp, 1.0f / 256,
                                     is_signed ? -128 : 0),
          ref::make_activation_table(ref::TableFunction::kTanh, is_signed, 0.03f, zp, 1.0f / 128, is_signed ? 0 : 128),
          ref::make_hard_swish_table(ref::make_hard_swish_params(is_signed, 0.04f, zp, 0.03f, is_signed ? -20 : 40),
                                     is_signed)};
      for (const auto& table : tables) {
        std::vector<uint8_t> in = rand_u8(rng, 3 * 256 + 11);
        for (int i = 0; i < 256; ++i) in[static_cast<size_t>(i)] = static_cast<uint8_t>(i);
        const auto n = static_cast<int64_t>(in.size());
        std::vector<uint8_t> want(in.size()), got(in.size());
        ref::lookup_bytes(table, n, in.data(), want.data());
        lookup_bytes(isa, table, n, in.data(), got.data());
        ASSERT_EQ(got, want) << isa_name(isa) << (is_signed ? " int8" : " uint8");
      }
    }
  }
}

// ---- MUL -----------------------------------------------------------------------

// Scales over many octaves so that the multiplier shifts left (s1 s2 / so >= 1)
// as well as right by up to 31 bits (and flushes to zero beyond).
ref::MulQuantParams rand_mul_params(Rng& rng, bool is_signed) {
  const int32_t qmin = is_signed ? -128 : 0, qmax = is_signed ? 127 : 255;
  auto zp = [&] {
    const int k = static_cast<int>(rng.below(4));
    return k == 0 ? qmin : k == 1 ? qmax : qmin + static_cast<int32_t>(rng.below(256));
  };
  const float s1 = std::ldexp(0.5f + rng.uniform(), -pick(rng, 0, 12));
  const float s2 = std::ldexp(0.5f + rng.uniform(), -pick(rng, 0, 12));
  const float so = std::ldexp(0.5f + rng.uniform(), rng.below(8) == 0 ? pick(rng, -30, 0) : -pick(rng, 0, 20));
  return ref::make_mul_params(s1, zp(), s2, zp(), so, zp(), pick_of(rng, kActs), qmin, qmax);
}

std::vector<uint8_t> mul_want(const ref::MulQuantParams& p, bool is_signed, int64_t n, const uint8_t* a, bool as,
                              const uint8_t* b, bool bs) {
  std::vector<uint8_t> out(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) {
    const uint8_t x = a[as ? 0 : i], y = b[bs ? 0 : i];
    const int32_t v = is_signed ? ref::mul_quantized(p, static_cast<int8_t>(x), static_cast<int8_t>(y))
                                : ref::mul_quantized(p, x, y);
    out[static_cast<size_t>(i)] = static_cast<uint8_t>(v);
  }
  return out;
}

std::string describe(const ref::MulQuantParams& p, bool is_signed) {
  std::ostringstream o;
  o << (is_signed ? "int8" : "uint8") << " offsets " << p.in1_offset << "," << p.in2_offset << " zp " << p.out_offset
    << " M " << p.m.multiplier << " shift " << p.m.shift << " act [" << p.act.min << "," << p.act.max << "]";
  return o.str();
}

TEST(ElementwiseX86, MulEveryInputPair) {
  // All 65536 (x, y) byte pairs in one call, for random parameters.
  Rng rng(2024);
  std::vector<uint8_t> a(65536), b(65536);
  for (int i = 0; i < 65536; ++i) a[static_cast<size_t>(i)] = static_cast<uint8_t>(i), b[static_cast<size_t>(i)] = static_cast<uint8_t>(i >> 8);
  for (Isa isa : runnable_isas())
    for (int t = 0; t < 24; ++t) {
      const bool is_signed = t % 2 == 0;
      const ref::MulQuantParams p = rand_mul_params(rng, is_signed);
      const std::vector<uint8_t> want = mul_want(p, is_signed, 65536, a.data(), false, b.data(), false);
      std::vector<uint8_t> got(65536);
      mul_quant8(isa, p, is_signed, 65536, a.data(), false, b.data(), false, got.data());
      ASSERT_EQ(got, want) << isa_name(isa) << " " << describe(p, is_signed);
    }
}

TEST(ElementwiseX86, MulShapesAndScalars) {
  Rng rng(99);
  for (Isa isa : runnable_isas())
    for (int t = 0; t < 40; ++t) {
      const bool is_signed = rng.below(2) == 0;
      const ref::MulQuantParams p = rand_mul_params(rng, is_signed);
      for (int64_t n : kLengths)
        for (int mode = 0; mode < 4; ++mode) {
          const bool as = mode & 1, bs = mode & 2;
          const std::vector<uint8_t> a = rand_u8(rng, as ? 1 : n), b = rand_u8(rng, bs ? 1 : n);
          const std::vector<uint8_t> want = mul_want(p, is_signed, n, a.data(), as, b.data(), bs);
          GuardedU8 got(n);
          mul_quant8(isa, p, is_signed, n, a.data(), as, b.data(), bs, got.data());
          ASSERT_EQ(got.body(), want) << isa_name(isa) << " n " << n << " mode " << mode << " " << describe(p, is_signed);
          ASSERT_TRUE(got.intact()) << isa_name(isa) << " n " << n;
        }
    }
}

TEST(ElementwiseX86, MulBroadcastShapes) {
  // numpy broadcasts up to 6-D, the reference walk as the oracle.
  Rng rng(5);
  for (Isa isa : runnable_isas())
    for (int t = 0; t < 300; ++t) {
      const bool is_signed = rng.below(2) == 0;
      const ref::MulQuantParams p = rand_mul_params(rng, is_signed);
      const int rank = pick(rng, 1, 6);
      std::vector<int64_t> sa, sb;
      for (int d = 0; d < rank; ++d) {
        const int64_t dim = d == rank - 1 ? pick_of(rng, {1, 3, 16, 17, 33, 64, 65}) : pick(rng, 1, 4);
        const int k = static_cast<int>(rng.below(4));
        sa.push_back(k == 1 ? 1 : dim);
        sb.push_back(k == 2 ? 1 : dim);
      }
      if (rng.below(3) == 0) sb.erase(sb.begin(), sb.begin() + pick(rng, 0, rank - 1));  // lower rank
      // The shapes models use: a scalar, a squeeze-excite row, both operands stretched.
      if (t % 10 == 0) sa = {2, 5, 7, 33}, sb = {1};
      if (t % 10 == 1) sa = {1, 1, 65}, sb = {1, 6, 5, 65};
      if (t % 10 == 2) sa = {3, 1, 17}, sb = {1, 4, 1};
      if (t % 10 == 3) sa = {1}, sb = {1};
      const std::vector<std::vector<int64_t>> shapes = {sa, sb};
      const ref::BroadcastGeometry g = ref::make_broadcast("MUL", shapes);
      int64_t na = 1, nb = 1;
      for (int64_t d : sa) na *= d;
      for (int64_t d : sb) nb *= d;
      const std::vector<uint8_t> a = rand_u8(rng, na), b = rand_u8(rng, nb);
      std::vector<uint8_t> want(static_cast<size_t>(g.count));
      if (is_signed)
        ref::broadcast_binary(g, g.count, reinterpret_cast<const int8_t*>(a.data()),
                              reinterpret_cast<const int8_t*>(b.data()), reinterpret_cast<int8_t*>(want.data()),
                              [&](int8_t x, int8_t y) { return static_cast<int8_t>(ref::mul_quantized(p, x, y)); });
      else
        ref::broadcast_binary(g, g.count, a.data(), b.data(), want.data(),
                              [&](uint8_t x, uint8_t y) { return static_cast<uint8_t>(ref::mul_quantized(p, x, y)); });
      GuardedU8 got(g.count);
      mul_quant8_broadcast(isa, p, is_signed, g, g.count, a.data(), b.data(), got.data());
      ASSERT_EQ(got.body(), want) << isa_name(isa) << " trial " << t << " " << describe(p, is_signed);
      ASSERT_TRUE(got.intact());
    }
}

// ---- RESIZE_BILINEAR int8 ------------------------------------------------------

// A random resize geometry for trial t: up- and downsampling, an exact 2x
// (the common decoder step) on every third trial, a depth from `depths`;
// then, unless `plain`, the flags (0 none, 1 align_corners, 2
// half_pixel_centers) at random.
template <size_t N>
ref::ResizeGeometry rand_resize_geometry(Rng& rng, int t, const int64_t (&depths)[N], bool plain, int* flags) {
  ref::ResizeGeometry g;
  g.batch = pick(rng, 1, 2);
  g.in_h = pick(rng, 1, 9);
  g.in_w = pick(rng, 1, 9);
  g.out_h = t % 3 == 0 ? 2 * g.in_h : pick(rng, 1, 17);
  g.out_w = t % 3 == 0 ? 2 * g.in_w : pick(rng, 1, 17);
  g.depth = pick_of(rng, depths);
  *flags = plain ? 0 : static_cast<int>(rng.below(3));
  g.align_corners = *flags == 1;
  g.half_pixel_centers = *flags == 2;
  return g;
}

TEST(ElementwiseX86, ResizeBilinearInt8RandomGeometries) {
  Rng rng(77);
  constexpr int64_t kDepths[] = {1, 3, 7, 8, 9, 15, 16, 17, 31, 32, 33, 64, 65};
  for (Isa isa : runnable_isas())
    for (int t = 0; t < 400; ++t) {
      int flags = 0;
      const ref::ResizeGeometry g = rand_resize_geometry(rng, t, kDepths, false, &flags);
      const std::vector<uint8_t> in = rand_u8(rng, g.batch * g.in_h * g.in_w * g.depth);
      // Extreme values too: every input at -128 or 127 now and then.
      std::vector<int8_t> x(in.size());
      for (size_t i = 0; i < in.size(); ++i)
        x[i] = t % 7 == 0 ? static_cast<int8_t>((in[i] & 1) ? 127 : -128) : static_cast<int8_t>(in[i]);
      const int64_t n = g.batch * g.out_h * g.out_w * g.depth;
      std::vector<int8_t> want(static_cast<size_t>(n));
      ref::resize_bilinear_s8(g, x.data(), want.data());
      Guarded got(static_cast<size_t>(n));
      resize_bilinear_s8(isa, g, x.data(), got.data());
      ASSERT_EQ(got.body(), want) << isa_name(isa) << " " << g.in_h << "x" << g.in_w << " -> " << g.out_h << "x"
                                  << g.out_w << " depth " << g.depth << " flags " << flags;
      ASSERT_TRUE(got.guards_intact());
    }
}

// Large upsamplings where TFLite 2.9's rounded 10-bit scale puts the lower
// neighbour past the last input row or column (1 -> 1100 rows: scale 1, so
// output row 1024 has lower 1) and TFLite reads outside its input. qlite
// clamps it: the inputs here are exactly sized vectors (ASan sees any read
// past them), and with one input row or column every output along it must
// be that row or column itself, whatever the weights. int16 runs the same
// reference code.
TEST(ElementwiseX86, ResizeBilinearInt8LargeUpsamplingReadsOnlyItsInput) {
  const struct {
    int32_t in_h, in_w, out_h, out_w;
  } cases[] = {{1, 1, 1100, 3}, {1, 1, 3, 2047}, {1, 2, 1100, 1100}, {2, 1, 1100, 1500}};
  for (Isa isa : runnable_isas())
    for (const auto& c : cases)
      for (int flags = 0; flags < 3; ++flags) {
        ref::ResizeGeometry g;
        g.batch = 1;
        g.in_h = c.in_h, g.in_w = c.in_w, g.out_h = c.out_h, g.out_w = c.out_w;
        g.depth = 17;
        g.align_corners = flags == 1;
        g.half_pixel_centers = flags == 2;
        std::vector<int8_t> x(static_cast<size_t>(g.in_h * g.in_w * g.depth));
        for (size_t i = 0; i < x.size(); ++i) x[i] = static_cast<int8_t>(i * 37 % 251 - 125);
        std::vector<int8_t> got(static_cast<size_t>(int64_t{g.out_h} * g.out_w * g.depth));
        resize_bilinear_s8(isa, g, x.data(), got.data());
        for (int32_t y = 0; y < g.out_h; y += (y < 1000 ? 97 : 1))
          for (int32_t xo = 0; xo < g.out_w; xo += (xo < 1000 ? 89 : 1))
            for (int64_t ch = 0; ch < g.depth; ++ch) {
              const int8_t v = got[static_cast<size_t>((int64_t{y} * g.out_w + xo) * g.depth + ch)];
              // A single input row: the output row is the same as row 0's;
              // a single column: every column equals column 0.
              if (g.in_h == 1) {
                ASSERT_EQ(v, got[static_cast<size_t>(xo * g.depth + ch)]) << isa_name(isa) << " row " << y;
              }
              if (g.in_w == 1) {
                ASSERT_EQ(v, got[static_cast<size_t>(int64_t{y} * g.out_w * g.depth + ch)])
                    << isa_name(isa) << " col " << xo;
              }
              if (g.in_h == 1 && g.in_w == 1) {
                ASSERT_EQ(v, x[static_cast<size_t>(ch)]) << isa_name(isa);
              }
            }
        std::vector<int16_t> x16(x.begin(), x.end()), got16(got.size());
        ref::resize_bilinear_s16(g, x16.data(), got16.data());
        if (g.in_h == 1 && g.in_w == 1) {
          for (size_t i = 0; i < got16.size(); i += 101) {
            ASSERT_EQ(got16[i], x16[i % 17]);
          }
        }
      }
}

// ---- RESIZE_BILINEAR float32 and uint8 ---------------------------------------

// Random geometries (2x without flags takes the float32 2x2 kernel), depths
// around the vector widths; outputs compared bit for bit with the reference
// (float32: -0, NaN, subnormals and infinities among the inputs; a NaN
// output must be a NaN, of any sign and payload).
TEST(ElementwiseX86, ResizeBilinearFloat32AndUint8RandomGeometries) {
  Rng rng(78);
  constexpr int64_t kDepths[] = {1, 3, 7, 8, 9, 15, 16, 17, 24, 31, 32, 33, 65};
  const float kSpecial[] = {-0.0f, 0.0f, std::nanf(""), INFINITY, -INFINITY, 1e-40f, -3e38f, 3e38f};
  for (Isa isa : runnable_isas())
    for (int t = 0; t < 400; ++t) {
      int flags = 0;
      const ref::ResizeGeometry g = rand_resize_geometry(rng, t, kDepths, t % 6 == 0, &flags);
      const int64_t n_in = g.batch * g.in_h * g.in_w * g.depth, n = g.batch * g.out_h * g.out_w * g.depth;
      const std::string what = std::string(isa_name(isa)) + " " + std::to_string(g.in_h) + "x" +
                               std::to_string(g.in_w) + " -> " + std::to_string(g.out_h) + "x" +
                               std::to_string(g.out_w) + " depth " + std::to_string(g.depth) + " flags " +
                               std::to_string(flags);
      // float32: values of both signs and magnitudes, a special value now and then.
      std::vector<float> xf(static_cast<size_t>(n_in));
      for (auto& v : xf) {
        const uint32_t r = rng.below(1000);
        v = r < 20 ? kSpecial[r % 8] : (static_cast<float>(rng.below(2000001)) - 1e6f) * (r % 2 ? 1e-3f : 7.5f);
      }
      std::vector<float> want_f(static_cast<size_t>(n));
      ref::resize_bilinear_f32(g, xf.data(), want_f.data());
      GuardedU8 got_f(n * 4);
      resize_bilinear_f32(isa, g, xf.data(), reinterpret_cast<float*>(got_f.data()));
      for (int64_t i = 0; i < n; ++i) {
        uint32_t a, b;
        std::memcpy(&a, got_f.data() + 4 * i, 4);
        std::memcpy(&b, want_f.data() + i, 4);
        const float want = want_f[static_cast<size_t>(i)];
        // A NaN's sign and payload depend on which operand of an add the
        // compiler puts first (it may swap them): any NaN matches a NaN.
        if (std::isnan(want)) {
          float got;
          std::memcpy(&got, &a, 4);
          ASSERT_TRUE(std::isnan(got)) << "float32 " << what << " element " << i;
          continue;
        }
        ASSERT_EQ(a, b) << "float32 " << what << " element " << i << ": " << want;
      }
      ASSERT_TRUE(got_f.intact()) << what;
      // uint8: every byte, or only 0 and 255 now and then.
      std::vector<uint8_t> xu = rand_u8(rng, n_in);
      if (t % 7 == 0)
        for (auto& v : xu) v = (v & 1) ? 255 : 0;
      std::vector<uint8_t> want_u(static_cast<size_t>(n));
      ref::resize_bilinear_u8(g, xu.data(), want_u.data());
      GuardedU8 got_u(n);
      resize_bilinear_u8(isa, g, xu.data(), got_u.data());
      ASSERT_EQ(got_u.body(), want_u) << "uint8 " << what;
      ASSERT_TRUE(got_u.intact()) << what;
    }
}

// A hand-computed uint8 pixel (2x2 -> 3x3 with align_corners: the centre is
// the mean of the four corners, + 0.5, truncated) and float32 2x from one
// pixel (every output the input).
TEST(ElementwiseX86, ResizeBilinearFloat32AndUint8ByHand) {
  for (Isa isa : runnable_isas()) {
    ref::ResizeGeometry g;
    g.batch = 1;
    g.in_h = g.in_w = 2;
    g.out_h = g.out_w = 3;
    g.depth = 9;  // one vector of 8 and a scalar tail
    g.align_corners = true;
    std::vector<uint8_t> x(4 * 9);
    for (int p = 0; p < 4; ++p)
      for (int c = 0; c < 9; ++c) x[static_cast<size_t>(p * 9 + c)] = static_cast<uint8_t>(10 * p + c);
    std::vector<uint8_t> out(9 * 9);
    resize_bilinear_u8(isa, g, x.data(), out.data());
    for (int c = 0; c < 9; ++c) {
      // (c + 10 + c + 20 + c + 30 + c) / 4 = 15 + c, + 0.5 truncates to 15 + c.
      EXPECT_EQ(out[static_cast<size_t>(4 * 9 + c)], 15 + c) << isa_name(isa) << " channel " << c;
      EXPECT_EQ(out[static_cast<size_t>(c)], c) << isa_name(isa);          // corner (0, 0)
      EXPECT_EQ(out[static_cast<size_t>(8 * 9 + c)], 30 + c) << isa_name(isa);  // corner (2, 2)
    }
    ref::ResizeGeometry g2;
    g2.batch = 1;
    g2.in_h = g2.in_w = 1;
    g2.out_h = g2.out_w = 2;
    g2.depth = 17;
    std::vector<float> xf(17), of(4 * 17, -1.0f);
    for (int c = 0; c < 17; ++c) xf[static_cast<size_t>(c)] = 0.25f * static_cast<float>(c) - 2.0f;
    resize_bilinear_f32(isa, g2, xf.data(), of.data());
    for (int p = 0; p < 4; ++p)
      for (int c = 0; c < 17; ++c) EXPECT_EQ(of[static_cast<size_t>(p * 17 + c)], xf[static_cast<size_t>(c)]) << isa_name(isa);
  }
}

TEST(ElementwiseX86, MulRejectsParametersOutsideTheType) {
  for (Isa isa : runnable_isas()) {
    if (isa == Isa::kReference) continue;
    ref::MulQuantParams p = ref::make_mul_params(0.1f, 0, 0.1f, 0, 0.1f, 0, Activation::kLinear, -128, 127);
    p.in1_offset = 300;
    uint8_t a = 1, b = 2, out = 0;
    EXPECT_THROW(mul_quant8(isa, p, true, 1, &a, false, &b, false, &out), Error);
  }
}

}  // namespace
}  // namespace qlite::kernels::test
