// Atomic file writes and staged multi-file commits (qlite/fileio.h).
#include "qlite/fileio.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <algorithm>
#include <map>
#include <vector>

#include "qlite/core.h"

namespace qlite {
namespace {

namespace fs = std::filesystem;

std::string sys_error(const std::string& what) { return what + ": " + std::strerror(errno); }

fs::path dir_of(const fs::path& p) { return p.has_parent_path() ? p.parent_path() : fs::path("."); }

// Writes everything to fd, fsyncs and closes it; throws (fd closed) on failure.
void write_fd(int fd, std::span<const uint8_t> bytes, const std::string& path) {
  size_t done = 0;
  auto fail = [&](const std::string& what) {
    const int saved = errno;
    ::close(fd);
    errno = saved;
    throw Error(sys_error(what + " " + path));
  };
  while (done < bytes.size()) {
    const ssize_t k = ::write(fd, bytes.data() + done, bytes.size() - done);
    if (k < 0 && errno == EINTR) continue;
    if (k <= 0) {
      if (k == 0) errno = EIO;
      fail("cannot write");
    }
    done += static_cast<size_t>(k);
  }
  if (::fchmod(fd, 0644) != 0) fail("cannot set permissions of");
  if (::fsync(fd) != 0) fail("cannot fsync");
  if (::close(fd) != 0) throw Error(sys_error("cannot close " + path));
}

void fsync_dir(const fs::path& dir) {
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY);
  if (fd < 0) return;  // best effort: the renames are already done
  ::fsync(fd);
  ::close(fd);
}

std::span<const uint8_t> as_bytes(std::string_view s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

// Creates and removes a temporary file in dir: the only reliable test that
// files can be created there (access() says yes to root everywhere).
void probe_dir(const fs::path& dir, const std::string& path, const std::string& what) {
  std::string templ = (dir / ".qlite-probe-XXXXXX").string();
  const int fd = ::mkstemp(templ.data());
  if (fd < 0) throw Error("cannot write " + what + " " + path + ": cannot create files in " + dir.string() + " (" + std::strerror(errno) + ")");
  ::close(fd);
  ::unlink(templ.c_str());
}

// An existing destination that is neither a regular file nor a directory (a
// character device such as /dev/null or /dev/full, a FIFO, a socket; symlinks
// followed, so /dev/stdout names what stdout is): renaming a temporary file
// over it would replace the device or pipe with a regular file, so it is
// written in place instead, when everything else has succeeded.
bool is_stream_destination(const fs::path& p) {
  struct stat st{};
  return ::stat(p.c_str(), &st) == 0 && !S_ISREG(st.st_mode) && !S_ISDIR(st.st_mode);
}

// Writes all of `bytes` to the stream destination `path` (no fsync or chmod:
// neither applies to a device or pipe); throws Error naming the path and the
// system's reason (e.g. ENOSPC from /dev/full).
void write_stream(const fs::path& path, std::span<const uint8_t> bytes) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC | O_NOCTTY);
  if (fd < 0) throw Error(sys_error("cannot write " + path.string()));
  size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t k = ::write(fd, bytes.data() + done, bytes.size() - done);
    if (k < 0 && errno == EINTR) continue;
    if (k <= 0) {
      const int saved = k == 0 ? EIO : errno;
      ::close(fd);
      errno = saved;
      throw Error(sys_error("cannot write " + path.string()));
    }
    done += static_cast<size_t>(k);
  }
  if (::close(fd) != 0) throw Error(sys_error("cannot write " + path.string()));
}

}  // namespace

struct StagedFiles::Impl {
  struct File {
    fs::path temp;
    fs::path final;
  };
  std::vector<File> files;               // temp files inside existing directories
  std::map<fs::path, fs::path> new_dirs;  // final directory -> staged temporary directory
  struct Stream {
    fs::path path;
    std::vector<uint8_t> bytes;
  };
  std::vector<Stream> streams;  // devices and FIFOs, written in place by commit()
  bool committed = false;

  fs::path staged_dir_for(const fs::path& dir) {
    auto it = new_dirs.find(dir);
    if (it != new_dirs.end()) return it->second;
    const fs::path parent = dir_of(dir);
    std::error_code ec;
    if (fs::exists(dir, ec)) throw Error("cannot write into " + dir.string() + ": not a directory");
    if (!fs::is_directory(parent, ec))
      throw Error("cannot create directory " + dir.string() + ": " + parent.string() + " does not exist");
    std::string templ = (parent / ("." + dir.filename().string() + ".tmp-XXXXXX")).string();
    if (::mkdtemp(templ.data()) == nullptr) throw Error(sys_error("cannot create a directory in " + parent.string()));
    ::chmod(templ.c_str(), 0755);
    new_dirs.emplace(dir, templ);
    return templ;
  }

  ~Impl() {
    if (committed) return;
    for (const File& f : files) ::unlink(f.temp.c_str());
    std::error_code ec;
    for (const auto& [dir, temp] : new_dirs) fs::remove_all(temp, ec);
  }
};

StagedFiles::StagedFiles() : impl_(std::make_unique<Impl>()) {}
StagedFiles::~StagedFiles() = default;

void StagedFiles::add(const std::string& path, std::span<const uint8_t> bytes) {
  check(!path.empty(), "cannot write a file with an empty name");
  check(!impl_->committed, "StagedFiles: already committed");
  const fs::path target(path);
  check(target.has_filename(), "cannot write " + path + ": not a file name");
  const fs::path dir = dir_of(target);
  std::error_code ec;
  const auto staged = impl_->new_dirs.find(dir);
  if (staged == impl_->new_dirs.end() && is_stream_destination(target)) {
    impl_->streams.push_back({target, std::vector<uint8_t>(bytes.begin(), bytes.end())});
    return;
  }
  if (staged == impl_->new_dirs.end() && fs::is_directory(dir, ec)) {
    std::string templ = (dir / ("." + target.filename().string() + ".tmp-XXXXXX")).string();
    const int fd = ::mkstemp(templ.data());
    if (fd < 0) throw Error(sys_error("cannot write " + path));
    impl_->files.push_back({templ, target});
    write_fd(fd, bytes, path);
    return;
  }
  const fs::path in_new = impl_->staged_dir_for(dir) / target.filename();
  const int fd = ::open(in_new.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd < 0) throw Error(sys_error("cannot write " + path));
  write_fd(fd, bytes, path);
}

void StagedFiles::add(const std::string& path, std::string_view text) { add(path, as_bytes(text)); }

void StagedFiles::commit() {
  check(!impl_->committed, "StagedFiles: already committed");
  // Devices and FIFOs first: one that refuses the bytes (a full device, a
  // closed pipe) fails the commit before any file is renamed into place.
  for (const auto& s : impl_->streams) write_stream(s.path, s.bytes);
  impl_->streams.clear();
  std::vector<fs::path> dirs;
  for (const auto& [dir, temp] : impl_->new_dirs) {
    if (::rename(temp.c_str(), dir.c_str()) != 0)
      throw Error(sys_error("cannot create directory " + dir.string()));
    dirs.push_back(dir_of(dir));
  }
  impl_->new_dirs.clear();  // now in place: nothing to clean up
  for (auto& f : impl_->files) {
    if (::rename(f.temp.c_str(), f.final.c_str()) != 0) throw Error(sys_error("cannot write " + f.final.string()));
    f.temp.clear();
    dirs.push_back(dir_of(f.final));
  }
  impl_->committed = true;
  for (const fs::path& d : dirs) fsync_dir(d);
}

std::vector<uint8_t> read_file_bounded(const std::string& path, uint64_t max_bytes, const std::string& what,
                                       bool allow_stream) {
  const std::string named = what.empty() ? path : what + " " + path;
  check(!path.empty(), "cannot read " + (what.empty() ? std::string("a file") : what) + ": empty file name");
  struct stat st{};
  // stat() before open(): opening a FIFO for reading would block.
  if (::stat(path.c_str(), &st) != 0) throw Error(sys_error("cannot read " + named));
  check(!S_ISDIR(st.st_mode), "cannot read " + named + ": is a directory, not a file");
  const bool regular = S_ISREG(st.st_mode);
  check(regular || allow_stream, "cannot read " + named + ": not a regular file");
  const std::string at_most = " bytes (at most " + std::to_string(max_bytes) + " expected)";
  if (regular)
    check(static_cast<uint64_t>(st.st_size) <= max_bytes,
          "cannot read " + named + ": " + std::to_string(st.st_size) + at_most);
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw Error(sys_error("cannot read " + named));
  std::vector<uint8_t> bytes;
  const uint64_t limit = max_bytes + 1;  // one more byte tells "too large" from "exactly the limit"
  bytes.resize(static_cast<size_t>(regular ? std::min<uint64_t>(static_cast<uint64_t>(st.st_size), max_bytes) + 1
                                           : std::min<uint64_t>(limit, uint64_t{1} << 16)));
  size_t got = 0;
  for (;;) {
    if (got == bytes.size()) {
      if (got >= limit) break;
      bytes.resize(static_cast<size_t>(std::min<uint64_t>(limit, uint64_t{2} * got)));
    }
    const ssize_t k = ::read(fd, bytes.data() + got, bytes.size() - got);
    if (k < 0 && errno == EINTR) continue;
    if (k < 0) {
      const int saved = errno;
      ::close(fd);
      errno = saved;
      throw Error(sys_error("cannot read " + named));
    }
    if (k == 0) break;
    got += static_cast<size_t>(k);
  }
  ::close(fd);
  check(got <= max_bytes, "cannot read " + named + ": more than " + std::to_string(max_bytes) + at_most);
  bytes.resize(got);
  return bytes;
}

void write_file_atomic(const std::string& path, std::span<const uint8_t> bytes) {
  std::error_code ec;
  check(!path.empty(), "cannot write a file with an empty name");
  check(fs::is_directory(dir_of(fs::path(path)), ec),
        "cannot write " + path + ": directory " + dir_of(fs::path(path)).string() + " does not exist");
  StagedFiles s;
  s.add(path, bytes);
  s.commit();
}

void write_file_atomic(const std::string& path, std::string_view text) { write_file_atomic(path, as_bytes(text)); }

void check_output_file(const std::string& path, const std::string& what) {
  check(!path.empty(), what + ": empty file name");
  const fs::path p(path);
  std::error_code ec;
  check(p.has_filename() && !fs::is_directory(p, ec), "cannot write " + what + " " + path + ": is a directory");
  if (is_stream_destination(p)) {  // written in place at commit (StagedFiles), not through its directory
    check(::access(p.c_str(), W_OK) == 0, sys_error("cannot write " + what + " " + path));
    return;
  }
  const fs::path dir = dir_of(p);
  check(fs::is_directory(dir, ec),
        "cannot write " + what + " " + path + ": directory " + dir.string() + " does not exist");
  probe_dir(dir, path, what);
}

void check_output_dir(const std::string& path, const std::string& what) {
  check(!path.empty(), what + ": empty directory name");
  const fs::path p(path);
  std::error_code ec;
  if (fs::exists(p, ec)) {
    check(fs::is_directory(p, ec), "cannot write " + what + " " + path + ": exists and is not a directory");
    probe_dir(p, path, what);
    return;
  }
  const fs::path parent = dir_of(p.has_filename() ? p : p.parent_path());
  check(fs::is_directory(parent, ec),
        "cannot create " + what + " " + path + ": directory " + parent.string() + " does not exist");
  probe_dir(parent, path, what);
}

bool path_within(const std::string& path, const std::string& dir) {
  auto resolve = [](const std::string& s, fs::path& out) {
    std::error_code ec;
    out = fs::weakly_canonical(fs::absolute(s), ec).lexically_normal();
    if (!out.has_filename() && out.has_parent_path() && out != out.root_path()) out = out.parent_path();
    return !ec;
  };
  fs::path p, d;
  if (!resolve(path, p) || !resolve(dir, d)) return false;
  auto pi = p.begin();
  for (const fs::path& part : d) {
    if (part.empty()) continue;
    if (pi == p.end() || *pi != part) return false;
    ++pi;
  }
  return true;
}

}  // namespace qlite
