// Writing files so that a failure never leaves a half-written or half-replaced output: the
// one implementation every writer in qlite uses (model dirs, .tflite files, JSON reports).
// A file is written under a temporary name in its final directory, fsynced,
// and renamed over the final name (rename within a directory is atomic on
// POSIX). Several outputs are staged first and committed together, so a
// command that fails before commit() changes nothing on disk. An existing device or
// FIFO (/dev/full, a pipe; symlinks followed) is never replaced: commit() writes into
// it in place, before any rename, and a write it refuses (ENOSPC) is an Error.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace qlite {

// Reads the whole file at `path`, refusing anything larger than max_bytes
// before reading it (regular files) or after reading max_bytes + 1 bytes
// (streams), so no input can exhaust memory. A directory is always refused;
// other non-regular files (devices, FIFOs) are refused unless allow_stream.
// `what` names the file in messages ("model file", "--input"); every failure
// is one Error naming the path.
std::vector<uint8_t> read_file_bounded(const std::string& path, uint64_t max_bytes, const std::string& what,
                                       bool allow_stream = false);

// Writes `bytes` to `path` atomically. The directory of `path` must exist.
// Throws Error naming the path on any failure; the old file is then untouched.
void write_file_atomic(const std::string& path, std::span<const uint8_t> bytes);
void write_file_atomic(const std::string& path, std::string_view text);

// A set of files written to temporary names now and renamed into place by
// commit(). A file whose directory does not exist yet is staged in a temporary
// sibling directory that commit() renames to the directory, so a new model
// directory appears complete or not at all (its parent must exist).
// Destroying an uncommitted StagedFiles removes everything it created.
class StagedFiles {
 public:
  StagedFiles();
  ~StagedFiles();
  StagedFiles(const StagedFiles&) = delete;
  StagedFiles& operator=(const StagedFiles&) = delete;

  // Writes the bytes (fsynced) under a temporary name; throws Error on failure.
  void add(const std::string& path, std::span<const uint8_t> bytes);
  void add(const std::string& path, std::string_view text);
  // Renames every staged file (and staged new directory) into place, then
  // fsyncs the directories. Throws Error if a rename fails.
  void commit();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Checks, before any work, that `path` can be written as a file: it is not a
// directory and its directory exists and accepts new files (probed by creating
// and removing a temporary file), or it is an existing device or FIFO that may
// be opened for writing. `what` names the output (e.g. "--json"). Throws Error.
void check_output_file(const std::string& path, const std::string& what);
// The same for a directory of outputs: `path` is an existing directory that
// accepts new files, or does not exist and its parent does and accepts them.
void check_output_dir(const std::string& path, const std::string& what);

// True when `path` is `dir` or lies inside it (after resolving symlinks and
// "..", for paths that do not exist yet as far as they exist).
bool path_within(const std::string& path, const std::string& dir);

}  // namespace qlite
