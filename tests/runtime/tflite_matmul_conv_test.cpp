// BATCH_MATMUL and TRANSPOSE_CONV against the real TensorFlow Lite 2.9:
// seeded random one-op files (ranks, broadcast batch dimensions, adj_x /
// adj_y, constant or computed rhs; strides 1..3, SAME / VALID, awkward
// sizes, batch > 1, with and without bias), run in both, output bytes
// identical for integer types and float within 1e-5 relative. Plus the
// invalid files both refuse.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "qlite/runtime.h"
#include "single_op_peer.h"

namespace qlite::test {
namespace {

using T = TensorType;

int pick(Rng& rng, int lo, int hi) { return lo + static_cast<int>(rng.below(static_cast<uint64_t>(hi - lo + 1))); }

int64_t count(const std::vector<int32_t>& s) {
  int64_t n = 1;
  for (int32_t d : s) n *= d;
  return n;
}

std::string dims(const std::vector<int32_t>& s) {
  std::string r = "[";
  for (size_t i = 0; i < s.size(); ++i) r += (i ? " " : "") + std::to_string(s[i]);
  return r + "]";
}

std::vector<uint8_t> rand_values(Rng& rng, T type, int64_t n) {
  if (type == T::kFloat32) {
    std::vector<float> v(static_cast<size_t>(n));
    for (auto& x : v) x = rng.uniform() * 2.0f - 1.0f;
    return as_bytes(v);
  }
  if (type == T::kInt16) {
    std::vector<int16_t> v(static_cast<size_t>(n));
    for (auto& x : v) x = static_cast<int16_t>(static_cast<int64_t>(rng.below(65536)) - 32768);
    return as_bytes(v);
  }
  std::vector<uint8_t> b(static_cast<size_t>(n));
  for (auto& x : b) x = static_cast<uint8_t>(rng.below(256));
  return b;
}

void expect_same(T type, const Outcome& ours, const Outcome& theirs) {
  ASSERT_EQ(theirs.error, "");
  ASSERT_EQ(ours.error, "");
  ASSERT_EQ(ours.shape, theirs.shape);
  ASSERT_EQ(ours.bytes.size(), theirs.bytes.size());
  if (type == T::kFloat32) {
    for (size_t i = 0; i < ours.bytes.size(); i += 4) {
      float u, v;
      std::memcpy(&u, &ours.bytes[i], 4);
      std::memcpy(&v, &theirs.bytes[i], 4);
      ASSERT_NEAR(u, v, 1e-5f * std::max(1.0f, std::abs(v))) << "element " << i / 4;
    }
  } else {
    size_t diff = 0, first = 0;
    for (size_t i = 0; i < ours.bytes.size(); ++i)
      if (ours.bytes[i] != theirs.bytes[i] && diff++ == 0) first = i;
    std::string detail;
    if (diff && type == T::kInt16) {
      const size_t e = first / 2 * 2;
      int16_t u, v;
      std::memcpy(&u, &ours.bytes[e], 2);
      std::memcpy(&v, &theirs.bytes[e], 2);
      detail = ": element " + std::to_string(e / 2) + " qlite " + std::to_string(u) + " TFLite " + std::to_string(v);
    } else if (diff) {
      detail = ": qlite " + std::to_string(ours.bytes[first]) + " TFLite " + std::to_string(theirs.bytes[first]);
    }
    EXPECT_EQ(diff, 0u) << "first differing byte " << first << detail;
  }
}

// ---- BATCH_MATMUL

struct MatMulCase {
  std::vector<int32_t> lhs, rhs, out;
  bool adj_x = false, adj_y = false;
};

MatMulCase random_matmul(Rng& rng) {
  MatMulCase c;
  const int rank = pick(rng, 2, 4);
  std::vector<int32_t> batch;
  for (int d = 0; d < rank - 2; ++d) batch.push_back(pick(rng, 1, 3));
  std::vector<int32_t> lb = batch, rb = batch;
  for (size_t d = 0; d < batch.size(); ++d) {
    const uint64_t k = rng.below(3);
    if (k == 1) lb[d] = 1;
    if (k == 2) rb[d] = 1;
  }
  // Either side may have fewer batch dimensions.
  if (!batch.empty() && rng.below(3) == 0) {
    auto& v = rng.below(2) ? lb : rb;
    const auto drop = static_cast<long>(1 + rng.below(v.size()));
    v.erase(v.begin(), v.begin() + drop);
  }
  const int m = pick(rng, 1, 9), n = pick(rng, 1, 9), k = rng.below(5) == 0 ? pick(rng, 10, 40) : pick(rng, 1, 9);
  c.adj_x = rng.below(2), c.adj_y = rng.below(2);
  c.lhs = lb, c.rhs = rb;
  c.lhs.push_back(c.adj_x ? k : m), c.lhs.push_back(c.adj_x ? m : k);
  c.rhs.push_back(c.adj_y ? n : k), c.rhs.push_back(c.adj_y ? k : n);
  const size_t nb = std::max(lb.size(), rb.size());
  c.out.assign(nb, 1);
  for (size_t d = 0; d < nb; ++d) {
    const size_t i = nb - 1 - d;
    const int32_t a = d < lb.size() ? lb[lb.size() - 1 - d] : 1, b = d < rb.size() ? rb[rb.size() - 1 - d] : 1;
    c.out[i] = std::max(a, b);
  }
  c.out.push_back(m), c.out.push_back(n);
  return c;
}

Quantization quant_for(Rng& rng, T type, float scale) {
  if (type == T::kFloat32) return {};
  const int64_t zp = type == T::kInt8 ? pick(rng, -128, 127) : type == T::kUInt8 ? pick(rng, 0, 255) : 0;
  return Quantization::per_tensor(scale, zp);
}

struct MatMulModel {
  std::vector<uint8_t> model, lhs_bytes, rhs_bytes;
  bool rhs_constant = false;
};

MatMulModel matmul_model(Rng& rng, T type, const MatMulCase& c, bool rhs_constant, T out_type) {
  MatMulModel r;
  r.rhs_constant = rhs_constant;
  const float base = type == T::kInt16 ? 1.0f / 1024.0f : 0.05f;
  const Quantization ql = quant_for(rng, type, base * (0.5f + rng.uniform()));
  const Quantization qr = quant_for(rng, type, base * (0.5f + rng.uniform()));
  const int32_t k = c.adj_x ? c.lhs[c.lhs.size() - 2] : c.lhs.back();
  // Output scale: about the spread of a sum of k products, so that the
  // integer outputs use their range without saturating everywhere.
  const float spread = (type == T::kInt16 ? 32768.0f * 32768.0f : 128.0f * 128.0f) * std::sqrt(static_cast<float>(k));
  const float out_scale = type == T::kFloat32 ? 0.0f
                          : (ql.scale[0] * qr.scale[0]) * spread /
                                (type == T::kInt16 ? 32768.0f : 128.0f) * (0.2f + rng.uniform());
  const Quantization qo = out_type == T::kFloat32 ? Quantization{} : quant_for(rng, out_type, out_scale);
  ModelBuilder b;
  r.lhs_bytes = rand_values(rng, type, count(c.lhs));
  r.rhs_bytes = rand_values(rng, type, count(c.rhs));
  const int32_t x = b.add_tensor("lhs", type, c.lhs, ql);
  const int32_t y = rhs_constant ? b.add_constant("rhs", type, c.rhs, r.rhs_bytes, qr) : b.add_tensor("rhs", type, c.rhs, qr);
  const int32_t z = b.add_tensor("out", out_type, c.out, qo);
  b.add_operator(BuiltinOp::kBatchMatmul, {x, y}, {z}, lite::BatchMatMulOptions{c.adj_x, c.adj_y, false});
  b.set_inputs(rhs_constant ? std::vector<int32_t>{x} : std::vector<int32_t>{x, y});
  b.set_outputs({z});
  r.model = b.finish();
  return r;
}

std::pair<Outcome, Outcome> run_matmul(const TfLitePeer& peer, const MatMulCase& c, const MatMulModel& m) {
  std::vector<PeerInput> theirs_in = {PeerInput{c.lhs, m.lhs_bytes}};
  std::vector<std::vector<uint8_t>> ours_in = {m.lhs_bytes};
  if (!m.rhs_constant) theirs_in.push_back(PeerInput{c.rhs, m.rhs_bytes}), ours_in.push_back(m.rhs_bytes);
  return {run_in_qlite(m.model, ours_in), run_in_tflite(peer, m.model, theirs_in)};
}

TEST(TfLiteBatchMatMul, RandomShapesAdjointsAndTypesMatch) {
  QLITE_REQUIRE_TFLITE_PEER(peer);
  Rng rng(1261);
  int compared = 0, broadcast = 0, adj = 0, rank4 = 0;
  const T types[] = {T::kFloat32, T::kInt8, T::kInt16};
  for (int rep = 0; rep < 360; ++rep) {
    const T type = types[rep % 3];
    const MatMulCase c = random_matmul(rng);
    const bool rhs_constant = (rep / 3) % 2 == 0;
    const MatMulModel m = matmul_model(rng, type, c, rhs_constant, type);
    SCOPED_TRACE(std::string(tensor_type_name(type)) + " " + dims(c.lhs) + (c.adj_x ? "^T" : "") + " x " +
                 dims(c.rhs) + (c.adj_y ? "^T" : "") + (rhs_constant ? " constant" : "") + " rep " +
                 std::to_string(rep));
    const auto [ours, theirs] = run_matmul(*peer, c, m);
    expect_same(type, ours, theirs);
    if (HasFatalFailure()) return;
    ++compared;
    std::vector<int32_t> lb(c.lhs.begin(), c.lhs.end() - 2), rb(c.rhs.begin(), c.rhs.end() - 2);
    broadcast += lb != rb;
    adj += c.adj_x || c.adj_y;
    rank4 += c.out.size() == 4;
  }
  std::printf("BATCH_MATMUL: %d files identical to TFLite 2.9 (%d broadcast batch dims, %d adj, %d rank 4)\n",
              compared, broadcast, adj, rank4);
  EXPECT_GT(broadcast, 60);
  EXPECT_GT(rank4, 60);
}

// Every int8 lhs byte against every rhs byte: a [256, 2] x [2, 256] product
// whose first column / row sweep all 256 values (zero points random).
TEST(TfLiteBatchMatMul, Int8EveryInputByteMatches) {
  QLITE_REQUIRE_TFLITE_PEER(peer);
  Rng rng(77);
  for (int rep = 0; rep < 6; ++rep) {
    MatMulCase c;
    c.lhs = {256, 2}, c.rhs = {2, 256}, c.out = {256, 256};
    MatMulModel m = matmul_model(rng, T::kInt8, c, rep % 2 == 0, T::kInt8);
    for (int i = 0; i < 256; ++i) m.lhs_bytes[static_cast<size_t>(2 * i)] = static_cast<uint8_t>(i);
    for (int j = 0; j < 256; ++j) m.rhs_bytes[static_cast<size_t>(j)] = static_cast<uint8_t>(j);
    // rebuild with the swept rhs when constant
    if (m.rhs_constant) {
      ModelBuilder b;
      const Quantization ql = Quantization::per_tensor(0.02f + 0.01f * rep, pick(rng, -128, 127));
      const Quantization qr = Quantization::per_tensor(0.03f, pick(rng, -128, 127));
      const Quantization qo = Quantization::per_tensor(0.02f * 0.03f * (300.0f + 700.0f * rng.uniform()), pick(rng, -128, 127));
      const int32_t x = b.add_tensor("lhs", T::kInt8, c.lhs, ql);
      const int32_t y = b.add_constant("rhs", T::kInt8, c.rhs, m.rhs_bytes, qr);
      const int32_t z = b.add_tensor("out", T::kInt8, c.out, qo);
      b.add_operator(BuiltinOp::kBatchMatmul, {x, y}, {z}, lite::BatchMatMulOptions{});
      b.set_inputs({x});
      b.set_outputs({z});
      m.model = b.finish();
    }
    SCOPED_TRACE("rep " + std::to_string(rep));
    const auto [ours, theirs] = run_matmul(*peer, c, m);
    expect_same(T::kInt8, ours, theirs);
  }
}

TEST(TfLiteBatchMatMul, InvalidFilesAreRefusedByBoth) {
  QLITE_REQUIRE_TFLITE_PEER(peer);
  Rng rng(5);
  auto both_refuse = [&](const MatMulCase& c, T type, T out_type, const char* what) {
    SCOPED_TRACE(what);
    const MatMulModel m = matmul_model(rng, type, c, false, out_type);
    const auto [ours, theirs] = run_matmul(*peer, c, m);
    EXPECT_NE(ours.error, "");
    EXPECT_NE(theirs.error, "");
  };
  both_refuse({{2, 3}, {4, 5}, {2, 5}}, T::kFloat32, T::kFloat32, "depths differ");
  both_refuse({{2, 3}, {4, 3}, {2, 3}, false, false}, T::kFloat32, T::kFloat32, "depths differ without adj_y");
  both_refuse({{2, 2, 3}, {3, 3, 5}, {3, 2, 5}}, T::kFloat32, T::kFloat32, "batch 2 against 3");
  both_refuse({{1, 1, 1, 1, 1, 2, 3}, {3, 4}, {1, 1, 1, 1, 1, 2, 4}}, T::kFloat32, T::kFloat32, "rank 7");
  both_refuse({{2, 1, 2, 2, 3}, {3, 4}, {2, 1, 2, 2, 4}}, T::kInt8, T::kInt8, "rank 5 (TFLite 2.9 stops at 4)");
  both_refuse({{2, 3}, {3, 4}, {2, 4}}, T::kUInt8, T::kUInt8, "uint8");
  {  // int8 -> int32: TFLite 2.9 runs it (EvalInt8Int32: the raw int32 sums,
     // zero points ignored), and so does qlite (tflite_types16_test.cpp has
     // the random files); the same bytes here.
    const MatMulCase c{{2, 3}, {3, 4}, {2, 4}};
    const MatMulModel m = matmul_model(rng, T::kInt8, c, false, T::kInt32);
    const auto [ours, theirs] = run_matmul(*peer, c, m);
    EXPECT_EQ(ours.error, "");
    EXPECT_EQ(theirs.error, "");
    EXPECT_EQ(ours.bytes, theirs.bytes);
  }
  {  // hybrid with a computed int8 rhs: TFLite 2.9 runs it (with row sums
     // taken once, stale after the rhs changes); qlite refuses in one line
    ModelBuilder b;
    const int32_t x = b.add_tensor("lhs", T::kFloat32, {2, 3});
    const int32_t y = b.add_tensor("rhs", T::kInt8, {3, 4}, Quantization::per_tensor(0.1f, 0));
    const int32_t z = b.add_tensor("out", T::kFloat32, {2, 4});
    b.add_operator(BuiltinOp::kBatchMatmul, {x, y}, {z}, lite::BatchMatMulOptions{});
    b.set_inputs({x, y});
    b.set_outputs({z});
    const Outcome ours = run_in_qlite(b.finish(), {std::vector<uint8_t>(24, 0), std::vector<uint8_t>(12, 0)});
    EXPECT_NE(ours.error.find("must be constant"), std::string::npos) << ours.error;
    EXPECT_NE(ours.error.find("BATCH_MATMUL"), std::string::npos) << ours.error;
    EXPECT_EQ(ours.error.find('\n'), std::string::npos) << ours.error;
  }
  both_refuse({{2}, {2, 4}, {4}}, T::kFloat32, T::kFloat32, "rank 1");
}

// ---- hybrid BATCH_MATMUL: float32 lhs, constant int8 rhs, float32 output

struct HybridCase {
  MatMulCase c;
  bool asymmetric = false;
  std::vector<uint8_t> model;
  std::vector<float> lhs;
};

// lhs values: mostly uniform in +-1, some rows scaled up or all zero, some
// all positive (the asymmetric quantizer's range then starts at 0).
std::vector<float> hybrid_lhs(Rng& rng, int64_t n, int kind) {
  std::vector<float> v(static_cast<size_t>(n));
  const float scale = kind == 1 ? 300.0f : kind == 2 ? 1e-3f : 1.0f;
  for (auto& x : v) x = kind == 3 ? rng.uniform() * 4.0f : (rng.uniform() * 2.0f - 1.0f) * scale;
  if (kind == 4)
    for (size_t i = 0; i < v.size() / 2; ++i) v[i] = 0.0f;
  return v;
}

std::vector<uint8_t> hybrid_model(Rng& rng, const MatMulCase& c, bool asymmetric, const std::vector<int8_t>& rhs) {
  ModelBuilder b;
  const int32_t x = b.add_tensor("lhs", T::kFloat32, c.lhs);
  const float rs = 0.004f + 0.02f * rng.uniform();
  const int32_t y = b.add_constant("rhs", T::kInt8, c.rhs, rhs, Quantization::per_tensor(rs, 0));
  const int32_t z = b.add_tensor("out", T::kFloat32, c.out);
  b.add_operator(BuiltinOp::kBatchMatmul, {x, y}, {z}, lite::BatchMatMulOptions{c.adj_x, c.adj_y, asymmetric});
  b.set_inputs({x});
  b.set_outputs({z});
  return b.finish();
}

std::vector<int8_t> hybrid_rhs(Rng& rng, int64_t n) {
  std::vector<int8_t> v(static_cast<size_t>(n));
  for (auto& x : v) x = static_cast<int8_t>(static_cast<int64_t>(rng.below(255)) - 127);
  return v;
}

// Float outputs: bit-identical (the arithmetic is TFLite's, operation for
// operation), which also holds them within 1e-5 relative.
void expect_bit_identical(const Outcome& ours, const Outcome& theirs) {
  ASSERT_EQ(theirs.error, "");
  ASSERT_EQ(ours.error, "");
  ASSERT_EQ(ours.shape, theirs.shape);
  ASSERT_EQ(ours.bytes.size(), theirs.bytes.size());
  size_t diff = 0, first = 0;
  for (size_t i = 0; i < ours.bytes.size(); i += 4)
    if (std::memcmp(&ours.bytes[i], &theirs.bytes[i], 4) != 0 && diff++ == 0) first = i / 4;
  if (diff) {
    float u, v;
    std::memcpy(&u, &ours.bytes[first * 4], 4);
    std::memcpy(&v, &theirs.bytes[first * 4], 4);
    ADD_FAILURE() << diff << " elements differ, first " << first << ": qlite " << u << " TFLite " << v;
  }
}

// TFLite 2.9's hybrid kernel sizes its temporaries from the wrong
// dimensions: the per-row scales and zero points by the depth k (it needs the
// rows m), the int32 accumulator by m x k (it needs m x n), the rhs row sums
// by m (it needs n). Outside n <= m <= k it writes past them, and what comes
// out depends on its arena (zeros, NaN, another tensor's bytes). The random
// files below keep their batch dimensions and adj flags and take (n, m, k)
// sorted; HybridOutsideTfLitesBuffersMatchesTfLitePerElement checks the
// other shapes against TFLite one element at a time (m = n = 1, in bounds).
MatMulCase hybrid_in_bounds(MatMulCase c) {
  int32_t v[3] = {c.out.back(), c.out[c.out.size() - 2], c.adj_x ? c.lhs[c.lhs.size() - 2] : c.lhs.back()};
  std::sort(v, v + 3);
  const int32_t n = v[0], m = v[1], k = v[2];
  c.lhs[c.lhs.size() - 2] = c.adj_x ? k : m, c.lhs.back() = c.adj_x ? m : k;
  c.rhs[c.rhs.size() - 2] = c.adj_y ? n : k, c.rhs.back() = c.adj_y ? k : n;
  c.out[c.out.size() - 2] = m, c.out.back() = n;
  return c;
}

// Random ranks 2..4, broadcast batch dimensions, adj_x / adj_y, symmetric and
// asymmetric input quantization, against TFLite 2.9; several lhs values per
// qlite interpreter.
TEST(TfLiteBatchMatMul, HybridMatchesTfLite) {
  QLITE_REQUIRE_TFLITE_PEER(peer);
  Rng rng(1313);
  int compared = 0, asym = 0, two_batch = 0, adj = 0;
  for (int rep = 0; rep < 160; ++rep) {
    const MatMulCase c = hybrid_in_bounds(random_matmul(rng));
    const bool asymmetric = rep % 2 == 1;
    const std::vector<int8_t> rhs = hybrid_rhs(rng, count(c.rhs));
    const std::vector<uint8_t> model = hybrid_model(rng, c, asymmetric, rhs);
    SCOPED_TRACE(dims(c.lhs) + (c.adj_x ? "^T" : "") + " x " + dims(c.rhs) + (c.adj_y ? "^T" : "") +
                 (asymmetric ? " asymmetric" : " symmetric") + " rep " + std::to_string(rep));
    auto it = runtime::Interpreter::from_buffer(model);
    for (int step = 0; step < 3; ++step) {
      const int kind = static_cast<int>(rng.below(5));
      SCOPED_TRACE("step " + std::to_string(step) + " values " + std::to_string(kind));
      const std::vector<float> lhs = hybrid_lhs(rng, count(c.lhs), kind);
      Outcome ours;
      try {
        const auto in = it->input_bytes(0);
        ASSERT_EQ(in.size(), lhs.size() * 4);
        std::memcpy(in.data(), lhs.data(), in.size());
        it->invoke();
        const auto out = it->output_bytes(0);
        const auto* p = reinterpret_cast<const uint8_t*>(out.data());
        ours.bytes.assign(p, p + out.size());
        for (auto d : it->output_info(0).shape) ours.shape.push_back(static_cast<int64_t>(d));
      } catch (const Error& e) {
        ours.error = e.what();
      }
      const Outcome theirs = run_in_tflite(*peer, model, {PeerInput{c.lhs, as_bytes(lhs)}});
      expect_bit_identical(ours, theirs);
      if (HasFailure()) return;
      ++compared;
    }
    asym += asymmetric;
    adj += c.adj_x || c.adj_y;
    int lhs_batches_over_1 = 0;
    for (size_t d = 0; d + 2 < c.lhs.size(); ++d) lhs_batches_over_1 += c.lhs[d] > 1;
    two_batch += lhs_batches_over_1 == 2;
  }
  std::printf("hybrid BATCH_MATMUL: %d runs bit-identical to TFLite 2.9 (%d asymmetric files, %d adj, %d with two lhs "
              "batch dimensions > 1)\n",
              compared, asym, adj, two_batch);
  EXPECT_GT(two_batch, 5);
}

// The shapes where TFLite 2.9's hybrid kernel writes past its buffers (more
// rows than depth, more columns than rows; hybrid_in_bounds): qlite computes
// what TFLite computes in bounds. The oracle is TFLite itself, one element
// at a time: each lhs row is quantized on its own and each output column
// reads one rhs column, so out[i, j] is TFLite's [1, k] x [k, 1] product of
// row i and column j (m = n = 1 <= k: in bounds).
TEST(TfLiteBatchMatMul, HybridOutsideTfLitesBuffersMatchesTfLitePerElement) {
  QLITE_REQUIRE_TFLITE_PEER(peer);
  Rng rng(4242);
  int elements = 0, rows_over_depth = 0, cols_over_rows = 0;
  for (int rep = 0; rep < 16; ++rep) {
    const int32_t k = pick(rng, 1, 6), m = rep % 2 ? k + pick(rng, 1, 6) : pick(rng, 1, 6);
    const int32_t n = rep % 2 ? pick(rng, 1, 6) : m + pick(rng, 1, 6);
    rows_over_depth += m > k, cols_over_rows += n > m;
    const bool adj_y = rep % 3 == 1, asymmetric = (rep / 2) % 2 == 1;
    const std::vector<int8_t> rhs = hybrid_rhs(rng, k * n);  // [k, n] (adj_y: [n, k])
    const float scale = 0.004f + 0.02f * rng.uniform();
    auto model_for = [&](int32_t rows, int32_t cols, const std::vector<int8_t>& r) {
      ModelBuilder b;
      const int32_t x = b.add_tensor("lhs", T::kFloat32, {rows, k});
      const std::vector<int32_t> rs = adj_y ? std::vector<int32_t>{cols, k} : std::vector<int32_t>{k, cols};
      const int32_t y = b.add_constant("rhs", T::kInt8, rs, r, Quantization::per_tensor(scale, 0));
      const int32_t z = b.add_tensor("out", T::kFloat32, {rows, cols});
      b.add_operator(BuiltinOp::kBatchMatmul, {x, y}, {z}, lite::BatchMatMulOptions{false, adj_y, asymmetric});
      b.set_inputs({x});
      b.set_outputs({z});
      return b.finish();
    };
    const std::vector<float> lhs = hybrid_lhs(rng, int64_t{m} * k, static_cast<int>(rng.below(5)));
    SCOPED_TRACE("m " + std::to_string(m) + " k " + std::to_string(k) + " n " + std::to_string(n) +
                 (asymmetric ? " asymmetric" : " symmetric") + " rep " + std::to_string(rep));
    const Outcome ours = run_in_qlite(model_for(m, n, rhs), {as_bytes(lhs)});
    ASSERT_EQ(ours.error, "");
    ASSERT_EQ(ours.bytes.size(), static_cast<size_t>(m) * n * 4);
    for (int32_t j = 0; j < n; ++j) {
      std::vector<int8_t> column(static_cast<size_t>(k));
      for (int32_t d = 0; d < k; ++d) column[static_cast<size_t>(d)] = rhs[static_cast<size_t>(adj_y ? j * k + d : d * n + j)];
      const std::vector<uint8_t> one = model_for(1, 1, column);
      for (int32_t i = 0; i < m; ++i) {
        const std::vector<float> row(lhs.begin() + i * k, lhs.begin() + (i + 1) * k);
        const Outcome theirs = run_in_tflite(*peer, one, {PeerInput{{1, k}, as_bytes(row)}});
        ASSERT_EQ(theirs.error, "");
        ASSERT_EQ(theirs.bytes.size(), 4u);
        EXPECT_EQ(0, std::memcmp(theirs.bytes.data(), ours.bytes.data() + (static_cast<size_t>(i) * n + j) * 4, 4))
            << "element " << i << ", " << j;
        ++elements;
      }
    }
  }
  std::printf("hybrid BATCH_MATMUL outside TFLite 2.9's buffers: %d elements identical (%d files m > k, %d n > m)\n",
              elements, rows_over_depth, cols_over_rows);
  EXPECT_GT(rows_over_depth, 5);
  EXPECT_GT(cols_over_rows, 5);
}

// Depth 1500 with same-signed values: accumulators past 2^24, which TFLite's
// float round trip (int32 -= row_sum * offset) rounds; and the largest
// quantized values everywhere.
TEST(TfLiteBatchMatMul, HybridLargeAccumulatorsMatchTfLite) {
  QLITE_REQUIRE_TFLITE_PEER(peer);
  Rng rng(99);
  for (int rep = 0; rep < 4; ++rep) {
    MatMulCase c;
    c.lhs = {2, 5, 1500}, c.rhs = {1500, 3}, c.out = {2, 5, 3};  // n <= m <= k
    std::vector<int8_t> rhs(static_cast<size_t>(count(c.rhs)));
    for (auto& x : rhs) x = static_cast<int8_t>(rep % 2 ? -127 + rng.below(3) : 125 + rng.below(3));
    const std::vector<uint8_t> model = hybrid_model(rng, c, rep >= 2, rhs);
    std::vector<float> lhs(static_cast<size_t>(count(c.lhs)));
    for (auto& x : lhs) x = 1.0f + rng.uniform() * 0.01f;
    SCOPED_TRACE("rep " + std::to_string(rep));
    expect_bit_identical(run_in_qlite(model, {as_bytes(lhs)}),
                         run_in_tflite(*peer, model, {PeerInput{c.lhs, as_bytes(lhs)}}));
  }
}

// ---- TRANSPOSE_CONV

struct ConvCase {
  int batch = 1, out_h = 1, out_w = 1, in_h = 1, in_w = 1, in_c = 1, out_c = 1, fh = 1, fw = 1, sh = 1, sw = 1;
  bool same = true;
  int bias = 0;  // 0: absent (3 inputs), 1: -1, 2: present
};

int conv_out(bool same, int size, int filter, int stride) {
  const int r = same ? (size + stride - 1) / stride : (size + stride - filter) / stride;
  return std::max(r, 0);
}

bool random_conv(Rng& rng, ConvCase& c) {
  c.batch = pick(rng, 1, 2);
  c.fh = pick(rng, 1, 4), c.fw = pick(rng, 1, 4);
  c.sh = pick(rng, 1, 3), c.sw = pick(rng, 1, 3);
  c.out_h = pick(rng, 1, 11), c.out_w = pick(rng, 1, 11);
  c.in_c = pick(rng, 1, 6), c.out_c = pick(rng, 1, 6);
  c.same = rng.below(2);
  c.bias = static_cast<int>(rng.below(3));
  c.in_h = conv_out(c.same, c.out_h, c.fh, c.sh), c.in_w = conv_out(c.same, c.out_w, c.fw, c.sw);
  return c.in_h > 0 && c.in_w > 0;
}

struct ConvModel {
  std::vector<uint8_t> model, input;
  std::vector<int32_t> in_shape;
};

ConvModel conv_model(Rng& rng, T type, const ConvCase& c, const std::vector<int32_t>* shape_override = nullptr,
                     bool dynamic_shape = false) {
  const T wtype = type == T::kInt16 ? T::kInt8 : type;
  const T btype = type == T::kFloat32 ? T::kFloat32 : type == T::kInt16 ? T::kInt64 : T::kInt32;
  ConvModel r;
  r.in_shape = {c.batch, c.in_h, c.in_w, c.in_c};
  const std::vector<int32_t> w_shape = {c.out_c, c.fh, c.fw, c.in_c};
  const float in_scale = type == T::kInt16 ? 1.0f / 2048.0f * (0.5f + rng.uniform()) : 0.05f * (0.5f + rng.uniform());
  std::vector<float> w_scales;
  for (int oc = 0; oc < c.out_c; ++oc) w_scales.push_back(0.02f * (0.25f + rng.uniform()));
  Quantization qi, qw, qo;
  const int terms = std::max(1, (c.fh + c.sh - 1) / c.sh * ((c.fw + c.sw - 1) / c.sw) * c.in_c);
  if (type != T::kFloat32) {
    qi = quant_for(rng, type, in_scale);
    if (type == T::kUInt8) {
      qw = Quantization::per_tensor(w_scales[0], pick(rng, 0, 255));
      w_scales.assign(1, w_scales[0]);
    } else {
      qw = Quantization::per_axis(w_scales, std::vector<int64_t>(static_cast<size_t>(c.out_c), 0), 0);
    }
    const float qmax = type == T::kInt16 ? 32768.0f : 128.0f;
    const float out_scale = in_scale * w_scales[0] * qmax * std::sqrt(static_cast<float>(terms)) * (0.3f + rng.uniform());
    qo = quant_for(rng, type, out_scale);
  }
  ModelBuilder b;
  const std::vector<int32_t> os = shape_override ? *shape_override : std::vector<int32_t>{c.batch, c.out_h, c.out_w, c.out_c};
  int32_t shape_t = 0, shape_in = -1;
  if (dynamic_shape) {  // a graph input [1, 4] reshaped to [4]: computed at run time
    shape_in = b.add_tensor("shape_in", T::kInt32, {1, 4});
    shape_t = b.add_tensor("output_shape", T::kInt32, {4});
    b.add_operator(BuiltinOp::kReshape, {shape_in}, {shape_t}, lite::ReshapeOptions{{4}});
  } else {
    shape_t = b.add_constant("output_shape", T::kInt32, {static_cast<int32_t>(os.size())}, os);
  }
  const int32_t w = b.add_constant("weights", wtype, w_shape, rand_values(rng, wtype, count(w_shape)), qw);
  const int32_t x = b.add_tensor("input", type, r.in_shape, qi);
  std::vector<int32_t> ins = {shape_t, w, x};
  if (c.bias == 1) ins.push_back(-1);
  if (c.bias == 2) {
    Quantization qb;
    if (type != T::kFloat32) {
      std::vector<float> bs;
      for (float s : w_scales) bs.push_back(in_scale * s);
      qb = bs.size() == 1 ? Quantization::per_tensor(bs[0], 0)
                          : Quantization::per_axis(bs, std::vector<int64_t>(bs.size(), 0), 0);
    }
    std::vector<uint8_t> bias_bytes;
    if (btype == T::kFloat32) {
      bias_bytes = rand_values(rng, btype, c.out_c);
    } else if (btype == T::kInt32) {
      std::vector<int32_t> v(static_cast<size_t>(c.out_c));
      for (auto& x : v) x = pick(rng, -3000, 3000);
      bias_bytes = as_bytes(v);
    } else {
      std::vector<int64_t> v(static_cast<size_t>(c.out_c));
      for (auto& x : v) x = static_cast<int64_t>(pick(rng, -1 << 28, 1 << 28)) * (rng.below(4) == 0 ? 4 : 1);
      bias_bytes = as_bytes(v);
    }
    ins.push_back(b.add_constant("bias", btype, {c.out_c}, bias_bytes, qb));
  }
  const int32_t z = b.add_tensor("output", type, {c.batch, c.out_h, c.out_w, c.out_c}, qo);
  b.add_operator(BuiltinOp::kTransposeConv, ins, {z},
                 lite::TransposeConvOptions{c.same ? lite::Padding::kSame : lite::Padding::kValid, c.sw, c.sh});
  b.set_inputs(dynamic_shape ? std::vector<int32_t>{x, shape_in} : std::vector<int32_t>{x});
  b.set_outputs({z});
  r.model = b.finish();
  r.input = rand_values(rng, type, count(r.in_shape));
  return r;
}

TEST(TfLiteTransposeConv, RandomGeometriesAndTypesMatch) {
  QLITE_REQUIRE_TFLITE_PEER(peer);
  Rng rng(6703);
  const T types[] = {T::kFloat32, T::kInt8, T::kUInt8, T::kInt16};
  int compared = 0, strided = 0, batched = 0, valid = 0, with_bias = 0;
  for (int rep = 0; rep < 480; ++rep) {
    const T type = types[rep % 4];
    ConvCase c;
    if (!random_conv(rng, c)) continue;
    const ConvModel m = conv_model(rng, type, c);
    SCOPED_TRACE(std::string(tensor_type_name(type)) + " in " + dims(m.in_shape) + " out " +
                 std::to_string(c.out_h) + "x" + std::to_string(c.out_w) + "x" + std::to_string(c.out_c) +
                 " filter " + std::to_string(c.fh) + "x" + std::to_string(c.fw) + " stride " +
                 std::to_string(c.sh) + "x" + std::to_string(c.sw) + (c.same ? " SAME" : " VALID") + " bias " +
                 std::to_string(c.bias) + " rep " + std::to_string(rep));
    const Outcome theirs = run_in_tflite(*peer, m.model, m.in_shape, m.input);
    const Outcome ours = run_in_qlite(m.model, m.input);
    expect_same(type, ours, theirs);
    if (HasFatalFailure()) return;
    ++compared;
    strided += c.sh > 1 || c.sw > 1;
    batched += c.batch > 1;
    valid += !c.same;
    with_bias += c.bias == 2;
  }
  std::printf("TRANSPOSE_CONV: %d files identical to TFLite 2.9 (%d strided, %d batch 2, %d VALID, %d with bias)\n",
              compared, strided, batched, valid, with_bias);
  EXPECT_GT(compared, 400);
}

// 16x8 without a bias past int32: 64 channels x 3 x 3 taps of 32767 x 127
// (about 2.4e9). TFLite 2.9's accumulator wraps at 32 bits; qlite's too.
TEST(TfLiteTransposeConv, Int16AccumulatorBeyondInt32MatchesTfLite) {
  QLITE_REQUIRE_TFLITE_PEER(peer);
  Rng rng(11);
  for (int rep = 0; rep < 4; ++rep) {
    ConvCase c;
    c.out_h = c.in_h = 4, c.out_w = c.in_w = 4, c.fh = c.fw = 3, c.in_c = 64, c.out_c = 2, c.bias = rep % 2;
    ConvModel m = conv_model(rng, T::kInt16, c);
    // Rebuild with extreme weights: every input 32767 (or -32768), every weight 127.
    for (size_t i = 0; i < m.input.size(); i += 2) m.input[i] = rep < 2 ? 0xff : 0x00, m.input[i + 1] = rep < 2 ? 0x7f : 0x80;
    ModelBuilder b;
    const int32_t os = b.add_constant("output_shape", T::kInt32, {4}, std::vector<int32_t>{1, 4, 4, 2});
    const int32_t w = b.add_constant("weights", T::kInt8, {2, 3, 3, 64}, std::vector<int8_t>(2 * 9 * 64, 127),
                                     Quantization::per_axis({0.01f, 0.02f}, {0, 0}, 0));
    const int32_t x = b.add_tensor("input", T::kInt16, m.in_shape, Quantization::per_tensor(1.0f / 1024, 0));
    const int32_t z = b.add_tensor("output", T::kInt16, {1, 4, 4, 2}, Quantization::per_tensor(40.0f + rep, 0));
    b.add_operator(BuiltinOp::kTransposeConv, c.bias ? std::vector<int32_t>{os, w, x, -1} : std::vector<int32_t>{os, w, x},
                   {z}, lite::TransposeConvOptions{lite::Padding::kSame, 1, 1});
    b.set_inputs({x});
    b.set_outputs({z});
    m.model = b.finish();
    SCOPED_TRACE("rep " + std::to_string(rep));
    expect_same(T::kInt16, run_in_qlite(m.model, m.input), run_in_tflite(*peer, m.model, m.in_shape, m.input));
  }
}

TEST(TfLiteTransposeConv, InvalidFilesAreRefusedByBoth) {
  QLITE_REQUIRE_TFLITE_PEER(peer);
  Rng rng(9);
  ConvCase c;
  c.out_h = 6, c.out_w = 5, c.fh = 3, c.fw = 3, c.sh = 2, c.sw = 2, c.in_c = 2, c.out_c = 3;
  c.in_h = conv_out(true, 6, 3, 2), c.in_w = conv_out(true, 5, 3, 2);
  auto both_refuse = [&](T type, const ConvCase& cc, const std::vector<int32_t>* os, const char* what) {
    SCOPED_TRACE(what);
    const ConvModel m = conv_model(rng, type, cc, os);
    const Outcome theirs = run_in_tflite(*peer, m.model, m.in_shape, m.input);
    const Outcome ours = run_in_qlite(m.model, m.input);
    EXPECT_NE(ours.error, "");
    EXPECT_NE(theirs.error, "");
  };
  const std::vector<int32_t> three = {1, 6, 5};
  both_refuse(T::kFloat32, c, &three, "output_shape of 3 values");
}

// output_shape = PACK(SHAPE(x)[0], 6, 5, 3), the exported form of a dynamic
// batch: computed while preparing at every batch; identical to TFLite 2.9
// (which resizes the output at invoke) at batches 1, 3 and 2.
TEST(TfLiteTransposeConv, OutputShapeFromTheInputsShapeFollowsTheBatch) {
  QLITE_REQUIRE_TFLITE_PEER(peer);
  ModelBuilder b;
  const Quantization q = Quantization::per_tensor(0.05f, 3);
  const int32_t x = b.add_tensor("x", T::kInt8, {1, 3, 3, 2}, q, {-1, 3, 3, 2});
  const int32_t s = b.add_tensor("shape", T::kInt32, {4});
  b.add_operator(BuiltinOp::kShape, {x}, {s}, lite::ShapeOptions{T::kInt32});
  const int32_t begin = b.add_constant("begin", T::kInt32, {1}, std::vector<int32_t>{0});
  const int32_t end = b.add_constant("end", T::kInt32, {1}, std::vector<int32_t>{1});
  const int32_t strides = b.add_constant("strides", T::kInt32, {1}, std::vector<int32_t>{1});
  const int32_t batch = b.add_tensor("batch", T::kInt32, {});
  lite::StridedSliceOptions so;
  so.shrink_axis_mask = 1;
  b.add_operator(BuiltinOp::kStridedSlice, {s, begin, end, strides}, {batch}, so);
  const int32_t h = b.add_constant("h", T::kInt32, {}, std::vector<int32_t>{6});
  const int32_t w = b.add_constant("w", T::kInt32, {}, std::vector<int32_t>{5});
  const int32_t ch = b.add_constant("c", T::kInt32, {}, std::vector<int32_t>{3});
  const int32_t os = b.add_tensor("output_shape", T::kInt32, {4});
  b.add_operator(BuiltinOp::kPack, {batch, h, w, ch}, {os}, lite::PackOptions{4, 0});
  Rng rng(17);
  const int32_t wt = b.add_constant("weights", T::kInt8, {3, 3, 3, 2}, rand_values(rng, T::kInt8, 54),
                                    Quantization::per_axis({0.01f, 0.02f, 0.015f}, {0, 0, 0}, 0));
  const int32_t bias = b.add_constant("bias", T::kInt32, {3}, std::vector<int32_t>{100, -200, 300},
                                      Quantization::per_axis({0.0005f, 0.001f, 0.00075f}, {0, 0, 0}, 0));
  const int32_t y = b.add_tensor("y", T::kInt8, {1, 6, 5, 3}, Quantization::per_tensor(0.02f, -4), {-1, 6, 5, 3});
  b.add_operator(BuiltinOp::kTransposeConv, {os, wt, x, bias}, {y}, lite::TransposeConvOptions{lite::Padding::kSame, 2, 2});
  b.set_inputs({x});
  b.set_outputs({y});
  const std::vector<uint8_t> model = b.finish();
  for (int n : {1, 3, 2}) {
    SCOPED_TRACE("batch " + std::to_string(n));
    const std::vector<int32_t> shape = {n, 3, 3, 2};
    const std::vector<uint8_t> input = rand_values(rng, T::kInt8, count(shape));
    Outcome ours;
    try {
      auto it = runtime::Interpreter::from_buffer(model);
      it->resize_batch(n);
      std::memcpy(it->input_bytes(0).data(), input.data(), input.size());
      it->invoke();
      const auto out = it->output_bytes(0);
      ours.bytes.assign(reinterpret_cast<const uint8_t*>(out.data()), reinterpret_cast<const uint8_t*>(out.data()) + out.size());
      ours.shape = it->output_info(0).shape;
    } catch (const Error& e) {
      ours.error = e.what();
    }
    expect_same(T::kInt8, ours, run_in_tflite(*peer, model, shape, input));
  }
}

// A computed output_shape (a graph input reshaped, so known only at run
// time): the op is prepared at invoke, as TFLite 2.9 resizes its dynamic
// output at eval. Random geometries of every type, identical to TFLite 2.9.
// (tflite_dynamic_shape_test.cpp runs several values per interpreter.)
TEST(TfLiteTransposeConv, ComputedOutputShapeMatchesTfLite) {
  QLITE_REQUIRE_TFLITE_PEER(peer);
  Rng rng(3);
  const T types[] = {T::kFloat32, T::kInt8, T::kUInt8, T::kInt16};
  int compared = 0;
  for (int rep = 0; rep < 80; ++rep) {
    const T type = types[rep % 4];
    ConvCase c;
    if (!random_conv(rng, c)) continue;
    const ConvModel m = conv_model(rng, type, c, nullptr, true);
    const std::vector<int32_t> shape = {c.batch, c.out_h, c.out_w, c.out_c};
    SCOPED_TRACE(std::string(tensor_type_name(type)) + " in " + dims(m.in_shape) + " out " + dims(shape) + " rep " +
                 std::to_string(rep));
    const Outcome ours = run_in_qlite(m.model, {m.input, as_bytes(shape)});
    const Outcome theirs =
        run_in_tflite(*peer, m.model, {PeerInput{m.in_shape, m.input}, PeerInput{{1, 4}, as_bytes(shape)}});
    expect_same(type, ours, theirs);
    if (HasFatalFailure()) return;
    ++compared;
  }
  EXPECT_GT(compared, 60);
}

}  // namespace
}  // namespace qlite::test
