// The runtime's op records (runtime/op_record.h) and what is read from them:
// a model with ops the runtime cannot run fails with ONE error listing every
// such op (name, count, and the types when the op exists but not for them).
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>

#include "qlite/runtime.h"
#include "runtime/op_record.h"
#include "runtime_models.h"

namespace qlite::test {
namespace {

using runtime::Interpreter;

std::string load_error(const lite::ModelDef& m) {
  try {
    Interpreter::from_model(m);
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

TEST(RuntimeOpRecords, EveryRecordIsComplete) {
  const auto records = runtime::detail::op_records();
  ASSERT_GE(records.size(), 18u);
  size_t custom = 0;
  for (const runtime::detail::OpRecord& r : records) {
    EXPECT_NE(r.prepare, nullptr) << r.name;
    EXPECT_EQ(runtime::detail::find_op_record(r.code, r.custom_code), &r);
    if (r.code == BuiltinOp::kCustom) {  // options in a FlexBuffers map, arity checked by prepare
      ++custom;
      EXPECT_EQ(r.name, "CUSTOM '" + std::string(r.custom_code) + "'");
      EXPECT_EQ(r.format, nullptr) << r.name;
      continue;
    }
    EXPECT_EQ(r.name, lite::builtin_op_name(r.code));
    ASSERT_NE(r.format, nullptr) << r.name;
    EXPECT_EQ(r.format->op, r.code) << r.name;
  }
  EXPECT_EQ(custom, 1u);
  EXPECT_EQ(runtime::detail::find_op_record(BuiltinOp::kUnique), nullptr);
  EXPECT_EQ(runtime::detail::find_op_record(BuiltinOp::kCustom), nullptr);  // a custom op is found by its name
  EXPECT_EQ(runtime::detail::find_op_record(BuiltinOp::kCustom, "TFLite_Detection_PostProcess"),
            &records.back());
  const runtime::detail::OpRecord* conv = runtime::detail::find_op_record(BuiltinOp::kConv2D);
  ASSERT_NE(conv, nullptr);
  EXPECT_EQ(conv->format->options_name(), "Conv2DOptions");
  EXPECT_TRUE(conv->accepts(TensorType::kInt8, TensorType::kInt8));
  EXPECT_TRUE(conv->accepts(TensorType::kUInt8, TensorType::kUInt8));  // TF1-era uint8 models
  EXPECT_TRUE(conv->accepts(TensorType::kInt16, TensorType::kInt16));  // 16x8
  EXPECT_FALSE(conv->accepts(TensorType::kInt32, TensorType::kInt32));
  const std::vector<std::string> listed = runtime::supported_ops();
  EXPECT_NE(std::find(listed.begin(), listed.end(), "CONV_2D: float32 -> float32, int8 -> int8, uint8 -> uint8, int16 -> int16"),
            listed.end());
  // The data-movement and activation ops of MobileNet-class models.
  for (const char* line : {"PAD: float32 -> float32, int8 -> int8, uint8 -> uint8, int16 -> int16, int32 -> int32, int64 -> int64",
                           "PADV2: float32 -> float32, int8 -> int8, uint8 -> uint8, int16 -> int16, int32 -> int32, int64 -> int64",
                           "TRANSPOSE: any (same in and out)",
                           "LOGISTIC: float32 -> float32, int8 -> int8, uint8 -> uint8, int16 -> int16",
                           "TANH: float32 -> float32, int8 -> int8, uint8 -> uint8, int16 -> int16",
                           "HARD_SWISH: float32 -> float32, int8 -> int8, uint8 -> uint8"})
    EXPECT_NE(std::find(listed.begin(), listed.end(), line), listed.end()) << line;
  EXPECT_NE(std::find(listed.begin(), listed.end(),
                      "CUSTOM 'TFLite_Detection_PostProcess': float32 -> float32, uint8 -> float32"),
            listed.end());
  const runtime::detail::OpRecord* transpose = runtime::detail::find_op_record(BuiltinOp::kTranspose);
  ASSERT_NE(transpose, nullptr);
  EXPECT_EQ(transpose->format->options_name(), "TransposeOptions");
  EXPECT_TRUE(transpose->accepts(TensorType::kInt32, TensorType::kInt32));
  EXPECT_FALSE(transpose->accepts(TensorType::kInt8, TensorType::kUInt8));
}

// UNIQUE, REVERSE_SEQUENCE (twice) and an int16 DEPTHWISE_CONV_2D in one graph: one error names them all.
lite::ModelDef unsupported_model() {
  ModelBuilder b;
  const int32_t x = b.add_tensor("x", TensorType::kFloat32, {2, 3});
  const int32_t multiples = b.add_constant("multiples", TensorType::kInt32, {2}, std::vector<int32_t>{1, 1});
  const int32_t a = b.add_tensor("a", TensorType::kInt32, {2, 3});
  const int32_t t = b.add_tensor("t", TensorType::kInt32, {2, 3});
  const int32_t c = b.add_tensor("c", TensorType::kFloat32, {2, 3});
  const int32_t y = b.add_tensor("y", TensorType::kFloat32, {2, 3});
  b.add_operator(BuiltinOp::kUnique, {x}, {a});
  b.add_operator(BuiltinOp::kReverseSequence, {a, multiples}, {t});
  const int32_t u = b.add_tensor("u", TensorType::kInt16, {1, 2, 2, 1}, Quantization::per_tensor(0.5f, 0));
  // TILE of int16: refused by TFLite 2.9 too (the type audit).
  const int32_t m4 = b.add_constant("m4", TensorType::kInt32, {4}, std::vector<int32_t>{1, 1, 1, 1});
  const int32_t v = b.add_tensor("v", TensorType::kInt16, {1, 2, 2, 1}, Quantization::per_tensor(0.5f, 0));
  b.add_operator(BuiltinOp::kTile, {u, m4}, {v});
  b.add_operator(BuiltinOp::kUnique, {t}, {c});
  b.add_operator(BuiltinOp::kReverseSequence, {c, multiples}, {y});
  b.set_inputs({x, u});
  b.set_outputs({y, v});
  return b.build();
}

TEST(RuntimeOpRecords, AllUnsupportedOpsInOneError) {
  const lite::ModelDef m = unsupported_model();
  const std::vector<runtime::UnsupportedOp> ops = runtime::unsupported_ops(m);
  ASSERT_EQ(ops.size(), 3u);
  EXPECT_EQ(ops[0].what, "UNIQUE");
  EXPECT_EQ(ops[0].operators, (std::vector<size_t>{0, 3}));
  EXPECT_EQ(ops[1].what, "REVERSE_SEQUENCE");
  EXPECT_EQ(ops[1].operators, (std::vector<size_t>{1, 4}));
  EXPECT_EQ(ops[2].what, "TILE with int16 input");
  EXPECT_EQ(ops[2].operators, (std::vector<size_t>{2}));

  const std::string e = load_error(m);
  EXPECT_EQ(e,
            "runtime: operators not supported by the qlite runtime: UNIQUE x2 (operators 0, 3); "
            "REVERSE_SEQUENCE x2 (operators 1, 4); TILE with int16 input x1 (operator 2)");
  // The same through the file bytes.
  try {
    Interpreter::from_buffer(lite::write_model(m));
    FAIL() << "no error";
  } catch (const Error& err) {
    EXPECT_EQ(std::string(err.what()), e);
  }
}

TEST(RuntimeOpRecords, TypeMismatchNamesInputAndOutput) {
  // QUANTIZE runs int16 -> int8 but not int8 -> int16 (TFLite 2.9 neither).
  ModelBuilder b;
  const int32_t x = b.add_tensor("x", TensorType::kInt8, {1, 4}, Quantization::per_tensor(0.1f, 0));
  const int32_t y = b.add_tensor("y", TensorType::kInt16, {1, 4}, Quantization::per_tensor(0.1f, 0));
  b.add_operator(BuiltinOp::kQuantize, {x}, {y});
  b.set_inputs({x});
  b.set_outputs({y});
  EXPECT_EQ(load_error(b.build()),
            "runtime: operators not supported by the qlite runtime: QUANTIZE with int8 input and int16 output x1 "
            "(operator 0)");
}

TEST(RuntimeOpRecords, CustomOpsAreNamedAndLongListsShortened) {
  ModelBuilder b;
  int32_t prev = b.add_tensor("x", TensorType::kFloat32, {1, 4});
  b.set_inputs({prev});
  for (int i = 0; i < 7; ++i) {
    const int32_t next = b.add_tensor("t" + std::to_string(i), TensorType::kFloat32, {1, 4});
    b.add_operator(BuiltinOp::kSkipGram, {prev}, {next});
    prev = next;
  }
  const int32_t y = b.add_tensor("y", TensorType::kFloat32, {1, 4});
  b.add_operator(BuiltinOp::kCustom, {prev}, {y});
  b.set_outputs({y});
  for (lite::OperatorCodeDef& c : b.model().operator_codes)
    if (c.builtin == BuiltinOp::kCustom) c.custom_code = "MyOp";
  EXPECT_EQ(load_error(b.build()),
            "runtime: operators not supported by the qlite runtime: SKIP_GRAM x7 (operators 0, 1, 2, 3, 4, ...); "
            "CUSTOM 'MyOp' x1 (operator 7)");
}

// The real third-party files in ../shared/models (not part of the repository;
// QLITE_MODELS_DIR overrides the place): skipped when absent.
std::string shared_model(const std::string& name) {
  const char* env = std::getenv("QLITE_MODELS_DIR");
  const std::string dir = env != nullptr ? env : QLITE_SHARED_MODELS_DIR;
  const std::string path = dir + "/" + name;
  return std::filesystem::is_regular_file(path) ? path : "";
}

std::string file_error(const std::string& path) {
  try {
    Interpreter::from_file(path);
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

TEST(RuntimeOpRecords, RealFilesListEveryUnsupportedOp) {
  const std::string v2 = shared_model("mobilenet_v2_quantized_1x3x224x224.tflite");
  const std::string v1 = shared_model("mobilenet_v1_0.25_128_quant.tflite");
  const std::string lstm = shared_model("trained_lstm_int8.tflite");
  const std::string speech = shared_model("micro_speech_quantized.tflite");
  if (v2.empty() && v1.empty() && lstm.empty() && speech.empty())
    GTEST_SKIP() << "no models in " << QLITE_SHARED_MODELS_DIR << " (set QLITE_MODELS_DIR)";
  if (!v2.empty()) {  // TRANSPOSE and 18 PADs run now: the whole model loads
    // (tflite_shape_ops_test.cpp compares its outputs with TFLite 2.9).
    EXPECT_EQ(file_error(v2), "");
  }
  if (!v1.empty()) {  // TF1 uint8 quantization runs now: the whole model loads
    // (shared_models_tflite_test.cpp compares its outputs with TFLite 2.9).
    EXPECT_EQ(file_error(v1), "");
  }
  if (!lstm.empty()) {  // UNIDIRECTIONAL_SEQUENCE_LSTM with variable state runs now
    // (shared_models_tflite_test.cpp compares it with TFLite 2.9 over invokes).
    EXPECT_EQ(file_error(lstm), "");
  }
  if (!speech.empty()) {
    EXPECT_EQ(file_error(speech), "");
  }
}

}  // namespace
}  // namespace qlite::test
