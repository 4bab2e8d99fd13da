// The type combinations of ops qlite already runs for other types, probed
// against the real TensorFlow Lite 2.9: for each, whether TFLite runs a small
// one-op file and whether qlite does. Where both run, outputs must be
// identical; where qlite refuses, in one line naming the op and the types.
// The table printed is the audit of issue 13's "for every quantized type it
// supports": rows with TFLite "runs" and qlite "refused" are the gaps left.
// A failure under CI=true when the peer is missing (scripts/install_peers.sh).
#include <gtest/gtest.h>

#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "single_op_peer.h"

namespace qlite::test {
namespace {

using T = TensorType;

struct Probe {
  std::string what;
  std::vector<uint8_t> model;
  std::vector<PeerInput> inputs;
};

Quantization q_of(T t) {
  if (t == T::kInt8) return Quantization::per_tensor(0.05f, -3);
  if (t == T::kUInt8) return Quantization::per_tensor(0.05f, 120);
  if (t == T::kInt16) return Quantization::per_tensor(1.0f / 1024, 0);
  return Quantization{};
}

size_t size_of(T t) {
  switch (t) {
    case T::kInt8: case T::kUInt8: case T::kBool: return 1;
    case T::kInt16: return 2;
    case T::kInt64: return 8;
    default: return 4;
  }
}

std::vector<uint8_t> bytes_for(T t, int64_t n, Rng& rng) {
  std::vector<uint8_t> b(static_cast<size_t>(n) * size_of(t));
  for (size_t i = 0; i < b.size(); ++i) b[i] = static_cast<uint8_t>(rng.below(256));
  if (t == T::kFloat32) {
    std::vector<float> f(static_cast<size_t>(n));
    for (auto& v : f) v = rng.uniform() * 4.0f - 2.0f;
    return as_bytes(f);
  }
  if (t == T::kInt32 || t == T::kInt64) {
    // Small values: products and sums stay in range.
    for (size_t i = 0; i < b.size(); ++i) b[i] = i % size_of(t) == 0 ? static_cast<uint8_t>(1 + rng.below(9)) : 0;
  }
  return b;
}

// op(x) or op(x, y) with x, y of type in, output of type out, shape {2, 4, 4, 3}.
Probe make_probe(Rng& rng, BuiltinOp op, const char* name, T in, T out, int inputs, lite::OpOptions options,
                 std::vector<int32_t> out_shape = {2, 4, 4, 3}, Quantization out_q = {}, bool axis_input = false) {
  const std::vector<int32_t> shape = {2, 4, 4, 3};
  ModelBuilder b;
  const int32_t x = b.add_tensor("x", in, shape, q_of(in));
  std::vector<int32_t> ins = {x};
  if (inputs == 2) ins.push_back(b.add_tensor("x2", in, shape, q_of(in)));
  if (axis_input) ins.push_back(b.add_constant("axes", T::kInt32, {2}, std::vector<int32_t>{1, 2}));
  const int32_t y = b.add_tensor("y", out, out_shape, out_q.scale.empty() ? q_of(out) : out_q);
  b.add_operator(op, ins, {y}, options);
  b.set_inputs(inputs == 2 ? std::vector<int32_t>{ins[0], ins[1]} : std::vector<int32_t>{x});
  b.set_outputs({y});
  Probe p;
  p.what = std::string(name) + " " + lite::tensor_type_name(in) + " -> " + lite::tensor_type_name(out);
  p.model = b.finish();
  for (int k = 0; k < inputs; ++k) p.inputs.push_back(PeerInput{shape, bytes_for(in, 96, rng)});
  return p;
}

// DEPTHWISE_CONV_2D [2, 5, 5, 4] with a 3x3 filter [1, 3, 3, 4] of int8
// (per-channel scales along dimension 3): "16x8" (int16 activations, int64 or
// int32 bias) or hybrid (float input and output, float bias).
Probe depthwise_probe(Rng& rng, T in, T bias_type) {
  const std::vector<int32_t> shape = {2, 5, 5, 4};
  ModelBuilder b;
  const bool hybrid = in == T::kFloat32;
  const Quantization act_q = hybrid ? Quantization{} : Quantization::per_tensor(1.0f / 1024, 0);
  const int32_t x = b.add_tensor("x", in, shape, act_q);
  std::vector<int8_t> wv(36);
  for (auto& v : wv) v = static_cast<int8_t>(static_cast<int64_t>(rng.below(255)) - 127);
  const std::vector<float> ws = {0.01f, 0.02f, 0.015f, 0.03f};
  const int32_t w = b.add_constant("w", T::kInt8, {1, 3, 3, 4}, wv, Quantization::per_axis(ws, {0, 0, 0, 0}, 3));
  int32_t bias = -1;
  if (bias_type == T::kInt64) {
    std::vector<float> bs;
    for (float s : ws) bs.push_back(s / 1024);
    bias = b.add_constant("bias", T::kInt64, {4}, std::vector<int64_t>{100, -200, 300, -400},
                          Quantization::per_axis(bs, {0, 0, 0, 0}, 0));
  } else if (bias_type == T::kInt32) {
    std::vector<float> bs;
    for (float s : ws) bs.push_back(s / 1024);
    bias = b.add_constant("bias", T::kInt32, {4}, std::vector<int32_t>{100, -200, 300, -400},
                          Quantization::per_axis(bs, {0, 0, 0, 0}, 0));
  } else {
    bias = b.add_constant("bias", T::kFloat32, {4}, std::vector<float>{0.1f, -0.2f, 0.3f, -0.4f});
  }
  const int32_t y = b.add_tensor("y", in, {2, 5, 5, 4}, act_q);
  lite::DepthwiseConv2DOptions o;
  o.padding = Padding::kSame;
  b.add_operator(BuiltinOp::kDepthwiseConv2D, {x, w, bias}, {y}, o);
  b.set_inputs({x});
  b.set_outputs({y});
  Probe p;
  p.what = std::string("DEPTHWISE_CONV_2D ") + lite::tensor_type_name(in) + " -> " + lite::tensor_type_name(in) +
           " (INT8 filter, " + lite::tensor_type_name(bias_type) + " bias)";
  p.model = b.finish();
  p.inputs.push_back(PeerInput{shape, bytes_for(in, 200, rng)});
  return p;
}

// op(x, constant) with x of type in, shape {2, 4, 4, 3}: a second operand
// from the file (an axis, block or multiples tensor).
Probe const_probe(Rng& rng, BuiltinOp op, const char* name, T in, T out, lite::OpOptions options,
                  std::vector<int32_t> out_shape, std::vector<int32_t> const_shape, std::vector<int32_t> values,
                  Quantization out_q = {}) {
  const std::vector<int32_t> shape = {2, 4, 4, 3};
  ModelBuilder b;
  const int32_t x = b.add_tensor("x", in, shape, q_of(in));
  const int32_t k = b.add_constant("k", T::kInt32, const_shape, values);
  const int32_t y = b.add_tensor("y", out, out_shape, out_q.scale.empty() ? q_of(out) : out_q);
  b.add_operator(op, {x, k}, {y}, options);
  b.set_inputs({x});
  b.set_outputs({y});
  Probe p;
  p.what = std::string(name) + " " + lite::tensor_type_name(in) + " -> " + lite::tensor_type_name(out);
  p.model = b.finish();
  p.inputs.push_back(PeerInput{shape, bytes_for(in, 96, rng)});
  return p;
}

// BATCH_MATMUL of x [2, 4, 3, 3] (type in) by a constant [3, 5] (type rhs)
// into type out: hybrid (float x int8) and int8 -> int32. (Rows no more than
// the depth: TFLite 2.9's hybrid kernel writes past its scale buffer
// otherwise; tflite_matmul_conv_test.cpp.)
Probe batch_matmul_probe(Rng& rng, T in, T rhs, T out) {
  const std::vector<int32_t> shape = {2, 4, 3, 3};
  ModelBuilder b;
  const int32_t x = b.add_tensor("x", in, shape, q_of(in));
  std::vector<int8_t> rv(15);
  for (auto& v : rv) v = static_cast<int8_t>(static_cast<int64_t>(rng.below(255)) - 127);
  const int32_t r = b.add_constant("r", rhs, {3, 5}, rv, Quantization::per_tensor(0.02f, 0));
  const int32_t y = b.add_tensor("y", out, {2, 4, 3, 5}, out == T::kInt32 ? Quantization{} : q_of(out));
  b.add_operator(BuiltinOp::kBatchMatmul, {x, r}, {y}, lite::BatchMatMulOptions{});
  b.set_inputs({x});
  b.set_outputs({y});
  Probe p;
  p.what = std::string("BATCH_MATMUL ") + lite::tensor_type_name(in) + " -> " + lite::tensor_type_name(out) + " (" +
           lite::tensor_type_name(rhs) + " rhs)";
  p.model = b.finish();
  p.inputs.push_back(PeerInput{shape, bytes_for(in, 72, rng)});
  return p;
}

TEST(TfLiteTypeGaps, AuditAgainstTfLite) {
  QLITE_REQUIRE_TFLITE_PEER(peer);
  Rng rng(1612);
  lite::Pool2DOptions pool;
  pool.filter_w = pool.filter_h = 2;
  pool.stride_w = pool.stride_h = 2;
  lite::ReducerOptions keep;
  keep.keep_dims = true;
  const std::vector<int32_t> pooled = {2, 2, 2, 3}, reduced = {2, 1, 1, 3};
  std::vector<Probe> probes = {
      make_probe(rng, BuiltinOp::kAdd, "ADD", T::kInt32, T::kInt32, 2, lite::AddOptions{}),
      make_probe(rng, BuiltinOp::kAdd, "ADD", T::kInt64, T::kInt64, 2, lite::AddOptions{}),
      make_probe(rng, BuiltinOp::kMul, "MUL", T::kInt16, T::kInt8, 2, lite::MulOptions{}),
      make_probe(rng, BuiltinOp::kMul, "MUL", T::kInt16, T::kUInt8, 2, lite::MulOptions{}),
      make_probe(rng, BuiltinOp::kSoftmax, "SOFTMAX", T::kInt8, T::kInt16, 1, lite::SoftmaxOptions{1.0f}, {2, 4, 4, 3},
                 Quantization::per_tensor(1.0f / 32768, 0)),
      make_probe(rng, BuiltinOp::kSoftmax, "SOFTMAX", T::kUInt8, T::kInt16, 1, lite::SoftmaxOptions{1.0f},
                 {2, 4, 4, 3}, Quantization::per_tensor(1.0f / 32768, 0)),
      make_probe(rng, BuiltinOp::kMaxPool2D, "MAX_POOL_2D", T::kInt16, T::kInt16, 1, pool, pooled),
      make_probe(rng, BuiltinOp::kAveragePool2D, "AVERAGE_POOL_2D", T::kInt16, T::kInt16, 1, pool, pooled),
      make_probe(rng, BuiltinOp::kMean, "MEAN", T::kInt16, T::kInt16, 1, keep, reduced, {}, true),
      make_probe(rng, BuiltinOp::kMean, "MEAN", T::kInt32, T::kInt32, 1, keep, reduced, {}, true),
      make_probe(rng, BuiltinOp::kMean, "MEAN", T::kInt64, T::kInt64, 1, keep, reduced, {}, true),
      make_probe(rng, BuiltinOp::kSum, "SUM", T::kInt16, T::kInt16, 1, keep, reduced, {}, true),
      make_probe(rng, BuiltinOp::kReduceMax, "REDUCE_MAX", T::kInt16, T::kInt16, 1, keep, reduced, {}, true),
      make_probe(rng, BuiltinOp::kReduceMin, "REDUCE_MIN", T::kInt16, T::kInt16, 1, keep, reduced, {}, true),
      make_probe(rng, BuiltinOp::kReduceProd, "REDUCE_PROD", T::kInt8, T::kInt8, 1, keep, reduced, {}, true),
      make_probe(rng, BuiltinOp::kReduceProd, "REDUCE_PROD", T::kInt16, T::kInt16, 1, keep, reduced, {}, true),
      make_probe(rng, BuiltinOp::kFloorDiv, "FLOOR_DIV", T::kInt8, T::kInt8, 2, lite::OpOptions{}),
      make_probe(rng, BuiltinOp::kFloorDiv, "FLOOR_DIV", T::kInt16, T::kInt16, 2, lite::OpOptions{}),
      make_probe(rng, BuiltinOp::kFloorMod, "FLOOR_MOD", T::kInt8, T::kInt8, 2, lite::OpOptions{}),
      make_probe(rng, BuiltinOp::kNeg, "NEG", T::kInt8, T::kInt8, 1, lite::OpOptions{}),
      make_probe(rng, BuiltinOp::kExp, "EXP", T::kInt8, T::kInt8, 1, lite::OpOptions{}),
      make_probe(rng, BuiltinOp::kSquaredDifference, "SQUARED_DIFFERENCE", T::kInt16, T::kInt16, 2, lite::OpOptions{}),
      make_probe(rng, BuiltinOp::kPrelu, "PRELU", T::kInt16, T::kInt16, 2, lite::OpOptions{}),
      make_probe(rng, BuiltinOp::kHardSwish, "HARD_SWISH", T::kInt16, T::kInt16, 1, lite::HardSwishOptions{}),
      make_probe(rng, BuiltinOp::kReluN1To1, "RELU_N1_TO_1", T::kInt16, T::kInt16, 1, lite::OpOptions{}),
      make_probe(rng, BuiltinOp::kGelu, "GELU", T::kInt16, T::kInt16, 1, lite::GeluOptions{}),
      make_probe(rng, BuiltinOp::kElu, "ELU", T::kUInt8, T::kUInt8, 1, lite::OpOptions{}),
      make_probe(rng, BuiltinOp::kAbs, "ABS", T::kUInt8, T::kUInt8, 1, lite::OpOptions{}),
      depthwise_probe(rng, T::kInt16, T::kInt64),
      depthwise_probe(rng, T::kInt16, T::kInt32),
      depthwise_probe(rng, T::kFloat32, T::kFloat32),
      // Further pairs from TFLite 2.9's kernels' type switches, for ops qlite runs.
      make_probe(rng, BuiltinOp::kEqual, "EQUAL", T::kInt16, T::kBool, 2, lite::OpOptions{}),
      make_probe(rng, BuiltinOp::kNotEqual, "NOT_EQUAL", T::kInt16, T::kBool, 2, lite::OpOptions{}),
      make_probe(rng, BuiltinOp::kLess, "LESS", T::kInt16, T::kBool, 2, lite::OpOptions{}),
      make_probe(rng, BuiltinOp::kGreaterEqual, "GREATER_EQUAL", T::kInt16, T::kBool, 2, lite::OpOptions{}),
      make_probe(rng, BuiltinOp::kZerosLike, "ZEROS_LIKE", T::kInt8, T::kInt8, 1, lite::ZerosLikeOptions{}),
      make_probe(rng, BuiltinOp::kZerosLike, "ZEROS_LIKE", T::kInt16, T::kInt16, 1, lite::ZerosLikeOptions{}),
      make_probe(rng, BuiltinOp::kLogSoftmax, "LOG_SOFTMAX", T::kInt16, T::kInt16, 1, lite::LogSoftmaxOptions{}),
      make_probe(rng, BuiltinOp::kL2Normalization, "L2_NORMALIZATION", T::kInt16, T::kInt16, 1, lite::L2NormOptions{}),
      make_probe(rng, BuiltinOp::kAddN, "ADD_N", T::kInt8, T::kInt8, 2, lite::AddNOptions{}),
      make_probe(rng, BuiltinOp::kAddN, "ADD_N", T::kInt64, T::kInt64, 2, lite::AddNOptions{}),
      make_probe(rng, BuiltinOp::kDiv, "DIV", T::kInt8, T::kInt8, 2, lite::DivOptions{}),
      make_probe(rng, BuiltinOp::kDiv, "DIV", T::kInt16, T::kInt16, 2, lite::DivOptions{}),
      make_probe(rng, BuiltinOp::kFloorDiv, "FLOOR_DIV", T::kInt64, T::kInt64, 2, lite::OpOptions{}),
      make_probe(rng, BuiltinOp::kPow, "POW", T::kInt64, T::kInt64, 2, lite::OpOptions{}),
      make_probe(rng, BuiltinOp::kSquare, "SQUARE", T::kInt32, T::kInt32, 1, lite::OpOptions{}),
      make_probe(rng, BuiltinOp::kRsqrt, "RSQRT", T::kInt16, T::kInt16, 1, lite::OpOptions{}),
      make_probe(rng, BuiltinOp::kNeg, "NEG", T::kInt16, T::kInt16, 1, lite::OpOptions{}),
      make_probe(rng, BuiltinOp::kHardSwish, "HARD_SWISH", T::kUInt8, T::kUInt8, 1, lite::HardSwishOptions{}),
      make_probe(rng, BuiltinOp::kSquaredDifference, "SQUARED_DIFFERENCE", T::kInt64, T::kInt64, 2, lite::OpOptions{}),
      make_probe(rng, BuiltinOp::kMaximum, "MAXIMUM", T::kInt16, T::kInt16, 2, lite::OpOptions{}),
      make_probe(rng, BuiltinOp::kQuantize, "QUANTIZE", T::kInt8, T::kInt16, 1, lite::OpOptions{}),
      make_probe(rng, BuiltinOp::kQuantize, "QUANTIZE", T::kUInt8, T::kInt16, 1, lite::OpOptions{}),
      make_probe(rng, BuiltinOp::kQuantize, "QUANTIZE", T::kInt16, T::kInt32, 1, lite::OpOptions{}, {2, 4, 4, 3},
                 Quantization::per_tensor(1.0f / 65536, 0)),
      make_probe(rng, BuiltinOp::kQuantize, "QUANTIZE", T::kInt8, T::kInt32, 1, lite::OpOptions{}, {2, 4, 4, 3},
                 Quantization::per_tensor(1.0f / 65536, 0)),
      make_probe(rng, BuiltinOp::kReduceProd, "REDUCE_PROD", T::kUInt8, T::kUInt8, 1, keep, reduced, {}, true),
      make_probe(rng, BuiltinOp::kSum, "SUM", T::kBool, T::kBool, 1, keep, reduced, {}, true),
      const_probe(rng, BuiltinOp::kMean, "MEAN", T::kInt8, T::kInt8, keep, {2, 4, 4, 1}, {1}, {3}),
      const_probe(rng, BuiltinOp::kMean, "MEAN", T::kUInt8, T::kUInt8, lite::ReducerOptions{}, {4, 4, 3}, {1}, {0}),
      const_probe(rng, BuiltinOp::kMean, "MEAN", T::kFloat32, T::kFloat32, keep, {2, 4, 4, 1}, {1}, {3}),
      const_probe(rng, BuiltinOp::kArgMax, "ARG_MAX", T::kInt16, T::kInt32, lite::ArgMaxOptions{T::kInt32}, {2, 4, 4},
                  {1}, {3}),
      const_probe(rng, BuiltinOp::kTile, "TILE", T::kInt16, T::kInt16, lite::OpOptions{}, {2, 8, 4, 3}, {4},
                  {1, 2, 1, 1}),
      const_probe(rng, BuiltinOp::kCumsum, "CUMSUM", T::kInt8, T::kInt8, lite::CumsumOptions{}, {2, 4, 4, 3}, {}, {1}),
      const_probe(rng, BuiltinOp::kMirrorPad, "MIRROR_PAD", T::kInt16, T::kInt16, lite::MirrorPadOptions{},
                  {2, 4, 6, 3}, {4, 2}, {0, 0, 0, 0, 1, 1, 0, 0}),
      make_probe(rng, BuiltinOp::kDepthToSpace, "DEPTH_TO_SPACE", T::kInt16, T::kInt16, 1, lite::DepthToSpaceOptions{1}),
      make_probe(rng, BuiltinOp::kSpaceToDepth, "SPACE_TO_DEPTH", T::kInt16, T::kInt16, 1, lite::SpaceToDepthOptions{1}),
      const_probe(rng, BuiltinOp::kPad, "PAD", T::kBool, T::kBool, lite::PadOptions{}, {2, 4, 6, 3}, {4, 2},
                  {0, 0, 0, 0, 1, 1, 0, 0}),
      const_probe(rng, BuiltinOp::kTranspose, "TRANSPOSE", T::kBool, T::kBool, lite::OpOptions{}, {3, 4, 4, 2}, {4},
                  {3, 1, 2, 0}),
      make_probe(rng, BuiltinOp::kConcatenation, "CONCATENATION", T::kInt16, T::kInt16, 2,
                 lite::ConcatenationOptions{3}, {2, 4, 4, 6}),
      batch_matmul_probe(rng, T::kFloat32, T::kInt8, T::kFloat32),
      batch_matmul_probe(rng, T::kInt8, T::kInt8, T::kInt32),
  };
  int both = 0, gaps = 0, neither = 0, qlite_only = 0;
  std::string table;
  for (const Probe& p : probes) {
    SCOPED_TRACE(p.what);
    const Outcome theirs = run_in_tflite(*peer, p.model, p.inputs);
    std::vector<std::vector<uint8_t>> ins;
    for (const auto& in : p.inputs) ins.push_back(in.bytes);
    const Outcome ours = run_in_qlite(p.model, ins);
    const bool t = theirs.error.empty(), q = ours.error.empty();
    table += "  " + p.what + ": TFLite " + (t ? "runs" : "refuses") + ", qlite " + (q ? "runs" : "refuses") + "\n";
    if (t && q) {
      ++both;
      EXPECT_EQ(ours.bytes, theirs.bytes);
    } else if (t) {
      ++gaps;
    } else if (q) {
      ++qlite_only;
    } else {
      ++neither;
    }
    if (!q) {
      EXPECT_EQ(ours.error.find('\n'), std::string::npos) << ours.error;
      EXPECT_NE(ours.error.find(p.what.substr(0, p.what.find(' '))), std::string::npos) << ours.error;
    }
  }
  std::printf("type audit: %d both run, %d TFLite only (gaps), %d qlite only, %d neither\n%s", both, gaps, qlite_only,
              neither, table.c_str());
  // Every pair TFLite 2.9 runs, qlite runs too (the gaps this audit found
  // are filled: tflite_types16_test.cpp has their conformance tests, and
  // tflite_matmul_conv_test.cpp hybrid BATCH_MATMUL's), with identical bytes.
  EXPECT_EQ(gaps, 0) << table;
  EXPECT_NE(table.find("BATCH_MATMUL FLOAT32 -> FLOAT32 (INT8 rhs): TFLite runs, qlite runs"), std::string::npos)
      << table;
  EXPECT_EQ(qlite_only, 0) << table;
}

// int32 and int64 ADD (filled from the audit above): random shapes, some
// broadcast, values over the whole range (sums that wrap) and small ones,
// every fused activation.
TEST(TfLiteTypeGaps, IntegerAddMatchesTfLite) {
  QLITE_REQUIRE_TFLITE_PEER(peer);
  Rng rng(1613);
  const Activation acts[] = {Activation::kLinear, Activation::kRelu, Activation::kRelu6, Activation::kReluN1To1};
  int ran = 0;
  for (int k = 0; k < 60; ++k) {
    const T type = k % 2 ? T::kInt64 : T::kInt32;
    std::vector<int32_t> sa, sb;
    const int rank = 1 + static_cast<int>(rng.below(4));
    for (int d = 0; d < rank; ++d) {
      const int e = 1 + static_cast<int>(rng.below(5));
      sa.push_back(e);
      sb.push_back(k % 3 == 0 && rng.below(2) ? 1 : e);
    }
    int64_t na = 1, nb = 1;
    for (int v : sa) na *= v;
    for (int v : sb) nb *= v;
    const bool wide = k % 4 == 0;
    auto values = [&](int64_t n) {
      std::vector<uint8_t> b(static_cast<size_t>(n) * size_of(type));
      for (int64_t i = 0; i < n; ++i) {
        const int64_t v = wide ? static_cast<int64_t>(rng.next_u64()) : static_cast<int64_t>(rng.below(21)) - 10;
        if (type == T::kInt32) {
          const int32_t w = static_cast<int32_t>(v);
          std::memcpy(&b[static_cast<size_t>(i) * 4], &w, 4);
        } else {
          std::memcpy(&b[static_cast<size_t>(i) * 8], &v, 8);
        }
      }
      return b;
    };
    ModelBuilder mb;
    const int32_t x = mb.add_tensor("x", type, sa);
    const int32_t x2 = mb.add_tensor("x2", type, sb);
    const int32_t y = mb.add_tensor("y", type, sa);
    lite::AddOptions o;
    o.activation = acts[rng.below(4)];
    mb.add_operator(BuiltinOp::kAdd, {x, x2}, {y}, o);
    mb.set_inputs({x, x2});
    mb.set_outputs({y});
    const auto model = mb.finish();
    const auto a = values(na), b = values(nb);
    SCOPED_TRACE("case " + std::to_string(k) + " " + lite::tensor_type_name(type) + " " +
                 lite::activation_name(o.activation));
    const Outcome theirs = run_in_tflite(*peer, model, {PeerInput{sa, a}, PeerInput{sb, b}});
    const Outcome ours = run_in_qlite(model, {a, b});
    EXPECT_EQ(ours.error.empty(), theirs.error.empty()) << "qlite '" << ours.error << "', TFLite '" << theirs.error << "'";
    if (!ours.error.empty() || !theirs.error.empty()) continue;
    EXPECT_EQ(ours.bytes, theirs.bytes);
    ++ran;
  }
  std::printf("int32 / int64 ADD: %d of 60 files ran in both\n", ran);
  EXPECT_EQ(ran, 60);
}

// int16 REDUCE_MAX / REDUCE_MIN (filled from the audit): random shapes and
// axes (negative and repeated ones too), keep_dims, the output with the
// input's quantization or another one.
TEST(TfLiteTypeGaps, Int16ReduceMaxMinMatchTfLite) {
  QLITE_REQUIRE_TFLITE_PEER(peer);
  Rng rng(1614);
  int ran = 0, refused = 0;
  for (int k = 0; k < 60; ++k) {
    const BuiltinOp op = k % 2 ? BuiltinOp::kReduceMin : BuiltinOp::kReduceMax;
    const int rank = 1 + static_cast<int>(rng.below(4));
    std::vector<int32_t> shape;
    for (int d = 0; d < rank; ++d) shape.push_back(1 + static_cast<int>(rng.below(5)));
    std::vector<int32_t> axes;
    const int n_axes = 1 + static_cast<int>(rng.below(static_cast<uint64_t>(rank)));
    for (int a = 0; a < n_axes; ++a) {
      const int ax = static_cast<int>(rng.below(static_cast<uint64_t>(rank)));
      axes.push_back(rng.below(3) == 0 ? ax - rank : ax);
    }
    const bool keep = rng.below(2) == 0;
    std::vector<int32_t> out_shape;
    for (int d = 0; d < rank; ++d) {
      bool reduced = false;
      for (int a : axes) reduced = reduced || (a < 0 ? a + rank : a) == d;
      if (!reduced) out_shape.push_back(shape[static_cast<size_t>(d)]);
      else if (keep) out_shape.push_back(1);
    }
    const bool same_q = k % 4 != 3;
    ModelBuilder mb;
    const int32_t x = mb.add_tensor("x", T::kInt16, shape, Quantization::per_tensor(1.0f / 1024, 0));
    const int32_t ax = mb.add_constant("axes", T::kInt32, {static_cast<int32_t>(axes.size())}, axes);
    const int32_t y = mb.add_tensor("y", T::kInt16, out_shape,
                                    Quantization::per_tensor(same_q ? 1.0f / 1024 : 1.0f / 512, 0));
    lite::ReducerOptions o;
    o.keep_dims = keep;
    mb.add_operator(op, {x, ax}, {y}, o);
    mb.set_inputs({x});
    mb.set_outputs({y});
    const auto model = mb.finish();
    int64_t n = 1;
    for (int v : shape) n *= v;
    std::vector<int16_t> v(static_cast<size_t>(n));
    for (auto& e : v) e = static_cast<int16_t>(static_cast<int64_t>(rng.below(65536)) - 32768);
    SCOPED_TRACE("case " + std::to_string(k));
    const Outcome theirs = run_in_tflite(*peer, model, shape, as_bytes(v));
    const Outcome ours = run_in_qlite(model, as_bytes(v));
    EXPECT_EQ(ours.error.empty(), theirs.error.empty()) << "qlite '" << ours.error << "', TFLite '" << theirs.error << "'";
    if (!theirs.error.empty()) ++refused;
    if (!ours.error.empty() || !theirs.error.empty()) continue;
    EXPECT_EQ(ours.bytes, theirs.bytes);
    ++ran;
  }
  std::printf("int16 REDUCE_MAX / REDUCE_MIN: %d of 60 files ran in both, %d refused by both\n", ran, refused);
  EXPECT_GT(ran, 40);
}

}  // namespace
}  // namespace qlite::test
