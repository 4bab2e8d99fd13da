// qlite run: one invocation of a .tflite model on raw little-endian input
// files in each input's own type; the batch is taken from the file length.
// Writes every output raw to PREFIX<k>.bin.
#include <filesystem>
#include <fstream>
#include <cstring>
#include <iterator>

#include "cli.h"
#include "qlite/runtime.h"

namespace qlite::cli {
namespace {

struct RunArgs {
  std::string path;
  std::vector<std::string> inputs;
  std::string output_prefix;
  int threads = 1;
  bool quiet = false;
};

std::vector<uint8_t> read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error("cannot read " + path);
  return std::vector<uint8_t>(std::istreambuf_iterator<char>(in), {});
}

int run_run(const RunArgs& a) {
  Outputs outputs;
  outputs.file(a.output_prefix + "0.bin", "--output");
  runtime::InterpreterOptions opt;
  opt.num_threads = a.threads;
  auto it = runtime::Interpreter::from_file(a.path, opt);
  require(a.inputs.size() == it->num_inputs(),
          a.path + " has " + std::to_string(it->num_inputs()) + " inputs, " + std::to_string(a.inputs.size()) +
              " --input files given");
  std::vector<std::vector<uint8_t>> data;
  int batch = -1;
  for (size_t i = 0; i < a.inputs.size(); ++i) {
    data.push_back(read_file(a.inputs[i]));
    const runtime::TensorInfo info = it->input_info(i);
    require(!info.shape.empty(), "input " + std::to_string(i) + " is a scalar; its batch cannot follow the file");
    const size_t per_sample = info.nbytes / static_cast<size_t>(info.shape[0]);
    const size_t size = data.back().size();
    require(per_sample > 0 && size > 0 && size % per_sample == 0,
            a.inputs[i] + ": " + std::to_string(size) + " bytes is not a positive multiple of one sample of input '" +
                info.name + "' (" + std::to_string(per_sample) + " bytes of " + lite::tensor_type_name(info.type) + ")");
    const int b = static_cast<int>(size / per_sample);
    require(batch < 0 || b == batch, a.inputs[i] + " holds a batch of " + std::to_string(b) + ", the first input " +
                                         std::to_string(batch));
    batch = b;
  }
  it->resize_batch(batch);
  for (size_t i = 0; i < data.size(); ++i) std::memcpy(it->input_bytes(i).data(), data[i].data(), data[i].size());
  it->invoke();
  for (size_t k = 0; k < it->num_outputs(); ++k) {
    const std::string path = a.output_prefix + std::to_string(k) + ".bin";
    const auto bytes = it->output_bytes(k);
    outputs.staging().add(path, std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()));
    if (!a.quiet) {
      const runtime::TensorInfo info = it->output_info(k);
      std::printf("output %zu '%s': %s %s -> %s\n", k, info.name.c_str(), lite::tensor_type_name(info.type),
                  shape_str(info.shape).c_str(), path.c_str());
    }
  }
  outputs.commit();
  return 0;
}

}  // namespace

Command add_run(CLI::App& app) {
  auto a = std::make_shared<RunArgs>();
  CLI::App* sub = app.add_subcommand("run", "Run a .tflite model once on raw input files");
  sub->add_option("model", a->path, ".tflite file")->required()->check(CLI::ExistingFile);
  sub->add_option("--input", a->inputs, "Raw little-endian input tensor (repeat per model input)")
      ->required()
      ->check(CLI::ExistingFile);
  sub->add_option("--output", a->output_prefix, "Output files are written to PREFIX<k>.bin")->required();
  add_threads_flag(sub, a->threads);
  add_quiet_flag(sub, a->quiet);
  return {sub, [a] { return run_run(*a); }};
}

}  // namespace qlite::cli
