// Broken inputs: every one must end in qlite::Error (or, for random damage that
// happens to keep the file valid, a model that validates) and never in a crash,
// a foreign exception type or a sanitizer report. Deliberately broken models
// are written with WriteOptions{.validate = false}.
#include <gtest/gtest.h>

#include <cstring>
#include <functional>

#include "qlite/lite.h"
#include "sample_models.h"

namespace qlite::lite {
namespace {

test::Int8FcParams params() {
  test::Int8FcParams p;
  p.weights = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12};
  p.bias = {1, 2, 3};
  return p;
}

ModelDef good_model() { return test::int8_fc_model(params(), true); }

// Reads bytes; returns "" on success or the Error message. Any other exception fails the test.
std::string read_error(std::span<const uint8_t> bytes) {
  try {
    const ModelDef m = read_model(bytes);
    (void)inspect(m);  // a model that validates must also be printable and writable
    (void)write_model(m);
    return "";
  } catch (const Error& e) {
    return e.what();
  }
}

std::string error_of(const ModelDef& m) {
  return read_error(write_model(m, WriteOptions{.validate = false}));
}

void expect_error(const ModelDef& m, std::initializer_list<const char*> parts) {
  const std::string msg = error_of(m);
  ASSERT_FALSE(msg.empty()) << "the broken model was accepted";
  for (const char* part : parts)
    EXPECT_NE(msg.find(part), std::string::npos) << "'" << part << "' not in: " << msg;
  // The writer runs the same validation and refuses the model too.
  EXPECT_THROW(write_model(m), Error);
}

TEST(LiteCorrupt, TruncatedAtEveryLength) {
  const std::vector<uint8_t> bytes = write_model(good_model());
  const std::vector<uint8_t> whole = write_model(read_model(bytes));
  int errors = 0, harmless = 0;
  for (size_t n = 0; n < bytes.size(); ++n) {
    const std::string msg = read_error(std::span<const uint8_t>(bytes.data(), n));
    if (!msg.empty()) {
      ++errors;
      continue;
    }
    // Only the alignment padding behind the first 16-byte-aligned constant
    // (the file's last bytes: a flatbuffer is written back to front) may go
    // without loss, and then the model read is the whole model.
    ++harmless;
    EXPECT_GE(n + 15, bytes.size()) << "truncated to " << n << " of " << bytes.size() << " bytes and accepted";
    EXPECT_EQ(write_model(read_model(std::span<const uint8_t>(bytes.data(), n))), whole) << "truncated to " << n;
  }
  EXPECT_EQ(errors + harmless, static_cast<int>(bytes.size()));
  EXPECT_GT(errors, static_cast<int>(bytes.size()) - 16);
}

TEST(LiteCorrupt, RandomBitFlipsNeverCrash) {
  const std::vector<uint8_t> bytes = write_model(good_model());
  Rng rng(1234);
  int errors = 0;
  const int kTrials = 3000;
  for (int trial = 0; trial < kTrials; ++trial) {
    std::vector<uint8_t> damaged = bytes;
    const int flips = 1 + static_cast<int>(rng.below(4));
    for (int f = 0; f < flips; ++f)
      damaged[rng.below(damaged.size())] ^= static_cast<uint8_t>(1u << rng.below(8));
    errors += !read_error(damaged).empty();
  }
  // Most flips land in data (weights, names, padding) and leave a valid model;
  // the rest must be clean errors. Both outcomes occur.
  EXPECT_GT(errors, 0);
  EXPECT_LT(errors, kTrials);
}

TEST(LiteCorrupt, RandomBytesAfterAValidHeader) {
  Rng rng(99);
  for (int trial = 0; trial < 500; ++trial) {
    std::vector<uint8_t> junk(8 + rng.below(256));
    for (auto& c : junk) c = static_cast<uint8_t>(rng.below(256));
    junk[0] = static_cast<uint8_t>(rng.below(junk.size()));
    junk[1] = junk[2] = junk[3] = 0;
    std::memcpy(junk.data() + 4, "TFL3", 4);
    (void)read_error(junk);
  }
}

TEST(LiteCorrupt, WrongIdentifierAndTinyFiles) {
  std::vector<uint8_t> bytes = write_model(good_model());
  bytes[4] = 'X';
  EXPECT_NE(read_error(bytes).find("identifier is 'XFL3', expected 'TFL3'"), std::string::npos)
      << read_error(bytes);
  EXPECT_NE(read_error({}).find("too few"), std::string::npos);
  const uint8_t four[4] = {4, 0, 0, 0};
  EXPECT_NE(read_error(four).find("too few"), std::string::npos);
}

TEST(LiteCorrupt, OperatorTensorIndexOutOfRange) {
  ModelDef m = good_model();
  m.subgraphs[0].operators[0].inputs[1] = 99;
  expect_error(m, {"subgraph 0 operator 0 (FULLY_CONNECTED)", "input 1", "tensor 99 of 5"});
  m = good_model();
  m.subgraphs[0].operators[1].outputs[0] = -1;
  expect_error(m, {"operator 1 (RESHAPE)", "output 0 refers to tensor -1"});
  m = good_model();
  m.subgraphs[0].operators[0].inputs[0] = -1;  // -1 is only for optional inputs
  expect_error(m, {"operator 0 (FULLY_CONNECTED)", "required input 0 is missing"});
  m = good_model();
  m.subgraphs[0].outputs = {7};
  expect_error(m, {"subgraph 0 output refers to tensor 7"});
  m = good_model();
  m.subgraphs[0].inputs = {-2};
  expect_error(m, {"subgraph 0 input refers to tensor -2"});
  m = good_model();
  m.signature_defs[0].outputs[0].tensor_index = 50;
  expect_error(m, {"signature 'serving_default' entry 'y' refers to tensor 50"});
}

TEST(LiteCorrupt, BufferIndexAndSize) {
  ModelDef m = good_model();
  m.subgraphs[0].tensors[1].buffer = 77;
  expect_error(m, {"subgraph 0 tensor 1 'fc/kernel'", "buffer index 77 out of range"});
  m = good_model();
  m.buffers[m.subgraphs[0].tensors[1].buffer].pop_back();
  expect_error(m, {"tensor 1 'fc/kernel'", "holds 11 bytes", "needs 12"});
  m = good_model();
  m.subgraphs[0].tensors[2].shape = {4};  // bias buffer holds 3 int32
  expect_error(m, {"tensor 2 'fc/bias'", "holds 12 bytes", "needs 16"});
  m = good_model();
  m.buffers[0] = {1, 2, 3};
  expect_error(m, {"buffer 0 must exist and be the empty sentinel"});
  m = good_model();
  m.metadata[0].buffer = 1000;
  expect_error(m, {"metadata 'qlite_producer' buffer 1000 out of range"});
}

TEST(LiteCorrupt, BadShapes) {
  ModelDef m = good_model();
  m.subgraphs[0].tensors[3].shape = {1 << 20, 1 << 20, 1 << 20};
  m.subgraphs[0].tensors[3].shape_signature.clear();
  expect_error(m, {"tensor 3 'fc/out'", "more than 2^40 elements"});
  m = good_model();
  m.subgraphs[0].tensors[0].shape = {-1, 4};
  expect_error(m, {"tensor 0 'x'", "negative dimension"});
  m = good_model();
  m.subgraphs[0].tensors[0].shape_signature = {-2, 4};
  expect_error(m, {"tensor 0 'x'", "shape_signature [-2, 4] disagrees"});
  m = good_model();
  m.subgraphs[0].tensors[0].shape_signature = {-1, 4, 1};
  expect_error(m, {"tensor 0 'x'", "another rank"});
}

TEST(LiteCorrupt, BadQuantization) {
  ModelDef m = good_model();
  m.subgraphs[0].tensors[0].quantization.scale = {0.1f, 0.2f};
  expect_error(m, {"tensor 0 'x'", "2 scales but 1 zero points"});
  m = good_model();
  m.subgraphs[0].tensors[1].quantization = Quantization::per_axis({0.1f, 0.2f}, {0, 0}, 0);
  expect_error(m, {"tensor 1 'fc/kernel'", "2 per-channel scales for dimension 0 of size 3"});
  m = good_model();
  m.subgraphs[0].tensors[1].quantization = Quantization::per_axis({0.1f, 0.2f, 0.3f}, {0, 0, 0}, 2);
  expect_error(m, {"tensor 1 'fc/kernel'", "quantized_dimension 2 outside shape [3, 4]"});
  m = good_model();
  m.subgraphs[0].tensors[0].quantization.scale = {0.0f};
  expect_error(m, {"tensor 0 'x'", "scale[0]", "not a finite positive number"});
  m = good_model();
  m.subgraphs[0].tensors[0].quantization.zero_point = {200};
  expect_error(m, {"tensor 0 'x'", "zero_point[0] = 200 outside the range of INT8"});
}

TEST(LiteCorrupt, BadOperators) {
  ModelDef m = good_model();
  m.subgraphs[0].operators[0].opcode_index = 9;
  expect_error(m, {"subgraph 0 operator 0 (opcode 9)", "opcode index out of range"});
  m = good_model();
  m.subgraphs[0].operators[0].inputs = {0};
  expect_error(m, {"operator 0 (FULLY_CONNECTED)", "has 1 inputs, expected 2 to 3"});
  m = good_model();
  m.subgraphs[0].operators[1].outputs = {4, 3};
  expect_error(m, {"operator 1 (RESHAPE)", "has 2 outputs, expected 1"});
  m = good_model();
  m.subgraphs[0].operators[0].options = Pool2DOptions{};
  expect_error(m, {"operator 0 (FULLY_CONNECTED)", "options of another op"});
  m = good_model();
  m.subgraphs[0].operators[0].options = FullyConnectedOptions{static_cast<Activation>(42)};
  expect_error(m, {"operator 0 (FULLY_CONNECTED)", "unknown fused activation 42"});
  m = good_model();
  m.subgraphs[0].operators[1].options = ReshapeOptions{{-1, -1}};
  expect_error(m, {"operator 1 (RESHAPE)", "more than one -1"});
  m = good_model();
  std::swap(m.subgraphs[0].operators[0], m.subgraphs[0].operators[1]);
  expect_error(m, {"operator 0 (RESHAPE)", "reads subgraph 0 tensor 3 'fc/out' before"});
  m = good_model();
  m.subgraphs[0].operators[1].outputs = {1};  // overwrite the weights
  expect_error(m, {"operator 1 (RESHAPE)", "writes subgraph 0 tensor 1 'fc/kernel'"});
  m = good_model();
  m.operator_codes[0].version = 0;
  expect_error(m, {"operator code 0 (FULLY_CONNECTED) has version 0"});
  m = good_model();
  m.version = 2;
  expect_error(m, {"schema version 2, expected 3"});
}

TEST(LiteCorrupt, ConvolutionOptionsAreRequiredAndChecked) {
  ModelBuilder b;
  const int32_t x = b.add_tensor("x", TensorType::kFloat32, {1, 4, 4, 1});
  const int32_t k = b.add_constant("k", TensorType::kFloat32, {1, 2, 2, 1}, std::vector<float>(4, 1));
  const int32_t y = b.add_tensor("y", TensorType::kFloat32, {1, 3, 3, 1});
  b.add_operator(BuiltinOp::kConv2D, {x, k}, {y}, Conv2DOptions{Padding::kValid, 0, 1});
  b.set_inputs({x});
  b.set_outputs({y});
  EXPECT_THROW(b.build(), Error);
  ModelDef m = b.model();
  m.signature_defs.clear();
  expect_error(m, {"operator 0 (CONV_2D)", "stride_w = 0 must be >= 1"});
  m.subgraphs[0].operators[0].options = std::monostate{};
  expect_error(m, {"operator 0 (CONV_2D)", "builtin options are missing"});
}

}  // namespace
}  // namespace qlite::lite
