// Interop with Arm NN's TfLite parser and CpuRef backend, an implementation
// independent of TensorFlow Lite that requantizes in float: int8 outputs
// within 1 step of qlite's on >= 99.9% of values, same arg-max on >= 99.9% of
// images; float32 outputs within 1e-4 relative. Arm NN runs in a subprocess
// (tests/armnn/armnn_runner.cc) because it aborts the process on some inputs;
// the tests skip with a message when the runner was not built (Arm NN not
// installed: scripts/install_peers.sh --armnn), and fail under CI=true
// (peer_requirement.h).
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>

#include "interop_test_util.h"
#include "peer_requirement.h"

namespace qlite::test {
namespace {

using convert::IoType;
using convert::Mode;

constexpr int64_t kImages = kInteropImages;

std::string runner_path() {
  if (const char* p = std::getenv("QLITE_ARMNN_RUNNER")) return p;
  return std::string(QLITE_BINARY_DIR) + "/qlite_armnn_runner";
}

#define REQUIRE_ARMNN()                                                                           \
  QLITE_REQUIRE_PEER(std::filesystem::exists(runner_path()),                                      \
                     "Arm NN runner not built (" << runner_path()                                 \
                         << "): install libarmnntfliteparser-dev and libarmnn-cpuref-backend22 "  \
                            "(scripts/install_peers.sh --armnn) and reconfigure, so that "        \
                            "tests/armnn builds it")

void write_bytes(const std::string& path, const std::vector<uint8_t>& b) {
  std::ofstream f(path, std::ios::binary | std::ios::trunc);
  f.write(reinterpret_cast<const char*>(b.data()), static_cast<std::streamsize>(b.size()));
}

// Runs the model in Arm NN; the raw output bytes, or empty with a failure.
std::vector<uint8_t> run_armnn(const convert::ConvertResult& r, const std::vector<uint8_t>& input,
                               const std::string& tag) {
  const std::string dir = ::testing::TempDir();
  const std::string model = dir + "/armnn_" + tag + ".tflite", in = dir + "/armnn_" + tag + "_in.bin",
                    out = dir + "/armnn_" + tag + "_out.bin", log = dir + "/armnn_" + tag + ".log";
  write_bytes(model, r.bytes);
  write_bytes(in, input);
  std::filesystem::remove(out);
  const std::string cmd = "'" + runner_path() + "' '" + model + "' '" + in + "' '" + out + "' 2>'" + log + "'";
  const int rc = std::system(cmd.c_str());
  std::ifstream lf(log);
  const std::string log_text((std::istreambuf_iterator<char>(lf)), std::istreambuf_iterator<char>());
  EXPECT_EQ(rc, 0) << "Arm NN runner failed on " << tag << ": " << log_text;
  std::ifstream f(out, std::ios::binary);
  return {std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>()};
}

using ArmnnInterop = InteropTest;

TEST_F(ArmnnInterop, Int8WithinOneStep) {
  REQUIRE_ARMNN();
  for (IoType io : {IoType::kInt8, IoType::kFloat32}) {
    const auto r = convert_with(brief_seed(), Mode::kInt8, io, &rep_);
    const auto& g = r.model.subgraphs[0];
    const lite::TensorType out_type = g.tensors[g.outputs[0]].type;
    const std::vector<uint8_t> theirs_bytes = run_armnn(r, graph_input_bytes(r, x_), convert::io_type_name(io));
    const RunOutput ours = run_qlite(r.bytes, x_);
    // In steps of the int8 output scale.
    std::vector<float> theirs = output_values(theirs_bytes, out_type);
    std::vector<float> mine = output_values(ours);
    if (io == IoType::kFloat32) {
      // Float I/O: the dequantized values, in units of the int8 output scale.
      const float s = g.tensors[g.operators.back().inputs[0]].quantization.scale[0];
      for (float& v : theirs) v /= s;
      for (float& v : mine) v /= s;
    }
    const Compared c = compare_rows(mine, theirs, 10, 1e-3f);
    ASSERT_EQ(c.rows, kImages) << convert::io_type_name(io);
    EXPECT_GE(c.within_one * 1000, c.values * 999) << convert::io_type_name(io) << ": " << c.within_one << "/"
                                                  << c.values;
    EXPECT_GE(c.argmax_same * 1000, kImages * 999) << convert::io_type_name(io);
    RecordProperty(std::string("exact_") + convert::io_type_name(io),
                   std::to_string(c.exact) + "/" + std::to_string(c.values));
  }
}

TEST_F(ArmnnInterop, Float32WithinOneInTenThousand) {
  REQUIRE_ARMNN();
  const auto r = convert_with(brief_seed(), Mode::kFloat32);
  const std::vector<uint8_t> theirs_bytes = run_armnn(r, graph_input_bytes(r, x_), "f32");
  const RunOutput ours = run_qlite(r.bytes, x_);
  const Compared c = compare_rows(ours.values, output_values(theirs_bytes, lite::TensorType::kFloat32), 10);
  ASSERT_EQ(c.rows, kImages);
  EXPECT_LE(c.max_rel, 1e-4);
  EXPECT_GE(c.argmax_same * 1000, kImages * 999);
}

}  // namespace
}  // namespace qlite::test
