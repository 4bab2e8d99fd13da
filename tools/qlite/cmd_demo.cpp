// qlite demo: the whole QAT-vs-PTQ experiment in one command. Trains the float
// baseline, fine-tunes whole-model and Dense-only QAT with two recipes,
// converts every variant to .tflite, measures each one in the qlite runtime
// (accuracy on the test images, size, batch-1 latency, batch-256 throughput)
// and writes report.md, report.json and report.html.
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>

#include "cli.h"
#include "demo_measure.h"
#include "demo_report.h"
#include "qlite/convert.h"
#include "qlite/data.h"
#include "qlite/quant.h"
#include "qlite/runtime.h"
#include "qlite/train.h"
#include "tflite_eval.h"

namespace qlite::cli {
namespace {

struct DemoArgs {
  std::string model = "seed";
  std::string data = "fashion-mnist";
  std::string out = "runs/demo";
  std::optional<int> epochs;  // default: 1 for the seed model, 3 for mobilenet-style
  uint64_t seed = 0;
  int threads = 1;
  int64_t subset = 0;
  bool quiet = false;
  SpeedOptions speed;
};

using Clock = std::chrono::steady_clock;
double since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

// Stage lines on stderr (stdout keeps the table), with the elapsed time.
class Log {
 public:
  explicit Log(bool quiet) : quiet_(quiet), start_(Clock::now()) {}
  void operator()(const std::string& msg) const {
    if (!quiet_) std::fprintf(stderr, "[%6.1fs] %s\n", since(start_), msg.c_str());
  }
  double elapsed() const { return since(start_); }

 private:
  bool quiet_;
  Clock::time_point start_;
};

// Creates --out and proves it writable before any training starts.
void prepare_out(const std::string& out) {
  namespace fs = std::filesystem;
  std::error_code ec;
  fs::create_directories(out, ec);
  if (ec || !fs::is_directory(out)) throw Error("cannot create --out " + out + ": " + (ec ? ec.message() : "not a directory"));
  const fs::path probe = fs::path(out) / (".qlite_demo_probe" + std::to_string(::getpid()));
  std::ofstream p(probe);
  if (!p) throw Error("cannot write to --out " + out);
  p.close();
  fs::remove(probe, ec);
}

void write_text(const std::string& path, const std::string& text) {
  write_file_atomic(path, text);
}

// The two fine-tuning recipes: the seed article's (1,000 images, batch 500,
// 1 epoch, Adam 1e-3) and a realistic one (the whole training split, batch
// 32, 1 epoch, Adam 1e-4).
struct QatRecipe {
  const char* name;
  int64_t images;  // 0: all
  int batch;
  double lr;
};
constexpr QatRecipe kRecipes[] = {{"seed", 1000, 500, 1e-3}, {"epoch", 0, 32, 1e-4}};

std::unique_ptr<Model> dense_only_qat(const Model& base) {
  auto annotated = clone_model(base, [](const Layer& l) -> LayerPtr {
    LayerPtr copy(l.clone());
    return l.type() == "Dense" ? quant::quantize_annotate_layer(copy) : copy;
  });
  return quant::quantize_apply(*annotated);
}

struct VariantSpec {
  std::string name, description, model;
  convert::Mode mode;
  convert::IoType io;
};

int run_demo(const DemoArgs& a) {
  quant::register_qat_layers();
  const Log log(a.quiet);
  const bool bars = show_progress(a.quiet);
  // Every fit holds out the last 10% and shuffles with --seed.
  const auto fit = [&](int epochs, int batch) {
    return fit_options({.epochs = epochs, .batch_size = batch, .validation_split = 0.1, .seed = a.seed}, bars);
  };
  nlohmann::json timings;
  // The data first: a missing dataset is the likeliest error, and reporting
  // it should leave no empty --out behind.
  auto t = Clock::now();
  Dataset ds = load_dataset(a.data);
  std::unique_ptr<Model> base =
      a.model == "seed" ? make_seed_model(ds.num_classes, a.seed)
                        : builtin_architecture(a.model, 1.0, "",
                                               Shape(ds.train.x.shape().begin() + 1, ds.train.x.shape().end()),
                                               ds.num_classes);
  base->build(a.seed);
  fit_images_to_model(base->input_shape(), ds, a.data);
  prepare_out(a.out);
  const int epochs = a.epochs.value_or(a.model == "seed" ? 1 : 3);
  const Split train = first_n(ds.train, a.subset), test = first_n(ds.test, a.subset);
  timings["load_data"] = since(t);
  log("loaded " + a.data + ": " + std::to_string(train.x.dim(0)) + " training and " + std::to_string(test.x.dim(0)) +
      " test images");

  // 1. The float baseline.
  t = Clock::now();
  base->compile(Adam(), loss_for(*base));
  base->set_threads(a.threads);
  log("training the float baseline: " + std::to_string(train.x.dim(0)) + " images (10% held out), batch 32, " +
      std::to_string(epochs) + " epoch(s), Adam 1e-3");
  const History bh = base->fit(train.x, train.y, fit(epochs, 32));
  const EvalResult be = base->evaluate(test.x, test.y, 256);
  timings["baseline"] = since(t);
  log("float baseline: test accuracy " + fmt("%.4f", be.accuracy));

  // 2. QAT: whole model and Dense only, each with both recipes.
  std::map<std::string, std::unique_ptr<Model>> models;
  nlohmann::json qat_json = nlohmann::json::array();
  for (const char* scope : {"whole", "dense"}) {
    for (const QatRecipe& rc : kRecipes) {
      const bool whole = std::string(scope) == "whole";
      const std::string name = std::string("qat-") + scope + "-" + rc.name;
      t = Clock::now();
      const Split part = first_n(train, rc.images);
      auto q = whole ? quant::quantize_model(*base) : dense_only_qat(*base);
      AdamOptions ao;
      ao.learning_rate = static_cast<float>(rc.lr);
      q->compile(Adam(ao), loss_for(*base));
      q->set_threads(a.threads);
      log(std::string(whole ? "QAT whole model, " : "QAT Dense only, ") + rc.name +
          " recipe: " + std::to_string(part.x.dim(0)) + " images, batch " + std::to_string(rc.batch) + ", Adam " +
          fmt("%g", rc.lr));
      const History h = q->fit(part.x, part.y, fit(1, rc.batch));
      const EvalResult e = q->evaluate(test.x, test.y, 256);
      log(name + ": exact integer evaluation, test accuracy " + fmt("%.4f", e.accuracy));
      qat_json.push_back({{"name", name}, {"scope", scope}, {"recipe", rc.name}, {"train_samples", h.train_samples},
                          {"val_samples", h.val_samples}, {"batch_size", rc.batch}, {"epochs", 1}, {"lr", rc.lr},
                          {"int8_evaluate_accuracy", e.accuracy}, {"train_images_per_second", h.images_per_second},
                          {"seconds", since(t)}});
      timings[name] = since(t);
      models[name] = std::move(q);
    }
  }

  // 3. Conversions, then 4. measurements of each file as written.
  using M = convert::Mode;
  using Io = convert::IoType;
  const std::vector<VariantSpec> specs = {
      {"float32", "float32, no optimization", "baseline", M::kFloat32, Io::kFloat32},
      {"float16", "float16 weights, float32 compute", "baseline", M::kFloat16, Io::kFloat32},
      {"dynamic", "dynamic range: int8 weights, float activations", "baseline", M::kDynamic, Io::kFloat32},
      {"int8-ptq", "full-integer post-training quantization, float32 I/O", "baseline", M::kInt8, Io::kFloat32},
      {"int8-ptq-int8io", "full-integer post-training quantization, int8 I/O", "baseline", M::kInt8, Io::kInt8},
      {"qat-whole-seed", "whole-model QAT (seed recipe) to full integer, int8 I/O", "qat-whole-seed", M::kInt8, Io::kInt8},
      {"qat-whole-epoch", "whole-model QAT (full epoch) to full integer, int8 I/O", "qat-whole-epoch", M::kInt8,
       Io::kInt8},
      {"qat-dense-seed", "Dense-only QAT (seed recipe), learned ranges, the rest float", "qat-dense-seed", M::kInt8,
       Io::kFloat32},
      {"qat-dense-epoch", "Dense-only QAT (full epoch), learned ranges, the rest float", "qat-dense-epoch", M::kInt8,
       Io::kFloat32},
      {"qat-whole-article",
       "the seed article's conversion of the whole-model QAT model (seed recipe): default optimizations, float32 I/O",
       "qat-whole-seed", M::kInt8, Io::kFloat32},
  };
  const Split rep = take(train, 0, std::min<int64_t>(convert::kDefaultRepresentativeCount, train.x.dim(0)));
  DemoResults res;
  res.data = a.data;
  res.baseline_accuracy = be.accuracy;
  double conv_total = 0, eval_total = 0, bench_total = 0;
  for (const VariantSpec& s : specs) {
    DemoVariant v;
    v.name = s.name;
    v.description = s.description;
    v.model = s.model;
    v.mode = convert::mode_name(s.mode);
    v.io = convert::io_type_name(s.io);
    v.file = s.name + ".tflite";
    const std::string path = (std::filesystem::path(a.out) / v.file).string();

    t = Clock::now();
    convert::ConvertOptions opt;
    opt.mode = s.mode;
    opt.io = s.io;
    opt.representative = &rep.x;
    const Model& m = s.model == "baseline" ? *base : *models.at(s.model);
    const convert::ConvertResult cr = convert::convert_model(m, opt);
    write_file_atomic(path, std::span<const uint8_t>(cr.bytes));
    v.size_bytes = cr.size_bytes;
    v.integer_only = cr.integer_only;
    v.quantization_aware = cr.quantization_aware;
    for (const auto& op : cr.ops) v.ops.push_back(op.op);
    v.float_ops = cr.float_ops;
    v.convert_s = since(t);

    t = Clock::now();
    auto it = runtime::Interpreter::from_file(path);
    const TfliteAccuracy acc = tflite_accuracy(*it, test, 256, path, a.data);
    v.test_accuracy = acc.accuracy;
    v.test_samples = acc.samples;
    v.delta_points = 100 * (acc.accuracy - be.accuracy);
    v.eval_s = since(t);

    t = Clock::now();
    const SpeedResult sp = measure_speed(path, test.x, a.speed);
    v.latency_us_median = sp.latency_us_median;
    v.latency_runs = sp.latency_runs;
    v.images_per_second = sp.images_per_second;
    v.throughput_runs = sp.throughput_runs;
    v.throughput_batch = sp.throughput_batch;
    v.bench_s = since(t);
    conv_total += v.convert_s;
    eval_total += v.eval_s;
    bench_total += v.bench_s;
    log(v.name + ": " + std::to_string(v.size_bytes) + " bytes, test accuracy " + fmt("%.4f", v.test_accuracy) +
        ", " + fmt("%.1f", v.latency_us_median) + " us (batch 1), " + fmt("%.0f", v.images_per_second) +
        " images/s (batch 256)");
    res.variants.push_back(std::move(v));
  }
  const size_t f32_size = res.variants.front().size_bytes;
  for (auto& v : res.variants) v.size_ratio = static_cast<double>(v.size_bytes) / static_cast<double>(f32_size);
  timings["convert"] = conv_total;
  timings["eval"] = eval_total;
  timings["bench"] = bench_total;

  nlohmann::json& x = res.extra;
  x["seed"] = a.seed;
  x["out"] = a.out;
  x["data"] = {{"name", a.data}, {"subset", a.subset}, {"train_images", train.x.dim(0)}, {"test_images", test.x.dim(0)},
               {"num_classes", ds.num_classes}};
  x["baseline"] = {{"model", a.model}, {"epochs", epochs}, {"batch_size", 32}, {"lr", 1e-3},
                   {"validation_split", 0.1}, {"train_samples", bh.train_samples}, {"val_samples", bh.val_samples},
                   {"keras_test_accuracy", be.accuracy}, {"keras_test_loss", be.loss},
                   {"train_images_per_second", bh.images_per_second}};
  x["qat"] = qat_json;
  x["representative_images"] = rep.x.dim(0);
  x["benchmark"] = {{"threads", 1}, {"warmup", a.speed.warmup}, {"latency_runs_max", a.speed.latency_runs},
                    {"throughput_runs_max", a.speed.throughput_runs}, {"throughput_batch", a.speed.throughput_batch},
                    {"budget_s", a.speed.budget_s}};
  x["environment"] = environment_json(a.threads);
  timings["total"] = log.elapsed();
  x["timings_s"] = timings;

  const std::filesystem::path out(a.out);
  write_text((out / "report.md").string(), demo_markdown(res));
  write_text((out / "report.html").string(), demo_html(res));
  write_json_file((out / "report.json").string(), demo_json(res));
  if (!a.quiet) {
    std::printf("\n%s\n", demo_table_text(res).c_str());
    for (const auto& line : demo_reading(res)) std::printf("- %s\n", line.c_str());
    std::printf("\nwrote %s/report.md, report.json, report.html and %zu .tflite files (%.1f s)\n", a.out.c_str(),
                res.variants.size(), log.elapsed());
  }
  return 0;
}

}  // namespace

Command add_demo(CLI::App& app) {
  auto a = std::make_shared<DemoArgs>();
  CLI::App* sub = app.add_subcommand(
      "demo",
      "The whole experiment: float baseline, whole-model and Dense-only QAT, every conversion,\n"
      "each .tflite measured in the qlite runtime; writes report.md, report.json, report.html");
  sub->add_option("--model", a->model, "The float model: seed or mobilenet-style (the reference network)")
      ->check(CLI::IsMember({"seed", "mobilenet-style"}))
      ->capture_default_str();
  add_data_flag(sub, a->data);
  sub->add_option("--out", a->out, "Directory for the .tflite files and the reports")
      ->check(non_empty())
      ->capture_default_str();
  sub->add_option("--epochs", a->epochs, "Epochs of the float baseline (default: 1 for seed, 3 for mobilenet-style)")
      ->check(int_range(1, 1000));
  sub->add_option("--seed", a->seed, "Seed for weights and shuffling")->check(seed_value())->capture_default_str();
  add_threads_flag(sub, a->threads, "Training threads (benchmarks always run on 1)");
  sub->add_option("--subset", a->subset, "Use only the first N training and N test images (quick runs, tests)")
      ->check(int_range(1));
  sub->add_option("--latency-runs", a->speed.latency_runs, "Batch-1 invokes timed per variant (at most)")
      ->check(int_range(1, 10000000))
      ->capture_default_str();
  sub->add_option("--throughput-runs", a->speed.throughput_runs, "Batch-256 invokes timed per variant (at most)")
      ->check(int_range(1, 1000000))
      ->capture_default_str();
  sub->add_option("--bench-seconds", a->speed.budget_s, "Time budget of each speed measurement")
      ->check(finite_range(0.0, 3600.0))
      ->capture_default_str();
  add_quiet_flag(sub, a->quiet);
  return {sub, [a] { return run_demo(*a); }};
}

}  // namespace qlite::cli
