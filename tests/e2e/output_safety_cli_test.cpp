// A failed command changes nothing on disk: every output path is checked
// before the work starts, and outputs are committed only after everything
// succeeded (issue "A failing run has already overwritten the model").
#include <gtest/gtest.h>

#include <iterator>

#include "cli_helpers.h"
#include "qlite/train.h"

using namespace qlite;
using namespace qlite::testing;
namespace fs = std::filesystem;

namespace {

// Every entry under dir; regular files with their size and a hash of their
// bytes (readable in a failure message, unlike the bytes).
std::map<std::string, std::string> snapshot(const fs::path& dir) {
  std::map<std::string, std::string> r;
  for (const auto& e : fs::recursive_directory_iterator(dir)) {
    const std::string bytes = e.is_regular_file() ? slurp(e.path().string()) : std::string("<dir>");
    r[e.path().string()] = std::to_string(bytes.size()) + " bytes, hash " + std::to_string(std::hash<std::string>{}(bytes));
  }
  return r;
}

// A saved (untrained) seed model: stands for the GOOD model a user has.
void save_seed(const std::string& dir) {
  auto m = make_seed_model(10, 1);
  m->compile(Adam(), SparseCategoricalCrossentropy{true});
  save_model(*m, dir);
}

void expect_user_error(const std::string& args, const std::string& needle) {
  const CmdResult r = run_qlite(args);
  EXPECT_EQ(r.exit_code, 2) << args << "\n" << r.output;
  EXPECT_EQ(std::count(r.output.begin(), r.output.end(), '\n'), 1) << args << "\n" << r.output;
  EXPECT_NE(r.output.find(needle), std::string::npos) << args << "\n" << r.output;
}

}  // namespace

TEST(OutputSafetyCli, TrainWithUnwritableJsonKeepsTheModel) {
  TempDir tmp;
  save_seed(tmp / "good");
  const auto before = snapshot(tmp.path);
  expect_user_error("train --quiet --subset 100 --out " + tmp / "good" + " --json /proc/qlite_x.json",
                    "/proc/qlite_x.json");
  expect_user_error("train --quiet --subset 100 --out " + tmp / "good" + " --json " + tmp / "nodir/x.json",
                    "does not exist");
  expect_user_error("train --quiet --subset 100 --out " + tmp / "good" + " --json " + tmp.path.string(),
                    "is a directory");
  expect_user_error("train --quiet --subset 100 --out " + tmp / "good" + " --json " + tmp / "good/model.json",
                    "model.json");
  expect_user_error("train --quiet --subset 100 --out " + tmp / "no/such/parent", "does not exist");
  EXPECT_EQ(snapshot(tmp.path), before);
}

TEST(OutputSafetyCli, QatWithUnwritableJsonKeepsTheModel) {
  TempDir tmp;
  save_seed(tmp / "float");
  save_seed(tmp / "good");
  const auto before = snapshot(tmp.path);
  expect_user_error("qat --quiet --subset 100 --model " + tmp / "float" + " --out " + tmp / "good" +
                        " --json /proc/qlite_x.json",
                    "/proc/qlite_x.json");
  expect_user_error("qat --quiet --subset 100 --model " + tmp / "float" + " --out " + tmp / "float/model.json",
                    "--out");
  EXPECT_EQ(snapshot(tmp.path), before);
}

TEST(OutputSafetyCli, ConvertRefusesBadOutputsAndKeepsOldFiles) {
  TempDir tmp;
  save_seed(tmp / "m");
  {
    std::ofstream(tmp / "good.tflite") << "previous model";
  }
  const auto before = snapshot(tmp.path);
  expect_user_error("convert --quiet --model " + tmp / "m" + " --out " + tmp / "good.tflite" +
                        " --json /proc/qlite_x.json",
                    "/proc/qlite_x.json");
  // An output inside the input model directory would destroy the input.
  expect_user_error("convert --quiet --model " + tmp / "m" + " --out " + tmp / "m/model.safetensors",
                    "input --model");
  expect_user_error("convert --quiet --model " + tmp / "m" + " --out " + tmp / "good.tflite" + " --json " +
                        tmp / "m/../m/model.json",
                    "input --model");
  expect_user_error("convert --quiet --model " + tmp / "m" + " --out " + tmp.path.string(), "is a directory");
  expect_user_error("convert --quiet --model " + tmp / "m" + " --out " + tmp / "x.tflite" + " --json " +
                        tmp / "x.tflite",
                    "both name");
  EXPECT_EQ(snapshot(tmp.path), before);
}

TEST(OutputSafetyCli, ConvertWritesBothOutputsOnSuccess) {
  TempDir tmp;
  save_seed(tmp / "m");
  const CmdResult r = run_qlite("convert --quiet --model " + tmp / "m" + " --out " + tmp / "m.tflite" + " --json " +
                                tmp / "m.json");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_GT(fs::file_size(tmp / "m.tflite"), 1000u);
  EXPECT_EQ(read_json(tmp / "m.json").at("size_bytes").get<uintmax_t>(), fs::file_size(tmp / "m.tflite"));
  size_t n = 0;
  for ([[maybe_unused]] const auto& e : fs::directory_iterator(tmp.path)) ++n;
  EXPECT_EQ(n, 3u) << "no temporary files left behind";
}

TEST(OutputSafetyCli, TrainWritesReportInsideNewModelDirectory) {
  QLITE_REQUIRE_FASHION_MNIST();
  TempDir tmp;
  const CmdResult r = run_qlite("train --quiet --subset 200 --out " + tmp / "m" + " --json " + tmp / "m/train.json");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_TRUE(fs::exists(tmp / "m/model.json"));
  EXPECT_TRUE(fs::exists(tmp / "m/model.safetensors"));
  EXPECT_EQ(read_json(tmp / "m/train.json").at("command"), "train");
}
