// CAST, GATHER, GATHER_ND, SQUEEZE, EXPAND_DIMS, SHAPE, FILL, ZEROS_LIKE,
// SPLIT, SPLIT_V, UNPACK, PACK and SLICE against the real TensorFlow Lite
// 2.9: one-op files written by qlite's writer over seeded random shapes,
// parameters and types; every output (all of them for the multi-output ops)
// compared byte for byte. Files and inputs TFLite refuses are refused by
// qlite too. A failure under CI=true when the peer is missing.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>

#include "data_ops_support.h"

namespace qlite::test {
namespace {

using namespace data_ops;

const T kCastTypes[] = {T::kFloat32, T::kInt8, T::kUInt8, T::kInt16, T::kInt32, T::kInt64, T::kBool};

std::vector<int32_t> random_shape(Rng& rng, int min_rank, int max_rank, int max_dim) {
  const int rank = min_rank + static_cast<int>(rng.below(static_cast<uint64_t>(max_rank - min_rank + 1)));
  std::vector<int32_t> s;
  for (int d = 0; d < rank; ++d) s.push_back(1 + static_cast<int32_t>(rng.below(static_cast<uint64_t>(max_dim))));
  return s;
}

TEST(TfLiteCast, EveryTypePairMatches) {
  QLITE_REQUIRE_TFLITE_PEER(peer);
  Rng rng(5101);
  size_t bytes = 0;
  for (T from : kCastTypes)
    for (T to : kCastTypes)
      for (int rep = 0; rep < 3; ++rep) {
        const std::vector<int32_t> shape = random_shape(rng, 1, 4, 6);
        OneOp m;
        m.input(from, shape, random_bytes(rng, from, numel(shape)));
        m.output(to, shape);
        bytes += same(*peer, m, BuiltinOp::kCast, lite::CastOptions{from, to},
                      std::string("CAST ") + lite::tensor_type_name(from) + " -> " + lite::tensor_type_name(to) + " " +
                          dims(shape));
      }
  EXPECT_GT(bytes, 5000u);
}

TEST(TfLiteCast, FloatsOutsideTheTargetRangeMatch) {
  QLITE_REQUIRE_TFLITE_PEER(peer);
  // Fractions, ties, the edges of every integer type, beyond int32 and int64,
  // infinities and NaN: C++ leaves these to the machine; TFLite's x86 build is the oracle.
  std::vector<float> v = {0.0f, -0.0f, 0.5f, -0.5f, 1.5f, -1.5f, 2.7f, -2.7f, 127.0f, 127.9f, 128.0f, -128.0f,
                          -129.0f, 255.0f, 255.5f, 256.0f, 300.7f, -300.7f, 32767.0f, 32768.0f, -32769.0f, 65536.0f,
                          2147483520.0f, 2147483648.0f, -2147483648.0f, -2147483904.0f, 1e10f, -1e10f, 9.2e18f,
                          9.3e18f, -9.3e18f, 1e30f, std::numeric_limits<float>::infinity(),
                          -std::numeric_limits<float>::infinity(), std::numeric_limits<float>::quiet_NaN(), 1e-30f};
  std::vector<uint8_t> in(v.size() * 4);
  std::memcpy(in.data(), v.data(), in.size());
  const int32_t n = static_cast<int32_t>(v.size());
  for (T to : kCastTypes) {
    OneOp m;
    m.input(T::kFloat32, {n}, in);
    m.output(to, {n});
    same(*peer, m, BuiltinOp::kCast, lite::CastOptions{T::kFloat32, to},
         std::string("CAST FLOAT32 -> ") + lite::tensor_type_name(to) + " of awkward values");
  }
}

TEST(TfLiteCast, EveryByteValueOfTheSmallTypesMatches) {
  QLITE_REQUIRE_TFLITE_PEER(peer);
  std::vector<uint8_t> all(256);
  for (int i = 0; i < 256; ++i) all[static_cast<size_t>(i)] = static_cast<uint8_t>(i);
  std::vector<uint8_t> all16(65536 * 2);
  for (int i = 0; i < 65536; ++i) {
    const auto x = static_cast<uint16_t>(i);
    std::memcpy(all16.data() + 2 * i, &x, 2);
  }
  for (T from : {T::kInt8, T::kUInt8, T::kInt16})
    for (T to : kCastTypes) {
      OneOp m;
      const std::vector<uint8_t>& in = from == T::kInt16 ? all16 : all;
      const int32_t n = from == T::kInt16 ? 65536 : 256;
      m.input(from, {n}, in);
      m.output(to, {n});
      same(*peer, m, BuiltinOp::kCast, lite::CastOptions{from, to},
           std::string("CAST every ") + lite::tensor_type_name(from) + " -> " + lite::tensor_type_name(to));
    }
}

const T kGatherTypes[] = {T::kFloat32, T::kInt8, T::kUInt8, T::kInt16, T::kInt32, T::kInt64, T::kBool};

TEST(TfLiteGather, RandomAxesBatchDimsTypesAndIndicesMatch) {
  QLITE_REQUIRE_TFLITE_PEER(peer);
  Rng rng(5102);
  size_t bytes = 0;
  for (int rep = 0; rep < 300; ++rep) {
    const T type = kGatherTypes[rep % std::size(kGatherTypes)];
    const T itype = rep % 3 == 0 ? T::kInt64 : T::kInt32;
    const std::vector<int32_t> shape = random_shape(rng, 1, 4, 5);
    const auto rank = static_cast<int32_t>(shape.size());
    const int32_t axis = static_cast<int32_t>(rng.below(static_cast<uint64_t>(rank)));
    const int32_t batch_dims = static_cast<int32_t>(rng.below(static_cast<uint64_t>(axis + 1)));
    std::vector<int32_t> ishape(shape.begin(), shape.begin() + batch_dims);
    const int extra = static_cast<int>(rng.below(3)) + (batch_dims == 0 ? 0 : 0);
    for (int e = 0; e < extra; ++e) ishape.push_back(1 + static_cast<int32_t>(rng.below(4)));
    std::vector<int64_t> idx(static_cast<size_t>(numel(ishape)));
    for (int64_t& v : idx) v = static_cast<int64_t>(rng.below(static_cast<uint64_t>(shape[static_cast<size_t>(axis)])));
    std::vector<int32_t> oshape(shape.begin(), shape.begin() + axis);
    oshape.insert(oshape.end(), ishape.begin() + batch_dims, ishape.end());
    oshape.insert(oshape.end(), shape.begin() + axis + 1, shape.end());
    const bool negative_axis = rng.below(2) == 0;
    // Run-time indices with constant params, or the reverse (qlite gives all
    // graph inputs dimension 0 as the batch, so one of the two is constant).
    OneOp m;
    if (rep % 2 == 0) {
      m.constant(type, shape, random_bytes(rng, type, numel(shape)), quant_of(type));
      m.input(itype, ishape, int_bytes(itype, idx));
    } else {
      m.input(type, shape, random_bytes(rng, type, numel(shape)), quant_of(type));
      m.constant(itype, ishape, int_bytes(itype, idx));
    }
    m.output(type, oshape, quant_of(type));
    bytes += same(*peer, m, BuiltinOp::kGather,
                  lite::GatherOptions{negative_axis ? axis - rank : axis, batch_dims},
                  std::string("GATHER ") + lite::tensor_type_name(type) + " " + dims(shape) + " axis " +
                      std::to_string(axis) + " batch_dims " + std::to_string(batch_dims) + " indices " + dims(ishape));
  }
  EXPECT_GT(bytes, 10000u);
}

TEST(TfLiteGather, EmbeddingLookupStyleAndBadIndices) {
  QLITE_REQUIRE_TFLITE_PEER(peer);
  Rng rng(5103);
  {  // a token table gathered by run-time ids
    OneOp m;
    m.input(T::kInt32, {1, 7}, int_bytes(T::kInt32, {0, 99, 5, 17, 99, 0, 42}));
    m.constant(T::kInt8, {100, 16}, random_bytes(rng, T::kInt8, 1600), quant_of(T::kInt8));
    m.output(T::kInt8, {1, 7, 16}, quant_of(T::kInt8));
    // GATHER(params, indices): the table is input 0.
    std::swap(m.op_inputs[0], m.op_inputs[1]);
    same(*peer, m, BuiltinOp::kGather, lite::GatherOptions{0, 0}, "GATHER token table");
  }
  {  // a negative run-time index: TFLite 2.9 fails the invoke, so does qlite
    OneOp m;
    m.constant(T::kFloat32, {4, 3}, random_bytes(rng, T::kFloat32, 12));
    m.input(T::kInt32, {2}, int_bytes(T::kInt32, {1, -1}));
    m.output(T::kFloat32, {2, 3});
    both_refuse(*peer, m, BuiltinOp::kGather, lite::GatherOptions{0, 0}, "outside [0, 4)");
  }
  {  // too large: qlite refuses (TFLite 2.9 reads past the axis)
    OneOp m;
    m.constant(T::kFloat32, {4, 3}, random_bytes(rng, T::kFloat32, 12));
    m.input(T::kInt32, {2}, int_bytes(T::kInt32, {1, 4}));
    m.output(T::kFloat32, {2, 3});
    const std::vector<uint8_t> model = m.finish(BuiltinOp::kGather, lite::GatherOptions{0, 0});
    const MultiOutcome ours = run_multi_in_qlite(model, m.in_bytes);
    EXPECT_NE(ours.error.find("GATHER"), std::string::npos) << ours.error;
    EXPECT_NE(ours.error.find("index 4"), std::string::npos) << ours.error;
  }
  {  // a constant index out of range fails at load
    OneOp m;
    m.input(T::kFloat32, {4, 3}, random_bytes(rng, T::kFloat32, 12));
    m.constant(T::kInt32, {1}, int_bytes(T::kInt32, {7}));
    m.output(T::kFloat32, {1, 3});
    const MultiOutcome ours = run_multi_in_qlite(m.finish(BuiltinOp::kGather, lite::GatherOptions{0, 0}), m.in_bytes);
    EXPECT_NE(ours.error.find("outside [0, 4)"), std::string::npos) << ours.error;
  }
  {  // an axis outside the rank
    OneOp m;
    m.input(T::kFloat32, {4, 3}, random_bytes(rng, T::kFloat32, 12));
    m.constant(T::kInt32, {1}, int_bytes(T::kInt32, {0}));
    m.output(T::kFloat32, {4, 1});
    both_refuse(*peer, m, BuiltinOp::kGather, lite::GatherOptions{2, 0}, "axis 2");
  }
}

TEST(TfLiteGatherNd, RandomShapesAndIndicesMatch) {
  QLITE_REQUIRE_TFLITE_PEER(peer);
  Rng rng(5104);
  size_t bytes = 0;
  const T types[] = {T::kFloat32, T::kInt8, T::kUInt8, T::kInt16, T::kInt32, T::kInt64};
  for (int rep = 0; rep < 200; ++rep) {
    const T type = types[rep % std::size(types)];
    const T itype = rep % 2 == 0 ? T::kInt64 : T::kInt32;
    const std::vector<int32_t> shape = random_shape(rng, 1, 4, 5);
    const auto rank = static_cast<int32_t>(shape.size());
    const int32_t depth = 1 + static_cast<int32_t>(rng.below(static_cast<uint64_t>(rank)));
    std::vector<int32_t> ishape = random_shape(rng, 0, 2, 4);
    ishape.push_back(depth);
    std::vector<int64_t> idx(static_cast<size_t>(numel(ishape)));
    for (size_t i = 0; i < idx.size(); ++i)
      idx[i] = static_cast<int64_t>(rng.below(static_cast<uint64_t>(shape[i % static_cast<size_t>(depth)])));
    std::vector<int32_t> oshape(ishape.begin(), ishape.end() - 1);
    oshape.insert(oshape.end(), shape.begin() + depth, shape.end());
    OneOp m;
    if (rep % 3 == 0) {
      m.constant(type, shape, random_bytes(rng, type, numel(shape)), quant_of(type));
      m.input(itype, ishape, int_bytes(itype, idx));
    } else {
      m.input(type, shape, random_bytes(rng, type, numel(shape)), quant_of(type));
      m.constant(itype, ishape, int_bytes(itype, idx));
    }
    m.output(type, oshape, quant_of(type));
    bytes += same(*peer, m, BuiltinOp::kGatherNd, lite::GatherNdOptions{},
                  std::string("GATHER_ND ") + lite::tensor_type_name(type) + " " + dims(shape) + " indices " +
                      dims(ishape));
  }
  EXPECT_GT(bytes, 5000u);
}

TEST(TfLiteGatherNd, OutOfRangeTuplesAreRefused) {
  QLITE_REQUIRE_TFLITE_PEER(peer);
  Rng rng(5105);
  // (3, 0) points past the tensor: qlite fails the invoke naming the op
  // (TFLite 2.9 runs it, reading past its buffer). (0, 5) lands inside the
  // (3, 4) tensor's flat range: TFLite 2.9 reads element 5, and so does qlite.
  OneOp bad;
  bad.constant(T::kFloat32, {3, 4}, random_bytes(rng, T::kFloat32, 12));
  bad.input(T::kInt32, {1, 2}, int_bytes(T::kInt32, {3, 0}));
  bad.output(T::kFloat32, {1});
  const MultiOutcome ours = run_multi_in_qlite(bad.finish(BuiltinOp::kGatherNd, lite::GatherNdOptions{}), bad.in_bytes);
  EXPECT_NE(ours.error.find("GATHER_ND"), std::string::npos) << ours.error;
  EXPECT_NE(ours.error.find("outside the input"), std::string::npos) << ours.error;
  OneOp odd;
  odd.constant(T::kFloat32, {3, 4}, random_bytes(rng, T::kFloat32, 12));
  odd.input(T::kInt32, {2, 2}, int_bytes(T::kInt32, {0, 5, 2, 3}));
  odd.output(T::kFloat32, {2});
  same(*peer, odd, BuiltinOp::kGatherNd, lite::GatherNdOptions{}, "GATHER_ND flat-range index");
}

TEST(TfLiteShapeOps, SqueezeExpandDimsShapeFillZerosLikeMatch) {
  QLITE_REQUIRE_TFLITE_PEER(peer);
  Rng rng(5106);
  size_t bytes = 0;
  for (int rep = 0; rep < 60; ++rep) {
    const T type = kGatherTypes[rep % std::size(kGatherTypes)];
    std::vector<int32_t> shape = random_shape(rng, 1, 5, 3);
    const auto rank = static_cast<int32_t>(shape.size());
    {  // SQUEEZE: all size-1 dims, or a chosen subset
      std::vector<int32_t> sq, out;
      const bool all = rep % 2 == 0;
      for (int32_t d = 0; d < rank; ++d) {
        const bool drop = shape[static_cast<size_t>(d)] == 1 && (all || rng.below(2) == 0);
        if (drop && !all) sq.push_back(rng.below(2) ? d : d - rank);
        if (!drop) out.push_back(shape[static_cast<size_t>(d)]);
      }
      if (!all && sq.empty()) out = shape;  // nothing chosen: squeeze_dims empty means all, so pick none
      if (!all && sq.empty()) {
        out.clear();
        for (int32_t d : shape)
          if (d != 1) out.push_back(d);
      }
      OneOp m;
      m.input(type, shape, random_bytes(rng, type, numel(shape)), quant_of(type));
      m.output(type, out, quant_of(type));
      bytes += same(*peer, m, BuiltinOp::kSqueeze, lite::SqueezeOptions{sq},
                    std::string("SQUEEZE ") + lite::tensor_type_name(type) + " " + dims(shape));
    }
    {  // EXPAND_DIMS at every position, negative too
      const int32_t axis = static_cast<int32_t>(rng.below(static_cast<uint64_t>(rank + 1)));
      std::vector<int32_t> out = shape;
      out.insert(out.begin() + axis, 1);
      const T at = rep % 2 ? T::kInt32 : T::kInt64;
      OneOp m;
      m.input(type, shape, random_bytes(rng, type, numel(shape)), quant_of(type));
      m.constant(at, {1}, int_bytes(at, {rng.below(2) ? axis : axis - rank - 1}));
      m.output(type, out, quant_of(type));
      bytes += same(*peer, m, BuiltinOp::kExpandDims, lite::ExpandDimsOptions{},
                    std::string("EXPAND_DIMS ") + lite::tensor_type_name(type) + " " + dims(shape) + " at " +
                        std::to_string(axis));
    }
    {  // SHAPE, int32 and int64
      const T ot = rep % 2 ? T::kInt32 : T::kInt64;
      OneOp m;
      m.input(type, shape, random_bytes(rng, type, numel(shape)));
      m.output(ot, {rank});
      bytes += same(*peer, m, BuiltinOp::kShape, lite::ShapeOptions{ot}, "SHAPE of " + dims(shape));
    }
  }
  for (T type : {T::kFloat32, T::kInt32, T::kInt64, T::kBool, T::kInt8, T::kInt16}) {  // FILL
    const std::vector<int32_t> shape = random_shape(rng, 1, 4, 4);
    const T dt = type == T::kInt32 ? T::kInt64 : T::kInt32;
    std::vector<int64_t> d(shape.begin(), shape.end());
    OneOp m;
    m.input(type, {}, random_bytes(rng, type, 1), quant_of(type));
    m.constant(dt, {static_cast<int32_t>(shape.size())}, int_bytes(dt, d));
    std::swap(m.op_inputs[0], m.op_inputs[1]);  // FILL(dims, value)
    m.output(type, shape, quant_of(type));
    same(*peer, m, BuiltinOp::kFill, lite::FillOptions{}, std::string("FILL ") + lite::tensor_type_name(type) + dims(shape));
  }
  for (T type : {T::kFloat32, T::kInt32, T::kInt64}) {  // ZEROS_LIKE
    const std::vector<int32_t> shape = random_shape(rng, 1, 4, 4);
    OneOp m;
    m.input(type, shape, random_bytes(rng, type, numel(shape)));
    m.output(type, shape);
    same(*peer, m, BuiltinOp::kZerosLike, lite::ZerosLikeOptions{},
         std::string("ZEROS_LIKE ") + lite::tensor_type_name(type));
  }
  EXPECT_GT(bytes, 1000u);
}

TEST(TfLiteShapeOps, RefusedAsTfLiteRefuses) {
  QLITE_REQUIRE_TFLITE_PEER(peer);
  Rng rng(5107);
  {  // squeezing a dimension that is not 1
    OneOp m;
    m.input(T::kFloat32, {2, 3}, random_bytes(rng, T::kFloat32, 6));
    m.output(T::kFloat32, {3});
    both_refuse(*peer, m, BuiltinOp::kSqueeze, lite::SqueezeOptions{{0}}, "is not 1");
  }
  {  // EXPAND_DIMS beyond rank + 1
    OneOp m;
    m.input(T::kFloat32, {2, 3}, random_bytes(rng, T::kFloat32, 6));
    m.constant(T::kInt32, {1}, int_bytes(T::kInt32, {3}));
    m.output(T::kFloat32, {2, 3, 1});
    both_refuse(*peer, m, BuiltinOp::kExpandDims, lite::ExpandDimsOptions{}, "axis 3");
  }
  {  // FILL with a negative dimension
    OneOp m;
    m.input(T::kFloat32, {}, random_bytes(rng, T::kFloat32, 1));
    m.constant(T::kInt32, {2}, int_bytes(T::kInt32, {2, -1}));
    std::swap(m.op_inputs[0], m.op_inputs[1]);
    m.output(T::kFloat32, {2, 1});
    both_refuse(*peer, m, BuiltinOp::kFill, lite::FillOptions{}, "must be >= 0");
  }
}

const T kSplitTypes[] = {T::kFloat32, T::kUInt8, T::kInt8, T::kInt16, T::kInt32};

TEST(TfLiteSplit, SplitSplitVUnpackPackRandomMatchEveryOutput) {
  QLITE_REQUIRE_TFLITE_PEER(peer);
  Rng rng(5108);
  size_t bytes = 0;
  for (int rep = 0; rep < 120; ++rep) {
    const T type = kSplitTypes[rep % std::size(kSplitTypes)];
    std::vector<int32_t> shape = random_shape(rng, 1, 4, 4);
    const auto rank = static_cast<int32_t>(shape.size());
    const int32_t axis = static_cast<int32_t>(rng.below(static_cast<uint64_t>(rank)));
    const auto a = static_cast<size_t>(axis);
    const Quantization q = quant_of(type);
    {  // SPLIT into num parts of an axis made a multiple of num
      const int32_t num = 1 + static_cast<int32_t>(rng.below(4));
      shape[a] = num * (1 + static_cast<int32_t>(rng.below(3)));
      OneOp m;
      m.constant(T::kInt32, {}, int_bytes(T::kInt32, {rng.below(2) ? axis : axis - rank}));
      m.input(type, shape, random_bytes(rng, type, numel(shape)), q);
      std::vector<int32_t> part = shape;
      part[a] /= num;
      for (int k = 0; k < num; ++k) m.output(type, part, q);
      bytes += same(*peer, m, BuiltinOp::kSplit, lite::SplitOptions{num},
                    std::string("SPLIT ") + lite::tensor_type_name(type) + " " + dims(shape) + " axis " +
                        std::to_string(axis) + " into " + std::to_string(num));
    }
    {  // SPLIT_V with random sizes, one -1 at times, zero-size parts
      const T vtype = rep % 6 == 5 ? T::kInt64 : type;
      const Quantization vq = quant_of(vtype);
      const int32_t num = 1 + static_cast<int32_t>(rng.below(4));
      std::vector<int64_t> sizes(static_cast<size_t>(num));
      int64_t sum = 0;
      for (int64_t& s : sizes) sum += (s = static_cast<int64_t>(rng.below(4)));
      shape[a] = static_cast<int32_t>(sum);
      if (sum == 0) shape[a] = 0;
      std::vector<int64_t> written = sizes;
      if (rng.below(2) == 0) written[rng.below(static_cast<uint64_t>(num))] = -1;
      if (shape[a] == 0) {
        shape[a] = 2;
        sizes.back() += 2;
        written = sizes;
      }
      OneOp m;
      m.input(vtype, shape, random_bytes(rng, vtype, numel(shape)), vq);
      m.constant(T::kInt32, {num}, int_bytes(T::kInt32, written));
      m.constant(T::kInt32, {}, int_bytes(T::kInt32, {axis}));
      for (int64_t s : sizes) {
        std::vector<int32_t> part = shape;
        part[a] = static_cast<int32_t>(s);
        m.output(vtype, part, vq);
      }
      bytes += same(*peer, m, BuiltinOp::kSplitV, lite::SplitVOptions{num},
                    std::string("SPLIT_V ") + lite::tensor_type_name(vtype) + " " + dims(shape) + " axis " +
                        std::to_string(axis));
    }
    {  // UNPACK along the axis
      const T utype = rep % 6 == 5 ? T::kBool : type;
      const Quantization uq = quant_of(utype);
      OneOp m;
      m.input(utype, shape, random_bytes(rng, utype, numel(shape)), uq);
      std::vector<int32_t> part = shape;
      part.erase(part.begin() + axis);
      for (int32_t k = 0; k < shape[a]; ++k) m.output(utype, part, uq);
      bytes += same(*peer, m, BuiltinOp::kUnpack, lite::UnpackOptions{shape[a], rng.below(2) ? axis : axis - rank},
                    std::string("UNPACK ") + lite::tensor_type_name(utype) + " " + dims(shape) + " axis " +
                        std::to_string(axis));
    }
    {  // PACK of 1..4 inputs at every axis
      const T ptype = rep % 6 == 5 ? T::kInt64 : type;
      const Quantization pq = quant_of(ptype);
      const int32_t count = 1 + static_cast<int32_t>(rng.below(4));
      const int32_t paxis = static_cast<int32_t>(rng.below(static_cast<uint64_t>(rank + 1)));
      OneOp m;
      for (int32_t k = 0; k < count; ++k) m.input(ptype, shape, random_bytes(rng, ptype, numel(shape)), pq);
      std::vector<int32_t> out = shape;
      out.insert(out.begin() + paxis, count);
      m.output(ptype, out, pq);
      bytes += same(*peer, m, BuiltinOp::kPack, lite::PackOptions{count, paxis},
                    std::string("PACK ") + std::to_string(count) + " x " + lite::tensor_type_name(ptype) + " " +
                        dims(shape) + " axis " + std::to_string(paxis));
    }
  }
  EXPECT_GT(bytes, 10000u);
}

TEST(TfLiteSplit, RefusedAsTfLiteRefuses) {
  QLITE_REQUIRE_TFLITE_PEER(peer);
  Rng rng(5109);
  {  // 5 is not a multiple of 2
    OneOp m;
    m.constant(T::kInt32, {}, int_bytes(T::kInt32, {1}));
    m.input(T::kFloat32, {2, 5}, random_bytes(rng, T::kFloat32, 10));
    m.output(T::kFloat32, {2, 2});
    m.output(T::kFloat32, {2, 3});
    both_refuse(*peer, m, BuiltinOp::kSplit, lite::SplitOptions{2}, "not a multiple");
  }
  {  // size_splits that do not add up
    OneOp m;
    m.input(T::kFloat32, {2, 5}, random_bytes(rng, T::kFloat32, 10));
    m.constant(T::kInt32, {2}, int_bytes(T::kInt32, {1, 2}));
    m.constant(T::kInt32, {}, int_bytes(T::kInt32, {1}));
    m.output(T::kFloat32, {2, 1});
    m.output(T::kFloat32, {2, 2});
    // TFLite 2.9 does not compare the sum with the dimension (it copies the
    // first three columns); qlite refuses the file.
    const MultiOutcome ours = run_multi_in_qlite(m.finish(BuiltinOp::kSplitV, lite::SplitVOptions{2}), m.in_bytes);
    EXPECT_NE(ours.error.find("add up to 3"), std::string::npos) << ours.error;
  }
  {  // UNPACK's num differs from the dimension
    OneOp m;
    m.input(T::kFloat32, {3, 2}, random_bytes(rng, T::kFloat32, 6));
    m.output(T::kFloat32, {2});
    m.output(T::kFloat32, {2});
    both_refuse(*peer, m, BuiltinOp::kUnpack, lite::UnpackOptions{2, 0}, "num 2");
  }
}

TEST(TfLiteSlice, RandomBeginsAndSizesMatch) {
  QLITE_REQUIRE_TFLITE_PEER(peer);
  Rng rng(5110);
  size_t bytes = 0;
  const T types[] = {T::kFloat32, T::kInt8, T::kUInt8, T::kInt16, T::kInt32, T::kInt64, T::kBool};
  for (int rep = 0; rep < 200; ++rep) {
    const T type = types[rep % std::size(types)];
    const std::vector<int32_t> shape = random_shape(rng, 1, 5, 5);
    std::vector<int64_t> begin, size;
    std::vector<int32_t> out;
    for (int32_t d : shape) {
      const auto b = static_cast<int64_t>(rng.below(static_cast<uint64_t>(d)));
      const int64_t s = rng.below(4) == 0 ? -1 : static_cast<int64_t>(rng.below(static_cast<uint64_t>(d - b + 1)));
      begin.push_back(b);
      size.push_back(s);
      out.push_back(static_cast<int32_t>(s < 0 ? d - b : s));
    }
    const T it = rep % 2 ? T::kInt32 : T::kInt64;
    const auto rank = static_cast<int32_t>(shape.size());
    OneOp m;
    m.input(type, shape, random_bytes(rng, type, numel(shape)), quant_of(type));
    m.constant(it, {rank}, int_bytes(it, begin));
    m.constant(it, {rank}, int_bytes(it, size));
    m.output(type, out, quant_of(type));
    bytes += same(*peer, m, BuiltinOp::kSlice, lite::SliceOptions{},
                  std::string("SLICE ") + lite::tensor_type_name(type) + " " + dims(shape));
  }
  EXPECT_GT(bytes, 1000u);
  OneOp bad;  // begin + size beyond the dimension
  bad.input(T::kFloat32, {4}, random_bytes(rng, T::kFloat32, 4));
  bad.constant(T::kInt32, {1}, int_bytes(T::kInt32, {2}));
  bad.constant(T::kInt32, {1}, int_bytes(T::kInt32, {3}));
  bad.output(T::kFloat32, {3});
  both_refuse(*peer, bad, BuiltinOp::kSlice, lite::SliceOptions{}, "exceed dimension");
}

}  // namespace
}  // namespace qlite::test
