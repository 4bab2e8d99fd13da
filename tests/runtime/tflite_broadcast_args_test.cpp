// BROADCAST_ARGS against the real TensorFlow Lite 2.9: random pairs of shapes
// that broadcast (int32 and int64, of different lengths, with 1s and 0s), as
// graph inputs and as constants (then computed while preparing), the result
// feeding BROADCAST_TO as exported graphs use it, and int64 sizes past int32,
// which TFLite reads through an int. Shapes that do not broadcast make TFLite
// stop the process (a TFLITE_CHECK), so qlite's error for them is checked on
// its own. A failure under CI=true when the peer is missing.
#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <vector>

#include "single_op_peer.h"

namespace qlite::test {
namespace {

using T = TensorType;

template <class V>
std::vector<uint8_t> bytes_of(const std::vector<V>& v) {
  std::vector<uint8_t> b(v.size() * sizeof(V));
  if (!b.empty()) std::memcpy(b.data(), v.data(), b.size());
  return b;
}

// BROADCAST_ARGS(a, b) as a one-op file; constant: both shapes in the file.
std::vector<uint8_t> model(T type, const std::vector<uint8_t>& a, int32_t na, const std::vector<uint8_t>& b,
                           int32_t nb, bool constant) {
  ModelBuilder mb;
  const int32_t ta = constant ? mb.add_constant("a", type, {na}, a) : mb.add_tensor("a", type, {na});
  const int32_t tb = constant ? mb.add_constant("b", type, {nb}, b) : mb.add_tensor("b", type, {nb});
  const int32_t out = mb.add_tensor("out", type, {std::max(na, nb)});
  mb.add_operator(BuiltinOp::kBroadcastArgs, {ta, tb}, {out});
  if (constant) {
    // A graph needs an input: the result broadcasts a float value.
    const int32_t x = mb.add_tensor("x", T::kFloat32, {1});
    const int32_t y = mb.add_tensor("y", T::kFloat32, {});
    mb.add_operator(BuiltinOp::kBroadcastTo, {x, out}, {y}, {}, 2);  // version 2, as TFLite 2.9 registers it
    mb.set_inputs({x});
    mb.set_outputs({y});
  } else {
    mb.set_inputs({ta, tb});
    mb.set_outputs({out});
  }
  return mb.finish();
}

template <class V>
void random_pair(Rng& rng, std::vector<V>& a, std::vector<V>& b) {
  const size_t rank = 1 + rng.below(5);
  std::vector<V> full(rank);
  for (V& d : full) d = static_cast<V>(rng.below(4) == 0 ? 0 : 1 + rng.below(5));
  a.assign(full.end() - static_cast<std::ptrdiff_t>(1 + rng.below(rank)), full.end());
  b.assign(full.end() - static_cast<std::ptrdiff_t>(1 + rng.below(rank)), full.end());
  for (V& d : a)
    if (rng.below(3) == 0) d = 1;
  for (V& d : b)
    if (rng.below(3) == 0) d = 1;
}

template <class V>
void check_random_pairs(const TfLitePeer& peer, T type, uint64_t seed) {
  Rng rng(seed);
  for (int i = 0; i < 200; ++i) {
    std::vector<V> a, b;
    random_pair(rng, a, b);
    const auto na = static_cast<int32_t>(a.size()), nb = static_cast<int32_t>(b.size());
    const std::vector<uint8_t> m = model(type, bytes_of(a), na, bytes_of(b), nb, false);
    const Outcome ours = run_in_qlite(m, {bytes_of(a), bytes_of(b)});
    const Outcome theirs = run_in_tflite(peer, m, {PeerInput{{na}, bytes_of(a)}, PeerInput{{nb}, bytes_of(b)}});
    ASSERT_EQ(ours.error, "") << i;
    ASSERT_EQ(theirs.error, "") << i;
    EXPECT_EQ(ours.shape, theirs.shape) << i;
    EXPECT_EQ(ours.bytes, theirs.bytes) << i;
  }
}

TEST(TfliteBroadcastArgs, RandomShapesMatchTflite) {
  QLITE_REQUIRE_TFLITE_PEER(peer);
  check_random_pairs<int32_t>(*peer, T::kInt32, 145);
  check_random_pairs<int64_t>(*peer, T::kInt64, 146);
}

TEST(TfliteBroadcastArgs, ConstantShapesFeedBroadcastTo) {
  QLITE_REQUIRE_TFLITE_PEER(peer);
  const std::vector<int32_t> a{2, 1, 3}, b{4, 1};
  const std::vector<uint8_t> m = model(T::kInt32, bytes_of(a), 3, bytes_of(b), 2, true);
  const std::vector<float> x{2.5f};
  const Outcome ours = run_in_qlite(m, bytes_of(x));
  const Outcome theirs = run_in_tflite(*peer, m, {PeerInput{{1}, bytes_of(x)}});
  ASSERT_EQ(ours.error, "");
  ASSERT_EQ(theirs.error, "");
  EXPECT_EQ(ours.shape, (std::vector<int64_t>{2, 4, 3}));  // worked by hand
  EXPECT_EQ(ours.shape, theirs.shape);
  EXPECT_EQ(ours.bytes, theirs.bytes);
}

TEST(TfliteBroadcastArgs, Int64SizesKeepTheirLow32Bits) {
  QLITE_REQUIRE_TFLITE_PEER(peer);
  // TFLite 2.9 reads each size into an int: 2^32 + 3 reads 3.
  const std::vector<int64_t> a{(int64_t{1} << 32) + 3, 1}, b{1, 5};
  const std::vector<uint8_t> m = model(T::kInt64, bytes_of(a), 2, bytes_of(b), 2, false);
  const Outcome ours = run_in_qlite(m, {bytes_of(a), bytes_of(b)});
  const Outcome theirs = run_in_tflite(*peer, m, {PeerInput{{2}, bytes_of(a)}, PeerInput{{2}, bytes_of(b)}});
  ASSERT_EQ(ours.error, "");
  ASSERT_EQ(theirs.error, "");
  EXPECT_EQ(ours.bytes, bytes_of(std::vector<int64_t>{3, 5}));
  EXPECT_EQ(ours.bytes, theirs.bytes);
}

TEST(BroadcastArgs, ShapesThatDoNotBroadcastFailTheInvoke) {
  const std::vector<int32_t> a{2, 3}, b{4, 3};
  const std::vector<uint8_t> m = model(T::kInt32, bytes_of(a), 2, bytes_of(b), 2, false);
  const Outcome ours = run_in_qlite(m, {bytes_of(a), bytes_of(b)});
  EXPECT_NE(ours.error.find("BROADCAST_ARGS"), std::string::npos) << ours.error;
  EXPECT_NE(ours.error.find("2 against 4 at dimension 0"), std::string::npos) << ours.error;
  // Mixed types are refused when the file loads.
  ModelBuilder mb;
  const int32_t ta = mb.add_tensor("a", T::kInt32, {2});
  const int32_t tb = mb.add_tensor("b", T::kInt64, {2});
  const int32_t out = mb.add_tensor("out", T::kInt32, {2});
  mb.add_operator(BuiltinOp::kBroadcastArgs, {ta, tb}, {out});
  mb.set_inputs({ta, tb});
  mb.set_outputs({out});
  const Outcome mixed = run_in_qlite(mb.finish(), {bytes_of(a), bytes_of(std::vector<int64_t>{4, 3})});
  EXPECT_NE(mixed.error.find("must all be INT32 or all INT64"), std::string::npos) << mixed.error;
}

}  // namespace
}  // namespace qlite::test
