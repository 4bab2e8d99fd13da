// qlite eval: test accuracy of a saved model directory, or of a .tflite file
// run in the qlite runtime.
#include <algorithm>
#include <cstring>
#include <filesystem>

#include "cli.h"
#include "kernels/reference/int8_kernels.h"
#include "qlite/data.h"
#include "qlite/runtime.h"
#include "qlite/train.h"

namespace qlite::cli {
namespace {

struct EvalArgs {
  std::string path;
  std::string data = "fashion-mnist";
  std::string json;
  int threads = 1;
  int batch_size = 256;
  bool quiet = false;
};

// Runs the test images through the runtime in batches. A float32 input takes
// the pixels as they are; an int8 / uint8 input gets them quantized with the
// input tensor's scale and zero point by the reference QUANTIZE kernel, i.e.
// exactly what a QUANTIZE op at the model's start would compute. The class is
// the arg-max of the raw output row, which is the same for float outputs and
// for int8 / uint8 outputs (dequantization is monotonic; ties go to the first).
int run_eval_tflite(const EvalArgs& a) {
  runtime::InterpreterOptions opt;
  opt.num_threads = a.threads;
  auto it = runtime::Interpreter::from_file(a.path, opt);
  require(it->num_inputs() == 1 && it->num_outputs() == 1,
          a.path + ": eval needs a model with one input and one output");
  Dataset ds = load_dataset(a.data);
  const Tensor& x = ds.test.x;
  const int64_t n = x.dim(0);
  const int64_t image = x.numel() / n;
  const runtime::TensorInfo in0 = it->input_info(0);
  require(!in0.shape.empty() && shape_numel(in0.shape) / in0.shape[0] == image,
          "model input " + shape_str(in0.shape) + " does not hold one " + a.data + " image " +
              shape_str(Shape(x.shape().begin() + 1, x.shape().end())) + " per batch row");
  int64_t correct = 0;
  for (int64_t start = 0; start < n; start += a.batch_size) {
    const int batch = static_cast<int>(std::min<int64_t>(a.batch_size, n - start));
    it->resize_batch(batch);
    const float* px = x.data<float>() + start * image;
    const int64_t count = int64_t{batch} * image;
    switch (in0.type) {
      case lite::TensorType::kFloat32:
        std::memcpy(it->input_bytes(0).data(), px, static_cast<size_t>(count) * sizeof(float));
        break;
      case lite::TensorType::kInt8:
        ref::quantize_f32_to_int8(count, px, in0.scale(), in0.zero_point(), it->input_data<int8_t>(0).data());
        break;
      case lite::TensorType::kUInt8:
        ref::quantize_f32_to_uint8(count, px, in0.scale(), in0.zero_point(), it->input_data<uint8_t>(0).data());
        break;
      default:
        throw Error(a.path + ": input type " + lite::tensor_type_name(in0.type) + " is not supported by eval");
    }
    it->invoke();
    const runtime::TensorInfo out = it->output_info(0);
    const int64_t classes = shape_numel(out.shape) / batch;
    const std::byte* raw = it->output_bytes(0).data();
    for (int b = 0; b < batch; ++b) {
      auto value = [&](int64_t c) -> double {
        const int64_t i = int64_t{b} * classes + c;
        switch (out.type) {
          case lite::TensorType::kFloat32: return reinterpret_cast<const float*>(raw)[i];
          case lite::TensorType::kInt8: return reinterpret_cast<const int8_t*>(raw)[i];
          case lite::TensorType::kUInt8: return reinterpret_cast<const uint8_t*>(raw)[i];
          default: throw Error(a.path + ": output type " + lite::tensor_type_name(out.type) + " is not supported by eval");
        }
      };
      int64_t best = 0;
      for (int64_t c = 1; c < classes; ++c)
        if (value(c) > value(best)) best = c;
      correct += best == ds.test.y.data<int32_t>()[start + b];
    }
  }
  const double accuracy = static_cast<double>(correct) / static_cast<double>(n);
  if (!a.quiet)
    std::printf("%s on %s test set (%lld images): accuracy %.4f\n", a.path.c_str(), a.data.c_str(),
                static_cast<long long>(n), accuracy);
  if (!a.json.empty()) {
    json j;
    j["command"] = "eval";
    j["model"] = a.path;
    j["data"] = a.data;
    j["runtime"] = "qlite";
    j["test_accuracy"] = accuracy;
    j["test_samples"] = n;
    j["environment"] = environment_json(a.threads);
    write_json_file(a.json, j);
  }
  return 0;
}

int run_eval(const EvalArgs& a) {
  namespace fs = std::filesystem;
  if (fs::is_regular_file(a.path)) return run_eval_tflite(a);
  if (!fs::is_directory(a.path))
    throw Error(a.path + " is not a model directory (expected " + a.path + "/model.json)");
  auto model = load_model(a.path);
  Dataset ds = load_dataset(a.data);
  require_input_matches(model->input_shape(), ds.test.x, a.data);
  if (!model->compiled()) model->compile(Adam(), SparseCategoricalCrossentropy{true});
  model->set_threads(a.threads);
  EvalResult r = model->evaluate(ds.test.x, ds.test.y, a.batch_size);
  if (!a.quiet)
    std::printf("%s on %s test set (%lld images): accuracy %.4f, loss %.4f\n", a.path.c_str(), a.data.c_str(),
                static_cast<long long>(r.samples), r.accuracy, r.loss);
  if (!a.json.empty()) {
    json j;
    j["command"] = "eval";
    j["model"] = a.path;
    j["data"] = a.data;
    j["test_accuracy"] = r.accuracy;
    j["test_loss"] = r.loss;
    j["test_samples"] = r.samples;
    j["environment"] = environment_json(a.threads);
    write_json_file(a.json, j);
  }
  return 0;
}

}  // namespace

Command add_eval(CLI::App& app) {
  auto a = std::make_shared<EvalArgs>();
  CLI::App* sub = app.add_subcommand("eval", "Evaluate a saved model on a dataset's test split");
  sub->add_option("model", a->path, "Model directory (from qlite train) or .tflite file")->required();
  sub->add_option("--data", a->data, "fashion-mnist, mnist, or a directory of IDX files")->capture_default_str();
  sub->add_option("--threads", a->threads)->check(CLI::Range(1, 256))->capture_default_str();
  sub->add_option("--batch-size", a->batch_size)->check(CLI::PositiveNumber)->capture_default_str();
  sub->add_option("--json", a->json, "Write metrics as JSON to this file ('-' for stdout)");
  sub->add_flag("--quiet,-q", a->quiet, "Print nothing but errors");
  return {sub, [a] { return run_eval(*a); }};
}

}  // namespace qlite::cli
