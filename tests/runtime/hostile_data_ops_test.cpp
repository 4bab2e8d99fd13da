// Hostile files for the data-movement, shape and resize ops: a chain of all
// of them whose constant operands (sizes, block sizes, paddings, begins,
// ends, strides, multiples, axes, indices, k) are overwritten with extreme
// values one at a time, random bit flips over the whole file, and run-time
// indices far out of range. Every case ends in qlite::Error or in a model
// that runs; never a crash, another exception or an out-of-bounds access
// (the sanitizer build runs this too).
#include <gtest/gtest.h>

#include <climits>
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

using Result = HostileResult;

template <class V>
int32_t konst(lite::ModelBuilder& b, const char* name, TensorType t, std::vector<int32_t> shape, std::vector<V> v) {
  return b.add_constant(name, t, std::move(shape), v);
}

// x float32 [1, 4, 4, 4] through every op of this family (see the comments).
lite::ModelDef data_ops_chain() {
  lite::ModelBuilder b;
  using TT = TensorType;
  using BO = lite::BuiltinOp;
  auto f = [&](const char* name, std::vector<int32_t> shape) { return b.add_tensor(name, TT::kFloat32, std::move(shape)); };
  const int32_t x = f("x", {1, 4, 4, 4});
  const int32_t r = f("r", {1, 8, 8, 4});
  b.add_operator(BO::kResizeBilinear, {x, konst<int32_t>(b, "size", TT::kInt32, {2}, {8, 8})}, {r},
                 lite::ResizeBilinearOptions{false, true});
  const int32_t d = f("d", {1, 16, 16, 1});
  b.add_operator(BO::kDepthToSpace, {r}, {d}, lite::DepthToSpaceOptions{2});
  const int32_t s = f("s", {1, 8, 8, 4});
  b.add_operator(BO::kSpaceToDepth, {d}, {s}, lite::SpaceToDepthOptions{2});
  const int32_t m = f("m", {1, 10, 10, 4});
  b.add_operator(BO::kMirrorPad, {s, konst<int32_t>(b, "mpads", TT::kInt32, {4, 2}, {0, 0, 1, 1, 1, 1, 0, 0})}, {m},
                 lite::MirrorPadOptions{lite::MirrorPadMode::kReflect});
  const int32_t ss = f("ss", {1, 8, 8, 4});
  b.add_operator(BO::kStridedSlice,
                 {m, konst<int32_t>(b, "begin", TT::kInt32, {4}, {0, 1, 1, 0}),
                  konst<int32_t>(b, "end", TT::kInt32, {4}, {1, 9, 9, 4}),
                  konst<int32_t>(b, "strides", TT::kInt32, {4}, {1, 1, 1, 1})},
                 {ss}, lite::StridedSliceOptions{});
  const int32_t t = f("t", {1, 8, 8, 8});
  b.add_operator(BO::kTile, {ss, konst<int32_t>(b, "multiples", TT::kInt32, {4}, {1, 1, 1, 2})}, {t}, lite::TileOptions{});
  const int32_t rv = f("rv", {1, 8, 8, 8});
  b.add_operator(BO::kReverseV2, {t, konst<int32_t>(b, "raxis", TT::kInt32, {1}, {2})}, {rv}, lite::ReverseV2Options{});
  const int32_t sl = f("sl", {1, 4, 4, 8});
  b.add_operator(BO::kSlice,
                 {rv, konst<int32_t>(b, "sbegin", TT::kInt32, {4}, {0, 2, 2, 0}),
                  konst<int32_t>(b, "ssize", TT::kInt32, {4}, {1, 4, 4, 8})},
                 {sl}, lite::SliceOptions{});
  const int32_t a = f("a", {1, 4, 4, 3}), bb = f("bb", {1, 4, 4, 5});
  b.add_operator(BO::kSplitV,
                 {sl, konst<int32_t>(b, "sizes", TT::kInt32, {2}, {3, 5}), konst<int32_t>(b, "vaxis", TT::kInt32, {}, {3})},
                 {a, bb}, lite::SplitVOptions{2});
  const int32_t c = f("c", {1, 4, 4, 8});
  b.add_operator(BO::kConcatenation, {bb, a}, {c}, lite::ConcatenationOptions{3, lite::Activation::kLinear});
  const int32_t g = f("g", {1, 4, 4, 3});
  b.add_operator(BO::kGather, {c, konst<int32_t>(b, "gidx", TT::kInt32, {3}, {7, 0, 3})}, {g}, lite::GatherOptions{3, 0});
  const int32_t sb = f("sb", {4, 2, 2, 3});
  b.add_operator(BO::kSpaceToBatchNd,
                 {g, konst<int32_t>(b, "block", TT::kInt32, {2}, {2, 2}),
                  konst<int32_t>(b, "bpads", TT::kInt32, {2, 2}, {0, 0, 0, 0})},
                 {sb}, lite::SpaceToBatchNdOptions{});
  const int32_t bs = f("bs", {1, 4, 4, 3});
  b.add_operator(BO::kBatchToSpaceNd,
                 {sb, konst<int32_t>(b, "block2", TT::kInt32, {2}, {2, 2}),
                  konst<int32_t>(b, "crops", TT::kInt32, {2, 2}, {0, 0, 0, 0})},
                 {bs}, lite::BatchToSpaceNdOptions{});
  const int32_t rn = f("rn", {1, 6, 6, 3});
  b.add_operator(BO::kResizeNearestNeighbor, {bs, konst<int32_t>(b, "nsize", TT::kInt32, {2}, {6, 6})}, {rn},
                 lite::ResizeNearestNeighborOptions{true, false});
  const int32_t sq = f("sq", {6, 6, 3});
  b.add_operator(BO::kSqueeze, {rn}, {sq}, lite::SqueezeOptions{{0}});
  const int32_t ed = f("ed", {1, 6, 6, 3});
  b.add_operator(BO::kExpandDims, {sq, konst<int32_t>(b, "eaxis", TT::kInt32, {1}, {0})}, {ed}, lite::ExpandDimsOptions{});
  const int32_t am = b.add_tensor("am", TT::kInt32, {1, 6, 6});
  b.add_operator(BO::kArgMax, {ed, konst<int32_t>(b, "maxis", TT::kInt32, {1}, {3})}, {am},
                 lite::ArgMaxOptions{TT::kInt32});
  const int32_t cf = f("cf", {1, 6, 6});
  b.add_operator(BO::kCast, {am}, {cf}, lite::CastOptions{TT::kInt32, TT::kFloat32});
  const int32_t tv = f("tv", {1, 6, 2}), ti = b.add_tensor("ti", TT::kInt32, {1, 6, 2});
  b.add_operator(BO::kTopkV2, {cf, konst<int32_t>(b, "k", TT::kInt32, {}, {2})}, {tv, ti}, lite::TopKV2Options{});
  const int32_t u0 = f("u0", {1, 6}), u1 = f("u1", {1, 6});
  b.add_operator(BO::kUnpack, {tv}, {u0, u1}, lite::UnpackOptions{2, 2});
  const int32_t pk = f("pk", {2, 1, 6});
  b.add_operator(BO::kPack, {u0, u1}, {pk}, lite::PackOptions{2, 0});
  const int32_t gn = f("gn", {2, 6});
  b.add_operator(BO::kGatherNd, {pk, konst<int32_t>(b, "ndidx", TT::kInt32, {2, 2}, {1, 0, 0, 0})}, {gn},
                 lite::GatherNdOptions{});
  const int32_t bt = f("bt", {3, 2, 6});
  b.add_operator(BO::kBroadcastTo, {gn, konst<int32_t>(b, "bshape", TT::kInt32, {3}, {3, 2, 6})}, {bt},
                 lite::BroadcastToOptions{}, 2);
  const int32_t sh = b.add_tensor("sh", TT::kInt32, {3});
  b.add_operator(BO::kShape, {bt}, {sh}, lite::ShapeOptions{TT::kInt32});
  const int32_t p0 = f("p0", {1, 2, 6}), p1 = f("p1", {1, 2, 6}), p2 = f("p2", {1, 2, 6});
  b.add_operator(BO::kSplit, {konst<int32_t>(b, "saxis", TT::kInt32, {}, {0}), bt}, {p0, p1, p2}, lite::SplitOptions{3});
  b.set_inputs({x});
  b.set_outputs({sh, p0, p1, p2, ti});
  return b.build();
}

TEST(RuntimeHostileDataOps, TheChainRuns) {
  const lite::ModelDef m = data_ops_chain();
  ASSERT_EQ(load_and_run(lite::write_model(m)), Result::kRan);
  auto it = Interpreter::from_model(m);
  const auto in = it->input_bytes(0);
  for (size_t k = 0; k < in.size(); ++k) in[k] = std::byte{static_cast<unsigned char>(k * 13)};
  it->invoke();
  const auto sh = it->output_bytes(0);
  ASSERT_EQ(sh.size(), 12u);
  int32_t dims[3];
  std::memcpy(dims, sh.data(), 12);
  EXPECT_EQ(dims[0], 3);
  EXPECT_EQ(dims[1], 2);
  EXPECT_EQ(dims[2], 6);
}

TEST(RuntimeHostileDataOps, ExtremeConstantOperandsAreErrorsOrRun) {
  const lite::ModelDef base = data_ops_chain();
  const int32_t values[] = {INT32_MIN, -1000000, -7, -2, -1, 0, 1, 2, 9, 65537, 1000000, INT32_MAX};
  int errors = 0, ran = 0;
  const lite::SubGraphDef& g = base.subgraphs[0];
  for (size_t t = 0; t < g.tensors.size(); ++t) {
    const lite::TensorDef& def = g.tensors[t];
    if (def.buffer == 0 || def.type != TensorType::kInt32) continue;
    const size_t count = base.buffers[def.buffer].size() / 4;
    for (size_t e = 0; e < count; ++e)
      for (int32_t v : values) {
        lite::ModelDef m = base;
        std::memcpy(m.buffers[def.buffer].data() + 4 * e, &v, 4);
        std::vector<uint8_t> bytes;
        try {
          bytes = lite::write_model(m, lite::WriteOptions{false});
        } catch (const Error&) {
          continue;
        }
        (load_and_run(bytes) == Result::kRan ? ran : errors) += 1;
      }
  }
  EXPECT_GT(errors, 300);  // most extreme values are refused
  EXPECT_GT(ran, 20);      // a few are harmless (a multiple of 1, an index still in range, ...)
}

TEST(RuntimeHostileDataOps, RandomBitFlipsNeverCrash) {
  const std::vector<uint8_t> good = lite::write_model(data_ops_chain());
  Rng rng(7101);
  int errors = 0;
  for (int rep = 0; rep < 3000; ++rep) {
    std::vector<uint8_t> bytes = good;
    const int flips = 1 + static_cast<int>(rng.below(3));
    for (int f = 0; f < flips; ++f) bytes[rng.below(bytes.size())] ^= static_cast<uint8_t>(1u << rng.below(8));
    errors += load_and_run(bytes) == Result::kError;
  }
  EXPECT_GT(errors, 0);
}

TEST(RuntimeHostileDataOps, RunTimeIndicesFarOutOfRangeFailTheInvoke) {
  for (lite::BuiltinOp op : {lite::BuiltinOp::kGather, lite::BuiltinOp::kGatherNd}) {
    lite::ModelBuilder b;
    const int32_t idx = b.add_tensor("idx", TensorType::kInt64, {1, 2});
    const int32_t params =
        b.add_constant("params", TensorType::kFloat32, {4, 3}, std::vector<float>(12, 1.0f));
    const bool nd = op == lite::BuiltinOp::kGatherNd;
    const int32_t y = b.add_tensor("y", TensorType::kFloat32, nd ? std::vector<int32_t>{1} : std::vector<int32_t>{1, 2, 3});
    if (nd) b.add_operator(op, {params, idx}, {y}, lite::GatherNdOptions{});
    else b.add_operator(op, {params, idx}, {y}, lite::GatherOptions{0, 0});
    b.set_inputs({idx});
    b.set_outputs({y});
    auto it = Interpreter::from_model(b.build());
    for (int64_t v : {INT64_MIN, int64_t{-1}, int64_t{4}, int64_t{INT32_MAX} + 1, INT64_MAX}) {
      const int64_t pair[2] = {v, nd ? 0 : 1};
      std::memcpy(it->input_bytes(0).data(), pair, sizeof pair);
      try {
        it->invoke();
        ADD_FAILURE() << "index " << v << " ran";
      } catch (const Error& e) {
        EXPECT_NE(std::string(e.what()).find(nd ? "GATHER_ND" : "GATHER"), std::string::npos) << e.what();
      }
    }
    const int64_t fine[2] = {3, 0};
    std::memcpy(it->input_bytes(0).data(), fine, sizeof fine);
    EXPECT_NO_THROW(it->invoke());
  }
}

}  // namespace
}  // namespace qlite::test
