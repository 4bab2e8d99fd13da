// qlite bench: latency and throughput of a .tflite model in qlite's runtime.
// Inputs are random (seeded) in each input's own type; after the warm-up,
// every timed run is one invoke() of the whole batch.
#include <algorithm>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <optional>

#include "cli.h"
#include "qlite/runtime.h"

namespace qlite::cli {
namespace {

struct BenchArgs {
  std::string path;
  int batch = 1;
  int threads = 1;
  int runs = 1000;
  int warmup = 100;
  std::string isa;
  uint64_t seed = 1;
  std::string json;
  bool quiet = false;
  bool profile = false;
};

std::optional<Isa> parse_isa(const std::string& s) {
  if (s.empty()) return std::nullopt;
  if (s == "reference") return Isa::kReference;
  if (s == "avx2") return Isa::kAvx2;
  if (s == "avx512") return Isa::kAvx512;
  throw Error("--isa must be reference, avx2 or avx512, got '" + s + "'");
}

// Values spread over the input's range: uniform bytes for integer tensors,
// uniform [0, 1) for float ones (the seed models' pixel range).
void fill_random(std::span<std::byte> bytes, lite::TensorType type, Rng& rng) {
  if (type == lite::TensorType::kFloat32) {
    auto* f = reinterpret_cast<float*>(bytes.data());
    for (size_t i = 0; i < bytes.size() / sizeof(float); ++i) f[i] = rng.uniform(0.0f, 1.0f);
    return;
  }
  for (std::byte& b : bytes) b = static_cast<std::byte>(rng.next_u64() & 0xff);
}

double percentile(std::vector<double> v, double q) {
  std::sort(v.begin(), v.end());
  const size_t i = std::min(v.size() - 1, static_cast<size_t>(q * static_cast<double>(v.size() - 1) + 0.5));
  return v[i];
}

std::string shape_text(const Shape& s) {
  std::string t;
  for (size_t i = 0; i < s.size(); ++i) t += (i ? "x" : "") + std::to_string(s[i]);
  return t.empty() ? "scalar" : t;
}

std::string shapes_text(const std::vector<Shape>& v) {
  std::string t;
  for (size_t i = 0; i < v.size(); ++i) t += (i ? ", " : "") + shape_text(v[i]);
  return t;
}

// --profile: each executed op's median time over the timed runs, sorted by it.
struct OpRow {
  const runtime::OpTiming* op;
  double median_us;
};

std::vector<OpRow> profile_rows(const runtime::Interpreter& it) {
  std::vector<OpRow> rows;
  for (const runtime::OpTiming& t : it.op_timings()) {
    std::vector<double> us(t.ns.begin(), t.ns.end());
    for (double& v : us) v /= 1000.0;
    rows.push_back({&t, us.empty() ? 0.0 : percentile(us, 0.5)});
  }
  std::stable_sort(rows.begin(), rows.end(), [](const OpRow& a, const OpRow& b) { return a.median_us > b.median_us; });
  return rows;
}

void print_profile(FILE* out, const std::vector<OpRow>& rows, double total_us, double latency_us) {
  std::fprintf(out, "per-op profile (median of each op over the timed runs; sum %.2f us, %.1f%% of the median latency):\n",
               total_us, latency_us > 0 ? 100.0 * total_us / latency_us : 0.0);
  std::fprintf(out, "%5s  %-22s %10s %7s  %s\n", "op", "name", "median us", "share", "inputs -> outputs");
  for (const OpRow& r : rows)
    std::fprintf(out, "%5zu  %-22s %10.2f %6.1f%%  %s -> %s\n", r.op->op_index, r.op->op_name.c_str(), r.median_us,
                 total_us > 0 ? 100.0 * r.median_us / total_us : 0.0, shapes_text(r.op->input_shapes).c_str(),
                 shapes_text(r.op->output_shapes).c_str());
}

int run_bench(const BenchArgs& a) {
  Outputs outputs;  // checked before the work; the one output is written at the end
  outputs.json_file(a.json);
  runtime::InterpreterOptions opt;
  opt.num_threads = a.threads;
  opt.isa = parse_isa(a.isa);
  // Reading, validating, packing the weights and planning the arena: what a
  // program pays once before its first invoke.
  const auto l0 = std::chrono::steady_clock::now();
  auto it = runtime::Interpreter::from_file(a.path, opt);
  it->resize_batch(a.batch);
  const double load_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - l0).count();
  Rng rng(a.seed);
  for (size_t i = 0; i < it->num_inputs(); ++i) fill_random(it->input_bytes(i), it->input_info(i).type, rng);
  for (int i = 0; i < a.warmup; ++i) it->invoke();
  if (a.profile) it->set_profiling(true);  // the timed runs only
  std::vector<double> us(static_cast<size_t>(a.runs));
  for (double& t : us) {
    const auto t0 = std::chrono::steady_clock::now();
    it->invoke();
    t = std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - t0).count();
  }
  const double median = percentile(us, 0.5), p90 = percentile(us, 0.9);
  const double ips = median > 0 ? a.batch * 1e6 / median : 0.0;
  std::vector<OpRow> rows;
  double profile_total = 0;
  if (a.profile) {
    rows = profile_rows(*it);
    for (const OpRow& r : rows) profile_total += r.median_us;
  }
  if (!a.quiet) {
    FILE* out = human_out(a.json);
    std::fprintf(out, "%s: batch %d, %d thread%s, isa %s, %d runs after %d warm-up\n", a.path.c_str(), a.batch,
                a.threads, a.threads == 1 ? "" : "s", isa_name(it->isa()), a.runs, a.warmup);
    std::fprintf(out, "latency median %.2f us, p90 %.2f us; %.0f images/s; load and prepare %.1f ms\n", median, p90,
                 ips, load_ms);
    if (a.profile) print_profile(out, rows, profile_total, median);
  }
  if (!a.json.empty()) {
    nlohmann::json j;
    j["model"] = a.path;
    j["batch"] = a.batch;
    j["threads"] = a.threads;
    j["runs"] = a.runs;
    j["warmup"] = a.warmup;
    j["isa"] = isa_name(it->isa());
    j["latency_us_median"] = median;
    j["latency_us_p90"] = p90;
    j["images_per_second"] = ips;
    j["load_ms"] = load_ms;
    j["arena_bytes"] = it->arena_bytes();
    if (a.profile) {
      nlohmann::json ops = nlohmann::json::array();
      for (const OpRow& r : rows) {
        nlohmann::json in = nlohmann::json::array(), outs = nlohmann::json::array();
        for (const Shape& sh : r.op->input_shapes) in.push_back(sh);
        for (const Shape& sh : r.op->output_shapes) outs.push_back(sh);
        ops.push_back({{"op_index", r.op->op_index}, {"op", r.op->op_name}, {"inputs", in}, {"outputs", outs},
                       {"median_us", r.median_us}, {"share", profile_total > 0 ? r.median_us / profile_total : 0.0}});
      }
      j["profile"] = ops;
      j["profile_sum_us"] = profile_total;
    }
    write_metrics_json(a.json, j, a.threads);
  }
  return 0;
}

}  // namespace

Command add_bench(CLI::App& app) {
  auto a = std::make_shared<BenchArgs>();
  CLI::App* sub = app.add_subcommand("bench", "Time a .tflite model in qlite's runtime (random inputs)");
  sub->add_option("model", a->path, ".tflite file")->required()->check(non_empty());
  sub->add_option("--batch", a->batch, "Images per invoke")->check(int_range(1, 1 << 20))->capture_default_str();
  add_threads_flag(sub, a->threads);
  sub->add_option("--runs", a->runs, "Timed invokes")->check(int_range(1, 100000000))->capture_default_str();
  sub->add_option("--warmup", a->warmup, "Untimed invokes first")->check(int_range(0, 100000000))->capture_default_str();
  sub->add_option("--isa", a->isa, "reference, avx2 or avx512 (default: the widest the CPU has, or QLITE_ISA)")
      ->check(CLI::IsMember({"reference", "avx2", "avx512"}));
  sub->add_option("--seed", a->seed, "Seed of the random inputs")->check(seed_value())->capture_default_str();
  add_json_flag(sub, a->json, "Also write the results as JSON to this file ('-' = stdout)");
  sub->add_flag("--profile", a->profile,
                "Also time every executed op (median per op over the timed runs, sorted, with its share)");
  add_quiet_flag(sub, a->quiet);
  return {sub, [a] { return run_bench(*a); }};
}

}  // namespace qlite::cli
