// console_progress(): Keras 2.9's progress bar (Progbar, verbose=1), redrawn in place with \r.
#include <chrono>
#include <cmath>
#include <cstdio>
#include <string>

#include "qlite/train/model.h"

namespace qlite {

namespace {

// Keras 2.9's Progbar ETA: "%d:%02d:%02d" above an hour, "%d:%02d" above a
// minute, else "%ds" (Python's %d truncates).
std::string format_eta(double s) {
  const long t = static_cast<long>(s);
  char buf[32];
  if (s > 3600)
    std::snprintf(buf, sizeof buf, "%ld:%02ld:%02ld", t / 3600, (t % 3600) / 60, t % 60);
  else if (s > 60)
    std::snprintf(buf, sizeof buf, "%ld:%02ld", t / 60, t % 60);
  else
    std::snprintf(buf, sizeof buf, "%lds", t);
  return buf;
}

// Keras' metric value: "%.4f", or "%.4e" when |v| is not above 1e-3.
std::string format_value(double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, std::fabs(v) > 1e-3 ? "%.4f" : "%.4e", v);
  return buf;
}

// Keras's time-per-step unit choice.
std::string format_per_step(double s) {
  char buf[32];
  if (s >= 1 || s == 0)
    std::snprintf(buf, sizeof buf, "%.0fs/step", s);
  else if (s >= 1e-3)
    std::snprintf(buf, sizeof buf, "%.0fms/step", s * 1e3);
  else
    std::snprintf(buf, sizeof buf, "%.0fus/step", s * 1e6);
  return buf;
}

struct BarState {
  std::FILE* out;
  int epoch = -1;
  size_t last_width = 0;
  std::chrono::steady_clock::time_point last_draw;
};

void draw(BarState& st, const FitProgress& p) {
  constexpr int kBar = 30;
  const int digits = static_cast<int>(std::to_string(p.steps).size());
  char buf[512];
  std::string line;
  std::snprintf(buf, sizeof buf, "%*lld/%lld [", digits, static_cast<long long>(p.step),
                static_cast<long long>(p.steps));
  line += buf;
  const double frac = p.steps > 0 ? static_cast<double>(p.step) / static_cast<double>(p.steps) : 1.0;
  const int filled = static_cast<int>(kBar * frac);
  if (filled > 0) {
    line += std::string(filled - 1, '=');
    line += p.step < p.steps ? '>' : '=';
  }
  line += std::string(kBar - filled, '.');
  line += "]";
  // As Keras 2.9's Progbar: the last line of an epoch gives the seconds and
  // time per step; the lines before it the ETA only.
  const double per_step = p.step > 0 ? p.elapsed_s / static_cast<double>(p.step) : 0.0;
  if (p.epoch_end || p.step >= p.steps) {
    std::snprintf(buf, sizeof buf, " - %.0fs %s", p.elapsed_s, format_per_step(per_step).c_str());
    line += buf;
  } else {
    line += " - ETA: " + format_eta(per_step * static_cast<double>(p.steps - p.step));
  }
  line += " - loss: " + format_value(p.loss) + " - accuracy: " + format_value(p.accuracy);
  if (p.val_loss) line += " - val_loss: " + format_value(*p.val_loss);
  if (p.val_accuracy) line += " - val_accuracy: " + format_value(*p.val_accuracy);
  // Blank out what is left of a longer previous line.
  const size_t width = line.size();
  if (width < st.last_width) line += std::string(st.last_width - width, ' ');
  st.last_width = width;
  std::fprintf(st.out, "\r%s", line.c_str());
  if (p.epoch_end) {
    std::fputc('\n', st.out);
    st.last_width = 0;
  }
  std::fflush(st.out);
}

}  // namespace

ProgressCallback console_progress(std::FILE* stream) {
  auto st = std::make_shared<BarState>();
  st->out = stream;
  return [st](const FitProgress& p) {
    if (!st->out) return;
    const auto now = std::chrono::steady_clock::now();
    if (p.epoch != st->epoch) {
      std::fprintf(st->out, "Epoch %d/%d\n", p.epoch + 1, p.epochs);
      st->epoch = p.epoch;
      st->last_width = 0;
      draw(*st, p);
      st->last_draw = now;
      return;
    }
    // At most ~10 redraws a second: a 60,000-sample epoch has ~1,900 steps.
    if (!p.epoch_end && now - st->last_draw < std::chrono::milliseconds(100)) return;
    draw(*st, p);
    st->last_draw = now;
  };
}

}  // namespace qlite
