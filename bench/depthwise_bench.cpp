// Micro-benchmarks of the packed int8 depthwise convolution, single thread:
// the issue-5 shape (64 channels, 3x3, SAME, 56x56), MobileNet v1/v2
// depthwise layers, the reference network's 16- and 32-channel layers and
// micro_speech's multiplier-8 10x8 layer. Argument 0: 0 = reference, 1 = avx2, 2 = avx512.
//   build/bench/depthwise_bench --benchmark_repetitions=20 --benchmark_report_aggregates_only=true
#include <benchmark/benchmark.h>

#include <algorithm>
#include <chrono>
#include <vector>

#include "kernels/int8_kernels_x86.h"
#include "kernels/reference/int8_kernels.h"
#include "qlite/core.h"

namespace {

using namespace qlite;

// One depthwise layer (SAME padding) timed on `isa`.
void run_depthwise(benchmark::State& state, Isa isa, int in_h, int in_w, int in_c, int dm, int kh, int kw,
                   int stride) {
  if (!kernels::int8_isa_available(isa)) {
    state.SkipWithError("ISA not available on this CPU");
    return;
  }
  const int c = in_c * dm;
  Rng rng(2);
  ref::DepthwiseInt8Params p;
  p.g.in_h = in_h;
  p.g.in_w = in_w;
  p.g.in_c = in_c;
  p.g.out_c = c;
  p.depth_multiplier = dm;
  p.g.kernel_h = kh;
  p.g.kernel_w = kw;
  p.g.stride_h = p.g.stride_w = stride;
  ref::apply_padding(p.g, Padding::kSame);
  p.input_zero_point = 4;
  p.output_zero_point = -2;
  std::vector<float> ws(static_cast<size_t>(c));
  for (int i = 0; i < c; ++i) ws[static_cast<size_t>(i)] = 0.01f * (1.0f + 0.02f * i);
  p.requant = ref::make_requant(0.02f, ws, 0.04f);
  p.act = ref::fused_activation_range(Activation::kRelu6, 0.04f, -2);
  std::vector<int8_t> x(static_cast<size_t>(in_h) * in_w * in_c), wt(static_cast<size_t>(kh) * kw * c);
  for (auto& v : x) v = static_cast<int8_t>(static_cast<int>(rng.below(256)) - 128);
  for (auto& v : wt) v = static_cast<int8_t>(static_cast<int>(rng.below(256)) - 128);
  std::vector<int32_t> bias(static_cast<size_t>(c), -50);
  const auto pd = kernels::pack_depthwise_conv2d_int8(isa, p, wt.data(), bias.data());
  std::vector<uint8_t> scratch(pd.scratch_bytes);
  std::vector<int8_t> out(static_cast<size_t>(p.g.out_h) * p.g.out_w * c);
  // The machine is shared: besides the usual time, report the fastest single
  // call, which a preemption cannot inflate.
  double best = 1e30;
  for (auto _ : state) {
    const auto t0 = std::chrono::steady_clock::now();
    kernels::depthwise_conv2d_int8(pd, 1, x.data(), out.data(), scratch.data());
    benchmark::DoNotOptimize(out.data());
    best = std::min(best, std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - t0).count());
  }
  state.counters["min_us"] = best;
  const double macs = double(kh) * kw * p.g.out_h * p.g.out_w * c;
  state.counters["GMAC/s"] = benchmark::Counter(macs / 1e9, benchmark::Counter::kIsIterationInvariantRate);
}

// args: isa, size (h = w), channels, stride
void BM_Depthwise3x3(benchmark::State& state) {
  const int hw = static_cast<int>(state.range(1)), c = static_cast<int>(state.range(2));
  run_depthwise(state, static_cast<Isa>(state.range(0)), hw, hw, c, 1, 3, 3, static_cast<int>(state.range(3)));
}

// micro_speech_quantized.tflite's layer: 49x40x1, depth multiplier 8, 10x8
// kernel, stride 2. args: isa.
void BM_DepthwiseMicroSpeech(benchmark::State& state) {
  run_depthwise(state, static_cast<Isa>(state.range(0)), 49, 40, 1, 8, 10, 8, 2);
}

// The issue-5 target shape first, then MobileNet v1 depthwise layers (224 input).
BENCHMARK(BM_Depthwise3x3)
    ->ArgNames({"isa", "hw", "c", "s"})
    ->Args({2, 56, 64, 1})
    ->Args({1, 56, 64, 1})
    ->Args({2, 28, 64, 1})
    ->Args({2, 112, 32, 1})
    ->Args({2, 112, 64, 2})
    ->Args({2, 56, 128, 1})
    ->Args({2, 28, 256, 1})
    ->Args({2, 14, 512, 1})
    ->Args({2, 14, 512, 2})
    ->Args({2, 7, 1024, 1})
    ->Args({1, 112, 32, 1})
    ->Args({1, 14, 512, 1})
    // The reference MobileNet-style network's narrow layers (16 and 32 channels at 14x14).
    ->Args({2, 14, 16, 1})
    ->Args({2, 14, 32, 2})
    ->Args({1, 14, 16, 1})
    ->Args({1, 14, 32, 2})
    ->Unit(benchmark::kMicrosecond);

BENCHMARK(BM_DepthwiseMicroSpeech)->ArgNames({"isa"})->Arg(0)->Arg(1)->Arg(2)->Unit(benchmark::kMicrosecond);

}  // namespace

BENCHMARK_MAIN();
