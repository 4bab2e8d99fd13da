// The builtin-op name table: every code of TFLite's schema BuiltinOperator
// prints by its TFLite name, names map back to codes, codes beyond the table
// print as BUILTIN_<n>; and the options rules name unparsed options tables.
#include <gtest/gtest.h>

#include <fstream>
#include <regex>
#include <set>
#include <sstream>

#include "lite/op_format.h"
#include "qlite/lite.h"

namespace qlite::lite {
namespace {

TEST(LiteOpNames, CodesHaveTheSchemaValues) {
  // Values from the public schema.fbs (enum BuiltinOperator).
  const std::pair<int32_t, const char*> known[] = {
      {0, "ADD"},           {3, "CONV_2D"},      {39, "TRANSPOSE"},  {44, "UNIDIRECTIONAL_SEQUENCE_LSTM"},
      {53, "CAST"},         {60, "PADV2"},       {107, "GATHER_ND"}, {117, "HARD_SWISH"},
      {126, "BATCH_MATMUL"}, {127, "PLACEHOLDER_FOR_GREATER_OP_CODES"}, {150, "GELU"},
      {161, "RIGHT_SHIFT"}, {205, "REDUCE_WINDOW"}};
  for (const auto& [code, name] : known) {
    EXPECT_EQ(builtin_op_name(static_cast<BuiltinOp>(code)), name) << code;
    EXPECT_EQ(builtin_op_from_name(name), static_cast<BuiltinOp>(code)) << name;
  }
  EXPECT_EQ(static_cast<int32_t>(BuiltinOp::kCast), 53);
  EXPECT_EQ(static_cast<int32_t>(BuiltinOp::kUnidirectionalSequenceLstm), 44);
  EXPECT_EQ(static_cast<int32_t>(BuiltinOp::kTranspose), 39);
  EXPECT_EQ(static_cast<int32_t>(BuiltinOp::kGatherNd), 107);
  EXPECT_EQ(static_cast<int32_t>(BuiltinOp::kHardSwish), 117);
  EXPECT_EQ(static_cast<int32_t>(BuiltinOp::kRightShift), 161);
}

TEST(LiteOpNames, EveryCodeRoundTripsAndNamesAreUnique) {
  std::set<std::string> seen;
  for (int32_t c = 0; c < kBuiltinOpNameCount; ++c) {
    const std::string name = builtin_op_name(static_cast<BuiltinOp>(c));
    EXPECT_EQ(name.rfind("BUILTIN_", 0), std::string::npos) << c;
    EXPECT_TRUE(seen.insert(name).second) << name;
    EXPECT_EQ(builtin_op_from_name(name), static_cast<BuiltinOp>(c)) << name;
  }
  EXPECT_GE(kBuiltinOpNameCount, 151);  // at least TFLite 2.9's set (through GELU = 150)
}

TEST(LiteOpNames, CodesBeyondTheTablePrintAsNumbers) {
  EXPECT_EQ(builtin_op_name(static_cast<BuiltinOp>(kBuiltinOpNameCount)),
            "BUILTIN_" + std::to_string(kBuiltinOpNameCount));
  EXPECT_EQ(builtin_op_name(static_cast<BuiltinOp>(1000)), "BUILTIN_1000");
  EXPECT_EQ(builtin_op_from_name("BUILTIN_1000"), std::nullopt);
  EXPECT_EQ(builtin_op_from_name("cast"), std::nullopt);  // names are exact
  EXPECT_EQ(builtin_op_from_name(""), std::nullopt);
}

// The table agrees with the BuiltinOperator enum of qlite's own schema file,
// code by code (that file stops earlier than the public schema).
TEST(LiteOpNames, AgreesWithQliteSchemaFile) {
  std::ifstream f(QLITE_SOURCE_DIR "/src/lite/schema/qlite_tflite.fbs");
  ASSERT_TRUE(f.good());
  std::stringstream ss;
  ss << f.rdbuf();
  const std::string text = ss.str();
  const size_t begin = text.find("enum BuiltinOperator");
  ASSERT_NE(begin, std::string::npos);
  const std::string body = text.substr(begin, text.find('}', begin) - begin);
  const std::regex entry(R"((\w+)\s*=\s*(\d+))");
  int count = 0;
  for (auto it = std::sregex_iterator(body.begin(), body.end(), entry); it != std::sregex_iterator(); ++it) {
    const int code = std::stoi((*it)[2]);
    EXPECT_EQ(builtin_op_name(static_cast<BuiltinOp>(code)), (*it)[1].str()) << code;
    ++count;
  }
  EXPECT_GE(count, 151);
}

TEST(LiteOpNames, InspectAndErrorsUseTheNames) {
  ModelBuilder b;
  const int32_t x = b.add_tensor("x", TensorType::kFloat32, {2, 3});
  const int32_t y = b.add_tensor("y", TensorType::kInt32, {2, 3});
  const int32_t perm = b.add_constant("perm", TensorType::kInt32, {2}, std::vector<int32_t>{1, 0});
  const int32_t z = b.add_tensor("z", TensorType::kInt32, {3, 2});
  b.add_operator(BuiltinOp::kCast, {x}, {y});
  b.add_operator(BuiltinOp::kTranspose, {y, perm}, {z});
  b.set_inputs({x});
  b.set_outputs({z});
  ModelDef m = b.build();
  const std::string text = inspect(read_model(write_model(m)));
  EXPECT_NE(text.find("0 CAST v1"), std::string::npos) << text;
  EXPECT_NE(text.find("1 TRANSPOSE v1"), std::string::npos) << text;
  EXPECT_EQ(text.find("BUILTIN_"), std::string::npos) << text;
  // A validator error names the op by its TFLite name.
  m.subgraphs[0].operators[1].inputs = {y, 99};
  try {
    validate(m);
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("operator 1 (TRANSPOSE)"), std::string::npos) << e.what();
  }
}

TEST(LiteOpNames, InspectNotesAndUnparsedOptionsByName) {
  // Options tables qlite does not parse show the schema's table name.
  EXPECT_EQ(options_rule(OtherOptions{37}).describe(OtherOptions{37}), "CastOptions (not parsed)");
  EXPECT_EQ(options_rule(OtherOptions{26}).describe(OtherOptions{26}), "TransposeOptions (not parsed)");
  EXPECT_EQ(options_rule(OtherOptions{5000}).describe(OtherOptions{5000}), "options(union type 5000, not parsed)");
  // The validator's rule for an op names the options struct it reads.
  ASSERT_NE(op_format(BuiltinOp::kConv2D), nullptr);
  EXPECT_EQ(op_format(BuiltinOp::kConv2D)->options_name(), "Conv2DOptions");
  EXPECT_EQ(op_format(BuiltinOp::kLogistic)->options_name(), "");

  ModelBuilder b;
  const int32_t x = b.add_tensor("x", TensorType::kFloat32, {1, 4});
  const int32_t y = b.add_tensor("y", TensorType::kFloat32, {1, 4});
  b.add_operator(BuiltinOp::kSoftmax, {x}, {y}, SoftmaxOptions{2.0f});
  b.set_inputs({x});
  b.set_outputs({y});
  InspectOptions opt;
  opt.op_note = [](const ModelDef&, size_t sg, const OperatorDef&) { return "note\x1b" + std::to_string(sg); };
  const std::string text = inspect(b.build(), opt);
  EXPECT_NE(text.find("0 SOFTMAX v1 beta=2  [note\\x1B0]"), std::string::npos) << text;
}

}  // namespace
}  // namespace qlite::lite
