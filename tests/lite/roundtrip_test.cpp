// Writer -> reader round trips, checked field by field against the values the
// test put in, and the binary layout checked by a hand-written walker that
// follows the public TFLite schema's field numbering.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <filesystem>

#include "fb_walker.h"
#include "qlite/lite.h"
#include "sample_models.h"

namespace qlite::lite {
namespace {

using test::FbWalker;

std::vector<uint8_t> bytes_of(const std::vector<float>& v) {
  std::vector<uint8_t> out(v.size() * 4);
  std::memcpy(out.data(), v.data(), out.size());
  return out;
}

test::Int8FcParams small_int8_params() {
  test::Int8FcParams p;
  p.weights = {127, -127, 3, 0, 10, 20, -30, 40, -1, -2, -3, -4};
  p.bias = {100, -200, 0};
  p.activation = Activation::kRelu;
  return p;
}

TEST(LiteRoundTrip, Int8FullyConnectedAndReshapeEveryField) {
  const test::Int8FcParams p = small_int8_params();
  const std::vector<uint8_t> bytes = write_model(test::int8_fc_model(p, /*with_reshape=*/true));
  ASSERT_GE(bytes.size(), 8u);
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(bytes.data()) + 4, 4), "TFL3");

  const ModelDef m = read_model(bytes);
  EXPECT_EQ(m.version, 3u);
  ASSERT_EQ(m.operator_codes.size(), 2u);
  EXPECT_EQ(m.operator_codes[0].builtin, BuiltinOp::kFullyConnected);
  EXPECT_EQ(m.operator_codes[0].version, 4);
  EXPECT_EQ(m.operator_codes[1].builtin, BuiltinOp::kReshape);
  EXPECT_EQ(m.operator_codes[1].version, 1);

  ASSERT_EQ(m.subgraphs.size(), 1u);
  const SubGraphDef& g = m.subgraphs[0];
  EXPECT_EQ(g.name, "");  // ModelBuilder leaves it unnamed; a set name round-trips (below)
  ASSERT_EQ(g.tensors.size(), 5u);
  EXPECT_EQ(g.inputs, std::vector<int32_t>{0});
  EXPECT_EQ(g.outputs, std::vector<int32_t>{4});

  const TensorDef& x = g.tensors[0];
  EXPECT_EQ(x.name, "x");
  EXPECT_EQ(x.type, TensorType::kInt8);
  EXPECT_EQ(x.shape, (std::vector<int32_t>{1, 4}));
  EXPECT_EQ(x.shape_signature, (std::vector<int32_t>{-1, 4}));
  EXPECT_EQ(x.buffer, 0u);
  EXPECT_EQ(x.quantization.scale, std::vector<float>{0.05f});
  EXPECT_EQ(x.quantization.zero_point, std::vector<int64_t>{-3});

  const TensorDef& w = g.tensors[1];
  EXPECT_EQ(w.name, "fc/kernel");
  EXPECT_EQ(w.shape, (std::vector<int32_t>{3, 4}));
  EXPECT_TRUE(w.shape_signature.empty());
  EXPECT_EQ(w.quantization.scale, std::vector<float>{0.02f});
  EXPECT_EQ(w.quantization.zero_point, std::vector<int64_t>{0});
  const auto wdata = m.data_of(w);
  ASSERT_EQ(wdata.size(), 12u);
  for (size_t i = 0; i < 12; ++i) EXPECT_EQ(static_cast<int8_t>(wdata[i]), p.weights[i]) << i;

  const TensorDef& b = g.tensors[2];
  EXPECT_EQ(b.type, TensorType::kInt32);
  EXPECT_EQ(b.quantization.scale, std::vector<float>{0.05f * 0.02f});
  const auto bdata = m.data_of(b);
  ASSERT_EQ(bdata.size(), 12u);
  int32_t bias[3];
  std::memcpy(bias, bdata.data(), 12);
  EXPECT_EQ(bias[0], 100);
  EXPECT_EQ(bias[1], -200);
  EXPECT_EQ(bias[2], 0);

  EXPECT_EQ(g.tensors[3].name, "fc/out");
  EXPECT_EQ(g.tensors[3].quantization.zero_point, std::vector<int64_t>{5});
  EXPECT_EQ(g.tensors[4].shape, (std::vector<int32_t>{1, 3, 1}));
  EXPECT_EQ(g.tensors[4].shape_signature, (std::vector<int32_t>{-1, 3, 1}));

  ASSERT_EQ(g.operators.size(), 2u);
  EXPECT_EQ(g.operators[0].opcode_index, 0u);
  EXPECT_EQ(g.operators[0].inputs, (std::vector<int32_t>{0, 1, 2}));
  EXPECT_EQ(g.operators[0].outputs, std::vector<int32_t>{3});
  const auto* fc = std::get_if<FullyConnectedOptions>(&g.operators[0].options);
  ASSERT_NE(fc, nullptr);
  EXPECT_EQ(fc->activation, Activation::kRelu);
  EXPECT_FALSE(fc->keep_num_dims);
  EXPECT_EQ(g.operators[1].opcode_index, 1u);
  const auto* rs = std::get_if<ReshapeOptions>(&g.operators[1].options);
  ASSERT_NE(rs, nullptr);
  EXPECT_EQ(rs->new_shape, (std::vector<int32_t>{-1, 3, 1}));

  ASSERT_EQ(m.signature_defs.size(), 1u);
  EXPECT_EQ(m.signature_defs[0].key, "serving_default");
  EXPECT_EQ(m.signature_defs[0].subgraph_index, 0u);
  ASSERT_EQ(m.signature_defs[0].inputs.size(), 1u);
  EXPECT_EQ(m.signature_defs[0].inputs[0].name, "x");
  EXPECT_EQ(m.signature_defs[0].inputs[0].tensor_index, 0u);
  ASSERT_EQ(m.signature_defs[0].outputs.size(), 1u);
  EXPECT_EQ(m.signature_defs[0].outputs[0].name, "y");
  EXPECT_EQ(m.signature_defs[0].outputs[0].tensor_index, 4u);

  const auto producer = m.metadata_bytes(kProducerMetadataName);
  EXPECT_EQ(std::string(producer.begin(), producer.end()), "qlite");
  EXPECT_TRUE(m.buffers[0].empty());

  // The whole struct survives too, and writing it again gives the same bytes.
  EXPECT_EQ(m, test::int8_fc_model(p, true));
  EXPECT_EQ(write_model(m), bytes);
}

TEST(LiteRoundTrip, FloatModelAndAllOptionKinds) {
  ModelDef m = test::float_fc_reshape_model();
  EXPECT_EQ(m.description, "float FC + RESHAPE");
  m.subgraphs[0].name = "main";
  const ModelDef back = read_model(write_model(m));
  EXPECT_EQ(back, m);
  EXPECT_EQ(back.description, "float FC + RESHAPE");
  const auto wdata = back.data_of(back.subgraphs[0].tensors[1]);
  EXPECT_EQ(std::vector<uint8_t>(wdata.begin(), wdata.end()), bytes_of(test::kFloatWeights));

  // Every options struct qlite writes, with non-default values, on a chain of
  // ops over one NHWC tensor, so each table's fields are written and read back.
  ModelBuilder b;
  const int32_t x = b.add_tensor("x", TensorType::kFloat32, {1, 8, 8, 2});
  const int32_t k = b.add_constant("k", TensorType::kFloat32, {2, 3, 3, 2},
                                   std::vector<float>(36, 0.5f));
  const int32_t dk = b.add_constant("dk", TensorType::kFloat32, {1, 3, 3, 2},
                                    std::vector<float>(18, 0.25f));
  const int32_t c1 = b.add_tensor("c1", TensorType::kFloat32, {1, 4, 4, 2});
  const int32_t c2 = b.add_tensor("c2", TensorType::kFloat32, {1, 4, 4, 2});
  const int32_t p1 = b.add_tensor("p1", TensorType::kFloat32, {1, 2, 2, 2});
  const int32_t p2 = b.add_tensor("p2", TensorType::kFloat32, {1, 2, 2, 2});
  const int32_t a1 = b.add_tensor("a1", TensorType::kFloat32, {1, 2, 2, 2});
  const int32_t cat = b.add_tensor("cat", TensorType::kFloat32, {1, 2, 2, 4});
  const int32_t axes = b.add_constant("axes", TensorType::kInt32, {2}, std::vector<int32_t>{1, 2});
  const int32_t mean = b.add_tensor("mean", TensorType::kFloat32, {1, 1, 1, 4});
  const int32_t sq = b.add_tensor("sq", TensorType::kFloat32, {1, 4});
  const int32_t sm = b.add_tensor("sm", TensorType::kFloat32, {1, 4});
  const int32_t q = b.add_tensor("q", TensorType::kInt8, {1, 4}, Quantization::per_tensor(1.0f / 256, -128));
  const int32_t dq = b.add_tensor("dq", TensorType::kFloat32, {1, 4});
  const int32_t pads = b.add_constant("pads", TensorType::kInt32, {2, 2}, std::vector<int32_t>{0, 0, 1, 1});
  const int32_t padded = b.add_tensor("padded", TensorType::kFloat32, {1, 6});
  const int32_t mul = b.add_tensor("mul", TensorType::kFloat32, {1, 6});
  const int32_t sub = b.add_tensor("sub", TensorType::kFloat32, {1, 6});
  const int32_t r6 = b.add_tensor("r6", TensorType::kFloat32, {1, 6});
  b.add_operator(BuiltinOp::kConv2D, {x, k, -1}, {c1},
                 Conv2DOptions{Padding::kValid, 2, 3, Activation::kRelu6, 1, 2});
  b.add_operator(BuiltinOp::kDepthwiseConv2D, {c1, dk, -1}, {c2},
                 DepthwiseConv2DOptions{Padding::kSame, 1, 1, 1, Activation::kRelu, 2, 1});
  b.add_operator(BuiltinOp::kMaxPool2D, {c2}, {p1},
                 Pool2DOptions{Padding::kSame, 2, 2, 3, 2, Activation::kLinear});
  b.add_operator(BuiltinOp::kAveragePool2D, {c2}, {p2},
                 Pool2DOptions{Padding::kValid, 2, 1, 2, 4, Activation::kRelu6});
  b.add_operator(BuiltinOp::kAdd, {p1, p2}, {a1}, AddOptions{Activation::kRelu});
  b.add_operator(BuiltinOp::kConcatenation, {a1, p2}, {cat},
                 ConcatenationOptions{-1, Activation::kLinear});
  b.add_operator(BuiltinOp::kMean, {cat, axes}, {mean}, ReducerOptions{true});
  b.add_operator(BuiltinOp::kSqueeze, {mean}, {sq}, SqueezeOptions{{1, 2}});
  b.add_operator(BuiltinOp::kSoftmax, {sq}, {sm}, SoftmaxOptions{0.5f});
  b.add_operator(BuiltinOp::kQuantize, {sm}, {q}, QuantizeOptions{});
  b.add_operator(BuiltinOp::kDequantize, {q}, {dq}, DequantizeOptions{});
  b.add_operator(BuiltinOp::kPad, {dq, pads}, {padded}, PadOptions{});
  b.add_operator(BuiltinOp::kMul, {padded, padded}, {mul}, MulOptions{Activation::kReluN1To1});
  b.add_operator(BuiltinOp::kSub, {mul, padded}, {sub}, SubOptions{Activation::kTanh});
  b.add_operator(BuiltinOp::kRelu6, {sub}, {r6});
  b.set_inputs({x});
  b.set_outputs({r6});
  const ModelDef all = b.build();
  const ModelDef all_back = read_model(write_model(all));
  EXPECT_EQ(all_back, all);
  const auto& ops = all_back.subgraphs[0].operators;
  ASSERT_EQ(ops.size(), 15u);
  EXPECT_EQ(std::get<Conv2DOptions>(ops[0].options),
            (Conv2DOptions{Padding::kValid, 2, 3, Activation::kRelu6, 1, 2}));
  EXPECT_EQ(std::get<DepthwiseConv2DOptions>(ops[1].options).dilation_w, 2);
  EXPECT_EQ(std::get<Pool2DOptions>(ops[3].options).filter_h, 4);
  EXPECT_EQ(std::get<ConcatenationOptions>(ops[5].options).axis, -1);
  EXPECT_TRUE(std::get<ReducerOptions>(ops[6].options).keep_dims);
  EXPECT_EQ(std::get<SoftmaxOptions>(ops[8].options).beta, 0.5f);
  EXPECT_EQ(std::get<SubOptions>(ops[13].options).activation, Activation::kTanh);
  EXPECT_TRUE(std::holds_alternative<std::monostate>(ops[14].options));
  EXPECT_EQ(all_back.subgraphs[0].tensors[static_cast<size_t>(q)].quantization.zero_point,
            std::vector<int64_t>{-128});
}

// The empty options tables of PADV2, TRANSPOSE and HARD_SWISH are written and
// read back as themselves (not as an unparsed table the writer would refuse).
TEST(LiteRoundTrip, PadV2TransposeHardSwishOptions) {
  ModelBuilder b;
  const int32_t x = b.add_tensor("x", TensorType::kFloat32, {1, 2, 3});
  const int32_t perm = b.add_constant("perm", TensorType::kInt32, {3}, std::vector<int32_t>{0, 2, 1});
  const int32_t t = b.add_tensor("t", TensorType::kFloat32, {1, 3, 2});
  const int32_t pads = b.add_constant("pads", TensorType::kInt64, {3, 2}, std::vector<int64_t>{0, 0, 1, 0, 0, 1});
  const int32_t value = b.add_constant("value", TensorType::kFloat32, {1}, std::vector<float>{0.5f});
  const int32_t p = b.add_tensor("p", TensorType::kFloat32, {1, 4, 3});
  const int32_t y = b.add_tensor("y", TensorType::kFloat32, {1, 4, 3});
  b.add_operator(BuiltinOp::kTranspose, {x, perm}, {t}, TransposeOptions{});
  b.add_operator(BuiltinOp::kPadV2, {t, pads, value}, {p}, PadV2Options{});
  b.add_operator(BuiltinOp::kHardSwish, {p}, {y}, HardSwishOptions{});
  b.set_inputs({x});
  b.set_outputs({y});
  const ModelDef m = b.build();
  const ModelDef back = read_model(write_model(m));
  EXPECT_EQ(back, m);
  const auto& ops = back.subgraphs[0].operators;
  ASSERT_EQ(ops.size(), 3u);
  EXPECT_TRUE(std::holds_alternative<TransposeOptions>(ops[0].options));
  EXPECT_TRUE(std::holds_alternative<PadV2Options>(ops[1].options));
  EXPECT_TRUE(std::holds_alternative<HardSwishOptions>(ops[2].options));
  // Another op's table on TRANSPOSE is refused by the validator.
  ModelDef wrong = m;
  wrong.subgraphs[0].operators[0].options = HardSwishOptions{};
  EXPECT_THROW(validate(wrong), Error);
}

// Resource variables and CALL_ONCE: RESOURCE tensors, VarHandleOptions,
// CallOnceOptions, the fieldless Read/AssignVariableOptions and a second
// subgraph survive a round trip, and inspect shows the options.
TEST(LiteRoundTrip, ResourceVariablesAndSubgraphs) {
  ModelBuilder b;
  EXPECT_EQ(b.add_subgraph("init"), 1u);
  const int32_t ih = b.add_tensor("h", TensorType::kResource, {});
  const int32_t iv = b.add_constant("v", TensorType::kFloat32, {2}, std::vector<float>{1, 2});
  b.add_operator(BuiltinOp::kVarHandle, {}, {ih}, VarHandleOptions{"box", "acc"});
  b.add_operator(BuiltinOp::kAssignVariable, {ih, iv}, {}, AssignVariableOptions{});
  b.use_subgraph(0);
  const int32_t x = b.add_tensor("x", TensorType::kFloat32, {2});
  const int32_t h = b.add_tensor("h", TensorType::kResource, {});
  const int32_t r = b.add_tensor("r", TensorType::kFloat32, {2});
  const int32_t y = b.add_tensor("y", TensorType::kFloat32, {2});
  b.add_operator(BuiltinOp::kCallOnce, {}, {}, CallOnceOptions{1});
  b.add_operator(BuiltinOp::kVarHandle, {}, {h}, VarHandleOptions{"", "acc"});
  b.add_operator(BuiltinOp::kReadVariable, {h}, {r}, ReadVariableOptions{});
  b.add_operator(BuiltinOp::kAdd, {r, x}, {y}, AddOptions{});
  b.set_inputs({x});
  b.set_outputs({y});
  const ModelDef m = b.build();
  const ModelDef back = read_model(write_model(m));
  EXPECT_EQ(back, m);
  ASSERT_EQ(back.subgraphs.size(), 2u);
  EXPECT_EQ(back.subgraphs[1].name, "init");
  EXPECT_EQ(back.subgraphs[0].tensors[1].type, TensorType::kResource);
  EXPECT_EQ(std::get<VarHandleOptions>(back.subgraphs[1].operators[0].options), (VarHandleOptions{"box", "acc"}));
  EXPECT_EQ(std::get<CallOnceOptions>(back.subgraphs[0].operators[0].options).init_subgraph_index, 1);
  const std::string text = inspect(back);
  EXPECT_NE(text.find("init_subgraph_index=1"), std::string::npos) << text;
  EXPECT_NE(text.find("container='box' shared_name='acc'"), std::string::npos) << text;
  EXPECT_NE(text.find("RESOURCE"), std::string::npos) << text;
  // A negative init_subgraph_index is refused by the validator.
  ModelDef wrong = m;
  wrong.subgraphs[0].operators[0].options = CallOnceOptions{-1};
  EXPECT_THROW(validate(wrong), Error);
}

// IF and WHILE: IfOptions and WhileOptions survive a round trip, inspect
// shows them, and a negative subgraph index is refused by the validator.
TEST(LiteRoundTrip, ControlFlowOptions) {
  ModelBuilder b;
  for (int k = 0; k < 2; ++k) {
    b.add_subgraph();
    const int32_t a = b.add_tensor("a", TensorType::kFloat32, {2});
    b.set_inputs({a});
    b.set_outputs({a});
  }
  b.use_subgraph(0);
  const int32_t c = b.add_tensor("c", TensorType::kBool, {});
  const int32_t x = b.add_tensor("x", TensorType::kFloat32, {2});
  const int32_t y = b.add_tensor("y", TensorType::kFloat32, {2});
  const int32_t z = b.add_tensor("z", TensorType::kFloat32, {2});
  b.add_operator(BuiltinOp::kIf, {c, x}, {y}, IfOptions{2, 1});
  b.add_operator(BuiltinOp::kWhile, {y}, {z}, WhileOptions{1, 2});
  b.set_inputs({c, x});
  b.set_outputs({z});
  const ModelDef m = b.build();
  const ModelDef back = read_model(write_model(m));
  EXPECT_EQ(back, m);
  EXPECT_EQ(std::get<IfOptions>(back.subgraphs[0].operators[0].options), (IfOptions{2, 1}));
  EXPECT_EQ(std::get<WhileOptions>(back.subgraphs[0].operators[1].options), (WhileOptions{1, 2}));
  const std::string text = inspect(back);
  EXPECT_NE(text.find("then_subgraph_index=2 else_subgraph_index=1"), std::string::npos) << text;
  EXPECT_NE(text.find("cond_subgraph_index=1 body_subgraph_index=2"), std::string::npos) << text;
  for (const OpOptions& bad : {OpOptions{IfOptions{-1, 1}}, OpOptions{IfOptions{1, -2}}}) {
    ModelDef wrong = m;
    wrong.subgraphs[0].operators[0].options = bad;
    EXPECT_THROW(validate(wrong), Error);
  }
  ModelDef wrong = m;
  wrong.subgraphs[0].operators[1].options = WhileOptions{1, -1};
  EXPECT_THROW(validate(wrong), Error);
}

TEST(LiteRoundTrip, PerChannelQuantizationSurvives) {
  ModelBuilder b;
  const int32_t x = b.add_tensor("x", TensorType::kInt8, {1, 3, 3, 2}, Quantization::per_tensor(0.1f, 1));
  const int32_t k = b.add_constant("k", TensorType::kInt8, {3, 1, 1, 2}, std::vector<int8_t>(6, 1),
                                   Quantization::per_axis({0.1f, 0.2f, 0.3f}, {0, 0, 0}, 0));
  const int32_t y = b.add_tensor("y", TensorType::kInt8, {1, 3, 3, 3}, Quantization::per_tensor(0.5f, -2));
  b.add_operator(BuiltinOp::kConv2D, {x, k, -1}, {y}, Conv2DOptions{});
  b.set_inputs({x});
  b.set_outputs({y});
  const ModelDef back = read_model(b.finish());
  const Quantization& q = back.subgraphs[0].tensors[1].quantization;
  EXPECT_TRUE(q.per_channel());
  EXPECT_EQ(q.scale, (std::vector<float>{0.1f, 0.2f, 0.3f}));
  EXPECT_EQ(q.zero_point, (std::vector<int64_t>{0, 0, 0}));
  EXPECT_EQ(q.quantized_dimension, 0);
  EXPECT_EQ(back.subgraphs[0].operators[0].inputs, (std::vector<int32_t>{0, 1, -1}));
}

// The layout as the public schema numbers it: Model{0 version, 1 operator_codes,
// 2 subgraphs, 3 description, 4 buffers, 5 metadata_buffer, 6 metadata,
// 7 signature_defs}; OperatorCode{0 deprecated_builtin_code, 1 custom_code,
// 2 version, 3 builtin_code}; SubGraph{0 tensors, 1 inputs, 2 outputs,
// 3 operators, 4 name}; Tensor{0 shape, 1 type, 2 buffer, 3 name,
// 4 quantization, 5 is_variable, 6 sparsity, 7 shape_signature};
// QuantizationParameters{0 min, 1 max, 2 scale, 3 zero_point, 4-5 details,
// 6 quantized_dimension}; Operator{0 opcode_index, 1 inputs, 2 outputs,
// 3-4 builtin_options}; Buffer{0 data}; SignatureDef{0 inputs, 1 outputs,
// 2 signature_key, 3 deprecated_tag, 4 subgraph_index}. BuiltinOptions codes:
// FullyConnectedOptions = 8, ReshapeOptions = 17.
TEST(LiteRoundTrip, LayoutMatchesPublicSchemaNumbering) {
  const test::Int8FcParams p = small_int8_params();
  const std::vector<uint8_t> bytes = write_model(test::int8_fc_model(p, true));
  const FbWalker fb(bytes);
  const size_t model = fb.root();
  EXPECT_EQ(fb.scalar<uint32_t>(model, 0, 0), 3u);

  const size_t codes = fb.table_field(model, 1);
  ASSERT_EQ(fb.vec_len(codes), 2u);
  const size_t fc_code = fb.vec_table(codes, 0);
  EXPECT_EQ(fb.scalar<int8_t>(fc_code, 0, 0), 9);     // deprecated_builtin_code
  EXPECT_EQ(fb.scalar<int32_t>(fc_code, 2, 1), 4);    // version
  // builtin_code only from 127 on; below, readers take max(builtin_code,
  // deprecated_builtin_code) and the field's default 0 (ADD) never wins.
  EXPECT_EQ(fb.scalar<int32_t>(fc_code, 3, 0), 0);
  const size_t rs_code = fb.vec_table(codes, 1);
  EXPECT_EQ(fb.scalar<int8_t>(rs_code, 0, 0), 22);
  EXPECT_EQ(fb.scalar<int32_t>(rs_code, 3, 0), 0);

  const size_t graph = fb.vec_table(fb.table_field(model, 2), 0);
  EXPECT_EQ(fb.table_field(graph, 4), 0u);  // no name written
  const size_t tensors = fb.table_field(graph, 0);
  ASSERT_EQ(fb.vec_len(tensors), 5u);
  const size_t x = fb.vec_table(tensors, 0);
  EXPECT_EQ(fb.str(fb.table_field(x, 3)), "x");
  EXPECT_EQ(fb.scalar<int8_t>(x, 1, -1), 9);  // INT8
  const size_t sig = fb.table_field(x, 7);
  ASSERT_EQ(fb.vec_len(sig), 2u);
  EXPECT_EQ(fb.vec_i32(sig, 0), -1);
  EXPECT_EQ(fb.vec_i32(sig, 1), 4);
  const size_t xq = fb.table_field(x, 4);
  const size_t zp = fb.table_field(xq, 3);
  ASSERT_EQ(fb.vec_len(zp), 1u);
  int64_t zp0;
  std::memcpy(&zp0, bytes.data() + zp + 4, 8);
  EXPECT_EQ(zp0, -3);
  const size_t scale = fb.table_field(xq, 2);
  float s0;
  std::memcpy(&s0, bytes.data() + scale + 4, 4);
  EXPECT_EQ(s0, 0.05f);

  const size_t w = fb.vec_table(tensors, 1);
  const uint32_t wbuf = fb.scalar<uint32_t>(w, 2, 0);
  const size_t buffers = fb.table_field(model, 4);
  ASSERT_LT(wbuf, fb.vec_len(buffers));
  const size_t wdata = fb.table_field(fb.vec_table(buffers, wbuf), 0);
  ASSERT_EQ(fb.vec_len(wdata), 12u);
  EXPECT_EQ((wdata + 4) % 16, 0u) << "constant data must be 16-byte aligned";
  EXPECT_EQ(static_cast<int8_t>(bytes[wdata + 4]), 127);
  EXPECT_EQ(static_cast<int8_t>(bytes[wdata + 5]), -127);

  const size_t ops = fb.table_field(graph, 3);
  ASSERT_EQ(fb.vec_len(ops), 2u);
  const size_t fc = fb.vec_table(ops, 0);
  EXPECT_EQ(fb.scalar<uint8_t>(fc, 3, 0), 8);  // BuiltinOptions_FullyConnectedOptions
  const size_t fc_opts = fb.table_field(fc, 4);
  EXPECT_EQ(fb.scalar<int8_t>(fc_opts, 0, 0), 1);  // fused_activation_function RELU
  const size_t rs = fb.vec_table(ops, 1);
  EXPECT_EQ(fb.scalar<uint32_t>(rs, 0, 0), 1u);
  EXPECT_EQ(fb.scalar<uint8_t>(rs, 3, 0), 17);  // BuiltinOptions_ReshapeOptions

  const size_t sigs = fb.table_field(model, 7);
  ASSERT_EQ(fb.vec_len(sigs), 1u);
  EXPECT_EQ(fb.str(fb.table_field(fb.vec_table(sigs, 0), 2)), "serving_default");
  const size_t meta = fb.table_field(model, 6);
  ASSERT_EQ(fb.vec_len(meta), 1u);
  EXPECT_EQ(fb.str(fb.table_field(fb.vec_table(meta, 0), 0)), "qlite_producer");
}

TEST(LiteRoundTrip, OpCodesFrom127UseThePlaceholder) {
  ModelBuilder b;
  const int32_t x = b.add_tensor("x", TensorType::kFloat32, {2});
  const int32_t y = b.add_tensor("y", TensorType::kFloat32, {2});
  b.add_operator(static_cast<BuiltinOp>(150), {x}, {y});  // GELU in the public enum
  b.set_inputs({x});
  b.set_outputs({y});
  const std::vector<uint8_t> bytes = b.finish();
  const FbWalker fb(bytes);
  const size_t code = fb.vec_table(fb.table_field(fb.root(), 1), 0);
  EXPECT_EQ(fb.scalar<int8_t>(code, 0, 0), 127);  // PLACEHOLDER_FOR_GREATER_OP_CODES
  EXPECT_EQ(fb.scalar<int32_t>(code, 3, 0), 150);
  const ModelDef m = read_model(bytes);
  EXPECT_EQ(static_cast<int32_t>(m.operator_codes[0].builtin), 150);
  EXPECT_EQ(builtin_op_name(m.operator_codes[0].builtin), "GELU");
}

TEST(LiteRoundTrip, FileRoundTripAndUnalignedBytes) {
  const ModelDef m = test::float_fc_reshape_model();
  const std::string path = std::string(QLITE_BINARY_DIR) + "/lite_roundtrip_test.tflite";
  write_model_file(m, path);
  EXPECT_EQ(read_model_file(path), m);
  std::filesystem::remove(path);
  // The reader copies misaligned input before walking it.
  const std::vector<uint8_t> bytes = write_model(m);
  std::vector<uint8_t> shifted(bytes.size() + 3);
  std::memcpy(shifted.data() + 3, bytes.data(), bytes.size());
  EXPECT_EQ(read_model(std::span<const uint8_t>(shifted).subspan(3)), m);
  EXPECT_THROW(read_model_file(path + ".missing"), Error);
}

// Informational min/max may hold any float (the reader does not judge them):
// NaN, -0 and +0 must come back with their bits, and must not be shared into
// another tensor's parameters. A NaN once made the writer's sharing map take
// one tensor's min for another's scale, and min/max without a scale were
// dropped (both found by fuzzing).
TEST(LiteRoundTrip, FloatParametersKeepTheirBits) {
  const float nan = std::numeric_limits<float>::quiet_NaN();
  Quantization a = Quantization::per_tensor(0.5f, 1), b = a, c = a;
  a.min = {nan};
  b.min = {-0.0f};
  c.min = {0.0f};
  EXPECT_EQ(a, a);  // bit for bit: NaN equals itself
  EXPECT_NE(b, c);  // and -0 is not +0
  EXPECT_NE(a, b);

  ModelDef m = test::int8_fc_model(small_int8_params(), true);
  auto& t = m.subgraphs[0].tensors;
  t[0].quantization.min = {nan};
  t[0].quantization.max = {-nan};
  t[1].quantization.min = {-0.0f};
  t[1].quantization.max = {0.0f};
  t[2].quantization.min = {0.0f};
  t[2].quantization.max = {nan};
  t[3].quantization = Quantization{};  // min/max only, no scale: kept as well
  t[3].quantization.min = {-1.0f};
  t[3].quantization.max = {1.0f};
  const ModelDef back = read_model(write_model(m));
  EXPECT_EQ(back, m);
  EXPECT_EQ(back.subgraphs[0].tensors[0].quantization.scale, std::vector<float>{0.05f});
  EXPECT_TRUE(std::signbit(back.subgraphs[0].tensors[1].quantization.min[0]));
  EXPECT_FALSE(std::signbit(back.subgraphs[0].tensors[2].quantization.min[0]));
}

TEST(LiteInspect, EscapesControlBytesFromTheFile) {
  EXPECT_EQ(escape_control("plain name/with:punct"), "plain name/with:punct");
  EXPECT_EQ(escape_control(std::string("a\x1b[2Jb\ny\x7f", 9) + std::string(1, '\0') + "\xc3\xa9"),
            "a\\x1B[2Jb\\x0Ay\\x7F\\x00\xc3\xa9");  // UTF-8 stays

  ModelDef m = test::int8_fc_model(small_int8_params(), true);
  m.subgraphs[0].tensors[1].name = "w\x1b[31m\nfake line";
  m.description = "d\r";
  const std::string text = inspect(m);
  EXPECT_EQ(text.find('\x1b'), std::string::npos);
  EXPECT_EQ(text.find('\r'), std::string::npos);
  EXPECT_NE(text.find("'w\\x1B[31m\\x0Afake line'"), std::string::npos) << text;
  EXPECT_NE(text.find("description: d\\x0D"), std::string::npos) << text;
}

TEST(LiteInspect, ShowsTensorsOpsAndQuantization) {
  const test::Int8FcParams p = small_int8_params();
  const std::string text = inspect(test::int8_fc_model(p, true));
  for (const char* expected :
       {"schema version 3", "precision: full integer\n", "metadata 'qlite_producer' (buffer 3): \"qlite\"",
        "signature 'serving_default' on subgraph 0: inputs {x: 0} outputs {y: 4}",
        "input  0 'x' INT8 [1, 4] signature [-1, 4] scale=0.0500000007 zero_point=-3",
        "1 'fc/kernel' INT8 [3, 4] const(buffer 1, 12 B) scale=0.0199999996 zero_point=0",
        "0 FULLY_CONNECTED v4 activation=RELU", "inputs [0, 1, 2] outputs [3]",
        "1 RESHAPE v1 new_shape=[-1, 3, 1]"})
    EXPECT_NE(text.find(expected), std::string::npos) << "missing: " << expected << "\n" << text;
}

}  // namespace
}  // namespace qlite::lite
