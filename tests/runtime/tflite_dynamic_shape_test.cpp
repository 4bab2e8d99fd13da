// Output shapes that depend on input values (TFLite 2.9's dynamic tensors):
// the shape operand (RESHAPE's shape, FILL's dims, TILE's multiples, SLICE's
// begin and size, PAD's paddings, RESIZE_BILINEAR's size, TRANSPOSE's perm,
// SUM's axes, TRANSPOSE_CONV's output_shape; CUMSUM's axis and PADV2's
// constant_values, which decide values rather than shapes) is a graph input, so the interpreter prepares the op at invoke
// (Interpreter::Impl::prepare_at_invoke), and every op downstream of it too.
// One qlite interpreter is invoked with several shape values in turn
// (growing, shrinking, back again); each step is compared with TFLite 2.9 run
// on the same inputs: output shapes equal, bytes identical (float within
// 1e-5 relative). Values TFLite refuses are refused by qlite too, at invoke,
// in one line, and the interpreter runs the next step as before. Hostile
// values (negative, huge, overflowing) fail the invoke without allocating
// beyond InterpreterOptions::max_arena_bytes, and once the values are stable
// an invoke allocates nothing (counted with counting_new.h).
#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <vector>

#include "counting_new.h"
#include "multi_io_peer.h"
#include "single_op_peer.h"

namespace qlite::test {
namespace {

using T = TensorType;
using lite::BuiltinOp;
using lite::ModelBuilder;
using lite::Quantization;

std::vector<uint8_t> random_bytes(Rng& rng, T t, size_t n) { return random_tensor_bytes(rng, t, n, 10.0f); }

// Runs one interpreter over the steps (the graph inputs of each step, at the
// shapes `shapes`) and TFLite 2.9 on each step; `refused` lists the steps
// both must refuse. Returns the steps compared.
int expect_steps_like_tflite(const TfLitePeer& peer, const std::vector<uint8_t>& model,
                             const std::vector<std::vector<int32_t>>& shapes,
                             const std::vector<std::vector<std::vector<uint8_t>>>& steps,
                             const std::vector<bool>& float_outputs, const std::vector<size_t>& refused = {}) {
  auto it = runtime::Interpreter::from_buffer(model);
  int compared = 0;
  for (size_t s = 0; s < steps.size(); ++s) {
    SCOPED_TRACE("step " + std::to_string(s));
    MultiOutcome ours;
    try {
      for (size_t k = 0; k < steps[s].size(); ++k) {
        const auto in = it->input_bytes(k);
        EXPECT_EQ(in.size(), steps[s][k].size());
        if (in.size() != steps[s][k].size()) return compared;
        std::memcpy(in.data(), steps[s][k].data(), in.size());
      }
      it->invoke();
      for (size_t k = 0; k < it->num_outputs(); ++k) {
        const auto out = it->output_bytes(k);
        const auto* p = reinterpret_cast<const uint8_t*>(out.data());
        ours.bytes.emplace_back(p, p + out.size());
        ours.shapes.push_back(it->output_info(k).shape);
      }
    } catch (const Error& e) {
      ours.error = e.what();
    }
    const MultiOutcome theirs = run_multi_in_tflite(peer, model, shapes, steps[s]);
    const bool want_refusal = std::find(refused.begin(), refused.end(), s) != refused.end();
    if (want_refusal) {
      EXPECT_NE(theirs.error, "") << "TFLite ran it";
      EXPECT_NE(ours.error, "") << "qlite ran it";
      EXPECT_EQ(ours.error.find('\n'), std::string::npos) << ours.error;
      continue;
    }
    EXPECT_EQ(theirs.error, "");
    EXPECT_EQ(ours.error, "");
    if (!theirs.error.empty() || !ours.error.empty()) continue;
    EXPECT_EQ(ours.shapes, theirs.shapes);
    EXPECT_EQ(ours.bytes.size(), theirs.bytes.size());
    for (size_t k = 0; k < std::min(ours.bytes.size(), theirs.bytes.size()); ++k) {
      std::string where;
      if (k < float_outputs.size() && float_outputs[k])
        EXPECT_TRUE(floats_close(ours.bytes[k], theirs.bytes[k], 1e-5f, 1e-5f, &where)) << "output " << k << " " << where;
      else
        EXPECT_TRUE(ours.bytes[k] == theirs.bytes[k]) << "output " << k;
    }
    ++compared;
  }
  return compared;
}

// y = RESHAPE(x (1, 12), shape) with the shape a graph input.
std::vector<uint8_t> reshape_model(T t) {
  ModelBuilder b;
  const Quantization q = t == T::kInt8 ? Quantization::per_tensor(0.1f, -5) : Quantization{};
  const int32_t x = b.add_tensor("x", t, {1, 12}, q);
  const int32_t shape = b.add_tensor("new_shape", T::kInt32, {2});
  const int32_t y = b.add_tensor("y", t, {1, 12}, q);
  b.add_operator(BuiltinOp::kReshape, {x, shape}, {y}, lite::ReshapeOptions{});
  b.set_inputs({x, shape});
  b.set_outputs({y});
  return b.finish();
}

TEST(DynamicShapes, ReshapeWithAShapeInput) {
  QLITE_REQUIRE_TFLITE_PEER(peer);
  for (T t : {T::kFloat32, T::kInt8}) {
    SCOPED_TRACE(lite::tensor_type_name(t));
    Rng rng(21);
    const std::vector<std::vector<int32_t>> values = {{3, 4}, {12, 1}, {-1, 6}, {5, 5}, {1, 12}, {-1, -1}, {2, 6}};
    std::vector<std::vector<std::vector<uint8_t>>> steps;
    for (const auto& v : values) steps.push_back({random_bytes(rng, t, 12), as_bytes(v)});
    // (5, 5) does not hold 12 elements; two -1s are refused.
    EXPECT_EQ(expect_steps_like_tflite(*peer, reshape_model(t), {{1, 12}, {2}}, steps, {t == T::kFloat32}, {3, 5}),
              5);
  }
}

TEST(DynamicShapes, FillWithADimsInput) {
  QLITE_REQUIRE_TFLITE_PEER(peer);
  ModelBuilder b;
  const int32_t dims = b.add_tensor("dims", T::kInt32, {3});
  const int32_t v = b.add_constant("value", T::kFloat32, {}, std::vector<float>{2.5f});
  const int32_t y = b.add_tensor("y", T::kFloat32, {1, 1, 1});
  b.add_operator(BuiltinOp::kFill, {dims, v}, {y}, lite::FillOptions{});
  b.set_inputs({dims});
  b.set_outputs({y});
  const std::vector<std::vector<int32_t>> values = {{2, 3, 1}, {5, 7, 3}, {1, 1, 1}, {4, -1, 2}, {0, 4, 2}, {6, 2, 9}};
  std::vector<std::vector<std::vector<uint8_t>>> steps;
  for (const auto& d : values) steps.push_back({as_bytes(d)});
  EXPECT_EQ(expect_steps_like_tflite(*peer, b.finish(), {{3}}, steps, {true}, {3}), 5);
}

TEST(DynamicShapes, TileWithAMultiplesInput) {
  QLITE_REQUIRE_TFLITE_PEER(peer);
  ModelBuilder b;
  const Quantization q = Quantization::per_tensor(0.2f, 3);
  const int32_t x = b.add_tensor("x", T::kInt8, {1, 2, 3}, q);
  const int32_t m = b.add_tensor("multiples", T::kInt32, {3});
  const int32_t y = b.add_tensor("y", T::kInt8, {1, 2, 3}, q);
  b.add_operator(BuiltinOp::kTile, {x, m}, {y}, lite::TileOptions{});
  b.set_inputs({x, m});
  b.set_outputs({y});
  Rng rng(22);
  const std::vector<std::vector<int32_t>> values = {{1, 1, 1}, {2, 3, 1}, {1, 1, 4}, {3, 1, 2}, {1, 2, 1}};
  std::vector<std::vector<std::vector<uint8_t>>> steps;
  for (const auto& v : values) steps.push_back({random_bytes(rng, T::kInt8, 6), as_bytes(v)});
  EXPECT_EQ(expect_steps_like_tflite(*peer, b.finish(), {{1, 2, 3}, {3}}, steps, {false}), 5);
}

TEST(DynamicShapes, SliceWithBeginAndSizeInputs) {
  QLITE_REQUIRE_TFLITE_PEER(peer);
  ModelBuilder b;
  const int32_t x = b.add_tensor("x", T::kFloat32, {1, 5, 6});
  const int32_t begin = b.add_tensor("begin", T::kInt32, {3});
  const int32_t size = b.add_tensor("size", T::kInt32, {3});
  const int32_t y = b.add_tensor("y", T::kFloat32, {1, 1, 1});
  b.add_operator(BuiltinOp::kSlice, {x, begin, size}, {y}, lite::SliceOptions{});
  b.set_inputs({x, begin, size});
  b.set_outputs({y});
  Rng rng(23);
  const std::vector<std::pair<std::vector<int32_t>, std::vector<int32_t>>> values = {
      {{0, 1, 2}, {1, 3, 2}}, {{0, 0, 0}, {1, 5, 6}}, {{0, 4, 5}, {1, 1, 1}}, {{0, 2, 0}, {-1, -1, 4}}, {{0, 1, 1}, {1, 2, 5}}};
  std::vector<std::vector<std::vector<uint8_t>>> steps;
  for (const auto& [bg, sz] : values) steps.push_back({random_bytes(rng, T::kFloat32, 30), as_bytes(bg), as_bytes(sz)});
  EXPECT_EQ(expect_steps_like_tflite(*peer, b.finish(), {{1, 5, 6}, {3}, {3}}, steps, {true}), 5);
}

TEST(DynamicShapes, PadWithAPaddingsInput) {
  QLITE_REQUIRE_TFLITE_PEER(peer);
  for (T t : {T::kFloat32, T::kInt8}) {
    SCOPED_TRACE(lite::tensor_type_name(t));
    ModelBuilder b;
    const Quantization q = t == T::kInt8 ? Quantization::per_tensor(0.3f, 7) : Quantization{};
    const int32_t x = b.add_tensor("x", t, {1, 3, 4}, q);
    const int32_t p = b.add_tensor("paddings", T::kInt32, {3, 2});
    const int32_t y = b.add_tensor("y", t, {1, 3, 4}, q);
    b.add_operator(BuiltinOp::kPad, {x, p}, {y}, lite::PadOptions{});
    b.set_inputs({x, p});
    b.set_outputs({y});
    Rng rng(24);
    const std::vector<std::vector<int32_t>> values = {
        {0, 0, 1, 1, 2, 2}, {0, 0, 4, 3, 0, 5}, {0, 0, 0, 0, 0, 0}, {0, 0, -1, 0, 0, 0}, {1, 2, 0, 1, 1, 0}};
    std::vector<std::vector<std::vector<uint8_t>>> steps;
    for (const auto& v : values) steps.push_back({random_bytes(rng, t, 12), as_bytes(v)});
    // A negative padding is refused by both.
    EXPECT_EQ(expect_steps_like_tflite(*peer, b.finish(), {{1, 3, 4}, {3, 2}}, steps, {t == T::kFloat32}, {3}), 4);
  }
}

TEST(DynamicShapes, ResizeBilinearWithASizeInput) {
  QLITE_REQUIRE_TFLITE_PEER(peer);
  for (T t : {T::kFloat32, T::kUInt8, T::kInt8}) {
    SCOPED_TRACE(lite::tensor_type_name(t));
    ModelBuilder b;
    const Quantization q = t == T::kFloat32 ? Quantization{} : Quantization::per_tensor(0.05f, t == T::kUInt8 ? 128 : 0);
    const int32_t x = b.add_tensor("x", t, {1, 4, 5, 2}, q);
    const int32_t size = b.add_tensor("size", T::kInt32, {2});
    const int32_t y = b.add_tensor("y", t, {1, 4, 5, 2}, q);
    b.add_operator(BuiltinOp::kResizeBilinear, {x, size}, {y}, lite::ResizeBilinearOptions{false, true});
    b.set_inputs({x, size});
    b.set_outputs({y});
    Rng rng(25);
    const std::vector<std::vector<int32_t>> values = {{8, 10}, {2, 3}, {4, 5}, {7, 1}, {16, 20}, {3, 3}};
    std::vector<std::vector<std::vector<uint8_t>>> steps;
    for (const auto& v : values) steps.push_back({random_bytes(rng, t, 40), as_bytes(v)});
    EXPECT_EQ(expect_steps_like_tflite(*peer, b.finish(), {{1, 4, 5, 2}, {2}}, steps, {t == T::kFloat32}), 6);
  }
}

// TRANSPOSE with a perm input and SUM with an axes input: the output's
// dimensions (and, for SUM, its rank) follow the values.
TEST(DynamicShapes, TransposePermAndSumAxesInputs) {
  QLITE_REQUIRE_TFLITE_PEER(peer);
  ModelBuilder b;
  const int32_t x = b.add_tensor("x", T::kFloat32, {1, 2, 3, 4});
  const int32_t perm = b.add_tensor("perm", T::kInt32, {4});
  const int32_t t = b.add_tensor("t", T::kFloat32, {1, 2, 3, 4});
  b.add_operator(BuiltinOp::kTranspose, {x, perm}, {t}, lite::TransposeOptions{});
  const int32_t axes = b.add_tensor("axes", T::kInt32, {2});
  const int32_t s = b.add_tensor("s", T::kFloat32, {1, 1});
  b.add_operator(BuiltinOp::kSum, {t, axes}, {s}, lite::ReducerOptions{false});
  b.set_inputs({x, perm, axes});
  b.set_outputs({t, s});
  Rng rng(26);
  const std::vector<std::pair<std::vector<int32_t>, std::vector<int32_t>>> values = {
      {{0, 1, 2, 3}, {1, 2}}, {{3, 2, 1, 0}, {0, 3}}, {{0, 2, 3, 1}, {1, 1}}, {{1, 0, 3, 2}, {-1, 0}}, {{0, 3, 1, 2}, {2, 3}}};
  std::vector<std::vector<std::vector<uint8_t>>> steps;
  for (const auto& [p, a] : values) steps.push_back({random_bytes(rng, T::kFloat32, 24), as_bytes(p), as_bytes(a)});
  EXPECT_EQ(expect_steps_like_tflite(*peer, b.finish(), {{1, 2, 3, 4}, {4}, {2}}, steps, {true, true}), 5);
}

// One op over a data input x (type t, shape xs) and INT32 operands given as
// graph inputs (their shapes `operand_shapes`), with `outputs` outputs of
// type out_t; each step feeds random x and the operands' values.
struct OneOp {
  BuiltinOp op;
  lite::OpOptions options;
  T t = T::kFloat32;
  std::vector<int32_t> xs;
  std::vector<std::vector<int32_t>> operand_shapes;
  std::vector<std::vector<std::vector<int32_t>>> steps;  // per step, per operand
  std::vector<size_t> refused = {};
  int outputs = 1;
  std::vector<T> out_types = {};  // default: t for every output
  int32_t version = 1;
};

void expect_one_op_like_tflite(const TfLitePeer& peer, const OneOp& c, uint64_t seed) {
  ModelBuilder b;
  const Quantization q = c.t == T::kInt8 ? Quantization::per_tensor(0.25f, -3) : Quantization{};
  const int32_t x = b.add_tensor("x", c.t, c.xs, q);
  std::vector<int32_t> ins = {x}, graph_ins = {x}, outs;
  for (size_t k = 0; k < c.operand_shapes.size(); ++k) {
    ins.push_back(b.add_tensor("operand" + std::to_string(k), T::kInt32, c.operand_shapes[k]));
    graph_ins.push_back(ins.back());
  }
  std::vector<bool> is_float;
  for (int k = 0; k < c.outputs; ++k) {
    const T ot = c.out_types.empty() ? c.t : c.out_types[static_cast<size_t>(k)];
    outs.push_back(b.add_tensor("y" + std::to_string(k), ot, {1}, ot == c.t ? q : Quantization{}));
    is_float.push_back(ot == T::kFloat32);
  }
  b.add_operator(c.op, ins, outs, c.options, c.version);
  b.set_inputs(graph_ins);
  b.set_outputs(outs);
  Rng rng(seed);
  size_t numel = 1;
  for (int32_t d : c.xs) numel *= static_cast<size_t>(d);
  std::vector<std::vector<int32_t>> shapes = {c.xs};
  shapes.insert(shapes.end(), c.operand_shapes.begin(), c.operand_shapes.end());
  std::vector<std::vector<std::vector<uint8_t>>> steps;
  for (const auto& values : c.steps) {
    steps.push_back({random_bytes(rng, c.t, numel)});
    for (const auto& v : values) steps.back().push_back(as_bytes(v));
  }
  EXPECT_EQ(expect_steps_like_tflite(peer, b.finish(), shapes, steps, is_float, c.refused),
            static_cast<int>(c.steps.size() - c.refused.size()));
}

// The other ops whose output shape (or rank) follows an operand's values.
TEST(DynamicShapes, MoreOpsWithRunTimeOperands) {
  QLITE_REQUIRE_TFLITE_PEER(peer);
  lite::StridedSliceOptions ss;
  ss.shrink_axis_mask = 0;
  const std::vector<std::pair<const char*, OneOp>> cases = {
      {"STRIDED_SLICE begin, end, strides",
       {BuiltinOp::kStridedSlice, ss, T::kInt8, {1, 6, 5}, {{3}, {3}, {3}},
        {{{0, 0, 0}, {1, 6, 5}, {1, 1, 1}}, {{0, 1, 4}, {1, 5, 0}, {1, 2, -1}}, {{0, 5, 1}, {1, 0, 3}, {1, -2, 1}},
         {{0, 2, 2}, {1, 3, 3}, {1, 1, 1}}}}},
      {"BROADCAST_TO shape",
       {BuiltinOp::kBroadcastTo, lite::BroadcastToOptions{}, T::kFloat32, {1, 3}, {{3}},
        {{{2, 4, 3}}, {{1, 1, 3}}, {{5, 2, 3}}, {{2, 2, 2}}, {{3, 1, 3}}}, {3}, 1, {}, 2}},
      {"EXPAND_DIMS axis",
       {BuiltinOp::kExpandDims, lite::ExpandDimsOptions{}, T::kInt8, {1, 2, 3}, {{1}},
        {{{0}}, {{3}}, {{-1}}, {{2}}, {{7}}}, {4}}},
      {"SPLIT_V size_splits",
       {BuiltinOp::kSplitV, lite::SplitVOptions{2}, T::kFloat32, {1, 7, 2}, {{2}, {}},
        {{{3, 4}, {1}}, {{7, 0}, {1}}, {{-1, 2}, {1}}, {{1, 1}, {2}}}, {}, 2}},
      {"TOPK_V2 k",
       {BuiltinOp::kTopkV2, lite::TopKV2Options{}, T::kFloat32, {1, 9}, {{}},
        {{{3}}, {{9}}, {{1}}, {{5}}}, {}, 2, {T::kFloat32, T::kInt32}}},
      {"ARG_MAX axis",
       {BuiltinOp::kArgMax, lite::ArgMaxOptions{T::kInt32}, T::kInt8, {1, 4, 5}, {{1}},
        {{{1}}, {{2}}, {{0}}, {{-1}}}, {}, 1, {T::kInt32}}},
      {"MIRROR_PAD paddings",
       {BuiltinOp::kMirrorPad, lite::MirrorPadOptions{lite::MirrorPadMode::kSymmetric}, T::kFloat32, {1, 3, 4}, {{3, 2}},
        {{{0, 0, 1, 2, 3, 0}}, {{0, 0, 0, 0, 0, 0}}, {{0, 1, 3, 3, 4, 4}}, {{0, 0, 2, 1, 1, 1}}}}},
      {"RESIZE_NEAREST_NEIGHBOR size",
       {BuiltinOp::kResizeNearestNeighbor, lite::ResizeNearestNeighborOptions{false, true}, T::kInt8, {1, 3, 4, 2},
        {{2}}, {{{6, 8}}, {{1, 2}}, {{5, 3}}, {{3, 4}}}}},
      {"SPACE_TO_BATCH_ND block_shape, paddings",
       {BuiltinOp::kSpaceToBatchNd, lite::SpaceToBatchNdOptions{}, T::kFloat32, {1, 4, 6, 1}, {{2}, {2, 2}},
        {{{2, 2}, {0, 0, 0, 0}}, {{1, 3}, {1, 1, 0, 0}}, {{4, 2}, {0, 0, 1, 1}}, {{2, 3}, {1, 1, 0, 3}}}}},
  };
  uint64_t seed = 40;
  for (const auto& [what, c] : cases) {
    SCOPED_TRACE(what);
    expect_one_op_like_tflite(*peer, c, seed++);
  }
}

// TRANSPOSE_CONV whose output_shape is a graph input: SAME, stride 3, a
// 3x3 filter over a 4x4 input, so output heights and widths 10 to 12 all
// fit the input (growing, shrinking); float32, int8 (per-channel weights),
// uint8 (weights with a zero point) and 16x8, with a bias.
std::vector<uint8_t> transpose_conv_dynamic_model(T t, Rng& rng) {
  ModelBuilder b;
  const bool f32 = t == T::kFloat32, u8 = t == T::kUInt8, i16 = t == T::kInt16;
  const T wt = f32 ? T::kFloat32 : u8 ? T::kUInt8 : T::kInt8;
  const T bt = f32 ? T::kFloat32 : i16 ? T::kInt64 : T::kInt32;
  const float in_scale = i16 ? 1.0f / 2048 : 0.05f;
  const std::vector<float> ws = {0.01f, 0.02f, 0.015f};
  Quantization qi, qw, qb, qo;
  if (!f32) {
    qi = Quantization::per_tensor(in_scale, i16 ? 0 : u8 ? 130 : 5);
    qo = Quantization::per_tensor(i16 ? 1.0f / 1024 : 0.03f, i16 ? 0 : u8 ? 120 : -7);
    if (u8) {
      qw = Quantization::per_tensor(0.01f, 131);
      qb = Quantization::per_tensor(in_scale * 0.01f, 0);
    } else {
      qw = Quantization::per_axis(ws, {0, 0, 0}, 0);
      qb = Quantization::per_axis({in_scale * ws[0], in_scale * ws[1], in_scale * ws[2]}, {0, 0, 0}, 0);
    }
  }
  const int32_t x = b.add_tensor("x", t, {1, 4, 4, 2}, qi);
  const int32_t os = b.add_tensor("output_shape", T::kInt32, {4});
  const int32_t w = b.add_constant("weights", wt, {3, 3, 3, 2}, random_tensor_bytes(rng, wt, 54, 1.0f), qw);
  std::vector<uint8_t> bias;
  if (bt == T::kFloat32) bias = random_tensor_bytes(rng, bt, 3, 1.0f);
  else if (bt == T::kInt32) bias = as_bytes(std::vector<int32_t>{100, -250, 37});
  else bias = as_bytes(std::vector<int64_t>{1 << 20, -(1 << 18), 12345});
  const int32_t bi = b.add_constant("bias", bt, {3}, bias, qb);
  const int32_t y = b.add_tensor("y", t, {1, 12, 12, 3}, qo);
  b.add_operator(BuiltinOp::kTransposeConv, {os, w, x, bi}, {y}, lite::TransposeConvOptions{lite::Padding::kSame, 3, 3});
  b.set_inputs({x, os});
  b.set_outputs({y});
  return b.finish();
}

TEST(DynamicShapes, TransposeConvWithAnOutputShapeInput) {
  QLITE_REQUIRE_TFLITE_PEER(peer);
  for (T t : {T::kFloat32, T::kInt8, T::kUInt8, T::kInt16}) {
    SCOPED_TRACE(lite::tensor_type_name(t));
    Rng rng(31);
    const std::vector<uint8_t> model = transpose_conv_dynamic_model(t, rng);
    const std::vector<std::vector<int32_t>> values = {
        {1, 10, 12, 3}, {1, 12, 10, 3}, {1, 11, 11, 3}, {1, 12, 12, 3}, {1, 10, 10, 3}, {1, 12, 11, 3}};
    std::vector<std::vector<std::vector<uint8_t>>> steps;
    for (const auto& v : values) steps.push_back({random_bytes(rng, t, 32), as_bytes(v)});
    EXPECT_EQ(expect_steps_like_tflite(*peer, model, {{1, 4, 4, 2}, {4}}, steps, {t == T::kFloat32}), 6);
  }
}

// CUMSUM whose axis is a graph input (a scalar): every axis of a rank-3
// input, negative ones, in turn; an axis outside the rank is refused by both.
TEST(DynamicShapes, CumsumWithAnAxisInput) {
  QLITE_REQUIRE_TFLITE_PEER(peer);
  for (T t : {T::kFloat32, T::kInt32}) {
    for (int options = 0; options < 4; ++options) {
      SCOPED_TRACE(std::string(lite::tensor_type_name(t)) + " options " + std::to_string(options));
      ModelBuilder b;
      const int32_t x = b.add_tensor("x", t, {2, 3, 4});
      const int32_t axis = b.add_tensor("axis", T::kInt32, {});
      const int32_t y = b.add_tensor("y", t, {2, 3, 4});
      b.add_operator(BuiltinOp::kCumsum, {x, axis}, {y}, lite::CumsumOptions{options % 2 == 1, options / 2 == 1});
      b.set_inputs({x, axis});
      b.set_outputs({y});
      Rng rng(33 + static_cast<uint64_t>(options));
      std::vector<std::vector<std::vector<uint8_t>>> steps;
      for (int32_t a : {2, 0, -1, 1, 3, -3, -4, 2}) {
        std::vector<uint8_t> xb = random_bytes(rng, t, 24);
        if (t == T::kInt32) {  // small values: sums that do not overflow
          std::vector<int32_t> v(24);
          for (auto& e : v) e = static_cast<int32_t>(rng.below(2001)) - 1000;
          xb = as_bytes(v);
        }
        steps.push_back({xb, as_bytes(std::vector<int32_t>{a})});
      }
      EXPECT_EQ(expect_steps_like_tflite(*peer, b.finish(), {{2, 3, 4}, {}}, steps, {t == T::kFloat32}, {4, 6}), 6);
    }
  }
}

// PADV2 whose constant_values (and paddings) are graph inputs: the padding
// value changes from invoke to invoke, the output grows and shrinks.
TEST(DynamicShapes, PadV2WithAConstantValuesInput) {
  QLITE_REQUIRE_TFLITE_PEER(peer);
  for (T t : {T::kFloat32, T::kInt8, T::kInt32}) {
    SCOPED_TRACE(lite::tensor_type_name(t));
    ModelBuilder b;
    const Quantization q = t == T::kInt8 ? Quantization::per_tensor(0.3f, 7) : Quantization{};
    const int32_t x = b.add_tensor("x", t, {1, 3, 4}, q);
    const int32_t p = b.add_tensor("paddings", T::kInt32, {3, 2});
    const int32_t v = b.add_tensor("constant_values", t, {1}, q);
    const int32_t y = b.add_tensor("y", t, {1, 3, 4}, q);
    b.add_operator(BuiltinOp::kPadV2, {x, p, v}, {y}, lite::PadV2Options{});
    b.set_inputs({x, p, v});
    b.set_outputs({y});
    Rng rng(35);
    const std::vector<std::vector<int32_t>> paddings = {
        {0, 0, 1, 1, 2, 2}, {0, 0, 1, 1, 2, 2}, {0, 0, 4, 3, 0, 5}, {0, 0, 0, 0, 0, 0}, {1, 2, 0, 1, 1, 0}};
    std::vector<std::vector<std::vector<uint8_t>>> steps;
    for (const auto& pv : paddings) steps.push_back({random_bytes(rng, t, 12), as_bytes(pv), random_bytes(rng, t, 1)});
    EXPECT_EQ(expect_steps_like_tflite(*peer, b.finish(), {{1, 3, 4}, {3, 2}, {1}}, steps, {t == T::kFloat32}), 5);
  }
}

// MEAN and quantized REDUCE_PROD whose axes are a graph input (two axes):
// int8, uint8, int16 and float32 MEAN (with and without keep_dims, so the
// 4-D spatial mean and TFLite's general paths both come up), int8 / int16
// REDUCE_PROD; the output's rank and dimensions follow the values. A
// repeated axis and an axis outside the rank are refused by both.
TEST(DynamicShapes, MeanAndQuantizedReduceProdWithAnAxesInput) {
  QLITE_REQUIRE_TFLITE_PEER(peer);
  struct Case {
    BuiltinOp op;
    T t;
    bool keep;
  };
  const std::vector<Case> cases = {
      {BuiltinOp::kMean, T::kInt8, true},     {BuiltinOp::kMean, T::kInt8, false},
      {BuiltinOp::kMean, T::kUInt8, true},    {BuiltinOp::kMean, T::kInt16, true},
      {BuiltinOp::kMean, T::kInt16, false},   {BuiltinOp::kMean, T::kFloat32, true},
      {BuiltinOp::kReduceProd, T::kInt8, false}, {BuiltinOp::kReduceProd, T::kInt16, true}};
  uint64_t seed = 50;
  for (const Case& c : cases) {
    SCOPED_TRACE(std::string(c.op == BuiltinOp::kMean ? "MEAN " : "REDUCE_PROD ") + lite::tensor_type_name(c.t) +
                 (c.keep ? " keep_dims" : ""));
    const bool i16 = c.t == T::kInt16, prod = c.op == BuiltinOp::kReduceProd;
    Quantization qi, qo;
    if (c.t != T::kFloat32) {
      qi = Quantization::per_tensor(i16 ? 1.0f / 2048 : prod ? 0.02f : 0.05f, i16 ? 0 : c.t == T::kUInt8 ? 128 : -3);
      qo = Quantization::per_tensor(i16 ? 1.0f / 1024 : prod ? 0.01f : 0.04f, i16 ? 0 : c.t == T::kUInt8 ? 120 : 5);
    }
    ModelBuilder b;
    const int32_t x = b.add_tensor("x", c.t, {2, 3, 4, 3}, qi);
    const int32_t axes = b.add_tensor("axes", T::kInt32, {2});
    const int32_t y = b.add_tensor("y", c.t, {2, 1, 1, 3}, qo);
    b.add_operator(c.op, {x, axes}, {y}, lite::ReducerOptions{c.keep});
    b.set_inputs({x, axes});
    b.set_outputs({y});
    Rng rng(seed++);
    const std::vector<std::vector<int32_t>> values = {{1, 2}, {0, 3}, {2, 1}, {3, 3}, {-1, 0}, {1, 4}, {-3, -2}, {0, 1}};
    std::vector<std::vector<std::vector<uint8_t>>> steps;
    for (const auto& v : values) steps.push_back({random_bytes(rng, c.t, 72), as_bytes(v)});
    // {3, 3}: TFLite 2.9 takes a repeated axis once; {1, 4}: outside the rank (both refuse).
    EXPECT_EQ(expect_steps_like_tflite(*peer, b.finish(), {{2, 3, 4, 3}, {2}}, steps, {c.t == T::kFloat32}, {5}), 7);
  }
}

// A dynamic tensor feeding further ops: TILE(x, multiples) -> ADD ->
// FULLY_CONNECTED (packed weights kept across re-preparations), and ADD ->
// TRANSPOSE -> SHAPE, all prepared at invoke from the shapes of the moment.
TEST(DynamicShapes, ChainDownstreamOfADynamicTensor) {
  QLITE_REQUIRE_TFLITE_PEER(peer);
  ModelBuilder b;
  Rng rng(27);
  const int32_t x = b.add_tensor("x", T::kFloat32, {1, 4});
  const int32_t mult = b.add_tensor("multiples", T::kInt32, {2});
  const int32_t t = b.add_tensor("t", T::kFloat32, {1, 4});
  b.add_operator(BuiltinOp::kTile, {x, mult}, {t}, lite::TileOptions{});
  const int32_t a = b.add_tensor("a", T::kFloat32, {1, 4});
  b.add_operator(BuiltinOp::kAdd, {t, t}, {a}, lite::AddOptions{});
  std::vector<float> wv(5 * 4);
  for (float& f : wv) f = rng.uniform(-1.0f, 1.0f);
  const int32_t weights = b.add_constant("weights", T::kFloat32, {5, 4}, wv);
  const int32_t fc = b.add_tensor("fc", T::kFloat32, {1, 5});
  b.add_operator(BuiltinOp::kFullyConnected, {a, weights, -1}, {fc}, lite::FullyConnectedOptions{});
  const int32_t perm = b.add_constant("perm", T::kInt32, {2}, std::vector<int32_t>{1, 0});
  const int32_t at = b.add_tensor("a_t", T::kFloat32, {4, 1});
  b.add_operator(BuiltinOp::kTranspose, {a, perm}, {at}, lite::TransposeOptions{});
  const int32_t shape = b.add_tensor("a_t_shape", T::kInt32, {2});
  b.add_operator(BuiltinOp::kShape, {at}, {shape}, lite::ShapeOptions{T::kInt32});
  b.set_inputs({x, mult});
  b.set_outputs({fc, at, shape});
  const std::vector<std::vector<int32_t>> values = {{6, 1}, {2, 1}, {3, 1}, {9, 1}, {1, 1}, {6, 1}};
  std::vector<std::vector<std::vector<uint8_t>>> steps;
  for (const auto& v : values) steps.push_back({random_bytes(rng, T::kFloat32, 4), as_bytes(v)});
  EXPECT_EQ(expect_steps_like_tflite(*peer, b.finish(), {{1, 4}, {2}}, steps, {true, true, false}), 6);
}

// Once the values are stable, invoke allocates nothing; buffers grow only
// when a shape needs more (dynamic_bytes() is the high-water mark).
TEST(DynamicShapes, StableShapesAllocateNothingAndBuffersOnlyGrow) {
  ModelBuilder b;
  const int32_t dims = b.add_tensor("dims", T::kInt32, {2});
  const int32_t v = b.add_constant("value", T::kFloat32, {}, std::vector<float>{1.0f});
  const int32_t f = b.add_tensor("f", T::kFloat32, {1, 1});
  b.add_operator(BuiltinOp::kFill, {dims, v}, {f}, lite::FillOptions{});
  const int32_t y = b.add_tensor("y", T::kFloat32, {1, 1});
  b.add_operator(BuiltinOp::kAdd, {f, f}, {y}, lite::AddOptions{});
  b.set_inputs({dims});
  b.set_outputs({y});
  auto it = runtime::Interpreter::from_buffer(b.finish());
  auto set_dims = [&](int32_t a, int32_t c) {
    const std::vector<int32_t> d = {a, c};
    std::memcpy(it->input_bytes(0).data(), d.data(), 8);
  };
  set_dims(30, 40);
  it->invoke();
  EXPECT_EQ(it->output_info(0).shape, (Shape{30, 40}));
  const size_t high = it->dynamic_bytes();
  EXPECT_GE(high, size_t{2} * 30 * 40 * 4);  // FILL's and ADD's outputs
  EXPECT_EQ(alloc_testing::allocations_during([&] {
              for (int i = 0; i < 5; ++i) it->invoke();
            }),
            0);
  set_dims(5, 6);  // smaller: prepared again, in the same buffers
  it->invoke();
  EXPECT_EQ(it->output_info(0).shape, (Shape{5, 6}));
  EXPECT_EQ(it->output_bytes(0).size(), size_t{5} * 6 * 4);
  EXPECT_EQ(it->dynamic_bytes(), high);
  EXPECT_EQ(alloc_testing::allocations_during([&] {
              for (int i = 0; i < 5; ++i) it->invoke();
            }),
            0);
  set_dims(30, 40);
  it->invoke();
  EXPECT_EQ(it->dynamic_bytes(), high);
  set_dims(60, 40);  // larger: the buffers grow
  it->invoke();
  EXPECT_GT(it->dynamic_bytes(), high);
  const auto out = it->output_bytes(0);
  ASSERT_EQ(out.size(), size_t{60} * 40 * 4);
  float last = 0;
  std::memcpy(&last, out.data() + out.size() - 4, 4);
  EXPECT_EQ(last, 2.0f);
}

// Hostile values at invoke: an error from invoke (one line, naming the op),
// never an allocation past InterpreterOptions::max_arena_bytes; the
// interpreter runs good values afterwards.
TEST(DynamicShapes, HostileValuesFailTheInvokeInOneLine) {
  for (T dt : {T::kInt32, T::kInt64}) {
    ModelBuilder b;
    const int32_t dims = b.add_tensor("dims", dt, {3});
    const int32_t v = b.add_constant("value", T::kInt8, {}, std::vector<int8_t>{3}, Quantization::per_tensor(0.5f, 0));
    const int32_t y = b.add_tensor("y", T::kInt8, {1, 1, 1}, Quantization::per_tensor(0.5f, 0));
    b.add_operator(BuiltinOp::kFill, {dims, v}, {y}, lite::FillOptions{});
    b.set_inputs({dims});
    b.set_outputs({y});
    runtime::InterpreterOptions o;
    o.max_arena_bytes = size_t{64} << 20;
    auto it = runtime::Interpreter::from_buffer(b.finish(), o);
    auto run = [&](std::vector<int64_t> d) -> std::string {
      if (dt == T::kInt32) {
        std::vector<int32_t> d32(d.begin(), d.end());
        std::memcpy(it->input_bytes(0).data(), d32.data(), 12);
      } else {
        std::memcpy(it->input_bytes(0).data(), d.data(), 24);
      }
      try {
        it->invoke();
        return "";
      } catch (const Error& e) {
        return e.what();
      }
    };
    const int64_t big = dt == T::kInt32 ? int64_t{2147483647} : int64_t{1} << 40;
    const std::vector<std::vector<int64_t>> hostile = {
        {-1, 2, 3}, {2, -2147483647 - 1, 1}, {big, big, big}, {1 << 20, 1 << 10, 1 << 7}, {0, big, big}};
    for (const auto& d : hostile) {
      SCOPED_TRACE(shape_str(Shape(d.begin(), d.end())));
      const std::string m = run(d);
      if (d[0] == 0 && dt == T::kInt32) {
        EXPECT_EQ(m, "");  // a zero dimension: nothing to hold
        EXPECT_EQ(it->output_bytes(0).size(), 0u);
      } else {
        EXPECT_NE(m.find("operator 0 (FILL)"), std::string::npos) << m;
      }
      EXPECT_EQ(m.find('\n'), std::string::npos) << m;
      EXPECT_LE(it->dynamic_bytes(), o.max_arena_bytes);
      EXPECT_EQ(run({2, 3, 4}), "");
      EXPECT_EQ(it->output_info(0).shape, (Shape{2, 3, 4}));
      EXPECT_EQ(it->output_bytes(0).size(), 24u);
    }
  }
}

}  // namespace
}  // namespace qlite::test
