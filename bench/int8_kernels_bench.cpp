// Micro-benchmarks of the optimized int8 kernels, single thread, with GOP/s
// (1 MAC = 2 ops) and two percentages of peak: "%peak" against the peak of the
// path measured by this binary at start-up (a loop of independent vpdpbusd
// zmm / vpmaddwd+vpaddd ymm, CPU time; printed in the context as
// int8_peak_gops_*), and "%844" against the 844 GOP/s the issue quotes for
// AVX-512 VNNI (210 for AVX2). The measured peak is what this CPU can do:
// a Zen 4 core runs one 512-bit vpdpbusd per cycle, not two.
// Argument: 0 = reference, 1 = avx2, 2 = avx512.
//   build-conv/bench/int8_kernels_bench --benchmark_repetitions=9 --benchmark_report_aggregates_only=true
#include <benchmark/benchmark.h>

#include <algorithm>
#include <ctime>
#include <string>
#include <vector>

#include "kernels/int8_kernels_x86.h"
#include "kernels/reference/int8_kernels.h"
#include "qlite/core.h"

namespace {

using namespace qlite;

double quoted_peak_gops(Isa isa) { return isa == Isa::kAvx512 ? 844.0 : isa == Isa::kAvx2 ? 210.0 : 0.0; }
double g_measured_peak[3] = {0, 0, 0};  // by Isa value

double thread_seconds() {
  timespec t;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
  return static_cast<double>(t.tv_sec) + 1e-9 * static_cast<double>(t.tv_nsec);
}

// Independent dot-product instructions in inline assembly (this file is built
// for baseline x86-64; it runs only after the CPU check). 12 accumulators
// cover the latency. Median of 7 runs of 2M iterations, CPU time.
double measure_peak_gops(Isa isa) {
#if defined(__x86_64__)
  if (isa == Isa::kReference || !kernels::int8_isa_available(isa)) return 0.0;
  std::vector<double> runs;
  const long n = 2000000;
  for (int rep = 0; rep < 7; ++rep) {
    const double t0 = thread_seconds();
    for (long i = 0; i < n; ++i) {
      if (isa == Isa::kAvx512)
        __asm__ volatile(
            "vpdpbusd %%zmm14,%%zmm15,%%zmm0\n vpdpbusd %%zmm14,%%zmm15,%%zmm1\n vpdpbusd %%zmm14,%%zmm15,%%zmm2\n"
            "vpdpbusd %%zmm14,%%zmm15,%%zmm3\n vpdpbusd %%zmm14,%%zmm15,%%zmm4\n vpdpbusd %%zmm14,%%zmm15,%%zmm5\n"
            "vpdpbusd %%zmm14,%%zmm15,%%zmm6\n vpdpbusd %%zmm14,%%zmm15,%%zmm7\n vpdpbusd %%zmm14,%%zmm15,%%zmm8\n"
            "vpdpbusd %%zmm14,%%zmm15,%%zmm9\n vpdpbusd %%zmm14,%%zmm15,%%zmm10\n vpdpbusd %%zmm14,%%zmm15,%%zmm11\n" ::
                : "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", "xmm7", "xmm8", "xmm9", "xmm10", "xmm11");
      else
        __asm__ volatile(
            "vpmaddwd %%ymm14,%%ymm15,%%ymm12\n vpaddd %%ymm12,%%ymm0,%%ymm0\n"
            "vpmaddwd %%ymm14,%%ymm15,%%ymm13\n vpaddd %%ymm13,%%ymm1,%%ymm1\n"
            "vpmaddwd %%ymm14,%%ymm15,%%ymm12\n vpaddd %%ymm12,%%ymm2,%%ymm2\n"
            "vpmaddwd %%ymm14,%%ymm15,%%ymm13\n vpaddd %%ymm13,%%ymm3,%%ymm3\n"
            "vpmaddwd %%ymm14,%%ymm15,%%ymm12\n vpaddd %%ymm12,%%ymm4,%%ymm4\n"
            "vpmaddwd %%ymm14,%%ymm15,%%ymm13\n vpaddd %%ymm13,%%ymm5,%%ymm5\n"
            "vpmaddwd %%ymm14,%%ymm15,%%ymm12\n vpaddd %%ymm12,%%ymm6,%%ymm6\n"
            "vpmaddwd %%ymm14,%%ymm15,%%ymm13\n vpaddd %%ymm13,%%ymm7,%%ymm7\n"
            "vpmaddwd %%ymm14,%%ymm15,%%ymm12\n vpaddd %%ymm12,%%ymm8,%%ymm8\n"
            "vpmaddwd %%ymm14,%%ymm15,%%ymm13\n vpaddd %%ymm13,%%ymm9,%%ymm9\n"
            "vpmaddwd %%ymm14,%%ymm15,%%ymm12\n vpaddd %%ymm12,%%ymm10,%%ymm10\n"
            "vpmaddwd %%ymm14,%%ymm15,%%ymm13\n vpaddd %%ymm13,%%ymm11,%%ymm11\n" ::
                : "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", "xmm7", "xmm8", "xmm9", "xmm10", "xmm11",
                  "xmm12", "xmm13");
    }
    const double s = thread_seconds() - t0;
    // 12 instructions x lanes x MACs per lane x 2 ops.
    const double ops_per_iter = isa == Isa::kAvx512 ? 12.0 * 16 * 4 * 2 : 12.0 * 8 * 2 * 2;
    runs.push_back(s > 0 ? n * ops_per_iter / s / 1e9 : 0.0);
  }
  std::sort(runs.begin(), runs.end());
  return runs[runs.size() / 2];
#else
  (void)isa;
  return 0.0;
#endif
}

bool setup(benchmark::State& state, Isa& isa) {
  isa = static_cast<Isa>(state.range(0));
  if (!kernels::int8_isa_available(isa)) {
    state.SkipWithError("ISA not available on this CPU");
    return false;
  }
  return true;
}

void report(benchmark::State& state, Isa isa, double ops) {
  state.counters["GOP/s"] = benchmark::Counter(ops / 1e9, benchmark::Counter::kIsIterationInvariantRate);
  const double measured = g_measured_peak[static_cast<int>(isa)];
  if (measured > 0)
    state.counters["%peak"] =
        benchmark::Counter(ops / 1e9 / measured * 100.0, benchmark::Counter::kIsIterationInvariantRate);
  if (quoted_peak_gops(isa) > 0)
    state.counters["%844"] =
        benchmark::Counter(ops / 1e9 / quoted_peak_gops(isa) * 100.0, benchmark::Counter::kIsIterationInvariantRate);
}

std::vector<int8_t> rand_i8(Rng& rng, size_t n) {
  std::vector<int8_t> v(n);
  for (auto& x : v) x = static_cast<int8_t>(static_cast<int>(rng.below(256)) - 128);
  return v;
}

ref::ConvInt8Params conv_params(int h, int w, int cin, int cout, int k, Padding pad) {
  ref::ConvInt8Params p;
  p.g.in_h = h;
  p.g.in_w = w;
  p.g.in_c = cin;
  p.g.out_c = cout;
  p.g.kernel_h = p.g.kernel_w = k;
  ref::apply_padding(p.g, pad);
  p.input_zero_point = -3;
  p.output_zero_point = 7;
  std::vector<float> ws(static_cast<size_t>(cout));
  for (int c = 0; c < cout; ++c) ws[static_cast<size_t>(c)] = 0.002f * (1.0f + 0.01f * c);
  p.requant = ref::make_requant(0.02f, ws, 0.05f);
  p.act = ref::fused_activation_range(Activation::kRelu, 0.05f, 7);
  return p;
}

void run_conv(benchmark::State& state, int h, int w, int cin, int cout, int k, Padding pad) {
  Isa isa;
  if (!setup(state, isa)) return;
  Rng rng(1);
  const ref::ConvInt8Params p = conv_params(h, w, cin, cout, k, pad);
  const auto x = rand_i8(rng, static_cast<size_t>(h) * w * cin);
  const auto wt = rand_i8(rng, static_cast<size_t>(cout) * k * k * cin);
  std::vector<int32_t> bias(static_cast<size_t>(cout), 100);
  const auto pc = kernels::pack_conv2d_int8(isa, p, wt.data(), bias.data());
  std::vector<uint8_t> scratch(pc.scratch_bytes);
  std::vector<int8_t> out(static_cast<size_t>(p.g.out_h) * p.g.out_w * cout);
  for (auto _ : state) {
    kernels::conv2d_int8(pc, 1, x.data(), out.data(), scratch.data());
    benchmark::DoNotOptimize(out.data());
  }
  report(state, isa, 2.0 * p.g.out_h * p.g.out_w * cout * k * k * cin);
}

void BM_Conv3x3_64to64_56x56_Same(benchmark::State& s) { run_conv(s, 56, 56, 64, 64, 3, Padding::kSame); }
void BM_SeedConv3x3_28x28x1to12_Valid(benchmark::State& s) { run_conv(s, 28, 28, 1, 12, 3, Padding::kValid); }
void BM_Conv1x1_64to128_28x28(benchmark::State& s) { run_conv(s, 28, 28, 64, 128, 1, Padding::kValid); }
// MobileNetV2's costliest 1x1 convolutions at 224x224: the first expansion
// (16 -> 96 at 112x112), an expansion and a projection at 56x56.
void BM_Conv1x1_16to96_112x112(benchmark::State& s) { run_conv(s, 112, 112, 16, 96, 1, Padding::kValid); }
void BM_Conv1x1_24to144_56x56(benchmark::State& s) { run_conv(s, 56, 56, 24, 144, 1, Padding::kValid); }
void BM_Conv1x1_144to24_56x56(benchmark::State& s) { run_conv(s, 56, 56, 144, 24, 1, Padding::kValid); }

void BM_Depthwise3x3_64ch_56x56_Same(benchmark::State& state) {
  Isa isa;
  if (!setup(state, isa)) return;
  Rng rng(2);
  ref::DepthwiseInt8Params p;
  p.g.in_h = p.g.in_w = 56;
  p.g.in_c = p.g.out_c = 64;
  p.g.kernel_h = p.g.kernel_w = 3;
  ref::apply_padding(p.g, Padding::kSame);
  p.input_zero_point = 4;
  p.output_zero_point = -2;
  std::vector<float> ws(64);
  for (int c = 0; c < 64; ++c) ws[static_cast<size_t>(c)] = 0.01f * (1.0f + 0.02f * c);
  p.requant = ref::make_requant(0.02f, ws, 0.04f);
  p.act = ref::fused_activation_range(Activation::kRelu6, 0.04f, -2);
  const auto x = rand_i8(rng, 56 * 56 * 64), wt = rand_i8(rng, 9 * 64);
  std::vector<int32_t> bias(64, -50);
  const auto pd = kernels::pack_depthwise_conv2d_int8(isa, p, wt.data(), bias.data());
  std::vector<uint8_t> scratch(pd.scratch_bytes);
  std::vector<int8_t> out(56 * 56 * 64);
  for (auto _ : state) {
    kernels::depthwise_conv2d_int8(pd, 1, x.data(), out.data(), scratch.data());
    benchmark::DoNotOptimize(out.data());
  }
  report(state, isa, 2.0 * 56 * 56 * 64 * 9);
}

// FULLY_CONNECTED in_features -> out_features at batch state.range(1).
void fully_connected_case(benchmark::State& state, int in_features, int out_features, uint64_t seed,
                          int32_t in_zp, int32_t out_zp, float in_scale, float w_scale, float out_scale, int32_t bias_v) {
  Isa isa;
  if (!setup(state, isa)) return;
  const int batch = static_cast<int>(state.range(1));
  Rng rng(seed);
  ref::FullyConnectedInt8Params p;
  p.batch = batch;
  p.in_features = in_features;
  p.out_features = out_features;
  p.input_zero_point = in_zp;
  p.output_zero_point = out_zp;
  p.requant = ref::make_requant(in_scale, {w_scale}, out_scale);
  const auto x = rand_i8(rng, static_cast<size_t>(batch) * in_features);
  const auto wt = rand_i8(rng, static_cast<size_t>(in_features) * out_features);
  std::vector<int32_t> bias(static_cast<size_t>(out_features), bias_v);
  const auto pf = kernels::pack_fully_connected_int8(isa, p, wt.data(), bias.data());
  std::vector<uint8_t> scratch(pf.scratch_bytes);
  std::vector<int8_t> out(static_cast<size_t>(batch) * out_features);
  for (auto _ : state) {
    kernels::fully_connected_int8(pf, batch, x.data(), out.data(), scratch.data());
    benchmark::DoNotOptimize(out.data());
  }
  report(state, isa, 2.0 * batch * in_features * out_features);
}

void BM_SeedFullyConnected_2028to10(benchmark::State& state) {
  fully_connected_case(state, 2028, 10, 3, -128, 3, 0.03f, 0.004f, 0.2f, 7);
}

// MobileNetV2's classifier (1280 -> 1000): at batch 1 a matrix-vector
// product, bound by streaming the packed weights.
void BM_FullyConnected_1280to1000(benchmark::State& state) {
  fully_connected_case(state, 1280, 1000, 5, -128, -20, 0.02f, 0.003f, 0.1f, -11);
}

void BM_SeedMaxPool2x2_26x26x12(benchmark::State& state) {
  Isa isa;
  if (!setup(state, isa)) return;
  Rng rng(4);
  ref::PoolInt8Params p;
  p.g.in_h = p.g.in_w = 26;
  p.g.in_c = p.g.out_c = 12;
  p.g.kernel_h = p.g.kernel_w = 2;
  p.g.stride_h = p.g.stride_w = 2;
  ref::apply_padding(p.g, Padding::kValid);
  const auto x = rand_i8(rng, 26 * 26 * 12);
  std::vector<int8_t> out(13 * 13 * 12);
  for (auto _ : state) {
    kernels::max_pool2d_int8(isa, p, x.data(), out.data());
    benchmark::DoNotOptimize(out.data());
  }
  // Bytes read per second (no MACs).
  state.counters["GB/s"] = benchmark::Counter(26.0 * 26 * 12 / 1e9, benchmark::Counter::kIsIterationInvariantRate);
}

#define ISAS Arg(0)->Arg(1)->Arg(2)
BENCHMARK(BM_Conv3x3_64to64_56x56_Same)->Arg(1)->Arg(2)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_Depthwise3x3_64ch_56x56_Same)->ISAS->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_SeedConv3x3_28x28x1to12_Valid)->ISAS->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_Conv1x1_64to128_28x28)->Arg(1)->Arg(2)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_Conv1x1_16to96_112x112)->Arg(1)->Arg(2)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_Conv1x1_24to144_56x56)->Arg(1)->Arg(2)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_Conv1x1_144to24_56x56)->Arg(1)->Arg(2)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_SeedFullyConnected_2028to10)
    ->Args({0, 1})->Args({1, 1})->Args({2, 1})->Args({1, 256})->Args({2, 256})->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_FullyConnected_1280to1000)
    ->Args({0, 1})->Args({1, 1})->Args({2, 1})->Args({1, 8})->Args({2, 8})->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_SeedMaxPool2x2_26x26x12)->ISAS->Unit(benchmark::kMicrosecond);

}  // namespace

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  for (Isa isa : {Isa::kAvx2, Isa::kAvx512}) {
    g_measured_peak[static_cast<int>(isa)] = measure_peak_gops(isa);
    benchmark::AddCustomContext(std::string("int8_peak_gops_") + isa_name(isa),
                                std::to_string(g_measured_peak[static_cast<int>(isa)]));
  }
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
