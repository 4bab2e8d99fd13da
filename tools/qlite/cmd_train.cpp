// qlite train: trains a float model (the seed by default) and saves it.
#include <chrono>
#include <fstream>

#include "cli.h"
#include "qlite/data.h"
#include "qlite/train.h"

namespace qlite::cli {
namespace {

struct TrainArgs {
  std::string model = "seed";
  std::string data = "fashion-mnist";
  std::string out;
  std::string json;
  std::string optimizer = "adam";
  int epochs = 1;
  int batch_size = 32;
  double validation_split = 0.1;
  double lr = -1;  // optimizer default
  uint64_t seed = 0;
  int threads = 1;
  int64_t subset = 0;
  bool quiet = false;
};

std::unique_ptr<Model> make_model(const TrainArgs& a, int num_classes) {
  if (a.model == "seed") return make_seed_model(num_classes, a.seed);
  std::ifstream in(a.model);
  if (!in) throw Error("cannot open model file " + a.model + " (use --model seed or a model.json)");
  json j;
  try {
    j = json::parse(in);
  } catch (const json::exception& e) {
    throw Error(a.model + ": not valid JSON: " + e.what());
  }
  auto model = model_from_json(j);
  model->build(a.seed);
  return model;
}

int run_train(const TrainArgs& a) {
  Dataset ds = load_dataset(a.data);
  Split train = ds.train;
  if (a.subset > 0 && a.subset < train.x.dim(0)) train = take(ds.train, 0, a.subset);

  auto model = make_model(a, ds.num_classes);
  require_input_matches(model->input_shape(), train.x, a.data);
  const int64_t classes = model->output_shape().empty() ? 0 : model->output_shape().back();
  if (model->output_shape().size() != 1 || classes < ds.num_classes)
    throw Error("model output shape " + shape_str(model->output_shape()) + " cannot hold the " +
                std::to_string(ds.num_classes) + " classes of " + a.data);

  std::unique_ptr<Optimizer> opt;
  if (a.optimizer == "adam") {
    AdamOptions o;
    if (a.lr > 0) o.learning_rate = static_cast<float>(a.lr);
    opt = Adam(o);
  } else {
    SgdOptions o;
    if (a.lr > 0) o.learning_rate = static_cast<float>(a.lr);
    opt = SGD(o);
  }
  model->compile(std::move(opt), SparseCategoricalCrossentropy{true});
  model->set_threads(a.threads);
  if (!a.quiet) std::printf("%s\n", model->summary().c_str());

  FitOptions fo;
  fo.epochs = a.epochs;
  fo.batch_size = a.batch_size;
  fo.validation_split = a.validation_split;
  fo.seed = a.seed;
  if (show_progress(a.quiet)) fo.on_progress = console_progress(stderr);
  History h = model->fit(train.x, train.y, fo);

  EvalResult test = model->evaluate(ds.test.x, ds.test.y, 256);
  save_model(*model, a.out);

  if (!a.quiet) {
    std::printf("test accuracy %.4f, test loss %.4f; trained %lld images at %.0f images/s (%d thread%s)\n",
                test.accuracy, test.loss, static_cast<long long>(h.train_samples * a.epochs),
                h.images_per_second, a.threads, a.threads == 1 ? "" : "s");
    std::printf("saved %s/model.json and %s/model.safetensors\n", a.out.c_str(), a.out.c_str());
  }
  if (!a.json.empty()) {
    json j;
    j["command"] = "train";
    j["data"] = a.data;
    j["model"] = a.model;
    j["out"] = a.out;
    j["epochs"] = a.epochs;
    j["batch_size"] = a.batch_size;
    j["validation_split"] = a.validation_split;
    j["seed"] = a.seed;
    j["train_samples"] = h.train_samples;
    j["val_samples"] = h.val_samples;
    j["history"] = {{"loss", h.loss}, {"accuracy", h.accuracy}, {"val_loss", h.val_loss},
                    {"val_accuracy", h.val_accuracy}};
    j["test_accuracy"] = test.accuracy;
    j["test_loss"] = test.loss;
    j["test_samples"] = test.samples;
    j["train_images_per_second"] = h.images_per_second;
    j["environment"] = environment_json(a.threads);
    write_json_file(a.json, j);
  }
  return 0;
}

}  // namespace

Command add_train(CLI::App& app) {
  auto a = std::make_shared<TrainArgs>();
  CLI::App* sub = app.add_subcommand("train", "Train a float model (the seed model by default) and save it");
  sub->add_option("--model", a->model, "'seed' or a model.json describing the architecture")
      ->capture_default_str();
  sub->add_option("--data", a->data, "fashion-mnist, mnist, or a directory of IDX files")->capture_default_str();
  sub->add_option("--out", a->out, "Directory to save the model to")->required();
  sub->add_option("--epochs", a->epochs)->check(CLI::PositiveNumber)->capture_default_str();
  sub->add_option("--batch-size", a->batch_size)->check(CLI::PositiveNumber)->capture_default_str();
  sub->add_option("--validation-split", a->validation_split, "Fraction of the training data held out (the last part)")
      ->check(CLI::Range(0.0, 0.99))
      ->capture_default_str();
  sub->add_option("--optimizer", a->optimizer)->check(CLI::IsMember({"adam", "sgd"}))->capture_default_str();
  sub->add_option("--lr", a->lr, "Learning rate (default: 0.001 for adam, 0.01 for sgd)")
      ->check(CLI::PositiveNumber);
  sub->add_option("--seed", a->seed, "Seed for weights and shuffling")->capture_default_str();
  sub->add_option("--threads", a->threads, "Worker threads (results are deterministic per thread count)")
      ->check(CLI::Range(1, 256))
      ->capture_default_str();
  sub->add_option("--subset", a->subset, "Train on the first N training images only")->check(CLI::PositiveNumber);
  sub->add_option("--json", a->json, "Write metrics as JSON to this file ('-' for stdout)");
  sub->add_flag("--quiet,-q", a->quiet, "No summary and no progress bar");
  return {sub, [a] { return run_train(*a); }};
}

}  // namespace qlite::cli
