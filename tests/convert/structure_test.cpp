// What the converter writes: the graph of each mode, weight layouts and
// quantization checked against values computed here from the training
// model, and the converted model's outputs in qlite's runtime against the
// training model's own predictions.
#include <cmath>

#include "convert_test_util.h"
#include "qlite/quant.h"

namespace qlite::test {
namespace {

using convert::IoType;
using convert::Mode;
using lite::TensorType;

std::vector<std::string> op_names(const convert::ConvertResult& r) {
  std::vector<std::string> v;
  for (const auto& op : r.ops) v.push_back(op.op);
  return v;
}

const lite::TensorDef& tensor_named(const lite::ModelDef& m, const std::string& name) {
  for (const auto& t : m.subgraphs[0].tensors)
    if (t.name == name) return t;
  throw Error("no tensor named " + name);
}

template <class T>
std::vector<T> data_as(const lite::ModelDef& m, const lite::TensorDef& t) {
  const auto bytes = m.data_of(t);
  std::vector<T> v(bytes.size() / sizeof(T));
  std::memcpy(v.data(), bytes.data(), v.size() * sizeof(T));
  return v;
}

const Param& param(const Model& m, const std::string& layer, const std::string& name) {
  for (const Param* p : std::as_const(*m.find_layer(layer)).params())
    if (p->name == name) return *p;
  throw Error("no param " + name);
}

TEST(ConvertStructure, Float32SeedGraphHasTfliteLayoutAndMatchesPredict) {
  REQUIRE_FASHION(ds);
  const Model& m = brief_seed();
  const auto r = convert_with(m, Mode::kFloat32);
  // Flatten folds into FULLY_CONNECTED, which reads its 4-D input as rows of 2028.
  EXPECT_EQ(op_names(r), (std::vector<std::string>{"RESHAPE", "CONV_2D", "MAX_POOL_2D", "FULLY_CONNECTED"}));
  EXPECT_FALSE(r.integer_only);
  EXPECT_EQ(r.float_ops.size(), 4u);
  EXPECT_EQ(r.size_bytes, r.bytes.size());
  const lite::ModelDef md = lite::read_model(r.bytes);  // the bytes are a valid file
  ASSERT_EQ(md.signature_defs.size(), 1u);
  EXPECT_EQ(md.signature_defs[0].key, "serving_default");
  EXPECT_FALSE(md.metadata_bytes(lite::kProducerMetadataName).empty());
  const auto& g = md.subgraphs[0];
  EXPECT_EQ(g.tensors[g.inputs[0]].shape_signature, (std::vector<int32_t>{-1, 28, 28}));

  // Keras HWIO [3,3,1,12] -> OHWI [12,3,3,1]; Dense [2028,10] -> [10,2028].
  const std::string conv = m.layer(2).name(), dense = m.layer(5).name();
  const auto& kt = tensor_named(md, conv + "/kernel");
  EXPECT_EQ(kt.shape, (std::vector<int32_t>{12, 3, 3, 1}));
  const auto k = data_as<float>(md, kt);
  const Tensor& hwio = param(m, conv, "kernel").value;
  for (int o = 0; o < 12; ++o)
    for (int h = 0; h < 3; ++h)
      for (int w = 0; w < 3; ++w) EXPECT_EQ(k[(o * 3 + h) * 3 + w], hwio.f32()[(h * 3 + w) * 12 + o]);
  const auto& dt = tensor_named(md, dense + "/kernel");
  EXPECT_EQ(dt.shape, (std::vector<int32_t>{10, 2028}));
  const auto d = data_as<float>(md, dt);
  const Tensor& io = param(m, dense, "kernel").value;
  for (int o = 0; o < 10; ++o)
    for (int i = 0; i < 2028; i += 97) EXPECT_EQ(d[o * 2028 + i], io.f32()[i * 10 + o]);
  // RESHAPE carries its shape, with a -1 batch, in its options only.
  const auto& ops = g.operators;
  EXPECT_EQ(ops[0].inputs.size(), 1u);
  EXPECT_EQ(std::get<lite::ReshapeOptions>(ops[0].options).new_shape, (std::vector<int32_t>{-1, 28, 28, 1}));
  const auto conv_opts = std::get<lite::Conv2DOptions>(ops[1].options);
  EXPECT_EQ(conv_opts.activation, lite::Activation::kRelu);
  EXPECT_EQ(conv_opts.padding, lite::Padding::kValid);
  const auto pool = std::get<lite::Pool2DOptions>(ops[2].options);
  EXPECT_EQ(pool.filter_h, 2);
  EXPECT_EQ(pool.stride_w, 2);

  // The runtime on the converted file agrees with the training model.
  Model& mm = const_cast<Model&>(m);
  const Tensor x = rows(ds->test.x, 0, 64);
  const Tensor want = mm.predict(x);
  const RunOutput got = run_qlite(r.bytes, x);
  ASSERT_EQ(got.values.size(), static_cast<size_t>(want.numel()));
  for (int64_t i = 0; i < want.numel(); ++i)
    EXPECT_NEAR(got.values[i], want.f32()[i], 1e-4f * std::max(1.0f, std::fabs(want.f32()[i]))) << i;
}

TEST(ConvertStructure, Int8QuantizesWeightsBiasesAndActivationsAsTheSpecSays) {
  REQUIRE_FASHION(ds);
  const Model& m = brief_seed();
  const Tensor rep = rows(ds->train.x, 0, 100);
  const auto r = convert_with(m, Mode::kInt8, IoType::kFloat32, &rep);
  EXPECT_EQ(op_names(r), (std::vector<std::string>{"QUANTIZE", "RESHAPE", "CONV_2D", "MAX_POOL_2D",
                                                   "FULLY_CONNECTED", "DEQUANTIZE"}));
  EXPECT_TRUE(r.integer_only);
  EXPECT_TRUE(r.float_ops.empty());
  EXPECT_TRUE(r.ops.front().io_boundary && r.ops.back().io_boundary);
  const lite::ModelDef& md = r.model;
  const std::string conv = m.layer(2).name(), dense = m.layer(5).name(), in = m.layer(0).name();

  // Input range [0, 1] (pixels / 255, with 0 and 255 present): scale 1/255, zero point -128.
  const auto& xin = tensor_named(md, in + "_int8");
  EXPECT_FLOAT_EQ(xin.quantization.scale[0], 1.0f / 255.0f);
  EXPECT_EQ(xin.quantization.zero_point[0], -128);

  // Conv weights: symmetric per output channel, scale max|w|/127, q = round(w / scale).
  const auto& kt = tensor_named(md, conv + "/kernel");
  ASSERT_EQ(kt.type, TensorType::kInt8);
  ASSERT_EQ(kt.quantization.scale.size(), 12u);
  EXPECT_EQ(kt.quantization.quantized_dimension, 0);
  const auto kq = data_as<int8_t>(md, kt);
  const Tensor& hwio = param(m, conv, "kernel").value;
  for (int o = 0; o < 12; ++o) {
    float maxabs = 0;
    for (int t = 0; t < 9; ++t) maxabs = std::max(maxabs, std::fabs(hwio.f32()[t * 12 + o]));
    const float s = kt.quantization.scale[o];
    EXPECT_NEAR(s, maxabs / 127.0f, 1e-6f * maxabs);
    EXPECT_EQ(kt.quantization.zero_point[o], 0);
    int maxq = 0;
    for (int t = 0; t < 9; ++t) {
      const float w = hwio.f32()[t * 12 + o];
      EXPECT_LE(std::fabs(kq[o * 9 + t] - w / s), 0.5f + 1e-3f);
      maxq = std::max(maxq, std::abs(static_cast<int>(kq[o * 9 + t])));
    }
    EXPECT_EQ(maxq, 127);
  }
  // Conv bias: int32, scale input_scale * weight_scale[c].
  const auto& bt = tensor_named(md, conv + "/bias");
  ASSERT_EQ(bt.type, TensorType::kInt32);
  const auto bq = data_as<int32_t>(md, bt);
  const Tensor& bias = param(m, conv, "bias").value;
  for (int o = 0; o < 12; ++o) {
    const float bs = xin.quantization.scale[0] * kt.quantization.scale[o];
    EXPECT_FLOAT_EQ(bt.quantization.scale[o], bs);
    EXPECT_LE(std::fabs(bq[o] - bias.f32()[o] / bs), 0.5f + 1e-3f);
  }
  // Dense weights per tensor (TFLite 2.9 mis-computes per-channel FULLY_CONNECTED).
  const auto& dt = tensor_named(md, dense + "/kernel");
  EXPECT_EQ(dt.quantization.scale.size(), 1u);
  // Pass-through ops share their input's parameters; the conv output (ReLU) starts at -128.
  const auto& conv_out = tensor_named(md, conv);
  const auto& pool_out = tensor_named(md, m.layer(3).name());
  EXPECT_EQ(conv_out.quantization.zero_point[0], -128);
  EXPECT_EQ(pool_out.quantization, conv_out.quantization);
  // The folded Flatten leaves no tensor; FULLY_CONNECTED reads the pool output.
  for (const auto& t : md.subgraphs[0].tensors) EXPECT_NE(t.name, m.layer(4).name());
  const auto& fc = md.subgraphs[0].operators[4];
  EXPECT_EQ(md.subgraphs[0].tensors[fc.inputs[0]].name, m.layer(3).name());

  // Accuracy of the integer model close to the float one on 500 test images.
  Model& mm = const_cast<Model&>(m);
  const Tensor x = rows(ds->test.x, 0, 500);
  const Tensor want = mm.predict(x);
  const RunOutput got = run_qlite(r.bytes, x);
  int agree = 0;
  for (int i = 0; i < 500; ++i) agree += argmax(got.values.data() + i * 10, 10) == argmax(want.f32() + i * 10, 10);
  EXPECT_GE(agree, 490);
}

TEST(ConvertStructure, IntegerIoVariantsComputeTheSameIntegers) {
  REQUIRE_FASHION(ds);
  const Model& m = brief_seed();
  const Tensor rep = rows(ds->train.x, 0, 100);
  const auto f = convert_with(m, Mode::kInt8, IoType::kFloat32, &rep);
  const auto i8 = convert_with(m, Mode::kInt8, IoType::kInt8, &rep);
  const auto u8 = convert_with(m, Mode::kInt8, IoType::kUInt8, &rep);
  EXPECT_EQ(op_names(i8), (std::vector<std::string>{"RESHAPE", "CONV_2D", "MAX_POOL_2D", "FULLY_CONNECTED"}));
  EXPECT_EQ(op_names(u8).front(), "QUANTIZE");
  EXPECT_EQ(op_names(u8).back(), "QUANTIZE");
  EXPECT_TRUE(i8.integer_only);
  EXPECT_TRUE(u8.integer_only);
  const auto& g8 = u8.model.subgraphs[0];
  const auto& uin = g8.tensors[g8.inputs[0]];
  EXPECT_EQ(uin.type, TensorType::kUInt8);
  EXPECT_EQ(uin.quantization.zero_point[0], 0);  // int8 zero point -128 + 128

  const Tensor x = rows(ds->test.x, 0, 200);
  const RunOutput rf = run_qlite(f.bytes, x), r8 = run_qlite(i8.bytes, x), ru = run_qlite(u8.bytes, x);
  ASSERT_EQ(r8.raw.size(), 2000u);
  ASSERT_EQ(ru.raw.size(), 2000u);
  const auto& gi = i8.model.subgraphs[0];
  const auto& oq = gi.tensors[gi.outputs[0]].quantization;
  for (size_t k = 0; k < 2000; ++k) {
    EXPECT_EQ(ru.raw[k], r8.raw[k] + 128) << k;
    // The float-I/O model dequantizes the same integers.
    EXPECT_EQ(rf.values[k], oq.scale[0] * static_cast<float>(r8.raw[k] - oq.zero_point[0])) << k;
  }
}

TEST(ConvertStructure, DynamicQuantizesOnlyLargeKernelsByDefault) {
  REQUIRE_FASHION(ds);
  const Model& m = brief_seed();
  const std::string conv = m.layer(2).name(), dense = m.layer(5).name();
  const auto r = convert_with(m, Mode::kDynamic);
  EXPECT_EQ(tensor_named(r.model, conv + "/kernel").type, TensorType::kFloat32);  // 108 < 1024
  const auto& dk = tensor_named(r.model, dense + "/kernel");
  EXPECT_EQ(dk.type, TensorType::kInt8);
  EXPECT_EQ(dk.quantization.scale.size(), 1u);
  EXPECT_EQ(tensor_named(r.model, dense + "/bias").type, TensorType::kFloat32);
  EXPECT_FALSE(r.integer_only);

  convert::ConvertOptions o;
  o.mode = Mode::kDynamic;
  o.dynamic_min_elements = 0;
  const auto all = convert::convert_model(m, o);
  const auto& ck = tensor_named(all.model, conv + "/kernel");
  EXPECT_EQ(ck.type, TensorType::kInt8);
  EXPECT_EQ(ck.quantization.scale.size(), 12u);

  // Hybrid outputs stay close to the float model.
  Model& mm = const_cast<Model&>(m);
  const Tensor x = rows(ds->test.x, 0, 200);
  const Tensor want = mm.predict(x);
  for (const auto* conv_r : {&r, &all}) {
    const RunOutput got = run_qlite(conv_r->bytes, x);
    int agree = 0;
    for (int i = 0; i < 200; ++i) agree += argmax(got.values.data() + i * 10, 10) == argmax(want.f32() + i * 10, 10);
    EXPECT_GE(agree, 196);
  }
}

TEST(ConvertStructure, Float16StoresHalfWeightsWithDequantize) {
  REQUIRE_FASHION(ds);
  const Model& m = brief_seed();
  const auto r = convert_with(m, Mode::kFloat16);
  const std::string dense = m.layer(5).name();
  const auto& h = tensor_named(r.model, dense + "/kernel_fp16");
  EXPECT_EQ(h.type, TensorType::kFloat16);
  int deq = 0;
  for (const auto& op : r.ops) deq += op.op == "DEQUANTIZE";
  EXPECT_EQ(deq, 4);  // conv kernel + bias, dense kernel + bias
  // float16 rounding of the weights changes logits by far less than 1e-2.
  Model& mm = const_cast<Model&>(m);
  const Tensor x = rows(ds->test.x, 0, 64);
  const Tensor want = mm.predict(x);
  const RunOutput got = run_qlite(r.bytes, x);
  for (int64_t i = 0; i < want.numel(); ++i) EXPECT_NEAR(got.values[i], want.f32()[i], 2e-2f) << i;
}

// The file carries no description naming its mode: `qlite inspect` reads the
// precision off the graph's types instead, which also holds for files qlite
// did not write.
TEST(ConvertStructure, InspectReadsEachModesPrecisionFromTheGraph) {
  REQUIRE_FASHION(ds);
  const Model& m = brief_seed();
  const Tensor rep = rows(ds->train.x, 0, 16);
  convert::ConvertOptions dyn_all;
  dyn_all.mode = Mode::kDynamic;
  dyn_all.dynamic_min_elements = 0;
  const std::vector<std::pair<convert::ConvertResult, std::string>> cases = {
      {convert_with(m, Mode::kFloat32), "precision: float32\n"},
      {convert_with(m, Mode::kFloat16), "precision: float16 weights, float32 compute\n"},
      {convert_with(m, Mode::kDynamic), "precision: dynamic range: int8 weights, float32 activations\n"},
      {convert::convert_model(m, dyn_all), "precision: dynamic range: int8 weights, float32 activations\n"},
      {convert_with(m, Mode::kInt8, IoType::kFloat32, &rep), "precision: full integer\n"},
      {convert_with(m, Mode::kInt8, IoType::kUInt8, &rep), "precision: full integer\n"},
  };
  for (const auto& [r, want] : cases) {
    EXPECT_TRUE(r.model.description.empty());
    EXPECT_TRUE(r.model.subgraphs[0].name.empty());
    const std::string text = lite::inspect(r.model);
    EXPECT_NE(text.find(want), std::string::npos) << want << text;
  }

  // An int8 op fed by a float one: mixed.
  lite::ModelDef mixed = convert_with(m, Mode::kInt8, IoType::kFloat32, &rep).model;
  auto& g = mixed.subgraphs[0];
  for (auto& op : g.operators)
    if (mixed.operator_codes[op.opcode_index].builtin == lite::BuiltinOp::kMaxPool2D)
      g.tensors[static_cast<size_t>(op.outputs[0])].type = TensorType::kFloat32;
  EXPECT_NE(lite::inspect(mixed).find("precision: mixed: integer and float32 ops\n"), std::string::npos);
}

TEST(ConvertStructure, ErrorsNameTheProblem) {
  auto m = make_seed_model();
  auto expect_error = [&](const convert::ConvertOptions& o, const std::string& part) {
    try {
      convert::convert_model(*m, o);
      ADD_FAILURE() << "no error, expected one mentioning " << part;
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find(part), std::string::npos) << e.what();
    }
  };
  convert::ConvertOptions o;
  o.mode = Mode::kFloat32;
  o.io = IoType::kInt8;
  expect_error(o, "needs int8 mode");
  o = {};
  o.mode = Mode::kInt8;
  expect_error(o, "representative");
  Tensor wrong({4, 28, 27});
  o.representative = &wrong;
  expect_error(o, "does not match");
  EXPECT_THROW(convert::mode_from_string("int4"), Error);
  EXPECT_THROW(convert::io_type_from_string("int16"), Error);
}

// A layer the converter has no lowering for.
class OddLayer final : public Layer {
 public:
  OddLayer() : Layer("odd") {}
  std::string type() const override { return "Odd"; }
  std::string default_name_stem() const override { return "odd"; }
  Shape build(std::span<const Shape> s, Rng&) override {
    mark_built(s, s[0]);
    return s[0];
  }
  void forward(std::span<const Tensor* const> in, Tensor& out, const RunContext&) override { out = *in[0]; }
  void backward(std::span<const Tensor* const>, const Tensor&, const Tensor& dout, std::span<Tensor* const> din,
                const RunContext&) override {
    if (din[0]) *din[0] = dout;
  }
  json get_config() const override { return {{"name", name()}}; }
  std::unique_ptr<Layer> clone() const override { return std::make_unique<OddLayer>(*this); }
};

TEST(ConvertStructure, UnknownLayerIsAnErrorNamingIt) {
  Sequential s({layers::Input({4}), layers::Dense(3), std::make_shared<OddLayer>()});
  s.build();
  try {
    convert_with(s, Mode::kFloat32);
    ADD_FAILURE() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("'odd' of type Odd"), std::string::npos) << e.what();
  }
}

TEST(ConvertStructure, AtomicWriteReplacesTheFile) {
  const std::string path = ::testing::TempDir() + "/qlite_convert_atomic.tflite";
  convert::write_file_atomic(path, {1, 2, 3});
  convert::write_file_atomic(path, {4, 5});
  std::FILE* f = std::fopen(path.c_str(), "rb");
  ASSERT_NE(f, nullptr);
  unsigned char buf[8];
  const size_t n = std::fread(buf, 1, sizeof buf, f);
  std::fclose(f);
  ASSERT_EQ(n, 2u);
  EXPECT_EQ(buf[0], 4);
  EXPECT_EQ(buf[1], 5);
  EXPECT_THROW(convert::write_file_atomic("/nonexistent_dir_qlite/x.tflite", {1}), Error);
}

}  // namespace
}  // namespace qlite::test
