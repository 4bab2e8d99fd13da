// Resource variables (VAR_HANDLE, READ_VARIABLE, ASSIGN_VARIABLE) and
// CALL_ONCE against the real TensorFlow Lite 2.9, in the form TensorFlow's
// converter writes a model's tf.Variable state: the main subgraph starts
// with a CALL_ONCE of an initialization subgraph that assigns the initial
// values, then reads each variable, updates it and assigns it back.
//  - a streaming accumulator (a [1, n] variable updated by ADD, float32 and
//    int8) and a counter (a scalar whose READ_VARIABLE output is declared
//    without a shape, so its shape is decided at invoke), over seeded
//    random sizes and inputs, five invokes in one interpreter: identical
//    outputs at every invoke;
//  - a handle given as an INT32 id instead of a VAR_HANDLE, which only
//    agrees with TFLite when ids are numbered as it numbers them (in order
//    of first appearance, subgraph by subgraph);
//  - a case worked by hand, and reset_variables(), which starts the
//    variables over (TFLite 2.9's reset leaves them; a new interpreter is
//    the oracle);
//  - a warmed-up invoke allocates nothing (the counter's READ_VARIABLE is
//    prepared again at every invoke);
//  - refusals: a variable read before any assignment (TFLite fails too), a
//    CALL_ONCE of its own subgraph, of a subgraph out of range, of one with
//    inputs, a cycle of CALL_ONCEs (on which TFLite would recurse without
//    end) and CALL_ONCEs nested more than 16 deep (each level is a nested
//    prepare on the stack).
// A failure under CI=true when the peer is missing.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <string>
#include <vector>

#include "counting_new.h"
#include "qlite/runtime.h"
#include "qlite_run.h"
#include "single_op_peer.h"

namespace qlite::test {
namespace {

using T = TensorType;
using runtime::Interpreter;

struct Spec {
  bool int8 = false;
  int n = 4;  // accumulator width
  // The accumulator's handle in the main subgraph: a VAR_HANDLE, or an INT32
  // constant holding the id TFLite gives the init subgraph's VAR_HANDLE.
  bool int32_handles = false;
  uint64_t seed = 1;
  std::string str() const {
    return std::string(int8 ? "int8" : "float32") + " n=" + std::to_string(n) +
           (int32_handles ? " int32 handles" : "") + " seed=" + std::to_string(seed);
  }
};

lite::Quantization q8(float scale, int64_t zp) { return lite::Quantization::per_tensor(scale, zp); }

// Subgraph 0: CALL_ONCE(1); acc = READ(h_acc) + x; ASSIGN(h_acc, acc);
// count = READ(h_count) + 1; ASSIGN(h_count, count); outputs acc, count.
// Subgraph 1: ASSIGN(h_acc, initial); ASSIGN(h_count, 0).
std::vector<uint8_t> accumulator_model(const Spec& s, const std::vector<uint8_t>& initial) {
  lite::ModelBuilder b;
  const T vt = s.int8 ? T::kInt8 : T::kFloat32;
  Rng rng(s.seed * 7 + 3);
  lite::Quantization qx, qa;
  if (s.int8) {
    qx = q8(rng.uniform(0.02f, 0.06f), static_cast<int64_t>(rng.below(21)) - 10);
    qa = q8(rng.uniform(0.05f, 0.2f), static_cast<int64_t>(rng.below(21)) - 10);
  }
  const std::vector<float> one = {1.0f}, zero = {0.0f};

  // The init subgraph first (index 1), so that its ids come after the main one's.
  b.add_subgraph("init");
  const int32_t ih_acc = b.add_tensor("h_acc", T::kResource, {});
  const int32_t ih_count = b.add_tensor("h_count", T::kResource, {});
  const int32_t init = b.add_tensor("initial", vt, {1, s.n}, qa);
  b.graph().tensors[static_cast<size_t>(init)].buffer = b.add_buffer(initial);
  const int32_t c0 = b.add_constant("zero", T::kFloat32, {}, zero);
  b.add_operator(BuiltinOp::kVarHandle, {}, {ih_acc}, lite::VarHandleOptions{"", "acc"});
  b.add_operator(BuiltinOp::kVarHandle, {}, {ih_count}, lite::VarHandleOptions{"", "count"});
  b.add_operator(BuiltinOp::kAssignVariable, {ih_acc, init}, {});
  b.add_operator(BuiltinOp::kAssignVariable, {ih_count, c0}, {});

  b.use_subgraph(0);
  const int32_t x = b.add_tensor("x", vt, {1, s.n}, qx);
  int32_t h_acc, h_count;
  // "count" is the main subgraph's first VAR_HANDLE: id 0, before the init
  // subgraph's "acc" (id 1), which the init subgraph names first.
  h_count = b.add_tensor("h_count", T::kResource, {});
  if (s.int32_handles) {
    // "acc" by its id, which only a numbering subgraph by subgraph gives 1.
    h_acc = b.add_constant("id_acc", T::kInt32, {}, std::vector<int32_t>{1});
  } else {
    h_acc = b.add_tensor("h_acc", T::kResource, {});
  }
  const int32_t prev = b.add_tensor("prev", vt, {1, s.n}, qa);
  const int32_t acc = b.add_tensor("acc", vt, {1, s.n}, qa);
  const int32_t cnt = b.add_tensor("count_prev", T::kFloat32, {});  // shape decided at invoke
  const int32_t one_t = b.add_constant("one", T::kFloat32, {}, one);
  const int32_t cnt1 = b.add_tensor("count", T::kFloat32, {});
  b.add_operator(BuiltinOp::kCallOnce, {}, {}, lite::CallOnceOptions{1});
  b.add_operator(BuiltinOp::kVarHandle, {}, {h_count}, lite::VarHandleOptions{"", "count"});
  if (!s.int32_handles) b.add_operator(BuiltinOp::kVarHandle, {}, {h_acc}, lite::VarHandleOptions{"", "acc"});
  b.add_operator(BuiltinOp::kReadVariable, {h_acc}, {prev});
  b.add_operator(BuiltinOp::kAdd, {prev, x}, {acc}, lite::AddOptions{});
  b.add_operator(BuiltinOp::kAssignVariable, {h_acc, acc}, {});
  b.add_operator(BuiltinOp::kReadVariable, {h_count}, {cnt});
  b.add_operator(BuiltinOp::kAdd, {cnt, one_t}, {cnt1}, lite::AddOptions{});
  b.add_operator(BuiltinOp::kAssignVariable, {h_count, cnt1}, {});
  b.set_inputs({x});
  b.set_outputs({acc, cnt1});
  return b.finish();
}

std::vector<uint8_t> random_values(Rng& rng, const Spec& s) {
  if (s.int8) {
    std::vector<uint8_t> v(static_cast<size_t>(s.n));
    for (uint8_t& b : v) b = static_cast<uint8_t>(rng.below(256));
    return v;
  }
  std::vector<float> v(static_cast<size_t>(s.n));
  for (float& f : v) f = rng.uniform(-3.0f, 3.0f);
  std::vector<uint8_t> bytes(v.size() * 4);
  std::memcpy(bytes.data(), v.data(), bytes.size());
  return bytes;
}

float as_float(const std::vector<uint8_t>& b, size_t i = 0) {
  float f;
  std::memcpy(&f, b.data() + 4 * i, 4);
  return f;
}

TEST(TfliteResourceVariables, AccumulatorAndCounterMatchTflite) {
  QLITE_REQUIRE_TFLITE_PEER(peer);
  int cases = 0, int8_inside = 0, int8_values = 0;
  for (uint64_t seed = 1; seed <= 24; ++seed) {
    Spec s;
    s.seed = seed;
    s.int8 = seed % 2 == 0;
    s.int32_handles = seed % 3 == 0;
    Rng rng(seed * 101);
    s.n = 1 + static_cast<int>(rng.below(24));
    SCOPED_TRACE(s.str());
    const std::vector<uint8_t> model = accumulator_model(s, random_values(rng, s));
    std::vector<std::vector<uint8_t>> inputs;
    std::vector<std::vector<PeerInput>> steps;
    for (int k = 0; k < 5; ++k) {
      inputs.push_back(random_values(rng, s));
      steps.push_back({PeerInput{{1, s.n}, inputs.back()}});
    }
    const auto theirs = peer->run_steps(model, steps, std::vector<bool>(steps.size(), false));
    const auto ours = run_steps_all_outputs_in_qlite(model, inputs);
    ASSERT_EQ(theirs.size(), ours.size());
    for (size_t k = 0; k < ours.size(); ++k) {
      ASSERT_EQ(ours[k].size(), 2u);
      ASSERT_EQ(theirs[k].size(), 2u);
      // int8: byte-identical; float32: ADD in float, identical bits as well.
      EXPECT_EQ(ours[k][0], theirs[k][0].bytes) << "invoke " << k;
      EXPECT_EQ(ours[k][1], theirs[k][1].bytes) << "invoke " << k;
      EXPECT_TRUE(theirs[k][1].shape.empty()) << "the counter is a scalar";
      EXPECT_EQ(as_float(ours[k][1]), static_cast<float>(k + 1)) << "invoke " << k;
      if (s.int8)
        for (uint8_t v : theirs[k][0].bytes) {
          ++int8_values;
          int8_inside += v != 0x80 && v != 0x7f;
        }
    }
    ++cases;
  }
  EXPECT_EQ(cases, 24);
  // The accumulators must not all sit at the int8 bounds, or the comparison says little.
  EXPECT_GT(int8_inside, int8_values / 4) << int8_inside << " of " << int8_values;
}

TEST(TfliteResourceVariables, WorkedByHand) {
  Spec s;
  s.n = 3;
  const std::vector<float> initial = {1.0f, 2.0f, -3.0f};
  std::vector<uint8_t> ib(12);
  std::memcpy(ib.data(), initial.data(), 12);
  const std::vector<uint8_t> model = accumulator_model(s, ib);
  const std::vector<float> x = {0.5f, -1.0f, 2.0f};
  std::vector<uint8_t> xb(12);
  std::memcpy(xb.data(), x.data(), 12);
  const auto outs = run_steps_all_outputs_in_qlite(model, {xb, xb, xb});
  ASSERT_EQ(outs.size(), 3u);
  for (size_t k = 0; k < 3; ++k) {
    const float steps = static_cast<float>(k + 1);
    EXPECT_EQ(as_float(outs[k][0], 0), 1.0f + 0.5f * steps);
    EXPECT_EQ(as_float(outs[k][0], 1), 2.0f - 1.0f * steps);
    EXPECT_EQ(as_float(outs[k][0], 2), -3.0f + 2.0f * steps);
    EXPECT_EQ(as_float(outs[k][1]), steps);
  }
  // Each invoke allocates nothing once the shapes are known, and a second
  // interpreter of the same file starts from the initial values again.
  EXPECT_EQ(run_steps_all_outputs_in_qlite(model, {xb})[0], outs[0]);
}

TEST(TfliteResourceVariables, WarmInvokeAllocatesNothing) {
  for (const bool int8 : {false, true}) {
    Spec s;
    s.int8 = int8;
    s.n = 16;
    Rng rng(11);
    auto it = Interpreter::from_buffer(accumulator_model(s, random_values(rng, s)));
    const std::vector<uint8_t> x = random_values(rng, s);
    std::memcpy(it->input_bytes(0).data(), x.data(), x.size());
    it->invoke();
    it->invoke();
    const long n = alloc_testing::allocations_during([&] {
      for (int i = 0; i < 5; ++i) it->invoke();
    });
    EXPECT_EQ(n, 0) << (int8 ? "int8" : "float32");
    EXPECT_EQ(it->output_info(1).shape, Shape{});
  }
}

// reset_variables() starts the resource variables over: the invokes after it
// repeat a new interpreter's (TFLite 2.9's, as its own reset keeps them).
TEST(TfliteResourceVariables, ResetStartsOver) {
  QLITE_REQUIRE_TFLITE_PEER(peer);
  for (const bool int8 : {false, true}) {
    Spec s;
    s.int8 = int8;
    s.n = 7;
    s.seed = 99;
    SCOPED_TRACE(s.str());
    Rng rng(5);
    const std::vector<uint8_t> model = accumulator_model(s, random_values(rng, s));
    std::vector<std::vector<uint8_t>> inputs;
    std::vector<std::vector<PeerInput>> fresh;
    for (int k = 0; k < 5; ++k) inputs.push_back(random_values(rng, s));
    // qlite: three invokes, reset, the first two inputs again.
    const std::vector<std::vector<uint8_t>> seq = {inputs[2], inputs[3], inputs[4], inputs[0], inputs[1]};
    const auto ours = run_steps_all_outputs_in_qlite(model, seq, {false, false, false, true, false});
    for (int k = 0; k < 2; ++k) fresh.push_back({PeerInput{{1, s.n}, inputs[static_cast<size_t>(k)]}});
    const auto theirs = peer->run_steps(model, fresh, std::vector<bool>(fresh.size(), false));
    for (size_t k = 0; k < 2; ++k) {
      EXPECT_EQ(ours[3 + k][0], theirs[k][0].bytes) << "invoke " << k << " after the reset";
      EXPECT_EQ(ours[3 + k][1], theirs[k][1].bytes) << "invoke " << k << " after the reset";
    }
  }
}

std::string load_error(const std::vector<uint8_t>& model) { return first_error_in_qlite(model, 0); }

// x -> READ(h) + x, without any assignment before the read.
TEST(TfliteResourceVariables, ReadBeforeAssignFailsInBoth) {
  QLITE_REQUIRE_TFLITE_PEER(peer);
  lite::ModelBuilder b;
  const int32_t x = b.add_tensor("x", T::kFloat32, {1, 2});
  const int32_t h = b.add_tensor("h", T::kResource, {});
  const int32_t v = b.add_tensor("v", T::kFloat32, {1, 2});
  const int32_t y = b.add_tensor("y", T::kFloat32, {1, 2});
  b.add_operator(BuiltinOp::kVarHandle, {}, {h}, lite::VarHandleOptions{"", "never"});
  b.add_operator(BuiltinOp::kReadVariable, {h}, {v});
  b.add_operator(BuiltinOp::kAdd, {v, x}, {y}, lite::AddOptions{});
  b.set_inputs({x});
  b.set_outputs({y});
  const std::vector<uint8_t> model = b.finish();
  EXPECT_THROW(peer->run(model, {PeerInput{{1, 2}, std::vector<uint8_t>(8, 0)}}), Error);
  const std::string e = load_error(model);
  EXPECT_NE(e.find("READ_VARIABLE"), std::string::npos) << e;
  EXPECT_NE(e.find("read before any ASSIGN_VARIABLE"), std::string::npos) << e;
}

// A main subgraph x -> y = x + x with CALL_ONCE(k) in front; `extra` adds
// subgraphs: each entry is the init_subgraph_index of a CALL_ONCE that
// subgraph holds (-1: an empty subgraph), and `with_input` gives subgraph 1
// a graph input.
std::vector<uint8_t> call_once_model(int32_t k, const std::vector<int32_t>& extra, bool with_input = false) {
  lite::ModelBuilder b;
  for (size_t i = 0; i < extra.size(); ++i) {
    b.add_subgraph();
    if (extra[i] >= 0) b.add_operator(BuiltinOp::kCallOnce, {}, {}, lite::CallOnceOptions{extra[i]});
    if (i == 0 && with_input) {
      const int32_t t = b.add_tensor("in", T::kFloat32, {1});
      b.set_inputs({t});
    }
  }
  b.use_subgraph(0);
  const int32_t x = b.add_tensor("x", T::kFloat32, {1, 2});
  const int32_t y = b.add_tensor("y", T::kFloat32, {1, 2});
  b.add_operator(BuiltinOp::kCallOnce, {}, {}, lite::CallOnceOptions{k});
  b.add_operator(BuiltinOp::kAdd, {x, x}, {y}, lite::AddOptions{});
  b.set_inputs({x});
  b.set_outputs({y});
  return b.finish();
}

// Subgraph i (1-based) calls subgraph i + 1; the last one is empty.
std::vector<int32_t> chain(int32_t n) {
  std::vector<int32_t> v;
  for (int32_t i = 1; i < n; ++i) v.push_back(i + 1);
  v.push_back(-1);
  return v;
}

TEST(TfliteResourceVariables, CallOnceRefusals) {
  QLITE_REQUIRE_TFLITE_PEER(peer);
  const std::vector<PeerInput> in = {PeerInput{{1, 2}, std::vector<uint8_t>(8, 0)}};
  // Accepted by both: an empty init subgraph.
  const std::vector<uint8_t> ok = call_once_model(1, {-1});
  EXPECT_NO_THROW(peer->run(ok, in));
  EXPECT_EQ(load_error(ok), "");
  // 16 init subgraphs, each calling the next, run; 17 are refused (below).
  EXPECT_NO_THROW(peer->run(call_once_model(1, chain(16)), in));
  EXPECT_EQ(load_error(call_once_model(1, chain(16))), "");
  struct Bad {
    std::vector<uint8_t> model;
    const char* says;
    bool tflite_refuses;  // TFLite 2.9 fails too (a cycle it would recurse into forever)
  };
  const Bad bad[] = {
      {call_once_model(0, {}), "is the subgraph of the CALL_ONCE itself", true},
      {call_once_model(2, {-1}), "is not one of the model's 2 subgraphs", true},
      {call_once_model(1, {-1}, true), "an init subgraph has none", true},
      {call_once_model(1, {2, 1}), "(a cycle)", false},
      {call_once_model(1, chain(17)), "nest more than 16 deep", false},
  };
  for (const Bad& c : bad) {
    SCOPED_TRACE(c.says);
    if (c.tflite_refuses) {
      EXPECT_THROW(peer->run(c.model, in), Error);
    }
    const std::string e = load_error(c.model);
    EXPECT_NE(e.find("CALL_ONCE"), std::string::npos) << e;
    EXPECT_NE(e.find(c.says), std::string::npos) << e;
  }
}

}  // namespace
}  // namespace qlite::test
