// IF and WHILE against the real TensorFlow Lite 2.9, in generated files
// whose branches, conditions and bodies are subgraphs of their own:
//  - IF over float32 and int8 operands (then: ADD, else: SUB), both
//    condition values, seeded random sizes and values; branches whose
//    outputs differ in shape (else: CONCATENATION), where the output takes
//    the taken branch's shape, with the condition switching between invokes
//    of one interpreter; a batch resize reaching the branches;
//  - WHILE over a counter, a limit and an accumulator (float32 and int8
//    ADD), limits from -1 (no iteration) up, and a body holding an IF (two
//    levels of subgraphs), identical outputs; a case worked by hand;
//  - WHILE growing a tensor (CONCATENATION in the body: TFLite's dynamic
//    case), the count and so the shapes changing between invokes;
//  - a warmed-up invoke allocates nothing;
//  - refusals, each naming the op: a condition that is not BOOL, a subgraph
//    out of range, the op's own subgraph, WHILE with one subgraph for cond
//    and body, a cycle (on which TFLite would recurse without end), and a loop over
//    InterpreterOptions::max_loop_iterations.
// A failure under CI=true when the peer is missing.
#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <vector>

#include "counting_new.h"
#include "qlite/runtime.h"
#include "qlite_run.h"
#include "tflite_peer.h"

namespace qlite::test {
namespace {

using T = lite::TensorType;
using lite::BuiltinOp;
using runtime::Interpreter;

lite::Quantization q8(Rng& rng) {
  return lite::Quantization::per_tensor(rng.uniform(0.02f, 0.08f), static_cast<int64_t>(rng.below(41)) - 20);
}

std::vector<uint8_t> random_bytes(Rng& rng, bool int8, int n) {
  if (int8) {
    std::vector<uint8_t> v(static_cast<size_t>(n));
    for (uint8_t& b : v) b = static_cast<uint8_t>(rng.below(256));
    return v;
  }
  std::vector<float> v(static_cast<size_t>(n));
  for (float& f : v) f = rng.uniform(-2.0f, 2.0f);
  std::vector<uint8_t> bytes(v.size() * 4);
  std::memcpy(bytes.data(), v.data(), bytes.size());
  return bytes;
}

template <class V>
std::vector<uint8_t> bytes_of(const std::vector<V>& v) {
  std::vector<uint8_t> b(v.size() * sizeof(V));
  std::memcpy(b.data(), v.data(), b.size());
  return b;
}

// Every output of one interpreter after each step; step k gives graph input
// j the bytes steps[k][j] (shapes[k][j] when the first input's differs from
// the file's: a batch resize).
struct Steps {
  std::vector<std::vector<std::vector<uint8_t>>> bytes;
  std::vector<std::vector<Shape>> shapes;
  std::string error;
};
Steps run_in_qlite(const std::vector<uint8_t>& model, const std::vector<std::vector<PeerInput>>& steps,
                   const runtime::InterpreterOptions& options = {}) {
  Steps r;
  try {
    auto it = Interpreter::from_buffer(model, options);
    for (const auto& step : steps) {
      if (!step[0].shape.empty()) it->resize_batch(step[0].shape[0]);
      for (size_t j = 0; j < step.size(); ++j) {
        auto in = it->input_bytes(j);
        check(in.size() == step[j].bytes.size(), "input " + std::to_string(j) + " size");
        if (!in.empty()) std::memcpy(in.data(), step[j].bytes.data(), in.size());
      }
      it->invoke();
      r.bytes.emplace_back();
      r.shapes.emplace_back();
      for (size_t k = 0; k < it->num_outputs(); ++k) {
        const auto out = it->output_bytes(k);
        const auto* p = reinterpret_cast<const uint8_t*>(out.data());
        r.bytes.back().emplace_back(p, p + out.size());
        r.shapes.back().push_back(it->output_info(k).shape);
      }
    }
  } catch (const Error& e) {
    r.error = e.what();
  }
  return r;
}

// Runs the steps in both, one interpreter each, and expects identical
// outputs and shapes at every step. Returns the output bytes compared.
size_t expect_same(const TfLitePeer& peer, const std::vector<uint8_t>& model,
                   const std::vector<std::vector<PeerInput>>& steps) {
  const auto theirs = peer.run_steps(model, steps, std::vector<bool>(steps.size(), false));
  const Steps ours = run_in_qlite(model, steps);
  EXPECT_EQ(ours.error, "");
  if (!ours.error.empty()) return 0;
  EXPECT_EQ(ours.bytes.size(), theirs.size());
  size_t compared = 0;
  for (size_t k = 0; k < std::min(ours.bytes.size(), theirs.size()); ++k) {
    EXPECT_EQ(ours.bytes[k].size(), theirs[k].size()) << "step " << k;
    for (size_t j = 0; j < std::min(ours.bytes[k].size(), theirs[k].size()); ++j) {
      EXPECT_EQ(ours.bytes[k][j], theirs[k][j].bytes) << "step " << k << " output " << j;
      EXPECT_EQ(ours.shapes[k][j], Shape(theirs[k][j].shape.begin(), theirs[k][j].shape.end()))
          << "step " << k << " output " << j;
      compared += theirs[k][j].bytes.size();
    }
  }
  return compared;
}

// The spec of seed k of a 16-seed sweep: int8 on even seeds, the variant
// (differing shapes, a nested IF) on seeds 2 and 3 mod 4, a random width.
template <class Spec>
Spec seeded(uint64_t seed, bool Spec::*variant, Rng& rng, uint64_t max_n) {
  Spec s;
  s.seed = seed;
  s.int8 = seed % 2 == 0;
  s.*variant = seed % 4 >= 2;
  s.n = 1 + static_cast<int>(rng.below(max_n));
  return s;
}

// ---- IF

struct IfSpec {
  bool int8 = false;
  bool differing = false;  // else: CONCATENATION, an output twice as wide
  int n = 4;
  uint64_t seed = 1;
  std::string str() const {
    return std::string(int8 ? "int8" : "float32") + (differing ? " differing shapes" : "") +
           " n=" + std::to_string(n) + " seed=" + std::to_string(seed);
  }
};

// Subgraph 0: out = IF(c, x, y). Subgraph 1 (then): x + y. Subgraph 2
// (else): x - y, or CONCATENATION(x, y) along axis 1.
std::vector<uint8_t> if_model(const IfSpec& s) {
  lite::ModelBuilder b;
  Rng rng(s.seed * 13 + 5);
  const T vt = s.int8 ? T::kInt8 : T::kFloat32;
  lite::Quantization qx, qy, qo, qe;
  if (s.int8) qx = q8(rng), qy = q8(rng), qo = q8(rng), qe = qx;  // CONCATENATION: one scale in and out
  const std::vector<int32_t> row = {1, s.n};
  for (int branch = 0; branch < 2; ++branch) {
    b.add_subgraph(branch == 0 ? "then" : "else");
    const bool concat = branch == 1 && s.differing;
    const int32_t a = b.add_tensor("a", vt, row, qx);
    const int32_t c = b.add_tensor("b", vt, row, concat ? qx : qy);
    const int32_t o = b.add_tensor("o", vt, concat ? std::vector<int32_t>{1, 2 * s.n} : row, concat ? qe : qo);
    if (branch == 0) b.add_operator(BuiltinOp::kAdd, {a, c}, {o}, lite::AddOptions{});
    else if (concat) b.add_operator(BuiltinOp::kConcatenation, {a, c}, {o}, lite::ConcatenationOptions{1});
    else b.add_operator(BuiltinOp::kSub, {a, c}, {o}, lite::SubOptions{});
    b.set_inputs({a, c});
    b.set_outputs({o});
  }
  b.use_subgraph(0);
  const int32_t x = b.add_tensor("x", vt, row, qx);
  const int32_t y = b.add_tensor("y", vt, row, s.differing ? qx : qy);
  // A scalar: a [1] would follow a batch resize as the other inputs do.
  const int32_t c = b.add_tensor("c", T::kBool, {});
  // Differing shapes: the output's declared shape is a placeholder.
  const int32_t o = b.add_tensor("out", vt, s.differing ? std::vector<int32_t>{} : row, qo);
  b.add_operator(BuiltinOp::kIf, {c, x, y}, {o}, lite::IfOptions{1, 2});
  b.set_inputs({x, y, c});
  b.set_outputs({o});
  return b.finish();
}

TEST(TfliteControlFlow, IfMatchesTflite) {
  QLITE_REQUIRE_TFLITE_PEER(peer);
  int cases = 0;
  size_t compared = 0;
  for (uint64_t seed = 1; seed <= 16; ++seed) {
    Rng rng(seed * 31);
    const IfSpec s = seeded(seed, &IfSpec::differing, rng, 40);
    SCOPED_TRACE(s.str());
    const std::vector<uint8_t> model = if_model(s);
    // One interpreter, the condition switching: true, false, false, true.
    std::vector<std::vector<PeerInput>> steps;
    for (const bool c : {true, false, false, true})
      steps.push_back({PeerInput{{1, s.n}, random_bytes(rng, s.int8, s.n)},
                       PeerInput{{1, s.n}, random_bytes(rng, s.int8, s.n)}, PeerInput{{}, {uint8_t{c}}}});
    compared += expect_same(*peer, model, steps);
    ++cases;
  }
  EXPECT_EQ(cases, 16);
  EXPECT_GT(compared, 0u);
}

// A batch resize reaches the branches: they are prepared again for [3, n].
TEST(TfliteControlFlow, IfFollowsABatchResize) {
  QLITE_REQUIRE_TFLITE_PEER(peer);
  for (const bool int8 : {false, true}) {
    IfSpec s;
    s.int8 = int8;
    s.n = 6;
    SCOPED_TRACE(s.str());
    Rng rng(77);
    std::vector<std::vector<PeerInput>> steps;
    for (const int batch : {3, 3, 1})
      for (const bool c : {false, true})
        steps.push_back({PeerInput{{batch, s.n}, random_bytes(rng, int8, batch * s.n)},
                         PeerInput{{batch, s.n}, random_bytes(rng, int8, batch * s.n)}, PeerInput{{}, {uint8_t{c}}}});
    // TFLite takes one resize per interpreter: compare step by step there.
    for (size_t k = 0; k < steps.size(); ++k) EXPECT_GT(expect_same(*peer, if_model(s), {steps[k]}), 0u);
    // qlite: one interpreter through all the resizes.
    const Steps ours = run_in_qlite(if_model(s), steps);
    ASSERT_EQ(ours.error, "");
    for (size_t k = 0; k < steps.size(); ++k) {
      const Steps alone = run_in_qlite(if_model(s), {steps[k]});
      ASSERT_EQ(alone.error, "");
      EXPECT_EQ(ours.bytes[k], alone.bytes[0]) << "step " << k;
    }
  }
}

// ---- WHILE

struct WhileSpec {
  bool int8 = false;
  bool nested_if = false;  // the body adds the step on even counts, subtracts it on odd ones (an IF)
  int n = 4;
  uint64_t seed = 1;
  std::string str() const {
    return std::string(int8 ? "int8" : "float32") + (nested_if ? " nested IF" : "") + " n=" + std::to_string(n) +
           " seed=" + std::to_string(seed);
  }
};

// Subgraph 0: (i, lim, acc, step) = WHILE(i0, limit, acc0, step); outputs
// i and acc. Subgraph 1 (cond): i < lim. Subgraph 2 (body): i + 1, lim,
// acc + step (or IF(i % 2 == 0, acc, step) over subgraphs 3 and 4: ADD,
// SUB), step.
std::vector<uint8_t> while_model(const WhileSpec& s) {
  lite::ModelBuilder b;
  Rng rng(s.seed * 17 + 1);
  const T vt = s.int8 ? T::kInt8 : T::kFloat32;
  lite::Quantization qa, qs;
  if (s.int8) qa = q8(rng), qs = q8(rng);
  const std::vector<int32_t> row = {1, s.n};
  struct Vars {
    int32_t i, lim, acc, step;
  };
  auto vars = [&] {
    return Vars{b.add_tensor("i", T::kInt32, {}), b.add_tensor("lim", T::kInt32, {}), b.add_tensor("acc", vt, row, qa),
                b.add_tensor("step", vt, row, qs)};
  };
  b.add_subgraph("cond");
  {
    const Vars v = vars();
    const int32_t c = b.add_tensor("c", T::kBool, {});
    b.add_operator(BuiltinOp::kLess, {v.i, v.lim}, {c});
    b.set_inputs({v.i, v.lim, v.acc, v.step});
    b.set_outputs({c});
  }
  b.add_subgraph("body");
  {
    const Vars v = vars();
    const int32_t one = b.add_constant("one", T::kInt32, {}, std::vector<int32_t>{1});
    const int32_t i1 = b.add_tensor("i1", T::kInt32, {});
    const int32_t acc1 = b.add_tensor("acc1", vt, row, qa);
    b.add_operator(BuiltinOp::kAdd, {v.i, one}, {i1}, lite::AddOptions{});
    if (s.nested_if) {
      const int32_t two = b.add_constant("two", T::kInt32, {}, std::vector<int32_t>{2});
      const int32_t zero = b.add_constant("zero", T::kInt32, {}, std::vector<int32_t>{0});
      const int32_t m = b.add_tensor("m", T::kInt32, {});
      const int32_t even = b.add_tensor("even", T::kBool, {});
      b.add_operator(BuiltinOp::kFloorMod, {v.i, two}, {m});
      b.add_operator(BuiltinOp::kEqual, {m, zero}, {even});
      b.add_operator(BuiltinOp::kIf, {even, v.acc, v.step}, {acc1}, lite::IfOptions{3, 4});
    } else {
      b.add_operator(BuiltinOp::kAdd, {v.acc, v.step}, {acc1}, lite::AddOptions{});
    }
    b.set_inputs({v.i, v.lim, v.acc, v.step});
    b.set_outputs({i1, v.lim, acc1, v.step});
  }
  if (s.nested_if) {
    for (int branch = 0; branch < 2; ++branch) {
      b.add_subgraph(branch == 0 ? "add" : "sub");
      const int32_t a = b.add_tensor("a", vt, row, qa);
      const int32_t st = b.add_tensor("s", vt, row, qs);
      const int32_t o = b.add_tensor("o", vt, row, qa);
      if (branch == 0) b.add_operator(BuiltinOp::kAdd, {a, st}, {o}, lite::AddOptions{});
      else b.add_operator(BuiltinOp::kSub, {a, st}, {o}, lite::SubOptions{});
      b.set_inputs({a, st});
      b.set_outputs({o});
    }
  }
  b.use_subgraph(0);
  const Vars in = vars();
  const Vars out = vars();
  b.add_operator(BuiltinOp::kWhile, {in.i, in.lim, in.acc, in.step}, {out.i, out.lim, out.acc, out.step},
                 lite::WhileOptions{1, 2});
  b.set_inputs({in.i, in.lim, in.acc, in.step});
  b.set_outputs({out.i, out.acc});
  return b.finish();
}

std::vector<PeerInput> while_inputs(Rng& rng, const WhileSpec& s, int32_t i0, int32_t limit) {
  return {PeerInput{{}, bytes_of(std::vector<int32_t>{i0})}, PeerInput{{}, bytes_of(std::vector<int32_t>{limit})},
          PeerInput{{1, s.n}, random_bytes(rng, s.int8, s.n)}, PeerInput{{1, s.n}, random_bytes(rng, s.int8, s.n)}};
}

TEST(TfliteControlFlow, WhileMatchesTflite) {
  QLITE_REQUIRE_TFLITE_PEER(peer);
  int cases = 0;
  size_t compared = 0;
  for (uint64_t seed = 1; seed <= 16; ++seed) {
    Rng rng(seed * 57);
    const WhileSpec s = seeded(seed, &WhileSpec::nested_if, rng, 32);
    SCOPED_TRACE(s.str());
    std::vector<std::vector<PeerInput>> steps;
    // No iteration (the limit at or below the start), one, and several.
    for (const int32_t iterations : {-1, 0, 1, static_cast<int32_t>(2 + rng.below(30))}) {
      const auto i0 = static_cast<int32_t>(rng.below(7)) - 3;
      steps.push_back(while_inputs(rng, s, i0, i0 + iterations));
    }
    compared += expect_same(*peer, while_model(s), steps);
    ++cases;
  }
  EXPECT_EQ(cases, 16);
  EXPECT_GT(compared, 0u);
}

// A loop that grows a tensor (TFLite's dynamic case): the body appends
// `step` ([1, m]) to `acc` along axis 1, so acc ends as [1, n + m * count];
// every tensor of every subgraph declares acc as [1, n] (a placeholder).
std::vector<uint8_t> growing_model(bool int8, int n, int m, uint64_t seed) {
  lite::ModelBuilder b;
  Rng rng(seed);
  const T vt = int8 ? T::kInt8 : T::kFloat32;
  lite::Quantization q;  // CONCATENATION: one scale in and out
  if (int8) q = q8(rng);
  auto vars = [&] {
    return std::vector<int32_t>{b.add_tensor("i", T::kInt32, {}), b.add_tensor("lim", T::kInt32, {}),
                                b.add_tensor("acc", vt, {1, n}, q), b.add_tensor("step", vt, {1, m}, q)};
  };
  b.add_subgraph("cond");
  {
    const std::vector<int32_t> v = vars();
    const int32_t c = b.add_tensor("c", T::kBool, {});
    b.add_operator(BuiltinOp::kLess, {v[0], v[1]}, {c});
    b.set_inputs(v);
    b.set_outputs({c});
  }
  b.add_subgraph("body");
  {
    const std::vector<int32_t> v = vars();
    const int32_t one = b.add_constant("one", T::kInt32, {}, std::vector<int32_t>{1});
    const int32_t i1 = b.add_tensor("i1", T::kInt32, {});
    const int32_t acc1 = b.add_tensor("acc1", vt, {1, n}, q);
    b.add_operator(BuiltinOp::kAdd, {v[0], one}, {i1}, lite::AddOptions{});
    b.add_operator(BuiltinOp::kConcatenation, {v[2], v[3]}, {acc1}, lite::ConcatenationOptions{1});
    b.set_inputs(v);
    b.set_outputs({i1, v[1], acc1, v[3]});
  }
  b.use_subgraph(0);
  const std::vector<int32_t> in = vars(), out = vars();
  b.add_operator(BuiltinOp::kWhile, in, out, lite::WhileOptions{1, 2});
  b.set_inputs(in);
  b.set_outputs({out[0], out[2]});
  return b.finish();
}

TEST(TfliteControlFlow, WhileGrowingATensorMatchesTflite) {
  QLITE_REQUIRE_TFLITE_PEER(peer);
  size_t compared = 0;
  for (uint64_t seed = 1; seed <= 8; ++seed) {
    const bool int8 = seed % 2 == 0;
    Rng rng(seed * 101);
    const int n = 1 + static_cast<int>(rng.below(6)), m = 1 + static_cast<int>(rng.below(5));
    SCOPED_TRACE(std::string(int8 ? "int8" : "float32") + " n=" + std::to_string(n) + " m=" + std::to_string(m));
    // One interpreter, the count changing between invokes (and so the shapes).
    std::vector<std::vector<PeerInput>> steps;
    for (const int32_t count : {3, 0, static_cast<int32_t>(1 + rng.below(12)), 3})
      steps.push_back({PeerInput{{}, bytes_of(std::vector<int32_t>{0})},
                       PeerInput{{}, bytes_of(std::vector<int32_t>{count})},
                       PeerInput{{1, n}, random_bytes(rng, int8, n)}, PeerInput{{1, m}, random_bytes(rng, int8, m)}});
    const std::vector<uint8_t> model = growing_model(int8, n, m, seed);
    compared += expect_same(*peer, model, steps);
    const Steps ours = run_in_qlite(model, steps);
    ASSERT_EQ(ours.error, "");
    EXPECT_EQ(ours.shapes[0][1], (Shape{1, n + 3 * m}));
    EXPECT_EQ(ours.shapes[1][1], (Shape{1, n}));
  }
  EXPECT_GT(compared, 0u);
}

// acc = [1, -2] + 5 steps of [0.5, 0.25] from i = 2 to 7: [3.5, -0.75], i = 7.
TEST(TfliteControlFlow, WhileWorkedByHand) {
  WhileSpec s;
  s.n = 2;
  const std::vector<PeerInput> in = {
      PeerInput{{}, bytes_of(std::vector<int32_t>{2})}, PeerInput{{}, bytes_of(std::vector<int32_t>{7})},
      PeerInput{{1, 2}, bytes_of(std::vector<float>{1.0f, -2.0f})},
      PeerInput{{1, 2}, bytes_of(std::vector<float>{0.5f, 0.25f})}};
  const Steps ours = run_in_qlite(while_model(s), {in});
  ASSERT_EQ(ours.error, "");
  EXPECT_EQ(ours.bytes[0][0], bytes_of(std::vector<int32_t>{7}));
  EXPECT_EQ(ours.bytes[0][1], bytes_of(std::vector<float>{3.5f, -0.75f}));
  // Nested: +, -, +, -, + from i = 2: one step added in all.
  s.nested_if = true;
  const Steps nested = run_in_qlite(while_model(s), {in});
  ASSERT_EQ(nested.error, "");
  EXPECT_EQ(nested.bytes[0][1], bytes_of(std::vector<float>{1.5f, -1.75f}));
}

TEST(TfliteControlFlow, WarmInvokeAllocatesNothing) {
  for (const bool int8 : {false, true}) {
    WhileSpec ws;
    ws.int8 = int8;
    ws.nested_if = true;
    ws.n = 8;
    Rng rng(3);
    auto w = Interpreter::from_buffer(while_model(ws));
    const std::vector<PeerInput> in = while_inputs(rng, ws, 0, 6);
    for (size_t j = 0; j < in.size(); ++j) std::memcpy(w->input_bytes(j).data(), in[j].bytes.data(), in[j].bytes.size());
    w->invoke();
    IfSpec is;
    is.int8 = int8;
    is.n = 8;
    auto f = Interpreter::from_buffer(if_model(is));
    for (size_t j = 0; j < 2; ++j) {
      const auto v = random_bytes(rng, int8, is.n);
      std::memcpy(f->input_bytes(j).data(), v.data(), v.size());
    }
    f->input_bytes(2)[0] = std::byte{1};
    f->invoke();
    const long nw = alloc_testing::allocations_during([&] {
      for (int k = 0; k < 3; ++k) w->invoke();
    });
    // (input_bytes too: its range check builds its message only on failure.)
    const long nf = alloc_testing::allocations_during([&] {
      for (int k = 0; k < 3; ++k) {
        f->input_bytes(2)[0] = std::byte(k % 2);
        f->invoke();
      }
    });
    EXPECT_EQ(nw, 0) << "WHILE " << (int8 ? "int8" : "float32");
    EXPECT_EQ(nf, 0) << "IF " << (int8 ? "int8" : "float32");
  }
}

// An IF inside CALL_ONCE's init subgraph, deciding a resource variable's
// initial value: y = READ(v) + x, where the init subgraph assigns
// IF(c, [1, 2, 3]) to v (then: a + a, else: a - a). Also destroys an
// interpreter whose CALL_ONCE subgraph owns called subgraphs (ASan checks
// the order).
TEST(TfliteControlFlow, IfInsideACallOnceSubgraph) {
  QLITE_REQUIRE_TFLITE_PEER(peer);
  for (const bool c : {false, true}) {
    lite::ModelBuilder b;
    b.add_subgraph("init");
    {
      const int32_t h = b.add_tensor("h", T::kResource, {});
      const int32_t cond = b.add_constant("c", T::kBool, {}, std::vector<uint8_t>{c});
      const int32_t v = b.add_constant("v", T::kFloat32, {1, 3}, std::vector<float>{1, 2, 3});
      const int32_t o = b.add_tensor("o", T::kFloat32, {1, 3});
      b.add_operator(BuiltinOp::kVarHandle, {}, {h}, lite::VarHandleOptions{"", "v"});
      b.add_operator(BuiltinOp::kIf, {cond, v}, {o}, lite::IfOptions{2, 3});
      b.add_operator(BuiltinOp::kAssignVariable, {h, o}, {});
    }
    for (const BuiltinOp op : {BuiltinOp::kAdd, BuiltinOp::kSub}) {
      b.add_subgraph();
      const int32_t a = b.add_tensor("a", T::kFloat32, {1, 3});
      const int32_t o = b.add_tensor("o", T::kFloat32, {1, 3});
      if (op == BuiltinOp::kAdd) b.add_operator(op, {a, a}, {o}, lite::AddOptions{});
      else b.add_operator(op, {a, a}, {o}, lite::SubOptions{});
      b.set_inputs({a});
      b.set_outputs({o});
    }
    b.use_subgraph(0);
    const int32_t x = b.add_tensor("x", T::kFloat32, {1, 3});
    const int32_t h = b.add_tensor("h", T::kResource, {});
    const int32_t r = b.add_tensor("r", T::kFloat32, {1, 3});
    const int32_t y = b.add_tensor("y", T::kFloat32, {1, 3});
    b.add_operator(BuiltinOp::kCallOnce, {}, {}, lite::CallOnceOptions{1});
    b.add_operator(BuiltinOp::kVarHandle, {}, {h}, lite::VarHandleOptions{"", "v"});
    b.add_operator(BuiltinOp::kReadVariable, {h}, {r});
    b.add_operator(BuiltinOp::kAdd, {r, x}, {y}, lite::AddOptions{});
    b.set_inputs({x});
    b.set_outputs({y});
    const std::vector<uint8_t> model = b.finish();
    const std::vector<PeerInput> in = {PeerInput{{1, 3}, bytes_of(std::vector<float>{0.5f, 0.5f, 0.5f})}};
    EXPECT_GT(expect_same(*peer, model, {in, in}), 0u);
    const Steps ours = run_in_qlite(model, {in});
    ASSERT_EQ(ours.error, "");
    EXPECT_EQ(ours.bytes[0][0], bytes_of(c ? std::vector<float>{2.5f, 4.5f, 6.5f} : std::vector<float>{0.5f, 0.5f, 0.5f}));
  }
}

// ---- refusals

// Inputs of ones: a true condition.
std::string run_error(const std::vector<uint8_t>& model, const runtime::InterpreterOptions& options = {}) {
  return first_error_in_qlite(model, 1, options);
}

// Subgraph 0: y = IF(c, x) over subgraphs (then_index, else_index), the
// condition of type cond_type. Subgraphs 1 and 2: y = x + x, or with
// `cycle`, y = WHILE(x) over (3, 2) and over (3, 1): each prepares the
// other inside itself. Subgraph 3: false, always.
std::vector<uint8_t> if_refusal_model(int32_t then_index, int32_t else_index, T cond_type = T::kBool,
                                      bool cycle = false) {
  lite::ModelBuilder b;
  for (int32_t k = 1; k <= 2; ++k) {
    b.add_subgraph();
    const int32_t x = b.add_tensor("x", T::kFloat32, {1, 2});
    const int32_t y = b.add_tensor("y", T::kFloat32, {1, 2});
    if (cycle) b.add_operator(BuiltinOp::kWhile, {x}, {y}, lite::WhileOptions{3, 3 - k});
    else b.add_operator(BuiltinOp::kAdd, {x, x}, {y}, lite::AddOptions{});
    b.set_inputs({x});
    b.set_outputs({y});
  }
  b.add_subgraph("false");
  {
    const int32_t x = b.add_tensor("x", T::kFloat32, {1, 2});
    const int32_t f = b.add_constant("f", T::kBool, {}, std::vector<uint8_t>{0});
    b.set_inputs({x});
    b.set_outputs({f});
  }
  b.use_subgraph(0);
  const int32_t x = b.add_tensor("x", T::kFloat32, {1, 2});
  const int32_t c = b.add_tensor("c", cond_type, {});
  const int32_t y = b.add_tensor("y", T::kFloat32, {1, 2});
  b.add_operator(BuiltinOp::kIf, {c, x}, {y}, lite::IfOptions{then_index, else_index});
  b.set_inputs({x, c});
  b.set_outputs({y});
  return b.finish();
}

// Subgraph 0: y = WHILE(x) over (cond, body). Subgraph 1: x < x (a BOOL
// [1, 2]: not a loop condition). Subgraph 2: CONCATENATION(x, x) (a shape
// that grows). Subgraph 3: x + x. Subgraph 4: true, always.
std::vector<uint8_t> while_refusal_model(int32_t cond, int32_t body) {
  lite::ModelBuilder b;
  b.add_subgraph("less");
  {
    const int32_t x = b.add_tensor("x", T::kFloat32, {1, 2});
    const int32_t c = b.add_tensor("c", T::kBool, {1, 2});
    b.add_operator(BuiltinOp::kLess, {x, x}, {c});
    b.set_inputs({x});
    b.set_outputs({c});
  }
  b.add_subgraph("grow");
  {
    const int32_t x = b.add_tensor("x", T::kFloat32, {1, 2});
    const int32_t y = b.add_tensor("y", T::kFloat32, {1, 4});
    b.add_operator(BuiltinOp::kConcatenation, {x, x}, {y}, lite::ConcatenationOptions{1});
    b.set_inputs({x});
    b.set_outputs({y});
  }
  b.add_subgraph("double");
  {
    const int32_t x = b.add_tensor("x", T::kFloat32, {1, 2});
    const int32_t y = b.add_tensor("y", T::kFloat32, {1, 2});
    b.add_operator(BuiltinOp::kAdd, {x, x}, {y}, lite::AddOptions{});
    b.set_inputs({x});
    b.set_outputs({y});
  }
  b.add_subgraph("true");
  {
    const int32_t x = b.add_tensor("x", T::kFloat32, {1, 2});
    const int32_t t = b.add_constant("t", T::kBool, {}, std::vector<uint8_t>{1});
    b.set_inputs({x});
    b.set_outputs({t});
  }
  b.use_subgraph(0);
  const int32_t x = b.add_tensor("x", T::kFloat32, {1, 2});
  const int32_t y = b.add_tensor("y", T::kFloat32, {1, 2});
  b.add_operator(BuiltinOp::kWhile, {x}, {y}, lite::WhileOptions{cond, body});
  b.set_inputs({x});
  b.set_outputs({y});
  return b.finish();
}

TEST(TfliteControlFlow, Refusals) {
  QLITE_REQUIRE_TFLITE_PEER(peer);
  struct Bad {
    std::vector<uint8_t> model;
    const char* op;
    const char* says;
    bool tflite_refuses;
  };
  const Bad bad[] = {
      // The condition's type is checked against the op's record, at load.
      {if_refusal_model(1, 1, T::kInt32), "IF", "IF with int32 input", true},
      {if_refusal_model(1, 9), "(IF)", "else subgraph 9 is not one of the model's 4 subgraphs", true},
      {if_refusal_model(0, 1), "(IF)", "then subgraph 0 is the subgraph of the op itself", false},
      {while_refusal_model(3, 3), "(WHILE)", "cond_subgraph_index and body_subgraph_index are both 3", true},
      {while_refusal_model(1, 3), "(WHILE)", "a loop condition is one BOOL of shape () or (1)", true},
      {if_refusal_model(1, 1, T::kBool, true), "(WHILE)", "subgraph 1 is reached again through WHILE (a cycle)",
       false},
  };
  for (const Bad& c : bad) {
    SCOPED_TRACE(c.says);
    if (c.tflite_refuses) {
      std::vector<PeerInput> in;
      const auto m = lite::read_model(c.model);
      for (int32_t t : m.subgraphs[0].inputs) {
        const lite::TensorDef& d = m.subgraphs[0].tensors[static_cast<size_t>(t)];
        in.push_back(PeerInput{d.shape, std::vector<uint8_t>(d.type == T::kInt32 ? 4 : d.type == T::kBool ? 1 : 8, 1)});
      }
      EXPECT_THROW(peer->run(c.model, in), Error);
    }
    const std::string e = run_error(c.model);
    EXPECT_NE(e.find(c.op), std::string::npos) << e;
    EXPECT_NE(e.find(c.says), std::string::npos) << e;
  }
  // A loop whose condition is always true stops at the bound, naming it:
  // with shapes that stay, and with a tensor that doubles at every iteration.
  runtime::InterpreterOptions o;
  o.max_loop_iterations = 12;
  for (const int32_t body : {3, 2}) {
    const std::string e = run_error(while_refusal_model(4, body), o);
    EXPECT_NE(e.find("(WHILE): the loop runs more than 12 iterations"), std::string::npos) << e;
  }
  // Accepted: the IF file without a fault.
  EXPECT_EQ(run_error(if_refusal_model(1, 2)), "");
}

}  // namespace
}  // namespace qlite::test
