// Training throughput of the seed model: float vs whole-model QAT vs
// Dense-only QAT, one train_step per iteration (synthetic 28x28 images).
// Argument: batch size. The bar: QAT >= 0.75x float images/s.
//   build-qat/bench/qat_bench --benchmark_repetitions=3 --benchmark_report_aggregates_only=true
#include <benchmark/benchmark.h>

#include "qlite/quant.h"
#include "qlite/train.h"

using namespace qlite;

namespace {

enum class Mode { kFloat, kQat, kQatDense };

void run(benchmark::State& state, Mode mode) {
  const int64_t batch = state.range(0);
  auto base = make_seed_model(10, 0);
  base->build(0);
  std::unique_ptr<Model> m;
  if (mode == Mode::kFloat) {
    m = base->clone();
  } else if (mode == Mode::kQat) {
    m = quant::quantize_model(*base);
  } else {
    auto a = clone_model(*base, [](const Layer& l) -> LayerPtr {
      LayerPtr c(l.clone());
      return l.type() == "Dense" ? quant::quantize_annotate_layer(c) : c;
    });
    m = quant::quantize_apply(*a);
  }
  m->compile(Adam(), SparseCategoricalCrossentropy{true});
  Tensor x({batch, 28, 28});
  Tensor y({batch}, DType::kInt32);
  Rng rng(1);
  for (int64_t i = 0; i < x.numel(); ++i) x.f32()[i] = rng.uniform();
  for (int64_t i = 0; i < batch; ++i) y.data<int32_t>()[i] = static_cast<int32_t>(rng.below(10));
  m->train_step(x, y);  // plan and buffers
  for (auto _ : state) benchmark::DoNotOptimize(m->train_step(x, y));
  state.counters["images/s"] =
      benchmark::Counter(static_cast<double>(batch), benchmark::Counter::kIsIterationInvariantRate);
}

void BM_TrainStepFloat(benchmark::State& s) { run(s, Mode::kFloat); }
void BM_TrainStepQat(benchmark::State& s) { run(s, Mode::kQat); }
void BM_TrainStepQatDenseOnly(benchmark::State& s) { run(s, Mode::kQatDense); }

BENCHMARK(BM_TrainStepFloat)->Arg(32)->Arg(500)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_TrainStepQat)->Arg(32)->Arg(500)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_TrainStepQatDenseOnly)->Arg(32)->Arg(500)->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
