// int16 SUB against the real TensorFlow Lite 2.9, both of its kernels:
// with SubOptions.pot_scale_int16 (the schema's default), every scale a
// power of two within CheckedLog2's tolerance and every zero point 0, the
// shift-only kernel (Sub16, shared with ADD's in int16_kernels.cpp);
// otherwise the general rescaling (left shift 15). Same-shape inputs, the
// second a constant or a graph input; output bytes identical, or both refuse
// (zero points other than 0 on either path; on the shift-only one an input
// scale above the output's, or both inputs shifted).
// A failure under CI=true when the peer is missing (scripts/install_peers.sh).
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "single_op_peer.h"

namespace qlite::test {
namespace {

using T = TensorType;

int pick(Rng& rng, int lo, int hi) { return lo + static_cast<int>(rng.below(static_cast<uint64_t>(hi - lo + 1))); }

std::vector<int16_t> rand_int16(Rng& rng, int64_t n) {
  std::vector<int16_t> v(static_cast<size_t>(n));
  for (auto& x : v) {
    const uint64_t k = rng.below(8);
    x = k == 0  ? static_cast<int16_t>(rng.below(2) ? 32767 : -32768)
        : k < 4 ? static_cast<int16_t>(static_cast<int64_t>(rng.below(65536)) - 32768)
                : static_cast<int16_t>(static_cast<int64_t>(rng.below(4001)) - 2000);
  }
  return v;
}

TEST(TfLiteInt16Sub, BothKernelsMatchTfLite) {
  QLITE_REQUIRE_TFLITE_PEER(peer);
  Rng rng(1605);
  int files = 0, pot_files = 0, zp_files = 0, refused = 0;
  int64_t compared = 0;
  const Activation acts[] = {Activation::kLinear, Activation::kRelu, Activation::kRelu6, Activation::kReluN1To1};
  for (int k = 0; k < 200; ++k) {
    const bool pot_flag = rng.below(5) != 0;
    const int kind = static_cast<int>(rng.below(4));  // 0, 1: powers of two; 2: near powers; 3: general
    auto scale = [&](int lo, int hi) {
      const float p2 = std::exp2(static_cast<float>(pick(rng, lo, hi)));
      return kind <= 1 ? p2 : kind == 2 ? p2 * (1.0f + (rng.uniform() - 0.5f) * 1e-3f) : p2 * (0.5f + rng.uniform());
    };
    const float so = scale(-14, -6);
    // Mostly TFLite's rule (one input at the output's scale, the other at
    // most as large); some break it.
    const bool first_at_out = rng.below(2) == 0;
    const float s_small = scale(-16, -6);
    float s1 = first_at_out ? so : s_small, s2 = first_at_out ? s_small : so;
    if (rng.below(6) == 0) s1 = scale(-16, -6), s2 = scale(-16, -6);
    const bool zp = kind == 3 && rng.below(3) == 0;
    const int64_t z1 = zp ? pick(rng, -300, 300) : 0, z2 = zp ? pick(rng, -300, 300) : 0,
                  zo = zp ? pick(rng, -300, 300) : 0;
    lite::SubOptions o;
    o.activation = acts[rng.below(4)];
    o.pot_scale_int16 = pot_flag;
    const int n = pick(rng, 1, 3000);
    const bool constant = rng.below(2) == 0;
    ModelBuilder b;
    const int32_t x = b.add_tensor("x", T::kInt16, {n}, Quantization::per_tensor(s1, z1));
    const int32_t x2 = constant ? b.add_constant("k", T::kInt16, {n}, rand_int16(rng, n), Quantization::per_tensor(s2, z2))
                                : b.add_tensor("x2", T::kInt16, {n}, Quantization::per_tensor(s2, z2));
    const int32_t y = b.add_tensor("y", T::kInt16, {n}, Quantization::per_tensor(so, zo));
    b.add_operator(BuiltinOp::kSub, {x, x2}, {y}, o);
    b.set_inputs(constant ? std::vector<int32_t>{x} : std::vector<int32_t>{x, x2});
    b.set_outputs({y});
    const auto model = b.finish();
    std::vector<std::vector<uint8_t>> ins = {as_bytes(rand_int16(rng, n))};
    if (!constant) ins.push_back(as_bytes(rand_int16(rng, n)));
    std::vector<PeerInput> peer_ins;
    for (const auto& in : ins) peer_ins.push_back(PeerInput{{n}, in});
    SCOPED_TRACE("case " + std::to_string(k) + " scales " + std::to_string(s1) + " " + std::to_string(s2) + " -> " +
                 std::to_string(so) + " zero points " + std::to_string(z1) + " " + std::to_string(z2) + " " +
                 std::to_string(zo) + " pot_scale_int16 " + std::to_string(pot_flag));
    const Outcome theirs = run_in_tflite(*peer, model, peer_ins);
    const Outcome ours = run_in_qlite(model, ins);
    EXPECT_EQ(ours.error.empty(), theirs.error.empty()) << "qlite '" << ours.error << "', TFLite '" << theirs.error << "'";
    if (!theirs.error.empty()) ++refused;
    if (!ours.error.empty() || !theirs.error.empty()) continue;
    int diff = 0;
    for (size_t i = 0; i < ours.bytes.size(); i += 2) diff += std::memcmp(&ours.bytes[i], &theirs.bytes[i], 2) != 0;
    EXPECT_EQ(diff, 0) << diff << " of " << n << " values differ";
    ++files;
    pot_files += pot_flag && kind <= 2;
    zp_files += zp;
    compared += n;
  }
  std::printf("int16 SUB: %d files run (%d power-of-two with the flag, %d with zero points), %d refused by both, "
              "%lld values\n",
              files, pot_files, zp_files, refused, static_cast<long long>(compared));
  EXPECT_GT(pot_files, 60);
  EXPECT_EQ(zp_files, 0);  // TFLite 2.9 refuses int16 SUB with zero points other than 0
  EXPECT_GT(files, 110);
}

}  // namespace
}  // namespace qlite::test
