// qlite demo's results and the three reports made from them (Markdown, JSON,
// self-contained HTML with inline SVG charts) plus the terminal table. Every
// sentence of the reading is computed from the numbers.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace qlite::cli {

struct DemoVariant {
  std::string name;         // "int8-ptq"
  std::string description;  // "full-integer PTQ, float32 I/O"
  std::string file;         // file name inside --out ("int8-ptq.tflite")
  std::string model;        // the trained model it was converted from ("baseline", "qat-whole-seed")
  std::string mode, io;     // converter mode and I/O type
  double test_accuracy = 0;
  int64_t test_samples = 0;
  double delta_points = 0;  // 100 * (test_accuracy - baseline accuracy)
  size_t size_bytes = 0;
  double size_ratio = 0;    // size_bytes / float32 size_bytes
  double latency_us_median = 0;
  int latency_runs = 0;
  double images_per_second = 0;
  int throughput_runs = 0;
  int throughput_batch = 0;
  bool integer_only = false;
  bool quantization_aware = false;
  std::vector<std::string> ops;
  std::vector<std::string> float_ops;
  double convert_s = 0, eval_s = 0, bench_s = 0;
};

struct DemoResults {
  std::string data;
  double baseline_accuracy = 0;  // the float Keras-side model on the same test images
  std::vector<DemoVariant> variants;
  nlohmann::json extra;  // baseline/QAT details, timings, seed, data, environment
};

// Sentences saying which variant to ship for accuracy, for size, for speed
// and for an int8-only NPU, and how QAT compares with PTQ.
std::vector<std::string> demo_reading(const DemoResults& r);

// The table: a header row, then one row per variant (shared by every format).
std::vector<std::vector<std::string>> demo_table(const DemoResults& r);
std::string demo_table_text(const DemoResults& r);  // fixed-width, for the terminal
std::string demo_markdown(const DemoResults& r);
nlohmann::json demo_json(const DemoResults& r);
std::string demo_html(const DemoResults& r);  // demo_html.cpp

// Helpers shared by the report writers.
std::string fmt(const char* format, double v);
std::string html_escape(const std::string& s);
std::string join(const std::vector<std::string>& items, const std::string& sep);

}  // namespace qlite::cli
