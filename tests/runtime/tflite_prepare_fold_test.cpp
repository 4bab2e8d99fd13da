// Shapes computed inside the graph. Exported models compute shape operands
// with ops (SHAPE -> STRIDED_SLICE -> PACK -> RESHAPE is how a flatten with a
// dynamic batch is exported; FILL and TILE take computed sizes). When
// everything such an op reads is known while preparing (constants, or the
// shape of a tensor for SHAPE), the interpreter computes it then, with the
// kernel invoke would use, and its consumers see a constant at every batch
// (Interpreter::Impl::fold_at_prepare). Each graph here runs in qlite and in
// TensorFlow Lite 2.9 at several batches: output shapes and bytes identical.
#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <vector>

#include "multi_io_peer.h"
#include "single_op_peer.h"

namespace qlite::test {
namespace {

using T = TensorType;
using lite::BuiltinOp;
using lite::ModelBuilder;
using lite::Quantization;

std::vector<uint8_t> random_input(Rng& rng, T t, size_t n) { return random_tensor_bytes(rng, t, n, 10.0f); }

// Runs `model` (one input of per-image shape `image`, type `t`) at each batch
// in qlite and TFLite 2.9 and compares; returns the executed op count of the
// last qlite run.
size_t expect_same_as_tflite(const TfLitePeer& peer, const std::vector<uint8_t>& model, T t,
                             const std::vector<int32_t>& image, uint64_t seed) {
  Rng rng(seed);
  size_t executed = 0;
  for (int batch : {1, 3, 8, 1}) {
    std::vector<int32_t> shape{batch};
    shape.insert(shape.end(), image.begin(), image.end());
    size_t n = 1;
    for (int32_t d : shape) n *= static_cast<size_t>(d);
    const std::vector<uint8_t> input = random_input(rng, t, n);
    const MultiOutcome q = run_multi_in_qlite(model, {input}, {.batch = batch});
    EXPECT_EQ(q.error, "") << "batch " << batch;
    const auto outs = peer.run(model, {PeerInput{shape, input}});
    EXPECT_EQ(outs.size(), 1u);
    if (!q.error.empty() || outs.size() != 1) continue;
    EXPECT_EQ(q.shapes.at(0), Shape(outs[0].shape.begin(), outs[0].shape.end())) << "batch " << batch;
    if (t == T::kFloat32) {
      // Float: within 1e-5 relative (summation order may differ); copies are exact anyway.
      std::string where;
      EXPECT_TRUE(floats_close(q.bytes.at(0), outs[0].bytes, 1e-5f, 1e-5f, &where)) << "batch " << batch << " " << where;
    } else {
      EXPECT_EQ(q.bytes.at(0), outs[0].bytes) << "batch " << batch;
    }
    executed = q.executed_ops;
  }
  return executed;
}

// x (B, 4, 3, 2) -> RESHAPE(x, PACK(STRIDED_SLICE(SHAPE(x), [0], [1]), -1)) = (B, 24).
std::vector<uint8_t> dynamic_flatten(T t) {
  ModelBuilder b;
  const Quantization q = t == T::kInt8 ? Quantization::per_tensor(0.1f, -5) : Quantization{};
  const int32_t x = b.add_tensor("x", t, {1, 4, 3, 2}, q, {-1, 4, 3, 2});
  const int32_t s = b.add_tensor("shape", T::kInt32, {4});
  b.add_operator(BuiltinOp::kShape, {x}, {s}, lite::ShapeOptions{T::kInt32});
  const int32_t begin = b.add_constant("begin", T::kInt32, {1}, std::vector<int32_t>{0});
  const int32_t end = b.add_constant("end", T::kInt32, {1}, std::vector<int32_t>{1});
  const int32_t strides = b.add_constant("strides", T::kInt32, {1}, std::vector<int32_t>{1});
  const int32_t batch = b.add_tensor("batch", T::kInt32, {});
  lite::StridedSliceOptions so;
  so.shrink_axis_mask = 1;
  b.add_operator(BuiltinOp::kStridedSlice, {s, begin, end, strides}, {batch}, so);
  const int32_t minus1 = b.add_constant("minus1", T::kInt32, {}, std::vector<int32_t>{-1});
  const int32_t packed = b.add_tensor("new_shape", T::kInt32, {2});
  b.add_operator(BuiltinOp::kPack, {batch, minus1}, {packed}, lite::PackOptions{2, 0});
  const int32_t y = b.add_tensor("y", t, {1, 24}, q, {-1, 24});
  b.add_operator(BuiltinOp::kReshape, {x, packed}, {y}, lite::ReshapeOptions{});
  b.set_inputs({x});
  b.set_outputs({y});
  return b.finish();
}

TEST(PrepareFold, DynamicBatchFlattenRunsAsTFLiteAtEveryBatch) {
  QLITE_REQUIRE_TFLITE_PEER(peer);
  for (T t : {T::kFloat32, T::kInt8}) {
    // SHAPE, STRIDED_SLICE and PACK are computed while preparing: only RESHAPE runs.
    EXPECT_EQ(expect_same_as_tflite(*peer, dynamic_flatten(t), t, {4, 3, 2}, 11), 1u) << lite::tensor_type_name(t);
  }
}

// FILL whose dims are SHAPE(x): the graph output, so FILL itself runs at
// invoke, with the dims folded at prepare for the current batch.
TEST(PrepareFold, FillShapedLikeTheInputFollowsTheBatch) {
  QLITE_REQUIRE_TFLITE_PEER(peer);
  ModelBuilder b;
  const Quantization q = Quantization::per_tensor(0.5f, 3);
  const int32_t x = b.add_tensor("x", T::kInt8, {1, 5}, q, {-1, 5});
  const int32_t s = b.add_tensor("shape", T::kInt32, {2});
  b.add_operator(BuiltinOp::kShape, {x}, {s}, lite::ShapeOptions{T::kInt32});
  const int32_t v = b.add_constant("value", T::kInt8, {}, std::vector<int8_t>{-7}, q);
  const int32_t y = b.add_tensor("y", T::kInt8, {1, 5}, q, {-1, 5});
  b.add_operator(BuiltinOp::kFill, {s, v}, {y}, lite::FillOptions{});
  b.set_inputs({x});
  b.set_outputs({y});
  EXPECT_EQ(expect_same_as_tflite(*peer, b.finish(), T::kInt8, {5}, 12), 1u);
}

// TILE whose multiples are CAST of a constant (an op on constants only).
TEST(PrepareFold, TileWithMultiplesComputedFromConstants) {
  QLITE_REQUIRE_TFLITE_PEER(peer);
  ModelBuilder b;
  const int32_t x = b.add_tensor("x", T::kFloat32, {1, 3}, {}, {-1, 3});
  const int32_t m64 = b.add_constant("m64", T::kInt64, {2}, std::vector<int64_t>{1, 2});
  const int32_t m = b.add_tensor("multiples", T::kInt32, {2});
  b.add_operator(BuiltinOp::kCast, {m64}, {m}, lite::CastOptions{T::kInt64, T::kInt32});
  const int32_t y = b.add_tensor("y", T::kFloat32, {1, 6}, {}, {-1, 6});
  b.add_operator(BuiltinOp::kTile, {x, m}, {y}, lite::TileOptions{});
  b.set_inputs({x});
  b.set_outputs({y});
  EXPECT_EQ(expect_same_as_tflite(*peer, b.finish(), T::kFloat32, {3}, 13), 1u);
}

// A shape that depends on input values cannot be known while preparing: the
// op is prepared at invoke instead (tflite_dynamic_shape_test.cpp compares
// such graphs with TFLite 2.9); the folding above stays the path for
// constant inputs.
TEST(PrepareFold, ShapeFromInputValuesIsPreparedAtInvoke) {
  ModelBuilder b;
  const int32_t x = b.add_tensor("x", T::kFloat32, {1, 6});
  const int32_t shape = b.add_tensor("new_shape", T::kInt32, {2});
  const int32_t y = b.add_tensor("y", T::kFloat32, {2, 3});
  b.add_operator(BuiltinOp::kReshape, {x, shape}, {y}, lite::ReshapeOptions{});
  b.set_inputs({x, shape});
  b.set_outputs({y});
  auto it = runtime::Interpreter::from_buffer(b.finish());
  EXPECT_EQ(it->num_executed_ops(), 1u);
  EXPECT_TRUE(it->output_bytes(0).empty());  // no shape before the first invoke
  for (const std::vector<int32_t>& s : {std::vector<int32_t>{3, 2}, {6, 1}}) {
    std::memcpy(it->input_bytes(1).data(), s.data(), 8);
    it->invoke();
    EXPECT_EQ(it->output_info(0).shape, Shape(s.begin(), s.end()));
    EXPECT_EQ(it->output_bytes(0).size(), 24u);
  }
}

// Weights computed from constants (TRANSPOSE of a constant, as exporters
// write them) are constants too: FULLY_CONNECTED takes its packed path at
// every batch. Readers of tensors computed while preparing prepare from
// scratch each time (what they derive may follow the batch), and the result
// is TFLite's at every batch.
TEST(PrepareFold, WeightsComputedFromConstantsArePackedForEachPreparation) {
  QLITE_REQUIRE_TFLITE_PEER(peer);
  ModelBuilder b;
  Rng rng(5);
  std::vector<float> w(4 * 6);
  for (float& f : w) f = rng.uniform(-1.0f, 1.0f);
  const int32_t x = b.add_tensor("x", T::kFloat32, {1, 4}, {}, {-1, 4});
  const int32_t wt = b.add_constant("w_in_out", T::kFloat32, {4, 6}, w);
  const int32_t perm = b.add_constant("perm", T::kInt32, {2}, std::vector<int32_t>{1, 0});
  const int32_t wo = b.add_tensor("w_out_in", T::kFloat32, {6, 4});
  b.add_operator(BuiltinOp::kTranspose, {wt, perm}, {wo}, lite::TransposeOptions{});
  const int32_t y = b.add_tensor("y", T::kFloat32, {1, 6}, {}, {-1, 6});
  b.add_operator(BuiltinOp::kFullyConnected, {x, wo, -1}, {y}, lite::FullyConnectedOptions{});
  b.set_inputs({x});
  b.set_outputs({y});
  EXPECT_EQ(expect_same_as_tflite(*peer, b.finish(), T::kFloat32, {4}, 14), 1u);
}

}  // namespace
}  // namespace qlite::test
