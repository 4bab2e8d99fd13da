// The vectorisable fake quant used by the QAT layers gives exactly the
// numbers of the library's fake_quant_value / fake_quant_mask.
#include <cmath>
#include <cstring>
#include <limits>
#include <string>

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

// The in-place fake quant with its backward record gives the numbers of the
// unfused chain: fake_quant_value forward; backward the STE product
// dy * fake_quant_mask, then the activation's derivative as a select
// (ReLU: out > 0, ReLU6: 0 < out < 6, from the pre-quantization output).
TEST(QatFastFakeQuant, InPlaceWithRecordMatchesUnfusedChain) {
  const float inf = std::numeric_limits<float>::infinity();
  const float nan = std::numeric_limits<float>::quiet_NaN();
  using KeepFn = void (*)(const float*, float*, uint8_t*, int64_t, const QuantParams&, int);
  using BackFn = void (*)(const uint8_t*, const float*, float*, int64_t);
  struct K {
    const char* name;
    KeepFn keep;
    BackFn back;
  };
  std::vector<K> ks = {{"base", detail::fake_quant_keep_base, detail::keep_backward_base}};
  for (const Impl& i : impls()) {
    if (std::string(i.name) == "avx2") ks.push_back({"avx2", detail::fake_quant_keep_avx2, detail::keep_backward_avx2});
    if (std::string(i.name) == "avx512")
      ks.push_back({"avx512", detail::fake_quant_keep_avx512, detail::keep_backward_avx512});
  }
  Rng rng(5);
  for (const float hi : {3.0f, 7.5f, 0.0f}) {  // 0: a degenerate range
    const QuantParams p = choose_quant_params(hi == 0.0f ? 0.0f : -1.0f, hi, kActivationScheme);
    std::vector<float> x = {nan, inf, -inf, 0.0f, -0.0f, 6.0f, std::nextafter(6.0f, 0.0f), p.nudged_min,
                            p.nudged_max, std::nextafter(p.nudged_max, inf), std::nextafter(p.nudged_min, -inf)};
    for (int i = 0; i < 3000; ++i) x.push_back(rng.uniform(-2.0f, hi + 2.0f));
    const int64_t n = static_cast<int64_t>(x.size());
    std::vector<float> dy(x.size());
    for (size_t i = 0; i < dy.size(); ++i) dy[i] = i % 97 == 5 ? inf : rng.uniform(-1.0f, 1.0f);
    for (int act = 0; act <= 2; ++act)
      for (const K& k : ks) {
        SCOPED_TRACE(::testing::Message() << k.name << " act " << act << " hi " << hi);
        std::vector<float> y = x;  // in place
        std::vector<uint8_t> keep(x.size());
        std::vector<float> dz(x.size());
        k.keep(y.data(), y.data(), keep.data(), n, p, act);
        k.back(keep.data(), dy.data(), dz.data(), n);
        for (size_t i = 0; i < x.size(); ++i) {
          const float v = x[i];
          const float want_y = fake_quant_value(v, p);
          ASSERT_TRUE(std::memcmp(&y[i], &want_y, sizeof(float)) == 0 || (y[i] == 0.0f && want_y == 0.0f))
              << "x " << v << " got " << y[i] << " want " << want_y;
          const float ste = dy[i] * fake_quant_mask(v, p);
          const bool slope = act == 0 || (act == 1 && v > 0.0f) || (act == 2 && v > 0.0f && v < 6.0f);
          const float want_dz = slope ? ste : 0.0f;
          ASSERT_TRUE(std::memcmp(&dz[i], &want_dz, sizeof(float)) == 0 || (std::isnan(dz[i]) && std::isnan(want_dz)))
              << "x " << v << " dy " << dy[i] << " got " << dz[i] << " want " << want_dz;
        }
      }
  }
}

}  // namespace
}  // namespace qlite::quant
