// RESIZE_BILINEAR and RESIZE_NEAREST_NEIGHBOR against the real TensorFlow
// Lite 2.9: one-op files written by qlite's writer over random shapes, sizes
// (down, up, 2x, 8x and odd ratios), flags and types, the same input bytes,
// outputs compared exactly for integer types and within 1e-5 relative for
// float32. Files TFLite refuses are refused by qlite too.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "multi_io_peer.h"

namespace qlite::test {
namespace {

using T = lite::TensorType;
using lite::BuiltinOp;
using lite::ModelBuilder;
using lite::Quantization;

struct ResizeCase {
  BuiltinOp op = BuiltinOp::kResizeBilinear;
  T type = T::kFloat32;
  std::vector<int32_t> shape;  // NHWC
  int32_t out_h = 1, out_w = 1;
  bool align_corners = false, half_pixel_centers = false;
  Quantization q;

  std::string str() const {
    return std::string(op == BuiltinOp::kResizeBilinear ? "RESIZE_BILINEAR " : "RESIZE_NEAREST_NEIGHBOR ") +
           lite::tensor_type_name(type) + " (" + std::to_string(shape[0]) + ", " + std::to_string(shape[1]) + ", " +
           std::to_string(shape[2]) + ", " + std::to_string(shape[3]) + ") -> " + std::to_string(out_h) + "x" +
           std::to_string(out_w) + (align_corners ? " align_corners" : "") +
           (half_pixel_centers ? " half_pixel_centers" : "");
  }
};

std::vector<uint8_t> resize_model(const ResizeCase& k) {
  ModelBuilder b;
  const int32_t x = b.add_tensor("x", k.type, k.shape, k.q);
  const int32_t size = b.add_constant("size", T::kInt32, {2}, std::vector<int32_t>{k.out_h, k.out_w});
  const int32_t y = b.add_tensor("y", k.type, {k.shape[0], k.out_h, k.out_w, k.shape[3]}, k.q);
  if (k.op == BuiltinOp::kResizeBilinear)
    b.add_operator(k.op, {x, size}, {y}, lite::ResizeBilinearOptions{k.align_corners, k.half_pixel_centers});
  else
    b.add_operator(k.op, {x, size}, {y}, lite::ResizeNearestNeighborOptions{k.align_corners, k.half_pixel_centers});
  b.set_inputs({x});
  b.set_outputs({y});
  return b.finish();
}

std::vector<uint8_t> random_bytes(Rng& rng, T t, int64_t n) {
  std::vector<uint8_t> b(static_cast<size_t>(n) * lite::tensor_type_size(t));
  if (t == T::kFloat32) {
    for (size_t i = 0; i < b.size(); i += 4) {
      const float f = rng.uniform(-1000.0f, 1000.0f);
      std::memcpy(b.data() + i, &f, 4);
    }
  } else {
    for (uint8_t& x : b) x = static_cast<uint8_t>(rng.below(256));
  }
  return b;
}

Quantization quant(Rng& rng, T t) {
  if (t == T::kInt16) return Quantization::per_tensor(0.001f, 0);
  if (t == T::kInt8) return Quantization::per_tensor(0.05f, -128 + static_cast<int32_t>(rng.below(256)));
  if (t == T::kUInt8) return Quantization::per_tensor(0.05f, static_cast<int32_t>(rng.below(256)));
  return {};
}

const T kTypes[] = {T::kFloat32, T::kUInt8, T::kInt8, T::kInt16};

int64_t numel(const std::vector<int32_t>& s) {
  int64_t n = 1;
  for (int32_t d : s) n *= d;
  return n;
}

void run_random(BuiltinOp op, uint64_t seed, int reps) {
  QLITE_REQUIRE_TFLITE_PEER(peer);
  Rng rng(seed);
  size_t bytes = 0;
  for (int rep = 0; rep < reps; ++rep) {
    ResizeCase k;
    k.op = op;
    k.type = kTypes[rep % 4];
    const int32_t depths[] = {1, 2, 3, 5, 8, 16};
    k.shape = {1 + static_cast<int32_t>(rng.below(3)), 1 + static_cast<int32_t>(rng.below(7)),
               1 + static_cast<int32_t>(rng.below(7)), depths[rng.below(6)]};
    switch ((rep / 4) % 5) {
      case 0: k.out_h = k.shape[1] * 2, k.out_w = k.shape[2] * 2; break;  // the 2x special case
      case 1: k.out_h = k.shape[1] * 8, k.out_w = k.shape[2] * 8; break;  // uint8's 8x special case
      default:
        k.out_h = 1 + static_cast<int32_t>(rng.below(13));
        k.out_w = 1 + static_cast<int32_t>(rng.below(13));
    }
    const int flags = static_cast<int>(rng.below(3));
    k.align_corners = flags == 1;
    k.half_pixel_centers = flags == 2;
    if (op == BuiltinOp::kResizeNearestNeighbor && rng.below(4) == 0) k.align_corners = k.half_pixel_centers = true;
    k.q = quant(rng, k.type);
    const std::vector<bool> is_float{k.type == T::kFloat32};
    bytes += expect_same_outputs(*peer, resize_model(k), {k.shape}, {random_bytes(rng, k.type, numel(k.shape))},
                                 is_float, k.str());
  }
  EXPECT_GT(bytes, 100000u);
}

TEST(TfLiteResize, BilinearRandomShapesSizesFlagsAndTypesMatch) { run_random(BuiltinOp::kResizeBilinear, 4101, 400); }

TEST(TfLiteResize, NearestNeighborRandomShapesSizesFlagsAndTypesMatch) {
  run_random(BuiltinOp::kResizeNearestNeighbor, 4102, 400);
}

TEST(TfLiteResize, SegmentationStyleUpsamplingMatches) {
  QLITE_REQUIRE_TFLITE_PEER(peer);
  Rng rng(4103);
  // DeepLab / pose-net heads: a small feature map to the image size.
  for (T type : kTypes) {
    for (BuiltinOp op : {BuiltinOp::kResizeBilinear, BuiltinOp::kResizeNearestNeighbor}) {
      for (int flags = 0; flags < 3; ++flags) {
        ResizeCase k;
        k.op = op;
        k.type = type;
        k.shape = {1, 33, 33, 21};
        k.out_h = 257, k.out_w = 257;
        k.align_corners = flags == 1;
        k.half_pixel_centers = flags == 2;
        k.q = quant(rng, type);
        expect_same_outputs(*peer, resize_model(k), {k.shape}, {random_bytes(rng, type, numel(k.shape))},
                            {type == T::kFloat32}, k.str());
      }
    }
  }
}

TEST(TfLiteResize, BatchesRunInTilesOfImagesMatch) {
  QLITE_REQUIRE_TFLITE_PEER(peer);
  Rng rng(4105);
  // Images large enough (over 256 KiB of activations each) that qlite runs
  // the batch in tiles of images, the last tile shorter.
  for (T type : {T::kFloat32, T::kInt8, T::kUInt8}) {
    for (BuiltinOp op : {BuiltinOp::kResizeBilinear, BuiltinOp::kResizeNearestNeighbor}) {
      ResizeCase k;
      k.op = op;
      k.type = type;
      k.shape = {5, 60, 60, 8};
      k.out_h = 120, k.out_w = 120;
      k.half_pixel_centers = true;
      k.q = quant(rng, type);
      expect_same_outputs(*peer, resize_model(k), {k.shape}, {random_bytes(rng, type, numel(k.shape))},
                          {type == T::kFloat32}, k.str());
    }
  }
}

TEST(TfLiteResize, UInt8EightTimesHalfPixelMatches) {
  QLITE_REQUIRE_TFLITE_PEER(peer);
  Rng rng(4106);
  // TFLite 2.9's uint8 kernel has its own 8.8 fixed-point path for exactly
  // 8x with half_pixel_centers and a multiple-of-8 depth; qlite's float path
  // must give the same bytes.
  for (int32_t depth : {8, 16, 24})
    for (int32_t side : {1, 2, 3, 5}) {
      ResizeCase k;
      k.type = T::kUInt8;
      k.shape = {2, side, side + 1, depth};
      k.out_h = 8 * side, k.out_w = 8 * (side + 1);
      k.half_pixel_centers = true;
      k.q = quant(rng, k.type);
      expect_same_outputs(*peer, resize_model(k), {k.shape}, {random_bytes(rng, k.type, numel(k.shape))}, {false},
                          k.str());
    }
}

TEST(TfLiteResize, RefusedAsTfLiteRefuses) {
  QLITE_REQUIRE_TFLITE_PEER(peer);
  Rng rng(4104);
  ResizeCase k;
  k.shape = {1, 3, 3, 2};
  k.out_h = 5, k.out_w = 4;
  k.align_corners = k.half_pixel_centers = true;
  expect_both_refuse_multi(*peer, resize_model(k), {k.shape}, {random_bytes(rng, k.type, numel(k.shape))},
                           "align_corners and half_pixel_centers");
  // A rank-3 input.
  ModelBuilder b;
  const int32_t x = b.add_tensor("x", T::kFloat32, {3, 3, 2});
  const int32_t size = b.add_constant("size", T::kInt32, {2}, std::vector<int32_t>{4, 4});
  const int32_t y = b.add_tensor("y", T::kFloat32, {4, 4, 2});
  b.add_operator(BuiltinOp::kResizeBilinear, {x, size}, {y}, lite::ResizeBilinearOptions{});
  b.set_inputs({x});
  b.set_outputs({y});
  expect_both_refuse_multi(*peer, b.finish(), {{3, 3, 2}}, {random_bytes(rng, T::kFloat32, 18)}, "rank 4");
}

TEST(TfLiteResize, UnsupportedTypesAreNamed) {
  ModelBuilder b;
  const int32_t x = b.add_tensor("x", T::kInt32, {1, 2, 2, 1});
  const int32_t size = b.add_constant("size", T::kInt32, {2}, std::vector<int32_t>{4, 4});
  const int32_t y = b.add_tensor("y", T::kInt32, {1, 4, 4, 1});
  b.add_operator(BuiltinOp::kResizeBilinear, {x, size}, {y}, lite::ResizeBilinearOptions{});
  b.set_inputs({x});
  b.set_outputs({y});
  const MultiOutcome ours = run_multi_in_qlite(b.finish(), {std::vector<uint8_t>(16)});
  EXPECT_NE(ours.error.find("RESIZE_BILINEAR"), std::string::npos) << ours.error;
  EXPECT_NE(ours.error.find("int32"), std::string::npos) << ours.error;
}

}  // namespace
}  // namespace qlite::test
