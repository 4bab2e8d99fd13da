// Hostile files for the type combinations of types16 (int16 pools, MUL int16 ->
// 8-bit, SOFTMAX 8-bit -> int16, MEAN of int16 / int32 / int64, SUM int16,
// quantized REDUCE_PROD, DEPTHWISE_CONV_2D 16x8 and hybrid): every scale,
// zero point, axis and size the file gives them is untrusted. Each case runs
// or is refused in one line naming the op (or the tensor, for scales the
// reader refuses); bit flips of a chain of them end in qlite::Error or a model
// that runs, at the file's batch and at batch 2.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <tuple>
#include <algorithm>
#include <string>
#include <vector>

#include "hostile_run.h"
#include "qlite/runtime.h"
#include "runtime_models.h"

namespace qlite::test {
namespace {

using T = TensorType;

std::string run_error(const std::vector<uint8_t>& bytes) {
  try {
    runtime::InterpreterOptions o;
    o.max_arena_bytes = size_t{64} << 20;
    auto it = runtime::Interpreter::from_buffer(bytes, o);
    for (size_t i = 0; i < it->num_inputs(); ++i) {
      auto in = it->input_bytes(i);
      for (size_t k = 0; k < in.size(); ++k) in[k] = std::byte{static_cast<unsigned char>(k * 37 % 251)};
    }
    it->invoke();
    return "";
  } catch (const Error& e) {
    const std::string s = e.what();
    return s.empty() ? "(empty error)" : s;
  }
}

constexpr float kInSentinel = 0.0123456789f, kOutSentinel = 0.0987654321f;

void patch_float(std::vector<uint8_t>& bytes, float from, float to) {
  uint8_t f[4], t[4];
  std::memcpy(f, &from, 4);
  std::memcpy(t, &to, 4);
  int found = 0;
  for (size_t i = 0; i + 4 <= bytes.size(); ++i)
    if (std::memcmp(&bytes[i], f, 4) == 0) std::memcpy(&bytes[i], t, 4), ++found;
  ASSERT_EQ(found, 1);
}

struct Case {
  const char* op;
  std::vector<uint8_t> bytes;  // with the two sentinel scales
};

// One op per case, input scale kInSentinel, output scale kOutSentinel.
std::vector<Case> cases(int64_t zp) {
  std::vector<Case> r;
  auto q_in = [&](int64_t z) { return Quantization::per_tensor(kInSentinel, z); };
  auto q_out = [&](int64_t z) { return Quantization::per_tensor(kOutSentinel, z); };
  {
    ModelBuilder b;
    const int32_t x = b.add_tensor("x", T::kInt8, {2, 8}, q_in(std::clamp<int64_t>(zp, -128, 127)));
    const int32_t y = b.add_tensor("y", T::kInt16, {2, 8}, q_out(zp));
    b.add_operator(BuiltinOp::kSoftmax, {x}, {y}, lite::SoftmaxOptions{1.0f});
    b.set_inputs({x});
    b.set_outputs({y});
    r.push_back({"SOFTMAX", b.finish()});
  }
  for (T t : {T::kInt8, T::kUInt8}) {
    ModelBuilder b;
    const int32_t x = b.add_tensor("x", T::kInt16, {2, 8}, q_in(zp));
    const int32_t x2 = b.add_tensor("x2", T::kInt16, {2, 8}, Quantization::per_tensor(1.0f / 32768, 0));
    const int32_t y = b.add_tensor("y", t, {2, 8}, q_out(t == T::kInt8 ? std::clamp<int64_t>(zp, -128, 127)
                                                                         : std::clamp<int64_t>(zp, 0, 255)));
    b.add_operator(BuiltinOp::kMul, {x, x2}, {y}, lite::MulOptions{Activation::kRelu6});
    b.set_inputs({x, x2});
    b.set_outputs({y});
    r.push_back({"MUL", b.finish()});
  }
  for (BuiltinOp op : {BuiltinOp::kMaxPool2D, BuiltinOp::kAveragePool2D}) {
    ModelBuilder b;
    const int32_t x = b.add_tensor("x", T::kInt16, {1, 4, 4, 2}, q_in(zp));
    const int32_t y = b.add_tensor("y", T::kInt16, {1, 2, 2, 2}, q_out(zp));
    lite::Pool2DOptions o;
    o.filter_h = o.filter_w = o.stride_h = o.stride_w = 2;
    o.activation = Activation::kRelu6;
    b.add_operator(op, {x}, {y}, o);
    b.set_inputs({x});
    b.set_outputs({y});
    r.push_back({op == BuiltinOp::kMaxPool2D ? "MAX_POOL_2D" : "AVERAGE_POOL_2D", b.finish()});
  }
  for (auto [op, type, keep] : {std::tuple{BuiltinOp::kMean, T::kInt16, true}, std::tuple{BuiltinOp::kMean, T::kInt16, false},
                                std::tuple{BuiltinOp::kReduceProd, T::kInt8, false},
                                std::tuple{BuiltinOp::kReduceProd, T::kInt16, true}}) {
    ModelBuilder b;
    const int64_t z = type == T::kInt8 ? std::clamp<int64_t>(zp, -128, 127) : zp;
    const int32_t x = b.add_tensor("x", type, {2, 3, 3, 2}, q_in(z));
    const int32_t ax = b.add_constant("axes", T::kInt32, {2}, std::vector<int32_t>{1, 2});
    const int32_t y = b.add_tensor("y", type, keep ? std::vector<int32_t>{2, 1, 1, 2} : std::vector<int32_t>{2, 2}, q_out(z));
    b.add_operator(op, {x, ax}, {y}, lite::ReducerOptions{keep});
    b.set_inputs({x});
    b.set_outputs({y});
    r.push_back({op == BuiltinOp::kMean ? "MEAN" : "REDUCE_PROD", b.finish()});
  }
  {
    ModelBuilder b;
    const int32_t x = b.add_tensor("x", T::kInt16, {1, 4, 4, 2}, q_in(zp));
    const int32_t w = b.add_constant("w", T::kInt8, {1, 3, 3, 2}, std::vector<int8_t>(18, 5),
                                     Quantization::per_axis({0.01f, 0.02f}, {0, 0}, 3));
    const int32_t bias = b.add_constant("bias", T::kInt64, {2}, std::vector<int64_t>{5, -5},
                                        Quantization::per_axis({1e-4f, 2e-4f}, {0, 0}, 0));
    const int32_t y = b.add_tensor("y", T::kInt16, {1, 4, 4, 2}, q_out(zp));
    b.add_operator(BuiltinOp::kDepthwiseConv2D, {x, w, bias}, {y}, lite::DepthwiseConv2DOptions{});
    b.set_inputs({x});
    b.set_outputs({y});
    r.push_back({"DEPTHWISE_CONV_2D", b.finish()});
  }
  return r;
}

TEST(RuntimeHostileTypes16, HostileScalesAndZeroPointsRunOrAreRefusedInOneLine) {
  const float inf = std::numeric_limits<float>::infinity(), nan = std::numeric_limits<float>::quiet_NaN();
  const float scales[] = {0.0f, -1.0f, 1e-45f, 1e-30f, 1e-13f, 3e5f, 3e38f, inf, nan, 1.0f / 32768, 0.05f};
  int ran = 0, refused = 0;
  for (int64_t zp : {int64_t{0}, int64_t{1}, int64_t{-1234}, int64_t{32767}})
    for (Case& c : cases(zp))
      for (float si : scales)
        for (float so : {1.0f / 32768, si}) {
          std::vector<uint8_t> bytes = c.bytes;
          patch_float(bytes, kInSentinel, si);
          patch_float(bytes, kOutSentinel, so);
          const std::string error = run_error(bytes);
          if (error.empty()) {
            ++ran;
            continue;
          }
          ++refused;
          EXPECT_TRUE(error.find(c.op) != std::string::npos || error.find("tensor 0 'x'") != std::string::npos ||
                      error.find("'y'") != std::string::npos || error.find("'x2'") != std::string::npos)
              << c.op << ": " << error;
          EXPECT_EQ(error.find('\n'), std::string::npos) << error;
        }
  std::printf("hostile types16 scales: %d ran, %d refused\n", ran, refused);
  EXPECT_GT(ran, 20);
  EXPECT_GT(refused, 200);
}

// Sizes and axes no kernel can take are refused in one line naming the op.
TEST(RuntimeHostileTypes16, HostileSizesAndAxesAreRefused) {
  auto expect_refused = [](const std::vector<uint8_t>& bytes, const char* op, const char* what) {
    const std::string error = run_error(bytes);
    EXPECT_NE(error.find(op), std::string::npos) << what << ": '" << error << "'";
    EXPECT_EQ(error.find('\n'), std::string::npos) << error;
  };
  {  // int16 average over more taps than TFLite's int32 sum holds
    ModelBuilder b;
    const int32_t x = b.add_tensor("x", T::kInt16, {1, 300, 300, 1}, Quantization::per_tensor(1.0f / 1024, 0));
    const int32_t y = b.add_tensor("y", T::kInt16, {1, 1, 1, 1}, Quantization::per_tensor(1.0f / 1024, 0));
    lite::Pool2DOptions o;
    o.filter_h = o.filter_w = 300;
    o.stride_h = o.stride_w = 1;
    b.add_operator(BuiltinOp::kAveragePool2D, {x}, {y}, o);
    b.set_inputs({x});
    b.set_outputs({y});
    expect_refused(b.finish(), "AVERAGE_POOL_2D", "window of 90000 taps");
  }
  for (std::vector<int32_t> axes : {std::vector<int32_t>{7}, std::vector<int32_t>{-9}}) {  // axes outside the rank
    for (T t : {T::kInt16, T::kInt32, T::kInt64}) {
      ModelBuilder b;
      const Quantization q = t == T::kInt16 ? Quantization::per_tensor(1.0f / 1024, 0) : Quantization{};
      const int32_t x = b.add_tensor("x", t, {2, 3}, q);
      const int32_t ax = b.add_constant("axes", T::kInt32, {1}, axes);
      const int32_t y = b.add_tensor("y", t, {2, 3}, q);
      b.add_operator(BuiltinOp::kMean, {x, ax}, {y}, lite::ReducerOptions{true});
      b.set_inputs({x});
      b.set_outputs({y});
      expect_refused(b.finish(), "MEAN", "axis outside the rank");
    }
  }
  {  // a mean over an empty dimension
    ModelBuilder b;
    const int32_t x = b.add_tensor("x", T::kInt32, {2, 0, 3});
    const int32_t ax = b.add_constant("axes", T::kInt32, {1}, std::vector<int32_t>{1});
    const int32_t y = b.add_tensor("y", T::kInt32, {2, 3});
    b.add_operator(BuiltinOp::kMean, {x, ax}, {y}, lite::ReducerOptions{false});
    b.set_inputs({x});
    b.set_outputs({y});
    const std::string error = run_error(b.finish());
    EXPECT_FALSE(error.empty());
    EXPECT_EQ(error.find('\n'), std::string::npos) << error;
  }
  {  // REDUCE_PROD whose per-step scaling leaves TFLite's range
    ModelBuilder b;
    const int32_t x = b.add_tensor("x", T::kInt8, {1, 4}, Quantization::per_tensor(1000.0f, 0));
    const int32_t ax = b.add_constant("axes", T::kInt32, {1}, std::vector<int32_t>{1});
    const int32_t y = b.add_tensor("y", T::kInt8, {1}, Quantization::per_tensor(1e-6f, 0));
    b.add_operator(BuiltinOp::kReduceProd, {x, ax}, {y}, lite::ReducerOptions{false});
    b.set_inputs({x});
    b.set_outputs({y});
    expect_refused(b.finish(), "REDUCE_PROD", "scaling beyond 2^7");
  }
  {  // hybrid depthwise with one filter scale for two channels
    ModelBuilder b;
    const int32_t x = b.add_tensor("x", T::kFloat32, {1, 4, 4, 2});
    const int32_t w = b.add_constant("w", T::kInt8, {1, 3, 3, 2}, std::vector<int8_t>(18, 1),
                                     Quantization::per_tensor(0.01f, 0));
    const int32_t bias = b.add_constant("bias", T::kFloat32, {2}, std::vector<float>{0.0f, 1.0f});
    const int32_t y = b.add_tensor("y", T::kFloat32, {1, 4, 4, 2});
    b.add_operator(BuiltinOp::kDepthwiseConv2D, {x, w, bias}, {y}, lite::DepthwiseConv2DOptions{});
    b.set_inputs({x});
    b.set_outputs({y});
    expect_refused(b.finish(), "DEPTHWISE_CONV_2D", "hybrid with one scale");
  }
  {  // 16x8 depthwise whose bias has the wrong length
    ModelBuilder b;
    const int32_t x = b.add_tensor("x", T::kInt16, {1, 4, 4, 2}, Quantization::per_tensor(1.0f / 1024, 0));
    const int32_t w = b.add_constant("w", T::kInt8, {1, 3, 3, 2}, std::vector<int8_t>(18, 1),
                                     Quantization::per_axis({0.01f, 0.02f}, {0, 0}, 3));
    const int32_t bias = b.add_constant("bias", T::kInt64, {3}, std::vector<int64_t>{1, 2, 3},
                                        Quantization::per_axis({1e-5f, 2e-5f, 3e-5f}, {0, 0, 0}, 0));
    const int32_t y = b.add_tensor("y", T::kInt16, {1, 4, 4, 2}, Quantization::per_tensor(1.0f / 1024, 0));
    b.add_operator(BuiltinOp::kDepthwiseConv2D, {x, w, bias}, {y}, lite::DepthwiseConv2DOptions{});
    b.set_inputs({x});
    b.set_outputs({y});
    expect_refused(b.finish(), "DEPTHWISE_CONV_2D", "bias of 3 for 2 channels");
  }
}

// int16 MEAN and int8 REDUCE_PROD with axes fed at run time: extreme axes
// fail the invoke in one line naming the op; the next good axes run, and a
// spatial mean (a 4-D int8 MEAN over (1, 2), mean.cpp's path) and a general
// one (types16.cpp's) alternate in one interpreter.
TEST(RuntimeHostileTypes16, RunTimeAxesAreCheckedAtInvoke) {
  struct Case {
    BuiltinOp op;
    T t;
    const char* name;
  };
  for (const Case& c : {Case{BuiltinOp::kMean, T::kInt16, "(MEAN)"}, Case{BuiltinOp::kReduceProd, T::kInt8, "(REDUCE_PROD)"},
                        Case{BuiltinOp::kMean, T::kInt8, "(MEAN)"}}) {
    SCOPED_TRACE(c.name);
    ModelBuilder b;
    const Quantization q = c.t == T::kInt16 ? Quantization::per_tensor(1.0f / 1024, 0) : Quantization::per_tensor(0.05f, 1);
    const int32_t x = b.add_tensor("x", c.t, {1, 2, 3, 4}, q);
    const int32_t ax = b.add_tensor("axes", T::kInt32, {2});
    const int32_t y = b.add_tensor("y", c.t, {1, 1, 1, 4}, q);
    b.add_operator(c.op, {x, ax}, {y}, lite::ReducerOptions{true});
    b.set_inputs({x, ax});
    b.set_outputs({y});
    runtime::InterpreterOptions o;
    o.max_arena_bytes = size_t{64} << 20;
    auto it = runtime::Interpreter::from_buffer(b.finish(), o);
    std::memset(it->input_bytes(0).data(), 3, it->input_bytes(0).size());
    auto invoke_with = [&](std::vector<int32_t> axes) -> std::string {
      std::memcpy(it->input_bytes(1).data(), axes.data(), 8);
      try {
        it->invoke();
        return "";
      } catch (const Error& e) {
        return e.what();
      }
    };
    for (const std::vector<int32_t>& bad : {std::vector<int32_t>{4, 0}, {-5, 1}, {2147483647, 1}, {-2147483647 - 1, 0}}) {
      const std::string e = invoke_with(bad);
      EXPECT_NE(e.find(c.name), std::string::npos) << e;
      EXPECT_EQ(e.find('\n'), std::string::npos) << e;
      EXPECT_EQ(invoke_with({1, 2}), "");
      EXPECT_EQ(it->output_info(0).shape, (Shape{1, 1, 1, 4}));
      EXPECT_EQ(invoke_with({0, 3}), "");
      EXPECT_EQ(it->output_info(0).shape, (Shape{1, 2, 3, 1}));
    }
  }
}

TEST(RuntimeHostileTypes16, BitFlipsOfAChainNeverCrash) {
  ModelBuilder b;
  const Quantization q16 = Quantization::per_tensor(1.0f / 4096, 0);
  const int32_t x = b.add_tensor("x", T::kInt16, {1, 6, 6, 2}, q16);
  const int32_t w = b.add_constant("w", T::kInt8, {1, 3, 3, 4}, std::vector<int8_t>(36, 3),
                                   Quantization::per_axis({0.01f, 0.02f, 0.03f, 0.04f}, {0, 0, 0, 0}, 3));
  const int32_t t1 = b.add_tensor("t1", T::kInt16, {1, 6, 6, 4}, q16);
  const int32_t t2 = b.add_tensor("t2", T::kInt16, {1, 3, 3, 4}, q16);
  const int32_t t3 = b.add_tensor("t3", T::kInt16, {1, 3, 3, 4}, q16);
  const int32_t t4 = b.add_tensor("t4", T::kInt8, {1, 3, 3, 4}, Quantization::per_tensor(1.0f / 128, 0));
  const int32_t ax = b.add_constant("axes", T::kInt32, {2}, std::vector<int32_t>{1, 2});
  const int32_t t5 = b.add_tensor("t5", T::kInt8, {1, 4}, Quantization::per_tensor(1.0f / 128, 0));
  const int32_t y = b.add_tensor("y", T::kInt16, {1, 4}, Quantization::per_tensor(1.0f / 32768, 0));
  lite::DepthwiseConv2DOptions dw;
  dw.depth_multiplier = 2;
  b.add_operator(BuiltinOp::kDepthwiseConv2D, {x, w}, {t1}, dw);
  lite::Pool2DOptions pool;
  pool.filter_h = pool.filter_w = pool.stride_h = pool.stride_w = 2;
  b.add_operator(BuiltinOp::kMaxPool2D, {t1}, {t2}, pool);
  pool.filter_h = pool.filter_w = 3;
  pool.stride_h = pool.stride_w = 1;
  pool.padding = Padding::kSame;
  b.add_operator(BuiltinOp::kAveragePool2D, {t2}, {t3}, pool);
  b.add_operator(BuiltinOp::kMul, {t2, t3}, {t4}, lite::MulOptions{});
  b.add_operator(BuiltinOp::kReduceProd, {t4, ax}, {t5}, lite::ReducerOptions{false});
  b.add_operator(BuiltinOp::kSoftmax, {t5}, {y}, lite::SoftmaxOptions{1.0f});
  b.set_inputs({x});
  b.set_outputs({y});
  const std::vector<uint8_t> good = b.finish();
  ASSERT_EQ(load_and_run(good), HostileResult::kRan) << run_error(good);
  Rng rng(1667);
  int ran = 0, refused = 0;
  for (int i = 0; i < 600; ++i) {
    std::vector<uint8_t> bad = good;
    const int flips = 1 + static_cast<int>(rng.below(3));
    for (int f = 0; f < flips; ++f) bad[rng.below(bad.size())] ^= static_cast<uint8_t>(1u << rng.below(8));
    (load_and_run(bad) == HostileResult::kRan ? ran : refused) += 1;
  }
  EXPECT_GT(ran, 0);
  EXPECT_GT(refused, 0);
}

}  // namespace
}  // namespace qlite::test
