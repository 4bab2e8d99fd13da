#include "demo_measure.h"

#include <algorithm>
#include <chrono>
#include <vector>

#include "qlite/runtime.h"
#include "tflite_eval.h"

namespace qlite::cli {
namespace {

using Clock = std::chrono::steady_clock;

// Times single invokes (one invoke of these models takes far longer than the
// clock's resolution) and returns the median in seconds. Stops after `runs`
// or when the budget is spent, whichever is first, but not before
// min(runs, 3), so a slow variant still gets a median.
double median_invoke_s(runtime::Interpreter& it, int warmup, int runs, double budget_s, int* done) {
  const int min_runs = std::min(runs, 3);
  for (int i = 0; i < warmup; ++i) it.invoke();
  std::vector<double> t;
  t.reserve(static_cast<size_t>(runs));
  const auto start = Clock::now();
  while (static_cast<int>(t.size()) < runs) {
    const auto a = Clock::now();
    it.invoke();
    const auto b = Clock::now();
    t.push_back(std::chrono::duration<double>(b - a).count());
    if (static_cast<int>(t.size()) >= min_runs && std::chrono::duration<double>(b - start).count() > budget_s) break;
  }
  *done = static_cast<int>(t.size());
  const size_t mid = t.size() / 2;
  std::nth_element(t.begin(), t.begin() + static_cast<std::ptrdiff_t>(mid), t.end());
  double m = t[mid];
  if (t.size() % 2 == 0) m = (m + *std::max_element(t.begin(), t.begin() + static_cast<std::ptrdiff_t>(mid))) / 2;
  return m;
}

// `batch` images from the start of `images`, cycling when there are fewer.
std::vector<float> batch_pixels(const Tensor& images, int batch) {
  const int64_t n = images.dim(0);
  const int64_t image = images.numel() / n;
  std::vector<float> px(static_cast<size_t>(batch * image));
  for (int b = 0; b < batch; ++b)
    std::copy_n(images.data<float>() + (b % n) * image, image, px.data() + b * image);
  return px;
}

}  // namespace

SpeedResult measure_speed(const std::string& tflite_path, const Tensor& images, const SpeedOptions& o) {
  if (images.dim(0) < 1) throw Error("measure_speed: no images to run " + tflite_path + " on");
  runtime::InterpreterOptions opt;
  opt.num_threads = 1;
  auto it = runtime::Interpreter::from_file(tflite_path, opt);
  SpeedResult r;
  r.throughput_batch = o.throughput_batch;

  it->resize_batch(1);
  std::vector<float> px = batch_pixels(images, 1);
  fill_input(*it, px.data(), static_cast<int64_t>(px.size()), tflite_path);
  r.latency_us_median = 1e6 * median_invoke_s(*it, o.warmup, o.latency_runs, o.budget_s, &r.latency_runs);

  it->resize_batch(o.throughput_batch);
  px = batch_pixels(images, o.throughput_batch);
  fill_input(*it, px.data(), static_cast<int64_t>(px.size()), tflite_path);
  const double t = median_invoke_s(*it, 1, o.throughput_runs, o.budget_s, &r.throughput_runs);
  r.images_per_second = o.throughput_batch / t;
  return r;
}

}  // namespace qlite::cli
