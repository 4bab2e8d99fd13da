// Interpreter::set_profiling: one entry per executed op, in execution order,
// one sample per invoke, nothing recorded when off, cleared by a re-preparation;
// the ops' times of an invoke fit inside that invoke's wall time.
#include <gtest/gtest.h>

#include <chrono>
#include <set>

#include "qlite/runtime.h"
#include "runtime_models.h"

namespace qlite::test {
namespace {

using runtime::Interpreter;

TEST(Profile, OffByDefaultAndRecordsNothing) {
  auto it = Interpreter::from_model(int8_mobile(3));
  EXPECT_FALSE(it->profiling());
  it->invoke();
  EXPECT_TRUE(it->op_timings().empty());
}

TEST(Profile, EveryExecutedOpOnceWithOneSamplePerInvoke) {
  const lite::ModelDef model = int8_mobile(3);
  auto it = Interpreter::from_model(model);
  it->set_profiling(true);
  EXPECT_TRUE(it->profiling());
  const auto& t = it->op_timings();
  ASSERT_EQ(t.size(), it->num_executed_ops());
  for (int k = 0; k < 5; ++k) {
    const auto w0 = std::chrono::steady_clock::now();
    it->invoke();
    const int64_t wall =
        std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now() - w0).count();
    int64_t sum = 0;
    for (const runtime::OpTiming& op : t) {
      ASSERT_EQ(op.ns.size(), static_cast<size_t>(k + 1));
      EXPECT_GE(op.ns.back(), 0);
      sum += op.ns.back();
    }
    // Each op is timed inside invoke(): the parts cannot exceed the whole.
    EXPECT_LE(sum, wall);
  }
  // Execution order, distinct operators, TFLite names and the prepared shapes.
  std::set<size_t> seen;
  size_t last = 0;
  for (size_t i = 0; i < t.size(); ++i) {
    const runtime::OpTiming& op = t[i];
    ASSERT_LT(op.op_index, model.subgraphs[0].operators.size());
    if (i > 0) {
      EXPECT_GT(op.op_index, last);
    }
    last = op.op_index;
    EXPECT_TRUE(seen.insert(op.op_index).second);
    const lite::OperatorDef& def = model.subgraphs[0].operators[op.op_index];
    EXPECT_EQ(op.op_name, lite::builtin_op_name(model.op_of(def)));
    EXPECT_EQ(op.output_shapes.size(), def.outputs.size());
  }
  EXPECT_EQ(t.front().op_name, "DEPTHWISE_CONV_2D");
  EXPECT_EQ(t.front().input_shapes.at(0), (Shape{1, 6, 6, 4}));
  EXPECT_EQ(t.back().op_name, "FULLY_CONNECTED");
  EXPECT_EQ(t.back().output_shapes.at(0), (Shape{1, 3}));
  // FULLY_CONNECTED's absent bias is left out.
  EXPECT_EQ(t.back().input_shapes.size(), 2u);
}

TEST(Profile, ResizeClearsAndOffStopsRecording) {
  auto it = Interpreter::from_model(int8_mobile(4));
  it->set_profiling(true);
  it->invoke();
  it->resize_batch(3);
  ASSERT_EQ(it->op_timings().size(), it->num_executed_ops());
  for (const auto& op : it->op_timings()) EXPECT_TRUE(op.ns.empty());
  EXPECT_EQ(it->op_timings().front().input_shapes.at(0).at(0), 3);
  it->invoke();
  for (const auto& op : it->op_timings()) EXPECT_EQ(op.ns.size(), 1u);
  it->set_profiling(false);
  EXPECT_TRUE(it->op_timings().empty());
  it->invoke();
  EXPECT_TRUE(it->op_timings().empty());
}

TEST(Profile, ResultsAreTheSameWithProfilingOn) {
  auto a = Interpreter::from_model(int8_mobile(5));
  auto b = Interpreter::from_model(int8_mobile(5));
  b->set_profiling(true);
  Rng rng(9);
  for (auto* it : {a.get(), b.get()}) {
    Rng r(9);
    for (std::byte& x : it->input_bytes(0)) x = static_cast<std::byte>(r.next_u64() & 0xff);
    it->invoke();
  }
  const auto oa = a->output_bytes(0), ob = b->output_bytes(0);
  EXPECT_TRUE(std::equal(oa.begin(), oa.end(), ob.begin(), ob.end()));
}

}  // namespace
}  // namespace qlite::test
