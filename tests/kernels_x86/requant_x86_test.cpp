// The vectorised requantization stage against requantize.h, value by value:
// edge accumulators (INT32_MIN/MAX, powers of two and their neighbours,
// rounding ties), every shift -31..31, multipliers 0, 2^30, near 2^31,
// per-channel constants that differ lane to lane, all zero points and ranges,
// in both rounding forms (half up for conv / FC, double rounding otherwise).
#include <algorithm>
#include <limits>

#include "x86_test_util.h"

namespace qlite::kernels::test {
namespace {

constexpr ref::Rounding kForms[] = {ref::Rounding::kDoubleRounding, ref::Rounding::kHalfUp};

int8_t oracle(int32_t acc, ref::QuantizedMultiplier m, ref::Rounding form, int32_t zp, ref::ActRange act) {
  const int64_t v = int64_t{ref::multiply_by_quantized_multiplier(acc, m, form)} + zp;
  return static_cast<int8_t>(std::clamp<int64_t>(v, act.min, act.max));
}

std::vector<int32_t> edge_accumulators(Rng& rng) {
  std::vector<int32_t> v = {std::numeric_limits<int32_t>::min(), std::numeric_limits<int32_t>::min() + 1,
                            std::numeric_limits<int32_t>::max(), std::numeric_limits<int32_t>::max() - 1,
                            0, 1, -1, 2, -2, 3, -3};
  for (int e = 0; e < 31; ++e) {
    const int32_t p = int32_t{1} << e;
    for (int32_t d : {-1, 0, 1}) {
      v.push_back(p + d);
      v.push_back(-p + d);
      v.push_back(p / 2 * 3 + d);  // ties of a division by 2^(e-1)
      v.push_back(-(p / 2 * 3) + d);
    }
  }
  for (int i = 0; i < 400; ++i) v.push_back(static_cast<int32_t>(static_cast<uint32_t>(rng.next_u64())));
  for (int i = 0; i < 200; ++i) v.push_back(static_cast<int32_t>(rng.below(1 << 16)) - (1 << 15));
  return v;
}

std::vector<int32_t> edge_multipliers(Rng& rng) {
  std::vector<int32_t> v = {0, int32_t{1} << 30, (int32_t{1} << 30) + 1, std::numeric_limits<int32_t>::max(),
                            std::numeric_limits<int32_t>::max() - 1, 1518500250};
  for (int i = 0; i < 6; ++i) v.push_back((int32_t{1} << 30) + static_cast<int32_t>(rng.below(int64_t{1} << 30)));
  return v;
}

// Runs acc (pixels x channels) through `isa` and compares with the oracle.
void expect_matches(Isa isa, ref::Rounding form, const std::vector<ref::QuantizedMultiplier>& rq, int channels,
                    int32_t zp, ref::ActRange act, const std::vector<int32_t>& acc) {
  const int lanes = isa == Isa::kAvx512 ? 16 : isa == Isa::kAvx2 ? 8 : 1;
  const Int8Requant r = make_int8_requant(rq, channels, lanes, zp, act, form);
  const int64_t pixels = static_cast<int64_t>(acc.size()) / channels;
  Guarded out(static_cast<size_t>(pixels * channels));
  requantize_channels_int8(isa, r, pixels, acc.data(), out.data());
  ASSERT_TRUE(out.guards_intact()) << isa_name(isa);
  const std::vector<int8_t> got = out.body();
  for (int64_t i = 0; i < pixels * channels; ++i) {
    const auto& m = rq.size() == 1 ? rq[0] : rq[static_cast<size_t>(i % channels)];
    ASSERT_EQ(got[static_cast<size_t>(i)], oracle(acc[static_cast<size_t>(i)], m, form, zp, act))
        << isa_name(isa) << (form == ref::Rounding::kHalfUp ? " half-up" : " double-rounding") << " acc " << acc[static_cast<size_t>(i)] << " multiplier " << m.multiplier << " shift "
        << m.shift << " zp " << zp << " act [" << act.min << ", " << act.max << "]";
  }
}

TEST(RequantX86, EveryShiftAndEdgeValuePerTensor) {
  Rng rng(1);
  const std::vector<int32_t> accs = edge_accumulators(rng);
  for (Isa isa : runnable_isas())
    for (int shift = -31; shift <= 31; ++shift)
      for (int32_t mult : edge_multipliers(rng)) {
        const int32_t zp = pick_of(rng, kZeroPoints);
        const ref::ActRange act = rng.below(2) ? ref::ActRange{-128, 127} : ref::ActRange{std::max(-128, zp), 127};
        // One channel; per-tensor constants apply to every lane.
        for (ref::Rounding form : kForms) expect_matches(isa, form, {{mult, shift}}, 1, zp, act, accs);
        if (HasFatalFailure()) return;
      }
}

TEST(RequantX86, PerChannelConstantsDifferLaneToLane) {
  Rng rng(2);
  const std::vector<int32_t> accs0 = edge_accumulators(rng);
  for (Isa isa : runnable_isas())
    for (int channels : {1, 2, 7, 8, 9, 15, 16, 17, 33, 67}) {
      for (int rep = 0; rep < 6; ++rep) {
        std::vector<ref::QuantizedMultiplier> rq;
        const std::vector<int32_t> mults = edge_multipliers(rng);
        for (int c = 0; c < channels; ++c) rq.push_back({mults[rng.below(mults.size())], pick(rng, -31, 31)});
        const int32_t zp = pick_of(rng, kZeroPoints);
        const ref::ActRange act = ref::fused_activation_range(pick_of(rng, kActs), 0.05f, zp);
        // Every accumulator meets every channel.
        std::vector<int32_t> accs;
        for (int32_t a : accs0)
          for (int c = 0; c < channels; ++c) accs.push_back(c == 0 ? a : accs0[rng.below(accs0.size())]);
        for (ref::Rounding form : kForms) expect_matches(isa, form, rq, channels, zp, act, accs);
        if (HasFatalFailure()) return;
      }
    }
}

TEST(RequantX86, SlowRandomSweep) {
  Rng rng(3);
  for (Isa isa : runnable_isas())
    for (int rep = 0; rep < 300; ++rep) {
      const int channels = pick(rng, 1, 40);
      std::vector<ref::QuantizedMultiplier> rq;
      for (int c = 0; c < channels; ++c)
        rq.push_back({(int32_t{1} << 30) + static_cast<int32_t>(rng.below(int64_t{1} << 30)), pick(rng, -31, 31)});
      std::vector<int32_t> accs(static_cast<size_t>(channels) * 257);
      for (auto& a : accs) a = static_cast<int32_t>(static_cast<uint32_t>(rng.next_u64()) >> rng.below(32));
      expect_matches(isa, kForms[rep % 2], rq, channels, pick_of(rng, kZeroPoints), {-128, 127}, accs);
      if (HasFatalFailure()) return;
    }
}

// The 64-bit constants the AVX-512 path uses (round64, fix64, shift64, stored
// even lanes then odd lanes), evaluated in scalar code: this runs on any CPU,
// also one without AVX-512 VNNI where the vector path cannot be exercised.
TEST(RequantX86, SixtyFourBitConstantsMatchBothForms) {
  Rng rng(4);
  const std::vector<int32_t> accs = edge_accumulators(rng);
  const int lanes = 16, channels = 37;
  for (ref::Rounding form : kForms)
    for (int rep = 0; rep < 20; ++rep) {
      std::vector<ref::QuantizedMultiplier> rq;
      const std::vector<int32_t> mults = edge_multipliers(rng);
      for (int c = 0; c < channels; ++c) rq.push_back({mults[rng.below(mults.size())], pick(rng, -31, 31)});
      const Int8Requant r = make_int8_requant(rq, channels, lanes, 0, {-128, 127}, form);
      for (int c = 0; c < channels; ++c) {
        const int lane = c % lanes;
        const size_t slot = static_cast<size_t>(c / lanes * lanes + (lane % 2 == 0 ? lane / 2 : lanes / 2 + lane / 2));
        for (int32_t acc : accs) {
          const int32_t shifted = static_cast<int32_t>(static_cast<uint32_t>(acc) << r.left[static_cast<size_t>(c)]);
          const int64_t p = int64_t{shifted} * r.multiplier[static_cast<size_t>(c)];
          const int64_t v = (p + r.round64[slot] - (p < -(int64_t{1} << 30) ? r.fix64[slot] : 0)) >> r.shift64[slot];
          ASSERT_EQ(v, ref::multiply_by_quantized_multiplier(acc, rq[static_cast<size_t>(c)], form))
              << (form == ref::Rounding::kHalfUp ? "half-up" : "double-rounding") << " acc " << acc << " multiplier "
              << rq[static_cast<size_t>(c)].multiplier << " shift " << rq[static_cast<size_t>(c)].shift;
        }
      }
    }
}

}  // namespace
}  // namespace qlite::kernels::test
