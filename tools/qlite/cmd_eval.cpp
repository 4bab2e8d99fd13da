// qlite eval: test accuracy of a saved model directory.
#include <filesystem>

#include "cli.h"
#include "qlite/data.h"
#include "qlite/train.h"

namespace qlite::cli {
namespace {

struct EvalArgs {
  std::string path;
  std::string data = "fashion-mnist";
  std::string json;
  int threads = 1;
  int batch_size = 256;
  bool quiet = false;
};

int run_eval(const EvalArgs& a) {
  namespace fs = std::filesystem;
  if (!fs::is_directory(a.path))
    throw Error(a.path + " is not a model directory (expected " + a.path + "/model.json)");
  auto model = load_model(a.path);
  Dataset ds = load_dataset(a.data);
  const Shape sample(ds.test.x.shape().begin() + 1, ds.test.x.shape().end());
  if (model->input_shape() != sample)
    throw Error("model input shape " + shape_str(model->input_shape()) + " does not match the " + a.data +
                " images " + shape_str(sample));
  if (!model->compiled()) model->compile(Adam(), SparseCategoricalCrossentropy{true});
  model->set_threads(a.threads);
  EvalResult r = model->evaluate(ds.test.x, ds.test.y, a.batch_size);
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
  sub->add_option("model", a->path, "Model directory (from qlite train)")->required();
  sub->add_option("--data", a->data, "fashion-mnist, mnist, or a directory of IDX files")->capture_default_str();
  sub->add_option("--threads", a->threads)->check(CLI::Range(1, 256))->capture_default_str();
  sub->add_option("--batch-size", a->batch_size)->check(CLI::PositiveNumber)->capture_default_str();
  sub->add_option("--json", a->json, "Write metrics as JSON to this file ('-' for stdout)");
  sub->add_flag("--quiet,-q", a->quiet, "Print nothing but errors");
  return {sub, [a] { return run_eval(*a); }};
}

}  // namespace qlite::cli
