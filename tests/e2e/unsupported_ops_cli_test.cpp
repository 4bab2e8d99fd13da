// A .tflite file with ops the runtime cannot run: `qlite inspect` prints every
// op by its TFLite name and marks the unsupported ones; run, bench and eval
// exit 2 with the one-line list.
#include <gtest/gtest.h>

#include <fstream>

#include "cli_helpers.h"
#include "qlite/lite.h"

namespace qlite::testing {
namespace {

using lite::BuiltinOp;
using lite::TensorType;

// x[1,4] float32 -> UNIQUE -> int32 -> REVERSE_SEQUENCE -> UNIQUE -> float32 -> SOFTMAX
std::string write_unsupported_model(const TempDir& dir) {
  lite::ModelBuilder b;
  const int32_t x = b.add_tensor("x", TensorType::kFloat32, {1, 4});
  const int32_t a = b.add_tensor("a", TensorType::kInt32, {1, 4});
  const int32_t multiples = b.add_constant("multiples", TensorType::kInt32, {2}, std::vector<int32_t>{1, 1});
  const int32_t t = b.add_tensor("t", TensorType::kInt32, {1, 4});
  const int32_t c = b.add_tensor("c", TensorType::kFloat32, {1, 4});
  const int32_t y = b.add_tensor("y", TensorType::kFloat32, {1, 4});
  b.add_operator(BuiltinOp::kUnique, {x}, {a});
  b.add_operator(BuiltinOp::kReverseSequence, {a, multiples}, {t});
  b.add_operator(BuiltinOp::kUnique, {t}, {c});
  b.add_operator(BuiltinOp::kSoftmax, {c}, {y}, lite::SoftmaxOptions{1.0f});
  b.set_inputs({x});
  b.set_outputs({y});
  const std::string path = dir / "cast_tile.tflite";
  lite::write_model_file(b.build(), path);
  return path;
}

const char* kList =
    "qlite: error: runtime: operators not supported by the qlite runtime: UNIQUE x2 (operators 0, 2); "
    "REVERSE_SEQUENCE x1 (operator 1)\n";

TEST(UnsupportedOpsCli, InspectMarksThem) {
  TempDir dir;
  const std::string model = write_unsupported_model(dir);
  const CmdResult r = run_qlite("inspect " + model);
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("    0 UNIQUE v1  [not supported by the qlite runtime: UNIQUE]\n"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("    1 REVERSE_SEQUENCE v1  [not supported by the qlite runtime: REVERSE_SEQUENCE]\n"), std::string::npos)
      << r.output;
  EXPECT_NE(r.output.find("    3 SOFTMAX v1 beta=1\n"), std::string::npos) << r.output;  // runs: no mark
  EXPECT_NE(r.output.find("runtime: operators not supported by the qlite runtime: UNIQUE x2 (operators 0, 2); "
                          "REVERSE_SEQUENCE x1 (operator 1)\n"),
            std::string::npos)
      << r.output;
  const CmdResult check = run_qlite("inspect --check " + model);
  EXPECT_EQ(check.exit_code, 2) << check.output;
  EXPECT_NE(check.output.find(kList), std::string::npos) << check.output;
}

TEST(UnsupportedOpsCli, RunBenchEvalExit2WithTheList) {
  TempDir dir;
  const std::string model = write_unsupported_model(dir);
  {
    std::ofstream in(dir / "x.bin", std::ios::binary);
    const float v[4] = {1, 2, 3, 4};
    in.write(reinterpret_cast<const char*>(v), sizeof v);
  }
  for (const std::string& args : {"run " + model + " --input " + (dir / "x.bin") + " --output " + (dir / "out"),
                                 "bench " + model + " --runs 1 --warmup 0",
                                 "eval " + model + " --data " + (dir / "no_such_dataset")}) {
    const CmdResult r = run_qlite(args);
    EXPECT_EQ(r.exit_code, 2) << args << "\n" << r.output;
    EXPECT_EQ(r.output, kList) << args;
  }
}

}  // namespace
}  // namespace qlite::testing
