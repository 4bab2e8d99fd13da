// qlite convert end to end: a saved model directory -> .tflite + JSON.
#include <sys/wait.h>

#include <array>
#include <filesystem>
#include <fstream>

#include <nlohmann/json.hpp>

#include "convert_test_util.h"

namespace qlite::test {
namespace {

std::pair<int, std::string> run_cli(const std::string& args) {
  const char* env = std::getenv("QLITE_BIN");
  const std::string cmd = std::string(env ? env : QLITE_BINARY_DIR "/qlite") + " " + args + " 2>&1";
  std::string out;
  FILE* p = popen(cmd.c_str(), "r");
  if (p == nullptr) return {-1, ""};
  std::array<char, 4096> buf;
  size_t n;
  while ((n = std::fread(buf.data(), 1, buf.size(), p)) > 0) out.append(buf.data(), n);
  const int status = pclose(p);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, out};
}

TEST(ConvertCli, WritesTfliteAndJsonForEveryMode) {
  REQUIRE_FASHION(ds);
  namespace fs = std::filesystem;
  const fs::path dir = fs::path(::testing::TempDir()) / "qlite_convert_cli";
  fs::remove_all(dir);
  fs::create_directories(dir);
  save_model(brief_seed(), (dir / "model").string());
  for (const char* mode : {"float32", "dynamic", "int8", "float16"}) {
    const std::string out = (dir / (std::string(mode) + ".tflite")).string();
    const std::string js = (dir / (std::string(mode) + ".json")).string();
    const std::string extra = std::string(mode) == "int8" ? " --representative 50 --io uint8" : "";
    const auto [rc, text] = run_cli("convert --model " + (dir / "model").string() + " --mode " + mode + extra +
                                    " --out " + out + " --json " + js + " -q");
    ASSERT_EQ(rc, 0) << text;
    EXPECT_FALSE(fs::exists(out + ".tmp"));
    std::ifstream jf(js);
    const auto j = nlohmann::json::parse(jf);
    EXPECT_EQ(j["size_bytes"].get<size_t>(), fs::file_size(out)) << mode;
    EXPECT_EQ(j["integer_only"].get<bool>(), std::string(mode) == "int8") << mode;
    EXPECT_TRUE(j["ops"].is_array() && !j["ops"].empty());
    EXPECT_EQ(j["float_ops"].empty(), std::string(mode) == "int8") << mode;
    // The file is a model the reader accepts and the runtime runs.
    const lite::ModelDef md = lite::read_model_file(out);
    const RunOutput r = run_qlite(lite::write_model(md), rows(ds->test.x, 0, 4));
    EXPECT_EQ(r.values.size(), 40u);
  }
  const auto [rc, text] = run_cli("convert --model " + (dir / "model").string() + " --mode float32 --io int8 --out " +
                                  (dir / "x.tflite").string());
  EXPECT_EQ(rc, 2) << text;
  EXPECT_NE(text.find("int8 mode"), std::string::npos) << text;
  EXPECT_FALSE(fs::exists(dir / "x.tflite"));
}

}  // namespace
}  // namespace qlite::test
