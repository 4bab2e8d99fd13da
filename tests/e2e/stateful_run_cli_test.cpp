// `qlite run` on a model with state (a one-op LSTM with variable output and
// cell state, batch 1 in the file): an input file of several samples runs as
// consecutive invokes with the state carried, or reset before each sample
// with --reset-state; both compared with the API doing the same.
#include <gtest/gtest.h>

#include <cstring>
#include <fstream>
#include <vector>

#include "../runtime/lstm_models.h"
#include "cli_helpers.h"
#include "qlite/runtime.h"

namespace qlite::testing {
namespace {

std::vector<uint8_t> read_all(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), {}};
}

TEST(StatefulRunCli, SamplesRunInSequenceWithStateCarriedOrReset) {
  TempDir dir;
  const std::filesystem::path model = dir.path / "lstm.tflite";
  const std::vector<uint8_t> bytes = lite::write_model(test::lstm_model(test::LstmSpec{}));
  std::ofstream(model, std::ios::binary).write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
  auto it = runtime::Interpreter::from_buffer(bytes);
  const size_t sample = it->input_bytes(0).size();
  // Three samples: A, A, B.
  std::vector<uint8_t> input(3 * sample);
  Rng rng(5);
  for (size_t k = 0; k < sample; ++k) input[k] = input[sample + k] = static_cast<uint8_t>(rng.below(256));
  for (size_t k = 2 * sample; k < input.size(); ++k) input[k] = static_cast<uint8_t>(rng.below(256));
  const std::filesystem::path in_path = dir.path / "x.bin";
  std::ofstream(in_path, std::ios::binary).write(reinterpret_cast<const char*>(input.data()), static_cast<std::streamsize>(input.size()));
  for (bool reset : {false, true}) {
    SCOPED_TRACE(reset ? "--reset-state" : "state carried");
    const std::string prefix = (dir.path / (reset ? "r" : "c")).string();
    const CmdResult r = run_qlite("run " + model.string() + " --input " + in_path.string() + " --batch 3 --output " + prefix +
                                  (reset ? " --reset-state" : ""));
    ASSERT_EQ(r.exit_code, 0) << r.output;
    EXPECT_NE(r.output.find("(3, 4, 6)"), std::string::npos) << r.output;
    std::vector<uint8_t> expected;
    it->reset_variables();
    for (int s = 0; s < 3; ++s) {
      if (reset) it->reset_variables();
      std::memcpy(it->input_bytes(0).data(), input.data() + static_cast<size_t>(s) * sample, sample);
      it->invoke();
      const auto out = it->output_bytes(0);
      expected.insert(expected.end(), reinterpret_cast<const uint8_t*>(out.data()),
                      reinterpret_cast<const uint8_t*>(out.data()) + out.size());
    }
    const std::vector<uint8_t> got = read_all(prefix + "0.bin");
    EXPECT_EQ(got, expected);
    const size_t out_sample = got.size() / 3;
    const bool first_two_equal = std::equal(got.begin(), got.begin() + static_cast<std::ptrdiff_t>(out_sample),
                                            got.begin() + static_cast<std::ptrdiff_t>(out_sample));
    EXPECT_EQ(first_two_equal, reset) << "the same sample twice gives the same output only after a reset";
  }
}

// The same with resource variables: a [1, 3] accumulator that a CALL_ONCE
// sets to (1, 2, 3) and each invoke adds its input to. No variable tensor,
// so only Interpreter::has_state() tells qlite run to go sample by sample.
TEST(StatefulRunCli, ResourceVariablesRunInSequence) {
  lite::ModelBuilder b;
  b.add_subgraph("init");
  const int32_t ih = b.add_tensor("h", lite::TensorType::kResource, {});
  const int32_t iv = b.add_constant("initial", lite::TensorType::kFloat32, {1, 3}, std::vector<float>{1, 2, 3});
  b.add_operator(lite::BuiltinOp::kVarHandle, {}, {ih}, lite::VarHandleOptions{"", "acc"});
  b.add_operator(lite::BuiltinOp::kAssignVariable, {ih, iv}, {});
  b.use_subgraph(0);
  const int32_t x = b.add_tensor("x", lite::TensorType::kFloat32, {1, 3});
  const int32_t h = b.add_tensor("h", lite::TensorType::kResource, {});
  const int32_t prev = b.add_tensor("prev", lite::TensorType::kFloat32, {1, 3});
  const int32_t acc = b.add_tensor("acc", lite::TensorType::kFloat32, {1, 3});
  b.add_operator(lite::BuiltinOp::kCallOnce, {}, {}, lite::CallOnceOptions{1});
  b.add_operator(lite::BuiltinOp::kVarHandle, {}, {h}, lite::VarHandleOptions{"", "acc"});
  b.add_operator(lite::BuiltinOp::kReadVariable, {h}, {prev});
  b.add_operator(lite::BuiltinOp::kAdd, {prev, x}, {acc}, lite::AddOptions{});
  b.add_operator(lite::BuiltinOp::kAssignVariable, {h, acc}, {});
  b.set_inputs({x});
  b.set_outputs({acc});
  const std::vector<uint8_t> bytes = b.finish();
  EXPECT_TRUE(runtime::Interpreter::from_buffer(bytes)->has_state());
  EXPECT_EQ(runtime::Interpreter::from_buffer(bytes)->num_variables(), 0u);

  TempDir dir;
  const std::filesystem::path model = dir.path / "acc.tflite", in_path = dir.path / "x.bin";
  std::ofstream(model, std::ios::binary).write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
  const std::vector<float> input = {1, 1, 1, 2, 2, 2, 3, 3, 3};
  std::ofstream(in_path, std::ios::binary).write(reinterpret_cast<const char*>(input.data()), static_cast<std::streamsize>(input.size() * 4));
  for (bool reset : {false, true}) {
    SCOPED_TRACE(reset ? "--reset-state" : "state carried");
    const std::string prefix = (dir.path / (reset ? "r" : "c")).string();
    const CmdResult r = run_qlite("run " + model.string() + " --input " + in_path.string() + " --output " + prefix +
                                  (reset ? " --reset-state" : ""));
    ASSERT_EQ(r.exit_code, 0) << r.output;
    const std::vector<float> expected = reset ? std::vector<float>{2, 3, 4, 3, 4, 5, 4, 5, 6}   // initial + x
                                              : std::vector<float>{2, 3, 4, 4, 5, 6, 7, 8, 9};  // running sums
    const std::vector<uint8_t> got = read_all(prefix + "0.bin");
    ASSERT_EQ(got.size(), expected.size() * 4);
    std::vector<float> values(expected.size());
    std::memcpy(values.data(), got.data(), got.size());
    EXPECT_EQ(values, expected);
  }
}

}  // namespace
}  // namespace qlite::testing
