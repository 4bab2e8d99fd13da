// Running a converted file in Arm NN (its TfLite parser and CpuRef backend:
// an implementation independent of TensorFlow Lite that requantizes in
// float). Arm NN runs in a subprocess (tests/armnn/armnn_runner.cc) because it
// aborts the process on some inputs; REQUIRE_ARMNN skips with a message when
// the runner was not built (Arm NN not installed: scripts/install_peers.sh
// --armnn) and fails under CI=true (peer_requirement.h).
#pragma once

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "interop_test_util.h"
#include "peer_requirement.h"

namespace qlite::test {

inline std::string armnn_runner_path() {
  if (const char* p = std::getenv("QLITE_ARMNN_RUNNER")) return p;
  return std::string(QLITE_BINARY_DIR) + "/qlite_armnn_runner";
}

#define REQUIRE_ARMNN()                                                                           \
  QLITE_REQUIRE_PEER(std::filesystem::exists(armnn_runner_path()),                                \
                     "Arm NN runner not built (" << armnn_runner_path()                           \
                         << "): install libarmnntfliteparser-dev and libarmnn-cpuref-backend22 "  \
                            "(scripts/install_peers.sh --armnn) and reconfigure, so that "        \
                            "tests/armnn builds it")

inline void write_test_bytes(const std::string& path, const std::vector<uint8_t>& b) {
  std::ofstream f(path, std::ios::binary | std::ios::trunc);
  f.write(reinterpret_cast<const char*>(b.data()), static_cast<std::streamsize>(b.size()));
}

// Runs the model in Arm NN on `input` (the graph input's bytes, any batch);
// the raw output bytes, or empty with a test failure.
inline std::vector<uint8_t> run_armnn(const convert::ConvertResult& r, const std::vector<uint8_t>& input,
                                      const std::string& tag) {
  const std::string dir = ::testing::TempDir();
  const std::string model = dir + "/armnn_" + tag + ".tflite", in = dir + "/armnn_" + tag + "_in.bin",
                    out = dir + "/armnn_" + tag + "_out.bin", log = dir + "/armnn_" + tag + ".log";
  write_test_bytes(model, r.bytes);
  write_test_bytes(in, input);
  std::filesystem::remove(out);
  const std::string cmd = "'" + armnn_runner_path() + "' '" + model + "' '" + in + "' '" + out + "' 2>'" + log + "'";
  const int rc = std::system(cmd.c_str());
  std::ifstream lf(log);
  const std::string log_text((std::istreambuf_iterator<char>(lf)), std::istreambuf_iterator<char>());
  EXPECT_EQ(rc, 0) << "Arm NN runner failed on " << tag << ": " << log_text;
  std::ifstream f(out, std::ios::binary);
  return {std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>()};
}

}  // namespace qlite::test
