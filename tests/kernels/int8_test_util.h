// Random quantized operands and the "within one quantization step of the
// float reference" oracle shared by the int8 kernel tests.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <vector>

#include "kernels/reference/requantize.h"
#include "qlite/core.h"

namespace qlite::ref::test {

inline std::vector<int8_t> random_int8(Rng& rng, int64_t n, int lo = -128, int hi = 127) {
  std::vector<int8_t> v(static_cast<size_t>(n));
  for (auto& x : v) x = static_cast<int8_t>(lo + static_cast<int>(rng.below(static_cast<uint64_t>(hi - lo + 1))));
  return v;
}

struct QTensor {
  std::vector<int8_t> q;
  float scale = 1.0f;
  int32_t zero_point = 0;
  std::vector<float> real() const {
    std::vector<float> r(q.size());
    for (size_t i = 0; i < q.size(); ++i) r[i] = scale * static_cast<float>(q[i] - zero_point);
    return r;
  }
};

inline QTensor random_activation(Rng& rng, int64_t n) {
  QTensor t;
  t.scale = 0.01f + 0.1f * rng.uniform();
  t.zero_point = static_cast<int32_t>(rng.below(256)) - 128;
  t.q = random_int8(rng, n);
  return t;
}

// [out, k] weights, symmetric narrow range, one scale per output row (or one
// shared scale).
struct QWeights {
  std::vector<int8_t> q;
  std::vector<float> scales;
  int k = 0;
  std::vector<float> real() const {
    std::vector<float> r(q.size());
    for (size_t i = 0; i < q.size(); ++i) r[i] = q[i] * scales[i / static_cast<size_t>(k)];
    return r;
  }
};

inline QWeights random_weights(Rng& rng, int out, int k, bool shared_scale = false) {
  QWeights w;
  w.k = k;
  w.q.resize(static_cast<size_t>(out) * k);
  w.scales.resize(static_cast<size_t>(out));
  const float shared = 0.002f + 0.01f * rng.uniform();
  for (int o = 0; o < out; ++o) {
    w.scales[static_cast<size_t>(o)] = shared_scale ? shared : 0.002f + 0.01f * rng.uniform();
    for (int i = 0; i < k; ++i)
      w.q[static_cast<size_t>(o) * k + i] = static_cast<int8_t>(static_cast<int>(rng.below(255)) - 127);
  }
  return w;
}

inline std::vector<int32_t> random_bias(Rng& rng, int n, float in_scale, const std::vector<float>& w_scales) {
  std::vector<int32_t> b(static_cast<size_t>(n));
  for (int i = 0; i < n; ++i) {
    const double s = double{in_scale} * w_scales[w_scales.size() == 1 ? 0 : static_cast<size_t>(i)];
    b[static_cast<size_t>(i)] = static_cast<int32_t>(std::lround(rng.uniform(-2.0f, 2.0f) / s));
  }
  return b;
}

// dequantize(q) must lie within one step of the float result clamped to the
// activation range: |(q - zp) * scale - clamp(f)| <= scale.
inline void expect_within_one_step(const std::vector<int8_t>& q, const std::vector<float>& f, float scale,
                                   int32_t zp, ActRange act = {}) {
  ASSERT_EQ(q.size(), f.size());
  const double lo = (static_cast<double>(act.min) - zp) * scale, hi = (static_cast<double>(act.max) - zp) * scale;
  int exact = 0;
  for (size_t i = 0; i < q.size(); ++i) {
    const double want = std::clamp(double{f[i]}, lo, hi);
    const double got = (static_cast<double>(q[i]) - zp) * scale;
    ASSERT_LE(std::fabs(got - want), scale * (1.0 + 1e-4)) << "element " << i << " q=" << int{q[i]};
    if (q[i] == static_cast<int8_t>(std::clamp<double>(std::round(want / scale + zp), act.min, act.max))) ++exact;
  }
  // Rounding differences are rare: most elements are the correctly rounded value.
  EXPECT_GE(exact * 10, static_cast<int>(q.size()) * 9);
}

}  // namespace qlite::ref::test
