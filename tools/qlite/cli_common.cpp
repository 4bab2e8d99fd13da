#include <unistd.h>

#include <charconv>
#include <cmath>
#include <filesystem>
#include <sstream>

#include "cli.h"

namespace qlite::cli {

void write_json_file(const std::string& path, const nlohmann::json& j) {
  const std::string text = j.dump(2) + "\n";
  if (path == "-") {
    std::fwrite(text.data(), 1, text.size(), stdout);
    std::fflush(stdout);
    return;
  }
  write_file_atomic(path, text);
}

void Outputs::claim(const std::string& path, const std::string& flag) {
  for (const auto& [p, f] : inputs_)
    require(!path_within(path, p) && !path_within(p, path),
            flag + " " + path + " would overwrite the input " + f + " " + p + ": write it elsewhere");
  for (const auto& [p, f] : claimed_)
    require(!(path_within(path, p) && path_within(p, path)), flag + " and " + f + " both name " + path);
  claimed_.emplace_back(path, flag);
}

void Outputs::input_dir(const std::string& path, const std::string& flag) { inputs_.emplace_back(path, flag); }

void Outputs::file(const std::string& path, const std::string& flag) {
  namespace fs = std::filesystem;
  // A file inside a directory output (a report next to the model) is checked
  // with that directory, which may not exist yet.
  const fs::path parent = fs::path(path).parent_path();
  bool in_out_dir = false;
  for (const auto& d : dirs_) {
    if (parent.empty() || !path_within(parent.string(), d.path) || !path_within(d.path, parent.string())) continue;
    for (const std::string& name : d.files)
      require(fs::path(path).filename() != name, flag + " " + path + " would overwrite the " + name + " of " + d.flag);
    in_out_dir = true;
  }
  if (!in_out_dir) check_output_file(path, flag);
  claim(path, flag);
}

void Outputs::json_file(const std::string& path, const std::string& flag) {
  if (path.empty() || path == "-") return;
  file(path, flag);
}

void Outputs::dir(const std::string& path, const std::string& flag, std::vector<std::string> files) {
  check_output_dir(path, flag);
  claim(path, flag);
  dirs_.push_back({path, flag, std::move(files)});
}

void Outputs::stage_json(const std::string& path, const nlohmann::json& j) {
  if (path.empty()) return;
  const std::string text = j.dump(2) + "\n";
  if (path == "-")
    stdout_text_ += text;
  else
    staging_.add(path, text);
}

void Outputs::stage_metrics_json(const std::string& path, nlohmann::json j, int threads) {
  j["environment"] = environment_json(threads);
  stage_json(path, j);
}

void Outputs::commit() {
  staging_.commit();
  if (!stdout_text_.empty()) std::fwrite(stdout_text_.data(), 1, stdout_text_.size(), stdout);
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

void fit_images_to_model(const Shape& model_input, Dataset& ds, const std::string& data) {
  const Shape sample(ds.train.x.shape().begin() + 1, ds.train.x.shape().end());
  Shape with_channel = sample;
  with_channel.push_back(1);
  if (model_input == with_channel) {  // grayscale images, a model that takes (H, W, 1)
    for (Split* s : {&ds.train, &ds.test}) {
      Shape shape{s->x.dim(0)};
      shape.insert(shape.end(), model_input.begin(), model_input.end());
      s->x.reshape(shape);
    }
    return;
  }
  if (model_input != sample)
    throw Error("model input shape " + shape_str(model_input) + " does not match the " + data + " images " +
                shape_str(sample));
}

CLI::Validator int_range(int64_t lo, int64_t hi) {
  return CLI::Validator(
      [=](std::string& text) -> std::string {
        int64_t v = 0;
        const char* end = text.data() + text.size();
        const auto [ptr, ec] = std::from_chars(text.data(), end, v);
        if (text.empty() || ptr != end || (ec != std::errc() && ec != std::errc::result_out_of_range))
          return "must be an integer, got '" + text + "'";
        const bool low = ec == std::errc::result_out_of_range ? text[0] == '-' : v < lo;
        const bool high = ec == std::errc::result_out_of_range ? text[0] != '-' : v > hi;
        if (low) return "must be at least " + std::to_string(lo);
        if (high) return "must be at most " + std::to_string(hi);
        return std::string();
      },
      hi == std::numeric_limits<int64_t>::max() ? "INT >= " + std::to_string(lo)
                                                 : "INT in [" + std::to_string(lo) + ", " + std::to_string(hi) + "]");
}

CLI::Validator seed_value() {
  return CLI::Validator(
      [](std::string& text) -> std::string {
        uint64_t v = 0;
        const char* end = text.data() + text.size();
        const auto [ptr, ec] = std::from_chars(text.data(), end, v);
        if (text.empty() || ptr != end || ec != std::errc())
          return "must be an integer from 0 to 18446744073709551615, got '" + text + "'";
        return std::string();
      },
      "UINT64");
}

CLI::Validator non_empty() {
  return CLI::Validator(
      [](std::string& text) -> std::string { return text.empty() ? "must not be empty" : std::string(); }, "");
}

FILE* human_out(const std::string& json) { return json == "-" ? stderr : stdout; }

nlohmann::json read_json_file(const std::string& path, const std::string& what) {
  const std::vector<uint8_t> bytes = read_file_bounded(path, 64u << 20, what);
  try {
    return nlohmann::json::parse(bytes.begin(), bytes.end());
  } catch (const nlohmann::json::exception& e) {
    throw Error(path + ": not valid JSON: " + e.what());
  }
}

void warn_unknown_config_keys(const nlohmann::json& j, const Model& model, const std::string& where) {
  if (!j.is_object() || !j.contains("config") || !j["config"].is_object()) return;
  const nlohmann::json& layers = j["config"].value("layers", nlohmann::json::array());
  if (!layers.is_array()) return;
  for (const nlohmann::json& l : layers) {
    if (!l.is_object() || !l.contains("config") || !l["config"].is_object()) continue;
    const nlohmann::json& conf = l["config"];
    const Layer* layer = conf.contains("name") && conf["name"].is_string()
                             ? model.find_layer(conf["name"].get<std::string>())
                             : nullptr;
    if (layer == nullptr) continue;
    const nlohmann::json known = layer->get_config();
    for (const auto& [key, value] : conf.items())
      if (!known.contains(key))
        std::fprintf(stderr, "qlite: warning: %s: layer '%s' (%s): config key '%s' is not supported and is ignored\n",
                     where.c_str(), layer->name().c_str(), layer->type().c_str(), key.c_str());
  }
}

std::unique_ptr<Model> load_model_dir(const std::string& dir, const std::string& flag) {
  namespace fs = std::filesystem;
  std::error_code ec;
  require(fs::exists(dir, ec), flag + " " + dir + ": no such model directory");
  require(fs::is_directory(dir, ec),
          flag + " " + dir + " is a file; expected a model directory (from qlite train or qlite qat)");
  const std::string json_path = (fs::path(dir) / "model.json").string();
  require(fs::exists(json_path, ec), flag + " " + dir + " is not a model directory (no model.json in it)");
  auto model = load_model(dir);
  warn_unknown_config_keys(read_json_file(json_path, ""), *model, json_path);
  return model;
}

void require(bool cond, const std::string& message) {
  if (!cond) throw Error(message);
}

CLI::Validator finite_range(double lo, double hi, bool lo_open) {
  auto fmt = [](double v) {
    std::ostringstream s;
    s << v;
    return s.str();
  };
  const std::string range = (lo_open ? "(" : "[") + fmt(lo) + ", " + fmt(hi) + "]";
  return CLI::Validator(
      [=](std::string& text) -> std::string {
        double v = 0;
        try {
          size_t used = 0;
          v = std::stod(text, &used);
          if (used != text.size()) return "'" + text + "' is not a number";
        } catch (const std::exception&) {
          if (text.find_first_not_of("0123456789+-.eE") == std::string::npos) return "'" + text + "' is out of range " + range;
          return "'" + text + "' is not a number";
        }
        if (!std::isfinite(v) || v < lo || v > hi || (lo_open && v == lo))
          return "'" + text + "' must be a finite number in " + range;
        return std::string();
      },
      "FLOAT in " + range);
}

void add_data_flag(CLI::App* sub, std::string& data, const std::string& help) {
  sub->add_option("--data", data, help)->capture_default_str();
}

void add_threads_flag(CLI::App* sub, int& threads, const std::string& help) {
  sub->add_option("--threads", threads, help.empty() ? "Worker threads" : help)
      ->check(int_range(1, 256))
      ->capture_default_str();
}

void add_json_flag(CLI::App* sub, std::string& json, const std::string& help) {
  sub->add_option("--json", json, help)->check(non_empty());
}

void add_quiet_flag(CLI::App* sub, bool& quiet, const std::string& help) { sub->add_flag("--quiet,-q", quiet, help); }

void add_fit_flags(CLI::App* sub, FitFlags& f) {
  sub->add_option("--epochs", f.epochs, "Passes over the training data")
      ->check(int_range(1, 1000000))
      ->capture_default_str();
  sub->add_option("--batch-size", f.batch_size, "Images per training step")
      ->check(int_range(1, 1 << 24))
      ->capture_default_str();
  sub->add_option("--validation-split", f.validation_split, "Fraction of the training data held out (the last part)")
      ->check(finite_range(0.0, 0.99))
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

namespace qlite::cli {
namespace {
const char* const kArchitectures[] = {"mobilenet-style", "mobilenet_v1", "mobilenet_v2"};

Shape parse_input_shape(const std::string& text) {
  Shape s;
  size_t pos = 0;
  while (pos <= text.size()) {
    const size_t x = std::min(text.find('x', pos), text.size());
    int64_t v = 0;
    const auto [ptr, ec] = std::from_chars(text.data() + pos, text.data() + x, v);
    require(x > pos && ec == std::errc() && ptr == text.data() + x && v >= 1 && v <= 4096,
            "--input-shape must be HxWxC with each size in [1, 4096], got '" + text + "'");
    s.push_back(v);
    pos = x + 1;
  }
  require(s.size() == 3, "--input-shape must be HxWxC (three sizes), got '" + text + "'");
  return s;
}
}  // namespace

SparseCategoricalCrossentropy loss_for(const Model& model) {
  json c = model.layer(model.num_layers() - 1).get_config();
  if (c.contains("layer") && c["layer"].contains("config")) c = c["layer"]["config"];  // a QAT wrapper's inner layer
  const bool probabilities = c.contains("activation") && c["activation"] == "softmax";
  return SparseCategoricalCrossentropy{.from_logits = !probabilities};
}

bool is_builtin_architecture(const std::string& name) {
  for (const char* a : kArchitectures)
    if (name == a) return true;
  return false;
}

std::string builtin_architecture_names() {
  std::string s = "'seed'";
  for (const char* a : kArchitectures) s += std::string(", '") + a + "'";
  return s;
}

std::unique_ptr<Model> builtin_architecture(const std::string& name, double alpha, const std::string& input_shape,
                                            const Shape& image_shape, int num_classes) {
  Shape in = input_shape.empty() ? image_shape : parse_input_shape(input_shape);
  if (in.size() == 2) in.push_back(1);
  if (name == "mobilenet-style") {
    require(alpha == 1.0, "--alpha applies to mobilenet_v1 and mobilenet_v2 only");
    return applications::MobileNetStyle(in, num_classes);
  }
  const applications::MobileNetOptions o{.alpha = alpha, .input_shape = in, .classes = num_classes};
  if (name == "mobilenet_v1") return applications::MobileNetV1(o);
  return applications::MobileNetV2(o);
}

}  // namespace qlite::cli
