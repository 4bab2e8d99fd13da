// qlite run: one invocation of a .tflite model on raw little-endian input
// files in each input's own type; the batch is taken from the file length
// when that is unambiguous, else from --batch.
// Writes every output raw to PREFIX<k>.bin.
// A model with state (variable tensors, e.g. an LSTM's, or resource
// variables: Interpreter::has_state) whose file fixes a
// batch smaller than the input files' runs their samples as consecutive
// invokes at the file's batch, the state carried from one to the next (a
// stream); --reset-state resets it before each (independent sequences). The
// state always starts reset: every `qlite run` is a fresh interpreter.
#include <sys/stat.h>

#include <cerrno>
#include <cstring>

#include "cli.h"
#include "qlite/lite.h"
#include "qlite/runtime.h"

namespace qlite::cli {
namespace {

struct RunArgs {
  std::string path;
  std::vector<std::string> inputs;
  std::string output_prefix;
  int batch = 0;  // 0: from the file sizes
  int threads = 1;
  bool quiet = false;
  bool reset_state = false;
};

constexpr int kMaxBatch = 1 << 20;

// The bytes of --input `path` for input `info` at `batch` (0: inferred from
// the file size, which must then be unambiguous). Never reads more than the
// expected size plus one byte.
std::vector<uint8_t> read_input(const std::string& path, const runtime::TensorInfo& info, size_t index, int& batch) {
  const std::string type = lite::tensor_type_name(info.type);
  const std::string which = "input " + std::to_string(index) + " '" + info.name + "'";
  require(!info.shape.empty() && info.shape[0] > 0, which + " is a scalar; its batch cannot follow the file");
  const size_t per_sample = info.nbytes / static_cast<size_t>(info.shape[0]);
  const int64_t numel = shape_numel(info.shape);
  require(per_sample > 0 && numel > 0, which + " holds no data");
  const size_t elem = info.nbytes / static_cast<size_t>(numel);
  const std::string sample = std::to_string(per_sample) + " bytes of " + type;
  struct stat st{};
  if (batch > 0) {
    const uint64_t expected = uint64_t{per_sample} * static_cast<uint64_t>(batch);
    auto wrong_size = [&](const std::string& size) {
      return "--input " + path + ": " + size + " bytes, expected exactly " + std::to_string(expected) + " (batch " +
             std::to_string(batch) + " x " + sample + " for " + which + ")";
    };
    if (::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode))
      require(static_cast<uint64_t>(st.st_size) == expected, wrong_size(std::to_string(st.st_size)));
    std::vector<uint8_t> bytes;
    try {
      bytes = read_file_bounded(path, expected, "--input", /*allow_stream=*/true);
    } catch (const Error&) {
      // A stream longer than expected: read_file_bounded stopped one byte past.
      if (::stat(path.c_str(), &st) == 0 && !S_ISREG(st.st_mode) && !S_ISDIR(st.st_mode))
        throw Error(wrong_size("more than " + std::to_string(expected)));
      throw;
    }
    require(bytes.size() == expected, wrong_size(std::to_string(bytes.size())));
    return bytes;
  }
  require(::stat(path.c_str(), &st) == 0, "cannot read --input " + path + ": " + std::strerror(errno));
  require(!S_ISDIR(st.st_mode), "cannot read --input " + path + ": is a directory, not a file");
  require(S_ISREG(st.st_mode), "--input " + path + " is not a regular file: give --batch N to read it as a stream");
  const uint64_t size = static_cast<uint64_t>(st.st_size);
  require(size > 0 && size % per_sample == 0, "--input " + path + ": " + std::to_string(size) +
                                                  " bytes is not a positive multiple of one sample of " + which +
                                                  " (" + sample + ")");
  const uint64_t b = size / per_sample;
  require(b <= kMaxBatch, "--input " + path + " holds " + std::to_string(b) + " samples, more than the " +
                              std::to_string(kMaxBatch) + " a batch can be");
  // A file for a 1- or 2-byte input whose size also fits whole float32
  // samples may be float data (the pixels, not the quantized values): the
  // batch is then not known from the size.
  const size_t ratio = elem < 4 ? 4 / elem : 1;
  require(ratio == 1 || b % ratio != 0,
          "--input " + path + ": " + std::to_string(size) + " bytes is " + std::to_string(b) + " samples of " + type +
              " or " + std::to_string(b / ratio) + " of float32 for " + which + ": give --batch N (the file must hold " +
              type + " values)");
  batch = static_cast<int>(b);
  return read_file_bounded(path, size, "--input");
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
  int batch = a.batch;
  for (size_t i = 0; i < a.inputs.size(); ++i) {
    if (!it->input_follows_batch(i)) {
      // A shape, sizes or a broadcast operand: the file's shape, whatever the
      // batch (read as one sample of itself).
      runtime::TensorInfo info = it->input_info(i);
      info.shape.insert(info.shape.begin(), 1);
      int one = 1;
      data.push_back(read_input(a.inputs[i], info, i, one));
      continue;
    }
    int b = a.batch;
    data.push_back(read_input(a.inputs[i], it->input_info(i), i, b));
    require(batch <= 0 || b == batch, "--input " + a.inputs[i] + " holds a batch of " + std::to_string(b) +
                                          ", the first input " + std::to_string(batch));
    batch = b;
  }
  // Stateful models whose file fixes a smaller batch: one invoke per chunk.
  const int chunk = it->has_state() && it->batch() < batch && batch % it->batch() == 0 ? it->batch() : batch;
  it->resize_batch(chunk);
  std::vector<std::vector<uint8_t>> results(it->num_outputs());
  for (int first = 0; first < batch; first += chunk) {
    if (a.reset_state) it->reset_variables();
    for (size_t i = 0; i < data.size(); ++i) {
      const auto dst = it->input_bytes(i);
      const size_t at = it->input_follows_batch(i) ? static_cast<size_t>(first / chunk) * dst.size() : 0;
      std::memcpy(dst.data(), data[i].data() + at, dst.size());
    }
    it->invoke();
    for (size_t k = 0; k < results.size(); ++k) {
      const auto bytes = it->output_bytes(k);
      const auto* p = reinterpret_cast<const uint8_t*>(bytes.data());
      results[k].insert(results[k].end(), p, p + bytes.size());
    }
  }
  std::string lines;  // printed once the files are in place
  for (size_t k = 0; k < it->num_outputs(); ++k) {
    const std::string path = a.output_prefix + std::to_string(k) + ".bin";
    outputs.staging().add(path, std::span<const uint8_t>(results[k].data(), results[k].size()));
    runtime::TensorInfo info = it->output_info(k);
    if (!info.shape.empty() && chunk != batch) info.shape[0] = batch;
    lines += "output " + std::to_string(k) + " '" + lite::escape_control(info.name) + "': " +
             lite::tensor_type_name(info.type) + " " + shape_str(info.shape) + " -> " + path + "\n";
  }
  outputs.commit();
  if (!a.quiet) std::fputs(lines.c_str(), stdout);
  return 0;
}

}  // namespace

Command add_run(CLI::App& app) {
  auto a = std::make_shared<RunArgs>();
  CLI::App* sub = app.add_subcommand("run", "Run a .tflite model once on raw input files");
  sub->add_option("model", a->path, ".tflite file")->required()->check(non_empty());
  sub->add_option("--input", a->inputs,
                  "Raw little-endian input tensor in the input's own type (repeat per model input)")
      ->required()
      ->check(non_empty());
  sub->add_option("--output", a->output_prefix, "Output files are written to PREFIX<k>.bin")
      ->required()
      ->check(non_empty());
  sub->add_option("--batch", a->batch,
                  "Samples in each input file (default: from the file size; required when an int8/uint8 "
                  "file's size would also fit float32 samples, and for non-regular files)")
      ->check(int_range(1, kMaxBatch));
  sub->add_flag("--reset-state", a->reset_state,
                "For a model with state (variable tensors, e.g. an LSTM, or resource variables) run sample by sample: reset the state "
                "before each sample instead of carrying it from one to the next");
  add_threads_flag(sub, a->threads);
  add_quiet_flag(sub, a->quiet);
  return {sub, [a] { return run_run(*a); }};
}

}  // namespace qlite::cli
