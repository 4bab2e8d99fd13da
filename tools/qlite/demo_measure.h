// Speed of a .tflite file in the qlite runtime on one thread: batch-1 latency
// and batch-N throughput, each the median over repeated invokes.
#pragma once

#include <string>

#include "qlite/core.h"

namespace qlite::cli {

struct SpeedOptions {
  int warmup = 20;            // untimed invokes before each measurement
  int latency_runs = 2000;    // batch-1 invokes timed (at most)
  int throughput_runs = 30;   // batch invokes timed (at most)
  int throughput_batch = 256;
  double budget_s = 0.3;      // each measurement stops early after this long (after at least min(runs, 3))
};

struct SpeedResult {
  double latency_us_median = 0;
  int latency_runs = 0;
  double images_per_second = 0;  // throughput_batch / median invoke time
  int throughput_runs = 0;
  int throughput_batch = 0;
};

// `images` is [N, H, W] float (N >= 1); rows are cycled when N is below the
// batch. The model must take one image per batch row (as tflite_accuracy).
SpeedResult measure_speed(const std::string& tflite_path, const Tensor& images, const SpeedOptions& options);

}  // namespace qlite::cli
