// ADD with inputs of different shapes (numpy broadcasting up to 4-D) against
// the real TensorFlow Lite 2.9: float32, int8, uint8 and int16 (the general
// kernel), two graph inputs or a graph input and a constant, random shapes
// with stretched dimensions on either side and different ranks.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "qlite/runtime.h"
#include "single_op_peer.h"

namespace qlite::test {
namespace {

using T = TensorType;

int pick(Rng& rng, int lo, int hi) { return lo + static_cast<int>(rng.below(static_cast<uint64_t>(hi - lo + 1))); }

std::vector<uint8_t> rand_values(Rng& rng, T type, int64_t n) {
  std::vector<uint8_t> b;
  if (type == T::kFloat32) {
    std::vector<float> v(static_cast<size_t>(n));
    for (auto& x : v) x = (rng.uniform() * 2.0f - 1.0f) * 10.0f;
    return as_bytes(v);
  }
  if (type == T::kInt16) {
    std::vector<int16_t> v(static_cast<size_t>(n));
    for (auto& x : v) x = static_cast<int16_t>(static_cast<int64_t>(rng.below(65536)) - 32768);
    return as_bytes(v);
  }
  b.resize(static_cast<size_t>(n));
  for (auto& x : b) x = static_cast<uint8_t>(rng.below(256));
  return b;
}

// Two shapes that broadcast to an output of rank <= 4: each dimension of the
// output is kept, or set to 1, or dropped from the front, on either side.
void broadcast_shapes(Rng& rng, std::vector<int32_t>& a, std::vector<int32_t>& b) {
  const int rank = pick(rng, 1, 4);
  std::vector<int32_t> out;
  for (int d = 0; d < rank; ++d) out.push_back(pick(rng, 1, 6));
  a = out, b = out;
  for (int d = 0; d < rank; ++d) {
    const uint64_t k = rng.below(3);
    if (k == 1) a[static_cast<size_t>(d)] = 1;
    if (k == 2) b[static_cast<size_t>(d)] = 1;
  }
  const int drop_a = static_cast<int>(rng.below(static_cast<uint64_t>(rank)));
  if (rng.below(2)) {
    a.erase(a.begin(), a.begin() + drop_a);
  } else {
    b.erase(b.begin(), b.begin() + drop_a);
  }
  if (a.empty()) a = {1};
  if (b.empty()) b = {1};
}

int64_t count(const std::vector<int32_t>& s) {
  int64_t n = 1;
  for (int32_t d : s) n *= d;
  return n;
}

TEST(TfLiteAddBroadcast, MatchesTfLiteOnEveryType) {
  QLITE_REQUIRE_TFLITE_PEER(peer);
  Rng rng(1608);
  int compared = 0, stretched = 0;
  for (int k = 0; k < 240; ++k) {
    const T type = std::vector<T>{T::kFloat32, T::kInt8, T::kUInt8, T::kInt16}[static_cast<size_t>(k % 4)];
    std::vector<int32_t> sa, sb;
    broadcast_shapes(rng, sa, sb);
    const bool quant = type != T::kFloat32;
    auto q = [&](float scale) -> Quantization {
      if (!quant) return {};
      const int64_t zp = type == T::kInt8 ? pick(rng, -128, 127) : type == T::kUInt8 ? pick(rng, 0, 255) : 0;
      return Quantization::per_tensor(scale, zp);
    };
    const float base = type == T::kInt16 ? 1.0f / 4096.0f : 0.05f;
    const Quantization qa = q(base * (0.5f + rng.uniform())), qb = q(base * (0.5f + rng.uniform()));
    const Quantization qo = q(base * (1.0f + rng.uniform()));
    lite::AddOptions o;
    const Activation acts[] = {Activation::kLinear, Activation::kRelu, Activation::kRelu6, Activation::kReluN1To1};
    o.activation = acts[rng.below(4)];
    o.pot_scale_int16 = false;  // TFLite's 16x8 converter writes false: the general kernel
    const bool constant_b = rng.below(2) == 0;
    ModelBuilder b;
    const int32_t x = b.add_tensor("x", type, sa, qa);
    const std::vector<uint8_t> xb = rand_values(rng, type, count(sa));
    const std::vector<uint8_t> yb = rand_values(rng, type, count(sb));
    const int32_t y = constant_b ? b.add_constant("y", type, sb, yb, qb) : b.add_tensor("y", type, sb, qb);
    std::vector<int32_t> so(std::max(sa.size(), sb.size()));
    for (size_t d = 0; d < so.size(); ++d) {
      const size_t da = so.size() - 1 - d;
      const int32_t va = d < sa.size() ? sa[sa.size() - 1 - d] : 1, vb = d < sb.size() ? sb[sb.size() - 1 - d] : 1;
      so[da] = std::max(va, vb);
    }
    const int32_t z = b.add_tensor("z", type, so, qo);
    b.add_operator(BuiltinOp::kAdd, {x, y}, {z}, o);
    b.set_inputs(constant_b ? std::vector<int32_t>{x} : std::vector<int32_t>{x, y});
    b.set_outputs({z});
    const auto model = b.finish();
    std::string what = std::string(tensor_type_name(type)) + " [";
    for (int32_t d : sa) what += std::to_string(d) + " ";
    what += "] + [";
    for (int32_t d : sb) what += std::to_string(d) + " ";
    what += constant_b ? "] constant" : "]";
    SCOPED_TRACE(what);
    std::vector<PeerInput> theirs_in = {PeerInput{sa, xb}};
    std::vector<std::vector<uint8_t>> ours_in = {xb};
    if (!constant_b) theirs_in.push_back(PeerInput{sb, yb}), ours_in.push_back(yb);
    const Outcome theirs = run_in_tflite(*peer, model, theirs_in);
    const Outcome ours = run_in_qlite(model, ours_in);
    ASSERT_EQ(theirs.error, "");
    ASSERT_EQ(ours.error, "");
    ASSERT_EQ(ours.bytes.size(), theirs.bytes.size());
    if (type == T::kFloat32) {
      for (size_t i = 0; i < ours.bytes.size(); i += 4) {
        float u, v;
        std::memcpy(&u, &ours.bytes[i], 4);
        std::memcpy(&v, &theirs.bytes[i], 4);
        EXPECT_NEAR(u, v, 1e-5f * std::max(1.0f, std::abs(v))) << "element " << i / 4;
      }
    } else {
      EXPECT_EQ(ours.bytes, theirs.bytes);
    }
    ++compared;
    stretched += sa != sb;
  }
  std::printf("broadcast ADD: %d files compared, %d with different input shapes\n", compared, stretched);
  EXPECT_GT(stretched, 200);
}

// TFLite 2.9 broadcasts ADD through 4-D kernels; qlite refuses more in one line.
TEST(TfLiteAddBroadcast, FiveDimensionalBroadcastIsRefused) {
  ModelBuilder b;
  const int32_t x = b.add_tensor("x", T::kFloat32, {2, 1, 3, 1, 2});
  const int32_t y = b.add_constant("y", T::kFloat32, {3, 2, 1}, std::vector<float>(6, 1.0f));
  const int32_t z = b.add_tensor("z", T::kFloat32, {2, 1, 3, 2, 2});
  b.add_operator(BuiltinOp::kAdd, {x, y}, {z}, lite::AddOptions{});
  b.set_inputs({x});
  b.set_outputs({z});
  const Outcome ours = run_in_qlite(b.finish(), std::vector<uint8_t>(12 * 4, 0));
  EXPECT_NE(ours.error.find("do not broadcast within 4 dimensions"), std::string::npos) << ours.error;
}

}  // namespace
}  // namespace qlite::test
