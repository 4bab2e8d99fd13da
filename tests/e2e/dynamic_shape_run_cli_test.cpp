// `qlite run` on a model whose output shape follows an input's values
// (RESHAPE with the new shape a graph input): the shape input is read at its
// own size whatever the batch, the output line and file carry the shape of
// the invoke, and a shape the op refuses is one line, exit 2, no file.
#include <gtest/gtest.h>

#include <cstring>
#include <fstream>
#include <vector>

#include "cli_helpers.h"
#include "qlite/lite.h"

namespace qlite::testing {
namespace {

void write_bytes(const std::filesystem::path& p, const void* data, size_t n) {
  std::ofstream(p, std::ios::binary).write(static_cast<const char*>(data), static_cast<std::streamsize>(n));
}

TEST(DynamicShapeRunCli, OutputHasTheShapeOfTheInvoke) {
  TempDir dir;
  lite::ModelBuilder b;
  const int32_t x = b.add_tensor("x", lite::TensorType::kFloat32, {1, 12});
  const int32_t shape = b.add_tensor("new_shape", lite::TensorType::kInt32, {2});
  const int32_t y = b.add_tensor("y", lite::TensorType::kFloat32, {1, 12});
  b.add_operator(lite::BuiltinOp::kReshape, {x, shape}, {y}, lite::ReshapeOptions{});
  b.set_inputs({x, shape});
  b.set_outputs({y});
  const std::vector<uint8_t> model = b.finish();
  const std::filesystem::path model_path = dir.path / "reshape.tflite";
  write_bytes(model_path, model.data(), model.size());
  std::vector<float> xs(12);
  for (size_t i = 0; i < xs.size(); ++i) xs[i] = 0.5f * static_cast<float>(i) - 3.0f;
  const std::filesystem::path x_path = dir.path / "x.bin";
  write_bytes(x_path, xs.data(), xs.size() * 4);

  for (const std::vector<int32_t>& s : {std::vector<int32_t>{3, 4}, {-1, 2}, {12, 1}}) {
    const std::filesystem::path s_path = dir.path / "shape.bin";
    write_bytes(s_path, s.data(), 8);
    const std::string prefix = (dir.path / "out").string();
    const std::string args = "run " + model_path.string() + " --input " + x_path.string() + " --input " +
                             s_path.string() + " --output " + prefix;
    const CmdResult r = run_qlite(args);
    ASSERT_EQ(r.exit_code, 0) << r.output;
    const std::string want = "(" + std::to_string(s[0] == -1 ? 6 : s[0]) + ", " + std::to_string(s[1]) + ")";
    EXPECT_NE(r.output.find("FLOAT32 " + want), std::string::npos) << r.output;
    const std::string got = slurp(prefix + "0.bin");
    ASSERT_EQ(got.size(), xs.size() * 4);
    EXPECT_EQ(std::memcmp(got.data(), xs.data(), got.size()), 0);
  }

  // A shape RESHAPE refuses: one line naming the op, exit 2, nothing written.
  const std::vector<int32_t> bad = {5, 5};
  const std::filesystem::path s_path = dir.path / "bad_shape.bin";
  write_bytes(s_path, bad.data(), 8);
  const std::string prefix = (dir.path / "bad").string();
  const std::string args = "run " + model_path.string() + " --input " + x_path.string() + " --input " +
                           s_path.string() + " --output " + prefix;
  expect_one_line_error(run_qlite(args), args, "(RESHAPE)");
  EXPECT_FALSE(std::filesystem::exists(prefix + "0.bin"));
  // The shape input holds exactly its own bytes.
  write_bytes(s_path, bad.data(), 4);
  expect_one_line_error(run_qlite(args), args, "new_shape");
}

}  // namespace
}  // namespace qlite::testing
