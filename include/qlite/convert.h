// qlite convert: lowering a trained Model (float, or quantization-aware) to a
// genuine .tflite flatbuffer, in the TensorFlow Lite converter's modes.
//
// Graph written for the seed model (float32 mode):
//   input [-1,28,28] -> RESHAPE -> CONV_2D (OHWI weights, fused RELU/RELU6)
//   -> MAX_POOL_2D -> FULLY_CONNECTED ([out,in] weights)
// RESHAPE takes its shape from its options, with -1 for the batch, so every
// runtime can resize the batch; Flatten folds into FULLY_CONNECTED, which
// reads its 4-D input as rows. A "serving_default" signature and the producer
// metadata are always written; no description and no subgraph name (the mode
// shows in the tensors' types: `qlite inspect` prints it as the precision).
//
// Modes:
//  - kFloat32: no optimization.
//  - kDynamic: dynamic-range ("hybrid"): int8 symmetric weights (CONV_2D per
//    output channel, FULLY_CONNECTED per tensor), float activations; the
//    runtime quantizes activations on the fly. Like the TFLite converter,
//    only weight tensors with at least ConvertOptions::dynamic_min_elements
//    elements (default 1024) are quantized; smaller ones stay float32. For the
//    seed model this keeps the 108-element conv kernel float (so CONV_2D is a
//    plain float op) and makes the 20,280-element dense kernel int8.
//    Set dynamic_min_elements = 0 to quantize every conv/dense kernel.
//  - kInt8: full integer. Activation ranges are calibrated with min/max over
//    the representative images (the float model is run layer by layer);
//    weights int8 (conv per channel, dense per tensor: TFLite 2.9 mis-computes
//    per-channel FULLY_CONNECTED), int32 biases with scale in_scale*w_scale;
//    RESHAPE and MAX_POOL_2D keep their input's scale and zero point. I/O:
//    float32 (QUANTIZE/DEQUANTIZE at the ends), int8, or uint8 (QUANTIZE
//    converts uint8 -> int8 at the input, zero point + 128, and int8 -> uint8
//    at the output, as TFLite does). With int8/uint8 I/O the model must be
//    integer only: any op that would stay float is an Error naming it.
//  - kFloat16: weights and biases stored as float16, each followed by a
//    DEQUANTIZE to float32; everything else float32.
// A quantization-aware model (one containing QuantizeWrapper/QuantizeLayer)
// converts to full integer in kInt8 mode with its learned ranges and the
// exact integer weights/biases its QAT layers evaluate with (no calibration);
// layers left float by selective annotation stay float, with QUANTIZE /
// DEQUANTIZE at their boundaries.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "qlite/core.h"
#include "qlite/lite.h"

namespace qlite {
class Model;
}

namespace qlite::convert {

enum class Mode { kFloat32, kDynamic, kInt8, kFloat16 };
enum class IoType { kFloat32, kInt8, kUInt8 };

const char* mode_name(Mode m);  // "float32", "dynamic", "int8", "float16"
Mode mode_from_string(const std::string& s);  // throws Error on an unknown name
const char* io_type_name(IoType t);
IoType io_type_from_string(const std::string& s);

inline constexpr int kDefaultRepresentativeCount = 100;
// TFLite's converter quantizes weights only in tensors at least this large.
inline constexpr int64_t kTfliteDynamicMinElements = 1024;

struct ConvertOptions {
  Mode mode = Mode::kFloat32;
  // Graph input/output type. Only kInt8 mode may use kInt8/kUInt8.
  IoType io = IoType::kFloat32;
  // Representative images for kInt8 calibration of a float model, shaped
  // [N, model input shape...] float32 (the model's own input). The first
  // representative_count rows are used (all of them when fewer). Not needed
  // for quantization-aware models or for the other modes.
  const Tensor* representative = nullptr;
  int representative_count = kDefaultRepresentativeCount;
  // kDynamic: quantize a conv/dense kernel only when it has at least this
  // many elements (see the header comment).
  int64_t dynamic_min_elements = kTfliteDynamicMinElements;
  std::string producer = "qlite 0.1.0";
};

// One operator of the converted graph.
struct OpSummary {
  std::string op;     // "CONV_2D"
  std::string layer;  // the training layer it comes from ("" for I/O conversions)
  // Computes on integers (int8/uint8 activations). Constant-weight DEQUANTIZE
  // (float16 mode) and hybrid ops are not integer.
  bool integer = false;
  // A QUANTIZE of the float graph input or DEQUANTIZE to the float graph
  // output: the host-side I/O conversion of an otherwise integer model.
  bool io_boundary = false;
};

struct ConvertResult {
  std::vector<uint8_t> bytes;  // the .tflite file
  size_t size_bytes = 0;
  // Every op but the float I/O boundary QUANTIZE/DEQUANTIZE computes on
  // integers: the model's body would run on an int8-only NPU, with the float
  // I/O conversion left to the host (as NPU delegates do). A float32-I/O int8
  // model therefore counts as integer only; see OpSummary::io_boundary.
  bool integer_only = false;
  std::vector<OpSummary> ops;       // in execution order
  std::vector<std::string> float_ops;  // "OP (layer)" of every non-integer, non-boundary op
  bool quantization_aware = false;  // converted from a QAT model (learned ranges)
  lite::ModelDef model;             // the graph, as written
};

// Converts a built model. Throws Error naming the layer or op at fault:
// unknown layer types, shapes the ops cannot express, missing representative
// data, or a float op where integer-only I/O was asked for.
ConvertResult convert_model(const Model& model, const ConvertOptions& options);

// Writes bytes to path atomically, so a failed write never leaves a truncated
// .tflite behind: qlite::write_file_atomic (qlite/fileio.h) under its old name.
void write_file_atomic(const std::string& path, const std::vector<uint8_t>& bytes);

}  // namespace qlite::convert
