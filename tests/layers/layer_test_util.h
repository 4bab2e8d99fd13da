// Helpers for the layer tests: random tensors, running a layer, and a
// finite-difference gradient check.
#pragma once

#include <cmath>
#include <functional>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "qlite/train.h"

namespace qlite::test {

inline Tensor random_tensor(const Shape& s, Rng& rng, float lo = -1.0f, float hi = 1.0f) {
  Tensor t(s);
  for (float& v : t.span_f32()) v = rng.uniform(lo, hi);
  return t;
}

inline Tensor make_tensor(const Shape& s, std::vector<float> v) {
  Tensor t(s);
  EXPECT_EQ(static_cast<int64_t>(v.size()), t.numel());
  for (size_t i = 0; i < v.size(); ++i) t.f32()[i] = v[i];
  return t;
}

inline Tensor run_forward(Layer& l, const Tensor& x, ThreadPool* pool = nullptr) {
  Tensor out;
  const Tensor* in[1] = {&x};
  RunContext ctx{true, pool};
  l.forward(in, out, ctx);
  return out;
}

// Backward with dL/dout = dout; returns dL/dx (empty when want_dx is false).
inline Tensor run_backward(Layer& l, const Tensor& x, const Tensor& out, const Tensor& dout, bool want_dx = true,
                           ThreadPool* pool = nullptr) {
  Tensor dx;
  const Tensor* in[1] = {&x};
  Tensor* din[1] = {want_dx ? &dx : nullptr};
  RunContext ctx{true, pool};
  l.backward(in, out, dout, din, ctx);
  return dx;
}

// L = sum(out * probe) in double.
inline double probe_loss(Layer& l, const Tensor& x, const Tensor& probe) {
  const Tensor out = run_forward(l, x);
  double s = 0;
  for (int64_t i = 0; i < out.numel(); ++i) s += static_cast<double>(out.f32()[i]) * probe.f32()[i];
  return s;
}

struct GradCheckStats {
  int checked = 0;
  int skipped = 0;  // coordinates whose +-eps straddles a kink (relu, relu6, max switch)
};

// Compares analytic[i] with central differences of L over `values` (the
// layer input or a parameter), for up to max_coords coordinates picked at
// random. Every layer here is piecewise linear in any single coordinate, so
// away from kinks the central difference is exact up to float rounding;
// a kink is detected by the one-sided differences disagreeing.
inline GradCheckStats check_gradient(const std::string& what, Layer& l, Tensor& x, Tensor& values,
                                     const Tensor& analytic, const Tensor& probe, Rng& rng, int max_coords = 150,
                                     float eps = 1e-3f) {
  GradCheckStats st;
  EXPECT_EQ(values.shape(), analytic.shape()) << what;
  const int64_t n = values.numel();
  std::vector<int64_t> coords;
  if (n <= max_coords) {
    for (int64_t i = 0; i < n; ++i) coords.push_back(i);
  } else {
    for (int i = 0; i < max_coords; ++i) coords.push_back(static_cast<int64_t>(rng.below(n)));
  }
  for (int64_t i : coords) {
    float& v = values.f32()[i];
    const float keep = v;
    const double l0 = probe_loss(l, x, probe);
    v = keep + eps;
    const double lp = probe_loss(l, x, probe);
    v = keep - eps;
    const double lm = probe_loss(l, x, probe);
    v = keep;
    const double fwd = (lp - l0) / eps, bwd = (l0 - lm) / eps;
    const double scale = std::max({1.0, std::fabs(fwd), std::fabs(bwd)});
    if (std::fabs(fwd - bwd) > 1e-2 * scale + 2e-3) {
      ++st.skipped;
      continue;
    }
    const double numeric = (lp - lm) / (2 * eps);
    const double a = analytic.f32()[i];
    EXPECT_NEAR(a, numeric, 1e-2 * std::max(std::fabs(a), std::fabs(numeric)) + 2e-3)
        << what << " coordinate " << i;
    ++st.checked;
  }
  EXPECT_LE(st.skipped * 4, static_cast<int>(coords.size())) << what << ": too many kinks to check";
  return st;
}

}  // namespace qlite::test
