// Interop with Arm NN's TfLite parser and CpuRef backend, an implementation
// independent of TensorFlow Lite that requantizes in float: int8 outputs
// within 1 step of qlite's on >= 99.9% of values, same arg-max on >= 99.9% of
// images; float32 outputs within 1e-4 relative. Arm NN runs in a subprocess
// (tests/armnn/armnn_runner.cc) because it aborts the process on some inputs;
// the tests skip with a message when the runner was not built (Arm NN not
// installed: scripts/install_peers.sh --armnn).
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>

#include "convert_test_util.h"

namespace qlite::test {
namespace {

using convert::IoType;
using convert::Mode;

constexpr int64_t kImages = 1000;

std::string runner_path() {
  if (const char* p = std::getenv("QLITE_ARMNN_RUNNER")) return p;
  return std::string(QLITE_BINARY_DIR) + "/qlite_armnn_runner";
}

#define REQUIRE_ARMNN()                                                                           \
  if (!std::filesystem::exists(runner_path()))                                                    \
  GTEST_SKIP() << "Arm NN runner not built (" << runner_path()                                    \
               << "): install libarmnntfliteparser-dev and libarmnn-cpuref-backend22 "            \
                  "(scripts/install_peers.sh --armnn) and include tests/armnn in the build"

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

class ArmnnInterop : public ::testing::Test {
 protected:
  void SetUp() override {
    if (fashion() == nullptr) GTEST_SKIP() << "Fashion-MNIST not installed";
    x_ = rows(fashion()->test.x, 0, kImages);
    rep_ = rows(fashion()->train.x, 0, 100);
  }
  Tensor x_, rep_;
};

TEST_F(ArmnnInterop, Int8WithinOneStep) {
  REQUIRE_ARMNN();
  for (IoType io : {IoType::kInt8, IoType::kFloat32}) {
    const auto r = convert_with(brief_seed(), Mode::kInt8, io, &rep_);
    const auto& g = r.model.subgraphs[0];
    const auto& in = g.tensors[g.inputs[0]];
    const auto& outq = g.tensors[g.outputs[0]].quantization;
    const float in_scale = in.quantization.scale.empty() ? 0.0f : in.quantization.scale[0];
    const int32_t in_zp = in.quantization.zero_point.empty() ? 0 : static_cast<int32_t>(in.quantization.zero_point[0]);
    const std::vector<uint8_t> theirs_bytes =
        run_armnn(r, input_bytes_for(x_, in.type, in_scale, in_zp), convert::io_type_name(io));
    const RunOutput ours = run_qlite(r.bytes, x_);
    std::vector<float> theirs;  // in steps of the output scale
    std::vector<float> mine;
    if (io == IoType::kInt8) {
      for (uint8_t b : theirs_bytes) theirs.push_back(static_cast<int8_t>(b));
      for (int32_t q : ours.raw) mine.push_back(static_cast<float>(q));
    } else {
      // Float I/O: compare dequantized values in units of the int8 output scale.
      const auto& body = g.tensors[g.operators.back().inputs[0]].quantization;
      const float s = body.scale[0];
      std::vector<float> f(theirs_bytes.size() / 4);
      std::memcpy(f.data(), theirs_bytes.data(), f.size() * 4);
      for (float v : f) theirs.push_back(v / s);
      for (float v : ours.values) mine.push_back(v / s);
      (void)outq;
    }
    ASSERT_EQ(theirs.size(), mine.size()) << convert::io_type_name(io);
    int64_t within = 0, same_argmax = 0, exact = 0;
    for (size_t i = 0; i < mine.size(); ++i) {
      within += std::fabs(theirs[i] - mine[i]) <= 1.0f + 1e-3f;
      exact += std::fabs(theirs[i] - mine[i]) <= 1e-3f;
    }
    for (int64_t row = 0; row < kImages; ++row)
      same_argmax += argmax(theirs.data() + row * 10, 10) == argmax(mine.data() + row * 10, 10);
    const int64_t values = static_cast<int64_t>(mine.size());
    EXPECT_GE(within * 1000, values * 999) << convert::io_type_name(io) << ": " << within << "/" << values;
    EXPECT_GE(same_argmax * 1000, kImages * 999) << convert::io_type_name(io);
    RecordProperty(std::string("exact_") + convert::io_type_name(io), std::to_string(exact) + "/" + std::to_string(values));
  }
}

TEST_F(ArmnnInterop, Float32WithinOneInTenThousand) {
  REQUIRE_ARMNN();
  const auto r = convert_with(brief_seed(), Mode::kFloat32);
  const std::vector<uint8_t> theirs_bytes = run_armnn(r, input_bytes_for(x_, lite::TensorType::kFloat32, 0, 0), "f32");
  const RunOutput ours = run_qlite(r.bytes, x_);
  std::vector<float> theirs(theirs_bytes.size() / 4);
  std::memcpy(theirs.data(), theirs_bytes.data(), theirs.size() * 4);
  ASSERT_EQ(theirs.size(), ours.values.size());
  int64_t same_argmax = 0;
  double max_rel = 0;
  for (int64_t row = 0; row < kImages; ++row) {
    const float* a = ours.values.data() + row * 10;
    const float* b = theirs.data() + row * 10;
    float mag = 0;
    for (int j = 0; j < 10; ++j) mag = std::max(mag, std::fabs(b[j]));
    for (int j = 0; j < 10; ++j) max_rel = std::max(max_rel, static_cast<double>(std::fabs(a[j] - b[j]) / mag));
    same_argmax += argmax(a, 10) == argmax(b, 10);
  }
  EXPECT_LE(max_rel, 1e-4);
  EXPECT_GE(same_argmax * 1000, kImages * 999);
}

}  // namespace
}  // namespace qlite::test
