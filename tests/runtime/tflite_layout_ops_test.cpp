// TILE, BROADCAST_TO, REVERSE_V2, MIRROR_PAD, DEPTH_TO_SPACE, SPACE_TO_DEPTH,
// ARG_MAX, ARG_MIN and TOPK_V2 against the real TensorFlow Lite 2.9: one-op
// files over seeded random shapes, parameters and types; every output (both
// of TOPK_V2's) compared byte for byte. Files TFLite refuses are refused by
// qlite too. A failure under CI=true when the peer is missing.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>

#include "data_ops_support.h"

namespace qlite::test {
namespace {

using namespace data_ops;

std::vector<int32_t> random_shape(Rng& rng, int min_rank, int max_rank, int max_dim) {
  const int rank = min_rank + static_cast<int>(rng.below(static_cast<uint64_t>(max_rank - min_rank + 1)));
  std::vector<int32_t> s;
  for (int d = 0; d < rank; ++d) s.push_back(1 + static_cast<int32_t>(rng.below(static_cast<uint64_t>(max_dim))));
  return s;
}

std::string name(T t) { return lite::tensor_type_name(t); }

TEST(TfLiteLayoutOps, TileBroadcastToReverseMatch) {
  QLITE_REQUIRE_TFLITE_PEER(peer);
  Rng rng(6101);
  size_t bytes = 0;
  const T tile_types[] = {T::kFloat32, T::kInt8, T::kUInt8, T::kInt32, T::kInt64, T::kBool};
  const T all_types[] = {T::kFloat32, T::kInt8, T::kUInt8, T::kInt16, T::kInt32, T::kInt64, T::kBool};
  for (int rep = 0; rep < 90; ++rep) {
    const std::vector<int32_t> shape = random_shape(rng, 1, 4, 4);
    const auto rank = static_cast<int32_t>(shape.size());
    {  // TILE
      const T type = tile_types[rep % std::size(tile_types)];
      const T mt = rep % 2 ? T::kInt32 : T::kInt64;
      std::vector<int64_t> mult;
      std::vector<int32_t> out;
      for (int32_t d : shape) {
        mult.push_back(1 + static_cast<int64_t>(rng.below(3)));
        out.push_back(d * static_cast<int32_t>(mult.back()));
      }
      OneOp m;
      m.input(type, shape, random_bytes(rng, type, numel(shape)), quant_of(type));
      m.constant(mt, {rank}, int_bytes(mt, mult));
      m.output(type, out, quant_of(type));
      bytes += same(*peer, m, BuiltinOp::kTile, lite::TileOptions{}, "TILE " + name(type) + " " + dims(shape));
    }
    {  // BROADCAST_TO: some dims set to 1 in the input, extra leading dims
      const T type = all_types[rep % std::size(all_types)];
      std::vector<int32_t> in = shape;
      for (int32_t& d : in)
        if (rng.below(2) == 0) d = 1;
      std::vector<int64_t> target;
      const int lead = static_cast<int>(rng.below(3));
      for (int k = 0; k < lead; ++k) target.push_back(1 + static_cast<int64_t>(rng.below(3)));
      target.insert(target.end(), shape.begin(), shape.end());
      std::vector<int32_t> out(target.begin(), target.end());
      const T st = rep % 2 ? T::kInt32 : T::kInt64;
      OneOp m;
      m.input(type, in, random_bytes(rng, type, numel(in)), quant_of(type));
      m.constant(st, {static_cast<int32_t>(target.size())}, int_bytes(st, target));
      m.output(type, out, quant_of(type));
      bytes += same(*peer, m, BuiltinOp::kBroadcastTo, lite::BroadcastToOptions{},
                    "BROADCAST_TO " + name(type) + " " + dims(in) + " -> " + dims(out));
    }
    {  // REVERSE_V2 along one axis
      const T type = all_types[rep % std::size(all_types)];
      const int32_t axis = static_cast<int32_t>(rng.below(static_cast<uint64_t>(rank)));
      OneOp m;
      m.input(type, shape, random_bytes(rng, type, numel(shape)), quant_of(type));
      m.constant(T::kInt32, {1}, int_bytes(T::kInt32, {axis}));
      m.output(type, shape, quant_of(type));
      bytes += same(*peer, m, BuiltinOp::kReverseV2, lite::ReverseV2Options{},
                    "REVERSE_V2 " + name(type) + " " + dims(shape) + " axis " + std::to_string(axis));
    }
  }
  EXPECT_GT(bytes, 10000u);
}

TEST(TfLiteLayoutOps, MirrorPadBothModesMatch) {
  QLITE_REQUIRE_TFLITE_PEER(peer);
  Rng rng(6102);
  size_t bytes = 0;
  const T types[] = {T::kFloat32, T::kInt8, T::kUInt8, T::kInt32, T::kInt64};  // 2.9 fails INT16 at invoke
  for (int rep = 0; rep < 120; ++rep) {
    const T type = types[rep % std::size(types)];
    const bool reflect = rep % 2 == 0;
    const std::vector<int32_t> shape = random_shape(rng, 1, 4, 5);
    std::vector<int64_t> pads;
    std::vector<int32_t> out;
    for (int32_t d : shape) {
      const int64_t limit = reflect ? d - 1 : d;
      const int64_t a = static_cast<int64_t>(rng.below(static_cast<uint64_t>(limit + 1)));
      const int64_t b = static_cast<int64_t>(rng.below(static_cast<uint64_t>(limit + 1)));
      pads.push_back(a);
      pads.push_back(b);
      out.push_back(static_cast<int32_t>(d + a + b));
    }
    const T pt = rep % 3 == 0 ? T::kInt64 : T::kInt32;
    OneOp m;
    m.input(type, shape, random_bytes(rng, type, numel(shape)), quant_of(type));
    m.constant(pt, {static_cast<int32_t>(shape.size()), 2}, int_bytes(pt, pads));
    m.output(type, out, quant_of(type));
    bytes += same(*peer, m, BuiltinOp::kMirrorPad,
                  lite::MirrorPadOptions{reflect ? lite::MirrorPadMode::kReflect : lite::MirrorPadMode::kSymmetric},
                  std::string("MIRROR_PAD ") + (reflect ? "REFLECT " : "SYMMETRIC ") + name(type) + " " + dims(shape));
  }
  EXPECT_GT(bytes, 10000u);
}

TEST(TfLiteLayoutOps, DepthToSpaceAndSpaceToDepthMatch) {
  QLITE_REQUIRE_TFLITE_PEER(peer);
  Rng rng(6103);
  size_t bytes = 0;
  const T types[] = {T::kFloat32, T::kInt8, T::kUInt8, T::kInt32, T::kInt64};
  for (int rep = 0; rep < 100; ++rep) {
    const T type = types[rep % std::size(types)];
    const int32_t bs = 1 + static_cast<int32_t>(rng.below(3));
    const int32_t n = 1 + static_cast<int32_t>(rng.below(2)), h = 1 + static_cast<int32_t>(rng.below(4)),
                  w = 1 + static_cast<int32_t>(rng.below(4)), c = 1 + static_cast<int32_t>(rng.below(3));
    {
      const std::vector<int32_t> in{n, h, w, c * bs * bs}, out{n, h * bs, w * bs, c};
      OneOp m;
      m.input(type, in, random_bytes(rng, type, numel(in)), quant_of(type));
      m.output(type, out, quant_of(type));
      bytes += same(*peer, m, BuiltinOp::kDepthToSpace, lite::DepthToSpaceOptions{bs},
                    "DEPTH_TO_SPACE " + name(type) + " " + dims(in) + " block " + std::to_string(bs));
    }
    {
      const std::vector<int32_t> in{n, h * bs, w * bs, c}, out{n, h, w, c * bs * bs};
      OneOp m;
      m.input(type, in, random_bytes(rng, type, numel(in)), quant_of(type));
      m.output(type, out, quant_of(type));
      bytes += same(*peer, m, BuiltinOp::kSpaceToDepth, lite::SpaceToDepthOptions{bs},
                    "SPACE_TO_DEPTH " + name(type) + " " + dims(in) + " block " + std::to_string(bs));
    }
  }
  EXPECT_GT(bytes, 10000u);
}

TEST(TfLiteLayoutOps, RefusedAsTfLiteRefuses) {
  QLITE_REQUIRE_TFLITE_PEER(peer);
  Rng rng(6104);
  {  // REFLECT padding as large as the dimension: TFLite 2.9 runs it (its
     // mirror index leaves the dimension); qlite refuses the file
    OneOp m;
    m.input(T::kFloat32, {3, 2}, random_bytes(rng, T::kFloat32, 6));
    m.constant(T::kInt32, {2, 2}, int_bytes(T::kInt32, {3, 0, 0, 0}));
    m.output(T::kFloat32, {6, 2});
    const MultiOutcome ours = run_multi_in_qlite(
        m.finish(BuiltinOp::kMirrorPad, lite::MirrorPadOptions{lite::MirrorPadMode::kReflect}), m.in_bytes);
    EXPECT_NE(ours.error.find("must lie in [0, 2] (REFLECT)"), std::string::npos) << ours.error;
  }
  {  // INT16: TFLite 2.9 fails it at invoke, qlite at load
    OneOp m;
    m.input(T::kInt16, {3, 2}, random_bytes(rng, T::kInt16, 6), quant_of(T::kInt16));
    m.constant(T::kInt32, {2, 2}, int_bytes(T::kInt32, {1, 0, 0, 0}));
    m.output(T::kInt16, {4, 2}, quant_of(T::kInt16));
    both_refuse(*peer, m, BuiltinOp::kMirrorPad, lite::MirrorPadOptions{lite::MirrorPadMode::kSymmetric}, "int16");
  }
  {  // channels not a multiple of block_size^2
    OneOp m;
    m.input(T::kFloat32, {1, 2, 2, 3}, random_bytes(rng, T::kFloat32, 12));
    m.output(T::kFloat32, {1, 4, 4, 0});
    both_refuse(*peer, m, BuiltinOp::kDepthToSpace, lite::DepthToSpaceOptions{2}, "not a multiple");
  }
  {  // height not a multiple of the block
    OneOp m;
    m.input(T::kFloat32, {1, 3, 2, 1}, random_bytes(rng, T::kFloat32, 6));
    m.output(T::kFloat32, {1, 1, 1, 4});
    both_refuse(*peer, m, BuiltinOp::kSpaceToDepth, lite::SpaceToDepthOptions{2}, "multiples of block_size");
  }
  {  // a shape the input does not broadcast to
    OneOp m;
    m.input(T::kFloat32, {2, 3}, random_bytes(rng, T::kFloat32, 6));
    m.constant(T::kInt32, {2}, int_bytes(T::kInt32, {4, 3}));
    m.output(T::kFloat32, {4, 3});
    both_refuse(*peer, m, BuiltinOp::kBroadcastTo, lite::BroadcastToOptions{}, "cannot be broadcast");
  }
}

TEST(TfLiteArgMinMax, RandomAxesTypesAndTiesMatch) {
  QLITE_REQUIRE_TFLITE_PEER(peer);
  Rng rng(6105);
  size_t bytes = 0;
  const T types[] = {T::kFloat32, T::kUInt8, T::kInt8, T::kInt32, T::kBool};
  for (int rep = 0; rep < 200; ++rep) {
    const T type = types[rep % std::size(types)];
    const bool is_max = rep % 2 == 0;
    const T ot = (rep / 2) % 2 ? T::kInt32 : T::kInt64;
    const std::vector<int32_t> shape = random_shape(rng, 1, 4, 6);
    const auto rank = static_cast<int32_t>(shape.size());
    const int32_t axis = static_cast<int32_t>(rng.below(static_cast<uint64_t>(rank)));
    std::vector<uint8_t> in = random_bytes(rng, type, numel(shape));
    if (type != T::kFloat32 && type != T::kBool && rep % 3 == 0)  // few distinct values: ties
      for (uint8_t& b : in) b &= 3;
    std::vector<int32_t> out = shape;
    out.erase(out.begin() + axis);
    const T at = rep % 3 == 1 ? T::kInt64 : T::kInt32;
    OneOp m;
    m.input(type, shape, in, quant_of(type));
    m.constant(at, {1}, int_bytes(at, {rng.below(2) ? axis : axis - rank}));
    m.output(ot, out);
    const std::string what = std::string(is_max ? "ARG_MAX " : "ARG_MIN ") + name(type) + " " + dims(shape) +
                             " axis " + std::to_string(axis) + " -> " + name(ot);
    if (is_max) bytes += same(*peer, m, BuiltinOp::kArgMax, lite::ArgMaxOptions{ot}, what);
    else bytes += same(*peer, m, BuiltinOp::kArgMin, lite::ArgMinOptions{ot}, what);
  }
  EXPECT_GT(bytes, 1000u);
}

TEST(TfLiteTopK, RandomRowsKAndTiesMatchBothOutputs) {
  QLITE_REQUIRE_TFLITE_PEER(peer);
  Rng rng(6106);
  size_t bytes = 0;
  const T types[] = {T::kFloat32, T::kUInt8, T::kInt8, T::kInt32, T::kInt64};
  for (int rep = 0; rep < 150; ++rep) {
    const T type = types[rep % std::size(types)];
    const std::vector<int32_t> shape = random_shape(rng, 1, 3, 8);
    const int32_t row = shape.back();
    const int32_t k = static_cast<int32_t>(rng.below(static_cast<uint64_t>(row + 1)));
    std::vector<uint8_t> in = random_bytes(rng, type, numel(shape));
    if (type != T::kFloat32 && rep % 2 == 0)  // ties
      for (size_t i = 0; i < in.size(); i += lite::tensor_type_size(type)) in[i] &= 3;
    std::vector<int32_t> out = shape;
    out.back() = k;
    OneOp m;
    m.input(type, shape, in, quant_of(type));
    m.constant(T::kInt32, {}, int_bytes(T::kInt32, {k}));
    m.output(type, out, quant_of(type));
    m.output(T::kInt32, out);
    bytes += same(*peer, m, BuiltinOp::kTopkV2, lite::TopKV2Options{},
                  "TOPK_V2 " + name(type) + " " + dims(shape) + " k " + std::to_string(k));
  }
  EXPECT_GT(bytes, 1000u);
}

}  // namespace
}  // namespace qlite::test

namespace qlite::test {
namespace {

using namespace data_ops;

struct SliceSpec {
  std::vector<int64_t> begin, end, strides;
  int32_t begin_mask = 0, end_mask = 0, shrink = 0;
};

// The output shape the op gives, computed the way numpy / TensorFlow define it
// (an independent formulation: Python slice semantics per dimension).
std::vector<int32_t> slice_shape(const std::vector<int32_t>& in, const SliceSpec& s) {
  std::vector<int32_t> out;
  for (size_t d = 0; d < in.size(); ++d) {
    const int64_t n = in[d];
    if (d >= s.begin.size()) {
      out.push_back(static_cast<int32_t>(n));
      continue;
    }
    if ((s.shrink >> d) & 1) continue;
    const int64_t st = s.strides[d];
    auto norm = [&](int64_t v, bool masked, bool is_begin) {
      if (masked) return st > 0 ? (is_begin ? int64_t{0} : n) : (is_begin ? n - 1 : int64_t{-1});
      if (v < 0) v += n;
      return st > 0 ? std::clamp<int64_t>(v, 0, n) : std::clamp<int64_t>(v, -1, n - 1);
    };
    const int64_t b = norm(s.begin[d], (s.begin_mask >> d) & 1, true);
    const int64_t e = norm(s.end[d], (s.end_mask >> d) & 1, false);
    int64_t count = 0;
    for (int64_t i = b; st > 0 ? i < e : i > e; i += st) ++count;
    out.push_back(static_cast<int32_t>(count));
  }
  return out;
}

TEST(TfLiteStridedSlice, RandomSlicesMasksAndNegativeStridesMatch) {
  QLITE_REQUIRE_TFLITE_PEER(peer);
  Rng rng(6107);
  size_t bytes = 0;
  const T types[] = {T::kFloat32, T::kInt8, T::kUInt8, T::kInt16, T::kInt32, T::kInt64, T::kBool};
  for (int rep = 0; rep < 400; ++rep) {
    const T type = types[rep % std::size(types)];
    const std::vector<int32_t> shape = random_shape(rng, 1, 5, 5);
    const auto rank = static_cast<int32_t>(shape.size());
    SliceSpec s;
    const auto given = static_cast<size_t>(rep % 5 == 0 ? 1 + rng.below(static_cast<uint64_t>(rank)) : rank);
    for (size_t d = 0; d < given; ++d) {
      const int64_t n = shape[d];
      auto pick = [&]() { return static_cast<int64_t>(rng.below(static_cast<uint64_t>(2 * n + 5))) - n - 2; };
      int64_t st = 1 + static_cast<int64_t>(rng.below(3));
      if (rng.below(3) == 0) st = -st;
      s.begin.push_back(pick());
      s.end.push_back(pick());
      s.strides.push_back(st);
      if (rng.below(4) == 0) s.begin_mask |= 1 << d;
      if (rng.below(4) == 0) s.end_mask |= 1 << d;
      if (rng.below(6) == 0) {
        s.shrink |= 1 << d;
        s.begin.back() = static_cast<int64_t>(rng.below(static_cast<uint64_t>(2 * n))) - n;  // a valid index
        s.begin_mask &= ~(1 << d);
        // A negative stride on a shrunk axis: TFLite 2.9 loops from begin
        // towards begin + 1 and writes nothing (its output element keeps
        // whatever the arena held); qlite takes element begin, as TensorFlow.
        s.strides.back() = 1 + static_cast<int64_t>(rng.below(3));
      }
    }
    const T it = T::kInt32;  // TFLite 2.9 takes INT32 begin, end and strides only
    const auto count = static_cast<int32_t>(given);
    OneOp m;
    m.input(type, shape, random_bytes(rng, type, numel(shape)), quant_of(type));
    m.constant(it, {count}, int_bytes(it, s.begin));
    m.constant(it, {count}, int_bytes(it, s.end));
    m.constant(it, {count}, int_bytes(it, s.strides));
    m.output(type, slice_shape(shape, s), quant_of(type));
    bytes += same(*peer, m, BuiltinOp::kStridedSlice,
                  lite::StridedSliceOptions{s.begin_mask, s.end_mask, 0, 0, s.shrink},
                  "STRIDED_SLICE " + name(type) + " " + dims(shape) + " masks " + std::to_string(s.begin_mask) + "/" +
                      std::to_string(s.end_mask) + "/" + std::to_string(s.shrink) + " rep " + std::to_string(rep));
  }
  EXPECT_GT(bytes, 2000u);
}

TEST(TfLiteStridedSlice, EllipsisAndNewAxisMatch) {
  QLITE_REQUIRE_TFLITE_PEER(peer);
  Rng rng(6108);
  size_t bytes = 0;
  int refused = 0;
  for (int rep = 0; rep < 300; ++rep) {
    const T type = rep % 2 ? T::kFloat32 : T::kInt8;
    const std::vector<int32_t> shape = random_shape(rng, 1, 4, 4);
    const auto rank = static_cast<int32_t>(shape.size());
    const int count = 1 + static_cast<int>(rng.below(static_cast<uint64_t>(rank + 1)));
    std::vector<int64_t> begin, end, strides;
    int32_t begin_mask = 0, end_mask = 0, ellipsis = 0, new_axis = 0, shrink = 0;
    if (rng.below(2) == 0) ellipsis = 1 << rng.below(static_cast<uint64_t>(count));
    for (int i = 0; i < count; ++i) {
      begin.push_back(static_cast<int64_t>(rng.below(4)) - 1);
      end.push_back(static_cast<int64_t>(rng.below(6)) - 1);
      strides.push_back(rng.below(4) == 0 ? -1 : 1);
      if (rng.below(3) == 0) begin_mask |= 1 << i;
      if (rng.below(3) == 0) end_mask |= 1 << i;
      if (rng.below(4) == 0) new_axis |= 1 << i;
    }
    // The output shape comes from TFLite (qlite must agree): declare it by running TFLite first.
    OneOp probe;
    probe.input(type, shape, random_bytes(rng, type, numel(shape)), quant_of(type));
    probe.constant(T::kInt32, {count}, int_bytes(T::kInt32, begin));
    probe.constant(T::kInt32, {count}, int_bytes(T::kInt32, end));
    probe.constant(T::kInt32, {count}, int_bytes(T::kInt32, strides));
    probe.output(type, {}, quant_of(type));
    const lite::StridedSliceOptions opts{begin_mask, end_mask, ellipsis, new_axis, shrink};
    const std::string what = "STRIDED_SLICE " + dims(shape) + " masks " + std::to_string(begin_mask) + "/" +
                             std::to_string(end_mask) + " ellipsis " + std::to_string(ellipsis) + " new_axis " +
                             std::to_string(new_axis) + " rep " + std::to_string(rep);
    const std::vector<uint8_t> probe_model = probe.finish(BuiltinOp::kStridedSlice, opts);
    const MultiOutcome theirs = run_multi_in_tflite(*peer, probe_model, probe.in_shapes, probe.in_bytes);
    if (!theirs.error.empty()) {  // over five dimensions with the added axes: both refuse
      const MultiOutcome ours = run_multi_in_qlite(probe_model, probe.in_bytes);
      EXPECT_NE(ours.error.find("up to 5 dimensions"), std::string::npos) << what << ": " << ours.error;
      ++refused;
      continue;
    }
    std::vector<int32_t> out(theirs.shapes[0].begin(), theirs.shapes[0].end());
    OneOp m;
    m.input(type, shape, probe.in_bytes[0], quant_of(type));
    m.constant(T::kInt32, {count}, int_bytes(T::kInt32, begin));
    m.constant(T::kInt32, {count}, int_bytes(T::kInt32, end));
    m.constant(T::kInt32, {count}, int_bytes(T::kInt32, strides));
    m.output(type, out, quant_of(type));
    bytes += same(*peer, m, BuiltinOp::kStridedSlice, opts, what);
  }
  EXPECT_GT(bytes, 1000u);
  EXPECT_LT(refused, 100);
}

}  // namespace
}  // namespace qlite::test

namespace qlite::test {
namespace {

using namespace data_ops;

TEST(TfLiteConcatenation, EveryTypeTfLiteTakesMatches) {
  QLITE_REQUIRE_TFLITE_PEER(peer);
  Rng rng(6109);
  size_t bytes = 0;
  const T types[] = {T::kFloat32, T::kInt8, T::kUInt8, T::kInt16, T::kInt32, T::kInt64, T::kBool};
  for (int rep = 0; rep < 140; ++rep) {
    const T type = types[rep % std::size(types)];
    const std::vector<int32_t> shape = random_shape(rng, 1, 4, 4);
    const auto rank = static_cast<int32_t>(shape.size());
    const int32_t axis = static_cast<int32_t>(rng.below(static_cast<uint64_t>(rank)));
    const int count = 1 + static_cast<int>(rng.below(3));
    std::vector<int32_t> out = shape;
    out[static_cast<size_t>(axis)] = 0;
    OneOp m;
    for (int k = 0; k < count; ++k) {
      std::vector<int32_t> part = shape;
      part[static_cast<size_t>(axis)] = 1 + static_cast<int32_t>(rng.below(3));
      out[static_cast<size_t>(axis)] += part[static_cast<size_t>(axis)];
      // Graph inputs share dimension 0 in qlite: along axis 0 the others are constants.
      if (k == 0 || axis > 0) m.input(type, part, random_bytes(rng, type, numel(part)), quant_of(type));
      else m.constant(type, part, random_bytes(rng, type, numel(part)), quant_of(type));
    }
    m.output(type, out, quant_of(type));
    bytes += same(*peer, m, BuiltinOp::kConcatenation,
                  lite::ConcatenationOptions{rng.below(2) ? axis : axis - rank, lite::Activation::kLinear},
                  "CONCATENATION " + name(type) + " axis " + std::to_string(axis));
  }
  EXPECT_GT(bytes, 5000u);
}

TEST(TfLiteConcatenation, UInt8InputsWithOtherScalesAreRequantizedAsTfLite) {
  QLITE_REQUIRE_TFLITE_PEER(peer);
  Rng rng(6110);
  std::vector<uint8_t> all(256);
  for (int i = 0; i < 256; ++i) all[static_cast<size_t>(i)] = static_cast<uint8_t>(i);
  const float scales[] = {0.0039f, 0.02f, 0.1f, 0.7f, 3.0f};
  for (int rep = 0; rep < 40; ++rep) {
    OneOp m;
    const Quantization qa = Quantization::per_tensor(scales[rng.below(5)], static_cast<int32_t>(rng.below(256)));
    const Quantization qb = Quantization::per_tensor(scales[rng.below(5)], static_cast<int32_t>(rng.below(256)));
    const Quantization qo = Quantization::per_tensor(scales[rng.below(5)], static_cast<int32_t>(rng.below(256)));
    m.input(T::kUInt8, {1, 256}, all, qa);
    m.input(T::kUInt8, {1, 256}, all, qb);
    m.output(T::kUInt8, {1, 512}, qo);
    same(*peer, m, BuiltinOp::kConcatenation, lite::ConcatenationOptions{1, lite::Activation::kLinear},
         "CONCATENATION UINT8 every value, scales " + std::to_string(qa.scale[0]) + "/" + std::to_string(qb.scale[0]) +
             " -> " + std::to_string(qo.scale[0]));
  }
  // INT8 inputs with another scale: TFLite 2.9 refuses them, so does qlite.
  OneOp m;
  m.input(T::kInt8, {1, 4}, random_bytes(rng, T::kInt8, 4), Quantization::per_tensor(0.1f, 0));
  m.input(T::kInt8, {1, 4}, random_bytes(rng, T::kInt8, 4), Quantization::per_tensor(0.2f, 0));
  m.output(T::kInt8, {1, 8}, Quantization::per_tensor(0.1f, 0));
  both_refuse(*peer, m, BuiltinOp::kConcatenation, lite::ConcatenationOptions{1, lite::Activation::kLinear},
              "share scale and zero point");
}

}  // namespace
}  // namespace qlite::test

namespace qlite::test {
namespace {

using namespace data_ops;

TEST(TfLiteBatchSpace, SpaceToBatchAndBatchToSpaceMatch) {
  QLITE_REQUIRE_TFLITE_PEER(peer);
  Rng rng(6111);
  size_t bytes = 0;
  const T types[] = {T::kFloat32, T::kUInt8, T::kInt8, T::kInt32, T::kInt64};  // 2.9 fails INT16 at invoke
  for (int rep = 0; rep < 120; ++rep) {
    const T type = types[rep % std::size(types)];
    const bool four = rep % 3 != 0;
    const int32_t bh = 1 + static_cast<int32_t>(rng.below(3)), bw = four ? 1 + static_cast<int32_t>(rng.below(3)) : 1;
    const int32_t b = 1 + static_cast<int32_t>(rng.below(2)), c = 1 + static_cast<int32_t>(rng.below(3));
    const Quantization q = type == T::kInt16 ? Quantization::per_tensor(0.01f, 0) : quant_of(type);
    {  // SPACE_TO_BATCH_ND with paddings that make the dims divisible
      const int32_t h = 1 + static_cast<int32_t>(rng.below(5)), w = four ? 1 + static_cast<int32_t>(rng.below(5)) : 1;
      const int32_t top = static_cast<int32_t>(rng.below(3));
      const int32_t bottom = (bh - (h + top) % bh) % bh + bh * static_cast<int32_t>(rng.below(2));
      const int32_t left = four ? static_cast<int32_t>(rng.below(3)) : 0;
      const int32_t right = four ? (bw - (w + left) % bw) % bw : 0;
      const std::vector<int32_t> in = four ? std::vector<int32_t>{b, h, w, c} : std::vector<int32_t>{b, h, c};
      const int32_t oh = (h + top + bottom) / bh, ow = (w + left + right) / bw;
      const std::vector<int32_t> out =
          four ? std::vector<int32_t>{b * bh * bw, oh, ow, c} : std::vector<int32_t>{b * bh, oh, c};
      OneOp m;
      m.input(type, in, random_bytes(rng, type, numel(in)), q);
      if (four) {
        m.constant(T::kInt32, {2}, int_bytes(T::kInt32, {bh, bw}));
        m.constant(T::kInt32, {2, 2}, int_bytes(T::kInt32, {top, bottom, left, right}));
      } else {
        m.constant(T::kInt32, {1}, int_bytes(T::kInt32, {bh}));
        m.constant(T::kInt32, {1, 2}, int_bytes(T::kInt32, {top, bottom}));
      }
      m.output(type, out, q);
      bytes += same(*peer, m, BuiltinOp::kSpaceToBatchNd, lite::SpaceToBatchNdOptions{},
                    "SPACE_TO_BATCH_ND " + name(type) + " " + dims(in) + " block " + std::to_string(bh) + "x" +
                        std::to_string(bw));
    }
    {  // BATCH_TO_SPACE_ND with crops
      const int32_t h = 1 + static_cast<int32_t>(rng.below(4)), w = four ? 1 + static_cast<int32_t>(rng.below(4)) : 1;
      const int32_t top = static_cast<int32_t>(rng.below(static_cast<uint64_t>(h * bh))) / 2;
      const int32_t bottom = static_cast<int32_t>(rng.below(static_cast<uint64_t>(h * bh - top))) / 2;
      const int32_t left = four ? static_cast<int32_t>(rng.below(static_cast<uint64_t>(w * bw))) / 2 : 0;
      const int32_t right = four ? static_cast<int32_t>(rng.below(static_cast<uint64_t>(w * bw - left))) / 2 : 0;
      const std::vector<int32_t> in =
          four ? std::vector<int32_t>{b * bh * bw, h, w, c} : std::vector<int32_t>{b * bh, h, c};
      const std::vector<int32_t> out = four ? std::vector<int32_t>{b, h * bh - top - bottom, w * bw - left - right, c}
                                            : std::vector<int32_t>{b, h * bh - top - bottom, c};
      OneOp m;
      m.input(type, in, random_bytes(rng, type, numel(in)), q);
      if (four) {
        m.constant(T::kInt32, {2}, int_bytes(T::kInt32, {bh, bw}));
        m.constant(T::kInt32, {2, 2}, int_bytes(T::kInt32, {top, bottom, left, right}));
      } else {
        m.constant(T::kInt32, {1}, int_bytes(T::kInt32, {bh}));
        m.constant(T::kInt32, {1, 2}, int_bytes(T::kInt32, {top, bottom}));
      }
      m.output(type, out, q);
      bytes += same(*peer, m, BuiltinOp::kBatchToSpaceNd, lite::BatchToSpaceNdOptions{},
                    "BATCH_TO_SPACE_ND " + name(type) + " " + dims(in) + " block " + std::to_string(bh) + "x" +
                        std::to_string(bw));
    }
  }
  EXPECT_GT(bytes, 5000u);
}

}  // namespace
}  // namespace qlite::test

namespace qlite::test {
namespace {

using namespace data_ops;

// Types qlite refuses for an op are types TFLite 2.9 refuses too (at prepare
// or invoke): qlite names the op and the type in one line.
TEST(TfLiteDataOpTypes, TypesQliteRefusesTfLiteRefusesToo) {
  QLITE_REQUIRE_TFLITE_PEER(peer);
  Rng rng(6112);
  int cases = 0;
  auto check = [&](OneOp& m, BuiltinOp op, lite::OpOptions options, T type) {
    ++cases;
    SCOPED_TRACE(name(type));
    both_refuse(*peer, m, op, std::move(options), lite::builtin_op_name(op));
  };
  for (T type : {T::kInt64}) {  // SPLIT
    OneOp m;
    m.constant(T::kInt32, {}, int_bytes(T::kInt32, {1}));
    m.input(type, {2, 4}, random_bytes(rng, type, 8));
    m.output(type, {2, 2});
    m.output(type, {2, 2});
    check(m, BuiltinOp::kSplit, lite::SplitOptions{2}, type);
  }
  for (T type : {T::kInt64}) {  // UNPACK
    OneOp m;
    m.input(type, {2, 3}, random_bytes(rng, type, 6));
    m.output(type, {3});
    m.output(type, {3});
    check(m, BuiltinOp::kUnpack, lite::UnpackOptions{2, 0}, type);
  }
  for (T type : {T::kInt16}) {  // TILE
    OneOp m;
    m.input(type, {2, 3}, random_bytes(rng, type, 6), quant_of(type));
    m.constant(T::kInt32, {2}, int_bytes(T::kInt32, {1, 2}));
    m.output(type, {2, 6}, quant_of(type));
    check(m, BuiltinOp::kTile, lite::TileOptions{}, type);
  }
  for (T type : {T::kInt16, T::kInt64}) {  // ARG_MAX
    OneOp m;
    m.input(type, {2, 3}, random_bytes(rng, type, 6), quant_of(type));
    m.constant(T::kInt32, {1}, int_bytes(T::kInt32, {1}));
    m.output(T::kInt32, {2});
    check(m, BuiltinOp::kArgMax, lite::ArgMaxOptions{T::kInt32}, type);
  }
  for (T type : {T::kInt16, T::kBool}) {  // TOPK_V2
    OneOp m;
    m.input(type, {2, 3}, random_bytes(rng, type, 6), quant_of(type));
    m.constant(T::kInt32, {}, int_bytes(T::kInt32, {1}));
    m.output(type, {2, 1}, quant_of(type));
    m.output(T::kInt32, {2, 1});
    check(m, BuiltinOp::kTopkV2, lite::TopKV2Options{}, type);
  }
  for (T type : {T::kInt8, T::kUInt8, T::kInt16, T::kBool}) {  // ZEROS_LIKE
    OneOp m;
    m.input(type, {2, 3}, random_bytes(rng, type, 6), quant_of(type));
    m.output(type, {2, 3}, quant_of(type));
    check(m, BuiltinOp::kZerosLike, lite::ZerosLikeOptions{}, type);
  }
  for (T type : {T::kInt16}) {  // DEPTH_TO_SPACE
    OneOp m;
    m.input(type, {1, 1, 1, 4}, random_bytes(rng, type, 4), quant_of(type));
    m.output(type, {1, 2, 2, 1}, quant_of(type));
    check(m, BuiltinOp::kDepthToSpace, lite::DepthToSpaceOptions{2}, type);
  }
  EXPECT_EQ(cases, 12);
}

}  // namespace
}  // namespace qlite::test
