// The elementwise math, comparison, logical, select and reduction ops against
// the real TensorFlow Lite 2.9: one-op .tflite files written with qlite's
// writer over seeded random shapes (broadcasting up to 5-D), parameters and
// types, run in both with the same input bytes.
//  - integer and bool outputs: byte-identical; float32: within 1e-5 relative
//    (NaN where TFLite has NaN);
//  - quantized binary ops: every pair of byte values (a [256, 1] by [256]
//    broadcast) under many random scale / zero-point triples and fused
//    activations; quantized one-input ops: every byte value under many
//    quantizations;
//  - second operands both as graph inputs and as constants (what real files hold);
//  - type combinations TFLite 2.9 refuses are refused by qlite too.
// RELU_0_TO_1 is newer than TFLite 2.9: its quantized results are checked
// against the ReluX formula written out below.
// A failure under CI=true when the peer is missing (scripts/install_peers.sh).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <numeric>
#include <optional>
#include <string>
#include <vector>

#include "isa_runs.h"
#include "single_op_peer.h"

namespace qlite::test {
namespace {

using T = TensorType;

struct Operand {
  T type = T::kFloat32;
  std::vector<int32_t> shape;
  Quantization q;
  std::vector<uint8_t> bytes;
  bool constant = false;
};

struct Case {
  BuiltinOp op = BuiltinOp::kMul;
  std::vector<Operand> ins;
  T out_type = T::kFloat32;
  std::vector<int32_t> out_shape;
  Quantization out_q;
  lite::OpOptions options;
};

std::vector<uint8_t> build(const Case& c) {
  ModelBuilder b;
  std::vector<int32_t> ins, graph_ins;
  for (size_t k = 0; k < c.ins.size(); ++k) {
    const Operand& o = c.ins[k];
    const std::string name = "in" + std::to_string(k);
    int32_t t = o.constant ? b.add_constant(name, o.type, o.shape, o.bytes, o.q) : b.add_tensor(name, o.type, o.shape, o.q);
    ins.push_back(t);
    if (!o.constant) graph_ins.push_back(t);
  }
  const int32_t y = b.add_tensor("y", c.out_type, c.out_shape, c.out_q);
  b.add_operator(c.op, ins, {y}, c.options);
  b.set_inputs(graph_ins);
  b.set_outputs({y});
  return b.finish();
}

struct Result {
  Outcome ours, theirs;
};

std::string describe_case(const Case& c);

// QLITE_TRACE_CASES=1 prints each case before it runs (TFLite aborts on some files).
// The kernel path qlite runs on (the interpreter's choice when empty).
std::optional<Isa> g_isa;

Result run_both(const TfLitePeer& peer, const Case& c) {
  if (std::getenv("QLITE_TRACE_CASES")) std::fprintf(stderr, "%s\n", describe_case(c).c_str());
  const std::vector<uint8_t> model = build(c);
  std::vector<std::vector<uint8_t>> q_in;
  std::vector<PeerInput> t_in;
  for (const Operand& o : c.ins) {
    if (o.constant) continue;
    q_in.push_back(o.bytes);
    t_in.push_back(PeerInput{o.shape, o.bytes});
  }
  return {run_in_qlite(model, q_in, {.isa = g_isa}), run_in_tflite(peer, model, t_in)};
}

std::string describe_case(const Case& c) {
  std::string s = lite::builtin_op_name(c.op) + "(";
  for (size_t k = 0; k < c.ins.size(); ++k) {
    const Operand& o = c.ins[k];
    s += (k ? ", " : "") + std::string(lite::tensor_type_name(o.type)) + "[";
    for (size_t d = 0; d < o.shape.size(); ++d) s += (d ? "," : "") + std::to_string(o.shape[d]);
    s += "]";
    if (!o.q.scale.empty()) s += " q(" + std::to_string(o.q.scale[0]) + "," + std::to_string(o.q.zero_point[0]) + ")";
    if (o.constant) s += " const";
  }
  s += ") -> " + std::string(lite::tensor_type_name(c.out_type));
  if (!c.out_q.scale.empty())
    s += " q(" + std::to_string(c.out_q.scale[0]) + "," + std::to_string(c.out_q.zero_point[0]) + ")";
  return s;
}

// Within 1e-5 relative; `abs` adds an absolute allowance where the formula
// cancels in float (GELU's 1 + erf / 1 + tanh tails).
bool floats_close(float a, float b, float abs = 1e-30f) {
  if (std::isnan(a) || std::isnan(b)) return std::isnan(a) && std::isnan(b);
  if (a == b) return true;
  return std::fabs(a - b) <= 1e-5f * std::max(std::fabs(a), std::fabs(b)) + abs;
}

struct Tally {
  int cases = 0;
  int64_t outputs = 0;
  int mismatched_cases = 0;
};

// Both run and agree (bytes, or floats within 1e-5 relative).
void expect_same(const TfLitePeer& peer, const Case& c, Tally& t) {
  const Result r = run_both(peer, c);
  SCOPED_TRACE(describe_case(c));
  ASSERT_EQ(r.theirs.error, "");
  ASSERT_EQ(r.ours.error, "");
  ASSERT_EQ(r.ours.shape, r.theirs.shape);
  ASSERT_EQ(r.ours.bytes.size(), r.theirs.bytes.size());
  ++t.cases;
  if (c.out_type == T::kFloat32) {
    const size_t n = r.ours.bytes.size() / 4;
    t.outputs += static_cast<int64_t>(n);
    int bad = 0;
    size_t first = 0;
    for (size_t i = 0; i < n; ++i) {
      float a = 0, b = 0;
      std::memcpy(&a, r.ours.bytes.data() + 4 * i, 4);
      std::memcpy(&b, r.theirs.bytes.data() + 4 * i, 4);
      // GELU's tails (x below about -4) are 1 + erf(x / sqrt 2) or 1 + tanh(.)
      // after cancellation: a few 1e-7 absolute in any float implementation,
      // and TFLite's erf / tanh differ from the C library's there.
      const float abs = c.op == BuiltinOp::kGelu ? 1e-6f : 1e-30f;
      if (!floats_close(a, b, abs) && bad++ == 0) first = i;
    }
    if (bad) {
      float a = 0, b = 0;
      std::memcpy(&a, r.ours.bytes.data() + 4 * first, 4);
      std::memcpy(&b, r.theirs.bytes.data() + 4 * first, 4);
      ADD_FAILURE() << bad << " of " << n << " float outputs differ; first at " << first << ": qlite " << a
                    << ", TFLite " << b;
      ++t.mismatched_cases;
    }
  } else {
    t.outputs += static_cast<int64_t>(r.ours.bytes.size());
    size_t bad = 0, first = 0;
    for (size_t i = 0; i < r.ours.bytes.size(); ++i)
      if (r.ours.bytes[i] != r.theirs.bytes[i] && bad++ == 0) first = i;
    if (bad) {
      ADD_FAILURE() << bad << " of " << r.ours.bytes.size() << " output bytes differ; first at byte " << first
                    << ": qlite " << int{r.ours.bytes[first]} << ", TFLite " << int{r.theirs.bytes[first]}
                    << (c.ins.size() == 1 && c.ins[0].bytes.size() == r.ours.bytes.size()
                            ? " (input byte " + std::to_string(c.ins[0].bytes[first]) + ", next " +
                                  std::to_string(c.ins[0].bytes[first ^ 1]) + ")"
                            : std::string());
      ++t.mismatched_cases;
    }
  }
}

// ---- random operands

size_t type_size(T t) { return lite::tensor_type_size(t); }

int64_t numel(const std::vector<int32_t>& s) {
  int64_t n = 1;
  for (int32_t d : s) n *= d;
  return n;
}

// Random values of a type; ints in [lo, hi] (bool: 0 / 1).
std::vector<uint8_t> random_bytes(Rng& rng, T type, int64_t n, double lo = -50, double hi = 50) {
  std::vector<uint8_t> b(static_cast<size_t>(n) * type_size(type));
  for (int64_t i = 0; i < n; ++i) {
    uint8_t* p = b.data() + static_cast<size_t>(i) * type_size(type);
    const double u = lo + (hi - lo) * rng.uniform();
    switch (type) {
      case T::kFloat32: {
        const float v = static_cast<float>(u);
        std::memcpy(p, &v, 4);
        break;
      }
      case T::kInt32: {
        const auto v = static_cast<int32_t>(std::floor(u));
        std::memcpy(p, &v, 4);
        break;
      }
      case T::kInt64: {
        const auto v = static_cast<int64_t>(std::floor(u));
        std::memcpy(p, &v, 8);
        break;
      }
      case T::kInt16: {
        const auto v = static_cast<int16_t>(rng.below(65536) - 32768);
        std::memcpy(p, &v, 2);
        break;
      }
      case T::kBool: *p = static_cast<uint8_t>(rng.below(2)); break;
      default: *p = static_cast<uint8_t>(rng.below(256)); break;  // int8 / uint8: every byte
    }
  }
  return b;
}

// Two shapes that broadcast to a random output of rank <= max_rank.
struct ShapePair {
  std::vector<int32_t> a, b, out;
};
ShapePair random_broadcast(Rng& rng, int max_rank) {
  ShapePair p;
  const int rank = static_cast<int>(rng.below(static_cast<uint64_t>(max_rank) + 1));
  for (int d = 0; d < rank; ++d) p.out.push_back(1 + static_cast<int32_t>(rng.below(5)));
  auto derive = [&](bool same) {
    if (same) return p.out;
    const int r = static_cast<int>(rng.below(static_cast<uint64_t>(rank) + 1));
    std::vector<int32_t> s(p.out.end() - r, p.out.end());
    for (int32_t& d : s)
      if (rng.below(3) == 0) d = 1;
    return s;
  };
  const int mode = static_cast<int>(rng.below(3));  // same shapes, one broadcast, both broadcast
  p.a = derive(mode == 0 || mode == 1);
  p.b = derive(mode == 0);
  // The output of the two as TFLite computes it (a dimension of 1 stretches).
  const size_t r = std::max(p.a.size(), p.b.size());
  p.out.assign(r, 1);
  for (size_t d = 0; d < r; ++d) {
    const int32_t x = d + p.a.size() >= r ? p.a[d + p.a.size() - r] : 1;
    const int32_t y = d + p.b.size() >= r ? p.b[d + p.b.size() - r] : 1;
    p.out[d] = std::max(x, y);
  }
  if (rng.below(2)) std::swap(p.a, p.b);
  return p;
}

Quantization random_q(Rng& rng, T type, float lo_exp = -8.0f, float hi_exp = 0.0f) {
  const int32_t lo = type == T::kInt8 ? -128 : type == T::kUInt8 ? 0 : 0;
  const int32_t zp = type == T::kInt16 ? 0 : lo + static_cast<int32_t>(rng.below(256));
  return Quantization::per_tensor(std::exp2(rng.uniform(lo_exp, hi_exp)), zp);
}

lite::OpOptions options_for(BuiltinOp op, Activation act) {
  switch (op) {
    case BuiltinOp::kMul: return lite::MulOptions{act};
    case BuiltinOp::kSub: return lite::SubOptions{act};
    case BuiltinOp::kDiv: return lite::DivOptions{act};
    case BuiltinOp::kMaximum:
    case BuiltinOp::kMinimum: return lite::MaximumMinimumOptions{};
    case BuiltinOp::kSquaredDifference: return lite::SquaredDifferenceOptions{};
    case BuiltinOp::kPow: return lite::PowOptions{};
    case BuiltinOp::kFloorDiv: return lite::FloorDivOptions{};
    case BuiltinOp::kFloorMod: return lite::FloorModOptions{};
    case BuiltinOp::kEqual: return lite::EqualOptions{};
    case BuiltinOp::kNotEqual: return lite::NotEqualOptions{};
    case BuiltinOp::kGreater: return lite::GreaterOptions{};
    case BuiltinOp::kGreaterEqual: return lite::GreaterEqualOptions{};
    case BuiltinOp::kLess: return lite::LessOptions{};
    case BuiltinOp::kLessEqual: return lite::LessEqualOptions{};
    case BuiltinOp::kLogicalAnd: return lite::LogicalAndOptions{};
    case BuiltinOp::kLogicalOr: return lite::LogicalOrOptions{};
    case BuiltinOp::kLogicalNot: return lite::LogicalNotOptions{};
    case BuiltinOp::kSelect: return lite::SelectOptions{};
    case BuiltinOp::kSelectV2: return lite::SelectV2Options{};
    case BuiltinOp::kAbs: return lite::AbsOptions{};
    case BuiltinOp::kNeg: return lite::NegOptions{};
    case BuiltinOp::kExp: return lite::ExpOptions{};
    case BuiltinOp::kSquare: return lite::SquareOptions{};
    case BuiltinOp::kCos: return lite::CosOptions{};
    default: return std::monostate{};
  }
}

Activation random_act(Rng& rng) {
  const Activation acts[] = {Activation::kLinear, Activation::kRelu, Activation::kRelu6, Activation::kReluN1To1};
  return acts[rng.below(4)];
}

bool is_comparison(BuiltinOp op) {
  return op == BuiltinOp::kEqual || op == BuiltinOp::kNotEqual || op == BuiltinOp::kGreater ||
         op == BuiltinOp::kGreaterEqual || op == BuiltinOp::kLess || op == BuiltinOp::kLessEqual;
}

// A random broadcasting case of a binary op on a non-quantized type.
Case binary_case(Rng& rng, BuiltinOp op, T type, int max_rank, bool constant_b) {
  Case c;
  c.op = op;
  const ShapePair s = random_broadcast(rng, max_rank);
  double lo = -20, hi = 20;
  if (op == BuiltinOp::kPow) lo = type == T::kFloat32 ? 0.1 : 0, hi = type == T::kFloat32 ? 3 : 6;
  Operand a{type, s.a, {}, random_bytes(rng, type, numel(s.a), lo, hi), false};
  Operand b{type, s.b, {}, random_bytes(rng, type, numel(s.b), lo, hi), constant_b};
  const bool divides = op == BuiltinOp::kDiv || op == BuiltinOp::kFloorDiv || op == BuiltinOp::kFloorMod;
  if (divides && type != T::kFloat32) {  // no zero divisors (TFLite refuses them at invoke)
    for (size_t i = 0; i < b.bytes.size(); i += type_size(type)) {
      if (type == T::kInt32) {
        int32_t v = 0;
        std::memcpy(&v, b.bytes.data() + i, 4);
        if (v == 0) v = 3;
        std::memcpy(b.bytes.data() + i, &v, 4);
      } else {
        int64_t v = 0;
        std::memcpy(&v, b.bytes.data() + i, 8);
        if (v == 0) v = -7;
        std::memcpy(b.bytes.data() + i, &v, 8);
      }
    }
  }
  if (divides && type == T::kFloat32) {  // keep divisors away from 0
    for (size_t i = 0; i < b.bytes.size(); i += 4) {
      float v = 0;
      std::memcpy(&v, b.bytes.data() + i, 4);
      if (std::fabs(v) < 0.5f) v = v < 0 ? -0.5f : 0.5f;
      std::memcpy(b.bytes.data() + i, &v, 4);
    }
  }
  if (type == T::kFloat32 && is_comparison(op)) {  // ties: round half the values to integers
    for (auto* o : {&a, &b})
      for (size_t i = 0; i < o->bytes.size(); i += 4) {
        float v = 0;
        std::memcpy(&v, o->bytes.data() + i, 4);
        v = std::round(v / 8);
        std::memcpy(o->bytes.data() + i, &v, 4);
      }
  }
  c.ins = {a, b};
  c.out_type = is_comparison(op) ? T::kBool : type;
  c.out_shape = s.out;
  const bool fused = op == BuiltinOp::kMul || op == BuiltinOp::kSub || op == BuiltinOp::kDiv;
  c.options = options_for(op, fused && type != T::kInt64 ? random_act(rng) : Activation::kLinear);
  return c;
}

// Every pair of byte values: a [256, 1] by [256] broadcast.
Case byte_grid_case(Rng& rng, BuiltinOp op, T type, bool constant_b) {
  Case c;
  c.op = op;
  std::vector<uint8_t> all(256);
  std::iota(all.begin(), all.end(), 0);
  std::vector<uint8_t> a = all, b = all;
  rng.shuffle(a);
  rng.shuffle(b);
  const bool cmp = is_comparison(op);
  // Comparisons: TFLite 2.9 aborts on scales >= 1.
  c.ins = {Operand{type, {256, 1}, random_q(rng, type, -8.0f, cmp ? -0.01f : 2.0f), a, false},
           Operand{type, {256}, random_q(rng, type, -8.0f, cmp ? -0.01f : 2.0f), b, constant_b}};
  if (cmp && rng.below(3) == 0) c.ins[1].q = c.ins[0].q;  // equal quantization: exact comparisons
  c.out_type = cmp ? T::kBool : type;
  c.out_shape = {256, 256};
  if (!cmp) c.out_q = random_q(rng, type, -8.0f, 2.0f);
  c.options = options_for(op, random_act(rng));
  return c;
}

// ---- binary ops

TEST(TfLiteMathOps, BinaryArithmeticFloatAndIntegerBroadcasts) {
  QLITE_REQUIRE_TFLITE_PEER(peer);
  Rng rng(1301);
  Tally t;
  const struct {
    BuiltinOp op;
    std::vector<T> types;
  } ops[] = {
      {BuiltinOp::kMul, {T::kFloat32, T::kInt32, T::kInt64}},
      {BuiltinOp::kSub, {T::kFloat32, T::kInt32, T::kInt64}},
      {BuiltinOp::kMaximum, {T::kFloat32, T::kInt32, T::kInt64, T::kInt8, T::kUInt8, T::kInt16}},
      {BuiltinOp::kMinimum, {T::kFloat32, T::kInt32, T::kInt64, T::kInt8, T::kUInt8, T::kInt16}},
      {BuiltinOp::kSquaredDifference, {T::kFloat32, T::kInt32}},
      {BuiltinOp::kDiv, {T::kFloat32, T::kInt32}},
      {BuiltinOp::kPow, {T::kFloat32, T::kInt32}},
      {BuiltinOp::kFloorDiv, {T::kFloat32, T::kInt32}},
      {BuiltinOp::kFloorMod, {T::kFloat32, T::kInt32, T::kInt64}},
  };
  for (const auto& o : ops)
    for (T type : o.types)
      for (int i = 0; i < 12; ++i) {
        // TFLite 2.9 broadcasts these through 4-D kernels (it aborts beyond).
        const bool four_d = o.op == BuiltinOp::kSquaredDifference || o.op == BuiltinOp::kPow ||
                            o.op == BuiltinOp::kFloorDiv || o.op == BuiltinOp::kFloorMod;
        Case c = binary_case(rng, o.op, type, i < 10 || four_d ? 4 : 5, i % 3 == 2);
        if (type == T::kInt8 || type == T::kUInt8 || type == T::kInt16) {  // max / min: raw values, one quantization
          const Quantization q = random_q(rng, type);
          c.ins[0].q = c.ins[1].q = c.out_q = q;
        }
        expect_same(*peer, c, t);
      }
  std::printf("binary arithmetic: %d cases, %lld outputs, %d cases differ\n", t.cases,
              static_cast<long long>(t.outputs), t.mismatched_cases);
  EXPECT_EQ(t.cases, 12 * 29);
}

TEST(TfLiteMathOps, QuantizedMulSubAndSquaredDifferenceOnEveryBytePair) {
  QLITE_REQUIRE_TFLITE_PEER(peer);
  Rng rng(1302);
  Tally t;
  for (BuiltinOp op : {BuiltinOp::kMul, BuiltinOp::kSub})
    for (T type : {T::kInt8, T::kUInt8})
      for (int i = 0; i < 24; ++i) expect_same(*peer, byte_grid_case(rng, op, type, i % 4 == 3), t);
  // int8 SQUARED_DIFFERENCE: scales whose output multiplier (2 max)^2 / (2^14 so)
  // stays below 1 (TFLite 2.9 aborts otherwise).
  for (int i = 0; i < 24; ++i) {
    Case c = byte_grid_case(rng, BuiltinOp::kSquaredDifference, T::kInt8, i % 4 == 3);
    const double twice_max = 2.0 * std::max(c.ins[0].q.scale[0], c.ins[1].q.scale[0]);
    c.out_q.scale[0] = static_cast<float>(twice_max * twice_max / 16384.0 * std::exp2(rng.uniform(0.5f, 14.0f)));
    expect_same(*peer, c, t);
  }
  std::printf("quantized MUL / SUB / SQUARED_DIFFERENCE: %d cases, %lld outputs (every byte pair), %d cases differ\n",
              t.cases, static_cast<long long>(t.outputs), t.mismatched_cases);
  EXPECT_EQ(t.cases, 2 * 2 * 24 + 24);
}

TEST(TfLiteMathOps, Int16MulAndSubWithBroadcast) {
  QLITE_REQUIRE_TFLITE_PEER(peer);
  Rng rng(1303);
  Tally t;
  for (int i = 0; i < 40; ++i) {
    const ShapePair s = random_broadcast(rng, 4);
    Case c;
    c.op = i < 20 ? BuiltinOp::kMul : BuiltinOp::kSub;
    c.ins = {Operand{T::kInt16, s.a, random_q(rng, T::kInt16, -12, -2), random_bytes(rng, T::kInt16, numel(s.a)), false},
             Operand{T::kInt16, s.b, random_q(rng, T::kInt16, -12, -2), random_bytes(rng, T::kInt16, numel(s.b)), i % 2 == 1}};
    c.out_type = T::kInt16;
    c.out_shape = s.out;
    c.out_q = random_q(rng, T::kInt16, -12, -2);
    if (c.op == BuiltinOp::kSub) c.ins[1].q.scale[0] = c.ins[0].q.scale[0] * rng.uniform(0.3f, 3.0f);  // not powers of two
    c.options = c.op == BuiltinOp::kMul ? lite::OpOptions{lite::MulOptions{random_act(rng)}}
                                        : lite::OpOptions{lite::SubOptions{random_act(rng)}};
    expect_same(*peer, c, t);
  }
  // Every int16 value against a row of random ones.
  std::vector<int16_t> all(65536);
  std::iota(all.begin(), all.end(), int16_t{-32768});
  for (int i = 0; i < 8; ++i) {
    rng.shuffle(all);
    Case c;
    c.op = i % 2 ? BuiltinOp::kSub : BuiltinOp::kMul;
    const Quantization qa = random_q(rng, T::kInt16, -14, -4);
    Quantization qb = random_q(rng, T::kInt16, -14, -4);
    c.ins = {Operand{T::kInt16, {256, 256}, qa, as_bytes(all), false},
             Operand{T::kInt16, {256}, qb, random_bytes(rng, T::kInt16, 256), i % 4 == 1}};
    c.out_type = T::kInt16;
    c.out_shape = {256, 256};
    c.out_q = random_q(rng, T::kInt16, -14, -2);
    c.options = c.op == BuiltinOp::kMul ? lite::OpOptions{lite::MulOptions{}} : lite::OpOptions{lite::SubOptions{}};
    expect_same(*peer, c, t);
  }
  std::printf("int16 MUL / SUB: %d cases, %lld output bytes, %d cases differ\n", t.cases,
              static_cast<long long>(t.outputs), t.mismatched_cases);
  EXPECT_EQ(t.cases, 48);
}

TEST(TfLiteMathOps, ComparisonsOnEveryTypeAndBytePair) {
  QLITE_REQUIRE_TFLITE_PEER(peer);
  Rng rng(1304);
  Tally t;
  const BuiltinOp ops[] = {BuiltinOp::kEqual, BuiltinOp::kNotEqual, BuiltinOp::kGreater,
                           BuiltinOp::kGreaterEqual, BuiltinOp::kLess, BuiltinOp::kLessEqual};
  for (BuiltinOp op : ops) {
    for (T type : {T::kFloat32, T::kInt32, T::kInt64})
      for (int i = 0; i < 6; ++i) expect_same(*peer, binary_case(rng, op, type, 4, i % 3 == 2), t);
    for (T type : {T::kInt8, T::kUInt8})
      for (int i = 0; i < 6; ++i) expect_same(*peer, byte_grid_case(rng, op, type, i % 3 == 2), t);
    if (op == BuiltinOp::kEqual || op == BuiltinOp::kNotEqual)
      for (int i = 0; i < 4; ++i) expect_same(*peer, binary_case(rng, op, T::kBool, 4, i % 2 == 1), t);
  }
  std::printf("comparisons: %d cases, %lld outputs, %d cases differ\n", t.cases, static_cast<long long>(t.outputs),
              t.mismatched_cases);
  EXPECT_EQ(t.cases, 6 * 30 + 2 * 4);
}

TEST(TfLiteMathOps, LogicalAndSelect) {
  QLITE_REQUIRE_TFLITE_PEER(peer);
  Rng rng(1305);
  Tally t;
  for (BuiltinOp op : {BuiltinOp::kLogicalAnd, BuiltinOp::kLogicalOr})
    for (int i = 0; i < 10; ++i) expect_same(*peer, binary_case(rng, op, T::kBool, 4, i % 3 == 2), t);
  for (int i = 0; i < 10; ++i) {
    Case c;
    c.op = BuiltinOp::kLogicalNot;
    std::vector<int32_t> shape;
    for (int d = 0, r = static_cast<int>(rng.below(5)); d < r; ++d) shape.push_back(1 + static_cast<int32_t>(rng.below(6)));
    c.ins = {Operand{T::kBool, shape, {}, random_bytes(rng, T::kBool, numel(shape)), false}};
    c.out_type = T::kBool;
    c.out_shape = shape;
    c.options = lite::LogicalNotOptions{};
    expect_same(*peer, c, t);
  }
  // SELECT_V2: condition, x and y all broadcast; SELECT: same shapes, or a
  // rank-1 condition over the rows.
  for (T type : {T::kFloat32, T::kInt8, T::kUInt8, T::kInt16, T::kInt32, T::kInt64, T::kBool}) {
    for (int i = 0; i < 6; ++i) {
      const ShapePair s1 = random_broadcast(rng, 4);
      Case c;
      c.op = BuiltinOp::kSelectV2;
      // the third shape: a suffix of the output with some 1s
      std::vector<int32_t> s3(s1.out.end() - static_cast<long>(rng.below(s1.out.size() + 1)), s1.out.end());
      for (int32_t& d : s3)
        if (rng.below(3) == 0) d = 1;
      const Quantization q = (type == T::kInt8 || type == T::kUInt8 || type == T::kInt16) ? random_q(rng, type) : Quantization{};
      c.ins = {Operand{T::kBool, s1.a, {}, random_bytes(rng, T::kBool, numel(s1.a)), false},
               Operand{type, s1.b, q, random_bytes(rng, type, numel(s1.b)), false},
               Operand{type, s3, q, random_bytes(rng, type, numel(s3)), i % 2 == 1}};
      std::vector<int32_t> out = s1.out;
      if (s3.size() > out.size()) out.insert(out.begin(), s3.begin(), s3.begin() + static_cast<long>(s3.size() - out.size()));
      c.out_type = type;
      c.out_shape = out;
      c.out_q = q;
      c.options = lite::SelectV2Options{};
      expect_same(*peer, c, t);
    }
    for (int i = 0; i < 4; ++i) {
      std::vector<int32_t> shape;
      for (int d = 0, r = 1 + static_cast<int>(rng.below(4)); d < r; ++d) shape.push_back(1 + static_cast<int32_t>(rng.below(5)));
      const bool rows = i % 2 == 1 && shape.size() > 1;
      const std::vector<int32_t> cond_shape = rows ? std::vector<int32_t>{shape[0]} : shape;
      const Quantization q = (type == T::kInt8 || type == T::kUInt8 || type == T::kInt16) ? random_q(rng, type) : Quantization{};
      Case c;
      c.op = BuiltinOp::kSelect;
      c.ins = {Operand{T::kBool, cond_shape, {}, random_bytes(rng, T::kBool, numel(cond_shape)), false},
               Operand{type, shape, q, random_bytes(rng, type, numel(shape)), false},
               Operand{type, shape, q, random_bytes(rng, type, numel(shape)), i == 2}};
      c.out_type = type;
      c.out_shape = shape;
      c.out_q = q;
      c.options = lite::SelectOptions{};
      expect_same(*peer, c, t);
    }
  }
  std::printf("logical / select: %d cases, %lld outputs, %d cases differ\n", t.cases, static_cast<long long>(t.outputs),
              t.mismatched_cases);
  EXPECT_EQ(t.cases, 30 + 7 * 10);
}

// TFLite 2.9 aborts (a failed check, not an error) on comparisons,
// SQUARED_DIFFERENCE, POW, FLOOR_DIV and FLOOR_MOD that broadcast over 5
// dimensions (found by running them: the process dies); qlite refuses them in
// one line. MUL, SUB, MAXIMUM, MINIMUM and DIV broadcast 5-D in both.
TEST(TfLiteMathOps, FourDimensionalBroadcastsAsTfLite) {
  Case c;
  c.op = BuiltinOp::kLess;
  c.ins = {Operand{T::kFloat32, {2, 1, 3, 1, 2}, {}, std::vector<uint8_t>(12 * 4, 0), false},
           Operand{T::kFloat32, {1, 2, 1, 4, 1}, {}, std::vector<uint8_t>(8 * 4, 0), true}};
  c.out_type = T::kBool;
  c.out_shape = {2, 2, 3, 4, 2};
  c.options = lite::LessOptions{};
  const Outcome ours = run_in_qlite(build(c), std::vector<std::vector<uint8_t>>{c.ins[0].bytes});
  EXPECT_NE(ours.error.find("LESS"), std::string::npos) << ours.error;
  EXPECT_NE(ours.error.find("more than 4 dimensions"), std::string::npos) << ours.error;
  {  // FLOOR_MOD likewise
    Case m;
    m.op = BuiltinOp::kFloorMod;
    m.ins = {Operand{T::kInt64, {2, 1, 3, 1, 2}, {}, std::vector<uint8_t>(12 * 8, 0), false},
             Operand{T::kInt64, {1, 2, 1, 4, 1}, {}, std::vector<uint8_t>(8 * 8, 0), true}};
    m.out_type = T::kInt64;
    m.out_shape = {2, 2, 3, 4, 2};
    m.options = lite::FloorModOptions{};
    const Outcome mul = run_in_qlite(build(m), std::vector<std::vector<uint8_t>>{m.ins[0].bytes});
    EXPECT_NE(mul.error.find("more than 4 dimensions"), std::string::npos) << mul.error;
  }
  // The same shapes at rank 5 run elementwise.
  c.ins[1] = Operand{T::kFloat32, {2, 1, 3, 1, 2}, {}, std::vector<uint8_t>(12 * 4, 0), true};
  c.out_shape = {2, 1, 3, 1, 2};
  const Outcome same = run_in_qlite(build(c), std::vector<std::vector<uint8_t>>{c.ins[0].bytes});
  EXPECT_EQ(same.error, "");
  EXPECT_EQ(same.bytes, std::vector<uint8_t>(12, 0));
}

// ---- one-input ops

Case unary_case(BuiltinOp op, T type, std::vector<int32_t> shape, std::vector<uint8_t> bytes, Quantization in_q,
                Quantization out_q, lite::OpOptions options) {
  Case c;
  c.op = op;
  c.ins = {Operand{type, shape, std::move(in_q), std::move(bytes), false}};
  c.out_type = type;
  c.out_shape = std::move(shape);
  c.out_q = std::move(out_q);
  c.options = std::move(options);
  return c;
}

std::vector<uint8_t> every_byte(Rng& rng) {
  std::vector<uint8_t> v(256);
  std::iota(v.begin(), v.end(), 0);
  rng.shuffle(v);
  return v;
}

TEST(TfLiteMathOps, QuantizedUnaryOpsOnEveryByteValue) {
  QLITE_REQUIRE_TFLITE_PEER(peer);
  Rng rng(1306);
  Tally t;
  const struct {
    BuiltinOp op;
    std::vector<T> types;
  } ops[] = {
      {BuiltinOp::kRelu, {T::kInt8, T::kUInt8}},      {BuiltinOp::kRelu6, {T::kInt8, T::kUInt8}},
      {BuiltinOp::kReluN1To1, {T::kInt8, T::kUInt8}}, {BuiltinOp::kLeakyRelu, {T::kInt8, T::kUInt8}},
      {BuiltinOp::kAbs, {T::kInt8}},                  {BuiltinOp::kElu, {T::kInt8}},
  };
  for (const auto& o : ops)
    for (T type : o.types)
      for (int i = 0; i < 30; ++i) {
        const Quantization in_q = random_q(rng, type, -10.0f, 3.0f);
        // Half the cases keep the input's quantization (ABS then skips its rescale).
        const Quantization out_q = i % 2 ? in_q : random_q(rng, type, -10.0f, 3.0f);
        lite::OpOptions options = options_for(o.op, Activation::kLinear);
        if (o.op == BuiltinOp::kLeakyRelu) options = lite::LeakyReluOptions{rng.uniform(0.0f, 1.0f)};
        expect_same(*peer, unary_case(o.op, type, {4, 64}, every_byte(rng), in_q, out_q, options), t);
      }
  std::printf("quantized one-input ops: %d cases, %lld outputs (every byte value), %d cases differ\n", t.cases,
              static_cast<long long>(t.outputs), t.mismatched_cases);
  EXPECT_EQ(t.cases, 30 * 10);
}

// The vectorized 8-bit kernels (kernels/elementwise_x86.h) on every path this
// CPU runs, the reference path included: MUL on every byte pair (a scalar
// operand per row) and on random broadcasts up to 4-D, and byte-table ops on
// every byte value.
TEST(TfLiteMathOps, QuantizedMulAndByteTablesOnEveryKernelPath) {
  QLITE_REQUIRE_TFLITE_PEER(peer);
  Rng rng(1313);
  Tally t;
  int paths = 0;
  for (Isa isa : runtime_isas()) {
    g_isa = isa;
    ++paths;
    SCOPED_TRACE(isa_name(isa));
    for (T type : {T::kInt8, T::kUInt8}) {
      for (int i = 0; i < 6; ++i) expect_same(*peer, byte_grid_case(rng, BuiltinOp::kMul, type, i % 3 == 2), t);
      for (int i = 0; i < 12; ++i) {
        Case c = binary_case(rng, BuiltinOp::kMul, type, 4, i % 3 == 2);
        c.ins[0].q = random_q(rng, type, -8.0f, 2.0f);
        c.ins[1].q = random_q(rng, type, -8.0f, 2.0f);
        c.out_q = random_q(rng, type, -8.0f, 2.0f);
        expect_same(*peer, c, t);
      }
      for (BuiltinOp op : {BuiltinOp::kLeakyRelu, BuiltinOp::kRelu6}) {
        const Quantization in_q = random_q(rng, type, -10.0f, 3.0f), out_q = random_q(rng, type, -10.0f, 3.0f);
        lite::OpOptions options = options_for(op, Activation::kLinear);
        if (op == BuiltinOp::kLeakyRelu) options = lite::LeakyReluOptions{rng.uniform(0.0f, 1.0f)};
        expect_same(*peer, unary_case(op, type, {4, 64}, every_byte(rng), in_q, out_q, options), t);
      }
    }
  }
  g_isa.reset();
  EXPECT_EQ(t.cases, paths * 2 * (6 + 12 + 2));
}

// int16 (symmetric) RELU, RELU6, LEAKY_RELU and ABS on all 65,536 values.
TEST(TfLiteMathOps, Int16UnaryOpsOnEveryValue) {
  QLITE_REQUIRE_TFLITE_PEER(peer);
  Rng rng(1311);
  Tally t;
  std::vector<int16_t> all(65536);
  std::iota(all.begin(), all.end(), int16_t{-32768});
  for (BuiltinOp op : {BuiltinOp::kRelu, BuiltinOp::kRelu6, BuiltinOp::kLeakyRelu, BuiltinOp::kAbs})
    for (int i = 0; i < 6; ++i) {
      rng.shuffle(all);
      const Quantization in_q = random_q(rng, T::kInt16, -14.0f, -4.0f);
      const Quantization out_q = i % 2 ? in_q : random_q(rng, T::kInt16, -14.0f, -4.0f);
      lite::OpOptions options = options_for(op, Activation::kLinear);
      if (op == BuiltinOp::kLeakyRelu) options = lite::LeakyReluOptions{rng.uniform(0.0f, 1.0f)};
      expect_same(*peer, unary_case(op, T::kInt16, {256, 256}, as_bytes(all), in_q, out_q, options), t);
    }
  std::printf("int16 one-input ops: %d cases, %lld output bytes, %d cases differ\n", t.cases,
              static_cast<long long>(t.outputs), t.mismatched_cases);
  EXPECT_EQ(t.cases, 4 * 6);
}

// RELU_0_TO_1 (code 152) is newer than TFLite 2.9; the ReluX formula of
// activations.cc with bounds [0, 1], written out independently.
TEST(TfLiteMathOps, Relu0To1FollowsTheReluXFormula) {
  Rng rng(1307);
  int checked = 0;
  for (T type : {T::kInt8, T::kUInt8}) {
    const int32_t qmin = type == T::kInt8 ? -128 : 0, qmax = type == T::kInt8 ? 127 : 255;
    for (int i = 0; i < 20; ++i) {
      const Quantization in_q = random_q(rng, type, -9.0f, 0.0f), out_q = random_q(rng, type, -9.0f, -1.0f);
      const std::vector<uint8_t> in = every_byte(rng);
      const Case c = unary_case(BuiltinOp::kRelu0To1, type, {256}, in, in_q, out_q, std::monostate{});
      const Outcome ours = run_in_qlite(build(c), std::vector<std::vector<uint8_t>>{in});
      ASSERT_EQ(ours.error, "");
      const float si = in_q.scale[0], so = out_q.scale[0];
      const auto zi = static_cast<int32_t>(in_q.zero_point[0]), zo = static_cast<int32_t>(out_q.zero_point[0]);
      const double real = static_cast<double>(si / so);  // a float quotient, as activations.cc
      const int32_t lo = std::max(qmin, zo), hi = std::min(qmax, zo + static_cast<int32_t>(std::round(1.0f / so)));
      for (size_t k = 0; k < 256; ++k) {
        const int32_t q = type == T::kInt8 ? static_cast<int8_t>(in[k]) : in[k];
        // gemmlowp's two roundings, written from their definition: the
        // multiplier as a 31-bit fraction M0 times 2^e (frexp), x * M0 / 2^31
        // rounded half away from zero, then / 2^-e rounded half away again.
        int e = 0;
        const double frac = std::frexp(real, &e);
        auto m0 = static_cast<int64_t>(std::round(frac * 2147483648.0));
        if (m0 == (int64_t{1} << 31)) m0 /= 2, ++e;
        const int64_t x = int64_t{q - zi} << std::max(e, 0);
        const double step1 = std::round(static_cast<double>(x) * static_cast<double>(m0) / 2147483648.0);
        const double step2 = e < 0 ? std::round(step1 / std::ldexp(1.0, -e)) : step1;
        const int32_t want = std::clamp(static_cast<int32_t>(step2) + zo, lo, hi);
        const int32_t got = type == T::kInt8 ? static_cast<int8_t>(ours.bytes[k]) : ours.bytes[k];
        EXPECT_EQ(got, want) << "q=" << q << " si " << si << " zi " << zi << " so " << so << " zo " << zo;
        ++checked;
      }
    }
  }
  EXPECT_EQ(checked, 2 * 20 * 256);
}

TEST(TfLiteMathOps, FloatUnaryOps) {
  QLITE_REQUIRE_TFLITE_PEER(peer);
  Rng rng(1308);
  Tally t;
  const struct {
    BuiltinOp op;
    float lo, hi;
  } ops[] = {
      {BuiltinOp::kRelu, -5, 5},     {BuiltinOp::kRelu6, -3, 9},     {BuiltinOp::kReluN1To1, -2, 2},
      {BuiltinOp::kLeakyRelu, -5, 5}, {BuiltinOp::kAbs, -5, 5},      {BuiltinOp::kNeg, -5, 5},
      {BuiltinOp::kExp, -10, 10},    {BuiltinOp::kLog, 0.001f, 100}, {BuiltinOp::kSqrt, 0, 100},
      {BuiltinOp::kRsqrt, 0.01f, 100}, {BuiltinOp::kSquare, -100, 100}, {BuiltinOp::kSin, -10, 10},
      {BuiltinOp::kCos, -10, 10},    {BuiltinOp::kCeil, -10, 10},    {BuiltinOp::kFloor, -10, 10},
      {BuiltinOp::kRound, -10, 10},  {BuiltinOp::kElu, -5, 5},
  };
  for (const auto& o : ops)
    for (int i = 0; i < 4; ++i) {
      std::vector<int32_t> shape;
      for (int d = 0, r = static_cast<int>(rng.below(5)); d < r; ++d) shape.push_back(1 + static_cast<int32_t>(rng.below(7)));
      std::vector<uint8_t> bytes = random_bytes(rng, T::kFloat32, numel(shape), o.lo, o.hi);
      if (o.op == BuiltinOp::kRound || o.op == BuiltinOp::kCeil || o.op == BuiltinOp::kFloor)
        for (size_t k = 0; k < bytes.size(); k += 8) {  // halves: ROUND's ties go to even
          float v = 0;
          std::memcpy(&v, bytes.data() + k, 4);
          v = std::round(v) + 0.5f;
          std::memcpy(bytes.data() + k, &v, 4);
        }
      lite::OpOptions options = options_for(o.op, Activation::kLinear);
      if (o.op == BuiltinOp::kLeakyRelu) options = lite::LeakyReluOptions{rng.uniform(0.0f, 1.0f)};
      expect_same(*peer, unary_case(o.op, T::kFloat32, shape, bytes, {}, {}, options), t);
    }
  for (T type : {T::kInt32, T::kInt64})
    for (int i = 0; i < 4; ++i)
      expect_same(*peer, unary_case(BuiltinOp::kNeg, type, {3, 5}, random_bytes(rng, type, 15, -1e6, 1e6), {}, {},
                                    lite::NegOptions{}),
                  t);
  std::printf("float one-input ops: %d cases, %lld outputs, %d cases differ\n", t.cases,
              static_cast<long long>(t.outputs), t.mismatched_cases);
  EXPECT_EQ(t.cases, 17 * 4 + 8);
}

// ---- reductions

TEST(TfLiteMathOps, ReductionsOverRandomAxes) {
  QLITE_REQUIRE_TFLITE_PEER(peer);
  Rng rng(1309);
  Tally t;
  const struct {
    BuiltinOp op;
    std::vector<T> types;
  } ops[] = {
      {BuiltinOp::kSum, {T::kFloat32, T::kInt32, T::kInt64, T::kInt8, T::kUInt8}},
      {BuiltinOp::kReduceMax, {T::kFloat32, T::kInt32, T::kInt64, T::kInt8, T::kUInt8}},
      {BuiltinOp::kReduceMin, {T::kFloat32, T::kInt32, T::kInt64, T::kInt8, T::kUInt8}},
      {BuiltinOp::kReduceProd, {T::kFloat32, T::kInt32, T::kInt64}},
  };
  for (const auto& o : ops)
    for (T type : o.types)
      for (int i = 0; i < 10; ++i) {
        const int rank = 1 + static_cast<int>(rng.below(4));
        std::vector<int32_t> shape;
        for (int d = 0; d < rank; ++d) shape.push_back(1 + static_cast<int32_t>(rng.below(5)));
        std::vector<int32_t> axes;
        const int count = 1 + static_cast<int>(rng.below(static_cast<uint64_t>(rank) + 1));  // may repeat
        for (int k = 0; k < count; ++k) {
          int32_t a = static_cast<int32_t>(rng.below(static_cast<uint64_t>(rank)));
          if (rng.below(2)) a -= rank;  // negative axes
          axes.push_back(a);
        }
        const bool keep = rng.below(2) == 1;
        std::vector<bool> reduced(static_cast<size_t>(rank), false);
        for (int32_t a : axes) reduced[static_cast<size_t>(a < 0 ? a + rank : a)] = true;
        std::vector<int32_t> out;
        for (int d = 0; d < rank; ++d)
          if (!reduced[static_cast<size_t>(d)]) out.push_back(shape[static_cast<size_t>(d)]);
          else if (keep) out.push_back(1);
        const bool prod = o.op == BuiltinOp::kReduceProd;
        Quantization q_in, q_out;
        if (type == T::kInt8 || type == T::kUInt8) {
          q_in = random_q(rng, type);
          // SUM: half the cases rescale (different output quantization).
          q_out = (o.op == BuiltinOp::kSum && i % 2 == 0) ? random_q(rng, type, -4.0f, 4.0f) : q_in;
        }
        Case c;
        c.op = o.op;
        c.ins = {Operand{type, shape, q_in, random_bytes(rng, type, numel(shape), prod ? -3 : -50, prod ? 3 : 50), false},
                 Operand{T::kInt32, {static_cast<int32_t>(axes.size())}, {}, as_bytes(axes), true}};
        c.out_type = type;
        c.out_shape = out;
        c.out_q = q_out;
        c.options = lite::ReducerOptions{keep};
        if (type == T::kFloat32 && prod)  // keep products of many factors in range
          for (size_t k = 0; k < c.ins[0].bytes.size(); k += 4) {
            float v = 0;
            std::memcpy(&v, c.ins[0].bytes.data() + k, 4);
            v = v / 3.0f + (v < 0 ? -0.5f : 0.5f);
            std::memcpy(c.ins[0].bytes.data() + k, &v, 4);
          }
        expect_same(*peer, c, t);
      }
  std::printf("reductions: %d cases, %lld outputs, %d cases differ\n", t.cases, static_cast<long long>(t.outputs),
              t.mismatched_cases);
  EXPECT_EQ(t.cases, 10 * 18);
}

// ---- PRELU, ADD_N, CUMSUM, LOG_SOFTMAX, L2_NORMALIZATION, GELU

TEST(TfLiteMathOps, PreluWithBroadcastAlpha) {
  QLITE_REQUIRE_TFLITE_PEER(peer);
  Rng rng(1312);
  Tally t;
  for (T type : {T::kFloat32, T::kInt8, T::kUInt8})
    for (int i = 0; i < 16; ++i) {
      // NHWC input, alpha over the channels (or [H, W, C], or the full shape)
      const std::vector<int32_t> in = {1 + static_cast<int32_t>(rng.below(2)), 1 + static_cast<int32_t>(rng.below(5)),
                                       1 + static_cast<int32_t>(rng.below(5)), 1 + static_cast<int32_t>(rng.below(6))};
      const int mode = static_cast<int>(rng.below(3));
      const std::vector<int32_t> alpha = mode == 0 ? std::vector<int32_t>{in[3]}
                                         : mode == 1 ? std::vector<int32_t>{1, 1, in[3]}
                                                     : std::vector<int32_t>{in[1], in[2], in[3]};
      const bool q = type != T::kFloat32;
      Case c;
      c.op = BuiltinOp::kPrelu;
      c.ins = {Operand{type, in, q ? random_q(rng, type, -8, 0) : Quantization{}, random_bytes(rng, type, numel(in), -5, 5), false},
               Operand{type, alpha, q ? random_q(rng, type, -8, -1) : Quantization{},
                       random_bytes(rng, type, numel(alpha), -1, 1), i % 4 != 3}};
      c.out_type = type;
      c.out_shape = in;
      if (q) c.out_q = random_q(rng, type, -8, 0);
      expect_same(*peer, c, t);
    }
  std::printf("PRELU: %d cases, %lld outputs, %d cases differ\n", t.cases, static_cast<long long>(t.outputs),
              t.mismatched_cases);
  EXPECT_EQ(t.cases, 48);
}

TEST(TfLiteMathOps, AddNCumsumLogSoftmaxL2NormGelu) {
  QLITE_REQUIRE_TFLITE_PEER(peer);
  Rng rng(1313);
  Tally t;
  auto random_shape = [&](int min_rank) {
    std::vector<int32_t> s;
    for (int d = 0, r = min_rank + static_cast<int>(rng.below(static_cast<uint64_t>(5 - min_rank))); d < r; ++d)
      s.push_back(1 + static_cast<int32_t>(rng.below(6)));
    return s;
  };
  for (T type : {T::kFloat32, T::kInt32})
    for (int i = 0; i < 8; ++i) {
      const std::vector<int32_t> shape = random_shape(0);
      Case c;
      c.op = BuiltinOp::kAddN;
      for (int k = 0, m = 2 + static_cast<int>(rng.below(3)); k < m; ++k)
        c.ins.push_back(Operand{type, shape, {}, random_bytes(rng, type, numel(shape)), k == 1 && i % 2 == 1});
      c.out_type = type;
      c.out_shape = shape;
      c.options = lite::AddNOptions{};
      expect_same(*peer, c, t);
    }
  for (T type : {T::kFloat32, T::kInt32, T::kInt64})
    for (int i = 0; i < 12; ++i) {
      const std::vector<int32_t> shape = random_shape(1);
      const auto rank = static_cast<int32_t>(shape.size());
      const int32_t axis = static_cast<int32_t>(rng.below(static_cast<uint64_t>(rank))) - (rng.below(2) ? rank : 0);
      Case c;
      c.op = BuiltinOp::kCumsum;
      c.ins = {Operand{type, shape, {}, random_bytes(rng, type, numel(shape)), false},
               Operand{T::kInt32, {}, {}, as_bytes(std::vector<int32_t>{axis}), true}};
      c.out_type = type;
      c.out_shape = shape;
      c.options = lite::CumsumOptions{i % 2 == 1, (i / 2) % 2 == 1};
      expect_same(*peer, c, t);
    }
  for (BuiltinOp op : {BuiltinOp::kLogSoftmax, BuiltinOp::kL2Normalization})
    for (int i = 0; i < 10; ++i) {
      const std::vector<int32_t> shape = random_shape(1);
      lite::OpOptions options = lite::LogSoftmaxOptions{};
      if (op == BuiltinOp::kL2Normalization) options = lite::L2NormOptions{};
      expect_same(*peer, unary_case(op, T::kFloat32, shape, random_bytes(rng, T::kFloat32, numel(shape), -4, 4), {}, {},
                                    options),
                  t);
    }
  for (bool approximate : {false, true}) {
    for (int i = 0; i < 4; ++i) {
      const std::vector<int32_t> shape = random_shape(0);
      expect_same(*peer, unary_case(BuiltinOp::kGelu, T::kFloat32, shape, random_bytes(rng, T::kFloat32, numel(shape), -6, 6),
                                    {}, {}, lite::GeluOptions{approximate}),
                  t);
    }
    for (T type : {T::kInt8, T::kUInt8})
      for (int i = 0; i < 10; ++i)
        expect_same(*peer, unary_case(BuiltinOp::kGelu, type, {4, 64}, every_byte(rng), random_q(rng, type, -8, 0),
                                      random_q(rng, type, -8, 0), lite::GeluOptions{approximate}),
                    t);
  }
  std::printf("ADD_N, CUMSUM, LOG_SOFTMAX, L2_NORMALIZATION, GELU: %d cases, %lld outputs, %d cases differ\n", t.cases,
              static_cast<long long>(t.outputs), t.mismatched_cases);
  EXPECT_EQ(t.cases, 16 + 36 + 20 + 2 * (4 + 20));
}

TEST(TfLiteMathOps, L2Pool2DFloat) {
  QLITE_REQUIRE_TFLITE_PEER(peer);
  Rng rng(1314);
  Tally t;
  for (int i = 0; i < 24; ++i) {
    const std::vector<int32_t> in = {1 + static_cast<int32_t>(rng.below(2)), 2 + static_cast<int32_t>(rng.below(7)),
                                     2 + static_cast<int32_t>(rng.below(7)), 1 + static_cast<int32_t>(rng.below(4))};
    lite::Pool2DOptions o;
    o.padding = rng.below(2) ? lite::Padding::kSame : lite::Padding::kValid;
    o.filter_h = 1 + static_cast<int32_t>(rng.below(static_cast<uint64_t>(in[1])));
    o.filter_w = 1 + static_cast<int32_t>(rng.below(static_cast<uint64_t>(in[2])));
    o.stride_h = 1 + static_cast<int32_t>(rng.below(3));
    o.stride_w = 1 + static_cast<int32_t>(rng.below(3));
    o.activation = random_act(rng);
    auto out_dim = [&](int32_t n, int32_t f, int32_t s) {
      return o.padding == lite::Padding::kSame ? (n + s - 1) / s : (n - f + s) / s;
    };
    const std::vector<int32_t> out = {in[0], out_dim(in[1], o.filter_h, o.stride_h), out_dim(in[2], o.filter_w, o.stride_w),
                                      in[3]};
    Case c = unary_case(BuiltinOp::kL2Pool2D, T::kFloat32, in, random_bytes(rng, T::kFloat32, numel(in), -3, 3), {}, {}, o);
    c.out_shape = out;
    expect_same(*peer, c, t);
  }
  std::printf("L2_POOL_2D: %d cases, %lld outputs, %d cases differ\n", t.cases, static_cast<long long>(t.outputs),
              t.mismatched_cases);
  EXPECT_EQ(t.cases, 24);
}

// ---- type combinations

// What TFLite 2.9 refuses, qlite refuses (an error naming the op and the
// types); what it runs, qlite runs. Every listed op over a set of types.
TEST(TfLiteMathOps, SameTypesRunAndRefusedAsTfLite) {
  QLITE_REQUIRE_TFLITE_PEER(peer);
  Rng rng(1310);
  int agree = 0;
  std::vector<std::string> qlite_only, tflite_only;
  const BuiltinOp binary[] = {BuiltinOp::kMul,      BuiltinOp::kSub,      BuiltinOp::kMaximum,  BuiltinOp::kMinimum,
                              BuiltinOp::kSquaredDifference, BuiltinOp::kDiv, BuiltinOp::kPow, BuiltinOp::kFloorDiv,
                              BuiltinOp::kFloorMod, BuiltinOp::kGreater,  BuiltinOp::kEqual};
  const BuiltinOp unary[] = {BuiltinOp::kRelu, BuiltinOp::kRelu6, BuiltinOp::kLeakyRelu, BuiltinOp::kAbs,
                             BuiltinOp::kNeg,  BuiltinOp::kExp,   BuiltinOp::kLog,       BuiltinOp::kSqrt,
                             BuiltinOp::kRsqrt, BuiltinOp::kSquare, BuiltinOp::kSin,     BuiltinOp::kCeil,
                             BuiltinOp::kRound, BuiltinOp::kElu};
  const T types[] = {T::kFloat32, T::kInt8, T::kUInt8, T::kInt16, T::kInt32, T::kInt64};
  auto record = [&](const Case& c) {
    const Result r = run_both(*peer, c);
    const bool ours = r.ours.error.empty(), theirs = r.theirs.error.empty();
    if (ours == theirs) ++agree;
    else (ours ? qlite_only : tflite_only).push_back(describe_case(c));
    if (!ours && theirs) return;
    if (!ours) {
      EXPECT_NE(r.ours.error.find(lite::builtin_op_name(c.op)), std::string::npos) << r.ours.error;
    }
  };
  for (BuiltinOp op : binary)
    for (T type : types) {
      const bool q = type == T::kInt8 || type == T::kUInt8 || type == T::kInt16;
      Case c;
      c.op = op;
      const Quantization qq = q ? Quantization::per_tensor(0.5f, 0) : Quantization{};
      c.ins = {Operand{type, {2, 3}, qq, std::vector<uint8_t>(6 * type_size(type), 1), false},
               Operand{type, {2, 3}, qq, std::vector<uint8_t>(6 * type_size(type), 1), false}};
      c.out_type = is_comparison(op) ? T::kBool : type;
      c.out_shape = {2, 3};
      if (!is_comparison(op)) c.out_q = qq;
      c.options = options_for(op, Activation::kLinear);
      record(c);
    }
  for (BuiltinOp op : unary)
    for (T type : types) {
      const bool q = type == T::kInt8 || type == T::kUInt8 || type == T::kInt16;
      const Quantization qq = q ? Quantization::per_tensor(0.5f, 0) : Quantization{};
      lite::OpOptions options = options_for(op, Activation::kLinear);
      if (op == BuiltinOp::kLeakyRelu) options = lite::LeakyReluOptions{0.2f};
      record(unary_case(op, type, {2, 3}, std::vector<uint8_t>(6 * type_size(type), 1), qq, qq, options));
    }
  for (const std::string& s : tflite_only) std::printf("  TFLite 2.9 runs, qlite refuses: %s\n", s.c_str());
  for (const std::string& s : qlite_only) ADD_FAILURE() << "qlite runs what TFLite 2.9 refuses: " << s;
  std::printf("type combinations: %d agree, %zu run by TFLite only, %zu by qlite only\n", agree, tflite_only.size(),
              qlite_only.size());
  (void)rng;
}

}  // namespace
}  // namespace qlite::test
