// The demo's report.html in a real browser (Debian's chromium, headless):
// written from fixed results (the README's run, a --subset 2000 run, and
// crowded and degenerate cases), loaded with --dump-dom and a measuring
// script injected into a copy, it renders without console errors; every
// variant is in the table and is one marker and one label in each chart; no
// label overlaps another label or any marker; each label touches its marker's
// neighbourhood or is joined to it by a leader line. A PNG screenshot of each
// report is kept in the build directory (test_artifacts/report_*.png).
// Under CI=true a missing chromium is a failure (peer_requirement.h).
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <array>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <regex>

#include <nlohmann/json.hpp>

#include "demo_report.h"
#include "peer_requirement.h"
#include "temp_dir.h"

namespace qlite::cli {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

struct Row {
  const char* name;
  const char* model;
  const char* mode;
  double acc;       // percent
  double kb;        // file size
  double latency;   // us
  bool integer_only;
};

DemoResults results(const std::vector<Row>& rows, double baseline) {
  DemoResults r;
  r.data = "fashion-mnist";
  r.baseline_accuracy = baseline / 100;
  for (const Row& row : rows) {
    DemoVariant v;
    v.name = row.name;
    v.description = std::string("the ") + row.name + " file";
    v.file = v.name + ".tflite";
    v.model = row.model;
    v.mode = row.mode;
    v.test_accuracy = row.acc / 100;
    v.test_samples = 10000;
    v.delta_points = row.acc - baseline;
    v.size_bytes = static_cast<size_t>(row.kb * 1024);
    v.latency_us_median = row.latency;
    v.images_per_second = 1e6 / row.latency;
    v.integer_only = row.integer_only;
    v.quantization_aware = std::string(row.model).rfind("qat", 0) == 0;
    if (!row.integer_only && std::string(row.mode) == "int8") v.float_ops = {"CONV_2D (conv2d)"};
    r.variants.push_back(v);
  }
  for (auto& v : r.variants) v.size_ratio = static_cast<double>(v.size_bytes) / static_cast<double>(r.variants[0].size_bytes);
  return r;
}

// The README's excerpt (a full demo run).
DemoResults readme_run() {
  return results({{"float32", "baseline", "float32", 84.82, 81.0, 4.4, false},
                  {"float16", "baseline", "float16", 84.82, 41.4, 4.5, false},
                  {"dynamic", "baseline", "dynamic", 84.85, 21.6, 4.2, false},
                  {"int8-ptq", "baseline", "int8", 84.76, 21.9, 2.5, true},
                  {"int8-ptq-int8io", "baseline", "int8", 84.76, 21.7, 2.4, true},
                  {"qat-whole-seed", "qat-whole-seed", "int8", 86.05, 21.7, 2.5, true},
                  {"qat-whole-epoch", "qat-whole-epoch", "int8", 86.96, 21.7, 2.5, true},
                  {"qat-dense-seed", "qat-dense-seed", "int8", 86.12, 21.9, 4.4, false},
                  {"qat-dense-epoch", "qat-dense-epoch", "int8", 86.88, 21.9, 4.4, false},
                  {"qat-whole-article", "qat-whole-seed", "int8", 86.05, 21.9, 2.7, true}},
                 84.82);
}

// A `--subset 2000 --epochs 1` run: the Dense-only QAT file (not integer
// only) is the most accurate of the small files.
DemoResults subset_run() {
  return results({{"float32", "baseline", "float32", 74.91, 81.0, 4.6, false},
                  {"float16", "baseline", "float16", 74.91, 41.4, 4.7, false},
                  {"dynamic", "baseline", "dynamic", 74.95, 21.6, 4.4, false},
                  {"int8-ptq", "baseline", "int8", 74.62, 21.9, 2.6, true},
                  {"int8-ptq-int8io", "baseline", "int8", 74.62, 21.7, 2.5, true},
                  {"qat-whole-seed", "qat-whole-seed", "int8", 75.10, 21.7, 2.6, true},
                  {"qat-whole-epoch", "qat-whole-epoch", "int8", 75.55, 21.7, 2.6, true},
                  {"qat-dense-seed", "qat-dense-seed", "int8", 75.80, 21.9, 4.5, false},
                  {"qat-dense-epoch", "qat-dense-epoch", "int8", 76.31, 22.0, 4.5, false},
                  {"qat-whole-article", "qat-whole-seed", "int8", 75.10, 21.9, 2.8, true}},
                 74.91);
}

// Six int8 markers within 2 px of each other in both charts.
DemoResults crowded() {
  return results({{"float32", "baseline", "float32", 84.82, 81.0, 4.4, false},
                  {"float16", "baseline", "float16", 84.82, 41.4, 4.5, false},
                  {"dynamic", "baseline", "dynamic", 84.85, 21.6, 4.2, false},
                  {"int8-ptq", "baseline", "int8", 86.00, 21.70, 2.50, true},
                  {"int8-ptq-int8io", "baseline", "int8", 86.01, 21.71, 2.50, true},
                  {"qat-whole-seed", "qat-whole-seed", "int8", 86.02, 21.72, 2.51, true},
                  {"qat-whole-epoch", "qat-whole-epoch", "int8", 86.01, 21.73, 2.50, true},
                  {"qat-dense-seed", "qat-dense-seed", "int8", 86.00, 21.74, 2.51, false},
                  {"qat-dense-epoch", "qat-dense-epoch", "int8", 86.02, 21.75, 2.52, false},
                  {"qat-whole-article", "qat-whole-seed", "int8", 84.90, 21.9, 2.7, true}},
                 84.82);
}

// Every variant at the same point.
DemoResults identical() {
  std::vector<Row> rows;
  for (const char* n : {"float32", "float16", "dynamic", "int8-ptq", "int8-ptq-int8io", "qat-whole-seed",
                        "qat-whole-epoch", "qat-dense-seed", "qat-dense-epoch", "qat-whole-article"})
    rows.push_back({n, "baseline", "int8", 80.0, 21.7, 2.5, true});
  return results(rows, 80.0);
}

// --- the browser ---------------------------------------------------------------

std::string chromium() {
  for (const char* p : {"/usr/bin/chromium", "/usr/bin/chromium-browser"})
    if (fs::exists(p)) return p;
  return "";
}

std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), {}};
}

void write(const fs::path& p, const std::string& text) {
  std::ofstream out(p, std::ios::binary | std::ios::trunc);
  out << text;
}

int run(const std::string& cmd) {
  const int status = std::system(cmd.c_str());
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

// Headless chromium with its own profile; stdout and stderr to files.
int run_chromium(const std::string& args, const fs::path& profile, const fs::path& out, const fs::path& err) {
  return run("timeout 120 " + chromium() + " --headless --no-sandbox --disable-gpu --no-first-run "
             "--disable-extensions --hide-scrollbars --enable-logging=stderr --v=0 --user-data-dir='" +
             profile.string() + "' " + args + " > '" + out.string() + "' 2> '" + err.string() + "'");
}

// Hooks installed before the report's own markup: errors and console
// warnings or errors are collected for the measuring script.
const char* kHooks =
    "<script>window.__errors=[];"
    "addEventListener('error',function(e){__errors.push(String(e.message||(e.target&&e.target.outerHTML)||'error'))},true);"
    "addEventListener('unhandledrejection',function(e){__errors.push('unhandled rejection: '+e.reason)});"
    "['error','warn'].forEach(function(k){var f=console[k];console[k]=function(){"
    "__errors.push(k+': '+Array.prototype.join.call(arguments,' '));f.apply(console,arguments)}});</script>\n";

// Run after the report: the table's variants and, per chart, the markers,
// labels and leader lines in page coordinates, as JSON in <pre id="qlite-check">.
const char* kMeasure = R"JS(<script>(function(){
var r={errors:window.__errors,table:[],charts:[]};
document.querySelectorAll('table tr').forEach(function(tr){var td=tr.querySelector('td');if(td)r.table.push(td.textContent);});
function box(e){var b=e.getBoundingClientRect();return {x0:b.left,y0:b.top,x1:b.right,y1:b.bottom};}
document.querySelectorAll('svg[role=img]').forEach(function(svg){
  var c={title:svg.getAttribute('aria-label'),svg:box(svg),markers:[],labels:[],leaders:[]};
  svg.querySelectorAll('circle').forEach(function(m){var b=box(m);b.v=m.getAttribute('data-variant');c.markers.push(b);});
  svg.querySelectorAll('text.label').forEach(function(t){var b=box(t);b.v=t.getAttribute('data-variant');b.text=t.textContent;c.labels.push(b);});
  svg.querySelectorAll('line.leader').forEach(function(l){
    var m=l.getScreenCTM(),p=svg.createSVGPoint(),q=svg.createSVGPoint();
    p.x=l.x1.baseVal.value;p.y=l.y1.baseVal.value;q.x=l.x2.baseVal.value;q.y=l.y2.baseVal.value;
    p=p.matrixTransform(m);q=q.matrixTransform(m);
    c.leaders.push({v:l.getAttribute('data-variant'),x1:p.x,y1:p.y,x2:q.x,y2:q.y});});
  r.charts.push(c);});
var pre=document.createElement('pre');pre.id='qlite-check';pre.textContent=JSON.stringify(r);document.body.appendChild(pre);
})();</script>
)JS";

std::string unescape(std::string s) {
  for (const auto& [from, to] : {std::pair<std::string, std::string>{"&lt;", "<"}, {"&gt;", ">"}, {"&quot;", "\""},
                                 {"&amp;", "&"}}) {
    for (size_t p = s.find(from); p != std::string::npos; p = s.find(from, p + to.size())) s.replace(p, from.size(), to);
  }
  return s;
}

struct Rect {
  double x0, y0, x1, y1;
};
Rect rect(const json& j) { return {j.at("x0"), j.at("y0"), j.at("x1"), j.at("y1")}; }
double overlap_area(const Rect& a, const Rect& b) {
  return std::max(0.0, std::min(a.x1, b.x1) - std::max(a.x0, b.x0)) *
         std::max(0.0, std::min(a.y1, b.y1) - std::max(a.y0, b.y0));
}
// Distance from (x, y) to the rectangle (0 inside).
double distance(const Rect& r, double x, double y) {
  return std::hypot(std::max({r.x0 - x, 0.0, x - r.x1}), std::max({r.y0 - y, 0.0, y - r.y1}));
}

fs::path artifacts() {
  const fs::path p = fs::path(QLITE_BINARY_DIR) / "test_artifacts";
  fs::create_directories(p);
  return p;
}

// Writes the report, checks it in chromium, keeps a screenshot.
void check_in_browser(const std::string& name, const DemoResults& r) {
  QLITE_REQUIRE_PEER(!chromium().empty(), "chromium (Debian package chromium, installed by scripts/setup.sh)");
  testing::TempDir tmp;
  const std::string html = demo_html(r);
  const fs::path report = artifacts() / ("report_" + name + ".html");
  write(report, html);

  // A copy with the hooks first in <head> and the measuring script last in <body>.
  std::string checked = html;
  const size_t head = checked.find("<head>");
  ASSERT_NE(head, std::string::npos);
  checked.insert(head + 6, kHooks);
  const size_t body_end = checked.rfind("</body>");
  ASSERT_NE(body_end, std::string::npos);
  checked.insert(body_end, kMeasure);
  const fs::path page = tmp.path / "check.html";
  write(page, checked);

  const fs::path dom = tmp.path / "dom.html", log = tmp.path / "chromium.log";
  ASSERT_EQ(run_chromium("--dump-dom 'file://" + page.string() + "'", tmp.path / "profile1", dom, log), 0)
      << slurp(log);
  const std::string out = slurp(dom);
  const std::string log_text = slurp(log);
  // Every console message chromium logged (the report has no scripts; the
  // measuring script prints nothing).
  std::smatch m;
  EXPECT_FALSE(std::regex_search(log_text, m, std::regex(":CONSOLE[^\n]*"))) << m.str();

  const size_t p = out.find("<pre id=\"qlite-check\">");
  ASSERT_NE(p, std::string::npos) << "the measuring script did not run:\n" << out.substr(0, 2000) << "\n" << log_text;
  const size_t q = out.find("</pre>", p);
  ASSERT_NE(q, std::string::npos);
  const json j = json::parse(unescape(out.substr(p + 22, q - p - 22)));
  EXPECT_EQ(j.at("errors").size(), 0u) << j.at("errors").dump();

  // The table: one row per variant, in order.
  ASSERT_EQ(j.at("table").size(), r.variants.size());
  for (size_t i = 0; i < r.variants.size(); ++i) EXPECT_EQ(j.at("table")[i], r.variants[i].name);

  ASSERT_EQ(j.at("charts").size(), 2u);
  for (const json& c : j.at("charts")) {
    const std::string title = c.at("title");
    const Rect svg = rect(c.at("svg"));
    ASSERT_EQ(c.at("markers").size(), r.variants.size()) << title;
    ASSERT_EQ(c.at("labels").size(), r.variants.size()) << title;
    for (size_t i = 0; i < r.variants.size(); ++i) {
      const std::string v = r.variants[i].name;
      const json& mk = c.at("markers")[i];
      const json& lb = c.at("labels")[i];
      EXPECT_EQ(mk.at("v"), v) << title;
      EXPECT_EQ(lb.at("v"), v) << title;
      EXPECT_EQ(lb.at("text"), v) << title;
      const Rect l = rect(lb);
      EXPECT_GE(l.x0, svg.x0) << title << " " << v;
      EXPECT_LE(l.x1, svg.x1) << title << " " << v;
      EXPECT_GE(l.y0, svg.y0) << title << " " << v;
      EXPECT_LE(l.y1, svg.y1) << title << " " << v;
      // No two labels overlap; no label covers a marker.
      for (size_t k = 0; k < r.variants.size(); ++k) {
        if (k > i) {
          EXPECT_EQ(overlap_area(l, rect(c.at("labels")[k])), 0.0)
              << title << ": labels " << v << " and " << r.variants[k].name << " overlap";
        }
        EXPECT_EQ(overlap_area(l, rect(c.at("markers")[k])), 0.0)
            << title << ": label " << v << " covers the marker of " << r.variants[k].name;
      }
      // Near its marker, or joined to it by a leader line.
      const Rect mr = rect(mk);
      const double cx = (mr.x0 + mr.x1) / 2, cy = (mr.y0 + mr.y1) / 2, radius = (mr.x1 - mr.x0) / 2;
      if (distance(l, cx, cy) <= radius + 6) continue;
      bool joined = false;
      for (const json& ld : c.at("leaders")) {
        if (ld.at("v") != v) continue;
        const double x1 = ld.at("x1"), y1 = ld.at("y1"), x2 = ld.at("x2"), y2 = ld.at("y2");
        joined = std::abs(std::hypot(x1 - cx, y1 - cy) - radius) <= 1.0 && distance(l, x2, y2) <= 1.5;
      }
      EXPECT_TRUE(joined) << title << ": label " << v << " is " << distance(l, cx, cy)
                          << " px from its marker without a leader line";
    }
  }

  // The screenshot, kept as an artifact.
  const fs::path png = artifacts() / ("report_" + name + ".png");
  fs::remove(png);
  ASSERT_EQ(run_chromium("--window-size=1200,1800 --screenshot='" + png.string() + "' 'file://" + report.string() + "'",
                         tmp.path / "profile2", tmp.path / "shot.out", tmp.path / "shot.log"),
            0)
      << slurp(tmp.path / "shot.log");
  const std::string bytes = slurp(png);
  ASSERT_GT(bytes.size(), 10000u) << png;
  EXPECT_EQ(bytes.substr(0, 8), std::string("\x89PNG\r\n\x1a\n", 8));
}

TEST(ReportBrowser, ReadmeRun) { check_in_browser("readme", readme_run()); }
TEST(ReportBrowser, Subset2000Run) { check_in_browser("subset2000", subset_run()); }
TEST(ReportBrowser, SixMarkersWithinTwoPixels) { check_in_browser("crowded", crowded()); }
TEST(ReportBrowser, EveryVariantAtOnePoint) { check_in_browser("identical", identical()); }

// --- the reading ---------------------------------------------------------------

std::string sentence(const DemoResults& r, const std::string& start) {
  for (const std::string& s : demo_reading(r))
    if (s.rfind(start, 0) == 0) return s;
  return "";
}

TEST(ReportReading, SizeChoiceStatesItsRuleAndIsIntegerOnly) {
  // The subset run: qat-dense-epoch (not integer only) is the most accurate
  // small file; the int8 choice is the most accurate integer-only one.
  const std::string s = sentence(subset_run(), "For size, ship ");
  EXPECT_EQ(s.rfind("For size, ship qat-whole-epoch ", 0), 0u) << s;
  EXPECT_NE(s.find("the most accurate integer-only file among the files within 2% of the smallest (dynamic, 21.6 KB)"),
            std::string::npos)
      << s;
  EXPECT_NE(s.find("qat-dense-epoch scores 0.76 points more but is not integer only"), std::string::npos) << s;

  const std::string t = sentence(readme_run(), "For size, ship ");
  EXPECT_EQ(t.rfind("For size, ship qat-whole-epoch ", 0), 0u) << t;
  EXPECT_EQ(t.find("points more"), std::string::npos) << t;

  // No integer-only file among the small ones: said so.
  DemoResults f = results({{"float32", "baseline", "float32", 80, 80.0, 4, false},
                           {"dynamic", "baseline", "dynamic", 80.5, 21.6, 4, false},
                           {"int8-ptq", "baseline", "int8", 81, 30.0, 2, true}},
                          80);
  const std::string u = sentence(f, "For size, ship ");
  EXPECT_EQ(u.rfind("For size, ship dynamic ", 0), 0u) << u;
  EXPECT_NE(u.find("none of them is integer only"), std::string::npos) << u;
}

}  // namespace
}  // namespace qlite::cli
