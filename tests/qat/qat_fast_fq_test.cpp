// The vectorisable fake quant used by the QAT layers gives exactly the
// numbers of the library's fake_quant_value / fake_quant_mask.
#include <cmath>
#include <cstring>
#include <limits>

#include "qat_test_util.h"
#include "quant/qat/qat_fast_isa.h"
#include "quant/qat/qat_internal.h"

namespace qlite::quant {
namespace {
using namespace testing;

// Every instance this CPU can run: (fake quant, mask, range).
struct Impl {
  const char* name;
  void (*fq)(const float*, float*, int64_t, const QuantParams&);
  void (*mask)(const float*, const float*, float*, int64_t, const QuantParams&);
  void (*range)(const float*, int64_t, float*, float*);
};
std::vector<Impl> impls() {
  std::vector<Impl> v = {{"base", detail::fake_quant_base, detail::fake_quant_mask_base, detail::finite_range_base}};
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))
    v.push_back({"avx2", detail::fake_quant_avx2, detail::fake_quant_mask_avx2, detail::finite_range_avx2});
  if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512dq") &&
      __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512vnni"))
    v.push_back({"avx512", detail::fake_quant_avx512, detail::fake_quant_mask_avx512, detail::finite_range_avx512});
  return v;
}

TEST(QatFastFakeQuant, BitIdenticalToTheLibrary) {
  const float inf = std::numeric_limits<float>::infinity();
  const float nan = std::numeric_limits<float>::quiet_NaN();
  struct R {
    float lo, hi;
    QuantScheme s;
  };
  const R ranges[] = {{-6.0f, 6.0f, kActivationScheme}, {-0.5f, 1.5f, kActivationScheme},
                      {0.0f, 3.7f, kActivationScheme},  {-0.31f, 0.31f, kWeightScheme},
                      {-1.0f, 2.0f, {4, false, false}}, {-2.0f, 2.0f, {3, true, true}},
                      {0.0f, 0.0f, kActivationScheme}};
  Rng rng(3);
  for (const R& r : ranges) {
    const QuantParams p = choose_quant_params(r.lo, r.hi, r.s);
    std::vector<float> x = {nan, inf, -inf, 0.0f, -0.0f, p.nudged_min, p.nudged_max,
                            std::nextafter(p.nudged_min, -inf), std::nextafter(p.nudged_max, inf)};
    // Grid points and the midpoints between them (rounding ties).
    for (int q = p.qmin; q <= p.qmax; ++q) {
      x.push_back(static_cast<float>(q - p.zero_point) * p.scale);
      x.push_back((static_cast<float>(q - p.zero_point) + 0.5f) * p.scale);
    }
    for (int i = 0; i < 4000; ++i) x.push_back(rng.uniform(2.0f * r.lo - 1.0f, 2.0f * r.hi + 1.0f));
    for (const Impl& impl : impls()) {
    SCOPED_TRACE(impl.name);
    std::vector<float> y(x.size()), dy(x.size(), 1.5f), dx(x.size());
    impl.fq(x.data(), y.data(), static_cast<int64_t>(x.size()), p);
    impl.mask(x.data(), dy.data(), dx.data(), static_cast<int64_t>(x.size()), p);
    for (size_t i = 0; i < x.size(); ++i) {
      const float want = fake_quant_value(x[i], p);
      ASSERT_EQ(std::memcmp(&y[i], &want, sizeof(float)) == 0 || (y[i] == 0.0f && want == 0.0f), true)
          << "x " << x[i] << " got " << y[i] << " want " << want << " range " << r.lo << "," << r.hi;
      ASSERT_EQ(dx[i], 1.5f * fake_quant_mask(x[i], p)) << "x " << x[i];
    }
    }
  }
}

TEST(QatFastFakeQuant, RangeAndObserveMatchTheLibrary) {
  const float inf = std::numeric_limits<float>::infinity();
  const float nan = std::numeric_limits<float>::quiet_NaN();
  Rng rng(8);
  for (int trial = 0; trial < 50; ++trial) {
    const int64_t n = 1 + static_cast<int64_t>(rng.below(5000));
    Tensor x = random_tensor({n}, 100 + trial, -3.0f + trial * 0.1f, 2.0f + trial * 0.05f);
    if (trial % 3 == 0) x.f32()[rng.below(n)] = nan;
    if (trial % 4 == 0) x.f32()[rng.below(n)] = inf;
    if (trial % 5 == 0) x.f32()[rng.below(n)] = -inf;
    if (trial == 7)
      for (int64_t i = 0; i < n; ++i) x.f32()[i] = nan;  // nothing finite
    const Range want = finite_range(x.span_f32());
    for (const Impl& impl : impls()) {
      Range got;
      impl.range(x.f32(), n, &got.min, &got.max);
      ASSERT_EQ(got.min, want.min) << impl.name;
      ASSERT_EQ(got.max, want.max) << impl.name;
    }
    // observe_tensor (split over a pool) updates the EMA as Quantizer::observe.
    ThreadPool pool(2);
    for (QuantizerKind k : {QuantizerKind::kMovingAverage, QuantizerKind::kAllValues, QuantizerKind::kLastValue}) {
      Quantizer a(k, QuantizerOptions{});
      Quantizer b(k, QuantizerOptions{});
      a.observe(x);
      detail::observe_tensor(RunContext{true, &pool}, b, x);
      ASSERT_EQ(a.min_values(), b.min_values());
      ASSERT_EQ(a.max_values(), b.max_values());
    }
  }
}

}  // namespace
}  // namespace qlite::quant
