// The interpreter against direct calls of the reference kernels: float32,
// int8 (float and int8 I/O), float16-weight and hybrid forms of the test CNN,
// at several batch sizes.
#include <gtest/gtest.h>

#include <cstring>

#include "kernels/reference/hybrid_kernels.h"
#include "kernels/reference/int8_kernels.h"
#include "kernels/reference/reference_float.h"
#include "qlite/runtime.h"
#include "runtime_models.h"

namespace qlite::test {
namespace {

using runtime::Interpreter;

// The float oracles below are the reference kernels themselves, so float
// models run on the reference path here (exact equality); the optimized
// float paths are compared with it in isa_equivalence_test.cpp.
runtime::InterpreterOptions reference_isa() {
  runtime::InterpreterOptions o;
  o.isa = Isa::kReference;
  return o;
}

ref::WindowGeometry conv_geometry(const CnnSpec& s, int batch) {
  ref::WindowGeometry g;
  g.batch = batch, g.in_h = s.h, g.in_w = s.w, g.in_c = s.c, g.out_c = s.filters;
  g.kernel_h = g.kernel_w = 3;
  ref::apply_padding(g, Padding::kSame);
  return g;
}
ref::WindowGeometry pool_geometry(const CnnSpec& s, int batch) {
  ref::WindowGeometry g;
  g.batch = batch, g.in_h = s.h, g.in_w = s.w, g.in_c = g.out_c = s.filters;
  g.kernel_h = g.kernel_w = 2, g.stride_h = g.stride_w = 2;
  ref::apply_padding(g, Padding::kValid);
  return g;
}

std::vector<float> oracle_float(const CnnSpec& s, const CnnWeights& w, const std::vector<float>& x, int batch) {
  const auto cg = conv_geometry(s, batch);
  std::vector<float> conv(static_cast<size_t>(batch * s.h * s.w * s.filters)), pool(static_cast<size_t>(batch * s.feat()));
  std::vector<float> logits(static_cast<size_t>(batch * s.classes)), probs(logits.size());
  ref::conv2d_f32(cg, x.data(), w.conv_w.data(), w.conv_b.data(), Activation::kRelu, conv.data());
  ref::max_pool2d_f32(pool_geometry(s, batch), Activation::kLinear, conv.data(), pool.data());
  ref::fully_connected_f32(batch, s.feat(), s.classes, pool.data(), w.fc_w.data(), w.fc_b.data(),
                           Activation::kLinear, logits.data());
  ref::softmax_f32(batch, s.classes, 1.0f, logits.data(), probs.data());
  return probs;
}

std::vector<float> oracle_int8(const CnnSpec& s, const CnnWeights& w, const Int8CnnParams& p,
                               const std::vector<float>& x, int batch) {
  std::vector<int8_t> xq(x.size());
  ref::quantize_f32_to_int8(static_cast<int64_t>(x.size()), x.data(), p.in_scale, p.in_zp, xq.data());
  const QWeights cw = quantize_weights(w.conv_w, s.filters);
  const QWeights fw = quantize_weights(w.fc_w, 1);
  ref::ConvInt8Params cp;
  cp.g = conv_geometry(s, batch);
  cp.input_zero_point = p.in_zp, cp.output_zero_point = p.conv_zp;
  cp.requant = ref::make_requant(p.in_scale, cw.scales, p.conv_scale);
  cp.act = ref::fused_activation_range(Activation::kRelu, p.conv_scale, p.conv_zp);
  std::vector<int8_t> conv(static_cast<size_t>(batch * s.h * s.w * s.filters)), pool(static_cast<size_t>(batch * s.feat()));
  const auto cb = quantize_bias(w.conv_b, p.in_scale, cw.scales);
  ref::conv2d_int8(cp, xq.data(), cw.q.data(), cb.data(), conv.data());
  ref::PoolInt8Params pp;
  pp.g = pool_geometry(s, batch);
  ref::max_pool2d_int8(pp, conv.data(), pool.data());
  ref::FullyConnectedInt8Params fp;
  fp.batch = batch, fp.in_features = s.feat(), fp.out_features = s.classes;
  fp.input_zero_point = p.conv_zp, fp.output_zero_point = p.fc_zp;
  fp.requant = ref::make_requant(p.conv_scale, fw.scales, p.fc_scale);
  const auto fb = quantize_bias(w.fc_b, p.conv_scale, fw.scales);
  std::vector<int8_t> logits(static_cast<size_t>(batch * s.classes)), probs(logits.size());
  ref::fully_connected_int8(fp, pool.data(), fw.q.data(), fb.data(), logits.data());
  const auto sp = ref::make_softmax_params(p.fc_scale, 1.0f);
  ref::softmax_int8(sp, batch, s.classes, logits.data(), probs.data());
  std::vector<float> y(probs.size());
  ref::dequantize_int8(static_cast<int64_t>(y.size()), probs.data(), 1.0f / 256, -128, y.data());
  return y;
}

std::vector<float> random_input(uint64_t seed, size_t n) {
  Rng rng(seed);
  return uniform(rng, n, -1.0f, 1.0f);
}

template <class T>
std::vector<T> run(Interpreter& it, const std::vector<T>& x, int batch) {
  it.resize_batch(batch);
  auto in = it.input_data<T>(0);
  EXPECT_EQ(in.size(), x.size());
  std::copy(x.begin(), x.end(), in.begin());
  it.invoke();
  auto out = it.output_data<T>(0);
  return std::vector<T>(out.begin(), out.end());
}

TEST(Interpreter, FloatCnnMatchesReferenceKernelsAtSeveralBatches) {
  const CnnSpec s;
  const CnnWeights w = make_cnn_weights(s);
  auto it = Interpreter::from_model(float_cnn(s, w), reference_isa());
  ASSERT_EQ(it->num_inputs(), 1u);
  EXPECT_EQ(it->input_info(0).shape, (Shape{1, 8, 8, 2}));
  for (int batch : {1, 7, 2}) {
    const auto x = random_input(static_cast<uint64_t>(batch), static_cast<size_t>(batch * s.h * s.w * s.c));
    const auto got = run(*it, x, batch);
    EXPECT_EQ(it->output_info(0).shape, (Shape{batch, s.classes}));
    EXPECT_EQ(got, oracle_float(s, w, x, batch)) << "batch " << batch;
  }
}

TEST(Interpreter, Int8CnnWithFloatIoMatchesReferenceKernels) {
  const CnnSpec s;
  const CnnWeights w = make_cnn_weights(s);
  const Int8CnnParams p;
  auto it = Interpreter::from_model(int8_cnn(s, w, p));
  for (int batch : {1, 7, 2}) {
    const auto x = random_input(10 + static_cast<uint64_t>(batch), static_cast<size_t>(batch * s.h * s.w * s.c));
    EXPECT_EQ(run(*it, x, batch), oracle_int8(s, w, p, x, batch)) << "batch " << batch;
  }
}

TEST(Interpreter, BatchResizeGivesPerImageIdenticalResults) {
  const CnnSpec s;
  const CnnWeights w = make_cnn_weights(s);
  Int8CnnParams p;
  p.int8_io = true;
  auto it = Interpreter::from_model(int8_cnn(s, w, p));
  const size_t image = static_cast<size_t>(s.h * s.w * s.c);
  Rng rng(5);
  std::vector<int8_t> x7(7 * image);
  for (auto& v : x7) v = static_cast<int8_t>(static_cast<int>(rng.below(256)) - 128);
  const auto y7 = run(*it, x7, 7);
  for (int batch : {1, 2}) {
    for (int start = 0; start + batch <= 7; start += batch) {
      std::vector<int8_t> xb(x7.begin() + start * static_cast<long>(image), x7.begin() + (start + batch) * static_cast<long>(image));
      const auto yb = run(*it, xb, batch);
      for (size_t k = 0; k < yb.size(); ++k)
        ASSERT_EQ(yb[k], y7[static_cast<size_t>(start * s.classes) + k]) << "batch " << batch << " start " << start;
    }
  }
}

TEST(Interpreter, Float16WeightsAreFoldedAndEqualTheRoundedFloatModel) {
  const CnnSpec s;
  CnnWeights w = make_cnn_weights(s);
  auto it = Interpreter::from_model(float_cnn(s, w, /*f16=*/true), reference_isa());
  // Four DEQUANTIZE ops fold away at load; CONV, POOL, RESHAPE, FC, SOFTMAX remain.
  EXPECT_EQ(it->num_executed_ops(), 5u);
  for (auto* v : {&w.conv_w, &w.conv_b, &w.fc_w, &w.fc_b})
    for (float& f : *v) f = ref::half_to_float(ref::float_to_half(f));
  const auto x = random_input(3, static_cast<size_t>(3 * s.h * s.w * s.c));
  EXPECT_EQ(run(*it, x, 3), oracle_float(s, w, x, 3));
}

TEST(Interpreter, HybridCnnMatchesHybridKernels) {
  const CnnSpec s;
  const CnnWeights w = make_cnn_weights(s);
  for (bool per_channel : {true, false}) {
    for (bool asym : {false, true}) {
      auto it = Interpreter::from_model(hybrid_cnn(s, w, {per_channel, asym}));
      const int batch = 3;
      const auto x = random_input(7, static_cast<size_t>(batch * s.h * s.w * s.c));
      const auto got = run(*it, x, batch);
      // Oracle: the same chain through the reference kernels directly.
      const QWeights cw = quantize_weights(w.conv_w, per_channel ? s.filters : 1);
      const QWeights fw = quantize_weights(w.fc_w, 1);
      const auto hp = ref::make_hybrid_conv_params(conv_geometry(s, batch), cw.scales, Activation::kRelu);
      EXPECT_EQ(hp.per_channel, per_channel);
      std::vector<int8_t> q(x.size());
      std::vector<float> sc(batch);
      std::vector<int32_t> off(batch);
      std::vector<float> conv(static_cast<size_t>(batch * s.h * s.w * s.filters)), pool(static_cast<size_t>(batch * s.feat()));
      ref::conv2d_hybrid(hp, x.data(), cw.q.data(), w.conv_b.data(), {q.data(), sc.data(), off.data()}, conv.data());
      ref::max_pool2d_f32(pool_geometry(s, batch), Activation::kLinear, conv.data(), pool.data());
      std::vector<float> want(static_cast<size_t>(batch * s.classes));
      ref::fully_connected_hybrid({batch, s.feat(), s.classes, fw.scales[0], asym, Activation::kLinear},
                                  pool.data(), fw.q.data(), w.fc_b.data(), {q.data(), sc.data(), off.data()}, want.data());
      EXPECT_EQ(got, want) << "per_channel " << per_channel << " asym " << asym;
      // And close to the float model (dynamic range quantization error only).
      const auto fl = Interpreter::from_model(float_cnn(s, w, false, /*softmax=*/false), reference_isa());
      const auto yf = run(*fl, x, batch);
      for (size_t i = 0; i < yf.size(); ++i) EXPECT_NEAR(got[i], yf[i], 0.05) << i;
    }
  }
}

TEST(Interpreter, MobileOpsFloatMatchReferenceKernels) {
  auto it = Interpreter::from_model(float_mobile(11), reference_isa());
  const lite::ModelDef& m = it->model();
  auto cst = [&](const char* name) {
    for (const auto& t : m.subgraphs[0].tensors)
      if (t.name == name) {
        const auto d = m.data_of(t);
        std::vector<float> v(d.size() / 4);
        std::memcpy(v.data(), d.data(), d.size());
        return v;
      }
    return std::vector<float>{};
  };
  const int batch = 2;
  const auto x = random_input(9, static_cast<size_t>(batch * 144));
  const auto got = run(*it, x, batch);
  ref::WindowGeometry g;
  g.batch = batch, g.in_h = g.in_w = 6, g.in_c = g.out_c = 4, g.kernel_h = g.kernel_w = 3;
  ref::apply_padding(g, Padding::kSame);
  std::vector<float> d(x.size()), a(x.size()), cc(x.size() * 2), ap(static_cast<size_t>(batch * 72)), mean(static_cast<size_t>(batch * 8)), y(static_cast<size_t>(batch * 3));
  ref::depthwise_conv2d_f32(g, 1, x.data(), cst("dw/w").data(), cst("dw/b").data(), Activation::kRelu6, d.data());
  ref::add_f32(static_cast<int64_t>(x.size()), x.data(), d.data(), Activation::kLinear, a.data());
  for (size_t px = 0; px < x.size() / 4; ++px)
    for (int c = 0; c < 8; ++c) cc[px * 8 + static_cast<size_t>(c)] = c < 4 ? a[px * 4 + static_cast<size_t>(c)] : x[px * 4 + static_cast<size_t>(c - 4)];
  ref::WindowGeometry pg;
  pg.batch = batch, pg.in_h = pg.in_w = 6, pg.in_c = pg.out_c = 8, pg.kernel_h = pg.kernel_w = 2, pg.stride_h = pg.stride_w = 2;
  ref::apply_padding(pg, Padding::kSame);
  ref::average_pool2d_f32(pg, Activation::kLinear, cc.data(), ap.data());
  ref::mean_hw_f32(batch, 3, 3, 8, ap.data(), mean.data());
  ref::fully_connected_f32(batch, 8, 3, mean.data(), cst("fc/w").data(), nullptr, Activation::kLinear, y.data());
  EXPECT_EQ(got, y);
}

TEST(Interpreter, DataPointersStayPutAcrossInvokesAndResultsRepeat) {
  const CnnSpec s;
  auto it = Interpreter::from_model(int8_cnn(s, make_cnn_weights(s), {}));
  it->resize_batch(4);
  auto in = it->input_data<float>(0);
  const auto x = random_input(2, in.size());
  std::copy(x.begin(), x.end(), in.begin());
  it->invoke();
  const std::vector<float> first(it->output_data<float>(0).begin(), it->output_data<float>(0).end());
  const void* in_ptr = it->input_bytes(0).data();
  const void* out_ptr = it->output_bytes(0).data();
  for (int k = 0; k < 3; ++k) {
    it->invoke();  // inputs are not rewritten: they must survive the previous invoke
    EXPECT_EQ(it->input_bytes(0).data(), in_ptr);
    EXPECT_EQ(it->output_bytes(0).data(), out_ptr);
    EXPECT_EQ(std::vector<float>(it->output_data<float>(0).begin(), it->output_data<float>(0).end()), first);
  }
  EXPECT_GT(it->arena_bytes(), 0u);
}

TEST(Interpreter, ReferencePathIsSelectable) {
  const CnnSpec s;
  runtime::InterpreterOptions o;
  o.isa = Isa::kReference;
  auto it = Interpreter::from_model(float_cnn(s, make_cnn_weights(s)), o);
  EXPECT_EQ(it->isa(), Isa::kReference);
}

}  // namespace
}  // namespace qlite::test
