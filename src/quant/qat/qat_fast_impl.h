// The element loops of QAT's training passes, compiled once per ISA
// (qat_fast.cpp baseline, qat_fast_avx2.cpp, qat_fast_avx512.cpp) from this
// one definition. Each includer defines QLITE_QAT_FAST_NS first.
//
// They compute exactly the numbers of the library's fake_quant_value /
// fake_quant_mask / finite_range (qparams.h): tests/qat/qat_fast_fq_test.cpp
// holds every ISA to that. no-trapping-math lets GCC turn the float selects
// into min/max/blend instructions (otherwise it keeps branches in case a
// comparison traps); qlite never enables FP exceptions, so nothing observable
// changes. The loops contain no multiply-add pair, so FMA contraction cannot
// change a result.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC optimize("no-trapping-math")
#endif

#include <cstdint>
#include <limits>

#include "qlite/quant/qparams.h"

namespace qlite::quant::detail::QLITE_QAT_FAST_NS {

inline void fake_quant_loop(const float* x, float* y, int64_t n, const QuantParams& p) {
  if (p.degenerate) {
    for (int64_t i = 0; i < n; ++i) y[i] = 0.0f;
    return;
  }
  const float lo = p.nudged_min, hi = p.nudged_max, scale = p.scale;
  const float top = static_cast<float>(p.qmax - p.qmin);
  const float base = static_cast<float>(p.qmin - p.zero_point);
  for (int64_t i = 0; i < n; ++i) {
    const float v = x[i];
    float c = v < hi ? v : hi;
    c = c > lo ? c : lo;
    float steps = static_cast<float>(static_cast<int32_t>((c - lo) / scale + 0.5f));
    steps = steps < top ? steps : top;
    const float out = (base + steps) * scale;
    y[i] = v == v ? out : 0.0f;  // NaN -> real 0
  }
}

inline void fake_quant_mask_loop(const float* x, const float* dy, float* dx, int64_t n, const QuantParams& p) {
  if (p.degenerate) {
    if (dx != dy)
      for (int64_t i = 0; i < n; ++i) dx[i] = dy[i];
    return;
  }
  const float lo = p.nudged_min, hi = p.nudged_max;
  // dy * mask, as fake_quant_backward (so an infinite dy outside gives NaN there too).
  for (int64_t i = 0; i < n; ++i) {
    const float d = dy[i];
    dx[i] = d * (((x[i] >= lo) & (x[i] <= hi)) ? 1.0f : 0.0f);
  }
}

// In-place fake quant for a layer whose activation is fused (act: 0 linear,
// 1 ReLU, 2 ReLU6), recording per element what the backward pass needs, so
// the pre-quantization output need not be kept: keep[i] = 0 where the
// activation's derivative is 0 (act_grad's select), 1 inside the nudged
// range (dy * 1), 2 outside it (dy * 0, so an infinite dy gives NaN as in the
// unfused chain). y may alias x.
template <int kAct>
inline void fake_quant_keep_loop_act(const float* x, float* y, uint8_t* keep, int64_t n, const QuantParams& p) {
  const float lo = p.nudged_min, hi = p.nudged_max, scale = p.scale;
  const float top = static_cast<float>(p.qmax - p.qmin);
  const float base = static_cast<float>(p.qmin - p.zero_point);
  const bool degenerate = p.degenerate;
  for (int64_t i = 0; i < n; ++i) {
    const float v = x[i];
    bool act = true;
    if constexpr (kAct == 1) act = v > 0.0f;
    if constexpr (kAct == 2) act = (v > 0.0f) & (v < 6.0f);
    const bool inside = degenerate | ((v >= lo) & (v <= hi));
    keep[i] = static_cast<uint8_t>(act ? (inside ? 1 : 2) : 0);
    float c = v < hi ? v : hi;
    c = c > lo ? c : lo;
    float steps = static_cast<float>(static_cast<int32_t>((c - lo) / scale + 0.5f));
    steps = steps < top ? steps : top;
    const float out = (base + steps) * scale;
    y[i] = ((v == v) & !degenerate) ? out : 0.0f;  // NaN -> real 0
  }
}

inline void fake_quant_keep_loop(const float* x, float* y, uint8_t* keep, int64_t n, const QuantParams& p,
                                 int act) {
  if (act == 1) return fake_quant_keep_loop_act<1>(x, y, keep, n, p);
  if (act == 2) return fake_quant_keep_loop_act<2>(x, y, keep, n, p);
  fake_quant_keep_loop_act<0>(x, y, keep, n, p);
}

// The gradient fake_quant_keep_loop's record stands for: dz = 0, dy * 1 or dy * 0.
inline void keep_backward_loop(const uint8_t* keep, const float* dy, float* dz, int64_t n) {
  for (int64_t i = 0; i < n; ++i) {
    const uint8_t k = keep[i];
    const float d = dy[i] * (k == 1 ? 1.0f : 0.0f);
    dz[i] = k == 0 ? 0.0f : d;
  }
}

// Min / max of the finite values. The result does not depend on the order of
// visits (up to the sign of a zero, invisible downstream: ranges are extended
// to contain 0), so lanes may be reduced in any order.
inline void finite_range_loop(const float* x, int64_t n, float* out_min, float* out_max) {
  constexpr int kLanes = 16;
  float mn[kLanes], mx[kLanes];
  for (int k = 0; k < kLanes; ++k) {
    mn[k] = std::numeric_limits<float>::infinity();
    mx[k] = -std::numeric_limits<float>::infinity();
  }
  int64_t i = 0;
  for (; i + kLanes <= n; i += kLanes)
    for (int k = 0; k < kLanes; ++k) {
      const float v = x[i + k];
      const float d = v - v;  // 0 only for finite v
      const float a = d == 0.0f ? v : std::numeric_limits<float>::infinity();
      const float b = d == 0.0f ? v : -std::numeric_limits<float>::infinity();
      mn[k] = a < mn[k] ? a : mn[k];
      mx[k] = b > mx[k] ? b : mx[k];
    }
  for (; i < n; ++i) {
    const float v = x[i];
    if (!((v - v) == 0.0f)) continue;
    mn[0] = v < mn[0] ? v : mn[0];
    mx[0] = v > mx[0] ? v : mx[0];
  }
  float lo = mn[0], hi = mx[0];
  for (int k = 1; k < kLanes; ++k) {
    lo = mn[k] < lo ? mn[k] : lo;
    hi = mx[k] > hi ? mx[k] : hi;
  }
  *out_min = lo;
  *out_max = hi;
}

}  // namespace qlite::quant::detail::QLITE_QAT_FAST_NS
