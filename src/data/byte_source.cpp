#include "data/byte_source.h"

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstring>

#include "qlite/core.h"

namespace qlite::data_detail {

namespace {
constexpr size_t kInChunk = size_t{1} << 18;
}

size_t MemSource::read(uint8_t* dst, size_t n) {
  const size_t k = std::min(n, bytes_.size() - pos_);
  if (k) std::memcpy(dst, bytes_.data() + pos_, k);
  pos_ += k;
  return k;
}

size_t FileSource::read(uint8_t* dst, size_t n) {
  size_t got = 0;
  while (got < n) {
    const size_t k = std::fread(dst + got, 1, n - got, f_);
    got += k;
    if (k == 0) {
      if (std::ferror(f_)) throw Error(name_ + ": read error: " + std::strerror(errno));
      break;
    }
  }
  return got;
}

GzipSource::GzipSource(ByteSource& in, std::string name) : in_(in), name_(std::move(name)) {
  // 16 + MAX_WBITS: gzip wrapper only, so zlib checks the CRC-32 and ISIZE trailer.
  if (inflateInit2(&zs_, 16 + MAX_WBITS) != Z_OK) throw Error(name_ + ": cannot initialise zlib");
  inbuf_.resize(kInChunk);
}

GzipSource::~GzipSource() { inflateEnd(&zs_); }

void GzipSource::fail(const std::string& what) const {
  throw Error(name_ + ": corrupt gzip data: " + what);
}

bool GzipSource::refill() {
  if (in_eof_) return false;
  const size_t k = in_.read(inbuf_.data(), inbuf_.size());
  if (k < inbuf_.size()) in_eof_ = true;
  zs_.next_in = inbuf_.data();
  zs_.avail_in = static_cast<uInt>(k);
  return k > 0;
}

size_t GzipSource::read(uint8_t* dst, size_t n) {
  size_t got = 0;
  while (got < n && !done_) {
    if (zs_.avail_in == 0 && !refill()) {
      // Input ended inside a member (a stream that ended cleanly sets done_ below).
      fail("unexpected end of compressed data");
    }
    const size_t want = std::min<size_t>(n - got, UINT_MAX);
    zs_.next_out = dst + got;
    zs_.avail_out = static_cast<uInt>(want);
    const int rc = inflate(&zs_, Z_NO_FLUSH);
    got += want - zs_.avail_out;
    if (rc == Z_STREAM_END) {
      // Another member may follow; anything else after the stream is garbage.
      if (zs_.avail_in == 0 && !refill()) {
        done_ = true;
        break;
      }
      if (zs_.next_in[0] != 0x1f) fail("unexpected bytes after the end of the gzip stream");
      if (inflateReset(&zs_) != Z_OK) fail("inflateReset failed");
      continue;
    }
    if (rc == Z_BUF_ERROR) {
      // No progress was possible; with input and output space left that cannot be cured.
      if (zs_.avail_in != 0 && zs_.avail_out != 0) fail("inflate made no progress");
      continue;
    }
    if (rc != Z_OK) fail(zs_.msg ? zs_.msg : ("zlib error " + std::to_string(rc)));
  }
  return got;
}

}  // namespace qlite::data_detail
