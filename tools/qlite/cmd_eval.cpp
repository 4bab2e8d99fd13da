// qlite eval: test accuracy of a saved model directory, or of a .tflite file
// run in the qlite runtime.
#include <filesystem>
#include <optional>

#include "cli.h"
#include "qlite/data.h"
#include "qlite/runtime.h"
#include "qlite/train.h"
#include "tflite_eval.h"

namespace qlite::cli {
namespace {

struct EvalArgs {
  std::string path;
  std::string data = "fashion-mnist";
  std::string json;
  int threads = 1;
  int batch_size = 256;
  int64_t subset = 0;  // 0: every test image
  bool quiet = false;
};

// What both kinds of model report; only a model directory has a loss, only a
// .tflite file names the runtime it ran in.
struct EvalOutcome {
  int64_t samples = 0;
  double accuracy = 0;
  std::optional<double> loss;
  const char* runtime = nullptr;
};

int report(const EvalArgs& a, const EvalOutcome& r) {
  if (!a.quiet) {
    FILE* out = human_out(a.json);
    std::fprintf(out, "%s on %s test set (%lld images): accuracy %.4f", a.path.c_str(), a.data.c_str(),
                 static_cast<long long>(r.samples), r.accuracy);
    if (r.loss) std::fprintf(out, ", loss %.4f", *r.loss);
    std::fprintf(out, "\n");
  }
  if (!a.json.empty()) {
    json j;
    j["command"] = "eval";
    j["model"] = a.path;
    j["data"] = a.data;
    if (r.runtime != nullptr) j["runtime"] = r.runtime;
    j["test_accuracy"] = r.accuracy;
    if (r.loss) j["test_loss"] = *r.loss;
    j["test_samples"] = r.samples;
    write_metrics_json(a.json, j, a.threads);
  }
  return 0;
}

// The test images (the first --subset of them when given) through the
// runtime; tflite_accuracy() is shared with qlite demo.
int run_eval_tflite(const EvalArgs& a) {
  runtime::InterpreterOptions opt;
  opt.num_threads = a.threads;
  auto it = runtime::Interpreter::from_file(a.path, opt);
  require(it->num_inputs() == 1 && it->num_outputs() == 1,
          a.path + ": eval needs a model with one input and one output");
  Dataset ds = load_dataset(a.data);
  const Split test = first_n(ds.test, a.subset);
  const TfliteAccuracy r = tflite_accuracy(*it, test, a.batch_size, a.path, a.data);
  return report(a, {.samples = r.samples, .accuracy = r.accuracy, .loss = std::nullopt, .runtime = "qlite"});
}

int run_eval(const EvalArgs& a) {
  namespace fs = std::filesystem;
  Outputs outputs;  // checked before the work; the one output is written at the end
  outputs.json_file(a.json);
  std::error_code ec;
  if (!fs::is_directory(a.path, ec)) {
    // Anything but a directory is read as a .tflite file (bounded, regular files only).
    const bool tflite_name = a.path.size() > 7 && a.path.compare(a.path.size() - 7, 7, ".tflite") == 0;
    require(tflite_name || fs::exists(a.path, ec),
            a.path + ": no such file or directory (expected a .tflite file or a model directory)");
    return run_eval_tflite(a);
  }
  auto model = load_model_dir(a.path, "model");
  Dataset ds = load_dataset(a.data);
  fit_images_to_model(model->input_shape(), ds, a.data);
  if (!model->compiled()) model->compile(Adam(), loss_for(*model));
  model->set_threads(a.threads);
  const Split test = first_n(ds.test, a.subset);
  const EvalResult r = model->evaluate(test.x, test.y, a.batch_size);
  return report(a, {.samples = r.samples, .accuracy = r.accuracy, .loss = r.loss});
}

}  // namespace

Command add_eval(CLI::App& app) {
  auto a = std::make_shared<EvalArgs>();
  CLI::App* sub = app.add_subcommand("eval", "Evaluate a saved model on a dataset's test split");
  sub->add_option("model", a->path, "Model directory (from qlite train) or .tflite file")->required()->check(non_empty());
  add_data_flag(sub, a->data);
  add_threads_flag(sub, a->threads);
  sub->add_option("--batch-size", a->batch_size, "Images per evaluation step")
      ->check(int_range(1, 1 << 20))
      ->capture_default_str();
  sub->add_option("--subset", a->subset, "Evaluate on the first N test images only")->check(int_range(1));
  add_json_flag(sub, a->json);
  add_quiet_flag(sub, a->quiet);
  return {sub, [a] { return run_eval(*a); }};
}

}  // namespace qlite::cli
