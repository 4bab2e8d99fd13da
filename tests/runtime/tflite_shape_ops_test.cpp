// PAD, PADV2 and TRANSPOSE against the real TensorFlow Lite 2.9: the same
// one-op .tflite file and input bytes must give the same output shape and
// bytes in qlite's interpreter, for every type both run, ranks 1 to 5, size-1
// and unpadded dimensions, padded batches, quantized tensors with extreme
// zero points and scales, and batches large enough that qlite runs them in
// tiles of images. Files TFLite refuses at prepare (negative paddings, perm
// entries out of range) are refused by qlite too. A failure under CI=true
// when the peer is missing (scripts/install_peers.sh).
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <numeric>
#include <optional>
#include <string>
#include <vector>

#include "kernels/reference/activation_kernels.h"
#include "single_op_peer.h"

namespace qlite::test {
namespace {

using T = TensorType;

size_t elem_size(T t) { return lite::tensor_type_size(t); }

int64_t numel(const std::vector<int32_t>& s) {
  int64_t n = 1;
  for (int32_t d : s) n *= d;
  return n;
}

std::string dims(const std::vector<int32_t>& s) {
  std::string r = "(";
  for (size_t i = 0; i < s.size(); ++i) r += (i ? ", " : "") + std::to_string(s[i]);
  return r + ")";
}

// Random contents of n elements of type t: finite floats (so that no NaN
// payload question arises), any bit pattern for integers, 0/1 for bool.
std::vector<uint8_t> random_values(Rng& rng, T t, int64_t n) {
  std::vector<uint8_t> b(static_cast<size_t>(n) * elem_size(t));
  if (t == T::kFloat32) {
    std::vector<float> f(static_cast<size_t>(n));
    for (float& x : f) x = rng.uniform(-1000.0f, 1000.0f);
    if (!f.empty()) std::memcpy(b.data(), f.data(), b.size());
  } else if (t == T::kBool) {
    for (uint8_t& x : b) x = static_cast<uint8_t>(rng.below(2));
  } else {
    for (uint8_t& x : b) x = static_cast<uint8_t>(rng.below(256));
  }
  return b;
}

Quantization quant_for(Rng& rng, T t) {
  if (t != T::kInt8 && t != T::kUInt8) return {};
  const int32_t lo = t == T::kInt8 ? -128 : 0;
  const int32_t ends[] = {lo, lo + 255, lo + 128};
  const int32_t zp = rng.below(2) == 0 ? ends[rng.below(3)] : lo + static_cast<int32_t>(rng.below(256));
  const float scales[] = {1e-6f, 0.0039f, 0.05f, 1.0f, 1000.0f};
  return Quantization::per_tensor(scales[rng.below(5)], zp);
}

struct PadCase {
  T type = T::kFloat32;
  std::vector<int32_t> shape;
  std::vector<int32_t> paddings;  // [rank, 2]
  Quantization q;
  bool v2 = false;                     // PADV2
  std::optional<std::vector<uint8_t>> value;  // PADV2's constant_values (one element)
  bool int64_paddings = false;

  std::vector<int32_t> out_shape() const {
    std::vector<int32_t> o = shape;
    for (size_t d = 0; d < o.size(); ++d) o[d] += paddings[2 * d] + paddings[2 * d + 1];
    return o;
  }
  std::string str() const {
    return std::string(v2 ? "PADV2 " : "PAD ") + lite::tensor_type_name(type) + " " + dims(shape) + " paddings " +
           dims(paddings) + (q.empty() ? "" : " scale " + std::to_string(q.scale[0]) + " zp " + std::to_string(q.zero_point[0])) +
           (value ? " with constant_values" : "");
  }
};

PadCase pad_case(T type, std::vector<int32_t> shape, std::vector<int32_t> paddings, Quantization q = {}) {
  PadCase k;
  k.type = type;
  k.shape = std::move(shape);
  k.paddings = std::move(paddings);
  k.q = std::move(q);
  return k;
}

std::vector<uint8_t> pad_model(const PadCase& k) {
  ModelBuilder b;
  const int32_t x = b.add_tensor("x", k.type, k.shape, k.q);
  const auto rank = static_cast<int32_t>(k.shape.size());
  const int32_t p = k.int64_paddings
                        ? b.add_constant("paddings", T::kInt64, {rank, 2},
                                         std::vector<int64_t>(k.paddings.begin(), k.paddings.end()))
                        : b.add_constant("paddings", T::kInt32, {rank, 2}, k.paddings);
  std::vector<int32_t> inputs{x, p};
  if (k.value) inputs.push_back(b.add_constant("constant_values", k.type, {1}, *k.value, k.q));
  const int32_t y = b.add_tensor("y", k.type, k.out_shape(), k.q);
  if (k.v2) b.add_operator(BuiltinOp::kPadV2, inputs, {y}, lite::PadV2Options{});
  else b.add_operator(BuiltinOp::kPad, inputs, {y}, lite::PadOptions{});
  b.set_inputs({x});
  b.set_outputs({y});
  return b.finish();
}

// Runs a case in both and expects the same shape and bytes; returns the output size.
size_t expect_same(const TfLitePeer& peer, const std::vector<uint8_t>& model, const std::vector<int32_t>& in_shape,
                   const std::vector<uint8_t>& input, const std::string& what) {
  SCOPED_TRACE(what);
  const Outcome theirs = run_in_tflite(peer, model, in_shape, input);
  const Outcome ours = run_in_qlite(model, input);
  EXPECT_EQ(theirs.error, "");
  EXPECT_EQ(ours.error, "");
  EXPECT_EQ(ours.shape, theirs.shape);
  EXPECT_TRUE(ours.bytes == theirs.bytes) << "outputs differ (" << ours.bytes.size() << " and " << theirs.bytes.size()
                                          << " bytes)";
  return theirs.bytes.size();
}

// Both refuse the file (qlite at load, TFLite at prepare); qlite's message has `part`.
void expect_both_refuse(const TfLitePeer& peer, const std::vector<uint8_t>& model, const std::vector<int32_t>& in_shape,
                        const std::vector<uint8_t>& input, const std::string& part) {
  const Outcome theirs = run_in_tflite(peer, model, in_shape, input);
  const Outcome ours = run_in_qlite(model, input);
  EXPECT_NE(theirs.error, "") << "TFLite ran it";
  EXPECT_NE(ours.error.find(part), std::string::npos) << ours.error;
}

std::vector<uint8_t> transpose_model(T type, const std::vector<int32_t>& shape, const std::vector<int32_t>& perm,
                                     const Quantization& q);

const T kPadTypes[] = {T::kFloat32, T::kInt8, T::kUInt8, T::kInt16, T::kInt32, T::kInt64};

TEST(TfLitePad, RandomShapesTypesAndPaddingsMatchExactly) {
  QLITE_REQUIRE_TFLITE_PEER(peer);
  Rng rng(3101);
  int cases = 0;
  size_t bytes = 0;
  for (int rep = 0; rep < 240; ++rep) {
    PadCase k;
    k.type = kPadTypes[rep % std::size(kPadTypes)];
    const int rank = 1 + (rep / 6) % 5;
    for (int d = 0; d < rank; ++d) {
      k.shape.push_back(1 + static_cast<int32_t>(rng.below(rep % 4 == 0 ? 1 : 5)));  // all size-1 dims at times
      for (int j = 0; j < 2; ++j)
        k.paddings.push_back(rep % 9 == 0 || rng.below(3) == 0 ? 0 : static_cast<int32_t>(rng.below(4)));
    }
    k.q = quant_for(rng, k.type);
    k.v2 = rep % 3 == 1;
    if (rep % 3 == 2 || (k.v2 && rep % 2 == 0)) {
      k.v2 = true;
      k.value = random_values(rng, k.type, 1);
    }
    bytes += expect_same(*peer, pad_model(k), k.shape, random_values(rng, k.type, numel(k.shape)), k.str());
    ++cases;
  }
  EXPECT_EQ(cases, 240);
  EXPECT_GT(bytes, 10000u);
}

TEST(TfLitePad, ImageStyleBatchPaddingAndTiledBatches) {
  QLITE_REQUIRE_TFLITE_PEER(peer);
  Rng rng(3102);
  std::vector<PadCase> cases;
  // NHWC with the batch and channels unpadded (TFLite's PadImageStyle path),
  // as ZeroPadding2D and PyTorch-exported convolutions write it.
  cases.push_back(pad_case(T::kInt8, {1, 7, 7, 3}, {0, 0, 1, 1, 1, 1, 0, 0}, Quantization::per_tensor(0.02f, -128)));
  cases.push_back(pad_case(T::kInt8, {2, 5, 4, 16}, {0, 0, 0, 1, 0, 1, 0, 0}, Quantization::per_tensor(0.5f, 127)));
  cases.push_back(pad_case(T::kUInt8, {1, 3, 3, 1}, {0, 0, 2, 0, 0, 3, 0, 0}, Quantization::per_tensor(0.1f, 255)));
  cases.push_back(pad_case(T::kFloat32, {2, 6, 6, 8}, {0, 0, 3, 3, 3, 3, 0, 0}));
  // The batch itself padded: no tiling of images.
  cases.push_back(pad_case(T::kInt8, {2, 3, 3, 2}, {1, 2, 0, 0, 1, 0, 0, 1}, Quantization::per_tensor(0.1f, 5)));
  cases.push_back(pad_case(T::kFloat32, {3, 2}, {2, 0, 0, 0}));
  // No padding at all, and paddings written as int64.
  cases.push_back(pad_case(T::kInt8, {2, 3, 4}, {0, 0, 0, 0, 0, 0}, Quantization::per_tensor(0.1f, 5)));
  PadCase wide = pad_case(T::kInt8, {1, 4, 4, 3}, {0, 0, 1, 1, 1, 1, 0, 0}, Quantization::per_tensor(0.1f, -7));
  wide.int64_paddings = true;  // TFLite 2.9 reads paddings as int32: skipped below
  // Batches of images large enough (over 256 KiB each) that qlite runs them
  // as one tile per image; the unpadded batch dimension follows the tile.
  cases.push_back(pad_case(T::kInt8, {3, 160, 160, 12}, {0, 0, 1, 1, 1, 1, 0, 0}, Quantization::per_tensor(0.1f, 3)));
  cases.push_back(pad_case(T::kFloat32, {2, 100, 100, 8}, {0, 0, 0, 2, 2, 0, 1, 1}));
  // About 180 KiB per image: tiles of two images, the last tile of one (the
  // op runs at a batch below the one it was prepared for).
  cases.push_back(pad_case(T::kInt8, {5, 60, 60, 24}, {0, 0, 1, 1, 1, 1, 0, 0}, Quantization::per_tensor(0.1f, -9)));
  for (const PadCase& k : cases)
    expect_same(*peer, pad_model(k), k.shape, random_values(rng, k.type, numel(k.shape)), k.str());
  // int64 paddings: qlite reads them as int64 (TFLite 2.9 does not; newer
  // converters can write them). The result equals the int32 file's.
  PadCase narrow = wide;
  narrow.int64_paddings = false;
  const std::vector<uint8_t> in = random_values(rng, wide.type, numel(wide.shape));
  const Outcome a = run_in_qlite(pad_model(wide), in), b = run_in_qlite(pad_model(narrow), in);
  EXPECT_EQ(a.error, "");
  EXPECT_EQ(a.bytes, b.bytes);
  EXPECT_EQ(a.shape, b.shape);
}

// PADV2 int8 [1, 4] -> [1, 6] with constant_values 7 quantized (scale, zp)
// and the input and output at (0.1, 3).
std::vector<uint8_t> padv2_model(float value_scale, int32_t value_zp) {
  ModelBuilder b;
  const int32_t x = b.add_tensor("x", T::kInt8, {1, 4}, Quantization::per_tensor(0.1f, 3));
  const int32_t p = b.add_constant("p", T::kInt32, {2, 2}, std::vector<int32_t>{0, 0, 1, 1});
  const int32_t c =
      b.add_constant("c", T::kInt8, {1}, std::vector<int8_t>{7}, Quantization::per_tensor(value_scale, value_zp));
  const int32_t y = b.add_tensor("y", T::kInt8, {1, 6}, Quantization::per_tensor(0.1f, 3));
  b.add_operator(BuiltinOp::kPadV2, {x, p, c}, {y}, lite::PadV2Options{});
  b.set_inputs({x});
  b.set_outputs({y});
  return b.finish();
}

TEST(TfLitePad, RefusedAsTfLiteRefuses) {
  QLITE_REQUIRE_TFLITE_PEER(peer);
  PadCase neg = pad_case(T::kInt8, {1, 6}, {0, 0, -1, 0}, Quantization::per_tensor(0.1f, 0));
  expect_both_refuse(*peer, pad_model(neg), neg.shape, std::vector<uint8_t>(6), "negative padding");
  // Paddings of shape [rank, 3] (TFLite: SizeOfDimension(paddings, 1) == 2).
  ModelBuilder b;
  const int32_t x = b.add_tensor("x", T::kFloat32, {2, 3});
  const int32_t p = b.add_constant("p", T::kInt32, {2, 3}, std::vector<int32_t>{0, 0, 0, 1, 1, 1});
  const int32_t y = b.add_tensor("y", T::kFloat32, {2, 5});
  b.add_operator(BuiltinOp::kPad, {x, p}, {y}, lite::PadOptions{});
  b.set_inputs({x});
  b.set_outputs({y});
  expect_both_refuse(*peer, b.finish(), {2, 3}, std::vector<uint8_t>(24), "must have shape (2, 2)");
}

// Where TFLite 2.9 runs a file whose copy would change what the values mean,
// qlite refuses it (as it refuses such a RESHAPE): a PAD whose output has
// another quantization than its input (TFLite copies the raw values and pads
// with the output's zero point), PADV2 constant_values with another scale or
// zero point than the output (TFLite writes the raw value), int64 paddings (TFLite 2.9
// reads them as int32: a wrong shape; qlite reads int64 correctly, see
// ImageStyleBatchPaddingAndTiledBatches) and a repeated perm entry.
TEST(TfLitePad, QuantizationChangingCopiesAreRefused) {
  QLITE_REQUIRE_TFLITE_PEER(peer);
  PadCase relabel = pad_case(T::kInt8, {1, 6}, {0, 1, 1, 2}, Quantization::per_tensor(0.1f, 7));
  std::vector<uint8_t> model = pad_model(relabel);
  lite::ModelDef def = lite::read_model(model);
  def.subgraphs[0].tensors[2].quantization = Quantization::per_tensor(0.2f, 9);  // y
  model = lite::write_model(def);
  const std::vector<uint8_t> six = {1, 2, 3, 4, 5, 6};
  const Outcome theirs = run_in_tflite(*peer, model, {1, 6}, six);
  EXPECT_EQ(theirs.error, "");
  EXPECT_EQ(theirs.bytes, (std::vector<uint8_t>{9, 1, 2, 3, 4, 5, 6, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9}));
  EXPECT_NE(run_in_qlite(model, six).error.find("must share scale and zero point"), std::string::npos);

  for (const std::vector<uint8_t>& v2 : {padv2_model(0.2f, 3), padv2_model(0.1f, 5)}) {
    EXPECT_EQ(run_in_tflite(*peer, v2, {1, 4}, std::vector<uint8_t>(4)).error, "");
    EXPECT_NE(run_in_qlite(v2, std::vector<uint8_t>(4)).error.find("must share scale and zero point"),
              std::string::npos);
  }

  const std::vector<uint8_t> dup = transpose_model(T::kInt8, {2, 3}, {0, 0}, {});
  EXPECT_EQ(run_in_tflite(*peer, dup, {2, 3}, six).error, "");
  EXPECT_NE(run_in_qlite(dup, six).error.find("is not a permutation"), std::string::npos);
}

std::vector<uint8_t> transpose_model(T type, const std::vector<int32_t>& shape, const std::vector<int32_t>& perm,
                                     const Quantization& q) {
  std::vector<int32_t> out(shape.size());
  for (size_t d = 0; d < shape.size(); ++d)  // (an invalid entry, for the refusal tests, gives 1)
    out[d] = perm[d] >= 0 && static_cast<size_t>(perm[d]) < shape.size() ? shape[static_cast<size_t>(perm[d])] : 1;
  ModelBuilder b;
  const int32_t x = b.add_tensor("x", type, shape, q);
  const int32_t p = b.add_constant("perm", T::kInt32, {static_cast<int32_t>(perm.size())}, perm);
  const int32_t y = b.add_tensor("y", type, out, q);
  b.add_operator(BuiltinOp::kTranspose, {x, p}, {y}, lite::TransposeOptions{});
  b.set_inputs({x});
  b.set_outputs({y});
  return b.finish();
}

const T kTransposeTypes[] = {T::kFloat32, T::kInt8, T::kUInt8, T::kInt16, T::kInt32, T::kInt64, T::kBool};

// Every permutation of ranks 1 to 4 and 60 random ones of rank 5, each in
// every type TFLite 2.9 transposes, with size-1 dimensions among the rest.
TEST(TfLiteTranspose, EveryPermutationAndTypeMatchesExactly) {
  QLITE_REQUIRE_TFLITE_PEER(peer);
  Rng rng(3103);
  int cases = 0;
  auto run = [&](std::vector<int32_t> perm) {
    for (T type : kTransposeTypes) {
      std::vector<int32_t> shape;
      for (size_t d = 0; d < perm.size(); ++d)
        shape.push_back(1 + static_cast<int32_t>(rng.below(perm.size() >= 4 ? 4 : 6)));
      const std::string what = std::string("TRANSPOSE ") + lite::tensor_type_name(type) + " " + dims(shape) +
                               " perm " + dims(perm);
      expect_same(*peer, transpose_model(type, shape, perm, quant_for(rng, type)), shape,
                  random_values(rng, type, numel(shape)), what);
      ++cases;
    }
  };
  for (int rank = 1; rank <= 4; ++rank) {
    std::vector<int32_t> perm(static_cast<size_t>(rank));
    std::iota(perm.begin(), perm.end(), 0);
    do run(perm);
    while (std::next_permutation(perm.begin(), perm.end()));
  }
  for (int i = 0; i < 60; ++i) {
    std::vector<int32_t> perm(5);
    std::iota(perm.begin(), perm.end(), 0);
    rng.shuffle(perm);
    run(perm);
  }
  EXPECT_EQ(cases, static_cast<int>(std::size(kTransposeTypes)) * (1 + 2 + 6 + 24 + 60));
}

TEST(TfLiteTranspose, NchwToNhwcAndTiledBatches) {
  QLITE_REQUIRE_TFLITE_PEER(peer);
  Rng rng(3104);
  struct Case {
    T type;
    std::vector<int32_t> shape, perm;
  };
  const Case cases[] = {
      {T::kInt8, {1, 3, 224, 224}, {0, 2, 3, 1}},     // the PyTorch-exported MobileNetV2's input
      {T::kFloat32, {2, 3, 17, 5}, {0, 2, 3, 1}},
      {T::kInt8, {3, 8, 180, 200}, {0, 2, 3, 1}},     // tiles of one image each
      {T::kFloat32, {2, 120, 130, 8}, {0, 3, 1, 2}},  // and back
      {T::kInt8, {5, 24, 61, 61}, {0, 2, 3, 1}},      // tiles of 2, 2 and 1 images
      {T::kInt8, {4, 1, 1, 1}, {3, 2, 1, 0}},         // batch moved inward: never tiled
  };
  for (const Case& k : cases)
    expect_same(*peer, transpose_model(k.type, k.shape, k.perm, quant_for(rng, k.type)), k.shape,
                random_values(rng, k.type, numel(k.shape)), dims(k.shape) + " perm " + dims(k.perm));
}

TEST(TfLiteTranspose, RefusedAsTfLiteRefuses) {
  QLITE_REQUIRE_TFLITE_PEER(peer);
  // An entry out of range; a rank-6 input (TFLite 2.9 transposes ranks 1-5).
  expect_both_refuse(*peer, transpose_model(T::kInt8, {2, 3}, {0, 2}, {}), {2, 3}, std::vector<uint8_t>(6),
                     "is not a permutation");
  const std::vector<int32_t> six = {1, 1, 1, 1, 2, 3};
  expect_both_refuse(*peer, transpose_model(T::kInt8, six, {0, 1, 2, 3, 5, 4}, {}), six, std::vector<uint8_t>(6),
                     "ranks 1 to 5");
}

// A constant input's dimension 0 is no batch: PAD / TRANSPOSE / LOGISTIC of a
// constant feeding an ADD with the graph input must not be cut into tiles of
// images even when the shapes would allow it (400 KB per row here).
TEST(TfLiteTranspose, ConstantInputsAreNeverTiled) {
  QLITE_REQUIRE_TFLITE_PEER(peer);
  Rng rng(3106);
  const int32_t w = 100000;
  std::vector<float> c(static_cast<size_t>(3 * w)), x(c.size());
  for (float& v : c) v = rng.uniform(-4.0f, 4.0f);
  for (float& v : x) v = rng.uniform(-4.0f, 4.0f);
  for (BuiltinOp op : {BuiltinOp::kTranspose, BuiltinOp::kPad, BuiltinOp::kLogistic}) {
    SCOPED_TRACE(lite::builtin_op_name(op));
    ModelBuilder b;
    const int32_t in = b.add_tensor("x", T::kFloat32, {3, w});
    const int32_t k = b.add_constant("c", T::kFloat32, {3, w}, c);
    const int32_t t = b.add_tensor("t", T::kFloat32, {3, w});
    const int32_t y = b.add_tensor("y", T::kFloat32, {3, w});
    if (op == BuiltinOp::kTranspose)
      b.add_operator(op, {k, b.add_constant("perm", T::kInt32, {2}, std::vector<int32_t>{0, 1})}, {t},
                     lite::TransposeOptions{});
    else if (op == BuiltinOp::kPad)
      b.add_operator(op, {k, b.add_constant("p", T::kInt32, {2, 2}, std::vector<int32_t>{0, 0, 0, 0})}, {t},
                     lite::PadOptions{});
    else
      b.add_operator(op, {k}, {t});
    b.add_operator(BuiltinOp::kAdd, {in, t}, {y}, lite::AddOptions{});
    b.set_inputs({in});
    b.set_outputs({y});
    const std::vector<uint8_t> model = b.finish();
    const Outcome ours = run_in_qlite(model, as_bytes(x));
    ASSERT_EQ(ours.error, "");
    if (op == BuiltinOp::kLogistic) {  // TFLite's float logistic is an approximation: check the sum
      std::vector<float> got(x.size()), lg(x.size());
      std::memcpy(got.data(), ours.bytes.data(), ours.bytes.size());
      ref::logistic_f32(static_cast<int64_t>(c.size()), c.data(), lg.data());
      for (size_t i = 0; i < x.size(); ++i) ASSERT_EQ(got[i], x[i] + lg[i]) << i;
    } else {
      expect_same(*peer, model, {3, w}, as_bytes(x), "constant input");
    }
  }
}

// The MobileNetV2 exported from PyTorch (../shared/models; NCHW int8 input
// through TRANSPOSE, 18 PADs before its strided convolutions): it loads and
// its output is identical to TFLite 2.9's on random images. Skipped when the
// file is absent (QLITE_MODELS_DIR overrides the folder).
TEST(TfLiteRealModels, PyTorchMobileNetV2MatchesExactly) {
  QLITE_REQUIRE_TFLITE_PEER(peer);
  const char* env = std::getenv("QLITE_MODELS_DIR");
  const std::string path =
      std::string(env != nullptr ? env : QLITE_SHARED_MODELS_DIR) + "/mobilenet_v2_quantized_1x3x224x224.tflite";
  if (!std::filesystem::is_regular_file(path)) GTEST_SKIP() << path << " is absent";
  std::ifstream f(path, std::ios::binary);
  const std::vector<uint8_t> model((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  auto it = runtime::Interpreter::from_buffer(model);
  const runtime::TensorInfo info = it->input_info(0);
  const std::vector<int32_t> shape(info.shape.begin(), info.shape.end());
  Rng rng(3105);
  for (int image = 0; image < 3; ++image) {
    SCOPED_TRACE(image);
    const std::vector<uint8_t> in = random_values(rng, info.type, numel(shape));
    const Outcome theirs = run_in_tflite(*peer, model, shape, in);
    const Outcome ours = run_in_qlite(model, in);
    ASSERT_EQ(theirs.error, "");
    ASSERT_EQ(ours.error, "");
    EXPECT_EQ(ours.shape, theirs.shape);
    EXPECT_TRUE(ours.bytes == theirs.bytes) << "outputs differ";
  }
}

}  // namespace
}  // namespace qlite::test
