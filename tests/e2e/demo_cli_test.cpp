// End-to-end: qlite demo on a small subset writes every variant, its reports
// agree with `qlite eval`, with the QAT models' own integer evaluation and
// with a second run of the same seed; the HTML is well-formed and
// self-contained; the C++ example runs.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <map>
#include <regex>
#include <set>
#include <sstream>
#include <vector>

#include "cli_helpers.h"

using namespace qlite::testing;
using nlohmann::json;

namespace {

// Small enough for the ASan run; the speed measurements are cut short (their
// values are only checked for being positive).
constexpr int kSubset = 600;
const std::string kFast = " --latency-runs 20 --throughput-runs 1";

const std::vector<std::string> kVariants = {"float32",         "float16",        "dynamic",         "int8-ptq",
                                            "int8-ptq-int8io", "qat-whole-seed", "qat-whole-epoch", "qat-dense-seed",
                                            "qat-dense-epoch", "qat-whole-article"};
const std::set<std::string> kIntegerOnly = {"int8-ptq", "int8-ptq-int8io", "qat-whole-seed", "qat-whole-epoch",
                                            "qat-whole-article"};

// Every start tag is closed in order (void elements written as <x/>); returns
// "" when balanced, else what went wrong.
std::string unbalanced_tag(const std::string& html) {
  static const std::regex tag(R"(<(/?)([A-Za-z][A-Za-z0-9]*)[^>]*?(/?)>)");
  std::vector<std::string> stack;
  for (auto it = std::sregex_iterator(html.begin(), html.end(), tag); it != std::sregex_iterator(); ++it) {
    const auto& m = *it;
    if (m[3].length() > 0) continue;  // self-closing
    if (m[1].length() == 0) {
      stack.push_back(m[2]);
    } else {
      if (stack.empty() || stack.back() != m[2]) return "unexpected </" + m[2].str() + "> at " + std::to_string(m.position());
      stack.pop_back();
    }
  }
  return stack.empty() ? "" : "unclosed <" + stack.back() + ">";
}

size_t count(const std::string& s, const std::string& what) {
  size_t n = 0;
  for (size_t p = s.find(what); p != std::string::npos; p = s.find(what, p + 1)) ++n;
  return n;
}

std::map<std::string, json> by_name(const json& report) {
  std::map<std::string, json> m;
  for (const json& v : report.at("variants")) m[v.at("name").get<std::string>()] = v;
  return m;
}

}  // namespace

TEST(DemoCli, BadFlagsUnwritableOutAndMissingDataExitWith2AndOneLine) {
  TempDir tmp;
  { std::ofstream(tmp / "a_file") << "x"; }
  const std::vector<std::string> bad = {
      "demo --epochs 0 --out " + tmp / "d",
      "demo --subset -5 --out " + tmp / "d",
      "demo --frobnicate",
      "demo --out " + tmp / "a_file/sub",
      "demo --data " + tmp / "no_such_dir" + " --out " + tmp / "d",
  };
  for (const auto& args : bad) {
    CmdResult r = run_qlite(args);
    EXPECT_EQ(r.exit_code, 2) << args << "\n" << r.output;
    EXPECT_NE(r.output.find("error"), std::string::npos) << args << "\n" << r.output;
    EXPECT_EQ(std::count(r.output.begin(), r.output.end(), '\n'), 1) << args << "\n" << r.output;
  }
}

TEST(DemoCli, SubsetRunReportsEveryVariantConsistently) {
  QLITE_REQUIRE_FASHION_MNIST();
  TempDir tmp;
  const std::string common = "demo --quiet --seed 5 --subset " + std::to_string(kSubset) + kFast + " --out ";
  CmdResult r = run_qlite(common + tmp / "d");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(r.output, "") << "--quiet prints nothing";
  const json report = read_json(tmp / "d/report.json");
  const auto v = by_name(report);
  ASSERT_EQ(report.at("variants").size(), kVariants.size());
  const double baseline = report.at("baseline").at("test_accuracy").get<double>();
  EXPECT_GT(baseline, 0.3) << "540 images, one epoch: well above chance (0.10)";
  const double f32_size = v.at("float32").at("size_bytes").get<double>();

  for (const std::string& name : kVariants) {
    SCOPED_TRACE(name);
    ASSERT_TRUE(v.count(name));
    const json& x = v.at(name);
    const double acc = x.at("test_accuracy").get<double>();
    EXPECT_GE(acc, 0.0);
    EXPECT_LE(acc, 1.0);
    EXPECT_EQ(x.at("test_samples").get<int>(), kSubset);
    EXPECT_NEAR(x.at("delta_points").get<double>(), 100 * (acc - baseline), 1e-9);
    const std::string file = tmp / ("d/" + x.at("file").get<std::string>());
    ASSERT_TRUE(std::filesystem::exists(file));
    EXPECT_EQ(std::filesystem::file_size(file), x.at("size_bytes").get<uint64_t>());
    EXPECT_NEAR(x.at("size_ratio").get<double>(), x.at("size_bytes").get<double>() / f32_size, 1e-12);
    EXPECT_GT(x.at("latency_us_median").get<double>(), 0.0);
    EXPECT_GT(x.at("images_per_second").get<double>(), 0.0);
    const bool int_only = kIntegerOnly.count(name) > 0;
    EXPECT_EQ(x.at("integer_only").get<bool>(), int_only);
    EXPECT_EQ(x.at("float_ops").empty(), int_only) << x.at("float_ops").dump();
    // Issue bar for the int8 files (structural: the sizes hardly depend on
    // the data, and the subset's never exceed the full run's).
    if (int_only) {
      EXPECT_LE(x.at("size_ratio").get<double>(), 0.27);
    }
  }
  // Dense-only QAT leaves the convolution float.
  EXPECT_NE(v.at("qat-dense-seed").at("float_ops").dump().find("CONV_2D"), std::string::npos);

  // The QAT models' own exact integer evaluation predicts the deployed files' accuracy.
  std::map<std::string, double> qat_eval;
  for (const json& q : report.at("qat")) qat_eval[q.at("name")] = q.at("int8_evaluate_accuracy").get<double>();
  for (const char* name : {"qat-whole-seed", "qat-whole-epoch", "qat-dense-seed", "qat-dense-epoch"})
    EXPECT_DOUBLE_EQ(v.at(name).at("test_accuracy").get<double>(), qat_eval.at(name)) << name;
  // The article's float-I/O conversion computes exactly what the int8-I/O one does.
  EXPECT_DOUBLE_EQ(v.at("qat-whole-article").at("test_accuracy").get<double>(),
                   v.at("qat-whole-seed").at("test_accuracy").get<double>());

  // qlite eval on the same files and test images reports the same accuracies.
  for (const std::string name : {"int8-ptq-int8io", "dynamic", "qat-dense-epoch"}) {
    CmdResult e = run_qlite("eval " + tmp / ("d/" + name + ".tflite") + " --quiet --subset " +
                            std::to_string(kSubset) + " --json " + tmp / "eval.json");
    ASSERT_EQ(e.exit_code, 0) << e.output;
    EXPECT_DOUBLE_EQ(read_json(tmp / "eval.json").at("test_accuracy").get<double>(),
                     v.at(name).at("test_accuracy").get<double>())
        << name;
  }

  // HTML: well-formed, self-contained, one point per variant in each of the two charts.
  const std::string html = slurp(tmp / "d/report.html");
  EXPECT_EQ(unbalanced_tag(html), "");
  for (const char* banned : {"<script", "<link", "<img", "src=", "url(", "https://"})
    EXPECT_EQ(html.find(banned), std::string::npos) << banned;
  std::vector<std::string> charts;
  for (size_t p = html.find("<svg"); p != std::string::npos; p = html.find("<svg", p + 1)) {
    const size_t end = html.find("</svg>", p);
    ASSERT_NE(end, std::string::npos);
    const std::string svg = html.substr(p, end - p);
    if (svg.find("role=\"img\"") != std::string::npos) charts.push_back(svg);
  }
  ASSERT_EQ(charts.size(), 2u);
  for (const std::string& svg : charts) {
    EXPECT_EQ(count(svg, "<circle"), kVariants.size());
    for (const std::string& name : kVariants) EXPECT_NE(svg.find(">" + name + "</text>"), std::string::npos) << name;
    EXPECT_GE(count(svg, "<line"), 6u) << "axes and ticks";
  }
  const std::string md = slurp(tmp / "d/report.md");
  for (const std::string& name : kVariants) EXPECT_NE(md.find("| " + name + " |"), std::string::npos) << name;
  // The reading states the largest size ratio of each group of int8 files.
  for (const bool int_only : {true, false}) {
    double worst = 0;
    int n = 0;
    for (const std::string& name : kVariants)
      if (v.at(name).at("mode") == "int8" && v.at(name).at("integer_only").get<bool>() == int_only) {
        ++n;
        worst = std::max(worst, v.at(name).at("size_ratio").get<double>());
      }
    char want[160];
    std::snprintf(want, sizeof want, "The %d %s files are at most %.4fx the float32 file", n,
                  int_only ? "integer-only int8" : "mixed int8/float32", worst);
    EXPECT_NE(md.find(want), std::string::npos) << want << "\n" << md;
  }

  // Same seed, same accuracies.
  r = run_qlite(common + tmp / "d2");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const auto v2 = by_name(read_json(tmp / "d2/report.json"));
  for (const std::string& name : kVariants)
    EXPECT_DOUBLE_EQ(v2.at(name).at("test_accuracy").get<double>(), v.at(name).at("test_accuracy").get<double>())
        << name;
}

TEST(DemoCli, ExampleProgramRuns) {
  QLITE_REQUIRE_FASHION_MNIST();
  const std::string bin = QLITE_BINARY_DIR "/example_quantize_seed";
  ASSERT_TRUE(std::filesystem::exists(bin)) << bin << " is not built (test_e2e depends on it)";
  TempDir tmp;
  CmdResult r = run_cmd(bin + " --subset 400 --out " + tmp / "q.tflite");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("QAT int8 .tflite (runtime)"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("integer only: yes"), std::string::npos) << r.output;
  EXPECT_GT(std::filesystem::file_size(tmp / "q.tflite"), 1000u);
}
