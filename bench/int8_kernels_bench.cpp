// Micro-benchmarks of the optimized int8 kernels, single thread, with GOP/s
// (1 MAC = 2 ops) and percent of the measured per-core peak of the path
// (issue 5: 844 GOP/s for AVX-512 VNNI vpdpbusd, 210 GOP/s for AVX2).
// Argument: 0 = reference, 1 = avx2, 2 = avx512.
//   build-x86/bench/int8_kernels_bench --benchmark_repetitions=5 --benchmark_report_aggregates_only=true
#include <benchmark/benchmark.h>

#include <vector>

#include "kernels/int8_kernels_x86.h"
#include "kernels/reference/int8_kernels.h"
#include "qlite/core.h"

namespace {

using namespace qlite;

double peak_gops(Isa isa) { return isa == Isa::kAvx512 ? 844.0 : isa == Isa::kAvx2 ? 210.0 : 0.0; }

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
  if (peak_gops(isa) > 0)
    state.counters["%peak"] =
        benchmark::Counter(ops / 1e9 / peak_gops(isa) * 100.0, benchmark::Counter::kIsIterationInvariantRate);
}

std::vector<int8_t> rand_i8(Rng& rng, size_t n) {
  std::vector<int8_t> v(n);
  for (auto& x : v) x = static_cast<int8_t>(static_cast<int>(rng.below(256)) - 128);
  return v;
}

ref::ConvInt8Params conv_params(int h, int w, int cin, int cout, int k, ref::Padding pad) {
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
  p.act = ref::fused_activation_range(ref::FusedActivation::kRelu, 0.05f, 7);
  return p;
}

void run_conv(benchmark::State& state, int h, int w, int cin, int cout, int k, ref::Padding pad) {
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

void BM_Conv3x3_64to64_56x56_Same(benchmark::State& s) { run_conv(s, 56, 56, 64, 64, 3, ref::Padding::kSame); }
void BM_SeedConv3x3_28x28x1to12_Valid(benchmark::State& s) { run_conv(s, 28, 28, 1, 12, 3, ref::Padding::kValid); }

void BM_Depthwise3x3_64ch_56x56_Same(benchmark::State& state) {
  Isa isa;
  if (!setup(state, isa)) return;
  Rng rng(2);
  ref::DepthwiseInt8Params p;
  p.g.in_h = p.g.in_w = 56;
  p.g.in_c = p.g.out_c = 64;
  p.g.kernel_h = p.g.kernel_w = 3;
  ref::apply_padding(p.g, ref::Padding::kSame);
  p.input_zero_point = 4;
  p.output_zero_point = -2;
  std::vector<float> ws(64);
  for (int c = 0; c < 64; ++c) ws[static_cast<size_t>(c)] = 0.01f * (1.0f + 0.02f * c);
  p.requant = ref::make_requant(0.02f, ws, 0.04f);
  p.act = ref::fused_activation_range(ref::FusedActivation::kRelu6, 0.04f, -2);
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

void BM_SeedFullyConnected_2028to10(benchmark::State& state) {
  Isa isa;
  if (!setup(state, isa)) return;
  const int batch = static_cast<int>(state.range(1));
  Rng rng(3);
  ref::FullyConnectedInt8Params p;
  p.batch = batch;
  p.in_features = 2028;
  p.out_features = 10;
  p.input_zero_point = -128;
  p.output_zero_point = 3;
  p.requant = ref::make_requant(0.03f, {0.004f}, 0.2f);
  const auto x = rand_i8(rng, static_cast<size_t>(batch) * 2028), wt = rand_i8(rng, 2028 * 10);
  std::vector<int32_t> bias(10, 7);
  const auto pf = kernels::pack_fully_connected_int8(isa, p, wt.data(), bias.data());
  std::vector<uint8_t> scratch(pf.scratch_bytes);
  std::vector<int8_t> out(static_cast<size_t>(batch) * 10);
  for (auto _ : state) {
    kernels::fully_connected_int8(pf, batch, x.data(), out.data(), scratch.data());
    benchmark::DoNotOptimize(out.data());
  }
  report(state, isa, 2.0 * batch * 2028 * 10);
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
  ref::apply_padding(p.g, ref::Padding::kValid);
  const auto x = rand_i8(rng, 26 * 26 * 12);
  std::vector<int8_t> out(13 * 13 * 12);
  for (auto _ : state) {
    kernels::max_pool2d_int8(isa, p, x.data(), out.data());
    benchmark::DoNotOptimize(out.data());
  }
}

#define ISAS Arg(0)->Arg(1)->Arg(2)
BENCHMARK(BM_Conv3x3_64to64_56x56_Same)->Arg(1)->Arg(2)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_Depthwise3x3_64ch_56x56_Same)->ISAS->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_SeedConv3x3_28x28x1to12_Valid)->ISAS->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_SeedFullyConnected_2028to10)
    ->Args({0, 1})->Args({1, 1})->Args({2, 1})->Args({1, 256})->Args({2, 256})->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_SeedMaxPool2x2_26x26x12)->ISAS->Unit(benchmark::kMicrosecond);

}  // namespace

BENCHMARK_MAIN();
