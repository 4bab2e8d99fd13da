// qlite bench: JSON keys and sane values (not timings), and one-line errors
// with exit code 2 for bad flags and files.
#include <gtest/gtest.h>

#include <set>

#include "cli_helpers.h"
#include "qlite/convert.h"
#include "qlite/lite.h"
#include "qlite/runtime.h"
#include "qlite/train.h"

namespace qlite::testing {
namespace {

std::string write_seed_int8(const TempDir& dir) {
  auto model = make_seed_model(10, 2);
  Tensor rep({8, 28, 28});
  Rng rng(1);
  for (float& v : rep.span_f32()) v = rng.uniform();
  convert::ConvertOptions o;
  o.mode = convert::Mode::kInt8;
  o.representative = &rep;
  const std::string path = dir / "seed_int8.tflite";
  const auto bytes = convert::convert_model(*model, o).bytes;
  std::ofstream(path, std::ios::binary).write(reinterpret_cast<const char*>(bytes.data()),
                                              static_cast<std::streamsize>(bytes.size()));
  return path;
}

TEST(BenchCli, JsonHasTheKeysAndSaneValues) {
  TempDir dir;
  const std::string model = write_seed_int8(dir);
  const CmdResult r = run_qlite("bench " + model + " --batch 4 --threads 2 --runs 20 --warmup 2 --isa reference --json " +
                                dir / "b.json");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("images/s"), std::string::npos) << r.output;
  const nlohmann::json j = read_json(dir / "b.json");
  for (const char* key : {"latency_us_median", "latency_us_p90", "images_per_second", "load_ms", "batch", "threads",
                          "runs", "isa", "model", "environment"})
    EXPECT_TRUE(j.contains(key)) << key << " missing in " << j.dump();
  EXPECT_EQ(j["batch"], 4);
  EXPECT_EQ(j["threads"], 2);
  EXPECT_EQ(j["runs"], 20);
  EXPECT_EQ(j["isa"], "reference");
  EXPECT_EQ(j["environment"]["threads"], 2);
  const double median = j["latency_us_median"], p90 = j["latency_us_p90"], ips = j["images_per_second"];
  EXPECT_GT(median, 0.0);
  EXPECT_GE(p90, median);
  EXPECT_GT(j["load_ms"].get<double>(), 0.0);
  // images/s follows from the median latency and the batch.
  EXPECT_NEAR(ips, 4 * 1e6 / median, 1e-6 * ips);
}

TEST(BenchCli, ProfileListsEveryExecutedOpAndIsParseableJson) {
  TempDir dir;
  const std::string model = write_seed_int8(dir);
  const CmdResult r = run_qlite("bench " + model + " --runs 20 --warmup 2 --profile --json " + dir / "p.json");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const nlohmann::json j = read_json(dir / "p.json");
  ASSERT_TRUE(j.contains("profile")) << j.dump();
  auto it = runtime::Interpreter::from_file(model);
  const auto& ops = j["profile"];
  ASSERT_EQ(ops.size(), it->num_executed_ops()) << j.dump();
  std::set<size_t> indices;
  double sum = 0, share = 0, last = 1e300;
  for (const auto& op : ops) {
    for (const char* key : {"op_index", "op", "inputs", "outputs", "median_us", "share"})
      ASSERT_TRUE(op.contains(key)) << key << " missing in " << op.dump();
    indices.insert(op["op_index"].get<size_t>());
    const double us = op["median_us"];
    EXPECT_GE(us, 0.0);
    EXPECT_LE(us, last);  // sorted, largest first
    last = us;
    sum += us;
    share += op["share"].get<double>();
    // The same op in the human table.
    EXPECT_NE(r.output.find(op["op"].get<std::string>()), std::string::npos);
  }
  EXPECT_EQ(indices.size(), ops.size());  // every executed op once
  EXPECT_NEAR(j["profile_sum_us"].get<double>(), sum, 1e-6 * std::max(sum, 1.0));
  EXPECT_NEAR(share, 1.0, 1e-9);
  EXPECT_NE(r.output.find("per-op profile"), std::string::npos) << r.output;
}

TEST(BenchCli, BadFlagsAndFilesExitWithTwoAndOneLine) {
  TempDir dir;
  const std::string model = write_seed_int8(dir);
  const std::string garbage = dir / "garbage.tflite";
  std::ofstream(garbage) << "not a flatbuffer";
  for (const std::string& args : {"bench " + dir / "missing.tflite", "bench " + garbage, "bench " + model + " --batch 0",
                                  "bench " + model + " --isa sse9", "bench " + model + " --threads 0"}) {
    const CmdResult r = run_qlite(args);
    EXPECT_EQ(r.exit_code, 2) << args << ": " << r.output;
    EXPECT_EQ(std::count(r.output.begin(), r.output.end(), '\n'), 1) << args << ": " << r.output;
    EXPECT_NE(r.output.find("error"), std::string::npos) << args << ": " << r.output;
  }
}

}  // namespace
}  // namespace qlite::testing
