// Hostile .tflite files through the whole load path (read and validate,
// prepare, memory plan, invoke): truncations, bit flips and oversized
// dimensions end in qlite::Error or in a model that runs, never in a crash,
// another exception type or an allocation the file alone decides.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <exception>
#include <vector>

#include "kernels/int8_kernels_x86.h"
#include "qlite/runtime.h"
#include "lstm_models.h"
#include "runtime_models.h"

namespace qlite::test {
namespace {

using runtime::Interpreter;
using runtime::InterpreterOptions;

enum class Outcome { kRan, kError };

// Loads the bytes, runs once on zeroed inputs, resizes the batch and runs
// again. Anything but qlite::Error escaping is a test failure.
Outcome load_and_run(const std::vector<uint8_t>& bytes) {
  try {
    InterpreterOptions o;
    o.max_arena_bytes = size_t{64} << 20;
    auto it = Interpreter::from_buffer(bytes, o);
    for (int batch : {1, 3}) {
      it->resize_batch(batch);
      for (size_t i = 0; i < it->num_inputs(); ++i) {
        auto in = it->input_bytes(i);
        std::memset(in.data(), 0, in.size());
      }
      it->invoke();
    }
    return Outcome::kRan;
  } catch (const Error&) {
    return Outcome::kError;
  } catch (const std::exception& e) {
    ADD_FAILURE() << "exception other than qlite::Error: " << e.what();
    return Outcome::kError;
  }
}

// x int8 [1, 3, 5, 5] (NCHW) -> TRANSPOSE to NHWC -> PAD -> HARD_SWISH ->
// PADV2 -> LOGISTIC -> TANH: the new ops' constant operands (perm, paddings,
// constant_values) are in the file for the bit flips to hit.
lite::ModelDef shape_and_activation_model() {
  lite::ModelBuilder b;
  using lite::TensorType;
  const auto q = lite::Quantization::per_tensor(0.05f, -3);
  const int32_t x = b.add_tensor("x", TensorType::kInt8, {1, 3, 5, 5}, q);
  const int32_t perm = b.add_constant("perm", TensorType::kInt32, {4}, std::vector<int32_t>{0, 2, 3, 1});
  const int32_t t = b.add_tensor("t", TensorType::kInt8, {1, 5, 5, 3}, q);
  const int32_t pads = b.add_constant("pads", TensorType::kInt32, {4, 2}, std::vector<int32_t>{0, 0, 1, 1, 1, 1, 0, 0});
  const int32_t p = b.add_tensor("p", TensorType::kInt8, {1, 7, 7, 3}, q);
  const auto hq = lite::Quantization::per_tensor(0.04f, -100);
  const int32_t h = b.add_tensor("h", TensorType::kInt8, {1, 7, 7, 3}, hq);
  const int32_t pads2 = b.add_constant("pads2", TensorType::kInt64, {4, 2}, std::vector<int64_t>{0, 0, 0, 1, 0, 1, 0, 0});
  const int32_t c = b.add_constant("c", TensorType::kInt8, {1}, std::vector<int8_t>{-128}, hq);
  const int32_t p2 = b.add_tensor("p2", TensorType::kInt8, {1, 8, 8, 3}, hq);
  const int32_t l = b.add_tensor("l", TensorType::kInt8, {1, 8, 8, 3}, lite::Quantization::per_tensor(1.0f / 256, -128));
  const int32_t y = b.add_tensor("y", TensorType::kInt8, {1, 8, 8, 3}, lite::Quantization::per_tensor(1.0f / 128, 0));
  b.add_operator(lite::BuiltinOp::kTranspose, {x, perm}, {t}, lite::TransposeOptions{});
  b.add_operator(lite::BuiltinOp::kPad, {t, pads}, {p}, lite::PadOptions{});
  b.add_operator(lite::BuiltinOp::kHardSwish, {p}, {h}, lite::HardSwishOptions{});
  b.add_operator(lite::BuiltinOp::kPadV2, {h, pads2, c}, {p2}, lite::PadV2Options{});
  b.add_operator(lite::BuiltinOp::kLogistic, {p2}, {l});
  b.add_operator(lite::BuiltinOp::kTanh, {l}, {y});
  b.set_inputs({x});
  b.set_outputs({y});
  return b.build();
}

// A TF1-era uint8 chain: x uint8 [1, 6, 6, 3] -> CONV_2D -> DEPTHWISE_CONV_2D
// (RELU6) -> AVERAGE_POOL_2D -> RESHAPE -> FULLY_CONNECTED -> SOFTMAX; uint8
// weights with zero points, int32 biases.
lite::ModelDef uint8_model() {
  lite::ModelBuilder b;
  using lite::TensorType;
  using Q = lite::Quantization;
  const float sx = 1.0f / 128, sw1 = 0.02f, s1 = 0.1f, sw2 = 0.03f, s2 = 0.08f, sw3 = 0.05f;
  auto bytes = [](size_t n, int seed) {
    std::vector<uint8_t> v(n);
    for (size_t i = 0; i < n; ++i) v[i] = static_cast<uint8_t>((i * 37 + static_cast<size_t>(seed) * 11) % 256);
    return v;
  };
  const int32_t x = b.add_tensor("x", TensorType::kUInt8, {1, 6, 6, 3}, Q::per_tensor(sx, 128));
  const int32_t w1 = b.add_constant("w1", TensorType::kUInt8, {4, 3, 3, 3}, bytes(108, 1), Q::per_tensor(sw1, 120));
  const int32_t b1 = b.add_constant("b1", TensorType::kInt32, {4}, std::vector<int32_t>{100, -200, 300, 0}, Q::per_tensor(sx * sw1, 0));
  const int32_t c1 = b.add_tensor("c1", TensorType::kUInt8, {1, 6, 6, 4}, Q::per_tensor(s1, 10));
  const int32_t w2 = b.add_constant("w2", TensorType::kUInt8, {1, 3, 3, 4}, bytes(36, 2), Q::per_tensor(sw2, 130));
  const int32_t b2 = b.add_constant("b2", TensorType::kInt32, {4}, std::vector<int32_t>{5, 6, 7, 8}, Q::per_tensor(s1 * sw2, 0));
  const int32_t d = b.add_tensor("d", TensorType::kUInt8, {1, 6, 6, 4}, Q::per_tensor(s2, 0));
  const int32_t p = b.add_tensor("p", TensorType::kUInt8, {1, 1, 1, 4}, Q::per_tensor(s2, 0));
  const int32_t r = b.add_tensor("r", TensorType::kUInt8, {1, 4}, Q::per_tensor(s2, 0));
  const int32_t w3 = b.add_constant("w3", TensorType::kUInt8, {5, 4}, bytes(20, 3), Q::per_tensor(sw3, 100));
  const int32_t b3 = b.add_constant("b3", TensorType::kInt32, {5}, std::vector<int32_t>{1, 2, 3, 4, 5}, Q::per_tensor(s2 * sw3, 0));
  const int32_t f = b.add_tensor("f", TensorType::kUInt8, {1, 5}, Q::per_tensor(0.2f, 128));
  const int32_t y = b.add_tensor("y", TensorType::kUInt8, {1, 5}, Q::per_tensor(1.0f / 256, 0));
  lite::Conv2DOptions co;
  b.add_operator(lite::BuiltinOp::kConv2D, {x, w1, b1}, {c1}, co);
  lite::DepthwiseConv2DOptions dwo;
  dwo.activation = lite::Activation::kRelu6;
  b.add_operator(lite::BuiltinOp::kDepthwiseConv2D, {c1, w2, b2}, {d}, dwo);
  lite::Pool2DOptions po;
  po.filter_h = po.filter_w = 6;
  b.add_operator(lite::BuiltinOp::kAveragePool2D, {d}, {p}, po);
  b.add_operator(lite::BuiltinOp::kReshape, {p}, {r}, lite::ReshapeOptions{{-1, 4}});
  b.add_operator(lite::BuiltinOp::kFullyConnected, {r, w3, b3}, {f}, lite::FullyConnectedOptions{});
  b.add_operator(lite::BuiltinOp::kSoftmax, {f}, {y}, lite::SoftmaxOptions{});
  b.set_inputs({x});
  b.set_outputs({y});
  return b.build();
}

std::vector<std::vector<uint8_t>> models() {
  CnnSpec s;
  const CnnWeights w = make_cnn_weights(s);
  return {lite::write_model(int8_cnn(s, w, Int8CnnParams{})), lite::write_model(float_cnn(s, w)),
          lite::write_model(int8_mobile(3)), lite::write_model(float_mobile(4)),
          lite::write_model(shape_and_activation_model()), lite::write_model(uint8_model())};
}


TEST(RuntimeHostileFiles, EveryTruncationIsAnError) {
  for (const auto& good : models()) {
    ASSERT_EQ(load_and_run(good), Outcome::kRan);
    // Every length (the root offset, the vtables and the buffers all sit
    // somewhere): a flatbuffer cut short must fail verification.
    for (size_t n = 0; n < good.size(); n += 1 + n / 512) {
      const std::vector<uint8_t> cut(good.begin(), good.begin() + static_cast<std::ptrdiff_t>(n));
      EXPECT_EQ(load_and_run(cut), Outcome::kError) << "truncated to " << n << " of " << good.size();
    }
  }
}

TEST(RuntimeHostileFiles, RandomBitFlipsNeverCrash) {
  Rng rng(11);
  int ran = 0, refused = 0;
  for (const auto& good : models())
    for (int trial = 0; trial < 400; ++trial) {
      std::vector<uint8_t> bad = good;
      const int flips = 1 + static_cast<int>(rng.below(4));
      for (int f = 0; f < flips; ++f)
        bad[rng.below(bad.size())] ^= static_cast<uint8_t>(1u << rng.below(8));
      (load_and_run(bad) == Outcome::kRan ? ran : refused)++;
    }
  // Flips in weights and names leave runnable models; flips in offsets,
  // shapes and types must be refused. Both kinds occur in 2,000 trials.
  EXPECT_GT(ran, 0);
  EXPECT_GT(refused, 0);
}

TEST(RuntimeHostileFiles, OversizedDimensionsAreRefusedBeforeAllocating) {
  // 2^36 int8 activations: the reader accepts the shape (under 2^40
  // elements), the interpreter must refuse the plan, naming the limit.
  lite::ModelBuilder b;
  const auto q = lite::Quantization::per_tensor(0.1f, 0);
  const int32_t x = b.add_tensor("x", lite::TensorType::kInt8, {1, 1 << 16, 1 << 16, 16}, q);
  const int32_t y = b.add_tensor("y", lite::TensorType::kInt8, {1, 1 << 15, 1 << 15, 16}, q);
  b.add_operator(lite::BuiltinOp::kMaxPool2D, {x}, {y}, lite::Pool2DOptions{lite::Padding::kValid, 2, 2, 2, 2});
  b.set_inputs({x});
  b.set_outputs({y});
  try {
    Interpreter::from_model(b.build());
    FAIL() << "a 64 GiB input was planned";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("max_arena_bytes"), std::string::npos) << e.what();
  }

  // A batch that would need more than the limit is refused and the
  // interpreter keeps its previous plan.
  CnnSpec s;
  InterpreterOptions o;
  o.max_arena_bytes = size_t{1} << 20;
  auto it = Interpreter::from_model(float_cnn(s, make_cnn_weights(s)), o);
  EXPECT_THROW(it->resize_batch(1 << 20), Error);
  EXPECT_EQ(it->batch(), 1);
  it->invoke();
}

lite::TensorDef& tensor_at(lite::ModelDef& m, int i) { return m.subgraphs[0].tensors[static_cast<size_t>(i)]; }
std::vector<uint8_t>& buffer_at(lite::ModelDef& m, int i) { return m.buffers[tensor_at(m, i).buffer]; }
void put_i32(std::vector<uint8_t>& buf, size_t k, int32_t v) { std::memcpy(buf.data() + 4 * k, &v, 4); }
void put_i64(std::vector<uint8_t>& buf, size_t k, int64_t v) { std::memcpy(buf.data() + 8 * k, &v, 8); }

// The operands of PAD, PADV2, TRANSPOSE, LOGISTIC, TANH and HARD_SWISH, made
// hostile one at a time in the otherwise valid model above: each is refused
// at load with a message naming the operator and what is wrong.
TEST(RuntimeHostileFiles, ShapeAndActivationOperandsAreCheckedAtLoad) {
  using lite::TensorType;
  ASSERT_EQ(load_and_run(lite::write_model(shape_and_activation_model())), Outcome::kRan);
  struct Case {
    const char* what;
    void (*edit)(lite::ModelDef&);
    const char* message;
  };
  // Tensor indices in shape_and_activation_model(): x 0, perm 1, t 2, pads 3,
  // p 4, h 5, pads2 6, c 7, p2 8, l 9, y 10.
  const Case cases[] = {
      {"perm entry repeated", [](lite::ModelDef& m) { put_i32(buffer_at(m, 1), 1, 0); }, "operator 0 (TRANSPOSE): perm"},
      {"perm entry out of range", [](lite::ModelDef& m) { put_i32(buffer_at(m, 1), 3, 4); }, "is not a permutation"},
      {"perm entry negative", [](lite::ModelDef& m) { put_i32(buffer_at(m, 1), 0, -1); }, "is not a permutation"},
      {"perm too short", [](lite::ModelDef& m) { tensor_at(m, 1).shape = {3}; buffer_at(m, 1).resize(12); }, "must have shape (4)"},
      {"perm of rank 2", [](lite::ModelDef& m) { tensor_at(m, 1).shape = {2, 2}; }, "must have shape (4)"},
      {"perm float", [](lite::ModelDef& m) { tensor_at(m, 1).type = TensorType::kFloat32; }, "must be INT32 or INT64"},
      {"transpose output type", [](lite::ModelDef& m) { tensor_at(m, 2).type = TensorType::kUInt8; tensor_at(m, 2).quantization.zero_point = {3}; },
       "TRANSPOSE with int8 input and uint8 output"},
      {"transpose output quantization", [](lite::ModelDef& m) { tensor_at(m, 2).quantization.scale = {0.07f}; },
       "must share scale and zero point"},
      {"transpose of rank 6", [](lite::ModelDef& m) {
         tensor_at(m, 0).shape = {1, 1, 1, 3, 5, 5};
         tensor_at(m, 1).shape = {6};
         buffer_at(m, 1) = std::vector<uint8_t>(24, 0);
         for (size_t k = 0; k < 6; ++k) put_i32(buffer_at(m, 1), k, static_cast<int32_t>(k));
       }, "ranks 1 to 5"},
      {"paddings negative", [](lite::ModelDef& m) { put_i32(buffer_at(m, 3), 2, -1); }, "negative padding"},
      {"paddings past int32", [](lite::ModelDef& m) { put_i32(buffer_at(m, 3), 3, 2147483647); }, "exceeds int32"},
      {"paddings [4, 3]", [](lite::ModelDef& m) { tensor_at(m, 3).shape = {2, 4}; }, "must have shape (4, 2)"},
      {"paddings [3, 2]", [](lite::ModelDef& m) { tensor_at(m, 3).shape = {3, 2}; buffer_at(m, 3).resize(24); }, "must have shape (4, 2)"},
      {"paddings uint8", [](lite::ModelDef& m) { tensor_at(m, 3).type = TensorType::kUInt8; tensor_at(m, 3).shape = {4, 8}; },
       "must be INT32 or INT64"},
      {"int64 paddings past int32", [](lite::ModelDef& m) { put_i64(buffer_at(m, 6), 3, int64_t{1} << 40); }, "exceeds int32"},
      {"int64 paddings negative", [](lite::ModelDef& m) { put_i64(buffer_at(m, 6), 5, -7); }, "negative padding"},
      {"pad output quantization", [](lite::ModelDef& m) { tensor_at(m, 4).quantization.zero_point = {4}; },
       "must share scale and zero point"},
      {"pad input without quantization", [](lite::ModelDef& m) { tensor_at(m, 4).quantization = {}; tensor_at(m, 2).quantization = {}; },
       "needs per-tensor quantization"},
      {"constant_values of two elements", [](lite::ModelDef& m) { tensor_at(m, 7).shape = {2}; buffer_at(m, 7).resize(2); },
       "must hold exactly one value"},
      {"constant_values int32", [](lite::ModelDef& m) { tensor_at(m, 7).type = TensorType::kInt32; buffer_at(m, 7).resize(4); },
       "differ in type"},
      {"constant_values quantization", [](lite::ModelDef& m) { tensor_at(m, 7).quantization.scale = {0.5f}; },
       "must share scale and zero point"},
      {"logistic output scale", [](lite::ModelDef& m) { tensor_at(m, 9).quantization.scale = {1.0f / 255}; },
       "must have scale 1/256"},
      {"logistic output per channel", [](lite::ModelDef& m) {
         tensor_at(m, 9).quantization = lite::Quantization::per_axis({1.0f / 256, 1.0f / 256, 1.0f / 256}, {-128, -128, -128}, 3);
       }, "needs per-tensor quantization"},
      {"tanh output float", [](lite::ModelDef& m) { tensor_at(m, 10).type = TensorType::kFloat32; tensor_at(m, 10).quantization = {}; },
       "TANH with int8 input and float32 output"},
      {"hard swish output multiplier >= 1", [](lite::ModelDef& m) { tensor_at(m, 5).quantization.scale = {0.0001f}; tensor_at(m, 7).quantization.scale = {0.0001f}; tensor_at(m, 8).quantization.scale = {0.0001f}; },
       "must be below 1"},
      {"hard swish input scale 1e30", [](lite::ModelDef& m) {
         for (int i : {0, 2, 4}) tensor_at(m, i).quantization.scale = {1e30f};
         for (int i : {5, 7, 8}) tensor_at(m, i).quantization.scale = {1e30f};
       }, "is too large"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.what);
    lite::ModelDef m = shape_and_activation_model();
    c.edit(m);
    const std::vector<uint8_t> bytes = lite::write_model(m, lite::WriteOptions{false});
    try {
      InterpreterOptions o;
      o.max_arena_bytes = size_t{64} << 20;
      Interpreter::from_buffer(bytes, o);
      ADD_FAILURE() << "loaded";
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find(c.message), std::string::npos) << e.what();
    }
    EXPECT_EQ(load_and_run(bytes), Outcome::kError);
  }
}

// A perm or paddings computed at run time (a graph input here) is read when
// the op is prepared at invoke: the file loads, values the op refuses fail
// the invoke in one line naming it, and good values run afterwards.
TEST(RuntimeHostileFiles, RunTimeShapeOperandsAreCheckedAtInvoke) {
  InterpreterOptions o;
  o.max_arena_bytes = size_t{64} << 20;
  auto invoke_with = [](Interpreter& it, const std::vector<int32_t>& values) -> std::string {
    const auto in = it.input_bytes(1);
    EXPECT_EQ(in.size(), values.size() * 4);
    std::memcpy(in.data(), values.data(), std::min(in.size(), values.size() * 4));
    try {
      it.invoke();
      return "";
    } catch (const Error& e) {
      return e.what();
    }
  };
  {
    lite::ModelDef m = shape_and_activation_model();
    tensor_at(m, 1).buffer = 0;  // perm
    m.subgraphs[0].inputs.push_back(1);
    auto it = Interpreter::from_buffer(lite::write_model(m, lite::WriteOptions{false}), o);
    for (const std::vector<int32_t>& perm : {std::vector<int32_t>{0, 0, 0, 0}, {0, 2, 3, 4}, {0, 1, 2, -1}}) {
      const std::string e = invoke_with(*it, perm);
      EXPECT_NE(e.find("operator 0 (TRANSPOSE): perm"), std::string::npos) << e;
      EXPECT_EQ(e.find('\n'), std::string::npos) << e;
    }
    EXPECT_EQ(invoke_with(*it, {0, 2, 3, 1}), "");
    EXPECT_EQ(it->output_info(0).shape, (Shape{1, 8, 8, 3}));
  }
  {
    lite::ModelDef m = shape_and_activation_model();
    tensor_at(m, 3).buffer = 0;  // paddings
    m.subgraphs[0].inputs.push_back(3);
    auto it = Interpreter::from_buffer(lite::write_model(m, lite::WriteOptions{false}), o);
    const std::vector<std::pair<std::vector<int32_t>, std::string>> bad = {
        {{0, 0, 0, 0, 0, -1, 0, 0}, "negative padding"},
        {{0, 0, 0, 2147483647, 0, 0, 0, 0}, "exceeds int32"},
        {{0, 0, 0, 100000, 0, 100000, 0, 0}, "max_arena_bytes"}};
    for (const auto& [pads, part] : bad) {
      const std::string e = invoke_with(*it, pads);
      EXPECT_NE(e.find(part), std::string::npos) << e;
      EXPECT_NE(e.find("(PAD)"), std::string::npos) << e;
      EXPECT_EQ(e.find('\n'), std::string::npos) << e;
    }
    EXPECT_LE(it->dynamic_bytes() + it->arena_bytes(), o.max_arena_bytes);
    EXPECT_EQ(invoke_with(*it, {0, 0, 0, 0, 0, 0, 0, 0}), "");
    EXPECT_EQ(it->output_info(0).shape, (Shape{1, 6, 6, 3}));
  }
}

// CUMSUM's axis and PADV2's constant_values fed at run time: extreme axes
// fail the invoke in one line naming the op, and the next good value runs;
// a padding value changes the output from invoke to invoke.
TEST(RuntimeHostileFiles, RunTimeCumsumAxisAndPadValueAreCheckedAtInvoke) {
  using lite::TensorType;
  lite::ModelBuilder b;
  const int32_t x = b.add_tensor("x", TensorType::kFloat32, {2, 3});
  const int32_t axis = b.add_tensor("axis", TensorType::kInt32, {});
  const int32_t c = b.add_tensor("c", TensorType::kFloat32, {2, 3});
  b.add_operator(lite::BuiltinOp::kCumsum, {x, axis}, {c}, lite::CumsumOptions{});
  const int32_t pads = b.add_constant("pads", TensorType::kInt32, {2, 2}, std::vector<int32_t>{0, 0, 1, 0});
  const int32_t v = b.add_tensor("v", TensorType::kFloat32, {});
  const int32_t y = b.add_tensor("y", TensorType::kFloat32, {2, 4});
  b.add_operator(lite::BuiltinOp::kPadV2, {c, pads, v}, {y}, lite::PadV2Options{});
  b.set_inputs({x, axis, v});
  b.set_outputs({y});
  InterpreterOptions o;
  o.max_arena_bytes = size_t{64} << 20;
  auto it = Interpreter::from_model(b.build(), o);
  const float xs[6] = {1, 2, 3, 4, 5, 6};
  std::memcpy(it->input_bytes(0).data(), xs, sizeof xs);
  auto invoke_with = [&](int32_t a, float value) -> std::string {
    std::memcpy(it->input_bytes(1).data(), &a, 4);
    std::memcpy(it->input_bytes(2).data(), &value, 4);
    try {
      it->invoke();
      return "";
    } catch (const Error& e) {
      return e.what();
    }
  };
  auto out = [&] {
    std::vector<float> r(8);
    std::memcpy(r.data(), it->output_bytes(0).data(), 32);
    return r;
  };
  for (int32_t a : {2, -3, 1 << 30, -2147483647 - 1, 2147483647}) {
    const std::string e = invoke_with(a, 0.0f);
    EXPECT_NE(e.find("(CUMSUM): axis"), std::string::npos) << e;
    EXPECT_EQ(e.find('\n'), std::string::npos) << e;
    EXPECT_EQ(invoke_with(1, 9.0f), "");
    EXPECT_EQ(out(), (std::vector<float>{9, 1, 3, 6, 9, 4, 9, 15}));
  }
  EXPECT_EQ(invoke_with(-2, -0.5f), "");
  EXPECT_EQ(out(), (std::vector<float>{-0.5f, 1, 2, 3, -0.5f, 5, 7, 9}));
}

// Paddings whose padded tensor is far beyond memory: refused by the plan's
// limit, not allocated.
TEST(RuntimeHostileFiles, HugePaddingIsRefusedBeforeAllocating) {
  lite::ModelBuilder b;
  using lite::TensorType;
  const int32_t x = b.add_tensor("x", TensorType::kFloat32, {1, 4});
  const int32_t p = b.add_constant("p", TensorType::kInt32, {2, 2}, std::vector<int32_t>{0, 0, 0, 2000000000});
  const int32_t y = b.add_tensor("y", TensorType::kFloat32, {1, 2000000004});
  b.add_operator(lite::BuiltinOp::kPad, {x, p}, {y});
  b.set_inputs({x});
  b.set_outputs({y});
  InterpreterOptions o;
  o.max_arena_bytes = size_t{64} << 20;
  try {
    Interpreter::from_model(b.build(), o);
    FAIL() << "an 8 GB output was planned";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("max_arena_bytes"), std::string::npos) << e.what();
  }
}

// The uint8 readers refuse inconsistent quantization with one clear line.
TEST(RuntimeHostileFiles, UInt8QuantizationIsCheckedAtLoad) {
  using lite::TensorType;
  ASSERT_EQ(load_and_run(lite::write_model(uint8_model())), Outcome::kRan);
  struct Case {
    const char* what;
    void (*edit)(lite::ModelDef&);
    const char* message;
  };
  // Tensor indices in uint8_model(): x 0, w1 1, b1 2, c1 3, w2 4, b2 5, d 6,
  // p 7, r 8, w3 9, b3 10, f 11, y 12.
  const Case cases[] = {
      {"weight zero point 256", [](lite::ModelDef& m) { tensor_at(m, 1).quantization.zero_point = {256}; },
       "outside the range of"},
      {"weight zero point -1", [](lite::ModelDef& m) { tensor_at(m, 4).quantization.zero_point = {-1}; },
       "outside the range of"},
      {"input zero point 300", [](lite::ModelDef& m) { tensor_at(m, 0).quantization.zero_point = {300}; },
       "outside the range of"},
      {"weight scale 0", [](lite::ModelDef& m) { tensor_at(m, 1).quantization.scale = {0.0f}; }, "scale"},
      {"weight scale negative", [](lite::ModelDef& m) { tensor_at(m, 9).quantization.scale = {-0.5f}; }, "scale"},
      {"weight scale NaN", [](lite::ModelDef& m) { tensor_at(m, 4).quantization.scale = {std::nanf("")}; }, "scale"},
      {"activation scale infinite", [](lite::ModelDef& m) { tensor_at(m, 3).quantization.scale = {INFINITY}; }, "scale"},
      {"two scales, one zero point", [](lite::ModelDef& m) { tensor_at(m, 1).quantization.scale = {0.02f, 0.02f}; },
       "zero points"},
      {"per-channel uint8 filter", [](lite::ModelDef& m) {
         tensor_at(m, 1).quantization = lite::Quantization::per_axis({0.02f, 0.02f, 0.02f, 0.02f}, {120, 120, 120, 120}, 0);
       }, "operator 0 (CONV_2D): filter"},
      {"per-channel uint8 depthwise filter", [](lite::ModelDef& m) {
         tensor_at(m, 4).quantization = lite::Quantization::per_axis({0.03f, 0.03f, 0.03f, 0.03f}, {130, 130, 130, 130}, 3);
       }, "needs per-tensor quantization"},
      {"uint8 weights without quantization", [](lite::ModelDef& m) { tensor_at(m, 9).quantization = {}; },
       "needs per-tensor quantization"},
      {"int8 filter under uint8 input", [](lite::ModelDef& m) {
         tensor_at(m, 1).type = TensorType::kInt8;
         tensor_at(m, 1).quantization.zero_point = {0};
       }, "unsupported type combination: inputs (UINT8, INT8, INT32) -> output UINT8"},
      {"conv output int8", [](lite::ModelDef& m) {
         tensor_at(m, 3).type = TensorType::kInt8;
         tensor_at(m, 3).quantization.zero_point = {0};
       }, "CONV_2D with uint8 input and int8 output"},
      {"bias scale", [](lite::ModelDef& m) { tensor_at(m, 5).quantization.scale = {1.0f}; },
       "differs from input scale x weight scale"},
      {"bias zero point", [](lite::ModelDef& m) { tensor_at(m, 10).quantization.zero_point = {3}; }, "zero point must be 0"},
      {"pool changes quantization", [](lite::ModelDef& m) { tensor_at(m, 7).quantization.zero_point = {4}; },
       "must share scale and zero point"},
      {"softmax output zero point", [](lite::ModelDef& m) { tensor_at(m, 12).quantization.zero_point = {128}; },
       "must have zero point 0"},
      {"softmax output scale", [](lite::ModelDef& m) { tensor_at(m, 12).quantization.scale = {1.0f / 255}; },
       "must have scale 1/256"},
      {"depthwise filter not constant", [](lite::ModelDef& m) { tensor_at(m, 4).buffer = 0; m.subgraphs[0].inputs.push_back(4); },
       "operator 1 (DEPTHWISE_CONV_2D): filter 'w2' UINT8 (1, 3, 3, 4) must be constant"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.what);
    lite::ModelDef m = uint8_model();
    c.edit(m);
    const std::vector<uint8_t> bytes = lite::write_model(m, lite::WriteOptions{false});
    try {
      InterpreterOptions o;
      o.isa = Isa::kAvx2;
      if (!kernels::int8_isa_available(Isa::kAvx2)) o.isa = Isa::kReference;
      Interpreter::from_buffer(bytes, o);
      ADD_FAILURE() << "loaded";
    } catch (const Error& e) {
      const std::string msg = e.what();
      EXPECT_NE(msg.find(c.message), std::string::npos) << msg;
      EXPECT_EQ(msg.find('\n'), std::string::npos) << "one line: " << msg;
    }
    EXPECT_EQ(load_and_run(bytes), Outcome::kError);
  }
}

// Variable tensors (an LSTM's state) from a hostile file: a constant buffer,
// sizes that disagree with the op, empty or huge dimensions. One line each,
// never a crash or an allocation the file dictates.
TEST(RuntimeHostileFiles, VariableTensorsAreCheckedAtLoad) {
  ASSERT_EQ(Interpreter::from_buffer(lite::write_model(lstm_model(LstmSpec{})))->num_variables(), 2u);
  struct Case {
    const char* what;
    void (*edit)(lite::ModelDef&);
    const char* message;
  };
  auto state = [](lite::ModelDef& m, size_t k) -> lite::TensorDef& {
    return m.subgraphs[0].tensors[static_cast<size_t>(m.subgraphs[0].operators[0].inputs[k])];
  };
  static decltype(state) st = state;
  const Case cases[] = {
      {"variable with a constant buffer", [](lite::ModelDef& m) {
         m.buffers.push_back(std::vector<uint8_t>(6, 0));
         st(m, 18).buffer = static_cast<uint32_t>(m.buffers.size() - 1);
       }, "has a constant buffer"},
      {"output state too small", [](lite::ModelDef& m) { st(m, 18).shape = {1, 5}; }, "output state"},
      {"cell state too large", [](lite::ModelDef& m) { st(m, 19).shape = {2, 6}; }, "cell state"},
      {"variable with an empty dimension", [](lite::ModelDef& m) { st(m, 19).shape = {0, 6}; }, "dimension below 1"},
      {"variable of 2^36 elements", [](lite::ModelDef& m) { st(m, 18).shape = {1 << 20, 1 << 10, 64}; },
       "max_arena_bytes"},
      {"cell state int8", [](lite::ModelDef& m) { st(m, 19).type = lite::TensorType::kInt8; }, "int16 cell state"},
      {"variable graph input", [](lite::ModelDef& m) { m.subgraphs[0].inputs.push_back(m.subgraphs[0].operators[0].inputs[18]); },
       "is a variable tensor"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.what);
    lite::ModelDef m = lstm_model(LstmSpec{});
    c.edit(m);
    try {
      InterpreterOptions o;
      o.max_arena_bytes = size_t{64} << 20;
      Interpreter::from_buffer(lite::write_model(m, lite::WriteOptions{false}), o);
      ADD_FAILURE() << "loaded";
    } catch (const Error& e) {
      const std::string msg = e.what();
      EXPECT_NE(msg.find(c.message), std::string::npos) << msg;
      EXPECT_EQ(msg.find('\n'), std::string::npos) << "one line: " << msg;
    }
  }
}

}  // namespace
}  // namespace qlite::test
