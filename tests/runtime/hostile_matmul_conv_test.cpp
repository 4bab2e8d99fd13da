// Hostile files for BATCH_MATMUL and TRANSPOSE_CONV: the output_shape values,
// strides, adj flags and tensor dimensions of valid files overwritten with
// extreme values one at a time, and random bit flips over the whole file.
// Every case ends in qlite::Error or in a model that runs (at the file's
// batch and at batch 2); never a crash, another exception or an
// out-of-bounds access (the sanitizer build runs this too). Also: the
// output of TRANSPOSE_CONV follows a resized batch image by image.
#include <gtest/gtest.h>

#include <climits>
#include <limits>
#include <string>
#include <cstring>
#include <exception>
#include <vector>

#include "qlite/runtime.h"
#include "hostile_run.h"
#include "runtime_models.h"

namespace qlite::test {
namespace {

using lite::TensorType;
using runtime::Interpreter;
using runtime::InterpreterOptions;
using BO = lite::BuiltinOp;

using Result = HostileResult;

// int8: x [1, 3, 3, 2] -> TRANSPOSE_CONV (stride 2, SAME, bias) [1, 6, 6, 3]
// -> BATCH_MATMUL with a constant rhs [3, 4] (adj_y) -> [1, 6, 6, 4];
// float32: x [1, 2, 2, 2] and the other operand forms (VALID, no bias, two
// computed BATCH_MATMUL operands).
lite::ModelDef chain(bool int8) {
  lite::ModelBuilder b;
  const TensorType t = int8 ? TensorType::kInt8 : TensorType::kFloat32;
  auto q = [&](float s, int64_t zp) { return int8 ? Quantization::per_tensor(s, zp) : Quantization{}; };
  const int32_t x = b.add_tensor("x", t, int8 ? std::vector<int32_t>{1, 3, 3, 2} : std::vector<int32_t>{1, 2, 2, 2}, q(0.05f, -3));
  const int32_t os = b.add_constant("os", TensorType::kInt32, {4}, std::vector<int32_t>{1, 6, 6, 3});
  const Quantization wq = int8 ? Quantization::per_axis({0.01f, 0.02f, 0.03f}, {0, 0, 0}, 0) : Quantization{};
  const int32_t w = int8 ? b.add_constant("w", t, {3, 3, 3, 2}, std::vector<int8_t>(54, 5), wq)
                         : b.add_constant("w", t, {3, 3, 3, 2}, std::vector<float>(54, 0.5f));
  const int32_t bias = int8 ? b.add_constant("b", TensorType::kInt32, {3}, std::vector<int32_t>{7, -8, 9},
                                             Quantization::per_axis({0.0005f, 0.001f, 0.0015f}, {0, 0, 0}, 0))
                            : -1;
  const int32_t tc = b.add_tensor("tc", t, {1, 6, 6, 3}, q(0.1f, 4));
  b.add_operator(BO::kTransposeConv, {os, w, x, bias}, {tc},
                 lite::TransposeConvOptions{int8 ? lite::Padding::kSame : lite::Padding::kValid, 2, 2});
  const int32_t y = b.add_tensor("y", t, {1, 6, 6, 4}, q(0.2f, -5));
  if (int8) {
    const int32_t rhs = b.add_constant("rhs", t, {4, 3}, std::vector<int8_t>(12, -7), q(0.02f, 1));
    b.add_operator(BO::kBatchMatmul, {tc, rhs}, {y}, lite::BatchMatMulOptions{false, true, false});
    b.set_inputs({x});
  } else {
    const int32_t z = b.add_tensor("z", t, {1, 6, 3, 4});
    b.add_operator(BO::kBatchMatmul, {tc, z}, {y}, lite::BatchMatMulOptions{});
    b.set_inputs({x, z});
  }
  b.set_outputs({y});
  return b.build();
}

TEST(RuntimeHostileMatMulConv, TheChainsRun) {
  EXPECT_EQ(load_and_run(lite::write_model(chain(true))), Result::kRan);
  EXPECT_EQ(load_and_run(lite::write_model(chain(false))), Result::kRan);
}

constexpr int32_t kValues[] = {INT32_MIN, -1000000, -7, -2, -1, 0, 1, 2, 3, 5, 7, 9, 12, 65537, 1000000, INT32_MAX};

TEST(RuntimeHostileMatMulConv, ExtremeShapesStridesAndOptionsAreErrorsOrRun) {
  int errors = 0, ran = 0;
  auto run = [&](const lite::ModelDef& m) {
    std::vector<uint8_t> bytes;
    try {
      bytes = lite::write_model(m, lite::WriteOptions{false});
    } catch (const Error&) {
      return;
    }
    (load_and_run(bytes) == Result::kRan ? ran : errors) += 1;
  };
  for (bool int8 : {true, false}) {
    const lite::ModelDef base = chain(int8);
    const lite::SubGraphDef& g = base.subgraphs[0];
    // The output_shape values.
    const uint32_t os_buf = g.tensors[1].buffer;
    for (size_t e = 0; e < 4; ++e)
      for (int32_t v : kValues) {
        lite::ModelDef m = base;
        std::memcpy(m.buffers[os_buf].data() + 4 * e, &v, 4);
        run(m);
      }
    // Strides and padding; adj flags.
    for (int32_t v : kValues) {
      for (int field = 0; field < 3; ++field) {
        lite::ModelDef m = base;
        auto& o = std::get<lite::TransposeConvOptions>(m.subgraphs[0].operators[0].options);
        if (field == 0) o.stride_w = v;
        if (field == 1) o.stride_h = v;
        if (field == 2) o.padding = static_cast<lite::Padding>(v);
        run(m);
      }
    }
    for (int adj = 0; adj < 4; ++adj) {
      lite::ModelDef m = base;
      auto& o = std::get<lite::BatchMatMulOptions>(m.subgraphs[0].operators[1].options);
      o.adj_x = adj & 1, o.adj_y = adj & 2;
      run(m);
    }
    // Every dimension of every non-constant tensor (graph inputs, intermediates, outputs).
    for (size_t t = 0; t < g.tensors.size(); ++t) {
      if (g.tensors[t].buffer != 0) continue;
      for (size_t d = 0; d < g.tensors[t].shape.size(); ++d)
        for (int32_t v : kValues) {
          lite::ModelDef m = base;
          m.subgraphs[0].tensors[t].shape[d] = v;
          if (!m.subgraphs[0].tensors[t].shape_signature.empty()) m.subgraphs[0].tensors[t].shape_signature[d] = v;
          run(m);
        }
    }
    // Every weight dimension (the buffer no longer fits: the reader refuses).
    for (int32_t v : {0, 1, 2, 6}) {
      lite::ModelDef m = base;
      m.subgraphs[0].tensors[2].shape[1] = v;
      run(m);
    }
  }
  EXPECT_GT(errors, 200);
  EXPECT_GT(ran, 2);
}

// TRANSPOSE_CONV's output_shape fed at run time (the int8 chain with "os" a
// graph input): every extreme value in every element fails the invoke in
// one line naming the op (or runs, when the value is the file's), never
// allocating past max_arena_bytes; the next invoke with the file's values
// gives the constant chain's bytes.
TEST(RuntimeHostileMatMulConv, RunTimeOutputShapeValuesFailTheInvokeInOneLine) {
  const lite::ModelDef base = chain(true);
  std::vector<std::byte> x(18);
  for (size_t i = 0; i < x.size(); ++i) x[i] = std::byte{static_cast<unsigned char>(i * 37)};
  auto fixed = Interpreter::from_buffer(lite::write_model(base));
  std::memcpy(fixed->input_bytes(0).data(), x.data(), x.size());
  fixed->invoke();
  const auto want_span = fixed->output_bytes(0);
  const std::vector<std::byte> want(want_span.begin(), want_span.end());

  lite::ModelDef m = base;
  m.subgraphs[0].tensors[1].buffer = 0;
  m.subgraphs[0].inputs.push_back(1);
  InterpreterOptions o;
  o.max_arena_bytes = size_t{64} << 20;
  auto it = Interpreter::from_buffer(lite::write_model(m, lite::WriteOptions{false}), o);
  auto invoke_with = [&](const std::vector<int32_t>& os) -> std::string {
    std::memcpy(it->input_bytes(0).data(), x.data(), x.size());
    std::memcpy(it->input_bytes(1).data(), os.data(), 16);
    try {
      it->invoke();
      return "";
    } catch (const Error& e) {
      return e.what();
    }
  };
  int errors = 0;
  for (size_t e = 0; e < 4; ++e)
    for (int32_t v : kValues) {
      std::vector<int32_t> os = {1, 6, 6, 3};
      os[e] = v;
      SCOPED_TRACE("element " + std::to_string(e) + " = " + std::to_string(v));
      const std::string err = invoke_with(os);
      if (!err.empty()) {
        ++errors;
        EXPECT_NE(err.find("(TRANSPOSE_CONV)"), std::string::npos) << err;
        EXPECT_EQ(err.find('\n'), std::string::npos) << err;
      }
      EXPECT_LE(it->dynamic_bytes(), o.max_arena_bytes);
      ASSERT_EQ(invoke_with({1, 6, 6, 3}), "");
      const auto out = it->output_bytes(0);
      ASSERT_EQ(out.size(), want.size());
      EXPECT_EQ(0, std::memcmp(out.data(), want.data(), want.size()));
    }
  // Heights and widths 5 and 6 fit a 3x3 input at stride 2 SAME (5 runs too).
  EXPECT_GT(errors, 55);
}

// Hybrid BATCH_MATMUL (float32 lhs, constant int8 rhs): extreme dimensions,
// rhs scales and zero points, options; errors or runs, never a crash.
TEST(RuntimeHostileMatMulConv, HybridBatchMatMulExtremesAreErrorsOrRun) {
  auto model = [] {
    lite::ModelBuilder b;
    const int32_t x = b.add_tensor("x", TensorType::kFloat32, {2, 3, 5});
    const int32_t r = b.add_constant("r", TensorType::kInt8, {5, 4}, std::vector<int8_t>(20, -9),
                                     Quantization::per_tensor(0.05f, 0));
    const int32_t y = b.add_tensor("y", TensorType::kFloat32, {2, 3, 4});
    b.add_operator(BO::kBatchMatmul, {x, r}, {y}, lite::BatchMatMulOptions{false, false, true});
    b.set_inputs({x});
    b.set_outputs({y});
    return b.build();
  };
  int errors = 0, ran = 0;
  auto run = [&](const lite::ModelDef& m) {
    std::vector<uint8_t> bytes;
    try {
      bytes = lite::write_model(m, lite::WriteOptions{false});
    } catch (const Error&) {
      return;
    }
    (load_and_run(bytes) == Result::kRan ? ran : errors) += 1;
  };
  const lite::ModelDef base = model();
  run(base);
  EXPECT_EQ(ran, 1);
  for (size_t t : {size_t{0}, size_t{2}})
    for (size_t d = 0; d < base.subgraphs[0].tensors[t].shape.size(); ++d)
      for (int32_t v : kValues) {
        lite::ModelDef m = base;
        m.subgraphs[0].tensors[t].shape[d] = v;
        run(m);
      }
  for (float scale : {0.0f, -1.0f, 1e-38f, 1e38f, std::numeric_limits<float>::infinity(),
                      std::numeric_limits<float>::quiet_NaN()}) {
    lite::ModelDef m = base;
    m.subgraphs[0].tensors[1].quantization.scale = {scale};
    run(m);
  }
  for (int64_t zp : {int64_t{-128}, int64_t{1}, int64_t{127}}) {
    lite::ModelDef m = base;
    m.subgraphs[0].tensors[1].quantization.zero_point = {zp};
    run(m);
  }
  {  // per-channel scales, and a computed rhs
    lite::ModelDef m = base;
    m.subgraphs[0].tensors[1].quantization = Quantization::per_axis({0.1f, 0.2f, 0.3f, 0.4f}, {0, 0, 0, 0}, 1);
    run(m);
    lite::ModelDef c = base;
    c.subgraphs[0].tensors[1].buffer = 0;
    c.subgraphs[0].inputs.push_back(1);
    run(c);
  }
  for (int adj = 0; adj < 4; ++adj) {
    lite::ModelDef m = base;
    auto& o = std::get<lite::BatchMatMulOptions>(m.subgraphs[0].operators[0].options);
    o.adj_x = adj & 1, o.adj_y = adj & 2;
    run(m);
  }
  EXPECT_GT(errors, 30);
  EXPECT_GT(ran, 2);
}

TEST(RuntimeHostileMatMulConv, RandomBitFlipsNeverCrash) {
  Rng rng(4242);
  for (bool int8 : {true, false}) {
    const std::vector<uint8_t> good = lite::write_model(chain(int8));
    int errors = 0;
    for (int rep = 0; rep < 1500; ++rep) {
      std::vector<uint8_t> bytes = good;
      const int flips = 1 + static_cast<int>(rng.below(3));
      for (int f = 0; f < flips; ++f) bytes[rng.below(bytes.size())] ^= static_cast<uint8_t>(1u << rng.below(8));
      errors += load_and_run(bytes) == Result::kError;
    }
    EXPECT_GT(errors, 0);
  }
}

// A TRANSPOSE_CONV file written for batch 1 run at batch 3 (and on 2
// threads, in tiles): each image's output is the batch-1 output of that image.
TEST(RuntimeHostileMatMulConv, TransposeConvFollowsAResizedBatch) {
  const std::vector<uint8_t> bytes = lite::write_model(chain(true));
  Rng rng(99);
  std::vector<std::vector<std::byte>> images(3, std::vector<std::byte>(18));
  for (auto& im : images)
    for (auto& v : im) v = std::byte{static_cast<unsigned char>(rng.below(256))};
  std::vector<std::vector<std::byte>> single;
  auto one = Interpreter::from_buffer(bytes);
  for (const auto& im : images) {
    std::memcpy(one->input_bytes(0).data(), im.data(), im.size());
    one->invoke();
    const auto out = one->output_bytes(0);
    single.emplace_back(out.begin(), out.end());
  }
  for (int threads : {1, 2}) {
    InterpreterOptions o;
    o.num_threads = threads;
    auto it = Interpreter::from_buffer(bytes, o);
    it->resize_batch(3);
    for (size_t i = 0; i < 3; ++i) std::memcpy(it->input_bytes(0).data() + 18 * i, images[i].data(), 18);
    it->invoke();
    const auto out = it->output_bytes(0);
    ASSERT_EQ(out.size(), 3 * single[0].size());
    for (size_t i = 0; i < 3; ++i)
      EXPECT_EQ(0, std::memcmp(out.data() + i * single[0].size(), single[i].data(), single[i].size()))
          << "image " << i << " threads " << threads;
  }
}

}  // namespace
}  // namespace qlite::test
