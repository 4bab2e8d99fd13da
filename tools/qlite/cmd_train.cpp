// qlite train: trains a float model (the seed by default) and saves it.
#include <charconv>
#include <chrono>
#include <cstdlib>
#include <limits>
#include <filesystem>

#include "cli.h"
#include "qlite/data.h"
#include "qlite/train.h"
#include "train/model_json.h"

namespace qlite::cli {
namespace {

struct TrainArgs {
  std::string model = "seed";
  double alpha = 1.0;
  std::string input_shape;  // HxWxC; empty: the builder's default for the data
  std::string data = "fashion-mnist";
  std::string out;
  std::string json;
  std::string optimizer = "adam";
  FitFlags fit;  // batch 32
  double lr = -1;  // optimizer default
  int threads = 1;
  int64_t subset = 0;
  bool quiet = false;
  std::string resume;           // a model directory to continue training (weights and optimizer state)
  std::string initial_weights;  // a model directory whose weights start training (fresh optimizer)
  // Which flags were given (a flag's default cannot be told from an explicit value).
  const CLI::Option* model_flag = nullptr;
  const CLI::Option* optimizer_flag = nullptr;
};

// --model: a built-in architecture (seed, mobilenet-style, mobilenet_v1,
// mobilenet_v2), a model.json, or a model directory (its model.json: the
// architecture only, the weights are initialized from --seed).
std::unique_ptr<Model> make_model(const TrainArgs& a, const Dataset& ds) {
  const int num_classes = ds.num_classes;
  namespace fs = std::filesystem;
  if (a.model == "seed") return make_seed_model(num_classes, a.fit.seed);
  if (is_builtin_architecture(a.model)) {
    std::unique_ptr<Model> model;
    try {
      model = builtin_architecture(a.model, a.alpha, a.input_shape,
                                   Shape(ds.train.x.shape().begin() + 1, ds.train.x.shape().end()), num_classes);
    } catch (const Error& e) {
      throw Error("--model " + a.model + ": " + e.what());
    }
    model->build(a.fit.seed);
    return model;
  }
  // The architecture of --initial-weights DIR when --model is not given:
  // errors name the flag the user wrote.
  const std::string flag = a.model_flag->count() == 0 && !a.initial_weights.empty() ? "--initial-weights" : "--model";
  std::error_code ec;
  require(fs::exists(a.model, ec), flag + " " + a.model + ": no such file (expected " + builtin_architecture_names() + " or a model.json)");
  const std::string path = fs::is_directory(a.model, ec) ? (fs::path(a.model) / "model.json").string() : a.model;
  require(fs::exists(path, ec), flag + " " + a.model + " is a directory without model.json (expected 'seed', a model.json or a model directory)");
  const json j = read_json_file(path, flag);
  std::unique_ptr<Model> model;
  try {
    model = model_from_json(j);
  } catch (const Error& e) {
    throw Error(path + ": " + e.what());
  } catch (const json::exception& e) {
    throw Error(path + ": " + e.what());
  }
  warn_unknown_config_keys(j, *model, path);
  // model_from_json builds (with seed 0) to check the shapes; the weights
  // must start from --seed, so the same graph is made again from fresh,
  // unbuilt layers and built with it.
  std::unique_ptr<Model> fresh = fresh_model_from_config(*model);
  fresh->build(a.fit.seed);
  return fresh;
}

int run_train(TrainArgs a) {
  namespace fs = std::filesystem;
  // --initial-weights DIR without --model trains DIR's architecture.
  if (!a.initial_weights.empty() && a.model_flag->count() == 0) a.model = a.initial_weights;
  Outputs outputs;
  // Training from a model directory's architecture must not replace it; a
  // model.json given by name must not be the one --out writes.
  std::error_code ec;
  const bool builtin = a.model == "seed" || is_builtin_architecture(a.model);
  require(is_builtin_architecture(a.model) || (a.alpha == 1.0 && a.input_shape.empty()),
          "--alpha and --input-shape apply to mobilenet-style, mobilenet_v1 and mobilenet_v2, not to --model " +
              a.model);
  require(a.resume.empty() || (a.model_flag->count() == 0 && a.alpha == 1.0 && a.input_shape.empty()),
          "--resume " + a.resume + " continues that model's architecture: drop --model, --alpha and --input-shape");
  for (const auto& [dir, flag] : {std::pair{a.resume, "--resume"}, std::pair{a.initial_weights, "--initial-weights"}})
    if (!dir.empty()) outputs.input_dir(dir, flag);  // the model it starts from stays as it is
  if (!builtin && fs::is_directory(a.model, ec)) outputs.input_dir(a.model, "--model");
  if (!builtin && !fs::is_directory(a.model, ec))
    require(!(path_within(a.model, (fs::path(a.out) / "model.json").string()) &&
              path_within((fs::path(a.out) / "model.json").string(), a.model)),
            "--out " + a.out + " would overwrite the input --model " + a.model + ": write it elsewhere");
  outputs.dir(a.out, "--out", {"model.json", "model.safetensors", "optimizer.safetensors"});
  outputs.json_file(a.json);
  Dataset ds = load_dataset(a.data);
  std::unique_ptr<Model> model;
  if (!a.resume.empty()) {
    model = load_model_dir(a.resume, "--resume");
    require(model->compiled() && model->optimizer()->state().iterations > 0,
            "--resume " + a.resume + " holds no optimizer state (a model saved before training, or by an older "
            "qlite); start from its weights with --initial-weights instead");
    if (a.optimizer_flag->count() > 0)
      require(a.optimizer == (model->optimizer()->name() == "Adam" ? "adam" : "sgd"),
              "--optimizer " + a.optimizer + " differs from the optimizer of --resume " + a.resume + " (" +
                  model->optimizer()->name() + ")");
    if (a.lr > 0) model->optimizer()->learning_rate = static_cast<float>(a.lr);
  } else {
    model = make_model(a, ds);
    if (!a.initial_weights.empty()) {
      try {
        load_weights(*model, a.initial_weights);
      } catch (const Error& e) {
        throw Error("--initial-weights " + a.initial_weights + ": " + e.what());
      }
    }
  }
  fit_images_to_model(model->input_shape(), ds, a.data);
  const Split train = first_n(ds.train, a.subset);
  const int64_t classes = model->output_shape().empty() ? 0 : model->output_shape().back();
  if (model->output_shape().size() != 1 || classes < ds.num_classes)
    throw Error("model output shape " + shape_str(model->output_shape()) + " cannot hold the " +
                std::to_string(ds.num_classes) + " classes of " + a.data);

  std::unique_ptr<Optimizer> opt;
  float lr = 0;
  if (!a.resume.empty()) {
    lr = model->optimizer()->learning_rate;
  } else if (a.optimizer == "adam") {
    AdamOptions o;
    if (a.lr > 0) o.learning_rate = static_cast<float>(a.lr);
    lr = o.learning_rate;
    opt = Adam(o);
  } else {
    SgdOptions o;
    if (a.lr > 0) o.learning_rate = static_cast<float>(a.lr);
    lr = o.learning_rate;
    opt = SGD(o);
  }
  // The rate used, as the shortest decimal of its float (0.001, not 0.0010000000474974513).
  char lr_text[32];
  const double learning_rate = std::strtod(
      std::string(lr_text, std::to_chars(lr_text, lr_text + sizeof lr_text, lr).ptr).c_str(), nullptr);
  if (opt) model->compile(std::move(opt), loss_for(*model));  // --resume keeps the saved optimizer and its state
  model->set_threads(a.threads);
  const int64_t initial_epoch = model->epochs_trained();
  FILE* out = human_out(a.json);
  if (!a.quiet) std::fprintf(out, "%s\n", model->summary().c_str());

  FitOptions fo = fit_options(a.fit, show_progress(a.quiet));
  require(initial_epoch + a.fit.epochs <= std::numeric_limits<int>::max(), "--resume: too many epochs");
  fo.initial_epoch = static_cast<int>(initial_epoch);  // the shuffle continues where the saved run stopped
  History h = model->fit(train.x, train.y, fo);

  EvalResult test = model->evaluate(ds.test.x, ds.test.y, 256);
  stage_model(*model, a.out, outputs.staging());

  if (!a.quiet) {
    std::fprintf(out, "test accuracy %.4f, test loss %.4f; trained %lld images at %.0f images/s (%d thread%s)\n",
                test.accuracy, test.loss, static_cast<long long>(h.train_samples * a.fit.epochs),
                h.images_per_second, a.threads, a.threads == 1 ? "" : "s");
  }
  if (!a.json.empty()) {
    json j;
    j["command"] = "train";
    j["data"] = a.data;
    j["model"] = a.resume.empty() ? a.model : a.resume;  // --resume trains the saved architecture
    j["out"] = a.out;
    put_fit_json(j, a.fit, h);
    j["optimizer"] = model->optimizer()->name() == "Adam" ? "adam" : "sgd";
    if (!a.resume.empty()) j["resume"] = a.resume;
    if (!a.initial_weights.empty()) j["initial_weights"] = a.initial_weights;
    j["initial_epoch"] = initial_epoch;
    j["epochs_trained"] = model->epochs_trained();
    j["lr"] = learning_rate;
    j["test_accuracy"] = test.accuracy;
    j["test_loss"] = test.loss;
    j["test_samples"] = test.samples;
    outputs.stage_metrics_json(a.json, j, a.threads);
  }
  outputs.commit();  // "saved" only once it is (a --json destination can still refuse the bytes)
  if (!a.quiet) std::fprintf(out, "saved %s/model.json and %s/model.safetensors\n", a.out.c_str(), a.out.c_str());
  return 0;
}

}  // namespace

Command add_train(CLI::App& app) {
  auto a = std::make_shared<TrainArgs>();
  CLI::App* sub = app.add_subcommand("train", "Train a float model (the seed model by default) and save it");
  a->model_flag = sub->add_option("--model", a->model,
                  "seed, mobilenet-style, mobilenet_v1, mobilenet_v2, a model.json, or a model directory (its "
                  "architecture; weights start from --seed)")
      ->check(non_empty())
      ->capture_default_str();
  sub->add_option("--alpha", a->alpha, "Width multiplier of mobilenet_v1 / mobilenet_v2")
      ->check(finite_range(0.0, 4.0, true))
      ->capture_default_str();
  sub->add_option("--input-shape", a->input_shape,
                  "HxWxC input of a built-in architecture (default: the data's images, one channel)")
      ->check(non_empty());
  add_data_flag(sub, a->data);
  sub->add_option("--out", a->out, "Directory to save the model to")->required()->check(non_empty());
  add_fit_flags(sub, a->fit);
  a->optimizer_flag = sub->add_option("--optimizer", a->optimizer, "adam or sgd")->check(CLI::IsMember({"adam", "sgd"}))->capture_default_str();
  sub->add_option("--lr", a->lr, "Learning rate (default: 0.001 for adam, 0.01 for sgd)")
      ->check(finite_range(0.0, std::numeric_limits<float>::max(), true));
  sub->add_option("--seed", a->fit.seed, "Seed for weights and shuffling")->check(seed_value())->capture_default_str();
  add_threads_flag(sub, a->threads, kThreadsHelp);
  sub->add_option("--subset", a->subset, "Train on the first N training images only")->check(int_range(1));
  CLI::Option* resume =
      sub->add_option("--resume", a->resume,
                      "Continue training a model directory saved by qlite train: its architecture, weights, "
                      "optimizer state and epoch count (with the same data and flags, N + M epochs this way "
                      "equal one run of N + M)")
          ->check(non_empty());
  sub->add_option("--initial-weights", a->initial_weights,
                  "Start from the weights of this model directory (architecture: --model, else the directory's) "
                  "with a fresh optimizer")
      ->check(non_empty())
      ->excludes(resume);
  add_json_flag(sub, a->json);
  add_quiet_flag(sub, a->quiet, "No summary and no progress bar");
  return {sub, [a] { return run_train(*a); }};
}

}  // namespace qlite::cli
