// qlite train --resume DIR and --initial-weights DIR: continuing a saved run
// gives the weights of one uninterrupted run, byte for byte; starting from
// saved weights uses a fresh optimizer (checked against the C++ API); every
// misuse is one line, exit 2, and changes nothing on disk.
#include <gtest/gtest.h>

#include "cli_helpers.h"
#include "qlite/data.h"
#include "qlite/train.h"

using namespace qlite;
using namespace qlite::testing;
namespace fs = std::filesystem;

namespace {

const std::string kFlags = " --quiet --subset 640 --batch-size 32 --validation-split 0.1 --seed 4 ";

TEST(ResumeCli, TwoEpochsEqualOnePlusResumedOne) {
  QLITE_REQUIRE_FASHION_MNIST();
  TempDir tmp;
  CmdResult r = run_qlite("train" + kFlags + "--epochs 2 --out " + tmp / "whole");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  r = run_qlite("train" + kFlags + "--epochs 1 --out " + tmp / "first");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  r = run_qlite("train" + kFlags + "--epochs 1 --resume " + tmp / "first" + " --out " + tmp / "resumed --json " +
                tmp / "r.json");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  for (const char* f : {"model.safetensors", "optimizer.safetensors", "model.json"})
    EXPECT_EQ(slurp(tmp / ("whole/" + std::string(f))), slurp(tmp / ("resumed/" + std::string(f)))) << f;
  EXPECT_NE(slurp(tmp / "first/model.safetensors"), slurp(tmp / "whole/model.safetensors"));
  const auto j = read_json(tmp / "r.json");
  EXPECT_EQ(j.at("initial_epoch"), 1);
  EXPECT_EQ(j.at("model"), tmp / "first");
  EXPECT_EQ(j.at("resume"), tmp / "first");
  EXPECT_EQ(j.at("epochs_trained"), 2);
  const auto mj = read_json(tmp / "resumed/model.json");
  EXPECT_EQ(mj.at("training_config").at("epochs_trained"), 2);
  EXPECT_GT(mj.at("training_config").at("optimizer_state").at("iterations").get<int>(), 0);
}

TEST(ResumeCli, InitialWeightsStartAFreshOptimizerFromSavedWeights) {
  QLITE_REQUIRE_FASHION_MNIST();
  TempDir tmp;
  CmdResult r = run_qlite("train" + kFlags + "--epochs 1 --out " + tmp / "first");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  r = run_qlite("train" + kFlags + "--epochs 1 --initial-weights " + tmp / "first" + " --out " + tmp / "next");
  ASSERT_EQ(r.exit_code, 0) << r.output;

  // The oracle: the C++ API loads the saved weights, compiles a fresh Adam and
  // fits one epoch from epoch 0 with the same data and settings.
  auto m = load_model(tmp / "first");
  m->compile(Adam(), SparseCategoricalCrossentropy{.from_logits = true});
  Dataset ds = load_dataset("fashion-mnist");
  const Split train = take(ds.train, 0, 640);
  FitOptions fo;
  fo.epochs = 1;
  fo.batch_size = 32;
  fo.validation_split = 0.1;
  fo.seed = 4;
  m->fit(train.x, train.y, fo);
  save_model(*m, tmp / "oracle");
  EXPECT_EQ(slurp(tmp / "next/model.safetensors"), slurp(tmp / "oracle/model.safetensors"));
  EXPECT_NE(slurp(tmp / "next/model.safetensors"), slurp(tmp / "first/model.safetensors"));

  // --model DIR gives the architecture only: weights start from --seed, so the
  // same seed and data reproduce "first" (trained from the built-in seed model).
  r = run_qlite("train" + kFlags + "--epochs 1 --model " + tmp / "first" + " --out " + tmp / "arch_only");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(slurp(tmp / "arch_only/model.safetensors"), slurp(tmp / "first/model.safetensors"));
  r = run_qlite("train" + kFlags + "--epochs 1 --model " + tmp / "first/model.json" + " --out " + tmp / "arch_json");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(slurp(tmp / "arch_json/model.safetensors"), slurp(tmp / "first/model.safetensors"));
}

TEST(ResumeCli, MisuseIsOneLineExit2AndChangesNothing) {
  QLITE_REQUIRE_FASHION_MNIST();
  TempDir tmp;
  CmdResult r = run_qlite("train" + kFlags + "--epochs 1 --out " + tmp / "m");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  r = run_qlite("train" + kFlags + "--epochs 1 --out " + tmp / "keep");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  // A model saved without optimizer state (as older qlite versions saved it).
  fs::create_directories(tmp / "stateless");
  fs::copy_file(tmp / "m/model.safetensors", tmp / "stateless/model.safetensors");
  auto mj = read_json(tmp / "m/model.json");
  mj.erase("training_config");
  std::ofstream(tmp / "stateless/model.json") << mj.dump();
  // Another architecture's weights.
  r = run_qlite("train" + kFlags + "--epochs 1 --model mobilenet-style --out " + tmp / "other");
  ASSERT_EQ(r.exit_code, 0) << r.output;

  // A model directory whose model.json cannot be read (a directory).
  fs::create_directories(tmp / "unreadable/model.json");

  const std::string keep = " --out " + tmp / "keep";
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"train" + kFlags + "--resume " + tmp / "m" + " --initial-weights " + tmp / "m" + keep, "excludes"},
      {"train" + kFlags + "--resume " + tmp / "m" + " --model seed" + keep, "drop --model"},
      {"train" + kFlags + "--resume " + tmp / "m" + " --optimizer sgd" + keep, "--optimizer sgd differs"},
      {"train" + kFlags + "--resume " + tmp / "stateless" + keep, "no optimizer state"},
      {"train" + kFlags + "--resume " + tmp / "missing" + keep, "no such model directory"},
      {"train" + kFlags + "--resume " + tmp / "m/model.json" + keep, "is a file"},
      {"train" + kFlags + "--resume " + tmp / "keep" + keep, "would overwrite the input --resume"},
      {"train" + kFlags + "--initial-weights " + tmp / "other" + " --model seed" + keep, "missing tensor"},
      {"train" + kFlags + "--resume ''" + keep, "must not be empty"},
      // The architecture comes from --initial-weights here: the error names that flag, not --model.
      {"train" + kFlags + "--initial-weights " + tmp / "unreadable" + keep, "cannot read --initial-weights"},
  };
  const std::string before_w = slurp(tmp / "keep/model.safetensors"), before_j = slurp(tmp / "keep/model.json"),
                    before_o = slurp(tmp / "keep/optimizer.safetensors");
  for (const auto& [args, needle] : cases) {
    expect_one_line_error(run_qlite(args), args, needle);
    EXPECT_EQ(slurp(tmp / "keep/model.safetensors"), before_w) << args;
    EXPECT_EQ(slurp(tmp / "keep/model.json"), before_j) << args;
    EXPECT_EQ(slurp(tmp / "keep/optimizer.safetensors"), before_o) << args;
  }
}

}  // namespace
