// The runtime's float32 kernels (kernels/runtime_float.h) on every path the
// CPU has, against plain loops written here: max pooling bit for bit
// (including NaN, -0 and clamps), fully connected within float rounding of a
// double-precision sum.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <string>
#include <vector>

#include "kernels/reference/reference_float.h"
#include "kernels/runtime_float.h"

namespace qlite::test {
namespace {

using kernels::FloatAct;
using kernels::PoolGeom;

std::vector<Isa> isas() {
  std::vector<Isa> v;
  for (Isa isa : {Isa::kReference, Isa::kAvx2, Isa::kAvx512})
    if (kernels::isa_supported(isa)) v.push_back(isa);
  return v;
}

// The pooling oracle: TFLite's definition written directly (windows clipped to the image).
std::vector<float> pool_oracle(const PoolGeom& g, float lo, float hi, const std::vector<float>& in) {
  std::vector<float> out(static_cast<size_t>(g.OH * g.OW * g.C));
  for (int64_t oy = 0; oy < g.OH; ++oy)
    for (int64_t ox = 0; ox < g.OW; ++ox)
      for (int64_t c = 0; c < g.C; ++c) {
        float m = -std::numeric_limits<float>::infinity();
        for (int64_t ky = 0; ky < g.ph; ++ky)
          for (int64_t kx = 0; kx < g.pw; ++kx) {
            const int64_t y = oy * g.sh - g.pad_top + ky, x = ox * g.sw - g.pad_left + kx;
            if (y < 0 || y >= g.H || x < 0 || x >= g.W) continue;
            const float v = in[static_cast<size_t>((y * g.W + x) * g.C + c)];
            if (m < v) m = v;
          }
        out[static_cast<size_t>((oy * g.OW + ox) * g.C + c)] = std::min(std::max(m, lo), hi);
      }
  return out;
}

TEST(RuntimeFloatKernels, MaxPoolMatchesOracleBitForBit) {
  Rng rng(5);
  const float kInf = std::numeric_limits<float>::infinity();
  const std::pair<float, float> clamps[] = {{-kInf, kInf}, {0.0f, kInf}, {0.0f, 6.0f}, {-1.0f, 1.0f}};
  int cases = 0;
  for (int64_t C : {1, 3, 7, 8, 12, 16, 17, 33})
    for (int k : {1, 2, 3})
      for (int s : {1, 2, 3})
        for (int pad : {0, 1}) {
          if (pad >= k) continue;  // a window would lie entirely in the padding
          PoolGeom g;
          g.H = 5 + (C % 4), g.W = 7 + (C % 3), g.C = C;
          g.ph = g.pw = k, g.sh = g.sw = s, g.pad_top = g.pad_left = pad;
          g.OH = (g.H + pad - k) / s + 1 + (pad ? 1 : 0), g.OW = (g.W + pad - k) / s + 1 + (pad ? 1 : 0);
          // Keep only windows that start inside the image.
          while ((g.OH - 1) * s - pad >= g.H) --g.OH;
          while ((g.OW - 1) * s - pad >= g.W) --g.OW;
          std::vector<float> in(static_cast<size_t>(g.H * g.W * C));
          for (float& v : in) v = rng.uniform(-8.0f, 8.0f);
          // Signed zeros and NaNs: the order of the comparisons shows in the bits.
          for (size_t i = 0; i < in.size(); i += 5) in[i] = (i / 5) % 2 ? 0.0f : -0.0f;
          for (size_t i = 3; i < in.size(); i += 11) in[i] = std::numeric_limits<float>::quiet_NaN();
          const auto [lo, hi] = clamps[cases % 4];
          const std::vector<float> want = pool_oracle(g, lo, hi, in);
          for (Isa isa : isas()) {
            std::vector<float> got(want.size(), 123.0f);
            // Two calls over row bands, as the runtime splits work between threads.
            const int64_t mid = g.OH / 2;
            kernels::max_pool_f32_rows(isa, g, lo, hi, in.data(), got.data(), 0, mid);
            kernels::max_pool_f32_rows(isa, g, lo, hi, in.data(), got.data(), mid, g.OH);
            EXPECT_EQ(0, std::memcmp(got.data(), want.data(), want.size() * 4))
                << isa_name(isa) << " C " << C << " k " << k << " s " << s << " pad " << pad;
          }
          ++cases;
        }
}

TEST(RuntimeFloatKernels, FullyConnectedDotMatchesDoubleSum) {
  Rng rng(9);
  for (int64_t K : {1, 2, 7, 8, 15, 16, 17, 31, 33, 64, 127, 129, 300, 2028, 3000})
    for (int64_t N : {1, 2, 3, 5, 10, 13})
      for (FloatAct act : {FloatAct::kLinear, FloatAct::kRelu, FloatAct::kRelu6}) {
        const int64_t rows = 1 + (K + N) % 3;
        std::vector<float> x(static_cast<size_t>(rows * K)), w(static_cast<size_t>(N * K)), b(static_cast<size_t>(N));
        for (float& v : x) v = rng.uniform(-1.0f, 1.0f);
        for (float& v : w) v = rng.uniform(-1.0f, 1.0f);
        for (float& v : b) v = rng.uniform(-2.0f, 2.0f);
        const bool with_bias = K % 2 == 1;
        for (Isa isa : isas()) {
          // Output guard: the kernel must write exactly rows * N floats.
          std::vector<float> y(static_cast<size_t>(rows * N + 1), -7.0f);
          kernels::fc_f32_dot(isa, rows, K, N, x.data(), w.data(), with_bias ? b.data() : nullptr, act, y.data());
          EXPECT_EQ(y.back(), -7.0f) << isa_name(isa);
          for (int64_t r = 0; r < rows; ++r)
            for (int64_t o = 0; o < N; ++o) {
              double s = with_bias ? b[static_cast<size_t>(o)] : 0.0, mag = std::abs(s);
              for (int64_t k = 0; k < K; ++k) {
                const double t = double{x[static_cast<size_t>(r * K + k)]} * w[static_cast<size_t>(o * K + k)];
                s += t, mag += std::abs(t);
              }
              if (act != FloatAct::kLinear) s = std::max(s, 0.0);
              if (act == FloatAct::kRelu6) s = std::min(s, 6.0);
              // float rounding of a K-term sum: bounded by a few ulps of the sum of magnitudes
              const double tol = 1e-6 * std::max(1.0, mag);
              EXPECT_NEAR(y[static_cast<size_t>(r * N + o)], s, tol)
                  << isa_name(isa) << " K " << K << " N " << N << " row " << r << " out " << o;
            }
        }
      }
}

TEST(RuntimeFloatKernels, FullyConnectedRowsIndependentOfSplit) {
  // The runtime splits rows between threads; a row's bits must not depend on it.
  Rng rng(3);
  const int64_t rows = 7, K = 2028, N = 10;
  std::vector<float> x(static_cast<size_t>(rows * K)), w(static_cast<size_t>(N * K));
  for (float& v : x) v = rng.uniform(-1.0f, 1.0f);
  for (float& v : w) v = rng.uniform(-1.0f, 1.0f);
  for (Isa isa : isas()) {
    std::vector<float> all(static_cast<size_t>(rows * N)), one(static_cast<size_t>(rows * N));
    kernels::fc_f32_dot(isa, rows, K, N, x.data(), w.data(), nullptr, FloatAct::kLinear, all.data());
    for (int64_t r = 0; r < rows; ++r)
      kernels::fc_f32_dot(isa, 1, K, N, x.data() + r * K, w.data(), nullptr, FloatAct::kLinear, one.data() + r * N);
    EXPECT_EQ(0, std::memcmp(all.data(), one.data(), all.size() * 4)) << isa_name(isa);
  }
}

// fc_f32_small (weights [K][N], K <= kSmallFcK) against the same
// double-precision oracle, on output counts around every register and block
// width, through the dispatch and through the function fc_f32_small_fn
// resolves; a NaN sum stays NaN under RELU / RELU6 (TFLite's std::max(v, 0.f)).
TEST(RuntimeFloatKernels, FullyConnectedSmallMatchesDoubleSum) {
  Rng rng(10);
  for (int64_t K : {int64_t{1}, int64_t{2}, int64_t{3}, int64_t{8}, int64_t{15}, int64_t{16}, int64_t{17}, int64_t{33},
                    kernels::kSmallFcK})
    for (int64_t N : {1, 2, 7, 8, 9, 16, 17, 24, 31, 32, 33, 47, 48, 63, 64, 65, 100})
      for (FloatAct act : {FloatAct::kLinear, FloatAct::kRelu, FloatAct::kRelu6}) {
        const int64_t rows = 1 + (K + N) % 4;
        std::vector<float> x(static_cast<size_t>(rows * K)), wt(static_cast<size_t>(K * N)), b(static_cast<size_t>(N));
        for (float& v : x) v = rng.uniform(-1.0f, 1.0f);
        for (float& v : wt) v = rng.uniform(-1.0f, 1.0f);
        for (float& v : b) v = rng.uniform(-2.0f, 2.0f);
        x[0] = std::numeric_limits<float>::quiet_NaN();  // row 0's outputs are all NaN
        const bool with_bias = (K + N) % 2 == 1;
        for (Isa isa : isas()) {
          std::vector<float> y(static_cast<size_t>(rows * N + 1), -7.0f), direct(y);
          kernels::fc_f32_small(isa, rows, K, N, x.data(), wt.data(), with_bias ? b.data() : nullptr, act, y.data());
          kernels::fc_f32_small_fn(isa)(rows, K, N, x.data(), wt.data(), with_bias ? b.data() : nullptr, act,
                                        direct.data());
          EXPECT_EQ(y.back(), -7.0f) << isa_name(isa);
          EXPECT_EQ(0, std::memcmp(y.data(), direct.data(), y.size() * 4)) << isa_name(isa);
          for (int64_t o = 0; o < N; ++o)
            EXPECT_TRUE(std::isnan(y[static_cast<size_t>(o)])) << isa_name(isa) << " K " << K << " N " << N << " out " << o;
          for (int64_t r = 1; r < rows; ++r)
            for (int64_t o = 0; o < N; ++o) {
              double s = with_bias ? b[static_cast<size_t>(o)] : 0.0, mag = std::abs(s);
              for (int64_t k = 0; k < K; ++k) {
                const double t = double{x[static_cast<size_t>(r * K + k)]} * wt[static_cast<size_t>(k * N + o)];
                s += t, mag += std::abs(t);
              }
              if (act != FloatAct::kLinear) s = std::max(s, 0.0);
              if (act == FloatAct::kRelu6) s = std::min(s, 6.0);
              EXPECT_NEAR(y[static_cast<size_t>(r * N + o)], s, 1e-6 * std::max(1.0, mag))
                  << isa_name(isa) << " K " << K << " N " << N << " row " << r << " out " << o;
            }
          // Rows one at a time give the same bits (the runtime splits rows between threads).
          std::vector<float> one(static_cast<size_t>(rows * N));
          for (int64_t r = 0; r < rows; ++r)
            kernels::fc_f32_small(isa, 1, K, N, x.data() + r * K, wt.data(), with_bias ? b.data() : nullptr, act,
                                  one.data() + r * N);
          EXPECT_EQ(0, std::memcmp(one.data(), y.data(), one.size() * 4)) << isa_name(isa);
        }
      }
}

TEST(RuntimeFloatKernels, UnsupportedIsaThrows) {
  for (Isa isa : {Isa::kAvx2, Isa::kAvx512}) {
    if (kernels::isa_supported(isa)) continue;
    float v = 0.0f;
    EXPECT_THROW(kernels::fc_f32_dot(isa, 1, 1, 1, &v, &v, nullptr, FloatAct::kLinear, &v), Error);
    EXPECT_THROW(kernels::fc_f32_small_fn(isa), Error);
  }
}

// float ADD with each clamp TFLite fuses: every path against the
// reference kernel bit for bit, with NaN, -0, infinities, subnormals and
// values at the clamp bounds among the inputs, on lengths with tails.
TEST(RuntimeFloatKernels, AddClampedMatchesReferenceBitForBit) {
  Rng rng(91);
  const float inf = std::numeric_limits<float>::infinity();
  const float specials[] = {0.0f, -0.0f, 6.0f, -1.0f, 1.0f, inf, -inf, std::nanf(""), -std::nanf(""), 1e-40f, -1e-40f};
  for (int trial = 0; trial < 40; ++trial) {
    const int64_t n = 1 + rng.below(100);
    std::vector<float> a(static_cast<size_t>(n)), b(a.size());
    for (float& v : a) v = rng.uniform(-8.0f, 8.0f);
    for (float& v : b) v = rng.uniform(-8.0f, 8.0f);
    for (int64_t i = 0; i < n; i += 1 + rng.below(3)) (rng.below(2) ? a : b)[i] = specials[rng.below(std::size(specials))];
    for (Activation act : {Activation::kLinear, Activation::kRelu, Activation::kRelu6, Activation::kReluN1To1}) {
      std::vector<float> want(a.size());
      ref::add_f32(n, a.data(), b.data(), act, want.data());
      const ref::FloatActRange r = ref::fused_activation_range_f32(act);
      for (Isa isa : isas()) {
        std::vector<float> got(a.size(), 7.0f);
        kernels::add_f32_clamped(isa, n, a.data(), b.data(), r.min, r.max, got.data());
        EXPECT_EQ(std::memcmp(got.data(), want.data(), got.size() * sizeof(float)), 0)
            << isa_name(isa) << " n=" << n << " act " << static_cast<int>(act);
      }
    }
  }
}

}  // namespace
}  // namespace qlite::test
