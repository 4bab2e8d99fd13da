#include "demo_report.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace qlite::cli {

std::string fmt(const char* format, double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, format, v);
  return buf;
}

std::string html_escape(const std::string& s) {
  std::string o;
  for (char c : s) {
    switch (c) {
      case '&': o += "&amp;"; break;
      case '<': o += "&lt;"; break;
      case '>': o += "&gt;"; break;
      case '"': o += "&quot;"; break;
      default: o += c;
    }
  }
  return o;
}

std::string join(const std::vector<std::string>& items, const std::string& sep) {
  std::string o;
  for (size_t i = 0; i < items.size(); ++i) o += (i ? sep : "") + items[i];
  return o;
}

namespace {

std::string pct(double a) { return fmt("%.2f%%", 100 * a); }
std::string pts(double d) { return fmt("%+.2f", d); }
// Microseconds with one decimal below 10 (int8 latencies are a few us).
std::string us(double v) { return fmt(v < 10 ? "%.1f" : "%.0f", v); }
std::string kb(size_t bytes) { return fmt("%.1f KB", static_cast<double>(bytes) / 1024); }

// Index of the best variant among those passing `keep`, by `better`; -1 when none.
template <class Keep, class Better>
int pick(const std::vector<DemoVariant>& v, Keep keep, Better better) {
  int best = -1;
  for (int i = 0; i < static_cast<int>(v.size()); ++i)
    if (keep(v[i]) && (best < 0 || better(v[i], v[best]))) best = i;
  return best;
}

// Higher accuracy first; then the smaller file; then the lower latency.
bool more_accurate(const DemoVariant& a, const DemoVariant& b) {
  if (a.test_accuracy != b.test_accuracy) return a.test_accuracy > b.test_accuracy;
  if (a.size_bytes != b.size_bytes) return a.size_bytes < b.size_bytes;
  return a.latency_us_median < b.latency_us_median;
}

std::string summary(const DemoVariant& v) {
  return v.name + " (" + pct(v.test_accuracy) + ", " + pts(v.delta_points) + " points vs float, " + kb(v.size_bytes) +
         ", " + us(v.latency_us_median) + " us per image)";
}

bool is_int8(const DemoVariant& v) { return v.mode == "int8"; }
bool starts_with(const std::string& s, const std::string& p) { return s.rfind(p, 0) == 0; }

}  // namespace

std::vector<std::string> demo_reading(const DemoResults& r) {
  const auto& v = r.variants;
  std::vector<std::string> out;
  if (v.empty()) return out;
  auto any = [](const DemoVariant&) { return true; };
  out.push_back("The float baseline reaches " + pct(r.baseline_accuracy) + " on " +
                std::to_string(v.front().test_samples) + " " + r.data + " test images.");

  const int acc = pick(v, any, more_accurate);
  std::vector<std::string> ties;
  for (const auto& x : v)
    if (x.test_accuracy == v[acc].test_accuracy && x.name != v[acc].name) ties.push_back(x.name);
  out.push_back("For accuracy, ship " + summary(v[acc]) +
                (ties.empty() ? "." : "; " + join(ties, ", ") + " scored exactly the same."));

  // Sizes within 2% of the smallest count as equal; of those, the most
  // accurate integer-only file wins (an int8 choice must be integer only), and
  // a more accurate mixed or float file among them is named with the reason
  // it lost. The sentence states the rule.
  const int smallest = pick(v, any, [](const DemoVariant& a, const DemoVariant& b) { return a.size_bytes < b.size_bytes; });
  const double size_cut = 1.02 * static_cast<double>(v[smallest].size_bytes);
  auto small = [&](const DemoVariant& x) { return static_cast<double>(x.size_bytes) <= size_cut; };
  const int size_int = pick(v, [&](const DemoVariant& x) { return small(x) && x.integer_only; }, more_accurate);
  const int size_any = pick(v, small, more_accurate);
  const std::string within = "the files within 2% of the smallest (" + v[smallest].name + ", " + kb(v[smallest].size_bytes) + ")";
  if (size_int >= 0) {
    std::string s = "For size, ship " + summary(v[size_int]) + ", " + fmt("%.4f", v[size_int].size_ratio) +
                    "x the float32 file: the most accurate integer-only file among " + within;
    if (v[size_any].test_accuracy > v[size_int].test_accuracy)
      s += "; " + v[size_any].name + " scores " + fmt("%.2f", 100 * (v[size_any].test_accuracy - v[size_int].test_accuracy)) +
           " points more but is not integer only" +
           (v[size_any].float_ops.empty() ? "" : " (it keeps " + join(v[size_any].float_ops, ", ") + " in float)");
    out.push_back(s + ".");
  } else {
    out.push_back("For size, ship " + summary(v[size_any]) + ", " + fmt("%.4f", v[size_any].size_ratio) +
                  "x the float32 file: the most accurate of " + within + "; none of them is integer only.");
  }

  // Latencies within 5% of the fastest count as equal (timing noise); the most accurate wins.
  const int fastest =
      pick(v, any, [](const DemoVariant& a, const DemoVariant& b) { return a.latency_us_median < b.latency_us_median; });
  const double lat_cut = 1.05 * v[fastest].latency_us_median;
  const int speed = pick(v, [&](const DemoVariant& x) { return x.latency_us_median <= lat_cut; }, more_accurate);
  const int thr = pick(v, any, [](const DemoVariant& a, const DemoVariant& b) {
    return a.images_per_second > b.images_per_second;
  });
  std::string s = "For speed, ship " + summary(v[speed]) + "; at batch 256 it runs " +
                  fmt("%.0f", v[speed].images_per_second) + " images/s";
  if (thr != speed) s += " (the highest batch-256 throughput is " + v[thr].name + "'s, " + fmt("%.0f", v[thr].images_per_second) + " images/s)";
  out.push_back(s + ".");

  const int npu = pick(v, [](const DemoVariant& x) { return x.integer_only; }, more_accurate);
  if (npu >= 0)
    out.push_back("For an int8-only NPU (every op but the float I/O conversion on integers), ship " + summary(v[npu]) + ".");
  else
    out.push_back("No variant is integer only: none would run on an int8-only NPU.");

  const int ptq = pick(v, [](const DemoVariant& x) { return is_int8(x) && !x.quantization_aware; }, more_accurate);
  const int qat = pick(v, [](const DemoVariant& x) { return starts_with(x.model, "qat-whole"); }, more_accurate);
  if (ptq >= 0 && qat >= 0) {
    const double d = v[qat].delta_points - v[ptq].delta_points;
    out.push_back("Whole-model QAT (" + v[qat].name + ", " + pts(v[qat].delta_points) +
                  " points vs float) " +
                  (std::abs(d) < 0.005 ? std::string("scores the same as")
                                       : "is " + fmt("%.2f", std::abs(d)) + " points " + (d > 0 ? "above" : "below")) +
                  " full-integer PTQ (" + v[ptq].name + ", " + pts(v[ptq].delta_points) + " points).");
  }
  std::vector<std::string> mixed;
  for (const auto& x : v)
    if (!x.integer_only && x.quantization_aware) mixed.push_back(x.name + " keeps " + join(x.float_ops, ", ") + " in float");
  if (!mixed.empty())
    out.push_back("Dense-only QAT is not integer only: " + join(mixed, "; ") + ".");

  // Size and latency against float32, for the integer-only int8 files apart
  // from the mixed ones (selective QAT keeps float layers, which weigh and
  // run as in float32).
  const int f32 = pick(v, [](const DemoVariant& x) { return x.mode == "float32"; }, more_accurate);
  for (const bool integer : {true, false}) {
    double max_ratio = 0, max_lat = 0, min_lat = 1e300;
    int n = 0;
    for (const auto& x : v)
      if (is_int8(x) && x.integer_only == integer) {
        ++n;
        max_ratio = std::max(max_ratio, x.size_ratio);
        max_lat = std::max(max_lat, x.latency_us_median);
        min_lat = std::min(min_lat, x.latency_us_median);
      }
    if (f32 < 0 || n == 0) continue;
    const std::string what = std::to_string(n) + (integer ? " integer-only int8 file" : " mixed int8/float32 file") +
                             (n > 1 ? "s are" : " is");
    const std::string lat = us(min_lat) == us(max_lat) ? us(min_lat) : us(min_lat) + "-" + us(max_lat);
    out.push_back("The " + what + " at most " + fmt("%.4f", max_ratio) + "x the float32 file; " +
                  (n > 1 ? "their" : "its") + " batch-1 latency is " + lat + " us against " +
                  us(v[f32].latency_us_median) + " us for float32.");
  }
  return out;
}

// "OP (layer)" entries once each, in first-seen order, with "x2" for repeats
// (float16 has two DEQUANTIZEs per layer); the JSON keeps the full list.
std::string compact_ops(const std::vector<std::string>& ops) {
  if (ops.empty()) return "-";
  std::vector<std::pair<std::string, int>> seen;
  for (const auto& op : ops) {
    auto it = std::find_if(seen.begin(), seen.end(), [&](const auto& p) { return p.first == op; });
    if (it == seen.end()) seen.emplace_back(op, 1);
    else ++it->second;
  }
  std::vector<std::string> out;
  for (const auto& [op, n] : seen) out.push_back(n > 1 ? op + " x" + std::to_string(n) : op);
  return join(out, ", ");
}

std::vector<std::vector<std::string>> demo_table(const DemoResults& r) {
  std::vector<std::vector<std::string>> t = {{"variant", "test acc", "vs float (pts)", "size", "x float32",
                                              "latency us (b=1)", "images/s (b=256)", "integer only", "float ops"}};
  for (const auto& v : r.variants)
    t.push_back({v.name, pct(v.test_accuracy), pts(v.delta_points), kb(v.size_bytes), fmt("%.4f", v.size_ratio),
                 fmt("%.1f", v.latency_us_median), fmt("%.0f", v.images_per_second), v.integer_only ? "yes" : "no",
                 compact_ops(v.float_ops)});
  return t;
}

std::string demo_table_text(const DemoResults& r) {
  const auto t = demo_table(r);
  std::vector<size_t> w(t[0].size(), 0);
  for (const auto& row : t)
    for (size_t c = 0; c < row.size(); ++c) w[c] = std::max(w[c], row[c].size());
  auto line = [&](const std::vector<std::string>& cells) {
    std::string s;
    for (size_t c = 0; c < cells.size(); ++c) {
      // Text columns left-aligned, numbers right-aligned.
      const bool left = c == 0 || c + 1 == cells.size() || c + 2 == cells.size();
      const std::string pad(w[c] - cells[c].size(), ' ');
      s += (c ? "  " : "") + (left ? cells[c] + (c + 1 == cells.size() ? "" : pad) : pad + cells[c]);
    }
    return s + "\n";
  };
  std::string s;
  for (const auto& row : t) s += line(row);
  return s;
}

std::string demo_markdown(const DemoResults& r) {
  std::string s = "# qlite demo: which quantization to ship\n\n";
  s += "Dataset: " + r.data + ". Float baseline (Keras-side evaluation): " + pct(r.baseline_accuracy) +
       ". Accuracies are measured by the qlite runtime on each `.tflite` file (what `qlite eval FILE` reports); "
       "latency and throughput on one thread.\n\n";
  const auto t = demo_table(r);
  const size_t cols = t[0].size();
  for (size_t i = 0; i < t.size(); ++i) {
    s += "| " + join(t[i], " | ") + " |\n";
    if (i == 0) {
      s += "|";
      for (size_t c = 0; c < cols; ++c) s += (c == 0 || c + 2 >= cols) ? " --- |" : " ---: |";
      s += "\n";
    }
  }
  s += "\n## Reading\n\n";
  for (const auto& line : demo_reading(r)) s += "- " + line + "\n";
  s += "\n## Variants\n\n";
  for (const auto& v : r.variants)
    s += "- `" + v.file + "`: " + v.description + " (from the " + v.model + " model; ops: " + join(v.ops, ", ") + ")\n";
  return s;
}

nlohmann::json demo_json(const DemoResults& r) {
  nlohmann::json j = r.extra;
  j["command"] = "demo";
  j["data"]["name"] = r.data;
  j["baseline"]["test_accuracy"] = r.baseline_accuracy;
  j["variants"] = nlohmann::json::array();
  for (const auto& v : r.variants) {
    j["variants"].push_back({{"name", v.name},
                             {"description", v.description},
                             {"file", v.file},
                             {"model", v.model},
                             {"mode", v.mode},
                             {"io", v.io},
                             {"test_accuracy", v.test_accuracy},
                             {"test_samples", v.test_samples},
                             {"delta_points", v.delta_points},
                             {"size_bytes", v.size_bytes},
                             {"size_ratio", v.size_ratio},
                             {"latency_us_median", v.latency_us_median},
                             {"latency_runs", v.latency_runs},
                             {"images_per_second", v.images_per_second},
                             {"throughput_batch", v.throughput_batch},
                             {"throughput_runs", v.throughput_runs},
                             {"integer_only", v.integer_only},
                             {"quantization_aware", v.quantization_aware},
                             {"ops", v.ops},
                             {"float_ops", v.float_ops},
                             {"timings_s", {{"convert", v.convert_s}, {"eval", v.eval_s}, {"bench", v.bench_s}}}});
  }
  j["reading"] = demo_reading(r);
  return j;
}

}  // namespace qlite::cli
