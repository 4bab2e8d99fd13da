// Diverged training is never a success: qlite train/qat with a learning rate
// that blows up exit 2 with one line and leave an existing model untouched;
// float flags must be finite and in range; the rate used is in --json.
#include <gtest/gtest.h>

#include <iterator>

#include "cli_helpers.h"
#include "qlite/train.h"

using namespace qlite;
using namespace qlite::testing;
namespace fs = std::filesystem;

namespace {

}  // namespace

TEST(DivergenceCli, NonFiniteOrOutOfRangeFloatFlagsAreRefused) {
  TempDir tmp;
  const std::vector<std::string> bad = {
      "train --quiet --lr nan --out " + tmp / "m",
      "train --quiet --lr inf --out " + tmp / "m",
      "train --quiet --lr 1e39 --out " + tmp / "m",
      "train --quiet --lr -1 --out " + tmp / "m",
      "train --quiet --lr 0 --out " + tmp / "m",
      "train --quiet --validation-split nan --out " + tmp / "m",
      "qat --quiet --lr nan --model " + tmp / "f" + " --out " + tmp / "m",
      "qat --quiet --lr 1e39 --model " + tmp / "f" + " --out " + tmp / "m",
      "qat --quiet --validation-split nan --model " + tmp / "f" + " --out " + tmp / "m",
      "demo --quiet --bench-seconds nan --out " + tmp / "d",
  };
  for (const auto& args : bad) expect_one_line_error(run_qlite(args), args, "error");
  EXPECT_TRUE(fs::is_empty(tmp.path));
}

TEST(DivergenceCli, TrainThatDivergesFailsAndKeepsTheModel) {
  QLITE_REQUIRE_FASHION_MNIST();
  TempDir tmp;
  auto good = make_seed_model(10, 1);
  good->compile(Adam(), SparseCategoricalCrossentropy{true});
  save_model(*good, tmp / "good");
  const std::string json_before = slurp(tmp / "good/model.json");
  const std::string weights_before = slurp(tmp / "good/model.safetensors");

  const std::string args = "train --quiet --subset 500 --lr 1e30 --out " + tmp / "good" + " --json " + tmp / "t.json";
  expect_one_line_error(run_qlite(args), args, "training diverged at epoch 1");
  EXPECT_EQ(slurp(tmp / "good/model.json"), json_before);
  EXPECT_EQ(slurp(tmp / "good/model.safetensors"), weights_before);
  EXPECT_FALSE(fs::exists(tmp / "t.json"));

  const std::string qargs = "qat --quiet --subset 500 --batch-size 50 --lr 1e30 --model " + tmp / "good" +
                            " --out " + tmp / "q";
  expect_one_line_error(run_qlite(qargs), qargs, "training diverged");
  EXPECT_FALSE(fs::exists(tmp / "q"));
}

TEST(DivergenceCli, TrainReportsTheLearningRateUsed) {
  QLITE_REQUIRE_FASHION_MNIST();
  TempDir tmp;
  CmdResult r = run_qlite("train --quiet --subset 200 --out " + tmp / "a" + " --json " + tmp / "a.json");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_DOUBLE_EQ(read_json(tmp / "a.json").at("lr").get<double>(), 0.001);
  r = run_qlite("train --quiet --subset 200 --optimizer sgd --lr 0.05 --out " + tmp / "b" + " --json " + tmp / "b.json");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_DOUBLE_EQ(read_json(tmp / "b.json").at("lr").get<double>(), 0.05);
  EXPECT_EQ(read_json(tmp / "b.json").at("optimizer"), "sgd");
}
