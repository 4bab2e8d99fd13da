// qlite qat: quantization-aware fine-tuning of a saved float model; saves the
// quantized model (its evaluation is the exact int8 evaluation).
#include <limits>
#include <optional>
#include <set>
#include <sstream>

#include "cli.h"
#include "qlite/data.h"
#include "qlite/quant.h"
#include "qlite/train.h"

namespace qlite::cli {
namespace {

// The QAT layer classes must be known to load_model before any subcommand
// (qlite eval of a quantized directory) runs.
const bool kQatRegistered = [] {
  quant::register_qat_layers();
  return true;
}();

struct QatArgs {
  std::string model;
  std::string data = "fashion-mnist";
  std::string out;
  std::optional<std::string> only;
  std::string json;
  FitFlags fit{.batch_size = 500};
  double lr = 1e-3;
  int threads = 1;
  int64_t subset = 1000;
  int64_t freeze_bn_after = 0;
  bool compare_float = false;
  bool quiet = false;
};

// --only dense | NAME[,NAME...]: which layers to annotate.
std::unique_ptr<Model> annotate_only(const Model& model, const std::string& only, const quant::QuantizeOptions& qo) {
  std::set<std::string> names;
  std::stringstream ss(only);
  for (std::string item; std::getline(ss, item, ',');)
    if (!item.empty()) names.insert(item);
  require(!names.empty(), "--only needs 'dense' or a comma-separated list of layer names");
  // "dense" selects every Dense layer (in the seed model that is the layer named dense).
  const bool dense = names.erase("dense") > 0;
  for (const std::string& n : names)
    require(model.find_layer(n) != nullptr, "--only: model has no layer named '" + n + "'");
  auto annotated = clone_model(model, [&](const Layer& l) -> LayerPtr {
    LayerPtr copy(l.clone());
    const bool pick = (dense && l.type() == "Dense") || names.count(l.name()) > 0;
    return pick ? quant::quantize_annotate_layer(copy) : copy;
  });
  return quant::quantize_apply(*annotated, qo);
}

std::string fmt_number(double v) {
  std::ostringstream s;
  s << v;
  return s.str();
}

int run_qat(const QatArgs& a) {
  (void)kQatRegistered;
  Outputs outputs;
  outputs.input_dir(a.model, "--model");  // the float model stays as it is
  outputs.dir(a.out, "--out", {"model.json", "model.safetensors", "optimizer.safetensors"});
  outputs.json_file(a.json);
  auto base = load_model_dir(a.model, "--model");
  for (const Node& n : base->nodes())
    require(dynamic_cast<const quant::QuantizedLayer*>(n.layer.get()) == nullptr,
            a.model + " is already quantized (layer '" + n.layer->name() + "')");
  Dataset ds = load_dataset(a.data);
  fit_images_to_model(base->input_shape(), ds, a.data);
  const Split train = first_n(ds.train, a.subset);

  base->compile(Adam(), loss_for(*base));
  base->set_threads(a.threads);
  const EvalResult baseline = base->evaluate(ds.test.x, ds.test.y, 256);

  const quant::QuantizeOptions qo{.freeze_bn_after = a.freeze_bn_after};
  std::unique_ptr<Model> qat = !a.only ? quant::quantize_model(*base, qo) : annotate_only(*base, *a.only, qo);
  AdamOptions ao;
  ao.learning_rate = static_cast<float>(a.lr);
  qat->compile(Adam(ao), loss_for(*base));
  qat->set_threads(a.threads);
  FILE* out = human_out(a.json);
  if (!a.quiet) std::fprintf(out, "%s\n", qat->summary().c_str());
  History h;
  EvalResult test;
  try {
    h = qat->fit(train.x, train.y, fit_options(a.fit, show_progress(a.quiet)));
    test = qat->evaluate(ds.test.x, ds.test.y, 256);
  } catch (const Error& e) {
    // The integer evaluation (validation, test) refuses an int32 overflow:
    // biases that outgrew the learned ranges, a sign of a too large rate.
    const std::string m = e.what();
    if (m.find("int32 accumulator overflow") == std::string::npos) throw;
    throw Error("QAT's integer evaluation failed (" + m + "): the weights or biases outgrew what int8 arithmetic "
                "holds with the learned ranges; training diverged, lower the learning rate (--lr " +
                fmt_number(a.lr) + ")");
  }
  stage_model(*qat, a.out, outputs.staging());

  // The same fine-tuning without quantization, for the throughput ratio.
  std::optional<History> fh;
  std::optional<EvalResult> ftest;
  if (a.compare_float) {
    auto f = base->clone();
    f->compile(Adam(ao), loss_for(*base));
    f->set_threads(a.threads);
    fh = f->fit(train.x, train.y, fit_options(a.fit, show_progress(a.quiet)));
    ftest = f->evaluate(ds.test.x, ds.test.y, 256);
  }

  if (!a.quiet) {
    std::fprintf(out, "baseline (float) test accuracy %.4f\n", baseline.accuracy);
    std::fprintf(out, "QAT (int8 evaluation) test accuracy %.4f; trained %lld images at %.0f images/s\n", test.accuracy,
                static_cast<long long>(h.train_samples * a.fit.epochs), h.images_per_second);
    if (fh)
      std::fprintf(out, "float fine-tuning, same recipe: test accuracy %.4f at %.0f images/s (QAT/float %.2fx)\n",
                  ftest->accuracy, fh->images_per_second, h.images_per_second / fh->images_per_second);
  }
  if (!a.json.empty()) {
    json j;
    j["command"] = "qat";
    j["model"] = a.model;
    j["data"] = a.data;
    j["out"] = a.out;
    j["only"] = !a.only ? json(nullptr) : json(*a.only);
    put_fit_json(j, a.fit, h);
    j["lr"] = a.lr;
    j["subset"] = a.subset;
    j["freeze_bn_after"] = a.freeze_bn_after;
    json wrapped = json::array();
    for (const Layer* l : qat->unique_layers())
      if (dynamic_cast<const quant::QuantizedLayer*>(l)) wrapped.push_back(l->name());
    j["quantized_layers"] = wrapped;
    j["baseline_test_accuracy"] = baseline.accuracy;
    j["qat_test_accuracy"] = test.accuracy;
    j["qat_test_loss"] = test.loss;
    j["test_samples"] = test.samples;
    if (fh) {
      j["float_finetune_test_accuracy"] = ftest->accuracy;
      j["float_train_images_per_second"] = fh->images_per_second;
      j["qat_float_throughput_ratio"] = h.images_per_second / fh->images_per_second;
    }
    outputs.stage_metrics_json(a.json, j, a.threads);
  }
  outputs.commit();  // "saved" only once it is (a --json destination can still refuse the bytes)
  if (!a.quiet) std::fprintf(out, "saved %s/model.json and %s/model.safetensors\n", a.out.c_str(), a.out.c_str());
  return 0;
}

}  // namespace

Command add_qat(CLI::App& app) {
  auto a = std::make_shared<QatArgs>();
  CLI::App* sub = app.add_subcommand("qat", "Quantization-aware fine-tuning of a saved float model");
  sub->add_option("--model", a->model, "Float model directory (from qlite train)")->required()->check(non_empty());
  add_data_flag(sub, a->data);
  sub->add_option("--out", a->out, "Directory to save the quantized model to")->required()->check(non_empty());
  sub->add_option("--only", a->only, "Quantize only these layers: 'dense' (every Dense layer) or NAME,NAME,...")
      ->check(non_empty());
  sub->add_option("--subset", a->subset, "Fine-tune on the first N training images")
      ->check(int_range(1))
      ->capture_default_str();
  sub->add_option("--freeze-bn-after", a->freeze_bn_after,
                  "Train each Conv2D/DepthwiseConv2D/Dense + BatchNormalization with batch statistics (the fold "
                  "correction) for the first N optimizer steps, then freeze it (running statistics); 0 folds the "
                  "moving statistics from the start")
      ->check(int_range(0))
      ->capture_default_str();
  add_fit_flags(sub, a->fit);
  sub->add_option("--lr", a->lr, "Adam learning rate")
      ->check(finite_range(0.0, std::numeric_limits<float>::max(), true))
      ->capture_default_str();
  sub->add_option("--seed", a->fit.seed, "Seed for shuffling")->check(seed_value())->capture_default_str();
  add_threads_flag(sub, a->threads, kThreadsHelp);
  sub->add_flag("--compare-float", a->compare_float,
                "Also fine-tune the float model with the same recipe and report the throughput ratio");
  add_json_flag(sub, a->json);
  add_quiet_flag(sub, a->quiet, "No summary and no progress bar");
  return {sub, [a] { return run_qat(*a); }};
}

}  // namespace qlite::cli
