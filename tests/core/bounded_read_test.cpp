// Every file qlite reads is read with a size limit derived from what it should
// be, and a device, FIFO or directory where a file is expected is refused at
// once (issue "qlite inspect /dev/zero ends in std::bad_alloc").
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <chrono>
#include <filesystem>
#include <fstream>

#include "qlite/core.h"
#include "temp_dir.h"
#include "qlite/data.h"
#include "qlite/fileio.h"
#include "qlite/lite.h"
#include "qlite/train.h"

namespace qlite {
namespace {

namespace fs = std::filesystem;

using Tmp = ::qlite::testing::TempDir;

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "<no Error>";
}

TEST(BoundedRead, RegularFilesUpToTheLimit) {
  Tmp t;
  std::ofstream(t / "f", std::ios::binary) << "12345";
  EXPECT_EQ(read_file_bounded(t / "f", 5, "x").size(), 5u);
  EXPECT_NE(error_of([&] { read_file_bounded(t / "f", 4, "--input"); }).find("5 bytes (at most 4 expected)"),
            std::string::npos);
  EXPECT_NE(error_of([&] { read_file_bounded(t / "missing", 4, "x"); }).find("No such file"), std::string::npos);
}

TEST(BoundedRead, DirectoriesDevicesAndFifosAreRefusedOrReadBounded) {
  Tmp t;
  EXPECT_NE(error_of([&] { read_file_bounded(t.path.string(), 100, "model file"); }).find("is a directory"),
            std::string::npos);
  EXPECT_NE(error_of([&] { read_file_bounded("/dev/zero", 100, "model file"); }).find("not a regular file"),
            std::string::npos);
  ASSERT_EQ(::mkfifo((t / "fifo").c_str(), 0600), 0);
  // Refused without opening (opening a FIFO with no writer would block).
  EXPECT_NE(error_of([&] { read_file_bounded(t / "fifo", 100, "x"); }).find("not a regular file"), std::string::npos);
  // A stream is read to at most the limit plus one byte (an unbounded read
  // of /dev/zero would never return).
  EXPECT_NE(error_of([&] { read_file_bounded("/dev/zero", 1000, "--input", true); }).find("more than 1000"),
            std::string::npos);
}

TEST(BoundedRead, ModelReadersRefuseDevicesAndDirectories) {
  Tmp t;
  EXPECT_NE(error_of([] { lite::read_model_file("/dev/zero"); }).find("not a regular file"), std::string::npos);
  EXPECT_NE(error_of([&] { lite::read_model_file(t.path.string()); }).find("is a directory"), std::string::npos);
  EXPECT_NE(error_of([] { read_idx("/dev/zero"); }).find("not a regular file"), std::string::npos);
  // A model directory whose model.json is a directory or a link to a device.
  fs::create_directories(t.path / "m1" / "model.json");
  EXPECT_NE(error_of([&] { load_model(t / "m1"); }).find("is a directory"), std::string::npos);
  fs::create_directories(t.path / "m2");
  fs::create_symlink("/dev/zero", t.path / "m2" / "model.json");
  EXPECT_NE(error_of([&] { load_model(t / "m2"); }).find("not a regular file"), std::string::npos);
}

TEST(BoundedRead, SafetensorsAreCappedByTheModelsWeights) {
  Tmp t;
  auto m = make_seed_model(10, 1);
  save_model(*m, t / "m");
  // A sparse 300 MB file: refused from its size, never read.
  fs::resize_file(t.path / "m" / "model.safetensors", 300'000'000);
  const std::string e = error_of([&] { load_model(t / "m"); });
  EXPECT_NE(e.find("300000000 bytes (at most"), std::string::npos) << e;
}

}  // namespace
}  // namespace qlite
