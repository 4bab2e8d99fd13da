// Models the reader accepts but the runtime cannot run give an Error naming
// the operator and what is wrong; the arena plan never overlaps live buffers.
#include <gtest/gtest.h>

#include "qlite/runtime.h"
#include "runtime/memory_planner.h"
#include "runtime_models.h"

namespace qlite::test {
namespace {

using runtime::Interpreter;

// Expects from_model to throw an Error whose message contains every part.
void expect_error(const lite::ModelDef& m, std::initializer_list<const char*> parts) {
  try {
    Interpreter::from_model(m);
    FAIL() << "no error";
  } catch (const Error& e) {
    for (const char* p : parts) EXPECT_NE(std::string(e.what()).find(p), std::string::npos) << e.what();
  }
}

TEST(RuntimeErrors, UnsupportedOpIsNamed) {
  ModelBuilder b;
  const int32_t x = b.add_tensor("x", TensorType::kFloat32, {1, 4});
  const int32_t y = b.add_tensor("y", TensorType::kFloat32, {1, 4});
  b.add_operator(BuiltinOp::kUnique, {x}, {y});
  b.set_inputs({x});
  b.set_outputs({y});
  expect_error(b.build(), {"UNIQUE x1 (operator 0)", "not supported"});
}

TEST(RuntimeErrors, UnsupportedTypeCombinationIsNamed) {
  // int8 input with float32 weights.
  ModelBuilder b;
  const int32_t x = b.add_tensor("x", TensorType::kInt8, {1, 4}, Quantization::per_tensor(0.1f, 0));
  const int32_t w = b.add_constant("w", TensorType::kFloat32, {2, 4}, std::vector<float>(8, 1.0f));
  const int32_t y = b.add_tensor("y", TensorType::kInt8, {1, 2}, Quantization::per_tensor(0.1f, 0));
  b.add_operator(BuiltinOp::kFullyConnected, {x, w, -1}, {y}, lite::FullyConnectedOptions{});
  b.set_inputs({x});
  b.set_outputs({y});
  expect_error(b.build(), {"operator 0 (FULLY_CONNECTED)", "unsupported type combination", "INT8, FLOAT32"});
}

lite::ModelDef conv_model(std::vector<int32_t> in_shape, std::vector<int32_t> w_shape, bool bias_scale = true) {
  ModelBuilder b;
  const int32_t x = b.add_tensor("x", TensorType::kInt8, in_shape, Quantization::per_tensor(0.1f, 0));
  const size_t n = static_cast<size_t>(w_shape[0] * w_shape[1] * w_shape[2] * w_shape[3]);
  const int32_t w = b.add_constant("w", TensorType::kInt8, w_shape, std::vector<int8_t>(n, 1),
                                   Quantization::per_tensor(0.01f, 0));
  const int32_t bias = b.add_constant("b", TensorType::kInt32, {w_shape[0]}, std::vector<int32_t>(static_cast<size_t>(w_shape[0]), 0),
                                      bias_scale ? Quantization::per_tensor(0.001f, 0) : Quantization{});
  std::vector<int32_t> out_shape = {1, 4, 4, w_shape[0]};
  const int32_t y = b.add_tensor("y", TensorType::kInt8, out_shape, Quantization::per_tensor(0.1f, 0));
  b.add_operator(BuiltinOp::kConv2D, {x, w, bias}, {y}, lite::Conv2DOptions{});
  b.set_inputs({x});
  b.set_outputs({y});
  return b.build();
}

TEST(RuntimeErrors, WrongRankIsNamed) {
  expect_error(conv_model({1, 4, 4}, {2, 1, 1, 3}), {"operator 0 (CONV_2D)", "input", "rank 4"});
}

TEST(RuntimeErrors, MismatchedChannelsAreNamed) {
  expect_error(conv_model({1, 4, 4, 2}, {2, 1, 1, 3}), {"operator 0 (CONV_2D)", "input channels"});
}

TEST(RuntimeErrors, MissingBiasScaleIsNamed) {
  expect_error(conv_model({1, 4, 4, 3}, {2, 1, 1, 3}, /*bias_scale=*/false),
               {"operator 0 (CONV_2D)", "bias", "no quantization scale"});
}

TEST(RuntimeErrors, WellFormedConvModelRuns) {
  // The same builder with consistent shapes is accepted: the errors above are about the defects.
  auto it = Interpreter::from_model(conv_model({1, 4, 4, 3}, {2, 1, 1, 3}));
  std::fill(it->input_data<int8_t>(0).begin(), it->input_data<int8_t>(0).end(), int8_t{10});
  it->invoke();
  // acc = 3 taps x 1 x 10 = 30; M = 0.1 * 0.01 / 0.1 = 0.01 -> round(0.3) = 0.
  for (int8_t v : it->output_data<int8_t>(0)) EXPECT_EQ(v, 0);
}

TEST(RuntimeErrors, DeclaredShapeDisagreeingWithComputedShapeIsNamed) {
  ModelBuilder b;
  const int32_t x = b.add_tensor("x", TensorType::kFloat32, {1, 4});
  const int32_t w = b.add_constant("w", TensorType::kFloat32, {2, 4}, std::vector<float>(8, 1.0f));
  const int32_t y = b.add_tensor("y", TensorType::kFloat32, {1, 3});
  b.add_operator(BuiltinOp::kFullyConnected, {x, w, -1}, {y}, lite::FullyConnectedOptions{});
  b.set_inputs({x});
  b.set_outputs({y});
  expect_error(b.build(), {"operator 0 (FULLY_CONNECTED)", "(1, 2)", "(1, 3)"});
}

TEST(RuntimeErrors, BadBatchIsRejectedAndTheInterpreterStaysUsable) {
  const CnnSpec s;
  auto it = Interpreter::from_model(float_cnn(s, make_cnn_weights(s)));
  EXPECT_THROW(it->resize_batch(0), Error);
  EXPECT_EQ(it->batch(), 1);
  EXPECT_THROW(it->input_data<int8_t>(0), Error);  // the input is FLOAT32
  it->invoke();
}

TEST(MemoryPlanner, LiveBuffersNeverOverlapAndDeadOnesShare) {
  using runtime::detail::BufferRequest;
  Rng rng(3);
  std::vector<BufferRequest> req;
  for (int i = 0; i < 60; ++i) {
    const int first = static_cast<int>(rng.below(20));
    req.push_back({1 + rng.below(5000), first, first + static_cast<int>(rng.below(5))});
  }
  const auto plan = runtime::detail::plan_arena(req, 64);
  size_t sum = 0;
  for (size_t i = 0; i < req.size(); ++i) {
    EXPECT_EQ(plan.offsets[i] % 64, 0u);
    EXPECT_LE(plan.offsets[i] + req[i].bytes, plan.total);
    sum += req[i].bytes;
    for (size_t j = 0; j < i; ++j) {
      const bool live_together = req[i].first <= req[j].last && req[j].first <= req[i].last;
      const bool overlap = plan.offsets[i] < plan.offsets[j] + req[j].bytes && plan.offsets[j] < plan.offsets[i] + req[i].bytes;
      EXPECT_FALSE(live_together && overlap) << i << " " << j;
    }
  }
  EXPECT_LT(plan.total, sum);  // reuse happened
}

}  // namespace
}  // namespace qlite::test
