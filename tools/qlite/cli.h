// Shared pieces of the qlite command-line tool.
#pragma once

#include <cstdio>
#include <limits>
#include <string>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "qlite/core.h"
#include "qlite/fileio.h"
#include "qlite/data.h"
#include "qlite/train.h"

namespace qlite::cli {

// Each subcommand registers its flags on `app` and returns the function that runs it.
struct Command {
  CLI::App* sub = nullptr;
  std::function<int()> run;
};

Command add_train(CLI::App& app);
Command add_eval(CLI::App& app);
Command add_inspect(CLI::App& app);
Command add_run(CLI::App& app);
Command add_qat(CLI::App& app);
Command add_convert(CLI::App& app);
Command add_demo(CLI::App& app);
Command add_bench(CLI::App& app);

// Writes JSON to path atomically (qlite/fileio.h); "-" means stdout.
void write_json_file(const std::string& path, const nlohmann::json& j);

// Every output of a command: each path is checked when declared, before any
// work starts (its directory exists and accepts files, it is not a directory
// where a file is expected, no two outputs share a path, none lies inside a
// declared input directory); the contents are staged at the end and committed
// together, so a command that fails changes nothing on disk. A JSON output
// "-" is printed to stdout after the commit.
class Outputs {
 public:
  // Inputs that no output may overwrite or lie inside (a model directory).
  void input_dir(const std::string& path, const std::string& flag);
  void file(const std::string& path, const std::string& flag);
  void json_file(const std::string& path, const std::string& flag = "--json");  // "" = none, "-" = stdout
  // A directory output and the file names the command writes into it.
  void dir(const std::string& path, const std::string& flag, std::vector<std::string> files);

  StagedFiles& staging() { return staging_; }
  void stage_json(const std::string& path, const nlohmann::json& j);
  void stage_metrics_json(const std::string& path, nlohmann::json j, int threads);
  void commit();

 private:
  void claim(const std::string& path, const std::string& flag);
  struct DirOutput {
    std::string path, flag;
    std::vector<std::string> files;
  };
  std::vector<std::pair<std::string, std::string>> claimed_;  // path, flag
  std::vector<DirOutput> dirs_;
  std::vector<std::pair<std::string, std::string>> inputs_;
  StagedFiles staging_;
  std::string stdout_text_;
};


// True when progress should be drawn: stderr is a terminal and not --quiet.
bool show_progress(bool quiet);

// Machine and build facts recorded in every --json output.
nlohmann::json environment_json(int threads);

// Makes the images of `data` (x is [N, H, W]) the model's input: as they
// are, or as (H, W, 1) when the model takes one channel. Throws Error naming
// both shapes otherwise.
void fit_images_to_model(const Shape& model_input, Dataset& ds, const std::string& data);

// The built-in architectures besides the seed model: mobilenet-style (the
// reference network), mobilenet_v1, mobilenet_v2 (qlite/train/applications.h).
bool is_builtin_architecture(const std::string& name);
// Cross-entropy on the model's output: on probabilities when the last layer
// ends in softmax (keras.applications' classifiers), on logits otherwise.
SparseCategoricalCrossentropy loss_for(const Model& model);
std::string builtin_architecture_names();  // "'seed', 'mobilenet-style', ..." for messages
// The unbuilt model; input_shape "HxWxC" or empty for the images' shape
// (image_shape, with one channel added to (H, W)). Error on bad values.
std::unique_ptr<Model> builtin_architecture(const std::string& name, double alpha, const std::string& input_shape,
                                            const Shape& image_shape, int num_classes);

// A double flag that must be a finite number in [lo, hi] ((lo, hi] when
// lo_open). CLI11's Range and PositiveNumber let "nan" through.
CLI::Validator finite_range(double lo, double hi, bool lo_open = false);

// An integer flag in [lo, hi]: "must be at least 1", "must be an integer"
// (main() prints "--epochs must be at least 1"). CLI11's Range and
// PositiveNumber print the limits as 310-digit doubles.
CLI::Validator int_range(int64_t lo, int64_t hi = std::numeric_limits<int64_t>::max());
// A seed: a decimal integer in [0, 2^64 - 1] (CLI11 wraps "-1" to 2^64 - 1).
CLI::Validator seed_value();
// A flag whose value may not be the empty string.
CLI::Validator non_empty();

// Where a command prints its human summary: stderr when stdout carries the
// --json output ("-"), so that stdout is exactly one JSON document.
FILE* human_out(const std::string& json);

// Reads a JSON file (bounded) and parses it; Error names the path.
nlohmann::json read_json_file(const std::string& path, const std::string& what);

// Warns on stderr, one line per key, about keys of a layer config in the
// model JSON `j` that the loaded layer does not report in get_config(): a key
// qlite does not know (kernel_regularizer) is ignored, never silently.
void warn_unknown_config_keys(const nlohmann::json& j, const Model& model, const std::string& where);

// load_model(dir) for a CLI flag: the directory must exist and hold
// model.json (else one clear Error); unknown config keys are warned about.
std::unique_ptr<Model> load_model_dir(const std::string& dir, const std::string& flag);

// Validation helpers for flags that CLI11 cannot express as ranges.
void require(bool cond, const std::string& message);

// Flags several subcommands share, so that each has one spelling, range check
// and (unless a command needs its own wording) one help text.
inline constexpr const char* kDataHelp = "fashion-mnist, mnist, or a directory of IDX files";
inline constexpr const char* kJsonHelp = "Write metrics as JSON to this file ('-' for stdout)";
inline constexpr const char* kQuietHelp = "Print nothing but errors";
inline constexpr const char* kThreadsHelp = "Worker threads (results are deterministic per thread count)";
void add_data_flag(CLI::App* sub, std::string& data, const std::string& help = kDataHelp);
void add_threads_flag(CLI::App* sub, int& threads, const std::string& help = "");
void add_json_flag(CLI::App* sub, std::string& json, const std::string& help = kJsonHelp);
void add_quiet_flag(CLI::App* sub, bool& quiet, const std::string& help = kQuietHelp);

// The fit() settings of qlite train and qlite qat. The commands register
// --seed themselves: its help text says what each one seeds.
struct FitFlags {
  int epochs = 1;
  int batch_size = 32;
  double validation_split = 0.1;
  uint64_t seed = 0;
};
// Registers --epochs, --batch-size and --validation-split, in that order.
void add_fit_flags(CLI::App* sub, FitFlags& f);
FitOptions fit_options(const FitFlags& f, bool progress);
// The flags and the History's samples, curves and speed, under the keys that
// train and qat share.
void put_fit_json(nlohmann::json& j, const FitFlags& f, const History& h);

// The first n samples of s; all of s when n is 0 or not smaller than s.
Split first_n(const Split& s, int64_t n);

// Adds environment_json(threads) to a command's metrics and writes them.
void write_metrics_json(const std::string& path, nlohmann::json j, int threads);

}  // namespace qlite::cli
