// The QuantizeWrapper's fused passes (output range sweep in the inner
// layer's forward, STE mask inside its backward) give bit for bit what the
// unfused chain gives: a plain float layer with fake-quantized weights, the
// library's Quantizer (reference fake quant and STE), then the layer's own
// backward. Outputs sit exactly on the nudged range ends and on ReLU's 0.
#include <cstring>

#include "qat_test_util.h"

namespace qlite::quant::testing {
namespace {

constexpr float kLo = -2.0f, kHi = 3.0f;

// Output range frozen at [kLo, kHi] (decay 1), so the test knows where the
// nudged ends are before running.
QuantizerSpec frozen_output() {
  QuantizerSpec s = QuantizerSpec::moving_average();
  s.options.ema_decay = 1.0;
  s.options.init_min = kLo;
  s.options.init_max = kHi;
  return s;
}

bool same_bits(const Tensor& a, const Tensor& b) {
  return a.shape() == b.shape() &&
         std::memcmp(a.f32(), b.f32(), static_cast<size_t>(a.numel()) * sizeof(float)) == 0;
}

// inner: built, weights set. Units/channels 0 and 1 get zero weights, so their
// outputs are exactly act(bias): the nudged max and min (or 0 with ReLU).
void run_case(LayerPtr inner, const Shape& sample, bool per_channel, bool want_dx, uint64_t seed) {
  Rng rng(seed);
  inner->build(std::vector<Shape>{sample}, rng);
  Param& k = param(*inner, "kernel");
  Param& b = param(*inner, "bias");
  const int64_t units = b.value.numel();
  const QuantParams op = choose_quant_params(kLo, kHi, kActivationScheme);
  for (int64_t i = 0; i < k.value.numel(); ++i)
    k.value.f32()[i] = i % units < 2 ? 0.0f : rng.uniform(-0.5f, 0.5f);
  for (int64_t c = 0; c < units; ++c) b.value.f32()[c] = rng.uniform(-1.0f, 1.0f);
  b.value.f32()[0] = op.nudged_max;
  b.value.f32()[1] = op.nudged_min;
  const LayerPtr oracle(inner->clone());

  auto cfg = std::make_shared<LayerQuantizeConfig>(
      std::vector<WeightQuantizer>{{"kernel", QuantizerSpec::last_value(kWeightScheme, per_channel, -1)}},
      frozen_output());
  QuantizeWrapper w(inner, cfg);
  w.build(std::vector<Shape>{sample}, rng);

  Shape xs{16};
  xs.insert(xs.end(), sample.begin(), sample.end());
  const Tensor x = random_tensor(xs, seed + 1, -1.0f, 1.0f);
  ThreadPool pool(2);
  const RunContext ctx{true, &pool};
  const Tensor* in[] = {&x};

  Tensor y_w, dx_w;
  w.forward(in, y_w, ctx);
  Tensor dout = random_tensor(y_w.shape(), seed + 2, -1.0f, 1.0f);
  Tensor* din_w[] = {want_dx ? &dx_w : nullptr};
  w.backward(in, y_w, dout, din_w, ctx);

  // The unfused chain.
  Quantizer wq = Quantizer::last_value(kWeightScheme, per_channel, -1);
  Tensor master = param(*oracle, "kernel").value;
  wq.forward(master, param(*oracle, "kernel").value, true);
  Tensor raw, y_o, dz, dx_o, gk;
  oracle->forward(in, raw, ctx);
  QuantizerOptions oo = frozen_output().options;
  Quantizer aq(QuantizerKind::kMovingAverage, oo);
  aq.forward(raw, y_o, true);
  aq.backward(raw, dout, dz);
  Tensor* din_o[] = {want_dx ? &dx_o : nullptr};
  oracle->backward(in, raw, dz, din_o, ctx);
  wq.backward(master, param(*oracle, "kernel").grad, gk);

  // The boundary cases did occur.
  int at_max = 0, at_zero_or_min = 0;
  for (int64_t i = 0; i < raw.numel(); ++i) {
    at_max += raw.f32()[i] == op.nudged_max;
    at_zero_or_min += raw.f32()[i] == op.nudged_min || raw.f32()[i] == 0.0f;
  }
  EXPECT_GT(at_max, 0);
  EXPECT_GT(at_zero_or_min, 0);

  EXPECT_TRUE(same_bits(y_w, y_o)) << "forward output";
  EXPECT_TRUE(same_bits(param(w, "kernel").grad, gk)) << "kernel gradient";
  EXPECT_TRUE(same_bits(param(w, "bias").grad, param(*oracle, "bias").grad)) << "bias gradient";
  if (want_dx) {
    EXPECT_TRUE(same_bits(dx_w, dx_o)) << "input gradient";
  }
  EXPECT_EQ(param(w, "output_min").value.f32()[0], kLo);
  EXPECT_EQ(param(w, "output_max").value.f32()[0], kHi);
}

TEST(QatFusion, ConvMatchesUnfusedChainAtRangeEnds) {
  for (Activation act : {Activation::kLinear, Activation::kRelu, Activation::kRelu6})
    for (bool want_dx : {false, true}) {
      SCOPED_TRACE(::testing::Message() << "act " << static_cast<int>(act) << " dx " << want_dx);
      layers::Conv2DOptions o;
      o.activation = act;
      run_case(layers::Conv2D(5, {3, 3}, o), {7, 6, 2}, true, want_dx, 11);
    }
}

TEST(QatFusion, DenseMatchesUnfusedChainAtRangeEnds) {
  for (Activation act : {Activation::kLinear, Activation::kRelu})
    for (bool want_dx : {false, true}) {
      SCOPED_TRACE(::testing::Message() << "act " << static_cast<int>(act) << " dx " << want_dx);
      layers::DenseOptions o;
      o.activation = act;
      run_case(layers::Dense(6, o), {9}, false, want_dx, 21);
    }
}

}  // namespace
}  // namespace qlite::quant::testing
