// Micro-benchmarks of the 8-bit elementwise kernels (kernels/elementwise_x86.h),
// single thread, on MobileNet-like tensors: the byte-table lookup that
// LOGISTIC / TANH / HARD_SWISH / LEAKY_RELU run through, and int8 / uint8 MUL
// (same shape, a squeeze-excite channel broadcast, a scalar broadcast), and
// int8 RESIZE_BILINEAR.
// Argument: 0 = reference, 1 = avx2, 2 = avx512. After Google Benchmark's
// own output, a table of each path's median time and its ratio to the
// reference path's median from the same run (use repetitions and random
// interleaving so that machine load falls on every path alike):
//   build/bench/elementwise_bench --benchmark_repetitions=15 --benchmark_enable_random_interleaving=true
//       --benchmark_report_aggregates_only=true
#include <benchmark/benchmark.h>

#include <cstdio>
#include <map>
#include <string>
#include <type_traits>
#include <vector>

#include "kernels/elementwise_x86.h"
#include "kernels/int8_kernels_x86.h"
#include "kernels/reference/activation_kernels.h"
#include "kernels/reference/math_kernels.h"
#include "kernels/reference/resize_kernels.h"
#include "qlite/core.h"

namespace {

using namespace qlite;

std::vector<uint8_t> random_bytes(int64_t n, uint64_t seed) {
  Rng rng(seed);
  std::vector<uint8_t> v(static_cast<size_t>(n));
  for (auto& x : v) x = static_cast<uint8_t>(rng.below(256));
  return v;
}

Isa isa_of(const benchmark::State& state) { return static_cast<Isa>(state.range(0)); }

// HARD_SWISH's table (the lookup's cost does not depend on the table).
void BM_Lookup(benchmark::State& state, int64_t n) {
  const Isa isa = isa_of(state);
  if (!kernels::int8_isa_available(isa)) return state.SkipWithError("ISA not available on this CPU");
  const ref::ByteTable t =
      ref::make_hard_swish_table(ref::make_hard_swish_params(true, 0.04f, -3, 0.03f, -20), true);
  const std::vector<uint8_t> in = random_bytes(n, 1);
  std::vector<uint8_t> out(in.size());
  for (auto _ : state) {
    kernels::lookup_bytes(isa, t, n, in.data(), out.data());
    benchmark::DoNotOptimize(out.data());
    benchmark::ClobberMemory();
  }
  state.SetBytesProcessed(state.iterations() * n);
}

// MUL of an [h, w, c] tensor by an operand of shape b_shape ({h, w, c}: same
// shape; {1, 1, c}: channel broadcast; {1}: scalar).
void BM_Mul(benchmark::State& state, bool is_signed, std::vector<int64_t> a_shape, std::vector<int64_t> b_shape) {
  const Isa isa = isa_of(state);
  if (!kernels::int8_isa_available(isa)) return state.SkipWithError("ISA not available on this CPU");
  const int32_t qmin = is_signed ? -128 : 0, qmax = is_signed ? 127 : 255;
  const ref::MulQuantParams p = ref::make_mul_params(0.02f, is_signed ? -5 : 123, 0.004f, is_signed ? -128 : 0, 0.015f,
                                                     is_signed ? 3 : 131, Activation::kLinear, qmin, qmax);
  const std::vector<std::vector<int64_t>> shapes = {a_shape, b_shape};
  const ref::BroadcastGeometry g = ref::make_broadcast("MUL", shapes);
  int64_t na = 1, nb = 1;
  for (int64_t d : a_shape) na *= d;
  for (int64_t d : b_shape) nb *= d;
  const std::vector<uint8_t> a = random_bytes(na, 2), b = random_bytes(nb, 3);
  std::vector<uint8_t> out(static_cast<size_t>(g.count));
  for (auto _ : state) {
    kernels::mul_quant8_broadcast(isa, p, is_signed, g, g.count, a.data(), b.data(), out.data());
    benchmark::DoNotOptimize(out.data());
    benchmark::ClobberMemory();
  }
  state.SetBytesProcessed(state.iterations() * g.count);
}

// RESIZE_BILINEAR of [h, w, c] to [oh, ow, c] in int8, uint8 or float32
// (E: the element type; float32 inputs are the random bytes scaled).
template <class E>
void resize_bilinear_case(benchmark::State& state, int h, int w, int c, int oh, int ow, bool half_pixel) {
  const Isa isa = isa_of(state);
  if (!kernels::int8_isa_available(isa)) return state.SkipWithError("ISA not available on this CPU");
  ref::ResizeGeometry g;
  g.batch = 1;
  g.in_h = h;
  g.in_w = w;
  g.depth = c;
  g.out_h = oh;
  g.out_w = ow;
  g.half_pixel_centers = half_pixel;
  const std::vector<uint8_t> bytes = random_bytes(int64_t{h} * w * c, 4);
  std::vector<E> in(bytes.size());
  for (size_t i = 0; i < in.size(); ++i) in[i] = static_cast<E>(std::is_same_v<E, float> ? bytes[i] * 0.01f : bytes[i]);
  std::vector<E> out(static_cast<size_t>(int64_t{oh} * ow * c));
  for (auto _ : state) {
    if constexpr (std::is_same_v<E, float>) kernels::resize_bilinear_f32(isa, g, in.data(), out.data());
    else if constexpr (std::is_same_v<E, uint8_t>) kernels::resize_bilinear_u8(isa, g, in.data(), out.data());
    else kernels::resize_bilinear_s8(isa, g, in.data(), out.data());
    benchmark::DoNotOptimize(out.data());
    benchmark::ClobberMemory();
  }
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(out.size() * sizeof(E)));
}
void BM_ResizeBilinear(benchmark::State& s, int h, int w, int c, int oh, int ow, bool hp) {
  resize_bilinear_case<int8_t>(s, h, w, c, oh, ow, hp);
}
void BM_ResizeBilinearU8(benchmark::State& s, int h, int w, int c, int oh, int ow, bool hp) {
  resize_bilinear_case<uint8_t>(s, h, w, c, oh, ow, hp);
}
void BM_ResizeBilinearF32(benchmark::State& s, int h, int w, int c, int oh, int ow, bool hp) {
  resize_bilinear_case<float>(s, h, w, c, oh, ow, hp);
}

void paths(benchmark::internal::Benchmark* b) {
  b->ArgName("isa")->Arg(0)->Arg(1)->Arg(2)->Unit(benchmark::kMicrosecond);
}

// MobileNetV3-style activations: 112x112x16 (first HARD_SWISH), 14x14x672,
// 7x7x960; and a LOGISTIC gate of 1x1x672.
BENCHMARK_CAPTURE(BM_Lookup, hard_swish_112x112x16, int64_t{112 * 112 * 16})->Apply(paths);
BENCHMARK_CAPTURE(BM_Lookup, hard_swish_14x14x672, int64_t{14 * 14 * 672})->Apply(paths);
BENCHMARK_CAPTURE(BM_Lookup, hard_swish_7x7x960, int64_t{7 * 7 * 960})->Apply(paths);
BENCHMARK_CAPTURE(BM_Lookup, logistic_1x1x672, int64_t{672})->Apply(paths);
// Squeeze-excite scaling (channel broadcast), a same-shape product and a scalar.
BENCHMARK_CAPTURE(BM_Mul, int8_se_28x28x120, true, std::vector<int64_t>{28, 28, 120}, std::vector<int64_t>{1, 1, 120})
    ->Apply(paths);
BENCHMARK_CAPTURE(BM_Mul, int8_se_14x14x672, true, std::vector<int64_t>{14, 14, 672}, std::vector<int64_t>{1, 1, 672})
    ->Apply(paths);
BENCHMARK_CAPTURE(BM_Mul, int8_same_56x56x24, true, std::vector<int64_t>{56, 56, 24}, std::vector<int64_t>{56, 56, 24})
    ->Apply(paths);
BENCHMARK_CAPTURE(BM_Mul, int8_scalar_56x56x24, true, std::vector<int64_t>{56, 56, 24}, std::vector<int64_t>{1})
    ->Apply(paths);
BENCHMARK_CAPTURE(BM_Mul, uint8_same_56x56x24, false, std::vector<int64_t>{56, 56, 24},
                  std::vector<int64_t>{56, 56, 24})
    ->Apply(paths);

// Segmentation-decoder upsampling (DeepLab-style 2x and 4x, half-pixel
// centers), a pose model's heatmap resize with 17 channels and an RGB input
// (3 channels: mostly the per-pixel part).
BENCHMARK_CAPTURE(BM_ResizeBilinear, int8_2x_33x33x256, 33, 33, 256, 65, 65, true)->Apply(paths);
BENCHMARK_CAPTURE(BM_ResizeBilinear, int8_4x_65x65x21, 65, 65, 21, 257, 257, true)->Apply(paths);
BENCHMARK_CAPTURE(BM_ResizeBilinear, int8_heatmap_9x9x17, 9, 9, 17, 257, 257, false)->Apply(paths);
BENCHMARK_CAPTURE(BM_ResizeBilinear, int8_rgb_112x112x3, 112, 112, 3, 224, 224, false)->Apply(paths);
// The same decoder steps in uint8 (TF1-era segmentation files) and float32
// (2x without flags: the 2x2 kernel; 4x with half-pixel centers: the generic one).
BENCHMARK_CAPTURE(BM_ResizeBilinearU8, uint8_2x_33x33x256, 33, 33, 256, 65, 65, true)->Apply(paths);
BENCHMARK_CAPTURE(BM_ResizeBilinearU8, uint8_4x_65x65x21, 65, 65, 21, 257, 257, true)->Apply(paths);
BENCHMARK_CAPTURE(BM_ResizeBilinearF32, float_2x_33x33x256, 33, 33, 256, 66, 66, false)->Apply(paths);
BENCHMARK_CAPTURE(BM_ResizeBilinearF32, float_4x_65x65x21, 65, 65, 21, 257, 257, true)->Apply(paths);

// Collects the median aggregates (or single runs) and prints the ratio table.
class RatioReporter : public benchmark::ConsoleReporter {
 public:
  void ReportRuns(const std::vector<Run>& runs) override {
    ConsoleReporter::ReportRuns(runs);
    for (const Run& r : runs) {
      if (r.error_occurred) continue;
      const bool median = r.run_type == Run::RT_Aggregate && r.aggregate_name == "median";
      if (r.run_type == Run::RT_Aggregate && !median) continue;
      const std::string key = r.benchmark_name();
      const auto slash = key.find("/isa:");
      if (slash == std::string::npos) continue;
      const std::string base = key.substr(0, slash);
      const int isa = key[slash + 5] - '0';
      // A median replaces single repetitions seen earlier.
      if (median || !seen_median_[base + std::to_string(isa)]) times_[base][isa] = r.GetAdjustedRealTime();
      if (median) seen_median_[base + std::to_string(isa)] = true;
    }
  }
  void Finalize() override {
    ConsoleReporter::Finalize();
    std::printf("\n%-40s %12s %12s %12s %9s %9s\n", "kernel (medians, us)", "reference", "avx2", "avx512",
                "ref/avx2", "ref/avx512");
    for (const auto& [base, t] : times_) {
      auto get = [&](int i) { auto it = t.find(i); return it == t.end() ? 0.0 : it->second; };
      const double r = get(0), a2 = get(1), a5 = get(2);
      std::printf("%-40s %12.2f %12.2f %12.2f %9.2f %9.2f\n", base.c_str(), r, a2, a5, a2 > 0 ? r / a2 : 0.0,
                  a5 > 0 ? r / a5 : 0.0);
    }
  }

 private:
  std::map<std::string, std::map<int, double>> times_;
  std::map<std::string, bool> seen_median_;
};

}  // namespace

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  RatioReporter reporter;
  benchmark::RunSpecifiedBenchmarks(&reporter);
  benchmark::Shutdown();
  return 0;
}
