// IDX reader (the MNIST file format), plain or gzip. Everything read from
// the file is validated before it sizes an allocation or a copy, and a gzip
// stream is inflated only up to the length the header promises plus one
// byte, so a decompression bomb costs no more than an honest file.
#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>

#include "data/byte_source.h"
#include "qlite/data.h"

namespace qlite {

namespace {

using data_detail::ByteSource;

constexpr int kMaxDims = 4;
// The first read's buffer; it doubles after each full read. Small, since
// a header that claims more than its file holds is refused after this much
// (a zeroed buffer per such file); a 47 MB MNIST file takes 10 doublings.
constexpr size_t kFirstChunk = size_t{64} << 10;

std::string truncated(const std::string& name, const std::string& what, uint64_t expected,
                      uint64_t found) {
  return name + ": truncated: expected " + std::to_string(expected) + " bytes of " + what +
         ", found " + std::to_string(found);
}

uint32_t load_be32(const uint8_t* p) {
  return (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) | uint32_t{p[3]};
}

void to_host_order(std::vector<uint8_t>& bytes, size_t elem) {
  // IDX is big-endian; every machine qlite targets is little-endian.
  if (elem < 2) return;
  uint8_t* p = bytes.data();
  for (size_t i = 0; i + elem <= bytes.size(); i += elem) std::reverse(p + i, p + i + elem);
}

IdxArray parse_stream(ByteSource& src, const std::string& name) {
  uint8_t head[4];
  const size_t got_head = src.read(head, 4);
  if (got_head < 4) throw Error(truncated(name, "header", 4, got_head));
  if (head[0] != 0 || head[1] != 0)
    throw Error(name + ": not an IDX file (the first two bytes must be zero)");
  IdxArray out;
  out.type_code = head[2];
  size_t elem = 0;
  try {
    elem = idx_element_size(head[2]);
  } catch (const Error& e) {
    throw Error(name + ": " + e.what());
  }
  const int ndims = head[3];
  if (ndims < 1 || ndims > kMaxDims)
    throw Error(name + ": IDX dimension count " + std::to_string(ndims) + " is not in 1.." +
                std::to_string(kMaxDims));

  uint8_t dim_bytes[4 * kMaxDims];
  const size_t want_dims = 4 * static_cast<size_t>(ndims);
  const size_t got_dims = src.read(dim_bytes, want_dims);
  if (got_dims < want_dims) throw Error(truncated(name, "dimensions", want_dims, got_dims));

  uint64_t total = elem;
  for (int i = 0; i < ndims; ++i) {
    const uint32_t d = load_be32(dim_bytes + 4 * i);
    if (d == 0) throw Error(name + ": IDX dimension " + std::to_string(i) + " is zero");
    // total <= kIdxMaxPayloadBytes (2^31) and d < 2^32, so this product cannot overflow.
    total *= d;
    if (total > kIdxMaxPayloadBytes)
      throw Error(name + ": IDX data is too large (more than " +
                  std::to_string(kIdxMaxPayloadBytes) + " bytes)");
    out.dims.push_back(d);
  }

  // Grow the buffer as data arrives, so a header that claims gigabytes over a
  // short (or small compressed) file costs memory in proportion to the file.
  size_t got = 0;
  size_t chunk = std::min<size_t>(total, kFirstChunk);
  while (got < total) {
    out.bytes.resize(got + chunk);
    const size_t k = src.read(out.bytes.data() + got, chunk);
    got += k;
    if (k < chunk) throw Error(truncated(name, "data", total, got));
    chunk = std::min<size_t>(total - got, got);
  }
  uint8_t extra;
  if (src.read(&extra, 1) != 0)
    throw Error(name + ": unexpected bytes after the " + std::to_string(total) +
                " bytes of data that its dimensions " + shape_str(out.dims) + " call for");
  to_host_order(out.bytes, elem);
  return out;
}

struct FileCloser {
  void operator()(std::FILE* f) const { std::fclose(f); }
};

}  // namespace

size_t idx_element_size(uint8_t type_code) {
  switch (type_code) {
    case 0x08:
    case 0x09:
      return 1;
    case 0x0B:
      return 2;
    case 0x0C:
    case 0x0D:
      return 4;
    case 0x0E:
      return 8;
    default: {
      char buf[8];
      std::snprintf(buf, sizeof buf, "0x%02X", type_code);
      throw Error(std::string("unknown IDX type code ") + buf);
    }
  }
}

IdxArray parse_idx(std::span<const uint8_t> bytes, const std::string& name) {
  data_detail::MemSource mem(bytes);
  if (!bytes.empty() && bytes[0] == 0x1f) {
    data_detail::GzipSource gz(mem, name);
    return parse_stream(gz, name);
  }
  return parse_stream(mem, name);
}

IdxArray read_idx(const std::string& path) {
  // Only regular files: a device (/dev/zero) or FIFO would stream without end.
  struct stat st{};
  if (::stat(path.c_str(), &st) != 0) throw Error(path + ": cannot open: " + std::strerror(errno));
  if (!S_ISREG(st.st_mode)) throw Error(path + ": not a regular file");
  std::unique_ptr<std::FILE, FileCloser> f(std::fopen(path.c_str(), "rb"));
  if (!f) throw Error(path + ": cannot open: " + std::strerror(errno));
  std::setvbuf(f.get(), nullptr, _IOFBF, size_t{1} << 16);
  const int first = std::getc(f.get());
  if (first != EOF) std::ungetc(first, f.get());
  data_detail::FileSource file(f.get(), path);
  if (first == 0x1f) {
    data_detail::GzipSource gz(file, path);
    return parse_stream(gz, path);
  }
  return parse_stream(file, path);
}

}  // namespace qlite
