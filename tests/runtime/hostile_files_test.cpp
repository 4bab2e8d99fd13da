// Hostile .tflite files through the whole load path (read and validate,
// prepare, memory plan, invoke): truncations, bit flips and oversized
// dimensions end in qlite::Error or in a model that runs, never in a crash,
// another exception type or an allocation the file alone decides.
#include <gtest/gtest.h>

#include <cstring>
#include <exception>
#include <vector>

#include "qlite/runtime.h"
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

std::vector<std::vector<uint8_t>> models() {
  CnnSpec s;
  const CnnWeights w = make_cnn_weights(s);
  return {lite::write_model(int8_cnn(s, w, Int8CnnParams{})), lite::write_model(float_cnn(s, w)),
          lite::write_model(int8_mobile(3)), lite::write_model(float_mobile(4))};
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
  // shapes and types must be refused. Both kinds occur in 1,600 trials.
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

}  // namespace
}  // namespace qlite::test
