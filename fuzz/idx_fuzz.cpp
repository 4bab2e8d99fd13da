// libFuzzer target for the IDX reader: arbitrary bytes through parse_idx
// (memory) and read_idx (the same bytes as a file), which must either return
// a consistent array or throw qlite::Error — never crash, leak or overread.
//
// Built and run by scripts/fuzz.sh (fuzz/CMakeLists.txt). Seeding the corpus
// with small real files (e.g. a gzip'd IDX header) speeds it up.
#include <sys/mman.h>
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <span>
#include <string>

#include "qlite/data.h"

namespace {

void check_consistent(const qlite::IdxArray& a) {
  uint64_t n = qlite::idx_element_size(a.type_code);
  for (int64_t d : a.dims) n *= static_cast<uint64_t>(d);
  if (a.dims.empty() || a.dims.size() > 4 || n != a.bytes.size() || n > qlite::kIdxMaxPayloadBytes)
    std::abort();
}

int memfd() {
  static const int fd = ::memfd_create("idx_fuzz", 0);
  return fd;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::span<const uint8_t> bytes(data, size);
  bool ok_mem = false;
  qlite::IdxArray from_mem;
  try {
    from_mem = qlite::parse_idx(bytes, "fuzz-input");
    check_consistent(from_mem);
    ok_mem = true;
  } catch (const qlite::Error&) {
  }

  // The same bytes through the file path (FileSource instead of MemSource).
  const int fd = memfd();
  if (fd < 0 || ::ftruncate(fd, 0) != 0 || ::pwrite(fd, data, size, 0) != static_cast<ssize_t>(size))
    return 0;
  const std::string path = "/proc/self/fd/" + std::to_string(fd);
  try {
    const qlite::IdxArray from_file = qlite::read_idx(path);
    if (!ok_mem || from_file.bytes != from_mem.bytes || from_file.dims != from_mem.dims)
      std::abort();
  } catch (const qlite::Error&) {
    if (ok_mem) std::abort();
  }
  return 0;
}
