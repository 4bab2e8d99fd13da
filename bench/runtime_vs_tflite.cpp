// qlite's runtime against TensorFlow Lite 2.9 (its C library, loaded with
// dlopen; built-in kernels and the XNNPACK delegate) on the same .tflite
// files, in one process:
//   runtime_vs_tflite [--int8 FILE] [--float FILE] [--dynamic FILE] [--rounds N]
//                     [--runs1 N] [--runs256 N] [--json FILE]
//   runtime_vs_tflite --mobilenet-v2 [--rounds N] [--runs1 N] [--json FILE]
//   runtime_vs_tflite --uint8 FILE [--rounds N] [--runs1 N] [--json FILE]
//   runtime_vs_tflite --lstm FILE [--rounds N] [--runs1 N] [--json FILE]
// --lstm times a file with state (variable tensors, e.g. an int8
// UNIDIRECTIONAL_SEQUENCE_LSTM) at batch 1: every engine starts from the
// reset state, so the first outputs must be identical; the timed invokes then
// carry the state on, as a stream would.
// --uint8 times a TF1-era uint8 file (uint8 input and output, e.g. a
// *_quant.tflite MobileNet) at batch 1 only; its bytes must be identical in
// every engine (TFLite's XNNPACK 2.9 delegate leaves uint8 ops to TFLite).
//   runtime_vs_tflite --mobilenet-style [--rounds N] [--runs1 N] [--runs256 N] [--json FILE]
//                     [--save-models DIR]
//   runtime_vs_tflite --file FILE [--file FILE ...] [--rounds N] [--runs1 N] [--json FILE]
// --mobilenet-style: the int8 / float32 / dynamic-range cases below with the
// reference MobileNet-style network (applications::MobileNetStyle) instead of
// the seed model. --file: each .tflite file at batch 1 as it is (inputs of
// its own type, random), e.g. the third-party files of ../shared/models.
// --save-models DIR writes the files timed (int8, float32, dynamic .tflite).
// --mobilenet-v2 times keras.applications' MobileNetV2 (alpha 1.0, 224x224x3,
// 1000 classes; random weights with batch-norm statistics of random images,
// int8 post-training quantization calibrated on 8 random images, float I/O)
// at batch 1 only.
// Without files, a seed model is trained for one epoch on 2,000 Fashion-MNIST
// images (untrained when the dataset is absent: speed does not depend on the
// weights) and converted to int8 (float I/O), float32 and dynamic range.
// The engines are interleaved in rounds (each round times every engine), and
// every invoke is timed on its own (invokes under 20 us in groups, each sample
// a group's time divided by its size, so the clock's own cost does not count);
// the table shows medians over all rounds.
// Ratios are taken against TFLite's best configuration per data type.
#include <dlfcn.h>

#include <algorithm>
#include <chrono>
#include <tuple>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include <flatbuffers/flexbuffers.h>
#include <nlohmann/json.hpp>

#include "qlite/convert.h"
#include "qlite/data.h"
#include "qlite/runtime.h"
#include "qlite/train.h"

#ifndef QLITE_SOURCE_DIR
#define QLITE_SOURCE_DIR "."
#endif

namespace {

using namespace qlite;

// ---- TensorFlow Lite C API (declarations mirror TF 2.9's c_api.h).
struct TfLiteModel;
struct TfLiteInterpreterOptions;
struct TfLiteInterpreter;
struct TfLiteTensor;
struct TfLiteDelegate;
struct XnnOptions {  // TfLiteXNNPackDelegateOptions of 2.9
  int32_t num_threads;
  uint32_t flags;  // 1 = TFLITE_XNNPACK_DELEGATE_FLAG_QS8 (signed int8 ops)
};

struct TfLiteApi {
  const char* (*Version)();
  TfLiteModel* (*ModelCreate)(const void*, size_t);
  void (*ModelDelete)(TfLiteModel*);
  TfLiteInterpreterOptions* (*OptionsCreate)();
  void (*OptionsDelete)(TfLiteInterpreterOptions*);
  void (*OptionsSetNumThreads)(TfLiteInterpreterOptions*, int32_t);
  void (*OptionsAddDelegate)(TfLiteInterpreterOptions*, TfLiteDelegate*);
  TfLiteInterpreter* (*InterpreterCreate)(const TfLiteModel*, const TfLiteInterpreterOptions*);
  void (*InterpreterDelete)(TfLiteInterpreter*);
  TfLiteTensor* (*GetInputTensor)(const TfLiteInterpreter*, int32_t);
  int (*ResizeInputTensor)(TfLiteInterpreter*, int32_t, const int*, int32_t);
  int (*AllocateTensors)(TfLiteInterpreter*);
  int (*Invoke)(TfLiteInterpreter*);
  const TfLiteTensor* (*GetOutputTensor)(const TfLiteInterpreter*, int32_t);
  size_t (*TensorByteSize)(const TfLiteTensor*);
  int (*TensorCopyFromBuffer)(TfLiteTensor*, const void*, size_t);
  int (*TensorCopyToBuffer)(const TfLiteTensor*, void*, size_t);
  TfLiteDelegate* (*XnnCreate)(const XnnOptions*);
  void (*XnnDelete)(TfLiteDelegate*);
};

std::string library_path() {
  if (const char* env = std::getenv("QLITE_TFLITE_LIB"); env && *env) return env;
  return std::string(QLITE_SOURCE_DIR) + "/third_party_peers/node_modules/tfjs-tflite-node/cc_deps/linux_amd64/"
                                         "libtensorflowlite_c.so";
}

const TfLiteApi* load_tflite(std::string& why) {
  static TfLiteApi api;
  const std::string path = library_path();
  void* lib = std::filesystem::exists(path) ? dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL) : nullptr;
  if (!lib) {
    why = "TensorFlow Lite C library not loadable at " + path + " (run scripts/install_peers.sh)";
    return nullptr;
  }
  bool ok = true;
  auto get = [&](const char* name, auto& fn) {
    fn = reinterpret_cast<std::remove_reference_t<decltype(fn)>>(dlsym(lib, name));
    if (!fn) ok = false, why = std::string("symbol ") + name + " missing in " + path;
  };
  get("TfLiteVersion", api.Version);
  get("TfLiteModelCreate", api.ModelCreate);
  get("TfLiteModelDelete", api.ModelDelete);
  get("TfLiteInterpreterOptionsCreate", api.OptionsCreate);
  get("TfLiteInterpreterOptionsDelete", api.OptionsDelete);
  get("TfLiteInterpreterOptionsSetNumThreads", api.OptionsSetNumThreads);
  get("TfLiteInterpreterOptionsAddDelegate", api.OptionsAddDelegate);
  get("TfLiteInterpreterCreate", api.InterpreterCreate);
  get("TfLiteInterpreterDelete", api.InterpreterDelete);
  get("TfLiteInterpreterGetInputTensor", api.GetInputTensor);
  get("TfLiteInterpreterResizeInputTensor", api.ResizeInputTensor);
  get("TfLiteInterpreterAllocateTensors", api.AllocateTensors);
  get("TfLiteInterpreterInvoke", api.Invoke);
  get("TfLiteInterpreterGetOutputTensor", api.GetOutputTensor);
  get("TfLiteTensorByteSize", api.TensorByteSize);
  get("TfLiteTensorCopyFromBuffer", api.TensorCopyFromBuffer);
  get("TfLiteTensorCopyToBuffer", api.TensorCopyToBuffer);
  get("TfLiteXNNPackDelegateCreate", api.XnnCreate);
  get("TfLiteXNNPackDelegateDelete", api.XnnDelete);
  return ok ? &api : nullptr;
}

// ---- engines: prepare once for a batch, then invoke.
struct Engine {
  std::string name;
  std::function<void()> invoke;
  std::function<std::vector<uint8_t>(size_t)> output;  // output k's bytes
  std::function<void()> cleanup = [] {};
  std::vector<double> us;  // per-invoke times over all rounds (one per timed group)
  int group = 1;           // invokes per timed sample (set after the first round)
};

std::vector<float> random_input(int64_t n, uint64_t seed) {
  Rng rng(seed);
  std::vector<float> v(static_cast<size_t>(n));
  for (float& x : v) x = rng.uniform();
  return v;
}

// xs[k]: graph input k's bytes (float32 values or quantized bytes, as the file's input type).
using Inputs = std::vector<std::vector<uint8_t>>;

Engine make_qlite(const std::vector<uint8_t>& bytes, int batch, int threads, const Inputs& xs) {
  runtime::InterpreterOptions o;
  o.num_threads = threads;
  auto it = std::shared_ptr<runtime::Interpreter>(runtime::Interpreter::from_buffer(bytes, o));
  it->resize_batch(batch);
  check(it->num_inputs() == xs.size(), "runtime_vs_tflite: the model has another number of inputs");
  for (size_t k = 0; k < xs.size(); ++k) {
    auto in = it->input_bytes(k);
    check(in.size() == xs[k].size(), "runtime_vs_tflite: the model's input does not have the expected size");
    std::memcpy(in.data(), xs[k].data(), xs[k].size());
  }
  Engine e;
  e.name = "qlite " + std::to_string(threads) + "t (" + isa_name(it->isa()) + ")";
  e.invoke = [it] { it->invoke(); };
  e.output = [it](size_t k) {
    auto o = it->output_bytes(k);
    const auto* p = reinterpret_cast<const uint8_t*>(o.data());
    return std::vector<uint8_t>(p, p + o.size());
  };
  return e;
}

Engine make_tflite(const TfLiteApi& a, const std::vector<uint8_t>& bytes, int batch, bool xnnpack,
                   const Inputs& xs) {
  auto keep = std::make_shared<std::vector<uint8_t>>(bytes);  // ModelCreate does not copy
  TfLiteModel* model = a.ModelCreate(keep->data(), keep->size());
  check(model != nullptr, "TfLiteModelCreate failed");
  TfLiteInterpreterOptions* opts = a.OptionsCreate();
  a.OptionsSetNumThreads(opts, 1);
  TfLiteDelegate* xnn = nullptr;
  if (xnnpack) {
    const XnnOptions xo{1, 1};
    xnn = a.XnnCreate(&xo);
    check(xnn != nullptr, "TfLiteXNNPackDelegateCreate failed");
    a.OptionsAddDelegate(opts, xnn);
  }
  TfLiteInterpreter* it = a.InterpreterCreate(model, opts);
  check(it != nullptr, "TfLiteInterpreterCreate failed");
  const auto q = runtime::Interpreter::from_buffer(bytes);
  for (size_t k = 0; k < xs.size(); ++k) {
    std::vector<int> dims;  // the file's input shape with `batch` images
    for (int64_t d : q->input_info(k).shape) dims.push_back(static_cast<int>(d));
    if (!dims.empty()) dims[0] = batch;
    check(a.ResizeInputTensor(it, static_cast<int32_t>(k), dims.data(), static_cast<int32_t>(dims.size())) == 0,
          "TFLite resize failed");
  }
  check(a.AllocateTensors(it) == 0, "TFLite allocate failed");
  for (size_t k = 0; k < xs.size(); ++k) {
    TfLiteTensor* in = a.GetInputTensor(it, static_cast<int32_t>(k));
    check(a.TensorByteSize(in) == xs[k].size(), "TFLite input size differs");
    check(a.TensorCopyFromBuffer(in, xs[k].data(), xs[k].size()) == 0, "TFLite input copy failed");
  }
  Engine e;
  e.name = xnnpack ? "TFLite XNNPACK" : "TFLite built-in";
  e.invoke = [&a, it] {
    if (a.Invoke(it) != 0) throw Error("TfLiteInterpreterInvoke failed");
  };
  e.output = [&a, it](size_t k) {
    const TfLiteTensor* t = a.GetOutputTensor(it, static_cast<int32_t>(k));
    std::vector<uint8_t> v(a.TensorByteSize(t));
    a.TensorCopyToBuffer(t, v.data(), v.size());
    return v;
  };
  e.cleanup = [&a, it, opts, model, xnn, keep] {
    a.InterpreterDelete(it);
    a.OptionsDelete(opts);
    if (xnn) a.XnnDelete(xnn);
    a.ModelDelete(model);
  };
  return e;
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0.0 : v[v.size() / 2];
}

std::vector<uint8_t> read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  check(static_cast<bool>(in), "cannot read " + path);
  return std::vector<uint8_t>(std::istreambuf_iterator<char>(in), {});
}

// Trains (or, without the dataset, only builds) the seed model, or the
// reference MobileNet-style network, and converts it.
void default_models(bool mobilenet_style, std::vector<uint8_t>& int8, std::vector<uint8_t>& f32,
                    std::vector<uint8_t>& dyn) {
  std::unique_ptr<Model> m;
  if (mobilenet_style) m = applications::MobileNetStyle();
  else m = make_seed_model(10, 1);
  const char* what = mobilenet_style ? "MobileNet-style network" : "seed model";
  // The seed model reshapes [N, 28, 28] itself; the MobileNet-style network takes [N, 28, 28, 1].
  auto images = [&](Tensor x) {
    if (mobilenet_style) x.reshape({x.dim(0), x.dim(1), x.dim(2), 1});
    return x;
  };
  Tensor rep;
  try {
    const Dataset ds = load_dataset("fashion-mnist");
    m->compile(Adam(), SparseCategoricalCrossentropy{true});
    FitOptions fo;
    fo.epochs = 1;
    const Split part = take(ds.train, 0, 2000);
    m->fit(images(part.x), part.y, fo);
    rep = images(take(ds.train, 0, 100).x);
    std::printf("%s trained 1 epoch on 2000 Fashion-MNIST images\n", what);
  } catch (const Error& e) {
    std::printf("Fashion-MNIST unavailable (%s): untrained %s, random calibration\n", e.what(), what);
    rep = Tensor({100, 28, 28});
    Rng rng(3);
    for (float& v : rep.span_f32()) v = rng.uniform();
    rep = images(rep);
  }
  convert::ConvertOptions o;
  o.mode = convert::Mode::kInt8;
  o.representative = &rep;
  int8 = convert::convert_model(*m, o).bytes;
  o.mode = convert::Mode::kFloat32;
  f32 = convert::convert_model(*m, o).bytes;
  o.mode = convert::Mode::kDynamic;
  dyn = convert::convert_model(*m, o).bytes;
}

// keras.applications' MobileNetV2, int8 post-training quantized (float I/O).
std::vector<uint8_t> mobilenet_v2_int8() {
  auto random = applications::MobileNetV2();
  random->build(7);
  Rng rng(5);
  Tensor x({8, 224, 224, 3});
  for (float& v : x.span_f32()) v = rng.uniform(-1.0f, 1.0f);
  auto m = applications::with_batch_statistics(*random, x);
  convert::ConvertOptions o;
  o.mode = convert::Mode::kInt8;
  o.representative = &x;
  std::printf("MobileNetV2 1.0 224: %lld parameters, int8 post-training quantization\n",
              static_cast<long long>(m->count_params()));
  return convert::convert_model(*m, o).bytes;
}

// Float elements of one image of the model's input.
int64_t image_elements(const std::vector<uint8_t>& bytes, size_t input = 0) {
  auto it = runtime::Interpreter::from_buffer(bytes);
  const runtime::TensorInfo in = it->input_info(input);
  int64_t n = 1;
  for (size_t i = 1; i < in.shape.size(); ++i) n *= in.shape[i];
  return n;
}

// Seeded random input bytes of graph input `input` for `batch` images:
// floats in [0, 1) for a float32 input, uniform bytes for a quantized one.
std::vector<uint8_t> random_input_bytes(const std::vector<uint8_t>& bytes, int batch, uint64_t seed, size_t input = 0) {
  const auto info = runtime::Interpreter::from_buffer(bytes)->input_info(input);
  const int64_t n = int64_t{batch} * image_elements(bytes, input);
  if (info.type == lite::TensorType::kFloat32) {
    const std::vector<float> x = random_input(n, seed);
    std::vector<uint8_t> b(x.size() * 4);
    std::memcpy(b.data(), x.data(), b.size());
    return b;
  }
  check(lite::tensor_type_size(info.type) == 1, "runtime_vs_tflite: input type not float32, int8 or uint8");
  Rng rng(seed);
  std::vector<uint8_t> b(static_cast<size_t>(n));
  for (uint8_t& v : b) v = static_cast<uint8_t>(rng.next_u64() & 0xff);
  return b;
}

// The outputs as values (float32, int8 or uint8, by the file's output type).
// Output k's values as doubles, read as its type (the bytes themselves for a
// type without a case here).
std::vector<double> output_values(lite::TensorType t, const std::vector<uint8_t>& raw) {
  using T = lite::TensorType;
  std::vector<double> v;
  auto read = [&]<class V>(V) {
    for (size_t i = 0; i + sizeof(V) <= raw.size(); i += sizeof(V)) {
      V x;
      std::memcpy(&x, &raw[i], sizeof(V));
      v.push_back(static_cast<double>(x));
    }
  };
  switch (t) {
    case T::kFloat32: read(float{}); break;
    case T::kInt8: read(int8_t{}); break;
    case T::kInt16: read(int16_t{}); break;
    case T::kInt32: read(int32_t{}); break;
    case T::kInt64: read(int64_t{}); break;
    default: read(uint8_t{}); break;
  }
  return v;
}

// TFLite_Detection_PostProcess as the TF1 / Coral SSD MobileNet detectors
// have it: uint8 box encodings and class scores (1917 anchors, 90 classes and
// a background column), uint8 anchors, 10 detections, score threshold 0.3.
std::vector<uint8_t> ssd_postprocess_model(bool regular) {
  flexbuffers::Builder fb;
  fb.Map([&] {
    fb.Int("max_detections", 10);
    fb.Int("max_classes_per_detection", 1);
    fb.Int("detections_per_class", 100);
    fb.Bool("use_regular_nms", regular);
    fb.Float("nms_score_threshold", 0.3f);
    fb.Float("nms_iou_threshold", 0.6f);
    fb.Int("num_classes", 90);
    fb.Float("y_scale", 10.0f);
    fb.Float("x_scale", 10.0f);
    fb.Float("h_scale", 5.0f);
    fb.Float("w_scale", 5.0f);
  });
  fb.Finish();
  lite::ModelBuilder b;
  Rng rng(5);
  std::vector<uint8_t> anchors(1917 * 4);
  for (uint8_t& a : anchors) a = static_cast<uint8_t>(20 + rng.below(200));
  using lite::TensorType;
  using lite::Quantization;
  const int32_t boxes = b.add_tensor("box_encodings", TensorType::kUInt8, {1, 1917, 4}, Quantization::per_tensor(0.05f, 128));
  const int32_t classes =
      b.add_tensor("class_predictions", TensorType::kUInt8, {1, 1917, 91}, Quantization::per_tensor(1.0f / 256, 0));
  const int32_t anc =
      b.add_constant("anchors", TensorType::kUInt8, {1917, 4}, anchors, Quantization::per_tensor(1.0f / 255, 0));
  const int32_t ob = b.add_tensor("detection_boxes", TensorType::kFloat32, {1, 10, 4});
  const int32_t oc = b.add_tensor("detection_classes", TensorType::kFloat32, {1, 10});
  const int32_t os = b.add_tensor("detection_scores", TensorType::kFloat32, {1, 10});
  const int32_t on = b.add_tensor("num_detections", TensorType::kFloat32, {1});
  b.add_custom_operator("TFLite_Detection_PostProcess", {boxes, classes, anc}, {ob, oc, os, on}, fb.GetBuffer());
  b.set_inputs({boxes, classes});
  b.set_outputs({ob, oc, os, on});
  return b.finish();
}

constexpr const char* kUsage =
    "usage: runtime_vs_tflite [--int8 FILE --float FILE --dynamic FILE] [--mobilenet-style [--save-models DIR]]\n"
    "                         [--runs256 N] [--rounds N] [--runs1 N] [--json FILE]\n"
    "       runtime_vs_tflite --mobilenet-v2 | --uint8 FILE | --lstm FILE [--rounds N] [--runs1 N] [--json FILE]\n"
    "       runtime_vs_tflite --file FILE [--file FILE ...] [--rounds N] [--runs1 N] [--json FILE]\n"
    "       runtime_vs_tflite --ssd-postprocess [--rounds N] [--runs1 N] [--json FILE]\n"
    "Times qlite's runtime against TensorFlow Lite 2.9 (built-in kernels and XNNPACK) on the same files,\n"
    "interleaved in rounds, and prints medians and ratios against TFLite's best configuration.\n"
    "Without files: the seed model (int8, float32, dynamic range) at batch 1 and 256.\n"
    "  --mobilenet-style  the reference MobileNet-style network instead of the seed model\n"
    "  --mobilenet-v2     keras.applications' MobileNetV2 (224x224x3, int8 PTQ), batch 1\n"
    "  --uint8 FILE       a TF1-era uint8 file, batch 1 (bytes must be identical everywhere)\n"
    "  --lstm FILE        a file with variable (state) tensors, batch 1, from the reset state\n"
    "  --file FILE        each file as it is, batch 1, random inputs of its own types\n"
    "  --ssd-postprocess  CUSTOM 'TFLite_Detection_PostProcess' as SSD MobileNet has it (1917 anchors,\n"
    "                     90 classes and a background, uint8), fast and regular suppression, as --file\n"
    "  --rounds N         interleaved rounds (default 10); --runs1 / --runs256: timed invokes per round\n"
    "  --json FILE        also write the medians and ratios as JSON\n";

struct Case {
  std::string dtype;
  int batch;
  std::map<std::string, double> median_us;  // by engine name
};

}  // namespace

int main(int argc, char** argv) {
  try {
    std::string int8_path, float_path, dynamic_path, json_path, save_dir;
    int rounds = 10, runs1 = 500, runs256 = 20;
    bool mobilenet_v2 = false, mobilenet_style = false, ssd_postprocess = false;
    std::string uint8_path, lstm_path;
    std::vector<std::string> files;
    for (int i = 1; i < argc; ++i) {
      const std::string a = argv[i];
      auto next = [&]() -> std::string {
        if (i + 1 >= argc) throw Error(a + " needs a value");
        return argv[++i];
      };
      // A count: a whole positive number, nothing after it.
      auto count = [&]() {
        const std::string v = next();
        size_t used = 0;
        int n = 0;
        try {
          n = std::stoi(v, &used);
        } catch (const std::exception&) {
          used = 0;
        }
        if (used != v.size() || n < 1) throw Error(a + " needs a whole number >= 1, got '" + v + "'");
        return n;
      };
      if (a == "--help" || a == "-h") {
        std::printf("%s", kUsage);
        return 0;
      }
      if (a == "--int8") int8_path = next();
      else if (a == "--float") float_path = next();
      else if (a == "--dynamic") dynamic_path = next();
      else if (a == "--json") json_path = next();
      else if (a == "--rounds") rounds = count();
      else if (a == "--runs1") runs1 = count();
      else if (a == "--runs256") runs256 = count();
      else if (a == "--mobilenet-v2") mobilenet_v2 = true;
      else if (a == "--uint8") uint8_path = next();
      else if (a == "--mobilenet-style") mobilenet_style = true;
      else if (a == "--file") files.push_back(next());
      else if (a == "--ssd-postprocess") ssd_postprocess = true;
      else if (a == "--save-models") save_dir = next();
      else if (a == "--lstm") lstm_path = next();
      else throw Error("unknown argument " + a + " (--help lists them)");
    }
    std::vector<uint8_t> int8, f32, dyn;
    // --file: every file given, at batch 1.
    std::vector<std::pair<std::string, std::vector<uint8_t>>> file_bytes;
    for (const std::string& f : files)
      file_bytes.emplace_back(std::filesystem::path(f).filename().string(), read_file(f));
    if (ssd_postprocess) {
      file_bytes.emplace_back("ssd_postprocess_fast", ssd_postprocess_model(false));
      file_bytes.emplace_back("ssd_postprocess_regular", ssd_postprocess_model(true));
    }
    const bool files_only = !file_bytes.empty();
    // Batch 1 only: MobileNetV2 int8, a uint8 file, a file with state, or the --file list.
    const bool single = mobilenet_v2 || !uint8_path.empty() || !lstm_path.empty() || files_only;
    // The row label of a file given by --uint8 / --lstm.
    const std::string label = !uint8_path.empty() ? "uint8" : !lstm_path.empty() ? "lstm" : "";
    if (files_only) {
    } else if (mobilenet_v2) int8 = mobilenet_v2_int8();
    else if (!uint8_path.empty()) int8 = read_file(uint8_path);
    else if (!lstm_path.empty()) int8 = read_file(lstm_path);
    else if (int8_path.empty() || float_path.empty() || dynamic_path.empty()) default_models(mobilenet_style, int8, f32, dyn);
    if (!int8_path.empty()) int8 = read_file(int8_path);
    if (!float_path.empty()) f32 = read_file(float_path);
    if (!dynamic_path.empty()) dyn = read_file(dynamic_path);
    if (!save_dir.empty()) {  // the files timed, for `qlite bench` or a profiler
      std::filesystem::create_directories(save_dir);
      for (const auto& [name, b] : {std::pair<const char*, const std::vector<uint8_t>*>{"int8", &int8},
                                    {"float32", &f32}, {"dynamic", &dyn}})
        if (!b->empty())
          std::ofstream(save_dir + "/" + name + ".tflite", std::ios::binary)
              .write(reinterpret_cast<const char*>(b->data()), static_cast<std::streamsize>(b->size()));
      std::printf("wrote the models to %s\n", save_dir.c_str());
    }

    std::string why;
    const TfLiteApi* tfl = load_tflite(why);
    if (tfl) std::printf("TensorFlow Lite %s loaded\n", tfl->Version());
    else std::printf("TFLite columns skipped: %s\n", why.c_str());

    std::vector<Case> cases;
    nlohmann::json j;
    std::vector<std::pair<std::string, const std::vector<uint8_t>*>> jobs;
    if (files_only) {
      for (const auto& [name, bytes] : file_bytes) jobs.emplace_back(name, &bytes);
    } else {
      jobs = {{"int8", &int8}, {"float32", &f32}, {"dynamic", &dyn}};
    }
    for (const auto& [dtype, bytes] : jobs) {
      if (single && !files_only && dtype != "int8") continue;
      for (int batch : {1, 256}) {
        if (single && batch != 1) continue;
        // Every graph input gets its own seeded bytes (a detector's post-
        // processing takes box encodings and class scores).
        Inputs x;
        for (size_t k = 0; k < runtime::Interpreter::from_buffer(*bytes)->num_inputs(); ++k)
          x.push_back(random_input_bytes(*bytes, batch, 17 + k, k));
        std::vector<Engine> engines;
        engines.push_back(make_qlite(*bytes, batch, 1, x));
        if (batch == 256) engines.push_back(make_qlite(*bytes, batch, 2, x));
        if (tfl) {
          engines.push_back(make_tflite(*tfl, *bytes, batch, false, x));
          engines.push_back(make_tflite(*tfl, *bytes, batch, true, x));
        }
        // Same inputs, so the outputs must agree (int8 engines within a few
        // quantization steps): a delegate that silently fails shows here.
        // Every output is compared (a detector has four), each read as its type.
        for (Engine& e : engines) e.invoke();
        std::vector<lite::TensorType> out_types;
        {
          const auto probe = runtime::Interpreter::from_buffer(*bytes);
          for (size_t o = 0; o < probe->num_outputs(); ++o) out_types.push_back(probe->output_info(o).type);
        }
        for (size_t k = 1; k < engines.size(); ++k) {
          double diff = 0.0;
          for (size_t o = 0; o < out_types.size(); ++o) {
            const std::vector<double> y0 = output_values(out_types[o], engines[0].output(o));
            const std::vector<double> y = output_values(out_types[o], engines[k].output(o));
            if (y.size() != y0.size()) diff = 1e300;
            for (size_t i = 0; i < std::min(y.size(), y0.size()); ++i) diff = std::max(diff, std::abs(y[i] - y0[i]));
          }
          std::printf("  %s b%d: max |%s - %s| = %.3g%s\n", label.empty() ? dtype.c_str() : label.c_str(), batch,
                      engines[k].name.c_str(), engines[0].name.c_str(), diff,
                      out_types.size() > 1 ? (" over " + std::to_string(out_types.size()) + " outputs").c_str() : "");
        }
        const int runs = batch == 1 ? runs1 : runs256;
        // Invokes shorter than the clock's own cost (a clock read is tens of
        // ns, a tiny model's invoke a few hundred) are timed in groups: each
        // sample is a group lasting at least kMinSampleUs, divided by its size.
        // The group size is one per engine, from its first round's median.
        constexpr double kMinSampleUs = 20.0;
        for (int r = 0; r < rounds; ++r)
          for (Engine& e : engines) {
            for (int w = 0; w < std::max(1, runs / 10); ++w) e.invoke();  // warm this engine's caches
            if (r == 1 && !e.us.empty())
              e.group = std::max(1, static_cast<int>(kMinSampleUs / std::max(median(e.us), 1e-3)));
            for (int k = 0; k < runs; k += e.group) {
              const auto t0 = std::chrono::steady_clock::now();
              for (int g = 0; g < e.group; ++g) e.invoke();
              e.us.push_back(std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - t0).count() /
                             e.group);
            }
          }
        Case c{label.empty() ? dtype : label, batch, {}};
        for (Engine& e : engines) {
          c.median_us[e.name] = median(e.us);
          e.cleanup();
        }
        cases.push_back(c);
      }
    }

    const int w = files_only ? 42 : 8;
    std::printf("\n%-*s %6s  %-26s %12s %14s\n", w, "model", "batch", "engine", "median us", "images/s");
    for (const Case& c : cases)
      for (const auto& [name, us] : c.median_us) {
        std::printf(us < 10 ? "%-*s %6d  %-26s %12.3f %14.0f\n" : "%-*s %6d  %-26s %12.2f %14.0f\n", w, c.dtype.c_str(), c.batch, name.c_str(), us, c.batch * 1e6 / us);
        j["results"].push_back({{"model", c.dtype}, {"batch", c.batch}, {"engine", name}, {"median_us", us},
                                {"images_per_second", c.batch * 1e6 / us}});
      }
    auto find = [&](const std::string& dtype, int batch) -> const Case& {
      for (const Case& c : cases)
        if (c.dtype == dtype && c.batch == batch) return c;
      throw Error("missing case");
    };
    auto qlite1 = [&](const Case& c) {
      for (const auto& [name, us] : c.median_us)
        if (name.rfind("qlite 1t", 0) == 0) return us;
      return 0.0;
    };
    auto qlite2 = [&](const Case& c) {
      for (const auto& [name, us] : c.median_us)
        if (name.rfind("qlite 2t", 0) == 0) return us;
      return 0.0;
    };
    auto best_tflite = [&](const Case& c) {
      double best = 0;
      for (const auto& [name, us] : c.median_us)
        if (name.rfind("TFLite", 0) == 0 && (best == 0 || us < best)) best = us;
      return best;
    };
    std::printf("\nratios (1 thread unless said; against TFLite's best configuration per data type):\n");
    // key: "ge name" (value >= target) or "gt name" (value > target).
    auto ratio = [&](const char* key, const char* what, double value, double target) {
      const bool strict = key[1] == 't';
      const bool met = strict ? value > target : value >= target;
      std::printf("  %-58s %6.2f  (target %s %.1f) %s\n", what, value, strict ? ">" : ">=", target,
                  met ? "met" : "NOT met");
      j["ratios"][key + 3] = {{"value", value}, {"target", target}, {"met", met}};
    };
    if (files_only) {
      // Issue 13: no file slower than TFLite's best configuration.
      for (const Case& c : cases)
        if (tfl) ratio(("ge " + c.dtype + "_b1_vs_tflite").c_str(), (c.dtype + " b1 speedup vs best TFLite").c_str(),
                       best_tflite(c) / qlite1(c), 1.0);
      if (!json_path.empty()) std::ofstream(json_path) << j.dump(2) << "\n";
      return 0;
    }
    if (!uint8_path.empty()) {
      const Case& m1 = find("uint8", 1);
      if (tfl) ratio("ge uint8_b1_vs_tflite", "uint8 file b1 speedup vs best TFLite", best_tflite(m1) / qlite1(m1), 5.0);
      if (!json_path.empty()) std::ofstream(json_path) << j.dump(2) << "\n";
      return 0;
    }
    if (!lstm_path.empty()) {
      const Case& m1 = find("lstm", 1);
      if (tfl) ratio("ge lstm_b1_vs_tflite", "file with state b1 speedup vs best TFLite", best_tflite(m1) / qlite1(m1),
                     1.0);
      if (!json_path.empty()) std::ofstream(json_path) << j.dump(2) << "\n";
      return 0;
    }
    if (mobilenet_v2) {
      const Case& m1 = find("int8", 1);
      if (tfl) ratio("ge mobilenet_v2_int8_b1_vs_tflite_int8", "MobileNetV2 int8 b1 speedup vs best TFLite int8",
                     best_tflite(m1) / qlite1(m1), 2.0);
      if (!json_path.empty()) std::ofstream(json_path) << j.dump(2) << "\n";
      return 0;
    }
    const Case &i1 = find("int8", 1), &i256 = find("int8", 256), &f1 = find("float32", 1);
    if (tfl) {
      ratio("ge int8_b1_vs_tflite_int8", "int8 b1 speedup vs best TFLite int8", best_tflite(i1) / qlite1(i1), 3.0);
      ratio("gt int8_b1_vs_tflite_float", "int8 b1 speedup vs best TFLite float32", best_tflite(f1) / qlite1(i1), 1.0);
      ratio("ge int8_b256_vs_tflite_int8", "int8 b256 images/s ratio vs best TFLite int8", best_tflite(i256) / qlite1(i256),
            3.0);
      ratio("ge float_b1_vs_tflite_float", "float32 b1 speedup vs best TFLite float32", best_tflite(f1) / qlite1(f1), 1.5);
    }
    if (tfl) {
      // No target: dynamic-range models run TFLite's built-in hybrid kernels
      // (XNNPACK 2.9 leaves them to TFLite).
      const Case &d1 = find("dynamic", 1), &d256 = find("dynamic", 256);
      for (const auto& [key, what, value] :
           {std::tuple<const char*, const char*, double>{"dynamic_b1_vs_tflite_dynamic",
                                                         "dynamic b1 speedup vs best TFLite dynamic",
                                                         best_tflite(d1) / qlite1(d1)},
            {"dynamic_b256_vs_tflite_dynamic", "dynamic b256 images/s ratio vs best TFLite dynamic",
             best_tflite(d256) / qlite1(d256)}}) {
        std::printf("  %-58s %6.2f\n", what, value);
        j["ratios"][key] = {{"value", value}};
      }
    }
    // Issue 12: the int8 file faster than qlite's own float32 file.
    const Case& f256 = find("float32", 256);
    ratio("gt int8_b1_vs_qlite_float", "int8 b1 speedup vs qlite's float32", qlite1(f1) / qlite1(i1), 1.0);
    ratio("gt int8_b256_vs_qlite_float", "int8 b256 images/s ratio vs qlite's float32", qlite1(f256) / qlite1(i256),
          1.0);
    ratio("ge int8_b256_2t_vs_1t", "qlite int8 b256 images/s, 2 threads / 1 thread", qlite1(i256) / qlite2(i256), 1.7);
    if (!json_path.empty()) {
      std::ofstream(json_path) << j.dump(2) << "\n";
      std::printf("wrote %s\n", json_path.c_str());
    }
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "runtime_vs_tflite: error: %s\n", e.what());
    return 2;
  }
}
