// Running a dataset's images through a .tflite model in the qlite runtime:
// shared by `qlite eval FILE.tflite` and `qlite demo`, so that the demo's
// accuracies are by construction the ones `qlite eval` reports.
#pragma once

#include <cstdint>
#include <string>

#include "qlite/data.h"
#include "qlite/runtime.h"

namespace qlite::cli {

// Writes `count` pixels (float, [0, 1]) into graph input 0 at its current
// batch. A float32 input takes them as they are; an int8 / uint8 input gets
// them quantized with the input tensor's scale and zero point by the
// reference QUANTIZE kernel, i.e. exactly what a QUANTIZE op at the model's
// start would compute. `what` names the model in errors.
void fill_input(runtime::Interpreter& it, const float* pixels, int64_t count, const std::string& what);

struct TfliteAccuracy {
  int64_t correct = 0;
  int64_t samples = 0;
  double accuracy = 0;
};

// Classifies every image of `split` in batches of batch_size. The class is the
// arg-max of the raw output row, which is the same for float outputs and for
// int8 / uint8 outputs (dequantization is monotonic; ties go to the first).
// Error when the model does not have one input holding one image per batch
// row and one output. `data` names the dataset in errors.
TfliteAccuracy tflite_accuracy(runtime::Interpreter& it, const Split& split, int batch_size,
                               const std::string& what, const std::string& data);

}  // namespace qlite::cli
