// qlite/fileio.h: atomic writes, staged commits, output path checks.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>

#include "qlite/core.h"
#include "temp_dir.h"
#include "qlite/fileio.h"

namespace qlite {
namespace {

namespace fs = std::filesystem;

using Tmp = ::qlite::testing::TempDir;

std::string slurp(const std::string& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), {}};
}

size_t entries(const fs::path& d) { return static_cast<size_t>(std::distance(fs::directory_iterator(d), {})); }

TEST(FileIo, WriteFileAtomicReplacesAndLeavesNoTemporaries) {
  Tmp t;
  write_file_atomic(t / "a.txt", std::string_view("old"));
  write_file_atomic(t / "a.txt", std::string_view("new contents"));
  EXPECT_EQ(slurp(t / "a.txt"), "new contents");
  EXPECT_EQ(entries(t.path), 1u);
  EXPECT_THROW(write_file_atomic(t / "missing/a.txt", std::string_view("x")), Error);
  EXPECT_FALSE(fs::exists(t / "missing"));
}

TEST(FileIo, UncommittedStagingChangesNothing) {
  Tmp t;
  write_file_atomic(t / "keep.txt", std::string_view("keep"));
  {
    StagedFiles s;
    s.add(t / "keep.txt", std::string_view("replaced"));
    s.add(t / "newdir/model.json", std::string_view("{}"));
    s.add(t / "newdir/weights", std::string_view("w"));
  }  // no commit
  EXPECT_EQ(slurp(t / "keep.txt"), "keep");
  EXPECT_EQ(entries(t.path), 1u) << "temporary files or directories were left behind";
}

TEST(FileIo, CommitPutsEveryFileAndNewDirectoryInPlace) {
  Tmp t;
  write_file_atomic(t / "keep.txt", std::string_view("keep"));
  StagedFiles s;
  s.add(t / "keep.txt", std::string_view("replaced"));
  s.add(t / "newdir/model.json", std::string_view("{}"));
  s.add(t / "newdir/weights", std::string_view("w"));
  EXPECT_FALSE(fs::exists(t / "newdir")) << "a new directory must appear only on commit";
  s.commit();
  EXPECT_EQ(slurp(t / "keep.txt"), "replaced");
  EXPECT_EQ(slurp(t / "newdir/model.json"), "{}");
  EXPECT_EQ(slurp(t / "newdir/weights"), "w");
  EXPECT_EQ(entries(t.path), 2u);
  EXPECT_EQ(entries(t.path / "newdir"), 2u);
}

TEST(FileIo, OutputChecks) {
  Tmp t;
  fs::create_directory(t / "d");
  EXPECT_NO_THROW(check_output_file(t / "f.json", "--json"));
  EXPECT_THROW(check_output_file(t / "d", "--json"), Error);             // a directory
  EXPECT_THROW(check_output_file(t / "no/f.json", "--json"), Error);     // missing directory
  EXPECT_THROW(check_output_file("/proc/qlite_x.json", "--json"), Error);  // exists, refuses files
  EXPECT_NO_THROW(check_output_dir(t / "d", "--out"));
  EXPECT_NO_THROW(check_output_dir(t / "new", "--out"));
  EXPECT_THROW(check_output_dir(t / "no/new", "--out"), Error);
  write_file_atomic(t / "file", std::string_view("x"));
  EXPECT_THROW(check_output_dir(t / "file", "--out"), Error);
  EXPECT_EQ(entries(t.path), 2u) << "the checks must leave nothing behind";
  try {
    check_output_file("/proc/qlite_x.json", "--json");
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("--json /proc/qlite_x.json"), std::string::npos) << e.what();
  }
}

TEST(FileIo, PathWithin) {
  Tmp t;
  fs::create_directory(t / "m");
  EXPECT_TRUE(path_within(t / "m/model.safetensors", t / "m"));
  EXPECT_TRUE(path_within(t / "m", t / "m/"));
  EXPECT_TRUE(path_within(t / "x/../m/a", t / "m"));
  EXPECT_FALSE(path_within(t / "m2/a", t / "m"));
  EXPECT_FALSE(path_within(t / "a", t / "m"));
}

}  // namespace
}  // namespace qlite
