// The AVX2 and AVX-512 float kernels against the reference kernels on random
// awkward shapes (ragged channel counts 1..33, window sizes 1..130, batch 1..5).
// Float sums may be ordered and rounded differently (FMA), so each element
// may differ by 1e-5 times the sum of the absolute values of its terms
// (computed by the reference on absolute values): a bound a few times the
// worst-case rounding of ~100-term float sums. Max pooling and the
// activation gradient select values and must match exactly.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <iterator>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "kernels/float_kernels.h"
#include "qlite/core.h"

using namespace qlite;
using namespace qlite::kernels;

namespace {

std::vector<Isa> fast_isas() {
  std::vector<Isa> out;
  for (Isa isa : {Isa::kAvx2, Isa::kAvx512})
    if (isa_supported(isa)) out.push_back(isa);
  return out;
}

std::vector<float> rand_vec(size_t n, Rng& rng, float lo = -1.0f, float hi = 1.0f) {
  std::vector<float> v(n);
  for (float& f : v) f = rng.uniform(lo, hi);
  return v;
}

std::vector<float> absv(std::vector<float> v) {
  for (float& f : v) f = std::fabs(f);
  return v;
}

void expect_close(const std::vector<float>& ref, const std::vector<float>& got, const std::vector<float>& mag,
                  const std::string& what) {
  ASSERT_EQ(ref.size(), got.size());
  for (size_t i = 0; i < ref.size(); ++i)
    ASSERT_LE(std::fabs(ref[i] - got[i]), 1e-5f * mag[i] + 1e-7f) << what << " element " << i;
}

// A random 'valid' convolution over one image, or a dense layer over a batch.
struct Problem {
  PatchGeom g;
  std::vector<int64_t> offs;
  int64_t in_size = 0, out_size = 0;
  std::string desc;
};

Problem random_problem(Rng& rng, bool dense) {
  Problem p;
  if (dense) {
    const int64_t n = 1 + rng.below(5), k = 1 + rng.below(130), c = 1 + rng.below(33);
    p.offs.resize(k);
    for (int64_t i = 0; i < k; ++i) p.offs[i] = i;
    p.g.rows = 1;
    p.g.cols = n;
    p.g.in_col = k;
    p.g.R = k;
    p.g.C = c;
    p.g.out_col = c;
    p.in_size = n * k;
    p.out_size = n * c;
    p.desc = "dense n=" + std::to_string(n) + " k=" + std::to_string(k) + " c=" + std::to_string(c);
  } else {
    const int kh = 1 + rng.below(4), kw = 1 + rng.below(4), sh = 1 + rng.below(3), sw = 1 + rng.below(3);
    const int64_t h = kh + rng.below(10), w = kw + rng.below(10), cin = 1 + rng.below(33), c = 1 + rng.below(33);
    const int64_t oh = (h - kh) / sh + 1, ow = (w - kw) / sw + 1;
    for (int ky = 0; ky < kh; ++ky)
      for (int kx = 0; kx < kw; ++kx)
        for (int64_t ci = 0; ci < cin; ++ci) p.offs.push_back((ky * w + kx) * cin + ci);
    p.g.rows = oh;
    p.g.cols = ow;
    p.g.in_row = sh * w * cin;
    p.g.in_col = sw * cin;
    p.g.R = static_cast<int64_t>(p.offs.size());
    p.g.C = c;
    p.g.out_row = ow * c;
    p.g.out_col = c;
    p.in_size = h * w * cin;
    p.out_size = oh * ow * c;
    p.desc = "conv " + std::to_string(h) + "x" + std::to_string(w) + "x" + std::to_string(cin) + " k" +
             std::to_string(kh) + "x" + std::to_string(kw) + " s" + std::to_string(sh) + "," + std::to_string(sw) +
             " c=" + std::to_string(c);
  }
  p.g.offs = p.offs.data();
  return p;
}

TEST(KernelIsa, PatchKernelsMatchReference) {
  const auto isas = fast_isas();
  if (isas.empty()) GTEST_SKIP() << "no AVX2/AVX-512 on this CPU";
  Rng rng(31);
  const FloatAct acts[] = {FloatAct::kLinear, FloatAct::kRelu, FloatAct::kRelu6};
  for (int trial = 0; trial < 120; ++trial) {
    const Problem p = random_problem(rng, trial % 2 == 0);
    const PatchGeom& g = p.g;
    const FloatAct act = acts[trial % 3];
    const bool bias = trial % 4 != 1;
    const auto in = rand_vec(p.in_size, rng, -3, 3), w = rand_vec(g.R * g.C, rng), b = rand_vec(g.C, rng);
    const auto dout = rand_vec(p.out_size, rng), dw0 = rand_vec(g.R * g.C, rng), db0 = rand_vec(g.C, rng);
    const auto din0 = rand_vec(p.in_size, rng);
    std::vector<float> wt(g.R * g.C);
    for (int64_t r = 0; r < g.R; ++r)
      for (int64_t c = 0; c < g.C; ++c) wt[c * g.R + r] = w[r * g.C + c];

    // Magnitudes: the same sums over absolute values.
    std::vector<float> out_ref(p.out_size), mag_out(p.out_size);
    float_patch_forward(Isa::kReference, g, in.data(), w.data(), bias ? b.data() : nullptr, act, out_ref.data());
    float_patch_forward(Isa::kReference, g, absv(in).data(), absv(w).data(), bias ? absv(b).data() : nullptr,
                        FloatAct::kLinear, mag_out.data());
    std::vector<float> dz(p.out_size);
    float_act_backward(Isa::kReference, act, out_ref.data(), dout.data(), dz.data(), p.out_size);
    std::vector<float> dw_ref = dw0, db_ref = db0, mag_dw = absv(dw0), mag_db = absv(db0);
    float_patch_wgrad(Isa::kReference, g, in.data(), dout.data(), out_ref.data(), act, dw_ref.data(), db_ref.data());
    float_patch_wgrad(Isa::kReference, g, absv(in).data(), absv(dz).data(), nullptr, FloatAct::kLinear, mag_dw.data(),
                      mag_db.data());
    std::vector<float> din_ref = din0, mag_din = absv(din0);
    float_patch_dgrad(Isa::kReference, g, dz.data(), wt.data(), din_ref.data(), false);
    float_patch_dgrad(Isa::kReference, g, absv(dz).data(), absv(wt).data(), mag_din.data(), false);

    for (Isa isa : isas) {
      const std::string what = std::string(isa_name(isa)) + " " + p.desc + " act " + std::to_string(int(act));
      std::vector<float> out(p.out_size, 123.0f);
      float_patch_forward(isa, g, in.data(), w.data(), bias ? b.data() : nullptr, act, out.data());
      expect_close(out_ref, out, mag_out, what + " forward");
      std::vector<float> dzi(p.out_size, 7.0f);
      float_act_backward(isa, act, out_ref.data(), dout.data(), dzi.data(), p.out_size);
      ASSERT_EQ(dz, dzi) << what << " act_backward";
      std::vector<float> dw = dw0, db = db0;
      float_patch_wgrad(isa, g, in.data(), dout.data(), out_ref.data(), act, dw.data(), db.data());
      expect_close(dw_ref, dw, mag_dw, what + " wgrad");
      expect_close(db_ref, db, mag_db, what + " bias grad");
      std::vector<float> din = din0;
      float_patch_dgrad(isa, g, dz.data(), wt.data(), din.data(), false);
      expect_close(din_ref, din, mag_din, what + " dgrad");
      if (g.rows == 1 && g.in_col == g.R) {  // dense: windows do not overlap, overwrite is allowed
        std::vector<float> din_over(p.in_size, 5.0f), din_over_ref(p.in_size, 9.0f);
        float_patch_dgrad(Isa::kReference, g, dz.data(), wt.data(), din_over_ref.data(), true);
        float_patch_dgrad(isa, g, dz.data(), wt.data(), din_over.data(), true);
        expect_close(din_over_ref, din_over, mag_din, what + " dgrad overwrite");
      }
    }
  }
}

TEST(KernelIsa, MaxPoolMatchesReferenceExactly) {
  const auto isas = fast_isas();
  if (isas.empty()) GTEST_SKIP() << "no AVX2/AVX-512 on this CPU";
  Rng rng(32);
  for (int trial = 0; trial < 150; ++trial) {
    PoolGeom g;
    g.ph = 1 + static_cast<int>(rng.below(3));
    g.pw = 1 + static_cast<int>(rng.below(3));
    const bool tiled = trial % 2 == 0;  // the dense-write backward path
    g.sh = tiled ? g.ph : 1 + static_cast<int>(rng.below(3));
    g.sw = tiled ? g.pw : 1 + static_cast<int>(rng.below(3));
    g.H = g.ph + rng.below(9);
    g.W = g.pw + rng.below(9);
    g.C = 1 + rng.below(33);
    if (trial % 3 == 0) {  // 'same'
      g.OH = (g.H + g.sh - 1) / g.sh;
      g.OW = (g.W + g.sw - 1) / g.sw;
      g.pad_top = std::max<int64_t>((g.OH - 1) * g.sh + g.ph - g.H, 0) / 2;
      g.pad_left = std::max<int64_t>((g.OW - 1) * g.sw + g.pw - g.W, 0) / 2;
    } else {
      g.OH = (g.H - g.ph) / g.sh + 1;
      g.OW = (g.W - g.pw) / g.sw + 1;
    }
    std::vector<float> in(g.H * g.W * g.C);
    // Few distinct values, so ties are common.
    for (float& v : in) v = static_cast<float>(rng.below(4)) - 2.0f;
    const auto dout = rand_vec(g.OH * g.OW * g.C, rng);
    std::vector<float> out_ref(dout.size()), din_ref(in.size());
    std::vector<int32_t> arg_ref(dout.size());
    float_maxpool_forward(Isa::kReference, g, in.data(), out_ref.data(), arg_ref.data());
    float_maxpool_backward(Isa::kReference, g, dout.data(), arg_ref.data(), din_ref.data());
    for (Isa isa : isas) {
      std::vector<float> out(dout.size(), 9.0f), din(in.size(), 9.0f);
      std::vector<int32_t> arg(dout.size(), -1);
      float_maxpool_forward(isa, g, in.data(), out.data(), arg.data());
      ASSERT_EQ(out, out_ref) << isa_name(isa) << " trial " << trial;
      ASSERT_EQ(arg, arg_ref) << isa_name(isa) << " trial " << trial;
      float_maxpool_backward(isa, g, dout.data(), arg.data(), din.data());
      ASSERT_EQ(din, din_ref) << isa_name(isa) << " trial " << trial;
    }
  }
}

// BatchNormalization's kernels and the clamps promise the reference's bits
// (double sums in row order per channel, no FMA): compared bit for bit, on
// ragged channel counts (1..70, so 1-3 groups of vectors and tails) and row
// counts, with values far apart in magnitude so that any reordering of a sum
// or a fused multiply-add would show.
template <class T>
bool same_bits(const std::vector<T>& a, const std::vector<T>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(T)) == 0;
}

TEST(KernelIsa, BatchNormKernelsMatchReferenceBitForBit) {
  const auto isas = fast_isas();
  if (isas.empty()) GTEST_SKIP() << "no AVX2/AVX-512 on this CPU";
  Rng rng(77);
  for (int trial = 0; trial < 120; ++trial) {
    const int64_t c = 1 + rng.below(70), rows = 1 + rng.below(300);
    const std::string what = "c=" + std::to_string(c) + " rows=" + std::to_string(rows);
    std::vector<float> x(rows * c), dy(rows * c);
    for (float& v : x) v = rng.uniform(-1.0f, 1.0f) * std::ldexp(1.0f, static_cast<int>(rng.below(40)) - 20);
    for (float& v : dy) v = rng.uniform(-1.0f, 1.0f) * std::ldexp(1.0f, static_cast<int>(rng.below(20)) - 10);
    const auto gamma = rand_vec(c, rng, -2.0f, 2.0f), beta = rand_vec(c, rng, -2.0f, 2.0f);
    const auto mean = rand_vec(c, rng), inv = rand_vec(c, rng, 0.01f, 100.0f);
    std::vector<double> a(c), start(c);
    for (int64_t k = 0; k < c; ++k) {
      a[k] = rng.uniform(-1.0f, 1.0f) / 1000.0;
      start[k] = rng.uniform(-1.0f, 1.0f);  // the sums accumulate into what is there
    }
    const float six = 6.0f, inf = INFINITY, half = 0.5f;
    const float* clamp = nullptr;  // no clamp fused, ReLU6, ReLU, a clamp at 0.5
    switch (trial % 4) {
      case 1: clamp = &six; break;
      case 2: clamp = &inf; break;
      case 3: clamp = &half; break;
      default: break;
    }
    const std::string what_c = what + " clamp=" + (clamp ? std::to_string(*clamp) : std::string("none"));
    std::vector<double> sum_ref = start, sq_ref = start, sdy_ref = start, sdyx_ref(c, 0.0);
    std::vector<float> y_ref(x.size()), dx_ref(x.size());
    float_bn_sums(Isa::kReference, x.data(), rows, c, sum_ref.data());
    float_bn_sq(Isa::kReference, x.data(), rows, c, mean.data(), sq_ref.data());
    float_bn_normalize(Isa::kReference, x.data(), rows, c, gamma.data(), mean.data(), inv.data(), beta.data(), clamp,
                       y_ref.data());
    float_bn_grad_sums(Isa::kReference, x.data(), dy.data(), rows, c, mean.data(), inv.data(), gamma.data(),
                       beta.data(), clamp, sdy_ref.data(), sdyx_ref.data());
    float_bn_input_grad(Isa::kReference, x.data(), dy.data(), rows, c, mean.data(), inv.data(), gamma.data(),
                        beta.data(), clamp, a.data(), static_cast<double>(rows), sdy_ref.data(), sdyx_ref.data(),
                        dx_ref.data());
    if (clamp) {  // the fused clamp is the clamp kernel after the plain normalization, bit for bit
      std::vector<float> plain(x.size()), clamped(x.size());
      float_bn_normalize(Isa::kReference, x.data(), rows, c, gamma.data(), mean.data(), inv.data(), beta.data(),
                         nullptr, plain.data());
      float_clamp_forward(Isa::kReference, plain.data(), clamped.data(), rows * c, *clamp);
      ASSERT_TRUE(same_bits(clamped, y_ref)) << what_c;
      std::vector<float> dmask(x.size());
      float_clamp_backward(Isa::kReference, plain.data(), dy.data(), dmask.data(), rows * c, *clamp);
      std::vector<double> s1 = start, s2(c, 0.0);
      float_bn_grad_sums(Isa::kReference, x.data(), dmask.data(), rows, c, mean.data(), inv.data(), gamma.data(),
                         beta.data(), nullptr, s1.data(), s2.data());
      ASSERT_TRUE(same_bits(s1, sdy_ref) && same_bits(s2, sdyx_ref)) << what_c;
      std::vector<float> dx2(x.size());
      float_bn_input_grad(Isa::kReference, x.data(), dmask.data(), rows, c, mean.data(), inv.data(), gamma.data(),
                          beta.data(), nullptr, a.data(), static_cast<double>(rows), sdy_ref.data(),
                          sdyx_ref.data(), dx2.data());
      ASSERT_TRUE(same_bits(dx2, dx_ref)) << what_c;
    }
    for (Isa isa : isas) {
      const std::string w = std::string(isa_name(isa)) + " " + what_c;
      std::vector<double> sum = start, sq = start, sdy = start, sdyx(c, 0.0);
      std::vector<float> y(x.size(), 9.0f), dx(x.size(), 9.0f);
      float_bn_sums(isa, x.data(), rows, c, sum.data());
      ASSERT_TRUE(same_bits(sum, sum_ref)) << w << " sums";
      float_bn_sq(isa, x.data(), rows, c, mean.data(), sq.data());
      ASSERT_TRUE(same_bits(sq, sq_ref)) << w << " sq";
      float_bn_normalize(isa, x.data(), rows, c, gamma.data(), mean.data(), inv.data(), beta.data(), clamp, y.data());
      ASSERT_TRUE(same_bits(y, y_ref)) << w << " normalize";
      float_bn_grad_sums(isa, x.data(), dy.data(), rows, c, mean.data(), inv.data(), gamma.data(), beta.data(), clamp,
                         sdy.data(), sdyx.data());
      ASSERT_TRUE(same_bits(sdy, sdy_ref)) << w << " sdy";
      ASSERT_TRUE(same_bits(sdyx, sdyx_ref)) << w << " sdyx";
      float_bn_input_grad(isa, x.data(), dy.data(), rows, c, mean.data(), inv.data(), gamma.data(), beta.data(),
                          clamp, a.data(), static_cast<double>(rows), sdy_ref.data(), sdyx_ref.data(), dx.data());
      ASSERT_TRUE(same_bits(dx, dx_ref)) << w << " input gradient";
    }
    // The sums of two ranges of channels taken apart (ld = c), as
    // BatchNormalization splits them over threads: the same bits.
    const int64_t k = rng.below(c + 1);
    std::vector<Isa> all = isas;
    all.push_back(Isa::kReference);
    for (Isa isa : all) {
      const std::string w = std::string(isa_name(isa)) + " " + what_c + " split at " + std::to_string(k);
      std::vector<double> sum = start, sq = start, sdy = start, sdyx(c, 0.0);
      for (const auto [k0, k1] : {std::pair<int64_t, int64_t>{0, k}, {k, c}}) {
        if (k0 == k1) continue;
        float_bn_sums(isa, x.data() + k0, rows, k1 - k0, sum.data() + k0, c);
        float_bn_sq(isa, x.data() + k0, rows, k1 - k0, mean.data() + k0, sq.data() + k0, c);
        float_bn_grad_sums(isa, x.data() + k0, dy.data() + k0, rows, k1 - k0, mean.data() + k0, inv.data() + k0,
                           gamma.data() + k0, beta.data() + k0, clamp, sdy.data() + k0, sdyx.data() + k0, c);
      }
      ASSERT_TRUE(same_bits(sum, sum_ref)) << w << " sums";
      ASSERT_TRUE(same_bits(sq, sq_ref)) << w << " sq";
      ASSERT_TRUE(same_bits(sdy, sdy_ref)) << w << " sdy";
      ASSERT_TRUE(same_bits(sdyx, sdyx_ref)) << w << " sdyx";
    }
  }
}

// The sums against an independent oracle: exact small integers, whose double
// sums are exact in any order.
TEST(KernelIsa, BatchNormSumsOfIntegersAreExact) {
  Rng rng(78);
  const int64_t rows = 37, c = 19;
  std::vector<float> x(rows * c);
  for (float& v : x) v = static_cast<float>(static_cast<int>(rng.below(201)) - 100);
  std::vector<double> want(c, 0.0);
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t k = 0; k < c; ++k) want[k] += x[r * c + k];
  for (Isa isa : {Isa::kReference, Isa::kAvx2, Isa::kAvx512}) {
    if (!isa_supported(isa)) continue;
    std::vector<double> got(c, 0.0);
    float_bn_sums(isa, x.data(), rows, c, got.data());
    EXPECT_EQ(got, want) << isa_name(isa);
  }
}

TEST(KernelIsa, ClampKernelsMatchReferenceBitForBit) {
  const auto isas = fast_isas();
  if (isas.empty()) GTEST_SKIP() << "no AVX2/AVX-512 on this CPU";
  Rng rng(79);
  const float specials[] = {0.0f, -0.0f, 6.0f, -6.0f, INFINITY, -INFINITY, NAN, 1e-40f, -1e-40f, 5.9999995f};
  for (int trial = 0; trial < 60; ++trial) {
    const int64_t n = 1 + rng.below(200);
    std::vector<float> x = rand_vec(n, rng, -9.0f, 9.0f), dy = rand_vec(n, rng);
    for (int64_t i = 0; i < n; i += 1 + rng.below(4)) x[i] = specials[rng.below(std::size(specials))];
    for (float hi : {6.0f, INFINITY, 0.5f}) {
      std::vector<float> y_ref(n), dx_ref(n);
      float_clamp_forward(Isa::kReference, x.data(), y_ref.data(), n, hi);
      float_clamp_backward(Isa::kReference, x.data(), dy.data(), dx_ref.data(), n, hi);
      for (int64_t i = 0; i < n; ++i) {  // the definition, element by element
        const float want = std::isnan(x[i]) || x[i] <= 0.0f ? 0.0f : std::min(x[i], hi);
        ASSERT_EQ(std::memcmp(&y_ref[i], &want, sizeof(float)), 0) << "x=" << x[i] << " hi=" << hi;
      }
      for (Isa isa : isas) {
        std::vector<float> y(n, 9.0f), dx(n, 9.0f);
        float_clamp_forward(isa, x.data(), y.data(), n, hi);
        ASSERT_TRUE(same_bits(y, y_ref)) << isa_name(isa) << " clamp forward hi=" << hi;
        float_clamp_backward(isa, x.data(), dy.data(), dx.data(), n, hi);
        ASSERT_TRUE(same_bits(dx, dx_ref)) << isa_name(isa) << " clamp backward hi=" << hi;
      }
    }
  }
}

TEST(KernelIsa, UnsupportedIsaIsAnError) {
  for (Isa isa : {Isa::kAvx2, Isa::kAvx512}) {
    if (isa_supported(isa)) continue;
    PatchGeom g;
    EXPECT_THROW(float_patch_forward(isa, g, nullptr, nullptr, nullptr, FloatAct::kLinear, nullptr), Error);
  }
  EXPECT_TRUE(isa_supported(Isa::kReference));
}

}  // namespace
