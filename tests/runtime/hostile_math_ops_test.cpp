// Hostile files for the elementwise math, comparison, select and reduction
// ops: every axis, shape and quantization a file gives them is untrusted.
// Truncations and bit flips of a model that chains them end in qlite::Error
// or a model that runs, never a crash; targeted edits are refused in one
// line naming the op; integer division by zero is an error at invoke.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <exception>
#include <string>
#include <vector>

#include "qlite/runtime.h"
#include "math_models.h"
#include "runtime_models.h"

namespace qlite::test {
namespace {

using runtime::Interpreter;
using runtime::InterpreterOptions;
using T = TensorType;
using math_models::float_int_chain;
using math_models::math_chain;

enum class Outcome { kRan, kError };

Outcome load_and_run(const std::vector<uint8_t>& bytes, std::string* error = nullptr) {
  try {
    InterpreterOptions o;
    o.max_arena_bytes = size_t{64} << 20;
    auto it = Interpreter::from_buffer(bytes, o);
    for (int batch : {1, 3}) {
      it->resize_batch(batch);
      for (size_t i = 0; i < it->num_inputs(); ++i) {
        auto in = it->input_bytes(i);
        std::memset(in.data(), 1, in.size());
      }
      it->invoke();
    }
    return Outcome::kRan;
  } catch (const Error& e) {
    if (error) *error = e.what();
    return Outcome::kError;
  } catch (const std::exception& e) {
    ADD_FAILURE() << "exception other than qlite::Error: " << e.what();
    return Outcome::kError;
  }
}

lite::TensorDef& tensor_at(lite::ModelDef& m, int i) { return m.subgraphs[0].tensors[static_cast<size_t>(i)]; }
std::vector<uint8_t>& buffer_at(lite::ModelDef& m, int i) { return m.buffers[tensor_at(m, i).buffer]; }
void put_i32(std::vector<uint8_t>& buf, size_t k, int32_t v) { std::memcpy(buf.data() + 4 * k, &v, 4); }

TEST(RuntimeHostileMathOps, TruncationsAndBitFlipsNeverCrash) {
  Rng rng(1401);
  int ran = 0, refused = 0;
  for (const lite::ModelDef& model : {math_chain(), float_int_chain()}) {
  const std::vector<uint8_t> good = lite::write_model(model);
  ASSERT_EQ(load_and_run(good), Outcome::kRan);
  // Every cut is refused but within the last 16 bytes, which may be the
  // alignment padding after the last buffer (then the model still runs).
  for (size_t n = 0; n < good.size(); n += 1 + n / 256) {
    const std::vector<uint8_t> cut(good.begin(), good.begin() + static_cast<std::ptrdiff_t>(n));
    const Outcome o = load_and_run(cut);
    if (n + 16 <= good.size()) {
      EXPECT_EQ(o, Outcome::kError) << "truncated to " << n << " of " << good.size();
    }
  }
  for (int trial = 0; trial < 1000; ++trial) {
    std::vector<uint8_t> bad = good;
    for (int f = 0, k = 1 + static_cast<int>(rng.below(4)); f < k; ++f)
      bad[rng.below(bad.size())] ^= static_cast<uint8_t>(1u << rng.below(8));
    (load_and_run(bad) == Outcome::kRan ? ran : refused)++;
  }
  }
  EXPECT_GT(ran, 0);
  EXPECT_GT(refused, 0);
}

TEST(RuntimeHostileMathOps, OperandsAreCheckedAtLoad) {
  struct Case {
    const char* what;
    void (*edit)(lite::ModelDef&);
    const char* message;
  };
  const Case cases[] = {
      {"axis past the rank", [](lite::ModelDef& m) { put_i32(buffer_at(m, 6), 0, 4); }, "operator 4 (SUM): SUM: axis 4"},
      {"axis below -rank", [](lite::ModelDef& m) { put_i32(buffer_at(m, 6), 1, -5); }, "is outside [-4, 4)"},
      // Axes computed at run time are read at invoke (the op is prepared then):
      // the test's input bytes are no axes.
      {"axes computed at run time", [](lite::ModelDef& m) { tensor_at(m, 6).buffer = 0; m.subgraphs[0].inputs.push_back(6); },
       "operator 4 (SUM): SUM: axis"},
      {"axes float", [](lite::ModelDef& m) { tensor_at(m, 6).type = T::kFloat32; }, "must be INT32 or INT64"},
      {"axes of rank 2", [](lite::ModelDef& m) { tensor_at(m, 6).shape = {1, 2}; }, "must be a scalar or a list"},
      {"MUL operand that does not broadcast", [](lite::ModelDef& m) {
         tensor_at(m, 1).shape = {2};
         buffer_at(m, 1).resize(2);
       }, "operator 0 (MUL): shapes (1, 4, 4, 3) and (2) do not broadcast"},
      {"MUL operand without quantization", [](lite::ModelDef& m) { tensor_at(m, 1).quantization = {}; },
       "needs per-tensor quantization"},
      {"MUL of int8 and uint8", [](lite::ModelDef& m) { tensor_at(m, 1).type = T::kUInt8; tensor_at(m, 1).quantization.zero_point = {130}; },
       "operator 0 (MUL): unsupported type combination: inputs (INT8, UINT8)"},
      {"SUB output scale tiny", [](lite::ModelDef& m) { tensor_at(m, 3).quantization.scale = {1e-12f}; },
       "operator 1 (SUB)"},
      {"LEAKY_RELU alpha NaN", [](lite::ModelDef& m) {
         std::get<lite::LeakyReluOptions>(m.subgraphs[0].operators[3].options).alpha = std::nanf("");
       }, "alpha is not finite"},
      {"GREATER input scale >= 1", [](lite::ModelDef& m) { tensor_at(m, 0).quantization.scale = {2.0f}; },
       "quantized input scales must be in (0, 1)"},
      {"GREATER writing int8", [](lite::ModelDef& m) {
         tensor_at(m, 8).type = T::kInt8;
         tensor_at(m, 8).quantization = Quantization::per_tensor(1.0f, 0);
       }, "GREATER with int8 input and int8 output"},
      {"SELECT_V2 condition int8", [](lite::ModelDef& m) {
         tensor_at(m, 8).type = T::kInt8;
         tensor_at(m, 8).quantization = Quantization::per_tensor(1.0f, 0);
         m.subgraphs[0].operators[5].opcode_index = m.subgraphs[0].operators[0].opcode_index;  // MUL writes it
         m.subgraphs[0].operators[5].options = lite::MulOptions{};
       }, "SELECT_V2 with int8 input"},
      {"PRELU alpha that does not broadcast", [](lite::ModelDef& m) {
         tensor_at(m, 1).shape = {4};
         buffer_at(m, 1).resize(4);
         m.subgraphs[0].operators[0].inputs[1] = 0;  // MUL(x, x)
       }, "PRELU: shapes (1, 4, 4, 3) and (4) do not broadcast"},
      {"declared output shape differs", [](lite::ModelDef& m) { tensor_at(m, 7).shape = {1, 1, 2, 3}; },
       "disagrees with the shape"},
  };
  for (const Case& c : cases) {
    lite::ModelDef m = math_chain();
    c.edit(m);
    std::string error;
    // Values lite's validator refuses (a NaN alpha) are refused by the writer
    // already; the reader runs the same validator on a file's bytes.
    Outcome o = Outcome::kError;
    try {
      o = load_and_run(lite::write_model(m), &error);
    } catch (const Error& e) {
      error = e.what();
    }
    EXPECT_EQ(o, Outcome::kError) << c.what;
    EXPECT_NE(error.find(c.message), std::string::npos) << c.what << ": " << error;
    EXPECT_EQ(error.find('\n'), std::string::npos) << c.what << ": one line";
  }
}

// Integer DIV, FLOOR_DIV and FLOOR_MOD by zero and integer POW with a
// negative exponent: errors at invoke (TFLite's "Division by 0"), never a
// trap; INT32_MIN / -1 wraps instead of trapping.
TEST(RuntimeHostileMathOps, IntegerDivisionByZeroIsAnError) {
  for (BuiltinOp op : {BuiltinOp::kDiv, BuiltinOp::kFloorDiv, BuiltinOp::kFloorMod, BuiltinOp::kPow}) {
    ModelBuilder b;
    const int32_t x = b.add_tensor("x", T::kInt32, {1, 3});
    const int32_t d = b.add_constant("d", T::kInt32, {3}, std::vector<int32_t>{2, op == BuiltinOp::kPow ? -1 : 0, -1});
    const int32_t y = b.add_tensor("y", T::kInt32, {1, 3});
    lite::OpOptions o = std::monostate{};
    if (op == BuiltinOp::kDiv) o = lite::DivOptions{};
    b.add_operator(op, {x, d}, {y}, o);
    b.set_inputs({x});
    b.set_outputs({y});
    auto it = Interpreter::from_model(b.build());
    const int32_t in[3] = {7, 7, INT32_MIN};
    std::memcpy(it->input_bytes(0).data(), in, sizeof in);
    try {
      it->invoke();
      ADD_FAILURE() << lite::builtin_op_name(op) << ": no error";
    } catch (const Error& e) {
      const std::string want = op == BuiltinOp::kPow ? "exponents >= 0" : "division by 0";
      EXPECT_NE(std::string(e.what()).find(want), std::string::npos) << e.what();
    }
  }
  ModelBuilder b;
  const int32_t x = b.add_tensor("x", T::kInt32, {1, 2});
  const int32_t d = b.add_constant("d", T::kInt32, {2}, std::vector<int32_t>{-1, -1});
  const int32_t y = b.add_tensor("y", T::kInt32, {1, 2});
  b.add_operator(BuiltinOp::kFloorDiv, {x, d}, {y});
  b.set_inputs({x});
  b.set_outputs({y});
  auto it = Interpreter::from_model(b.build());
  const int32_t in[2] = {INT32_MIN, 5};
  std::memcpy(it->input_bytes(0).data(), in, sizeof in);
  it->invoke();
  int32_t out[2];
  std::memcpy(out, it->output_bytes(0).data(), sizeof out);
  EXPECT_EQ(out[0], INT32_MIN);
  EXPECT_EQ(out[1], -5);
}

}  // namespace
}  // namespace qlite::test
