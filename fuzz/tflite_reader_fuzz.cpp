// libFuzzer target for the .tflite reader: any input must end in a validated
// model or qlite::Error, never in a crash, a sanitizer report or another
// exception type. Built and run by scripts/fuzz.sh (fuzz/CMakeLists.txt).
//
// QLITE_FUZZ_WRITE_SEEDS=<dir> makes the target write a few valid models
// (built with ModelBuilder) into <dir> first, so mutation starts from real files.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include <flatbuffers/flexbuffers.h>

#include "fuzz_seeds.h"
#include "qlite/lite.h"

namespace {

using namespace qlite::lite;

std::vector<std::vector<uint8_t>> seed_models() {
  std::vector<std::vector<uint8_t>> seeds;
  {
    ModelBuilder b;
    const int32_t x = b.add_tensor("x", TensorType::kInt8, {1, 4}, Quantization::per_tensor(0.05f, -3), {-1, 4});
    const int32_t w = b.add_constant("w", TensorType::kInt8, {3, 4}, std::vector<int8_t>(12, 7),
                                     Quantization::per_tensor(0.02f, 0));
    const int32_t bias = b.add_constant("b", TensorType::kInt32, {3}, std::vector<int32_t>{1, 2, 3},
                                        Quantization::per_tensor(0.001f, 0));
    const int32_t h = b.add_tensor("h", TensorType::kInt8, {1, 3}, Quantization::per_tensor(0.1f, 2), {-1, 3});
    const int32_t y = b.add_tensor("y", TensorType::kInt8, {1, 3, 1}, Quantization::per_tensor(0.1f, 2), {-1, 3, 1});
    b.add_operator(BuiltinOp::kFullyConnected, {x, w, bias}, {h}, FullyConnectedOptions{Activation::kRelu});
    b.add_operator(BuiltinOp::kReshape, {h}, {y}, ReshapeOptions{{-1, 3, 1}});
    b.set_inputs({x});
    b.set_outputs({y});
    seeds.push_back(b.finish());
  }
  {
    ModelBuilder b;
    const int32_t x = b.add_tensor("x", TensorType::kFloat32, {1, 6, 6, 2});
    const int32_t k = b.add_constant("k", TensorType::kInt8, {3, 3, 3, 2}, std::vector<int8_t>(54, 1),
                                     Quantization::per_axis({0.1f, 0.2f, 0.3f}, {0, 0, 0}, 0));
    const int32_t c = b.add_tensor("c", TensorType::kFloat32, {1, 4, 4, 3});
    const int32_t p = b.add_tensor("p", TensorType::kFloat32, {1, 2, 2, 3});
    const int32_t cat = b.add_tensor("cat", TensorType::kFloat32, {1, 2, 2, 6});
    const int32_t axes = b.add_constant("axes", TensorType::kInt32, {2}, std::vector<int32_t>{1, 2});
    const int32_t m = b.add_tensor("m", TensorType::kFloat32, {1, 6});
    const int32_t s = b.add_tensor("s", TensorType::kFloat32, {1, 6});
    b.add_operator(BuiltinOp::kConv2D, {x, k, -1}, {c}, Conv2DOptions{Padding::kValid, 1, 1, Activation::kRelu6});
    b.add_operator(BuiltinOp::kMaxPool2D, {c}, {p}, Pool2DOptions{Padding::kValid, 2, 2, 2, 2});
    b.add_operator(BuiltinOp::kConcatenation, {p, p}, {cat}, ConcatenationOptions{3});
    b.add_operator(BuiltinOp::kMean, {cat, axes}, {m}, ReducerOptions{false});
    b.add_operator(BuiltinOp::kSoftmax, {m}, {s}, SoftmaxOptions{1.0f});
    b.set_inputs({x});
    b.set_outputs({s});
    seeds.push_back(b.finish());
  }
  {  // a CUSTOM op with a FlexBuffers options map (inspect parses it), and SVDF's options
    flexbuffers::Builder fb;
    fb.Map([&] {
      fb.Int("max_detections", 10);
      fb.Float("nms_iou_threshold", 0.6f);
      fb.Bool("use_regular_nms", false);
      fb.String("note", "x");
      fb.Vector("v", [&] { fb.Int(1); fb.Double(2.5); });
    });
    fb.Finish();
    ModelBuilder b;
    const int32_t x = b.add_tensor("x", TensorType::kFloat32, {1, 4});
    const int32_t y = b.add_tensor("y", TensorType::kFloat32, {1, 4});
    const int32_t z = b.add_tensor("z", TensorType::kFloat32, {1, 1});
    b.add_custom_operator("TFLite_Detection_PostProcess", {x}, {y}, fb.GetBuffer());
    const int32_t wf = b.add_constant("wf", TensorType::kFloat32, {2, 4}, std::vector<float>(8, 0.5f));
    const int32_t wt = b.add_constant("wt", TensorType::kFloat32, {2, 3}, std::vector<float>(6, 0.5f));
    const int32_t state = b.add_tensor("state", TensorType::kFloat32, {1, 6});
    b.graph().tensors[static_cast<size_t>(state)].is_variable = true;
    b.add_operator(BuiltinOp::kSvdf, {y, wf, wt, -1, state}, {z}, SvdfOptions{2, Activation::kRelu, false});
    b.set_inputs({x});
    b.set_outputs({z});
    seeds.push_back(b.finish());
  }
  return seeds;
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  qlite::fuzz::write_seeds("seed_", seed_models());
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  ModelDef m;
  std::vector<uint8_t> bytes;
  try {
    m = read_model({data, size});
    (void)inspect(m);
    bytes = write_model(m);  // a validated model must be writable, or refuse with Error
  } catch (const qlite::Error&) {
    return 0;
  }
  // What the writer makes of it must read back as the same model: its layout
  // (shared vectors, packed 1-byte fields) may differ from the input's, never
  // its content.
  try {
    if (read_model(bytes) == m) return 0;
    std::fprintf(stderr, "tflite_reader_fuzz: the written model reads back differently\n");
  } catch (const qlite::Error& e) {
    std::fprintf(stderr, "tflite_reader_fuzz: the written model does not read back: %s\n", e.what());
  }
  std::abort();
}
