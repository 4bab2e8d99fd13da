// Findings of the hardening issue that still reproduced from the built CLI:
// a model directory with non-finite weights evaluated with exit 0 (now every
// loader refuses it, naming the layer), and QAT with a huge learning rate
// failed with a bare "int32 accumulator overflow" (now it says why and what to
// change). Each is one line, exit 2, and writes nothing.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <limits>

#include "cli_helpers.h"
#include "qlite/train.h"

using namespace qlite;
using namespace qlite::testing;
namespace fs = std::filesystem;

namespace {

// A saved seed model whose first stored float is replaced by `value`.
void save_with_first_weight(const std::string& dir, float value) {
  auto m = make_seed_model(10, 1);
  m->compile(Adam(), SparseCategoricalCrossentropy{true});
  save_model(*m, dir);
  std::string bytes = slurp(dir + "/model.safetensors");
  uint64_t n = 0;
  std::memcpy(&n, bytes.data(), 8);
  std::memcpy(bytes.data() + 8 + n, &value, 4);
  std::ofstream(dir + "/model.safetensors", std::ios::binary | std::ios::trunc) << bytes;
}

TEST(HardenCli, NonFiniteWeightsAreRefusedByEveryCommandThatLoadsThem) {
  QLITE_REQUIRE_FASHION_MNIST();
  TempDir tmp;
  for (const float bad : {std::numeric_limits<float>::quiet_NaN(), std::numeric_limits<float>::infinity()}) {
    const std::string dir = tmp / (std::isnan(bad) ? "nan" : "inf");
    save_with_first_weight(dir, bad);
    const std::string json_before = slurp(dir + "/model.json"), weights_before = slurp(dir + "/model.safetensors");
    for (const std::string& args :
         {"eval " + dir, "convert --model " + dir + " --mode int8 --out " + tmp / "x.tflite",
          "convert --model " + dir + " --mode float32 --out " + tmp / "x.tflite",
          "qat --quiet --subset 100 --model " + dir + " --out " + tmp / "q",
          "train --quiet --subset 100 --initial-weights " + dir + " --out " + tmp / "t"}) {
      expect_one_line_error(run_qlite(args), args, "must be finite");
      const CmdResult r = run_qlite(args);
      EXPECT_NE(r.output.find("layer 'conv2d' parameter 'kernel' holds " + std::string(std::isnan(bad) ? "nan" : "inf")),
                std::string::npos)
          << r.output;
    }
    EXPECT_FALSE(fs::exists(tmp / "x.tflite"));
    EXPECT_FALSE(fs::exists(tmp / "q"));
    EXPECT_FALSE(fs::exists(tmp / "t"));
    EXPECT_EQ(slurp(dir + "/model.json"), json_before);
    EXPECT_EQ(slurp(dir + "/model.safetensors"), weights_before);
  }
}

TEST(HardenCli, QatOverflowFromAHugeLearningRateSaysWhatToChange) {
  QLITE_REQUIRE_FASHION_MNIST();
  TempDir tmp;
  CmdResult r = run_qlite("train --quiet --subset 300 --out " + tmp / "f");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const std::string args = "qat --quiet --subset 300 --lr 1e6 --model " + tmp / "f" + " --out " + tmp / "q" +
                           " --json " + tmp / "q.json";
  expect_one_line_error(run_qlite(args), args, "lower the learning rate (--lr 1e+06)");
  r = run_qlite(args);
  EXPECT_NE(r.output.find("int32 accumulator overflow"), std::string::npos) << r.output;
  EXPECT_FALSE(fs::exists(tmp / "q"));
  EXPECT_FALSE(fs::exists(tmp / "q.json"));
}

}  // namespace
