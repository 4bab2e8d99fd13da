// qlite train --model mobilenet-style|mobilenet_v1|mobilenet_v2: the built-in
// architectures from the command line, their flags and their errors.
#include <gtest/gtest.h>

#include "cli_helpers.h"

namespace qlite::testing {
namespace {

TEST(CliArchitectures, ReferenceNetworkTrainsFromTheCommandLine) {
  QLITE_REQUIRE_FASHION_MNIST();
  TempDir dir;
  const std::string args = "train --model mobilenet-style --subset 640 --out " + dir / "m" + " --json -";
  const CmdResult r = run_qlite(args);
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const nlohmann::json j = nlohmann::json::parse(r.output.substr(r.output.find('{')));
  EXPECT_EQ(j["model"], "mobilenet-style");
  EXPECT_EQ(j["train_samples"], 576);  // 640 images, 10% held out
  const nlohmann::json m = read_json(dir.path / "m" / "model.json");
  std::vector<std::string> classes;
  for (const auto& l : m["config"]["layers"]) classes.push_back(l["class_name"]);
  EXPECT_EQ(std::count(classes.begin(), classes.end(), "DepthwiseConv2D"), 3);
  EXPECT_EQ(std::count(classes.begin(), classes.end(), "BatchNormalization"), 7);
  EXPECT_EQ(std::count(classes.begin(), classes.end(), "Add"), 1);
}

TEST(CliArchitectures, BadArchitectureFlagsAreOneLineErrorsThatWriteNothing) {
  TempDir dir;
  const std::string out = dir / "never";
  const struct {
    std::string args, needle;
  } cases[] = {
      {"train --alpha 0.5 --out " + out, "--alpha"},
      {"train --model mobilenet-style --alpha 0.5 --out " + out, "--alpha"},
      {"train --model mobilenet_v2 --input-shape 28x28 --out " + out, "HxWxC"},
      {"train --model mobilenet_v2 --input-shape 28x0x1 --out " + out, "HxWxC"},
      {"train --model mobilenet_v1 --out " + out, "32"},
      {"train --model mobilenet_v2 --input-shape 32x32x3 --out " + out, "does not match"},
      {"train --model mobilenet_v3 --out " + out, "mobilenet-style"},
  };
  for (const auto& c : cases) {
    if (!fashion_mnist_present() && c.needle != "--alpha" && c.needle != "HxWxC") {
      EXPECT_FALSE(qlite::test::peers_required()) << "dataset-fashion-mnist is not installed (CI=true): " << c.args;
      continue;
    }
    expect_one_line_error(run_qlite(c.args), c.args, c.needle);
    EXPECT_FALSE(std::filesystem::exists(out)) << c.args;
  }
}

}  // namespace
}  // namespace qlite::testing
