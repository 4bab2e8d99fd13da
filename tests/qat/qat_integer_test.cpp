// Inference of a quantized model is the integer computation of docs/QUANTIZATION.md,
// including the two departures it records for FULLY_CONNECTED (as
// TensorFlow Lite 2.9 computes it on x86): the multiplier from the float
// product of the scales, and requantization that rounds ties upward. Checked
// against a step-by-step computation written here (not the library's
// requantize.h).
#include <cmath>
#include <cstdint>

#include "qat_test_util.h"

namespace qlite::quant {
namespace {
using namespace testing;

// ---- docs/QUANTIZATION.md, written out independently ------------------------------
struct Mult {
  int64_t m0;
  int shift;
};
Mult spec_quantize_multiplier(double m) {
  int shift = 0;
  const double q = std::frexp(m, &shift);
  int64_t m0 = static_cast<int64_t>(std::llround(q * 2147483648.0));
  if (m0 == 2147483648LL) {
    m0 /= 2;
    ++shift;
  }
  return {m0, shift};
}
// TFLite x86 GEMM (ruy) form: both roundings send ties toward +infinity.
int32_t half_up_requant(int32_t acc, Mult m) {
  const int left = std::max(m.shift, 0), right = std::max(-m.shift, 0);
  const int64_t x = int64_t{acc} * (int64_t{1} << left);
  const int64_t hi = (x * m.m0 + (int64_t{1} << 30)) >> 31;  // floor((x*m0 + 2^30) / 2^31)
  const int64_t r = right > 0 ? (hi + (int64_t{1} << (right - 1))) >> right : hi;
  return static_cast<int32_t>(r);
}
// scale / zero point from a range (asymmetric int8, zero point rounded in
// TF's unsigned view [0, 255], then shifted by -128).
void spec_qparams(float lo, float hi, float* scale, int32_t* zp) {
  *scale = (hi - lo) / 255.0f;
  *zp = static_cast<int32_t>(std::round(0.0f - lo / *scale)) - 128;
}
int32_t round_half_away(float v) { return static_cast<int32_t>(std::round(v)); }

TEST(QatInteger, TinyModelEqualsHandComputation) {
  Sequential m;
  m.add(layers::Input({2, 2}));
  m.add(layers::Flatten());
  m.add(layers::Dense(2));
  m.build(0);
  auto q = quantize_model(m);
  ASSERT_EQ(q->num_layers(), 4u);  // input, quantize_layer, quant_flatten, quant_dense
  Layer& ql = q->layer(1);
  Layer& dense = q->layer(3);
  param(ql, "min").value.f32()[0] = -0.5f;
  param(ql, "max").value.f32()[0] = 1.5f;
  const std::vector<float> w = {0.5f, -0.25f, 0.8f, 0.1f, -0.6f, 0.3f, 0.05f, -0.7f};  // [in=4, out=2]
  const std::vector<float> b = {0.1f, -0.2f};
  fill(param(dense, "kernel").value, w);
  fill(param(dense, "bias").value, b);
  param(dense, "kernel_min").value.f32()[0] = -0.8f;
  param(dense, "kernel_max").value.f32()[0] = 0.8f;
  param(dense, "output_min").value.f32()[0] = -3.0f;
  param(dense, "output_max").value.f32()[0] = 2.0f;
  const std::vector<float> xs = {0.3f, -0.2f, 1.0f, 0.77f, -0.9f, 1.5f, 0.0f, 2.5f, 0.011f, -0.013f, 1.234f, 0.5f};
  const Tensor x = make({3, 2, 2}, xs);
  const Tensor y = q->predict(x);

  float s_in, s_out;
  int32_t zp_in, zp_out;
  spec_qparams(-0.5f, 1.5f, &s_in, &zp_in);
  spec_qparams(-3.0f, 2.0f, &s_out, &zp_out);
  EXPECT_EQ(zp_in, -64);  // 0.5 / (2/255) = 63.75 -> 64 -> -64
  EXPECT_EQ(zp_out, 25);  // 3 / (5/255) = 153 -> 25
  const float s_w = (0.8f - -0.8f) / 254.0f;  // symmetric narrow range
  int32_t qw[8];
  for (int i = 0; i < 8; ++i) qw[i] = round_half_away(w[i] / s_w);
  const Mult mult = spec_quantize_multiplier(double(s_in * s_w) / double(s_out));  // float product (FC)
  for (int n = 0; n < 3; ++n) {
    int32_t qx[4];
    for (int k = 0; k < 4; ++k)
      qx[k] = std::clamp(round_half_away(xs[n * 4 + k] / s_in) + zp_in, -128, 127);  // QUANTIZE
    for (int j = 0; j < 2; ++j) {
      int32_t acc = static_cast<int32_t>(std::round(double(b[j]) / (double(s_in) * double(s_w))));
      for (int k = 0; k < 4; ++k) acc += qw[k * 2 + j] * (qx[k] - zp_in);
      const int32_t qo = std::clamp(half_up_requant(acc, mult) + zp_out, -128, 127);
      const float want = s_out * static_cast<float>(qo - zp_out);
      EXPECT_EQ(y.f32()[n * 2 + j], want) << "image " << n << " unit " << j << " q " << qo;
    }
  }
  // And the lowered parameters are these numbers.
  const LoweredQuant L = static_cast<const QuantizedLayer&>(dense).lowered();
  EXPECT_EQ(L.op, LoweredOp::kDense);
  EXPECT_EQ(L.input.scale, s_in);
  EXPECT_EQ(L.input.zero_point, zp_in);
  EXPECT_EQ(L.output.scale, s_out);
  EXPECT_EQ(L.output.zero_point, zp_out);
  EXPECT_EQ(L.weights_shape, (Shape{2, 4}));
  for (int j = 0; j < 2; ++j)
    for (int k = 0; k < 4; ++k) EXPECT_EQ(L.weights[j * 4 + k], qw[k * 2 + j]);
  EXPECT_EQ(L.multiplier[0], mult.m0);
  EXPECT_EQ(L.shift[0], mult.shift);
  EXPECT_EQ(L.act_min, -128);
  EXPECT_EQ(L.act_max, 127);
  const LoweredQuant Lq = static_cast<const QuantizedLayer&>(ql).lowered();
  EXPECT_EQ(Lq.op, LoweredOp::kQuantize);
  EXPECT_EQ(Lq.output.zero_point, zp_in);
}

TEST(QatInteger, ReluClampsAtTheZeroPoint) {
  Sequential m;
  m.add(layers::Input({3}));
  layers::DenseOptions o;
  o.activation = Activation::kRelu;
  m.add(layers::Dense(1, o));
  m.build(0);
  auto q = quantize_model(m);
  Layer& dense = q->layer(2);
  param(q->layer(1), "min").value.f32()[0] = -1.0f;
  param(q->layer(1), "max").value.f32()[0] = 1.0f;
  fill(param(dense, "kernel").value, {1.0f, 1.0f, 1.0f});
  param(dense, "output_min").value.f32()[0] = -1.0f;
  param(dense, "output_max").value.f32()[0] = 3.0f;
  const Tensor y = q->predict(make({2, 3}, {-1.0f, -0.5f, 0.2f, 0.5f, 0.25f, 0.1f}));
  EXPECT_EQ(y.f32()[0], 0.0f);  // ReLU: exactly real 0
  const LoweredQuant L = static_cast<const QuantizedLayer&>(dense).lowered();
  EXPECT_EQ(L.act_min, L.output.zero_point);
  // 0.85 on the output grid 4/255 with zero point -64 (unsigned 64): q = round(0.85 / s) - 64.
  const float s = 4.0f / 255.0f;
  EXPECT_NEAR(y.f32()[1], 0.85f, s / 2 + 1e-3);
  const float steps = y.f32()[1] / s;
  EXPECT_NEAR(steps, std::round(steps), 1e-3);
}

TEST(QatInteger, SelectiveModelRunsFloatPartsInFloat) {
  auto m = small_model();
  auto annotated = clone_model(*m, [](const Layer& l) -> LayerPtr {
    LayerPtr c(l.clone());
    return l.type() == "Dense" ? quantize_annotate_layer(c) : c;
  });
  auto q = quantize_apply(*annotated);
  const Tensor x = random_tensor({4, 8, 8}, 7);
  q->compile(Adam(), SparseCategoricalCrossentropy{true});
  FitOptions fo;
  fo.batch_size = 4;
  q->fit(x, labels({0, 1, 2, 1}), fo);  // gives the QuantizeLayer a range
  // The float prefix: same as the float model's layers on the same weights.
  auto prefix = std::make_unique<Sequential>();
  for (size_t i = 0; i < 5; ++i) prefix->add(LayerPtr(q->layer(i).clone()));
  prefix->build(0);
  const Tensor h = prefix->predict(x);
  const TensorQuant in = *layer_output_quant(q->layer(5));
  const LoweredQuant L = static_cast<const QuantizedLayer&>(q->layer(6)).lowered();
  const Tensor y = q->predict(x);
  for (int64_t n = 0; n < 4; ++n)
    for (int64_t j = 0; j < 3; ++j) {
      int64_t acc = L.bias[j];
      for (int64_t k = 0; k < h.dim(1); ++k) {
        const int32_t qx = std::clamp(round_half_away(h.f32()[n * h.dim(1) + k] / in.scale) + in.zero_point, -128, 127);
        acc += int64_t{L.weights[j * h.dim(1) + k]} * (qx - in.zero_point);
      }
      const int32_t qo = std::clamp(half_up_requant(static_cast<int32_t>(acc), {L.multiplier[0], L.shift[0]}) +
                                        L.output.zero_point, -128, 127);
      EXPECT_EQ(y.f32()[n * 3 + j], L.output.scale * static_cast<float>(qo - L.output.zero_point));
    }
}

}  // namespace
}  // namespace qlite::quant
