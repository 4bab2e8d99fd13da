#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "cli.h"

namespace qlite::cli {

void write_json_file(const std::string& path, const nlohmann::json& j) {
  const std::string text = j.dump(2) + "\n";
  if (path == "-") {
    std::fwrite(text.data(), 1, text.size(), stdout);
    return;
  }
  namespace fs = std::filesystem;
  const fs::path target(path);
  if (target.has_parent_path() && !fs::exists(target.parent_path()))
    throw Error("cannot write " + path + ": directory " + target.parent_path().string() + " does not exist");
  const std::string tmp = path + ".tmp" + std::to_string(::getpid());
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out) throw Error("cannot write " + path + ": " + std::strerror(errno));
    out << text;
    out.flush();
    if (!out) {
      std::error_code ec;
      fs::remove(tmp, ec);
      throw Error("cannot write " + path + ": write failed");
    }
  }
  std::error_code ec;
  fs::rename(tmp, target, ec);
  if (ec) {
    fs::remove(tmp, ec);
    throw Error("cannot write " + path + ": " + ec.message());
  }
}

bool show_progress(bool quiet) { return !quiet && ::isatty(STDERR_FILENO); }

nlohmann::json environment_json(int threads) {
  nlohmann::json j;
  j["qlite_version"] = "0.1.0";
  j["isa"] = isa_name(active_isa());
  j["threads"] = threads;
  j["hardware_threads"] = hardware_threads();
  return j;
}

void require_input_matches(const Shape& model_input, const Tensor& x, const std::string& data) {
  const Shape sample(x.shape().begin() + 1, x.shape().end());
  if (model_input != sample)
    throw Error("model input shape " + shape_str(model_input) + " does not match the " + data + " images " +
                shape_str(sample));
}

void require(bool cond, const std::string& message) {
  if (!cond) throw Error(message);
}

void add_data_flag(CLI::App* sub, std::string& data, const std::string& help) {
  sub->add_option("--data", data, help)->capture_default_str();
}

void add_threads_flag(CLI::App* sub, int& threads, const std::string& help) {
  sub->add_option("--threads", threads, help)->check(CLI::Range(1, 256))->capture_default_str();
}

void add_json_flag(CLI::App* sub, std::string& json, const std::string& help) {
  sub->add_option("--json", json, help);
}

void add_quiet_flag(CLI::App* sub, bool& quiet, const std::string& help) { sub->add_flag("--quiet,-q", quiet, help); }

void add_fit_flags(CLI::App* sub, FitFlags& f) {
  sub->add_option("--epochs", f.epochs)->check(CLI::PositiveNumber)->capture_default_str();
  sub->add_option("--batch-size", f.batch_size)->check(CLI::PositiveNumber)->capture_default_str();
  sub->add_option("--validation-split", f.validation_split, "Fraction of the training data held out (the last part)")
      ->check(CLI::Range(0.0, 0.99))
      ->capture_default_str();
}

FitOptions fit_options(const FitFlags& f, bool progress) {
  FitOptions fo;
  fo.epochs = f.epochs;
  fo.batch_size = f.batch_size;
  fo.validation_split = f.validation_split;
  fo.seed = f.seed;
  if (progress) fo.on_progress = console_progress(stderr);
  return fo;
}

void put_fit_json(nlohmann::json& j, const FitFlags& f, const History& h) {
  j["epochs"] = f.epochs;
  j["batch_size"] = f.batch_size;
  j["validation_split"] = f.validation_split;
  j["seed"] = f.seed;
  j["train_samples"] = h.train_samples;
  j["val_samples"] = h.val_samples;
  j["history"] = {{"loss", h.loss}, {"accuracy", h.accuracy}, {"val_loss", h.val_loss},
                  {"val_accuracy", h.val_accuracy}};
  j["train_images_per_second"] = h.images_per_second;
}

Split first_n(const Split& s, int64_t n) {
  if (n > 0 && n < s.x.dim(0)) return take(s, 0, n);
  return s;
}

void write_metrics_json(const std::string& path, nlohmann::json j, int threads) {
  j["environment"] = environment_json(threads);
  write_json_file(path, j);
}

}  // namespace qlite::cli
