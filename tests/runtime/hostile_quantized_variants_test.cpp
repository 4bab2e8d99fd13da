// Hostile files for the quantized variants of int16 LOGISTIC, TANH, SOFTMAX,
// SUB, uint8 DIV, int8 RSQRT and 8-bit LOG_SOFTMAX / L2_NORMALIZATION: every scale and zero point a file gives them is
// untrusted. Zero, negative, subnormal, huge, infinite and NaN scales and
// zero points TFLite refuses either run or are refused in one line naming
// the op (or the tensor, for scales the reader refuses), never crash; bit flips of a chain of them end in qlite::Error or a
// model that runs.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <exception>
#include <limits>
#include <string>
#include <vector>

#include "qlite/runtime.h"
#include "runtime_models.h"

namespace qlite::test {
namespace {

using runtime::Interpreter;
using T = TensorType;

enum class Outcome { kRan, kError };

Outcome load_and_run(const std::vector<uint8_t>& bytes, std::string* error = nullptr) {
  try {
    runtime::InterpreterOptions o;
    o.max_arena_bytes = size_t{64} << 20;
    auto it = Interpreter::from_buffer(bytes, o);
    for (size_t i = 0; i < it->num_inputs(); ++i) {
      auto in = it->input_bytes(i);
      for (size_t k = 0; k < in.size(); ++k) std::memset(in.data() + k, static_cast<int>(k * 37 % 251), 1);
    }
    it->invoke();
    return Outcome::kRan;
  } catch (const Error& e) {
    if (error) *error = e.what();
    return Outcome::kError;
  } catch (const std::exception& e) {
    ADD_FAILURE() << "exception other than qlite::Error: " << e.what();
    return Outcome::kError;
  }
}

// The writer refuses invalid scales, so a file with them is made by
// overwriting two sentinel scales in the written bytes.
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

std::vector<uint8_t> unary(BuiltinOp op, T type, float in_scale, int64_t in_zp, float out_scale, int64_t out_zp,
                           std::vector<int32_t> shape = {2, 8}) {
  ModelBuilder b;
  const int32_t x = b.add_tensor("x", type, shape, Quantization::per_tensor(kInSentinel, in_zp));
  const int32_t y = b.add_tensor("y", type, shape, Quantization::per_tensor(kOutSentinel, out_zp));
  lite::OpOptions o;
  if (op == BuiltinOp::kSoftmax) o = lite::SoftmaxOptions{1.0f};
  if (op == BuiltinOp::kLogSoftmax) o = lite::LogSoftmaxOptions{};
  if (op == BuiltinOp::kL2Normalization) o = lite::L2NormOptions{};
  b.add_operator(op, {x}, {y}, o);
  b.set_inputs({x});
  b.set_outputs({y});
  std::vector<uint8_t> bytes = b.finish();
  patch_float(bytes, kInSentinel, in_scale);
  patch_float(bytes, kOutSentinel, out_scale);
  return bytes;
}

const char* name_of(BuiltinOp op) {
  switch (op) {
    case BuiltinOp::kLogistic: return "LOGISTIC";
    case BuiltinOp::kTanh: return "TANH";
    case BuiltinOp::kSoftmax: return "SOFTMAX";
    case BuiltinOp::kLogSoftmax: return "LOG_SOFTMAX";
    case BuiltinOp::kL2Normalization: return "L2_NORMALIZATION";
    default: return "RSQRT";
  }
}

TEST(RuntimeHostileQuantizedVariants, HostileScalesAndZeroPointsAreRefusedInOneLine) {
  const float inf = std::numeric_limits<float>::infinity(), nan = std::numeric_limits<float>::quiet_NaN();
  const float scales[] = {0.0f, -1.0f, 1e-45f, 1e-30f, 1e-13f, 3e5f, 3e38f, inf, nan, 1.0f / 32768};
  int ran = 0, refused = 0;
  for (BuiltinOp op : {BuiltinOp::kLogistic, BuiltinOp::kTanh, BuiltinOp::kSoftmax, BuiltinOp::kRsqrt,
                       BuiltinOp::kLogSoftmax, BuiltinOp::kL2Normalization}) {
    const bool int16 = op == BuiltinOp::kLogistic || op == BuiltinOp::kTanh || op == BuiltinOp::kSoftmax;
    const T type = int16 ? T::kInt16 : T::kInt8;
    const float fixed_out = int16 ? 1.0f / 32768 : op == BuiltinOp::kLogSoftmax ? 16.0f / 256 : 1.0f / 128;
    const int64_t fixed_zp = op == BuiltinOp::kLogSoftmax ? 127 : 0;
    const std::vector<int64_t> zps = int16 ? std::vector<int64_t>{0, 1, -1234} : std::vector<int64_t>{0, -128, 127};
    for (float si : scales)
      for (float so : {fixed_out, si})
        for (int64_t zp : zps) {
          std::string error;
          const Outcome r = load_and_run(unary(op, type, si, zp, so, so == fixed_out ? fixed_zp : zp), &error);
          if (r == Outcome::kRan) {
            ++ran;
            continue;
          }
          ++refused;
          // The reader refuses scales that are not finite and positive,
          // naming the tensor; the op refuses the rest, naming itself.
          EXPECT_TRUE(error.find(name_of(op)) != std::string::npos || error.find("tensor 0 'x'") != std::string::npos ||
                      error.find("tensor 1 'y'") != std::string::npos)
              << error;
          EXPECT_EQ(error.find('\n'), std::string::npos) << error;
        }
  }
  EXPECT_GT(ran, 10);
  EXPECT_GT(refused, 100);
}

TEST(RuntimeHostileQuantizedVariants, Int16SoftmaxOfRank5AndBroadcastPowerOfTwoSubAreRefused) {
  std::string error;
  EXPECT_EQ(load_and_run(unary(BuiltinOp::kSoftmax, T::kInt16, 0.01f, 0, 1.0f / 32768, 0, {1, 2, 1, 2, 4}), &error),
            Outcome::kError);
  EXPECT_NE(error.find("SOFTMAX"), std::string::npos) << error;
  ModelBuilder b;
  const int32_t x = b.add_tensor("x", T::kInt16, {2, 4}, Quantization::per_tensor(1.0f / 1024, 0));
  const int32_t k = b.add_constant("k", T::kInt16, {4}, std::vector<int16_t>{1, 2, 3, 4},
                                   Quantization::per_tensor(1.0f / 4096, 0));
  const int32_t y = b.add_tensor("y", T::kInt16, {2, 4}, Quantization::per_tensor(1.0f / 1024, 0));
  b.add_operator(BuiltinOp::kSub, {x, k}, {y}, lite::SubOptions{});
  b.set_inputs({x});
  b.set_outputs({y});
  EXPECT_EQ(load_and_run(b.finish(), &error), Outcome::kError);
  EXPECT_NE(error.find("SUB"), std::string::npos) << error;
  EXPECT_NE(error.find("broadcast"), std::string::npos) << error;
}

TEST(RuntimeHostileQuantizedVariants, Uint8DivWithAnUnusableMultiplierIsRefused) {
  ModelBuilder b;
  const int32_t x = b.add_tensor("x", T::kUInt8, {4}, Quantization::per_tensor(1000.0f, 0));
  const int32_t d = b.add_tensor("d", T::kUInt8, {4}, Quantization::per_tensor(1e-4f, 0));
  const int32_t y = b.add_tensor("y", T::kUInt8, {4}, Quantization::per_tensor(1e-4f, 0));
  b.add_operator(BuiltinOp::kDiv, {x, d}, {y}, lite::DivOptions{});
  b.set_inputs({x, d});
  b.set_outputs({y});
  std::string error;
  EXPECT_EQ(load_and_run(b.finish(), &error), Outcome::kError);
  EXPECT_NE(error.find("DIV"), std::string::npos) << error;
  EXPECT_EQ(error.find('\n'), std::string::npos) << error;
}

TEST(RuntimeHostileQuantizedVariants, BitFlipsOfAChainNeverCrash) {
  ModelBuilder b;
  const int32_t x = b.add_tensor("x", T::kInt16, {3, 16}, Quantization::per_tensor(1.0f / 4096, 0));
  const int32_t t1 = b.add_tensor("t1", T::kInt16, {3, 16}, Quantization::per_tensor(1.0f / 32768, 0));
  const int32_t t2 = b.add_tensor("t2", T::kInt16, {3, 16}, Quantization::per_tensor(1.0f / 32768, 0));
  const int32_t t3 = b.add_tensor("t3", T::kInt16, {3, 16}, Quantization::per_tensor(1.0f / 32768, 0));
  const int32_t y = b.add_tensor("y", T::kInt16, {3, 16}, Quantization::per_tensor(1.0f / 32768, 0));
  b.add_operator(BuiltinOp::kLogistic, {x}, {t1}, lite::OpOptions{});
  b.add_operator(BuiltinOp::kTanh, {x}, {t2}, lite::OpOptions{});
  b.add_operator(BuiltinOp::kSub, {t1, t2}, {t3}, lite::SubOptions{});
  b.add_operator(BuiltinOp::kSoftmax, {t3}, {y}, lite::SoftmaxOptions{1.0f});
  b.set_inputs({x});
  b.set_outputs({y});
  const std::vector<uint8_t> good = b.finish();
  ASSERT_EQ(load_and_run(good), Outcome::kRan);
  Rng rng(1608);
  int ran = 0, refused = 0;
  for (int i = 0; i < 600; ++i) {
    std::vector<uint8_t> bad = good;
    const int flips = 1 + static_cast<int>(rng.below(3));
    for (int f = 0; f < flips; ++f) bad[rng.below(bad.size())] ^= static_cast<uint8_t>(1u << rng.below(8));
    (load_and_run(bad) == Outcome::kRan ? ran : refused) += 1;
  }
  EXPECT_GT(ran, 0);
  EXPECT_GT(refused, 0);
}

}  // namespace
}  // namespace qlite::test
