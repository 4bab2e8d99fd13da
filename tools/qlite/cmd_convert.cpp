// qlite convert: a saved model directory -> a .tflite file in one of the
// TFLite converter's modes.
#include <filesystem>

#include "cli.h"
#include "qlite/convert.h"
#include "qlite/data.h"
#include "qlite/quant/qat.h"
#include "qlite/train.h"

namespace qlite::cli {
namespace {

struct ConvertArgs {
  std::string model;
  std::string mode = "float32";
  int representative = convert::kDefaultRepresentativeCount;
  std::string io = "float32";
  std::string data = "fashion-mnist";
  std::string out;
  std::string json;
  int64_t dynamic_min_elements = convert::kTfliteDynamicMinElements;
  bool quiet = false;
};

int run_convert(const ConvertArgs& a) {
  namespace fs = std::filesystem;
  Outputs outputs;
  outputs.input_dir(a.model, "--model");
  outputs.file(a.out, "--out");
  outputs.json_file(a.json);
  quant::register_qat_layers();  // QAT model directories name QuantizeWrapper layers
  auto model = load_model_dir(a.model, "--model");

  convert::ConvertOptions opt;
  opt.mode = convert::mode_from_string(a.mode);
  opt.io = convert::io_type_from_string(a.io);
  opt.representative_count = a.representative;
  opt.dynamic_min_elements = a.dynamic_min_elements;
  Split rep;
  bool qat = false;
  for (size_t i = 0; i < model->num_layers(); ++i) {
    const std::string t = model->layer(i).type();
    qat = qat || t == "QuantizeWrapper" || t == "QuantizeLayer";
  }
  if (opt.mode == convert::Mode::kInt8 && !qat) {
    Dataset ds = load_dataset(a.data);
    const int64_t n = std::min<int64_t>(a.representative, ds.train.x.dim(0));
    rep = take(ds.train, 0, n);
    opt.representative = &rep.x;
  }
  const convert::ConvertResult r = convert::convert_model(*model, opt);
  outputs.staging().add(a.out, r.bytes);

  if (!a.json.empty()) {
    json j;
    j["command"] = "convert";
    j["model"] = a.model;
    j["mode"] = a.mode;
    j["io"] = a.io;
    j["out"] = a.out;
    j["size_bytes"] = r.size_bytes;
    j["integer_only"] = r.integer_only;
    j["quantization_aware"] = r.quantization_aware;
    if (opt.representative != nullptr) j["representative"] = opt.representative->dim(0);
    json ops = json::array(), float_ops = json::array();
    for (const auto& op : r.ops) ops.push_back(op.op);
    for (const auto& f : r.float_ops) float_ops.push_back(f);
    j["ops"] = ops;
    j["float_ops"] = float_ops;
    outputs.stage_json(a.json, j);
  }
  outputs.commit();
  // "wrote" only once it is: a --json destination can still refuse the bytes.
  if (!a.quiet) {
    FILE* out = human_out(a.json);
    std::fprintf(out, "wrote %s: %zu bytes, %s%s, integer only: %s\n", a.out.c_str(), r.size_bytes, a.mode.c_str(),
                r.quantization_aware ? " (quantization-aware)" : "", r.integer_only ? "yes" : "no");
    if (!r.float_ops.empty()) {
      std::fprintf(out, "float ops:");
      for (const auto& f : r.float_ops) std::fprintf(out, " %s;", f.c_str());
      std::fprintf(out, "\n");
    }
  }
  return 0;
}

}  // namespace

Command add_convert(CLI::App& app) {
  auto a = std::make_shared<ConvertArgs>();
  CLI::App* sub = app.add_subcommand(
      "convert",
      "Convert a saved model to a .tflite file.\n"
      "Modes: float32 (no optimization); dynamic (int8 weights, float activations; as TFLite's\n"
      "converter, only kernels with >= --dynamic-min-elements elements are quantized, default 1024,\n"
      "so the seed model's 108-element conv kernel stays float); int8 (full integer, activation\n"
      "ranges calibrated with min/max on the first --representative training images; a\n"
      "quantization-aware model uses its learned ranges instead); float16 (float16 weights).\n"
      "integer_only: every op but the float I/O QUANTIZE/DEQUANTIZE computes on integers.");
  sub->add_option("--model", a->model, "Model directory (from qlite train or qlite qat)")->required()->check(non_empty());
  sub->add_option("--mode", a->mode, "float32, dynamic, int8 or float16")
      ->check(CLI::IsMember({"float32", "dynamic", "int8", "float16"}))
      ->capture_default_str();
  sub->add_option("--representative", a->representative, "int8: calibration images (first N of the training split)")
      ->check(int_range(1, 1000000))
      ->capture_default_str();
  sub->add_option("--io", a->io, "int8 mode: graph input/output type (float32, int8, uint8)")
      ->check(CLI::IsMember({"float32", "int8", "uint8"}))
      ->capture_default_str();
  add_data_flag(sub, a->data, "Dataset of the representative images");
  sub->add_option("--dynamic-min-elements", a->dynamic_min_elements,
                  "dynamic: quantize only kernels with at least this many elements (0 = all)")
      ->check(int_range(0))
      ->capture_default_str();
  sub->add_option("--out", a->out, "Output .tflite file (written atomically)")->required()->check(non_empty());
  add_json_flag(sub, a->json, "Write size_bytes, integer_only, ops, float_ops as JSON ('-' for stdout)");
  add_quiet_flag(sub, a->quiet);
  return {sub, [a] { return run_convert(*a); }};
}

}  // namespace qlite::cli
