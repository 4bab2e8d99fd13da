// Forward + backward of the seed layer chain (Reshape -> Conv2D(12, 3x3, relu)
// -> MaxPooling2D -> Flatten -> Dense(10)) at batch 32, and each layer alone.
// Reports images/s and GFLOP/s (multiply-adds of conv and dense count 2 FLOPs;
// the conv takes no input gradient, as in the seed model).
#include <benchmark/benchmark.h>

#include <vector>

#include "kernels/float_kernels.h"
#include "qlite/train.h"

using namespace qlite;

namespace {

constexpr int64_t kBatch = 32;
// Per image: conv 26*26*12*9 MACs, dense 2028*10 MACs forward; backward adds
// the conv weight gradient and the dense weight and input gradients.
constexpr double kFwdFlops = 2.0 * (26 * 26 * 12 * 9 + 2028 * 10);
constexpr double kBwdFlops = 2.0 * (26 * 26 * 12 * 9 + 2 * 2028 * 10);

struct SeedChain {
  std::vector<LayerPtr> layers;
  std::vector<Tensor> acts, grads;
  Tensor probe;
  std::unique_ptr<ThreadPool> pool;

  explicit SeedChain(int threads) : pool(std::make_unique<ThreadPool>(threads)) {
    layers::Conv2DOptions co;
    co.activation = Activation::kRelu;
    layers = {layers::Reshape({28, 28, 1}), layers::Conv2D(12, {3, 3}, co), layers::MaxPooling2D(),
              layers::Flatten(), layers::Dense(10)};
    Rng rng(1);
    Shape s{28, 28};
    for (auto& l : layers) {
      const Shape ins[1] = {s};
      s = l->build(ins, rng);
    }
    acts.resize(layers.size() + 1);
    grads.resize(layers.size() + 1);
    acts[0] = Tensor({kBatch, 28, 28});
    for (float& v : acts[0].span_f32()) v = rng.uniform();
    probe = Tensor({kBatch, 10});
    for (float& v : probe.span_f32()) v = rng.uniform(-0.1f, 0.1f);
  }

  void forward(size_t i) {
    const Tensor* in[1] = {&acts[i]};
    layers[i]->forward(in, acts[i + 1], RunContext{true, pool.get()});
  }
  // grads[i] is dL/d acts[i]; the conv (layer 1) computes no input gradient.
  void backward(size_t i) {
    const Tensor* in[1] = {&acts[i]};
    Tensor* din[1] = {i == 1 ? nullptr : &grads[i]};
    const Tensor& dout = i + 1 == layers.size() ? probe : grads[i + 1];
    layers[i]->backward(in, acts[i + 1], dout, din, RunContext{true, pool.get()});
  }
  void step() {
    for (size_t i = 0; i < layers.size(); ++i) forward(i);
    for (size_t i = layers.size(); i-- > 1;) backward(i);
  }
};

void set_counters(benchmark::State& state, double flops_per_image) {
  state.counters["images/s"] = benchmark::Counter(static_cast<double>(kBatch), benchmark::Counter::kIsIterationInvariantRate);
  if (flops_per_image > 0)
    state.counters["GFLOP/s"] = benchmark::Counter(flops_per_image * kBatch * 1e-9,
                                                   benchmark::Counter::kIsIterationInvariantRate);
}

void BM_SeedChainForwardBackward(benchmark::State& state) {
  SeedChain c(static_cast<int>(state.range(0)));
  c.step();
  for (auto _ : state) {
    c.step();
    benchmark::DoNotOptimize(c.layers[1]->params()[0]->grad.f32());
  }
  set_counters(state, kFwdFlops + kBwdFlops);
  state.SetLabel(isa_name(active_isa()));
}
BENCHMARK(BM_SeedChainForwardBackward)->Arg(1)->Arg(2)->UseRealTime();

void BM_SeedChainForward(benchmark::State& state) {
  SeedChain c(1);
  c.step();
  for (auto _ : state)
    for (size_t i = 0; i < c.layers.size(); ++i) c.forward(i);
  set_counters(state, kFwdFlops);
}
BENCHMARK(BM_SeedChainForward);

// One layer of the chain, forward (range 1 = 0) or backward (range 1 = 1).
void BM_SeedLayer(benchmark::State& state) {
  SeedChain c(1);
  c.step();
  const size_t i = static_cast<size_t>(state.range(0));
  const bool bwd = state.range(1) != 0;
  for (auto _ : state) {
    if (bwd) c.backward(i);
    else c.forward(i);
  }
  static const char* names[] = {"reshape", "conv2d", "max_pooling2d", "flatten", "dense"};
  state.SetLabel(std::string(names[i]) + (bwd ? " backward" : " forward"));
  set_counters(state, 0);
}
BENCHMARK(BM_SeedLayer)->ArgsProduct({{1, 2, 4}, {0, 1}});

// The five BatchNormalization passes of a training step (with the ReLU6 the
// reference network fuses into them) on one activation of the reference
// network at batch 32: range 0 the pass (0 sums, 1 sq, 2 normalize, 3
// grad_sums, 4 input_grad), range 1 the channels, range 2 the pixels per
// image. Reports elements/s.
void BM_BatchNormPass(benchmark::State& state) {
  const int pass = static_cast<int>(state.range(0));
  const int64_t c = state.range(1), rows = kBatch * state.range(2), n = rows * c;
  Rng rng(3);
  std::vector<float> x(static_cast<size_t>(n)), dy(x.size()), out(x.size());
  for (float& v : x) v = rng.uniform(-2.0f, 2.0f);
  for (float& v : dy) v = rng.uniform(-0.1f, 0.1f);
  std::vector<float> mean(static_cast<size_t>(c)), inv(mean.size()), gamma(mean.size()), beta(mean.size());
  for (int64_t k = 0; k < c; ++k) mean[k] = rng.uniform(-0.1f, 0.1f), inv[k] = rng.uniform(0.5f, 2.0f),
                                  gamma[k] = rng.uniform(0.5f, 1.5f), beta[k] = rng.uniform(-0.5f, 0.5f);
  std::vector<double> s1(static_cast<size_t>(c), 0.0), s2(s1), a(s1.size(), 1e-4);
  const float hi = 6.0f;
  const Isa isa = active_isa();
  for (auto _ : state) {
    switch (pass) {
      case 0: kernels::float_bn_sums(isa, x.data(), rows, c, s1.data()); break;
      case 1: kernels::float_bn_sq(isa, x.data(), rows, c, mean.data(), s1.data()); break;
      case 2:
        kernels::float_bn_normalize(isa, x.data(), rows, c, gamma.data(), mean.data(), inv.data(), beta.data(), &hi,
                                    out.data());
        break;
      case 3:
        kernels::float_bn_grad_sums(isa, x.data(), dy.data(), rows, c, mean.data(), inv.data(), gamma.data(),
                                    beta.data(), &hi, s1.data(), s2.data());
        break;
      default:
        kernels::float_bn_input_grad(isa, x.data(), dy.data(), rows, c, mean.data(), inv.data(), gamma.data(),
                                     beta.data(), &hi, a.data(), static_cast<double>(rows), s1.data(), s2.data(),
                                     out.data());
    }
    benchmark::DoNotOptimize(out.data());
    benchmark::DoNotOptimize(s1.data());
  }
  static const char* names[] = {"sums", "sq", "normalize", "grad_sums", "input_grad"};
  state.SetLabel(std::string(names[pass]) + " " + isa_name(isa));
  state.counters["elements/s"] =
      benchmark::Counter(static_cast<double>(n), benchmark::Counter::kIsIterationInvariantRate);
}
BENCHMARK(BM_BatchNormPass)->ArgsProduct({{0, 1, 2, 3, 4}, {16, 32}, {14 * 14}})->ArgsProduct({{0, 1, 2, 3, 4}, {64}, {7 * 7}});

}  // namespace

BENCHMARK_MAIN();
