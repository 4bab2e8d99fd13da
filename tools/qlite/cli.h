// Shared pieces of the qlite command-line tool.
#pragma once

#include <cstdio>
#include <string>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "qlite/core.h"

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

// Writes JSON to path atomically (temp file + rename); "-" means stdout.
void write_json_file(const std::string& path, const nlohmann::json& j);

// True when progress should be drawn: stderr is a terminal and not --quiet.
bool show_progress(bool quiet);

// Machine and build facts recorded in every --json output.
nlohmann::json environment_json(int threads);

// Throws Error when the model's per-sample input shape differs from the
// images of `data` (x is [N, H, W]): names both shapes.
void require_input_matches(const Shape& model_input, const Tensor& x, const std::string& data);

// Validation helpers for flags that CLI11 cannot express as ranges.
void require(bool cond, const std::string& message);

}  // namespace qlite::cli
