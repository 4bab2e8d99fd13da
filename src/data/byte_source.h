// Sequential byte sources for the IDX reader: a file, a memory span, and a
// gzip decoder layered over either. Private to src/data.
#pragma once

#include <cstdint>
#include <cstdio>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include <zlib.h>

namespace qlite::data_detail {

class ByteSource {
 public:
  virtual ~ByteSource() = default;
  // Reads up to n bytes into dst; returns fewer than n only at the end of the
  // data. Throws Error on I/O or decompression errors.
  virtual size_t read(uint8_t* dst, size_t n) = 0;
};

class MemSource final : public ByteSource {
 public:
  explicit MemSource(std::span<const uint8_t> bytes) : bytes_(bytes) {}
  size_t read(uint8_t* dst, size_t n) override;

 private:
  std::span<const uint8_t> bytes_;
  size_t pos_ = 0;
};

class FileSource final : public ByteSource {
 public:
  FileSource(std::FILE* f, std::string name) : f_(f), name_(std::move(name)) {}
  size_t read(uint8_t* dst, size_t n) override;

 private:
  std::FILE* f_;
  std::string name_;
};

// Decodes one or more concatenated gzip members (as gzip(1) writes them).
// CRC and length trailers are checked by zlib; bytes after the last member
// that are not another gzip member are an Error, as is a stream cut short.
class GzipSource final : public ByteSource {
 public:
  GzipSource(ByteSource& in, std::string name);
  ~GzipSource() override;
  GzipSource(const GzipSource&) = delete;
  GzipSource& operator=(const GzipSource&) = delete;
  size_t read(uint8_t* dst, size_t n) override;

 private:
  bool refill();  // false at the end of the compressed input
  [[noreturn]] void fail(const std::string& what) const;

  ByteSource& in_;
  std::string name_;
  z_stream zs_{};
  std::vector<uint8_t> inbuf_;
  bool in_eof_ = false;
  bool done_ = false;  // the last member ended and no input follows
};

}  // namespace qlite::data_detail
