// report.html: self-contained (inline CSS and SVG, no scripts, fonts or
// links), written as well-formed XHTML-style markup so any XML or HTML parser
// reads it. Each chart holds exactly one <circle class="marker"> and one
// <text class="label"> per variant (data-variant names it), plus a
// <line class="leader"> for each label placed away from its marker; the
// legend uses <rect> so the circle count stays exact.
#include <algorithm>
#include <cmath>
#include <functional>

#include "demo_report.h"

namespace qlite::cli {
namespace {

struct Axis {
  double lo = 0, hi = 1;
  std::vector<double> ticks;
};

// About `target` ticks at 1, 2 or 5 times a power of ten, covering [lo, hi].
Axis nice_axis(double lo, double hi, int target) {
  if (!(hi > lo)) {
    const double pad = std::max(std::abs(lo) * 0.05, 1e-3);
    lo -= pad;
    hi += pad;
  }
  const double raw = (hi - lo) / target;
  const double mag = std::pow(10.0, std::floor(std::log10(raw)));
  const double f = raw / mag;
  const double step = mag * (f < 1.5 ? 1 : f < 3 ? 2 : f < 7 ? 5 : 10);
  Axis a;
  a.lo = std::floor(lo / step) * step;
  a.hi = std::ceil(hi / step) * step;
  for (double t = a.lo; t <= a.hi + step * 1e-6; t += step) a.ticks.push_back(std::abs(t) < step * 1e-9 ? 0.0 : t);
  return a;
}

std::string tick_label(double t) {
  if (std::abs(t - std::round(t)) < 1e-9) return fmt("%.0f", t);
  if (std::abs(t * 10 - std::round(t * 10)) < 1e-9) return fmt("%.1f", t);
  return fmt("%.2f", t);
}

std::string colour(const DemoVariant& v) {
  if (v.model.rfind("qat-whole", 0) == 0) return "#2f7d32";
  if (v.model.rfind("qat-dense", 0) == 0) return "#7b3fa0";
  if (v.mode == "int8") return "#d9690b";
  return "#3465a4";
}

struct Box {
  double x0, y0, x1, y1;
  bool overlaps(const Box& o) const { return x0 < o.x1 && o.x0 < x1 && y0 < o.y1 && o.y0 < y1; }
};

// Marker labels are 11 px sans-serif: a box from 11 px above the baseline to
// 4 px below it (the ascent and descent with room), 6.6 px per character
// (the text is drawn to exactly that width with textLength).
constexpr double kMarkerR = 5;
constexpr double kLabelHeight = 15, kLabelDescent = 4, kLabelGap = 2;
constexpr double kLeaderFrom = 4;  // a label farther than this from its marker's edge gets a leader line
double label_width(const std::string& name) { return 6.6 * static_cast<double>(name.size()); }

// The box of a label of width w for the marker at (cx, cy): the first free
// place (overlapping nothing in `taken`, inside `area`) of, in order, right of
// the marker, left of it, then every position on a 2 px grid by distance from
// the marker. When the chart is full, the place nearest to the marker that
// overlaps the fewest boxes.
Box place_label(double cx, double cy, double w, const Box& area, const std::vector<Box>& taken) {
  const double h = kLabelHeight;
  auto at = [&](double x0, double y0) { return Box{x0, y0, x0 + w, y0 + h}; };
  auto inside = [&](const Box& b) { return b.x0 >= area.x0 && b.x1 <= area.x1 && b.y0 >= area.y0 && b.y1 <= area.y1; };
  auto hits = [&](const Box& b) {
    int n = 0;
    for (const Box& o : taken) n += b.overlaps(o);
    return n;
  };
  for (const Box& b : {at(cx + kMarkerR + 3, cy - h / 2), at(cx - kMarkerR - 3 - w, cy - h / 2)})
    if (inside(b) && hits(b) == 0) return b;
  struct Candidate {
    double d;
    Box b;
  };
  std::vector<Candidate> all;
  for (double y0 = area.y0; y0 + h <= area.y1; y0 += 2)
    for (double x0 = area.x0; x0 + w <= area.x1; x0 += 2) {
      const Box b = at(x0, y0);
      const double dx = std::max({b.x0 - cx, 0.0, cx - b.x1}), dy = std::max({b.y0 - cy, 0.0, cy - b.y1});
      all.push_back({std::hypot(dx, dy), b});
    }
  std::stable_sort(all.begin(), all.end(), [](const Candidate& a, const Candidate& b) { return a.d < b.d; });
  const Candidate* best = nullptr;
  int best_hits = 1 << 30;
  for (const Candidate& c : all) {
    const int n = hits(c.b);
    if (n == 0) return c.b;
    if (n < best_hits) best_hits = n, best = &c;
  }
  return best ? best->b : at(cx + kMarkerR + 3, cy - h / 2);
}

// One scatter chart: x from `xval`, y = test accuracy in percent.
std::string chart(const DemoResults& r, const std::string& title, const std::string& xlabel,
                  const std::function<double(const DemoVariant&)>& xval, bool x_from_zero) {
  constexpr double kW = 640, kH = 380, kL = 64, kR = 150, kT = 34, kB = 50;
  const auto& vs = r.variants;
  double xmin = 1e300, xmax = -1e300, ymin = 1e300, ymax = -1e300;
  for (const auto& v : vs) {
    xmin = std::min(xmin, xval(v));
    xmax = std::max(xmax, xval(v));
    ymin = std::min(ymin, 100 * v.test_accuracy);
    ymax = std::max(ymax, 100 * v.test_accuracy);
  }
  const Axis xa = nice_axis(x_from_zero ? 0.0 : xmin, xmax, 6);
  const Axis ya = nice_axis(ymin, ymax, 5);
  const double pw = kW - kL - kR, ph = kH - kT - kB;
  auto px = [&](double x) { return kL + (x - xa.lo) / (xa.hi - xa.lo) * pw; };
  auto py = [&](double y) { return kT + ph - (y - ya.lo) / (ya.hi - ya.lo) * ph; };

  std::string s = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" + fmt("%.0f", kW) + "\" height=\"" +
                  fmt("%.0f", kH) + "\" viewBox=\"0 0 " + fmt("%.0f", kW) + " " + fmt("%.0f", kH) +
                  "\" font-family=\"sans-serif\" font-size=\"11\" role=\"img\" aria-label=\"" + html_escape(title) + "\">\n";
  s += "<text x=\"" + fmt("%.0f", kL) + "\" y=\"20\" font-size=\"13\" font-weight=\"bold\">" + html_escape(title) + "</text>\n";
  // Grid lines, ticks and tick labels.
  for (double t : xa.ticks) {
    const std::string x = fmt("%.1f", px(t));
    s += "<line x1=\"" + x + "\" y1=\"" + fmt("%.1f", kT) + "\" x2=\"" + x + "\" y2=\"" + fmt("%.1f", kT + ph + 5) +
         "\" stroke=\"#dddddd\"/>\n";
    s += "<text x=\"" + x + "\" y=\"" + fmt("%.1f", kT + ph + 18) + "\" text-anchor=\"middle\">" + tick_label(t) +
         "</text>\n";
  }
  for (double t : ya.ticks) {
    const std::string y = fmt("%.1f", py(t));
    s += "<line x1=\"" + fmt("%.1f", kL - 5) + "\" y1=\"" + y + "\" x2=\"" + fmt("%.1f", kL + pw) + "\" y2=\"" + y +
         "\" stroke=\"#dddddd\"/>\n";
    s += "<text x=\"" + fmt("%.1f", kL - 8) + "\" y=\"" + fmt("%.1f", py(t) + 4) + "\" text-anchor=\"end\">" +
         tick_label(t) + "</text>\n";
  }
  s += "<line x1=\"" + fmt("%.1f", kL) + "\" y1=\"" + fmt("%.1f", kT + ph) + "\" x2=\"" + fmt("%.1f", kL + pw) +
       "\" y2=\"" + fmt("%.1f", kT + ph) + "\" stroke=\"#444444\"/>\n";
  s += "<line x1=\"" + fmt("%.1f", kL) + "\" y1=\"" + fmt("%.1f", kT) + "\" x2=\"" + fmt("%.1f", kL) + "\" y2=\"" +
       fmt("%.1f", kT + ph) + "\" stroke=\"#444444\"/>\n";
  s += "<text x=\"" + fmt("%.1f", kL + pw / 2) + "\" y=\"" + fmt("%.1f", kH - 10) + "\" text-anchor=\"middle\">" +
       html_escape(xlabel) + "</text>\n";
  s += "<text transform=\"translate(16 " + fmt("%.1f", kT + ph / 2) +
       ") rotate(-90)\" text-anchor=\"middle\">test accuracy (%)</text>\n";

  // Markers first, then the labels. Each label is a box of a fixed width
  // (the browser is held to it by textLength) placed by a search: every
  // position on a 2 px grid inside the chart, nearest to its marker first,
  // that overlaps no marker, no earlier label and no axis text. A label that
  // does not touch its marker's neighbourhood gets a leader line from the
  // marker's edge to the nearest point of its box, so coinciding markers
  // (int8 files of nearly equal size and accuracy) stay readable.
  std::vector<Box> taken;
  std::vector<std::pair<double, double>> at;
  for (const auto& v : vs) {
    const double cx = px(xval(v)), cy = py(100 * v.test_accuracy);
    at.emplace_back(cx, cy);
    taken.push_back({cx - kMarkerR - 1, cy - kMarkerR - 1, cx + kMarkerR + 1, cy + kMarkerR + 1});
    s += "<circle class=\"marker\" data-variant=\"" + html_escape(v.name) + "\" cx=\"" + fmt("%.1f", cx) +
         "\" cy=\"" + fmt("%.1f", cy) + "\" r=\"" + fmt("%.0f", kMarkerR) + "\" fill=\"" + colour(v) +
         "\" fill-opacity=\"0.85\"><title>" + html_escape(v.name) + ": " + fmt("%.2f", 100 * v.test_accuracy) + "%, " +
         html_escape(xlabel) + " " + fmt("%.1f", xval(v)) + "</title></circle>\n";
  }
  // Labels go where they fit: right of the y tick labels, above the x tick labels.
  const Box area{kL + 2, kT - 8, kW - 2, kT + ph - 2};
  std::string labels, leaders;
  for (size_t i = 0; i < vs.size(); ++i) {
    const auto [cx, cy] = at[i];
    const double w = label_width(vs[i].name);
    const Box b = place_label(cx, cy, w, area, taken);
    taken.push_back({b.x0 - kLabelGap, b.y0 - kLabelGap, b.x1 + kLabelGap, b.y1 + kLabelGap});
    // The nearest point of the text (the box less its spare room above and
    // below) to the marker; a leader when it is not next to it.
    const double nx = std::clamp(cx, b.x0, b.x1), ny = std::clamp(cy, b.y0 + 2, b.y1 - 2);
    const double d = std::hypot(nx - cx, ny - cy);
    if (d > kMarkerR + kLeaderFrom) {
      const double ex = cx + (nx - cx) / d * kMarkerR, ey = cy + (ny - cy) / d * kMarkerR;
      leaders += "<line class=\"leader\" data-variant=\"" + html_escape(vs[i].name) + "\" x1=\"" + fmt("%.1f", ex) +
                 "\" y1=\"" + fmt("%.1f", ey) + "\" x2=\"" + fmt("%.1f", nx) + "\" y2=\"" + fmt("%.1f", ny) +
                 "\" stroke=\"" + colour(vs[i]) + "\" stroke-width=\"0.8\"/>\n";
    }
    labels += "<text class=\"label\" data-variant=\"" + html_escape(vs[i].name) + "\" x=\"" + fmt("%.1f", b.x0) +
              "\" y=\"" + fmt("%.1f", b.y1 - kLabelDescent) + "\" textLength=\"" + fmt("%.1f", w) +
              "\" lengthAdjust=\"spacingAndGlyphs\">" + html_escape(vs[i].name) + "</text>\n";
  }
  s += leaders + labels;
  return s + "</svg>\n";
}

std::string legend() {
  const std::vector<std::pair<std::string, std::string>> items = {{"#3465a4", "float32 / float16 / dynamic"},
                                                                  {"#d9690b", "int8 post-training"},
                                                                  {"#2f7d32", "whole-model QAT"},
                                                                  {"#7b3fa0", "Dense-only QAT"}};
  std::string s = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"640\" height=\"24\" font-family=\"sans-serif\" "
                  "font-size=\"11\" aria-label=\"legend\">\n";
  double x = 4;
  for (const auto& [c, t] : items) {
    s += "<rect x=\"" + fmt("%.0f", x) + "\" y=\"7\" width=\"10\" height=\"10\" fill=\"" + c + "\"/>";
    s += "<text x=\"" + fmt("%.0f", x + 15) + "\" y=\"16\">" + html_escape(t) + "</text>\n";
    x += 15 + 6.5 * static_cast<double>(t.size()) + 18;
  }
  return s + "</svg>\n";
}

}  // namespace

std::string demo_html(const DemoResults& r) {
  std::string s =
      "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\"/>\n"
      "<title>qlite demo: which quantization to ship</title>\n<style>\n"
      "body { font-family: sans-serif; margin: 2em; color: #222; max-width: 1100px; }\n"
      "table { border-collapse: collapse; font-size: 0.9em; }\n"
      "th, td { border: 1px solid #bbb; padding: 3px 8px; } td.n { text-align: right; }\n"
      "th { background: #eee; }\n"
      "svg { display: block; margin: 1em 0; }\n"
      "</style>\n</head>\n<body>\n<h1>qlite demo: which quantization to ship</h1>\n";
  s += "<p>Dataset: " + html_escape(r.data) + ". Float baseline (Keras-side evaluation): " +
       fmt("%.2f", 100 * r.baseline_accuracy) +
       "%. Accuracies are measured by the qlite runtime on each .tflite file; latency and throughput on one "
       "thread.</p>\n<table>\n";
  const auto t = demo_table(r);
  for (size_t i = 0; i < t.size(); ++i) {
    s += "<tr>";
    for (size_t c = 0; c < t[i].size(); ++c) {
      const bool num = c > 0 && c + 2 < t[i].size();
      s += i == 0 ? "<th>" + html_escape(t[i][c]) + "</th>"
                  : std::string(num ? "<td class=\"n\">" : "<td>") + html_escape(t[i][c]) + "</td>";
    }
    s += "</tr>\n";
  }
  s += "</table>\n<h2>Reading</h2>\n<ul>\n";
  for (const auto& line : demo_reading(r)) s += "<li>" + html_escape(line) + "</li>\n";
  s += "</ul>\n<h2>Charts</h2>\n" + legend() + "<div>\n";
  s += chart(r, "Accuracy vs batch-1 latency (1 thread)", "latency per image (us)",
             [](const DemoVariant& v) { return v.latency_us_median; }, true);
  s += chart(r, "Accuracy vs file size", "file size (KB)",
             [](const DemoVariant& v) { return static_cast<double>(v.size_bytes) / 1024; }, true);
  s += "</div>\n<h2>Files</h2>\n<ul>\n";
  for (const auto& v : r.variants)
    s += "<li><code>" + html_escape(v.file) + "</code>: " + html_escape(v.description) + "</li>\n";
  return s + "</ul>\n</body>\n</html>\n";
}

}  // namespace qlite::cli
