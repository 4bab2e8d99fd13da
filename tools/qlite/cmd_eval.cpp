// qlite eval: test accuracy of a saved model directory, or of a .tflite file
// run in the qlite runtime.
#include <filesystem>

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

Split test_split(const Dataset& ds, int64_t subset) {
  if (subset > 0 && subset < ds.test.x.dim(0)) return take(ds.test, 0, subset);
  return ds.test;
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
  const Split test = test_split(ds, a.subset);
  const TfliteAccuracy r = tflite_accuracy(*it, test, a.batch_size, a.path, a.data);
  const int64_t n = r.samples;
  const double accuracy = r.accuracy;
  if (!a.quiet)
    std::printf("%s on %s test set (%lld images): accuracy %.4f\n", a.path.c_str(), a.data.c_str(),
                static_cast<long long>(n), accuracy);
  if (!a.json.empty()) {
    json j;
    j["command"] = "eval";
    j["model"] = a.path;
    j["data"] = a.data;
    j["runtime"] = "qlite";
    j["test_accuracy"] = accuracy;
    j["test_samples"] = n;
    j["environment"] = environment_json(a.threads);
    write_json_file(a.json, j);
  }
  return 0;
}

int run_eval(const EvalArgs& a) {
  namespace fs = std::filesystem;
  if (fs::is_regular_file(a.path)) return run_eval_tflite(a);
  if (!fs::is_directory(a.path))
    throw Error(a.path + " is not a model directory (expected " + a.path + "/model.json)");
  auto model = load_model(a.path);
  Dataset ds = load_dataset(a.data);
  require_input_matches(model->input_shape(), ds.test.x, a.data);
  if (!model->compiled()) model->compile(Adam(), SparseCategoricalCrossentropy{true});
  model->set_threads(a.threads);
  const Split test = test_split(ds, a.subset);
  EvalResult r = model->evaluate(test.x, test.y, a.batch_size);
  if (!a.quiet)
    std::printf("%s on %s test set (%lld images): accuracy %.4f, loss %.4f\n", a.path.c_str(), a.data.c_str(),
                static_cast<long long>(r.samples), r.accuracy, r.loss);
  if (!a.json.empty()) {
    json j;
    j["command"] = "eval";
    j["model"] = a.path;
    j["data"] = a.data;
    j["test_accuracy"] = r.accuracy;
    j["test_loss"] = r.loss;
    j["test_samples"] = r.samples;
    j["environment"] = environment_json(a.threads);
    write_json_file(a.json, j);
  }
  return 0;
}

}  // namespace

Command add_eval(CLI::App& app) {
  auto a = std::make_shared<EvalArgs>();
  CLI::App* sub = app.add_subcommand("eval", "Evaluate a saved model on a dataset's test split");
  sub->add_option("model", a->path, "Model directory (from qlite train) or .tflite file")->required();
  sub->add_option("--data", a->data, "fashion-mnist, mnist, or a directory of IDX files")->capture_default_str();
  sub->add_option("--threads", a->threads)->check(CLI::Range(1, 256))->capture_default_str();
  sub->add_option("--batch-size", a->batch_size)->check(CLI::PositiveNumber)->capture_default_str();
  sub->add_option("--subset", a->subset, "Evaluate on the first N test images only")->check(CLI::PositiveNumber);
  sub->add_option("--json", a->json, "Write metrics as JSON to this file ('-' for stdout)");
  sub->add_flag("--quiet,-q", a->quiet, "Print nothing but errors");
  return {sub, [a] { return run_eval(*a); }};
}

}  // namespace qlite::cli
