// read_idx / parse_idx on hand-made files: exact values for every type code,
// and an Error naming the file for each kind of damage.
#include <cstring>

#include "idx_fixtures.h"
#include "qlite/data.h"

namespace {

using qlite::Error;
using qlite::IdxArray;
using qlite::read_idx;
using qlite_test::Bytes;
using qlite_test::expect_error;
using qlite_test::gzip;
using qlite_test::idx_bytes;
using qlite_test::TempDir;
using qlite_test::write_file;

IdxArray read_bytes_as_file(const TempDir& dir, const std::string& name, const Bytes& b) {
  write_file(dir.file(name), b);
  return read_idx(dir.file(name));
}

TEST(IdxReader, UbyteValuesPlainAndGzip) {
  TempDir dir;
  const Bytes payload = {0, 1, 127, 128, 254, 255};
  const Bytes file = idx_bytes(0x08, {2, 3}, payload);
  for (const auto& [name, content] :
       {std::pair{std::string("plain.idx"), file}, std::pair{std::string("zipped.gz"), gzip(file)}}) {
    const IdxArray a = read_bytes_as_file(dir, name, content);
    EXPECT_EQ(a.type_code, 0x08) << name;
    EXPECT_EQ(a.dims, (qlite::Shape{2, 3})) << name;
    EXPECT_EQ(a.bytes, payload) << name;
  }
}

TEST(IdxReader, DetectsGzipByContentNotName) {
  TempDir dir;
  const Bytes file = idx_bytes(0x08, {1}, {42});
  EXPECT_EQ(read_bytes_as_file(dir, "plain-named.gz", file).bytes, Bytes{42});
  EXPECT_EQ(read_bytes_as_file(dir, "zipped-named.idx", gzip(file)).bytes, Bytes{42});
}

TEST(IdxReader, MultiByteTypesAreBigEndianOnDisk) {
  TempDir dir;
  // Payloads written out by hand from the IEEE-754 / two's complement encodings.
  {
    const IdxArray a = read_bytes_as_file(dir, "i8", idx_bytes(0x09, {3}, {0xFF, 0x80, 0x7F}));
    const auto* v = reinterpret_cast<const int8_t*>(a.bytes.data());
    EXPECT_EQ(v[0], -1);
    EXPECT_EQ(v[1], -128);
    EXPECT_EQ(v[2], 127);
  }
  {
    const IdxArray a = read_bytes_as_file(dir, "i16", idx_bytes(0x0B, {2}, {0xFF, 0xFE, 0x01, 0x02}));
    ASSERT_EQ(a.bytes.size(), 4u);
    int16_t v[2];
    std::memcpy(v, a.bytes.data(), 4);
    EXPECT_EQ(v[0], -2);
    EXPECT_EQ(v[1], 258);
  }
  {
    const IdxArray a = read_bytes_as_file(
        dir, "i32", gzip(idx_bytes(0x0C, {1, 2}, {0x01, 0x02, 0x03, 0x04, 0xFF, 0xFF, 0xFF, 0xFF})));
    int32_t v[2];
    ASSERT_EQ(a.bytes.size(), 8u);
    std::memcpy(v, a.bytes.data(), 8);
    EXPECT_EQ(v[0], 16909060);
    EXPECT_EQ(v[1], -1);
  }
  {
    // 1.5f = 0x3FC00000, -2.25f = 0xC0100000
    const IdxArray a = read_bytes_as_file(
        dir, "f32", idx_bytes(0x0D, {2}, {0x3F, 0xC0, 0x00, 0x00, 0xC0, 0x10, 0x00, 0x00}));
    float v[2];
    ASSERT_EQ(a.bytes.size(), 8u);
    std::memcpy(v, a.bytes.data(), 8);
    EXPECT_EQ(v[0], 1.5f);
    EXPECT_EQ(v[1], -2.25f);
  }
  {
    // 0.1 = 0x3FB999999999999A
    const IdxArray a = read_bytes_as_file(
        dir, "f64", idx_bytes(0x0E, {1, 1, 1, 1}, {0x3F, 0xB9, 0x99, 0x99, 0x99, 0x99, 0x99, 0x9A}));
    double v;
    ASSERT_EQ(a.bytes.size(), 8u);
    std::memcpy(&v, a.bytes.data(), 8);
    EXPECT_EQ(v, 0.1);
    EXPECT_EQ(a.dims, (qlite::Shape{1, 1, 1, 1}));
  }
}

TEST(IdxReader, EveryTruncationPointIsAnError) {
  TempDir dir;
  const Bytes file = idx_bytes(0x08, {2, 3}, {1, 2, 3, 4, 5, 6});  // 4 + 8 + 6 bytes
  const std::string path = dir.file("cut");
  for (size_t cut = 0; cut < file.size(); ++cut) {
    SCOPED_TRACE("cut at " + std::to_string(cut));
    const Bytes prefix(file.begin(), file.begin() + cut);
    std::string expected;
    if (cut < 4)
      expected = ": truncated: expected 4 bytes of header, found " + std::to_string(cut);
    else if (cut < 12)
      expected = ": truncated: expected 8 bytes of dimensions, found " + std::to_string(cut - 4);
    else
      expected = ": truncated: expected 6 bytes of data, found " + std::to_string(cut - 12);
    write_file(path, prefix);
    expect_error([&] { read_idx(path); }, {path + expected});
    // The same prefix compressed: a complete gzip stream of a short file.
    write_file(path, gzip(prefix));
    expect_error([&] { read_idx(path); }, {path + expected});
  }
}

TEST(IdxReader, EveryCutOfTheGzipStreamIsAnError) {
  TempDir dir;
  const Bytes z = gzip(idx_bytes(0x08, {4, 4}, Bytes(16, 7)));
  const std::string path = dir.file("cut.gz");
  for (size_t cut = 1; cut < z.size(); ++cut) {
    SCOPED_TRACE("cut at " + std::to_string(cut));
    write_file(path, Bytes(z.begin(), z.begin() + cut));
    expect_error([&] { read_idx(path); }, {path + ": "});
  }
  write_file(path, z);
  EXPECT_EQ(read_idx(path).bytes, Bytes(16, 7));
}

TEST(IdxReader, RejectsWrongMagic) {
  TempDir dir;
  for (const Bytes& b : {Bytes{1, 0, 8, 1, 0, 0, 0, 1, 5}, Bytes{0, 1, 8, 1, 0, 0, 0, 1, 5},
                         Bytes{'P', 'K', 3, 4, 0, 0, 0, 1, 5}}) {
    write_file(dir.file("m"), b);
    expect_error([&] { read_idx(dir.file("m")); }, {dir.file("m") + ": not an IDX file"});
  }
}

TEST(IdxReader, RejectsUnknownTypeCode) {
  TempDir dir;
  for (uint8_t code : {0x00, 0x07, 0x0A, 0x0F, 0xFF}) {
    write_file(dir.file("t"), idx_bytes(code, {1}, {0, 0, 0, 0, 0, 0, 0, 0}));
    char hex[8];
    std::snprintf(hex, sizeof hex, "0x%02X", code);
    expect_error([&] { read_idx(dir.file("t")); },
                 {dir.file("t") + ": unknown IDX type code " + hex});
  }
}

TEST(IdxReader, RejectsDimensionCountOutside1To4) {
  TempDir dir;
  write_file(dir.file("d0"), Bytes{0, 0, 8, 0, 5});
  expect_error([&] { read_idx(dir.file("d0")); }, {dir.file("d0"), "dimension count 0"});
  write_file(dir.file("d5"), idx_bytes(0x08, {1, 1, 1, 1, 1}, {5}));
  expect_error([&] { read_idx(dir.file("d5")); }, {dir.file("d5"), "dimension count 5"});
  write_file(dir.file("d255"), Bytes{0, 0, 8, 255, 0, 0, 0, 1});
  expect_error([&] { read_idx(dir.file("d255")); }, {dir.file("d255"), "dimension count 255"});
}

TEST(IdxReader, RejectsZeroDimension) {
  TempDir dir;
  write_file(dir.file("z"), idx_bytes(0x08, {3, 0}, {}));
  expect_error([&] { read_idx(dir.file("z")); }, {dir.file("z") + ": IDX dimension 1 is zero"});
}

TEST(IdxReader, RejectsPayloadOverTheLimitWithoutOverflow) {
  TempDir dir;
  const uint32_t max = 0xFFFFFFFFu;
  // 2^32-1 to the 4th power times 8 would wrap a 64-bit product.
  write_file(dir.file("o"), idx_bytes(0x0E, {max, max, max, max}, {}));
  expect_error([&] { read_idx(dir.file("o")); }, {dir.file("o") + ": IDX data is too large"});
  // 65536 * 32769 bytes is just over 2 GiB; 65536 * 32768 is exactly the limit,
  // accepted as a header, and then the missing data is reported (without
  // allocating 2 GiB first).
  write_file(dir.file("over"), idx_bytes(0x08, {65536, 32769}, {1, 2, 3}));
  expect_error([&] { read_idx(dir.file("over")); }, {dir.file("over"), "too large"});
  write_file(dir.file("at"), idx_bytes(0x08, {65536, 32768}, {1, 2, 3}));
  expect_error([&] { read_idx(dir.file("at")); },
               {dir.file("at") + ": truncated: expected 2147483648 bytes of data, found 3"});
  write_file(dir.file("f64"), idx_bytes(0x0E, {1u << 28, 2}, {}));
  expect_error([&] { read_idx(dir.file("f64")); }, {dir.file("f64"), "too large"});
}

TEST(IdxReader, RejectsTrailingBytes) {
  TempDir dir;
  const Bytes longer = idx_bytes(0x08, {2}, {1, 2, 3});
  write_file(dir.file("t"), longer);
  expect_error([&] { read_idx(dir.file("t")); },
               {dir.file("t") + ": unexpected bytes after the 2 bytes of data"});
  write_file(dir.file("t.gz"), gzip(longer));
  expect_error([&] { read_idx(dir.file("t.gz")); },
               {dir.file("t.gz") + ": unexpected bytes after the 2 bytes of data"});
  // Junk after a complete gzip stream.
  Bytes junk = gzip(idx_bytes(0x08, {2}, {1, 2}));
  junk.push_back('x');
  write_file(dir.file("j.gz"), junk);
  expect_error([&] { read_idx(dir.file("j.gz")); }, {dir.file("j.gz") + ": corrupt gzip data"});
}

TEST(IdxReader, AcceptsConcatenatedGzipMembers) {
  TempDir dir;
  const Bytes file = idx_bytes(0x08, {5}, {9, 8, 7, 6, 5});
  Bytes z = gzip(Bytes(file.begin(), file.begin() + 7));
  const Bytes z2 = gzip(Bytes(file.begin() + 7, file.end()));
  z.insert(z.end(), z2.begin(), z2.end());
  write_file(dir.file("two.gz"), z);
  EXPECT_EQ(read_idx(dir.file("two.gz")).bytes, (Bytes{9, 8, 7, 6, 5}));
}

TEST(IdxReader, RejectsCorruptGzip) {
  TempDir dir;
  Bytes payload(300);
  for (size_t i = 0; i < payload.size(); ++i) payload[i] = static_cast<uint8_t>(i * 7);
  const Bytes z = gzip(idx_bytes(0x08, {300}, payload));
  // A flipped bit in the CRC-32 trailer (the last 8 bytes are CRC and size).
  Bytes bad_crc = z;
  bad_crc[bad_crc.size() - 6] ^= 0x01;
  write_file(dir.file("crc.gz"), bad_crc);
  expect_error([&] { read_idx(dir.file("crc.gz")); }, {dir.file("crc.gz") + ": corrupt gzip data"});
  // Damage inside the deflate stream: any flip must be caught (bad code, or CRC).
  for (size_t pos = 10; pos + 8 < z.size(); pos += 3) {
    Bytes bad = z;
    bad[pos] ^= 0x5A;
    write_file(dir.file("bad.gz"), bad);
    expect_error([&] { read_idx(dir.file("bad.gz")); }, {dir.file("bad.gz") + ": "});
  }
  // A gzip header with an unknown compression method.
  Bytes bad_method = z;
  bad_method[2] = 7;
  write_file(dir.file("m.gz"), bad_method);
  expect_error([&] { read_idx(dir.file("m.gz")); }, {dir.file("m.gz") + ": corrupt gzip data"});
}

TEST(IdxReader, GzipBombStopsAtTheDeclaredLength) {
  TempDir dir;
  // 4 declared bytes followed by 16 MiB of zeros, which deflate shrinks to a small file.
  Bytes big = idx_bytes(0x08, {4}, {});
  big.resize(big.size() + (size_t{16} << 20), 0);
  write_file(dir.file("bomb.gz"), gzip(big));
  big.clear();
  big.shrink_to_fit();
  expect_error([&] { read_idx(dir.file("bomb.gz")); },
               {dir.file("bomb.gz") + ": unexpected bytes after the 4 bytes of data"});
}

TEST(IdxReader, MissingFileNamesThePath) {
  TempDir dir;
  expect_error([&] { read_idx(dir.file("nope")); }, {dir.file("nope") + ": cannot open"});
  expect_error([&] { read_idx(dir.path()); }, {dir.path() + ": "});
}

TEST(IdxReader, ParseIdxMatchesReadIdx) {
  TempDir dir;
  const Bytes file = idx_bytes(0x0B, {2, 2}, {0, 1, 0, 2, 0x80, 0, 0xFF, 0xFF});
  for (const Bytes& content : {file, gzip(file)}) {
    write_file(dir.file("p"), content);
    const IdxArray a = read_idx(dir.file("p"));
    const IdxArray b = qlite::parse_idx(content, "memory");
    EXPECT_EQ(a.type_code, b.type_code);
    EXPECT_EQ(a.dims, b.dims);
    EXPECT_EQ(a.bytes, b.bytes);
  }
  expect_error([&] { qlite::parse_idx(Bytes{0, 0, 8}, "buffer-name"); },
               {"buffer-name: truncated"});
  expect_error([&] { qlite::parse_idx(Bytes{}, "empty"); }, {"empty: truncated"});
}

TEST(IdxReader, ElementSizes) {
  EXPECT_EQ(qlite::idx_element_size(0x08), 1u);
  EXPECT_EQ(qlite::idx_element_size(0x09), 1u);
  EXPECT_EQ(qlite::idx_element_size(0x0B), 2u);
  EXPECT_EQ(qlite::idx_element_size(0x0C), 4u);
  EXPECT_EQ(qlite::idx_element_size(0x0D), 4u);
  EXPECT_EQ(qlite::idx_element_size(0x0E), 8u);
  EXPECT_THROW(qlite::idx_element_size(0x0A), Error);
}

}  // namespace
