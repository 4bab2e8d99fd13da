// The safetensors container (https://github.com/huggingface/safetensors):
// u64 little-endian header length N, N bytes of JSON, then the raw data.
// Private to src/train; the parser works on bytes so a fuzz target can call it.
#pragma once

#include <cstdint>
#include <map>
#include <span>
#include <string>
#include <vector>

#include "qlite/core.h"

namespace qlite::safetensors {

struct TensorRef {
  std::string name;
  DType dtype;
  Shape shape;
  const Tensor* data;
};

// The whole file: header (padded with spaces to a multiple of 8) and data,
// tensors laid out in the given order.
std::vector<char> serialize(std::span<const TensorRef> tensors,
                            const std::map<std::string, std::string>& metadata);

struct Entry {
  DType dtype;
  Shape shape;
  std::span<const std::byte> bytes;  // points into the parsed buffer
};

struct File {
  std::map<std::string, Entry> tensors;
  std::map<std::string, std::string> metadata;
};

// Validates everything (header length, JSON types, dtypes, shapes, offsets in
// range, no overlap, no gaps) and throws Error prefixed with `what` (the file
// name) naming the tensor at fault. The result points into `buf`.
File parse(std::span<const std::byte> buf, const std::string& what);

const char* dtype_code(DType t);  // "F32", ...

}  // namespace qlite::safetensors
