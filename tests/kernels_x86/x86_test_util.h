// Shared helpers of the optimized-int8 tests: the ISAs this CPU can run,
// random quantized operands, awkward-shape generators and guarded buffers
// that detect writes outside the output.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <sstream>
#include <string>
#include <vector>

#include "kernels/int8_kernels_x86.h"
#include "kernels/reference/int8_kernels.h"
#include "qlite/core.h"

namespace qlite::kernels::test {

namespace ref = ::qlite::ref;

inline std::vector<Isa> runnable_isas() {
  std::vector<Isa> v;
  for (Isa i : {Isa::kReference, Isa::kAvx2, Isa::kAvx512})
    if (int8_isa_available(i)) v.push_back(i);
  return v;
}

constexpr int32_t kZeroPoints[] = {-128, -1, 0, 5, 127};
constexpr Activation kActs[] = {Activation::kLinear, Activation::kRelu,
                                          Activation::kRelu6, Activation::kReluN1To1};

inline int pick(Rng& rng, int lo, int hi) { return lo + static_cast<int>(rng.below(static_cast<uint64_t>(hi - lo + 1))); }
template <class T, size_t N>
T pick_of(Rng& rng, const T (&a)[N]) {
  return a[rng.below(N)];
}

inline std::vector<int8_t> rand_i8(Rng& rng, int64_t n) {
  std::vector<int8_t> v(static_cast<size_t>(n));
  for (auto& x : v) x = static_cast<int8_t>(static_cast<int>(rng.below(256)) - 128);
  return v;
}

// Channel counts the tests sweep: ragged around the 4-, 8- and 16-lane blocks.
inline int rand_channels(Rng& rng) { return rng.below(4) == 0 ? pick(rng, 61, 67) : pick(rng, 1, 33); }

// Requantization that spans shifts: weight scales over several octaves per
// channel, so per-channel multipliers get different shifts.
struct Quant {
  float in_scale, out_scale;
  int32_t in_zp, out_zp;
  std::vector<float> w_scales;
  ref::ActRange act;
  std::vector<ref::QuantizedMultiplier> requant;
};
inline Quant rand_quant(Rng& rng, int channels, int k) {
  Quant q;
  q.in_scale = 0.005f + 0.05f * rng.uniform();
  q.in_zp = pick_of(rng, kZeroPoints);
  q.out_zp = pick_of(rng, kZeroPoints);
  const bool per_channel = rng.below(3) != 0;
  const int n = per_channel ? channels : 1;
  for (int c = 0; c < n; ++c) q.w_scales.push_back(std::ldexp(0.5f + rng.uniform(), -pick(rng, 4, 12)));
  // Output scale near the accumulator's real range, so outputs are not all saturated.
  q.out_scale = q.in_scale * q.w_scales[0] * std::sqrt(static_cast<float>(k)) * 128.0f * (0.05f + rng.uniform());
  q.act = ref::fused_activation_range(pick_of(rng, kActs), q.out_scale, q.out_zp);
  q.requant = ref::make_requant(q.in_scale, q.w_scales, q.out_scale);
  return q;
}

inline std::vector<int32_t> rand_bias(Rng& rng, int n, int64_t spread) {
  std::vector<int32_t> b(static_cast<size_t>(n));
  for (auto& x : b) x = static_cast<int32_t>(static_cast<int64_t>(rng.below(2 * spread + 1)) - spread);
  return b;
}

// An output with kGuard sentinel bytes on both sides.
struct Guarded {
  static constexpr size_t kGuard = 64;
  static constexpr int8_t kSentinel = 0x5A;
  std::vector<int8_t> buf;
  explicit Guarded(size_t n) : buf(n + 2 * kGuard, kSentinel) {}
  int8_t* data() { return buf.data() + kGuard; }
  std::vector<int8_t> body() const {
    return {buf.begin() + kGuard, buf.end() - static_cast<std::ptrdiff_t>(kGuard)};
  }
  bool guards_intact() const {
    for (size_t i = 0; i < kGuard; ++i)
      if (buf[i] != kSentinel || buf[buf.size() - 1 - i] != kSentinel) return false;
    return true;
  }
};

// Scratch with a guard after scratch_bytes: kernels must stay inside what they asked for.
struct Scratch {
  std::vector<uint8_t> buf;
  size_t n;
  explicit Scratch(size_t bytes) : buf(bytes + 64, 0xA5), n(bytes) {}
  void* data() { return buf.data(); }
  bool guard_intact() const {
    for (size_t i = n; i < buf.size(); ++i)
      if (buf[i] != 0xA5) return false;
    return true;
  }
};

inline std::string geom_str(const ref::WindowGeometry& g) {
  // A stream, not chained "literal" + std::string: GCC 12 reports a false
  // -Wrestrict inside std::string for that chain at -O2.
  std::ostringstream o;
  o << "b" << g.batch << " in " << g.in_h << "x" << g.in_w << "x" << g.in_c << " out " << g.out_h << "x" << g.out_w
    << "x" << g.out_c << " k " << g.kernel_h << "x" << g.kernel_w << " s " << g.stride_h << "x" << g.stride_w << " d "
    << g.dilation_h << "x" << g.dilation_w << " pad " << g.pad_top << "," << g.pad_left;
  return o.str();
}

// A random window geometry whose VALID / SAME output is non-empty.
inline ref::WindowGeometry rand_geometry(Rng& rng, int in_c, int out_c, int max_kernel, bool dilation) {
  for (;;) {
    ref::WindowGeometry g;
    g.batch = rng.below(4) == 0 ? pick(rng, 2, 4) : 1;
    g.in_h = pick(rng, 1, 17);
    g.in_w = pick(rng, 1, 19);
    g.in_c = in_c;
    g.out_c = out_c;
    g.kernel_h = pick(rng, 1, max_kernel);
    g.kernel_w = pick(rng, 1, max_kernel);
    g.stride_h = pick(rng, 1, 3);
    g.stride_w = pick(rng, 1, 3);
    if (dilation && rng.below(4) == 0) {
      g.dilation_h = pick(rng, 1, 2);
      g.dilation_w = pick(rng, 1, 2);
    }
    const Padding pad = rng.below(2) ? Padding::kSame : Padding::kValid;
    const int eff_h = (g.kernel_h - 1) * g.dilation_h + 1, eff_w = (g.kernel_w - 1) * g.dilation_w + 1;
    if (pad == Padding::kValid && (eff_h > g.in_h || eff_w > g.in_w)) continue;
    ref::apply_padding(g, pad);
    return g;
  }
}

}  // namespace qlite::kernels::test
