// Running the qlite CLI from tests.
#pragma once

#include <sys/wait.h>

#include <algorithm>
#include <array>
#include <iterator>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "peer_requirement.h"
#include "temp_dir.h"

namespace qlite::testing {

struct CmdResult {
  int exit_code = -1;
  std::string output;  // stdout and stderr together
};

inline std::string qlite_bin() {
  const char* env = std::getenv("QLITE_BIN");
  return env ? env : QLITE_BINARY_DIR "/qlite";
}

inline CmdResult run_cmd(const std::string& cmd) {
  CmdResult r;
  FILE* p = popen((cmd + " 2>&1").c_str(), "r");
  if (!p) return r;
  std::array<char, 4096> buf;
  size_t n;
  while ((n = std::fread(buf.data(), 1, buf.size(), p)) > 0) r.output.append(buf.data(), n);
  const int status = pclose(p);
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

inline CmdResult run_qlite(const std::string& args) { return run_cmd(qlite_bin() + " " + args); }

inline nlohmann::json read_json(const std::filesystem::path& p) {
  std::ifstream in(p);
  return nlohmann::json::parse(in);
}


// The whole file as bytes ("" when it cannot be read).
inline std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), {}};
}

// A user error: exit 2, exactly one line, naming `needle`.
inline void expect_one_line_error(const CmdResult& r, const std::string& args, const std::string& needle) {
  EXPECT_EQ(r.exit_code, 2) << args << "\n" << r.output;
  EXPECT_EQ(std::count(r.output.begin(), r.output.end(), '\n'), 1) << args << "\n" << r.output;
  EXPECT_NE(r.output.find(needle), std::string::npos) << args << "\n" << r.output;
}

inline bool fashion_mnist_present() {
  return std::filesystem::exists("/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz");
}

// The CLI tests that train or evaluate read Fashion-MNIST (Debian's
// dataset-fashion-mnist, installed by scripts/setup.sh). Without it they skip
// on a developer machine and fail under CI=true, as a missing peer does: a
// hardening test that silently skips in CI proves nothing.
#define QLITE_REQUIRE_FASHION_MNIST() \
  QLITE_REQUIRE_PEER(::qlite::testing::fashion_mnist_present(), "dataset-fashion-mnist (scripts/setup.sh installs it)")

}  // namespace qlite::testing
