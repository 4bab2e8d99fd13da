// load_dataset on directories of hand-made IDX files, the named datasets
// (synthetic stand-ins always; the real ones when installed), and take().
#include <algorithm>
#include <cmath>

#include <sys/stat.h>

#include "idx_fixtures.h"
#include "qlite/data.h"

namespace {

using qlite::Dataset;
using qlite::load_dataset;
using qlite_test::Bytes;
using qlite_test::expect_error;
using qlite_test::gzip;
using qlite_test::idx_bytes;
using qlite_test::ScopedEnv;
using qlite_test::TempDir;
using qlite_test::write_file;

float pixel_oracle(uint8_t b) { return static_cast<float>(b / 255.0); }

// Train: 64 images of 2x2 holding the bytes 0..255; labels i % 5.
// Test: 3 images of 2x2 (bytes 255 - k); labels 4, 0, 2.
struct TinySet {
  Bytes train_pixels, train_labels, test_pixels, test_labels;
  TinySet() {
    for (int i = 0; i < 256; ++i) train_pixels.push_back(static_cast<uint8_t>(i));
    for (int i = 0; i < 64; ++i) train_labels.push_back(static_cast<uint8_t>(i % 5));
    for (int i = 0; i < 12; ++i) test_pixels.push_back(static_cast<uint8_t>(255 - i));
    test_labels = {4, 0, 2};
  }
  // Writes the four files into dir; `zip` picks which are gzip-compressed.
  void write(const std::string& dir, bool zip_train, bool zip_test) const {
    auto put = [&](const std::string& base, const Bytes& content, bool zip) {
      write_file(dir + "/" + base + (zip ? ".gz" : ""), zip ? gzip(content) : content);
    };
    put("train-images-idx3-ubyte", idx_bytes(0x08, {64, 2, 2}, train_pixels), zip_train);
    put("train-labels-idx1-ubyte", idx_bytes(0x08, {64}, train_labels), !zip_train);
    put("t10k-images-idx3-ubyte", idx_bytes(0x08, {3, 2, 2}, test_pixels), zip_test);
    put("t10k-labels-idx1-ubyte", idx_bytes(0x08, {3}, test_labels), zip_test);
  }
};

void expect_split(const qlite::Split& s, const Bytes& pixels, const Bytes& labels, int64_t h,
                  int64_t w) {
  const int64_t n = static_cast<int64_t>(labels.size());
  ASSERT_EQ(s.x.shape(), (qlite::Shape{n, h, w}));
  ASSERT_EQ(s.x.dtype(), qlite::DType::kFloat32);
  ASSERT_EQ(s.y.shape(), (qlite::Shape{n}));
  ASSERT_EQ(s.y.dtype(), qlite::DType::kInt32);
  for (size_t i = 0; i < pixels.size(); ++i)
    ASSERT_EQ(s.x.f32()[i], pixel_oracle(pixels[i])) << "pixel " << i << " byte " << int(pixels[i]);
  for (int64_t i = 0; i < n; ++i) ASSERT_EQ(s.y.data<int32_t>()[i], labels[i]) << "label " << i;
}

TEST(Dataset, DirectoryOfIdxFilesPlainAndGzip) {
  const TinySet tiny;
  for (bool zip_train : {false, true}) {
    TempDir dir;
    tiny.write(dir.path(), zip_train, !zip_train);
    const Dataset ds = load_dataset(dir.path());
    expect_split(ds.train, tiny.train_pixels, tiny.train_labels, 2, 2);
    expect_split(ds.test, tiny.test_pixels, tiny.test_labels, 2, 2);
    EXPECT_EQ(ds.num_classes, 5);
    EXPECT_EQ(ds.name, dir.path());
  }
}

TEST(Dataset, PixelsAreExactlyByteOver255) {
  // Spot checks of the oracle itself against hand-known values.
  EXPECT_EQ(pixel_oracle(0), 0.0f);
  EXPECT_EQ(pixel_oracle(255), 1.0f);
  EXPECT_EQ(pixel_oracle(51), 0.2f);
  EXPECT_EQ(pixel_oracle(85), 1.0f / 3.0f);
}

TEST(Dataset, AcceptsDottedFileNames) {
  TempDir dir;
  const TinySet tiny;
  write_file(dir.file("train-images.idx3-ubyte"), idx_bytes(0x08, {64, 2, 2}, tiny.train_pixels));
  write_file(dir.file("train-labels.idx1-ubyte"), idx_bytes(0x08, {64}, tiny.train_labels));
  write_file(dir.file("t10k-images.idx3-ubyte.gz"), gzip(idx_bytes(0x08, {3, 2, 2}, tiny.test_pixels)));
  write_file(dir.file("t10k-labels.idx1-ubyte"), idx_bytes(0x08, {3}, tiny.test_labels));
  const Dataset ds = load_dataset(dir.path());
  expect_split(ds.test, tiny.test_pixels, tiny.test_labels, 2, 2);
}

TEST(Dataset, OneClassStillCountsTwo) {
  TempDir dir;
  write_file(dir.file("train-images-idx3-ubyte"), idx_bytes(0x08, {2, 1, 1}, {3, 4}));
  write_file(dir.file("train-labels-idx1-ubyte"), idx_bytes(0x08, {2}, {0, 0}));
  write_file(dir.file("t10k-images-idx3-ubyte"), idx_bytes(0x08, {1, 1, 1}, {5}));
  write_file(dir.file("t10k-labels-idx1-ubyte"), idx_bytes(0x08, {1}, {0}));
  EXPECT_EQ(load_dataset(dir.path()).num_classes, 2);
}

TEST(Dataset, RejectsMismatchedCounts) {
  TempDir dir;
  const TinySet tiny;
  tiny.write(dir.path(), false, false);
  write_file(dir.file("t10k-labels-idx1-ubyte"), idx_bytes(0x08, {2}, {1, 2}));
  expect_error([&] { load_dataset(dir.path()); },
               {dir.file("t10k-labels-idx1-ubyte"), "holds 2 labels", "holds 3 images"});
}

TEST(Dataset, RejectsWrongShapesAndTypes) {
  const TinySet tiny;
  {
    TempDir dir;
    tiny.write(dir.path(), false, false);
    write_file(dir.file("train-images-idx3-ubyte"), idx_bytes(0x08, {64, 4}, tiny.train_pixels));
    expect_error([&] { load_dataset(dir.path()); },
                 {dir.file("train-images-idx3-ubyte"), "[N, H, W]"});
  }
  {
    TempDir dir;
    tiny.write(dir.path(), false, false);
    write_file(dir.file("train-labels-idx1-ubyte"), idx_bytes(0x0B, {32}, tiny.train_labels));
    expect_error([&] { load_dataset(dir.path()); }, {dir.file("train-labels-idx1-ubyte"), "[N]"});
  }
  {
    TempDir dir;
    tiny.write(dir.path(), false, false);
    write_file(dir.file("t10k-images-idx3-ubyte"), idx_bytes(0x08, {3, 4, 1}, tiny.test_pixels));
    expect_error([&] { load_dataset(dir.path()); }, {dir.file("t10k-images-idx3-ubyte"), "4x1"});
  }
}

TEST(Dataset, ErrorsNameTheFaultyFile) {
  TempDir dir;
  const TinySet tiny;
  tiny.write(dir.path(), true, false);
  Bytes cut = gzip(idx_bytes(0x08, {64, 2, 2}, tiny.train_pixels));
  cut.resize(cut.size() / 2);
  write_file(dir.file("train-images-idx3-ubyte.gz"), cut);
  expect_error([&] { load_dataset(dir.path()); }, {dir.file("train-images-idx3-ubyte.gz") + ": "});
  std::remove(dir.file("train-images-idx3-ubyte.gz").c_str());
  expect_error([&] { load_dataset(dir.path()); }, {dir.path(), "train-images-idx3-ubyte"});
}

TEST(Dataset, UnknownNameSaysWhatIsAccepted) {
  expect_error([&] { load_dataset("no-such-dataset-or-dir"); },
               {"no-such-dataset-or-dir", "fashion-mnist", "mnist", "directory"});
}

TEST(Dataset, FashionMnistHonoursQliteDataDir) {
  TempDir dir;
  ASSERT_EQ(::mkdir(dir.file("fashion-mnist").c_str(), 0755), 0);
  const TinySet tiny;
  tiny.write(dir.file("fashion-mnist"), true, true);
  ScopedEnv env("QLITE_DATA_DIR", dir.path());
  const Dataset ds = load_dataset("fashion-mnist");
  EXPECT_EQ(ds.name, "fashion-mnist");
  expect_split(ds.train, tiny.train_pixels, tiny.train_labels, 2, 2);
}

TEST(Take, CopiesRowsAndChecksBounds) {
  TempDir dir;
  const TinySet tiny;
  tiny.write(dir.path(), false, false);
  const Dataset ds = load_dataset(dir.path());
  const qlite::Split part = qlite::take(ds.train, 10, 13);
  expect_split(part, Bytes(tiny.train_pixels.begin() + 40, tiny.train_pixels.begin() + 52),
               Bytes(tiny.train_labels.begin() + 10, tiny.train_labels.begin() + 13), 2, 2);
  const qlite::Split none = qlite::take(ds.train, 64, 64);
  EXPECT_EQ(none.x.shape(), (qlite::Shape{0, 2, 2}));
  EXPECT_EQ(none.y.shape(), (qlite::Shape{0}));
  EXPECT_EQ(qlite::take(ds.train, 0, 64).y.numel(), 64);
  for (auto [b, e] : {std::pair<int64_t, int64_t>{-1, 3}, {0, 65}, {5, 4}, {65, 65}}) {
    expect_error([&] { qlite::take(ds.train, b, e); }, {"take", "out of range", "64 rows"});
  }
}

}  // namespace
