// The type combinations filled from the type audit (tflite_type_gaps_test.cpp)
// against the real TensorFlow Lite 2.9, over seeded random shapes and
// parameters: int16 MAX_POOL_2D / AVERAGE_POOL_2D, MUL of int16 into int8 /
// uint8 (every int16 value on each side), SOFTMAX of int8 / uint8 into int16
// (every input byte), MEAN of int16 / int32 / int64 and SUM of int16 over
// random axes, the quantized REDUCE_PROD of int8 / int16. Output bytes must be
// identical and both must refuse the same files. A failure under CI=true when
// the peer is missing (scripts/install_peers.sh).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "single_op_peer.h"

namespace qlite::test {
namespace {

using T = TensorType;

const Activation kActs[] = {Activation::kLinear, Activation::kRelu, Activation::kRelu6, Activation::kReluN1To1};

std::vector<int16_t> random_int16(Rng& rng, int64_t n) {
  std::vector<int16_t> v(static_cast<size_t>(n));
  for (auto& e : v) e = static_cast<int16_t>(static_cast<int64_t>(rng.below(65536)) - 32768);
  return v;
}

int64_t numel(const std::vector<int32_t>& s) {
  int64_t n = 1;
  for (int v : s) n *= v;
  return n;
}

// Runs both, compares; returns 1 when both ran, 0 when both refused.
struct Tally {
  int ran = 0, refused = 0;
  void check(const Outcome& ours, const Outcome& theirs) {
    EXPECT_EQ(ours.error.empty(), theirs.error.empty()) << "qlite '" << ours.error << "', TFLite '" << theirs.error << "'";
    if (!ours.error.empty()) {
      EXPECT_EQ(ours.error.find('\n'), std::string::npos) << ours.error;
    }
    if (!ours.error.empty() && !theirs.error.empty()) ++refused;
    if (!ours.error.empty() || !theirs.error.empty()) return;
    EXPECT_EQ(ours.bytes, theirs.bytes);
    ++ran;
  }
};

// The output shape of a reduction, as TFLite computes it.
std::vector<int32_t> reduced_shape(const std::vector<int32_t>& shape, const std::vector<int32_t>& axes, bool keep) {
  const int rank = static_cast<int>(shape.size());
  std::vector<int32_t> out;
  for (int d = 0; d < rank; ++d) {
    bool reduced = false;
    for (int a : axes) reduced = reduced || (a < 0 ? a + rank : a) == d;
    if (!reduced) out.push_back(shape[static_cast<size_t>(d)]);
    else if (keep) out.push_back(1);
  }
  return out;
}

std::vector<int32_t> random_axes(Rng& rng, int rank) {
  std::vector<int32_t> axes;
  const int n_axes = 1 + static_cast<int>(rng.below(static_cast<uint64_t>(rank)));
  for (int a = 0; a < n_axes; ++a) {
    const int ax = static_cast<int>(rng.below(static_cast<uint64_t>(rank)));
    axes.push_back(rng.below(3) == 0 ? ax - rank : ax);
  }
  return axes;
}

TEST(TfLiteTypes16, Int16PoolsMatchTfLite) {
  QLITE_REQUIRE_TFLITE_PEER(peer);
  Rng rng(1661);
  Tally t;
  for (int k = 0; k < 120; ++k) {
    const bool max = k % 2 == 0;
    lite::Pool2DOptions o;
    o.filter_h = 1 + static_cast<int>(rng.below(4));
    o.filter_w = 1 + static_cast<int>(rng.below(4));
    o.stride_h = 1 + static_cast<int>(rng.below(3));
    o.stride_w = 1 + static_cast<int>(rng.below(3));
    o.padding = rng.below(2) ? Padding::kSame : Padding::kValid;
    o.activation = kActs[rng.below(4)];
    const int b = 1 + static_cast<int>(rng.below(2)), c = 1 + static_cast<int>(rng.below(5));
    const int h = o.filter_h + static_cast<int>(rng.below(8)), w = o.filter_w + static_cast<int>(rng.below(8));
    auto out_dim = [&](int in, int f, int s) { return o.padding == Padding::kSame ? (in + s - 1) / s : (in - f) / s + 1; };
    const std::vector<int32_t> shape = {b, h, w, c};
    const std::vector<int32_t> out_shape = {b, out_dim(h, o.filter_h, o.stride_h), out_dim(w, o.filter_w, o.stride_w), c};
    // TFLite ignores int16 pooling's quantization except for the fused
    // activation's bounds: sometimes another output scale.
    const float in_scale = 1.0f / 4096, out_scale = k % 3 == 0 ? 1.0f / 1024 : in_scale;
    ModelBuilder mb;
    const int32_t x = mb.add_tensor("x", T::kInt16, shape, Quantization::per_tensor(in_scale, 0));
    const int32_t y = mb.add_tensor("y", T::kInt16, out_shape, Quantization::per_tensor(out_scale, 0));
    mb.add_operator(max ? BuiltinOp::kMaxPool2D : BuiltinOp::kAveragePool2D, {x}, {y}, o);
    mb.set_inputs({x});
    mb.set_outputs({y});
    const auto model = mb.finish();
    const auto v = as_bytes(random_int16(rng, numel(shape)));
    SCOPED_TRACE("case " + std::to_string(k));
    t.check(run_in_qlite(model, v), run_in_tflite(*peer, model, shape, v));
  }
  std::printf("int16 pools: %d of 120 files ran in both, %d refused by both\n", t.ran, t.refused);
  EXPECT_EQ(t.ran, 120);
}

// Every int16 value as input 0 (65536 elements) against random or every
// value of input 1, for both 8-bit outputs, random zero points, every fused
// activation; and unequal shapes, which qlite refuses (TFLite would read past
// the smaller input).
TEST(TfLiteTypes16, MulInt16To8BitMatchesTfLite) {
  QLITE_REQUIRE_TFLITE_PEER(peer);
  Rng rng(1662);
  Tally t;
  const std::vector<int32_t> shape = {256, 256};
  std::vector<int16_t> every(65536);
  for (int i = 0; i < 65536; ++i) every[static_cast<size_t>(i)] = static_cast<int16_t>(i - 32768);
  for (int k = 0; k < 16; ++k) {
    const T out_type = k % 2 ? T::kUInt8 : T::kInt8;
    const int32_t zp = out_type == T::kInt8 ? static_cast<int32_t>(rng.below(256)) - 128
                                            : static_cast<int32_t>(rng.below(256));
    lite::MulOptions o;
    o.activation = kActs[(k / 2) % 4];
    ModelBuilder mb;
    const int32_t a = mb.add_tensor("a", T::kInt16, shape, Quantization::per_tensor(1.0f / 32768, 0));
    const int32_t b = mb.add_tensor("b", T::kInt16, shape, Quantization::per_tensor(1.0f / 32768, 0));
    const int32_t y = mb.add_tensor("y", out_type, shape, Quantization::per_tensor(1.0f / 128, zp));
    mb.add_operator(BuiltinOp::kMul, {a, b}, {y}, o);
    mb.set_inputs({a, b});
    mb.set_outputs({y});
    const auto model = mb.finish();
    std::vector<int16_t> other = k < 8 ? random_int16(rng, 65536) : every;
    if (k >= 8) rng.shuffle(other);
    const auto va = as_bytes(every), vb = as_bytes(other);
    SCOPED_TRACE("case " + std::to_string(k));
    // Both orders: every value on each side.
    t.check(run_in_qlite(model, {va, vb}), run_in_tflite(*peer, model, {PeerInput{shape, va}, PeerInput{shape, vb}}));
    t.check(run_in_qlite(model, {vb, va}), run_in_tflite(*peer, model, {PeerInput{shape, vb}, PeerInput{shape, va}}));
  }
  std::printf("int16 x int16 -> 8-bit MUL: %d of 32 files ran in both\n", t.ran);
  EXPECT_EQ(t.ran, 32);

  // Broadcasting: refused by qlite with one line naming MUL.
  ModelBuilder mb;
  const int32_t a = mb.add_tensor("a", T::kInt16, {2, 3}, Quantization::per_tensor(1.0f / 32768, 0));
  const int32_t b = mb.add_tensor("b", T::kInt16, {1, 3}, Quantization::per_tensor(1.0f / 32768, 0));
  const int32_t y = mb.add_tensor("y", T::kInt8, {2, 3}, Quantization::per_tensor(1.0f / 128, 0));
  mb.add_operator(BuiltinOp::kMul, {a, b}, {y}, lite::MulOptions{});
  mb.set_inputs({a, b});
  mb.set_outputs({y});
  const Outcome ours = run_in_qlite(mb.finish(), {std::vector<uint8_t>(12), std::vector<uint8_t>(6)});
  EXPECT_NE(ours.error.find("MUL"), std::string::npos) << ours.error;
  EXPECT_NE(ours.error.find("same shape"), std::string::npos) << ours.error;
  EXPECT_EQ(ours.error.find('\n'), std::string::npos) << ours.error;
}

// Random ranks, depths, input scales and betas; every file has a row holding
// all 256 input bytes; some with an output quantization other than (1/32768, 0).
TEST(TfLiteTypes16, Softmax8BitToInt16MatchesTfLite) {
  QLITE_REQUIRE_TFLITE_PEER(peer);
  Rng rng(1663);
  Tally t;
  const float betas[] = {1.0f, 0.5f, 2.0f, 0.3f};
  for (int k = 0; k < 80; ++k) {
    const T in_type = k % 2 ? T::kUInt8 : T::kInt8;
    const int rank = 1 + static_cast<int>(rng.below(4));
    std::vector<int32_t> shape;
    for (int d = 0; d + 1 < rank; ++d) shape.push_back(1 + static_cast<int>(rng.below(4)));
    const int depth = k % 5 == 0 ? 256 : 1 + static_cast<int>(rng.below(300));
    shape.push_back(depth);
    const float in_scale = rng.uniform(0.002f, 0.3f);
    const int32_t in_zp = in_type == T::kInt8 ? static_cast<int32_t>(rng.below(256)) - 128
                                              : static_cast<int32_t>(rng.below(256));
    // TFLite 2.9 takes any int16 output quantization here (the usual one is
    // 1/32768, 0): some files have another scale and zero point.
    const bool other_out = k % 8 == 7;
    const Quantization qo = other_out ? Quantization::per_tensor(rng.uniform(1.0f / 40000, 1.0f / 100),
                                                                 static_cast<int32_t>(rng.below(2001)) - 1000)
                                      : Quantization::per_tensor(1.0f / 32768, 0);
    ModelBuilder mb;
    const int32_t x = mb.add_tensor("x", in_type, shape, Quantization::per_tensor(in_scale, in_zp));
    const int32_t y = mb.add_tensor("y", T::kInt16, shape, qo);
    mb.add_operator(BuiltinOp::kSoftmax, {x}, {y}, lite::SoftmaxOptions{betas[rng.below(4)]});
    mb.set_inputs({x});
    mb.set_outputs({y});
    const auto model = mb.finish();
    std::vector<uint8_t> v(static_cast<size_t>(numel(shape)));
    for (auto& e : v) e = static_cast<uint8_t>(rng.below(256));
    if (v.size() >= 256)
      for (size_t i = 0; i < 256; ++i) v[i] = static_cast<uint8_t>(i);
    SCOPED_TRACE("case " + std::to_string(k));
    t.check(run_in_qlite(model, v), run_in_tflite(*peer, model, shape, v));
  }
  std::printf("8-bit -> int16 SOFTMAX: %d of 80 files ran in both, %d refused by both\n", t.ran, t.refused);
  EXPECT_EQ(t.ran, 80);
}

// MEAN of int16 (the three paths: 4-D keep_dims axes {1, 2}, equal
// quantization, the float rescale; zero points other than 0 are refused by
// both, and so is an int16 SUM whose output scale differs), int32 and int64 (small
// values of both signs, where truncation shows, and wide ones whose int64 sums
// wrap), and SUM of int16 (wrapping), over random shapes and axes.
TEST(TfLiteTypes16, MeanAndSumMatchTfLite) {
  QLITE_REQUIRE_TFLITE_PEER(peer);
  Rng rng(1664);
  Tally t;
  int hw_cases = 0;
  for (int k = 0; k < 200; ++k) {
    const int kind = k % 4;  // 0: MEAN int16, 1: MEAN int32, 2: MEAN int64, 3: SUM int16
    const T type = kind == 1 ? T::kInt32 : kind == 2 ? T::kInt64 : T::kInt16;
    const bool hw = kind == 0 && k % 3 == 0;
    const int rank = hw ? 4 : 1 + static_cast<int>(rng.below(5));
    std::vector<int32_t> shape;
    for (int d = 0; d < rank; ++d) shape.push_back(1 + static_cast<int>(rng.below(6)));
    std::vector<int32_t> axes = hw ? (rng.below(2) ? std::vector<int32_t>{1, 2} : std::vector<int32_t>{2, 1})
                                   : random_axes(rng, rank);
    const bool keep = hw || rng.below(2) == 0;
    hw_cases += hw;
    Quantization qi, qo;
    if (type == T::kInt16) {
      const int q = static_cast<int>(rng.below(3));  // equal, other scale, other scale and zero points
      const float si = 1.0f / 1024;
      // TFLite refuses int16 zero points other than 0 (some files have them).
      const bool zp = q == 2 && rng.below(4) == 0;
      qi = Quantization::per_tensor(si, zp && rng.below(2) ? static_cast<int32_t>(rng.below(201)) - 100 : 0);
      qo = q == 0 ? qi
                  : Quantization::per_tensor(si * rng.uniform(0.3f, 3.0f),
                                             zp && qi.zero_point[0] == 0 ? 1 + static_cast<int32_t>(rng.below(100)) : 0);
    }
    ModelBuilder mb;
    const int32_t x = mb.add_tensor("x", type, shape, qi);
    const int32_t ax = mb.add_constant("axes", T::kInt32, {static_cast<int32_t>(axes.size())}, axes);
    const int32_t y = mb.add_tensor("y", type, reduced_shape(shape, axes, keep), qo);
    mb.add_operator(kind == 3 ? BuiltinOp::kSum : BuiltinOp::kMean, {x, ax}, {y}, lite::ReducerOptions{keep});
    mb.set_inputs({x});
    mb.set_outputs({y});
    const auto model = mb.finish();
    const int64_t n = numel(shape);
    std::vector<uint8_t> v;
    if (type == T::kInt16) {
      v = as_bytes(random_int16(rng, n));
    } else {
      const bool wide = rng.below(3) == 0;
      std::vector<int64_t> w(static_cast<size_t>(n));
      for (auto& e : w) e = wide ? static_cast<int64_t>(rng.next_u64()) : static_cast<int64_t>(rng.below(41)) - 20;
      if (type == T::kInt64) {
        v = as_bytes(w);
      } else {
        std::vector<int32_t> w32(w.size());
        for (size_t i = 0; i < w.size(); ++i) w32[i] = static_cast<int32_t>(w[i]);
        v = as_bytes(w32);
      }
    }
    SCOPED_TRACE("case " + std::to_string(k) + " kind " + std::to_string(kind));
    t.check(run_in_qlite(model, v), run_in_tflite(*peer, model, shape, v));
  }
  std::printf("MEAN int16/int32/int64, SUM int16: %d of 200 files ran in both (%d 4-D keep_dims H,W), %d refused by both\n",
              t.ran, hw_cases, t.refused);
  EXPECT_EQ(t.ran + t.refused, 200);
  EXPECT_GT(t.ran, 140);
  EXPECT_GT(t.refused, 10);
}

// The quantized REDUCE_PROD: int8 with random zero points, int16 with zero
// points 0 (others refused by both), random shapes and axes, scales that keep
// the products in range.
TEST(TfLiteTypes16, QuantizedReduceProdMatchesTfLite) {
  QLITE_REQUIRE_TFLITE_PEER(peer);
  Rng rng(1665);
  Tally t;
  for (int k = 0; k < 120; ++k) {
    const T type = k % 2 ? T::kInt16 : T::kInt8;
    const int rank = 1 + static_cast<int>(rng.below(4));
    std::vector<int32_t> shape;
    for (int d = 0; d < rank; ++d) shape.push_back(1 + static_cast<int>(rng.below(4)));
    const std::vector<int32_t> axes = random_axes(rng, rank);
    const bool keep = rng.below(2) == 0;
    // Values of magnitude about 1 (int8: scale 1/64; int16: 1/16384), the
    // output scale from the same to a much coarser one.
    const float si = type == T::kInt8 ? 1.0f / 64 : 1.0f / 16384;
    const float so = si * (k % 3 == 0 ? 1.0f : rng.uniform(1.0f, 16.0f));
    // int16 zero points other than 0 (every tenth int16 file) are refused by both.
    const bool bad_zp = type == T::kInt16 && k % 10 == 9;
    const int32_t zi = type == T::kInt8 ? static_cast<int32_t>(rng.below(41)) - 20 : bad_zp && k % 20 == 9 ? 5 : 0;
    const int32_t zo = type == T::kInt8 ? static_cast<int32_t>(rng.below(41)) - 20 : bad_zp && k % 20 != 9 ? -5 : 0;
    ModelBuilder mb;
    const int32_t x = mb.add_tensor("x", type, shape, Quantization::per_tensor(si, zi));
    const int32_t ax = mb.add_constant("axes", T::kInt32, {static_cast<int32_t>(axes.size())}, axes);
    const int32_t y = mb.add_tensor("y", type, reduced_shape(shape, axes, keep), Quantization::per_tensor(so, zo));
    mb.add_operator(BuiltinOp::kReduceProd, {x, ax}, {y}, lite::ReducerOptions{keep});
    mb.set_inputs({x});
    mb.set_outputs({y});
    const auto model = mb.finish();
    const int64_t n = numel(shape);
    std::vector<uint8_t> v;
    if (type == T::kInt8) {
      v.resize(static_cast<size_t>(n));
      for (auto& e : v) e = static_cast<uint8_t>(rng.below(256));
    } else {
      v = as_bytes(random_int16(rng, n));
    }
    SCOPED_TRACE("case " + std::to_string(k));
    t.check(run_in_qlite(model, v), run_in_tflite(*peer, model, shape, v));
  }
  std::printf("quantized REDUCE_PROD int8/int16: %d of 120 files ran in both, %d refused by both\n", t.ran, t.refused);
  EXPECT_EQ(t.ran, 108);
  EXPECT_EQ(t.refused, 12);
}

}  // namespace
}  // namespace qlite::test

namespace qlite::test {
namespace {

// DEPTHWISE_CONV_2D 16x8 (int16 activations, int8 filter with per-channel or
// one scale, int64 bias or none) and hybrid (float input, int8 filter with
// per-channel scales, float bias): random shapes, depth multipliers, strides,
// dilations, padding and fused activations. 16x8 outputs byte-identical;
// hybrid float outputs too (qlite multiplies in TFLite's order, float(acc) *
// input scale * filter scale), checked within 1e-5 relative as a floor.
TEST(TfLiteTypes16, DepthwiseInt16x8AndHybridMatchTfLite) {
  QLITE_REQUIRE_TFLITE_PEER(peer);
  Rng rng(1666);
  int ran = 0, identical = 0;
  for (int k = 0; k < 100; ++k) {
    const bool hybrid = k % 2 == 1;
    lite::DepthwiseConv2DOptions o;
    o.padding = rng.below(2) ? Padding::kSame : Padding::kValid;
    o.stride_h = 1 + static_cast<int>(rng.below(2));
    o.stride_w = 1 + static_cast<int>(rng.below(2));
    o.dilation_h = 1 + static_cast<int>(rng.below(2));
    o.dilation_w = 1 + static_cast<int>(rng.below(2));
    o.activation = kActs[rng.below(4)];
    const int b = 1 + static_cast<int>(rng.below(2)), ic = 1 + static_cast<int>(rng.below(4));
    const int mult = 1 + static_cast<int>(rng.below(3)), oc = ic * mult;
    o.depth_multiplier = mult;
    const int kh = 1 + static_cast<int>(rng.below(3)), kw = 1 + static_cast<int>(rng.below(3));
    const int eh = (kh - 1) * o.dilation_h + 1, ew = (kw - 1) * o.dilation_w + 1;
    const int h = eh + static_cast<int>(rng.below(6)), w = ew + static_cast<int>(rng.below(6));
    auto out_dim = [&](int in, int e, int s) { return o.padding == Padding::kSame ? (in + s - 1) / s : (in - e) / s + 1; };
    const std::vector<int32_t> shape = {b, h, w, ic};
    const std::vector<int32_t> out_shape = {b, out_dim(h, eh, o.stride_h), out_dim(w, ew, o.stride_w), oc};
    std::vector<float> ws;
    const bool one_scale = !hybrid && k % 6 == 0;
    for (int c = 0; c < (one_scale ? 1 : oc); ++c) ws.push_back(rng.uniform(0.002f, 0.05f));
    std::vector<int8_t> wv(static_cast<size_t>(kh * kw * oc));
    for (auto& v : wv) v = static_cast<int8_t>(static_cast<int64_t>(rng.below(255)) - 127);
    const float si = 1.0f / 2048, so = si * rng.uniform(0.01f, 0.2f);
    // TFLite 2.9's x86 hybrid depthwise dereferences the bias: it crashes
    // without one (qlite refuses those: HybridDepthwiseWithoutBiasRefused).
    const bool with_bias = hybrid || k % 5 != 4;
    ModelBuilder mb;
    const Quantization aq_in = hybrid ? Quantization{} : Quantization::per_tensor(si, 0);
    const Quantization aq_out = hybrid ? Quantization{} : Quantization::per_tensor(so, 0);
    const int32_t x = mb.add_tensor("x", hybrid ? T::kFloat32 : T::kInt16, shape, aq_in);
    const int32_t wt = mb.add_constant("w", T::kInt8, {1, kh, kw, oc}, wv,
                                       Quantization::per_axis(ws, std::vector<int64_t>(ws.size(), 0), 3));
    std::vector<int32_t> ins = {x, wt};
    if (with_bias) {
      if (hybrid) {
        std::vector<float> bv(static_cast<size_t>(oc));
        for (auto& v : bv) v = rng.uniform(-1.0f, 1.0f);
        ins.push_back(mb.add_constant("bias", T::kFloat32, {oc}, bv));
      } else {
        std::vector<float> bs;
        for (float s : ws) bs.push_back(si * s);
        std::vector<int64_t> bv(static_cast<size_t>(oc));
        for (auto& v : bv) v = static_cast<int64_t>(rng.below(2000001)) - 1000000;
        ins.push_back(mb.add_constant("bias", T::kInt64, {oc}, bv,
                                      Quantization::per_axis(bs, std::vector<int64_t>(bs.size(), 0), 0)));
      }
    }
    const int32_t y = mb.add_tensor("y", hybrid ? T::kFloat32 : T::kInt16, out_shape, aq_out);
    mb.add_operator(BuiltinOp::kDepthwiseConv2D, ins, {y}, o);
    mb.set_inputs({x});
    mb.set_outputs({y});
    const auto model = mb.finish();
    std::vector<uint8_t> v;
    if (hybrid) {
      std::vector<float> f(static_cast<size_t>(numel(shape)));
      const float lo = rng.uniform(-3.0f, 0.5f), hi = lo + rng.uniform(0.1f, 4.0f);
      for (auto& e : f) e = rng.uniform(lo, hi);
      v = as_bytes(f);
    } else {
      v = as_bytes(random_int16(rng, numel(shape)));
    }
    SCOPED_TRACE("case " + std::to_string(k) + (hybrid ? " hybrid" : " 16x8"));
    const Outcome ours = run_in_qlite(model, v), theirs = run_in_tflite(*peer, model, shape, v);
    EXPECT_EQ(ours.error.empty(), theirs.error.empty()) << "qlite '" << ours.error << "', TFLite '" << theirs.error << "'";
    if (!ours.error.empty() || !theirs.error.empty()) continue;
    ++ran;
    identical += ours.bytes == theirs.bytes;
    if (!hybrid) {
      EXPECT_EQ(ours.bytes, theirs.bytes);
    } else {
      ASSERT_EQ(ours.bytes.size(), theirs.bytes.size());
      for (size_t i = 0; i + 4 <= ours.bytes.size(); i += 4) {
        float a, c;
        std::memcpy(&a, &ours.bytes[i], 4);
        std::memcpy(&c, &theirs.bytes[i], 4);
        EXPECT_LE(std::fabs(a - c), 1e-5f * std::max(std::fabs(a), std::fabs(c))) << "element " << i / 4;
      }
    }
  }
  std::printf("DEPTHWISE_CONV_2D 16x8 / hybrid: %d of 100 files ran in both, %d byte-identical\n", ran, identical);
  EXPECT_EQ(ran, 100);
}

// Hybrid depthwise without a bias: TFLite 2.9's x86 kernel crashes on it (a
// null bias read), so qlite refuses it in one line instead of running what
// TFLite cannot be compared with.
TEST(TfLiteTypes16, HybridDepthwiseWithoutBiasRefused) {
  ModelBuilder mb;
  const int32_t x = mb.add_tensor("x", T::kFloat32, {1, 4, 4, 2});
  const int32_t w = mb.add_constant("w", T::kInt8, {1, 3, 3, 2}, std::vector<int8_t>(18, 1),
                                    Quantization::per_axis({0.01f, 0.02f}, {0, 0}, 3));
  const int32_t y = mb.add_tensor("y", T::kFloat32, {1, 4, 4, 2});
  mb.add_operator(BuiltinOp::kDepthwiseConv2D, {x, w}, {y}, lite::DepthwiseConv2DOptions{});
  mb.set_inputs({x});
  mb.set_outputs({y});
  const Outcome ours = run_in_qlite(mb.finish(), std::vector<uint8_t>(128));
  EXPECT_NE(ours.error.find("DEPTHWISE_CONV_2D"), std::string::npos) << ours.error;
  EXPECT_NE(ours.error.find("bias"), std::string::npos) << ours.error;
  EXPECT_EQ(ours.error.find('\n'), std::string::npos) << ours.error;
}

// QUANTIZE int16 -> int32 (found by the type audit): every int16 value, random
// scales (ratios from 1/64 to 64) and zero points, some large enough that the
// int32 result wraps as TFLite's does.
TEST(TfLiteTypes16, QuantizeInt16ToInt32MatchesTfLite) {
  QLITE_REQUIRE_TFLITE_PEER(peer);
  Rng rng(1668);
  Tally t;
  std::vector<int16_t> every(65536);
  for (int i = 0; i < 65536; ++i) every[static_cast<size_t>(i)] = static_cast<int16_t>(i - 32768);
  const auto v = as_bytes(every);
  const std::vector<int32_t> shape = {256, 256};
  for (int k = 0; k < 24; ++k) {
    const float si = rng.uniform(1e-4f, 1e-2f);
    const float so = si * std::exp2(rng.uniform(-6.0f, 6.0f));
    const int32_t zi = k % 3 == 0 ? 0 : static_cast<int32_t>(rng.below(2001)) - 1000;
    const int64_t zo = k % 4 == 3 ? (k % 8 == 3 ? INT32_MAX - 5 : INT32_MIN + 5)
                                  : static_cast<int64_t>(rng.below(200001)) - 100000;
    ModelBuilder mb;
    const int32_t x = mb.add_tensor("x", T::kInt16, shape, Quantization::per_tensor(si, zi));
    const int32_t y = mb.add_tensor("y", T::kInt32, shape, Quantization::per_tensor(so, zo));
    mb.add_operator(BuiltinOp::kQuantize, {x}, {y}, lite::OpOptions{});
    mb.set_inputs({x});
    mb.set_outputs({y});
    const auto model = mb.finish();
    SCOPED_TRACE("case " + std::to_string(k));
    t.check(run_in_qlite(model, v), run_in_tflite(*peer, model, shape, v));
  }
  std::printf("QUANTIZE int16 -> int32: %d of 24 files ran in both\n", t.ran);
  EXPECT_EQ(t.ran, 24);
}

// MEAN of int8 / uint8 / float32 over axes other than H, W of a 4-D input
// (found by the type audit): random ranks, axes (negative and repeated),
// keep_dims, equal or different quantization with any zero points (the
// truncated and the float-rescaled paths). 8-bit bytes identical; floats
// within 1e-5 relative (most are byte-identical: the same float sum order).
TEST(TfLiteTypes16, MeanOverOtherAxesMatchesTfLite) {
  QLITE_REQUIRE_TFLITE_PEER(peer);
  Rng rng(1669);
  int ran = 0, identical = 0;
  for (int k = 0; k < 150; ++k) {
    const T type = k % 3 == 0 ? T::kInt8 : k % 3 == 1 ? T::kUInt8 : T::kFloat32;
    const int rank = 1 + static_cast<int>(rng.below(5));
    std::vector<int32_t> shape;
    for (int d = 0; d < rank; ++d) shape.push_back(1 + static_cast<int>(rng.below(6)));
    std::vector<int32_t> axes = random_axes(rng, rank);
    if (rank == 4 && k % 10 == 0) axes = {1, 2, 1};  // H, W written three times: the general path
    const bool keep = rng.below(2) == 0;
    Quantization qi, qo;
    if (type != T::kFloat32) {
      const bool s8 = type == T::kInt8;
      auto zp = [&] { return s8 ? static_cast<int32_t>(rng.below(256)) - 128 : static_cast<int32_t>(rng.below(256)); };
      qi = Quantization::per_tensor(rng.uniform(0.01f, 0.1f), zp());
      qo = rng.below(3) == 0 ? qi : Quantization::per_tensor(rng.uniform(0.01f, 0.1f), zp());
    }
    ModelBuilder mb;
    const int32_t x = mb.add_tensor("x", type, shape, qi);
    const int32_t ax = mb.add_constant("axes", T::kInt32, {static_cast<int32_t>(axes.size())}, axes);
    const int32_t y = mb.add_tensor("y", type, reduced_shape(shape, axes, keep), qo);
    mb.add_operator(BuiltinOp::kMean, {x, ax}, {y}, lite::ReducerOptions{keep});
    mb.set_inputs({x});
    mb.set_outputs({y});
    const auto model = mb.finish();
    const int64_t n = numel(shape);
    std::vector<uint8_t> v;
    if (type == T::kFloat32) {
      std::vector<float> f(static_cast<size_t>(n));
      for (auto& e : f) e = rng.uniform(-4.0f, 4.0f);
      v = as_bytes(f);
    } else {
      v.resize(static_cast<size_t>(n));
      for (auto& e : v) e = static_cast<uint8_t>(rng.below(256));
    }
    SCOPED_TRACE("case " + std::to_string(k));
    const Outcome ours = run_in_qlite(model, v), theirs = run_in_tflite(*peer, model, shape, v);
    EXPECT_EQ(ours.error.empty(), theirs.error.empty()) << "qlite '" << ours.error << "', TFLite '" << theirs.error << "'";
    if (!ours.error.empty() || !theirs.error.empty()) continue;
    ++ran;
    identical += ours.bytes == theirs.bytes;
    if (type != T::kFloat32) {
      EXPECT_EQ(ours.bytes, theirs.bytes);
    } else {
      ASSERT_EQ(ours.bytes.size(), theirs.bytes.size());
      for (size_t i = 0; i + 4 <= ours.bytes.size(); i += 4) {
        float a, c;
        std::memcpy(&a, &ours.bytes[i], 4);
        std::memcpy(&c, &theirs.bytes[i], 4);
        EXPECT_LE(std::fabs(a - c), 1e-5f * std::max(std::fabs(a), std::fabs(c))) << "element " << i / 4;
      }
    }
  }
  std::printf("MEAN int8/uint8/float32 over other axes: %d of 150 files ran in both, %d byte-identical\n", ran,
              identical);
  EXPECT_EQ(ran, 150);
}

// BATCH_MATMUL int8 x int8 -> int32 (found by the type audit): random ranks
// 2-4, broadcast batch dimensions, adj_x / adj_y, zero points other than 0 on
// both operands (TFLite 2.9 ignores them: raw products), the rhs constant or
// an input; depths up to 300 with extreme values, where int32 sums wrap only
// far beyond (a check that the sums are TFLite's, not a wrap test).
TEST(TfLiteTypes16, Int8ToInt32BatchMatMulMatchesTfLite) {
  QLITE_REQUIRE_TFLITE_PEER(peer);
  Rng rng(1670);
  Tally t;
  for (int k = 0; k < 60; ++k) {
    const int rank_l = 2 + static_cast<int>(rng.below(3)), rank_r = 2 + static_cast<int>(rng.below(3));
    const int rank = std::max(rank_l, rank_r);
    std::vector<int32_t> batch;
    for (int d = 0; d < rank - 2; ++d) batch.push_back(1 + static_cast<int>(rng.below(3)));
    const int m = 1 + static_cast<int>(rng.below(5)), n = 1 + static_cast<int>(rng.below(5));
    const int depth = k % 10 == 0 ? 300 : 1 + static_cast<int>(rng.below(8));
    lite::BatchMatMulOptions o;
    o.adj_x = rng.below(2) == 0;
    o.adj_y = rng.below(2) == 0;
    auto shape_of = [&](int r, int rows, int cols) {
      std::vector<int32_t> s;
      for (int d = rank - r; d < rank - 2; ++d)
        s.push_back(rng.below(3) == 0 ? 1 : batch[static_cast<size_t>(d)]);
      s.push_back(rows);
      s.push_back(cols);
      return s;
    };
    const std::vector<int32_t> ls = o.adj_x ? shape_of(rank_l, depth, m) : shape_of(rank_l, m, depth);
    const std::vector<int32_t> rs = o.adj_y ? shape_of(rank_r, n, depth) : shape_of(rank_r, depth, n);
    std::vector<int32_t> os;
    for (int d = 0; d < rank - 2; ++d) {
      const int dl = d - (rank - rank_l), dr = d - (rank - rank_r);
      const int32_t el = dl >= 0 ? ls[static_cast<size_t>(dl)] : 1, er = dr >= 0 ? rs[static_cast<size_t>(dr)] : 1;
      os.push_back(std::max(el, er));
    }
    os.push_back(m);
    os.push_back(n);
    auto values = [&](int64_t count) {
      std::vector<int8_t> v(static_cast<size_t>(count));
      for (auto& e : v) e = k % 10 == 0 ? (rng.below(2) ? 127 : -128) : static_cast<int8_t>(static_cast<int64_t>(rng.below(256)) - 128);
      return v;
    };
    const bool rhs_const = k % 2 == 0;
    const auto lv = values(numel(ls)), rv = values(numel(rs));
    ModelBuilder mb;
    const int32_t x = mb.add_tensor("x", T::kInt8, ls, Quantization::per_tensor(0.05f, static_cast<int32_t>(rng.below(21)) - 10));
    const Quantization rq = Quantization::per_tensor(0.02f, static_cast<int32_t>(rng.below(21)) - 10);
    const int32_t r = rhs_const ? mb.add_constant("r", T::kInt8, rs, rv, rq) : mb.add_tensor("r", T::kInt8, rs, rq);
    const int32_t y = mb.add_tensor("y", T::kInt32, os);
    mb.add_operator(BuiltinOp::kBatchMatmul, {x, r}, {y}, o);
    mb.set_inputs(rhs_const ? std::vector<int32_t>{x} : std::vector<int32_t>{x, r});
    mb.set_outputs({y});
    const auto model = mb.finish();
    SCOPED_TRACE("case " + std::to_string(k));
    if (rhs_const) {
      t.check(run_in_qlite(model, as_bytes(lv)), run_in_tflite(*peer, model, ls, as_bytes(lv)));
    } else {
      t.check(run_in_qlite(model, {as_bytes(lv), as_bytes(rv)}),
              run_in_tflite(*peer, model, {PeerInput{ls, as_bytes(lv)}, PeerInput{rs, as_bytes(rv)}}));
    }
  }
  std::printf("BATCH_MATMUL int8 -> int32: %d of 60 files ran in both, %d refused by both\n", t.ran, t.refused);
  EXPECT_EQ(t.ran, 60);
}

}  // namespace
}  // namespace qlite::test
