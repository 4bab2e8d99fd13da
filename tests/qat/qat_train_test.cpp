// Training mode: STE gradients against finite differences, EMA updates only
// in training, per-channel weight ranges, custom bit widths.
#include <cmath>
#include <set>

#include "qat_test_util.h"

namespace qlite::quant {
namespace {
using namespace testing;

// Input(4) -> Dense(3), quantized; returns the model and its Dense wrapper.
std::unique_ptr<Model> dense_qat(Layer** wrapper, QuantizeConfigPtr cfg = nullptr) {
  Sequential m;
  m.add(layers::Input({4}));
  m.add(layers::Dense(3));
  m.build(5);
  auto annotated = clone_model(m, [&](const Layer& l) -> LayerPtr {
    LayerPtr c(l.clone());
    return l.type() == "Dense" ? quantize_annotate_layer(c, cfg ? cfg : quantize_config_with_bits(l, 8, 8)) : c;
  });
  auto q = quantize_apply(*annotated);
  *wrapper = q->find_layer("quant_dense");
  return q;
}

// sum_j r_j * (x W + b)_j for a float Dense with kernel w -- the function the
// STE differentiates where no output is clipped.
double float_dense_loss(const Tensor& x, const Tensor& w, const Tensor& b, const std::vector<float>& r) {
  double s = 0;
  const int64_t n = x.dim(0), k = w.dim(0), u = w.dim(1);
  for (int64_t i = 0; i < n; ++i)
    for (int64_t j = 0; j < u; ++j) {
      double z = b.f32()[j];
      for (int64_t t = 0; t < k; ++t) z += double(x.f32()[i * k + t]) * w.f32()[t * u + j];
      s += r[static_cast<size_t>(i * u + j)] * z;
    }
  return s;
}

TEST(QatTraining, SteGradientsMatchFiniteDifferencesInsideTheRange) {
  Layer* w = nullptr;
  auto q = dense_qat(&w);
  // The second row is scaled so that some outputs leave the initial [-6, 6]
  // output range: their gradient must be exactly zero.
  Tensor x = random_tensor({2, 4}, 11, -1.0f, 1.0f);
  for (int t = 0; t < 4; ++t) x.f32()[4 + t] *= 40.0f;
  const std::vector<float> r = {0.3f, -0.7f, 1.1f, 0.5f, -0.2f, 0.9f};
  Tensor out, dx;
  Tensor dout({2, 3});
  fill(dout, r);
  const RunContext ctx{true, nullptr};
  const Tensor* in[] = {&x};
  w->forward(in, out, ctx);
  Tensor* din[] = {&dx};
  w->backward(in, out, dout, din, ctx);

  // The fake-quantized kernel the forward used, reconstructed from the ranges.
  Param& kernel = param(*w, "kernel");
  const float m = std::max(std::fabs(param(*w, "kernel_min").value.f32()[0]), param(*w, "kernel_max").value.f32()[0]);
  const float scale = 2 * m / 254.0f;
  Tensor wq(kernel.value.shape());
  for (int64_t i = 0; i < wq.numel(); ++i) wq.f32()[i] = std::round(kernel.value.f32()[i] / scale) * scale;
  const Tensor& bias = param(*w, "bias").value;
  const float lo = param(*w, "output_min").value.f32()[0], hi = param(*w, "output_max").value.f32()[0];
  std::vector<float> rm = r;  // r masked where the raw output left the range
  int clipped = 0;
  for (int64_t i = 0; i < 2; ++i)
    for (int64_t j = 0; j < 3; ++j) {
      double z = bias.f32()[j];
      for (int64_t t = 0; t < 4; ++t) z += double(x.f32()[i * 4 + t]) * wq.f32()[t * 3 + j];
      if (z < lo - 0.05 || z > hi + 0.05) {
        rm[static_cast<size_t>(i * 3 + j)] = 0.0f;
        ++clipped;
      } else {
        ASSERT_TRUE(z > lo + 0.05 && z < hi - 0.05) << "output too close to the range edge";
      }
    }
  ASSERT_GT(clipped, 0);
  ASSERT_LT(clipped, 6);
  const double h = 1e-3;
  auto fd = [&](Tensor& v, int64_t i, const Tensor& xx, const Tensor& ww) {
    const float keep = v.f32()[i];
    v.f32()[i] = keep + float(h);
    const double up = float_dense_loss(xx, ww, bias, rm);
    v.f32()[i] = keep - float(h);
    const double dn = float_dense_loss(xx, ww, bias, rm);
    v.f32()[i] = keep;
    return (up - dn) / (2 * h);
  };
  for (int64_t i = 0; i < x.numel(); ++i) EXPECT_NEAR(dx.f32()[i], fd(x, i, x, wq), 2e-3) << "dx " << i;
  // Every weight is inside its own LastValue range, so the STE passes the
  // gradient with respect to the fake-quantized kernel straight through.
  for (int64_t i = 0; i < wq.numel(); ++i) EXPECT_NEAR(kernel.grad.f32()[i], fd(wq, i, x, wq), 2e-3) << "dW " << i;
}

TEST(QatTraining, QuantizeLayerSteMasksOutsideItsRange) {
  QuantizeLayer ql;
  Rng rng(0);
  const Shape s{3};
  ql.build(std::span<const Shape>(&s, 1), rng);
  param(ql, "min").value.f32()[0] = -1.0f;
  param(ql, "max").value.f32()[0] = 1.0f;
  // AllValues widens the range to [-1, 2] from this batch; 5 and -3 fall outside.
  const Tensor x = make({1, 3}, {-3.0f, 0.25f, 2.0f});
  const Tensor x2 = make({1, 3}, {5.0f, 0.25f, -0.5f});
  Tensor out, dx;
  const RunContext ctx{true, nullptr};
  const Tensor* in[] = {&x};
  ql.forward(in, out, ctx);  // range becomes [-3, 2]
  const Tensor* in2[] = {&x2};
  ql.forward(in2, out, ctx);  // [-3, 5]
  EXPECT_EQ(param(ql, "min").value.f32()[0], -3.0f);
  EXPECT_EQ(param(ql, "max").value.f32()[0], 5.0f);
  Tensor dout = make({1, 3}, {1.0f, 2.0f, 3.0f});
  Tensor* din[] = {&dx};
  ql.backward(in2, out, dout, din, ctx);
  // [-3, 5]: scale 8/255, zero point 96 (unsigned view), nudged max
  // (255 - 96) * 8/255 = 4.988 < 5, so 5 lies outside and gets no gradient.
  EXPECT_EQ(dx.f32()[0], 0.0f);
  EXPECT_EQ(dx.f32()[1], 2.0f);
  EXPECT_EQ(dx.f32()[2], 3.0f);
}

TEST(QatTraining, EmaMovesInTrainingOnly) {
  Layer* w = nullptr;
  auto q = dense_qat(&w);
  const Tensor x = random_tensor({5, 4}, 2, -1.0f, 1.0f);
  Tensor out;
  const Tensor* in[] = {&x};
  // Inference: no range moves.
  w->forward(in, out, RunContext{false, nullptr});
  EXPECT_EQ(param(*w, "output_min").value.f32()[0], -6.0f);
  EXPECT_EQ(param(*w, "output_max").value.f32()[0], 6.0f);
  q->predict(x);
  EXPECT_EQ(param(*w, "output_min").value.f32()[0], -6.0f);
  EXPECT_EQ(param(q->layer(1), "max").value.f32()[0], 0.0f);  // AllValues untouched by predict
  // Training: the batch range of the raw output, extended to 0, enters the EMA
  // with weight 1 - 0.999.
  Param& kernel = param(*w, "kernel");
  const float m = std::max(std::fabs(param(*w, "kernel_min").value.f32()[0]), param(*w, "kernel_max").value.f32()[0]);
  const float scale = 2 * m / 254.0f;
  float bmin = 0.0f, bmax = 0.0f;
  for (int64_t i = 0; i < 5; ++i)
    for (int64_t j = 0; j < 3; ++j) {
      float z = 0.0f;  // bias is 0 after build
      for (int64_t t = 0; t < 4; ++t) z += x.f32()[i * 4 + t] * (std::round(kernel.value.f32()[t * 3 + j] / scale) * scale);
      bmin = std::min(bmin, z);
      bmax = std::max(bmax, z);
    }
  w->forward(in, out, RunContext{true, nullptr});
  const float d = static_cast<float>(1.0 - 0.999);
  EXPECT_NEAR(param(*w, "output_min").value.f32()[0], -6.0f - (-6.0f - bmin) * d, 1e-6);
  EXPECT_NEAR(param(*w, "output_max").value.f32()[0], 6.0f - (6.0f - bmax) * d, 1e-6);
}

TEST(QatTraining, ConvWeightRangesArePerOutputChannel) {
  auto m = small_model();
  auto q = quantize_model(*m);
  Layer& conv = *q->find_layer("quant_conv2d");
  const Tensor& k = param(conv, "kernel").value;  // HWIO [3, 3, 1, 4]
  const Tensor& lo = param(conv, "kernel_min").value;
  const Tensor& hi = param(conv, "kernel_max").value;
  ASSERT_EQ(lo.shape(), Shape{4});
  for (int64_t c = 0; c < 4; ++c) {
    float a = 0;
    for (int64_t i = 0; i < 9; ++i) a = std::max(a, std::fabs(k.f32()[i * 4 + c]));
    EXPECT_EQ(hi.f32()[c], a);
    EXPECT_EQ(lo.f32()[c], -a);
  }
  const LoweredQuant L = static_cast<const QuantizedLayer&>(conv).lowered();
  ASSERT_EQ(L.weight_scales.size(), 4u);
  EXPECT_EQ(L.weights_shape, (Shape{4, 3, 3, 1}));
  for (int64_t c = 0; c < 4; ++c) {
    EXPECT_FLOAT_EQ(L.weight_scales[c], hi.f32()[c] / 127.0f);
    int8_t big = 0;
    for (int64_t i = 0; i < 9; ++i) big = std::max<int8_t>(big, std::abs(L.weights[c * 9 + i]));
    EXPECT_EQ(big, 127);  // each channel's largest weight uses the full narrow range
  }
}

TEST(QatTraining, FourBitWeightsUseFifteenLevels) {
  Layer* w8 = nullptr;
  Layer* w4 = nullptr;
  auto q8 = dense_qat(&w8);
  auto q4 = dense_qat(&w4, quantize_config_with_bits(*layers::Dense(3), 4, 8));
  const LoweredQuant l8 = static_cast<const QuantizedLayer*>(w8)->lowered();
  const LoweredQuant l4 = static_cast<const QuantizedLayer*>(w4)->lowered();
  const Tensor& k = param(*w4, "kernel").value;
  float a = 0;
  for (int64_t i = 0; i < k.numel(); ++i) a = std::max(a, std::fabs(k.f32()[i]));
  EXPECT_FLOAT_EQ(l4.weight_scales[0], a / 7.0f);
  EXPECT_FLOAT_EQ(l8.weight_scales[0], a / 127.0f);
  std::set<int> levels;
  for (int8_t v : l4.weights) {
    EXPECT_LE(std::abs(v), 7);
    levels.insert(v);
  }
  EXPECT_GT(levels.size(), 3u);
  // The training forward's fake-quantized weights sit on the same 4-bit grid.
  const Tensor x = random_tensor({2, 4}, 9);
  Tensor out;
  const Tensor* in[] = {&x};
  w4->forward(in, out, RunContext{true, nullptr});
  std::set<float> seen;
  for (const Param* p : static_cast<const QuantizeWrapper*>(w4)->inner().params())
    if (p->name == "kernel")
      for (int64_t i = 0; i < p->value.numel(); ++i) {
        const float v = p->value.f32()[i] / l4.weight_scales[0];
        EXPECT_NEAR(v, std::round(v), 1e-4);
        EXPECT_LE(std::fabs(v), 7.0f + 1e-4f);
      }
}

}  // namespace
}  // namespace qlite::quant
