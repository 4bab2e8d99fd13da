// Training throughput of the seed model: float vs whole-model QAT vs
// Dense-only QAT, one train_step per iteration (synthetic 28x28 images).
// Argument: batch size. The bar: QAT >= 0.75x float images/s.
//
// After the Google Benchmark runs, a summary measures the three models
// interleaved (float, QAT, Dense-only QAT, float, ...) in wall-clock time, so
// that load from other processes hits all of them alike, and prints the
// median images/s and the QAT / float ratios for batch 32 and 500:
//   build/bench/qat_bench --benchmark_filter=none            (summary only)
//   QLITE_QAT_BENCH_REPS=15 build/bench/qat_bench --benchmark_filter=none
#include <benchmark/benchmark.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <vector>

#include "qlite/quant.h"
#include "qlite/train.h"

using namespace qlite;

namespace {

enum class Mode { kFloat, kQat, kQatDense };

struct Setup {
  std::unique_ptr<Model> m;
  Tensor x, y;
};

Setup make(Mode mode, int64_t batch) {
  auto base = make_seed_model(10, 0);
  base->build(0);
  Setup s;
  if (mode == Mode::kFloat) {
    s.m = base->clone();
  } else if (mode == Mode::kQat) {
    s.m = quant::quantize_model(*base);
  } else {
    auto a = clone_model(*base, [](const Layer& l) -> LayerPtr {
      LayerPtr c(l.clone());
      return l.type() == "Dense" ? quant::quantize_annotate_layer(c) : c;
    });
    s.m = quant::quantize_apply(*a);
  }
  s.m->compile(Adam(), SparseCategoricalCrossentropy{true});
  s.x = Tensor({batch, 28, 28});
  s.y = Tensor({batch}, DType::kInt32);
  Rng rng(1);
  for (int64_t i = 0; i < s.x.numel(); ++i) s.x.f32()[i] = rng.uniform();
  for (int64_t i = 0; i < batch; ++i) s.y.data<int32_t>()[i] = static_cast<int32_t>(rng.below(10));
  s.m->train_step(s.x, s.y);  // plan and buffers
  return s;
}

void run(benchmark::State& state, Mode mode) {
  const int64_t batch = state.range(0);
  Setup s = make(mode, batch);
  for (auto _ : state) benchmark::DoNotOptimize(s.m->train_step(s.x, s.y));
  state.counters["images/s"] =
      benchmark::Counter(static_cast<double>(batch), benchmark::Counter::kIsIterationInvariantRate);
}

void BM_TrainStepFloat(benchmark::State& s) { run(s, Mode::kFloat); }
void BM_TrainStepQat(benchmark::State& s) { run(s, Mode::kQat); }
void BM_TrainStepQatDenseOnly(benchmark::State& s) { run(s, Mode::kQatDense); }

BENCHMARK(BM_TrainStepFloat)->Arg(32)->Arg(500)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_TrainStepQat)->Arg(32)->Arg(500)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_TrainStepQatDenseOnly)->Arg(32)->Arg(500)->Unit(benchmark::kMillisecond)->UseRealTime();

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const size_t n = v.size();
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

// Images/s of `steps` train steps, wall clock.
double rate(Setup& s, int steps) {
  const auto t0 = std::chrono::steady_clock::now();
  for (int i = 0; i < steps; ++i) benchmark::DoNotOptimize(s.m->train_step(s.x, s.y));
  const double sec = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return static_cast<double>(steps * s.x.dim(0)) / sec;
}

void interleaved_summary() {
  const char* env = std::getenv("QLITE_QAT_BENCH_REPS");
  const int reps = env ? std::max(1, std::atoi(env)) : 9;
  for (int64_t batch : {int64_t{32}, int64_t{500}}) {
    Setup f = make(Mode::kFloat, batch), q = make(Mode::kQat, batch), d = make(Mode::kQatDense, batch);
    const int steps = batch >= 500 ? 4 : 60;  // ~0.1 s per measurement
    std::vector<double> rf, rq, rd, ratio_q, ratio_d;
    for (int r = 0; r < reps; ++r) {
      const double a = rate(f, steps), b = rate(q, steps), c = rate(d, steps);
      rf.push_back(a);
      rq.push_back(b);
      rd.push_back(c);
      ratio_q.push_back(b / a);
      ratio_d.push_back(c / a);
    }
    std::printf("batch %lld, %d interleaved reps x %d steps, medians: float %.0f img/s, QAT %.0f img/s, "
                "Dense-only QAT %.0f img/s; QAT/float %.3f, Dense-only/float %.3f\n",
                static_cast<long long>(batch), reps, steps, median(rf), median(rq), median(rd), median(ratio_q),
                median(ratio_d));
  }
}

}  // namespace

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  interleaved_summary();
  return 0;
}
