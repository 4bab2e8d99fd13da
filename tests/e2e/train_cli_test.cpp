// End-to-end: the CLI trains, saves, evaluates; bad input gives one line and exit code 2.
#include <gtest/gtest.h>

#include "cli_helpers.h"
#include "qlite/data.h"
#include "qlite/train.h"

using namespace qlite;
using namespace qlite::testing;

TEST(TrainCli, BadFlagsAndMissingFilesExitWith2AndOneLine) {
  TempDir tmp;
  const std::vector<std::string> bad = {
      "train --epochs 0 --out " + tmp / "m",
      "train --batch-size -3 --out " + tmp / "m",
      "train --validation-split 1.5 --out " + tmp / "m",
      "train --frobnicate --out " + tmp / "m",
      "train --model " + tmp / "missing.json" + " --out " + tmp / "m",
      "train --data " + tmp / "no_such_dir" + " --out " + tmp / "m",
      "eval " + tmp / "no_such_model",
      "nosuchcommand",
  };
  for (const auto& args : bad) {
    CmdResult r = run_qlite(args);
    EXPECT_EQ(r.exit_code, 2) << args << "\n" << r.output;
    EXPECT_NE(r.output.find("error"), std::string::npos) << args << "\n" << r.output;
    // One line: the message ends with the only newline.
    EXPECT_EQ(std::count(r.output.begin(), r.output.end(), '\n'), 1) << args << "\n" << r.output;
  }
}

TEST(TrainCli, ModelFileWithWrongInputShapeIsAnError) {
  QLITE_REQUIRE_FASHION_MNIST();
  TempDir tmp;
  Sequential m({layers::Input({32, 32}), layers::Flatten(), layers::Dense(10)});
  {
    std::ofstream out(tmp / "arch.json");
    out << m.to_json().dump();
  }
  CmdResult r = run_qlite("train --quiet --subset 100 --model " + tmp / "arch.json" + " --out " + tmp / "m");
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find("(32, 32)"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("(28, 28)"), std::string::npos) << r.output;
}

// Trains the seed model on 12,000 Fashion-MNIST images for one epoch through the CLI,
// then checks the saved model evaluates to the same accuracy, far above chance (0.10).
TEST(TrainCli, SeedModelLearnsAndEvalAgrees) {
  QLITE_REQUIRE_FASHION_MNIST();
  TempDir tmp;
  CmdResult r = run_qlite("train --quiet --subset 12000 --epochs 1 --batch-size 32 --validation-split 0.1 --seed 3 "
                          "--out " + tmp / "m" + " --json " + tmp / "train.json");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const auto tj = read_json(tmp / "train.json");
  const double acc = tj.at("test_accuracy").get<double>();
  EXPECT_GT(acc, 0.70) << "one epoch on 10,800 images should reach well above chance";
  EXPECT_GT(tj.at("train_images_per_second").get<double>(), 0.0);
  EXPECT_EQ(tj.at("train_samples").get<int>(), 10800);
  EXPECT_EQ(tj.at("val_samples").get<int>(), 1200);
  EXPECT_EQ(tj.at("test_samples").get<int>(), 10000);
  EXPECT_TRUE(std::filesystem::exists(tmp / "m/model.json"));
  EXPECT_TRUE(std::filesystem::exists(tmp / "m/model.safetensors"));

  r = run_qlite("eval " + tmp / "m" + " --quiet --json " + tmp / "eval.json");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const auto ej = read_json(tmp / "eval.json");
  EXPECT_DOUBLE_EQ(ej.at("test_accuracy").get<double>(), acc);
  EXPECT_DOUBLE_EQ(ej.at("test_loss").get<double>(), tj.at("test_loss").get<double>());

  // Same seed, same thread count: bit-identical training.
  r = run_qlite("train --quiet --subset 12000 --epochs 1 --seed 3 --out " + tmp / "m2" + " --json " +
                tmp / "train2.json");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_DOUBLE_EQ(read_json(tmp / "train2.json").at("test_loss").get<double>(), tj.at("test_loss").get<double>());
}
