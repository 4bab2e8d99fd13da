#include <cstdlib>
#include <cstring>
#include <new>

#include "qlite/core.h"

namespace qlite {

size_t dtype_size(DType t) {
  switch (t) {
    case DType::kFloat32: return 4;
    case DType::kFloat16: return 2;
    case DType::kInt32: return 4;
    case DType::kInt8: return 1;
    case DType::kUInt8: return 1;
    case DType::kInt64: return 8;
  }
  throw Error("unknown dtype");
}

const char* dtype_name(DType t) {
  switch (t) {
    case DType::kFloat32: return "float32";
    case DType::kFloat16: return "float16";
    case DType::kInt32: return "int32";
    case DType::kInt8: return "int8";
    case DType::kUInt8: return "uint8";
    case DType::kInt64: return "int64";
  }
  return "unknown";
}

int64_t shape_numel(const Shape& s) {
  int64_t n = 1;
  for (int64_t d : s) {
    if (d < 0) throw Error("negative dimension in shape " + shape_str(s));
    if (d != 0 && n > (int64_t{1} << 62) / d) throw Error("shape " + shape_str(s) + " is too large");
    n *= d;
  }
  return n;
}

std::string shape_str(const Shape& s) {
  std::string out = "(";
  for (size_t i = 0; i < s.size(); ++i) {
    if (i) out += ", ";
    out += s[i] < 0 ? std::string("None") : std::to_string(s[i]);
  }
  if (s.size() == 1) out += ",";
  return out + ")";
}

void Tensor::Free::operator()(std::byte* p) const { std::free(p); }

Tensor::Tensor(Shape shape, DType dtype) {
  resize(shape, dtype);
  zero();
}

Tensor::Tensor(const Tensor& other) {
  resize(other.shape_, other.dtype_);
  if (other.nbytes()) std::memcpy(raw(), other.raw(), other.nbytes());
}

Tensor& Tensor::operator=(const Tensor& other) {
  if (this != &other) {
    resize(other.shape_, other.dtype_);
    if (other.nbytes()) std::memcpy(raw(), other.raw(), other.nbytes());
  }
  return *this;
}

void Tensor::resize(const Shape& shape, DType dtype) {
  const int64_t n = shape_numel(shape);
  const size_t bytes = static_cast<size_t>(n) * dtype_size(dtype);
  if (bytes > capacity_ || !data_) {
    // Round up to whole cache lines (aligned_alloc requires a multiple of the alignment)
    // and keep one spare line so vector kernels may read a little past the end.
    const size_t alloc = ((bytes + 63) / 64) * 64 + 64;
    void* p = std::aligned_alloc(64, alloc);
    if (!p) throw Error("out of memory allocating " + std::to_string(bytes) + " bytes for tensor " +
                        shape_str(shape));
    std::memset(static_cast<std::byte*>(p) + (alloc - 64), 0, 64);
    data_.reset(static_cast<std::byte*>(p));
    capacity_ = alloc - 64;
  }
  shape_ = shape;
  dtype_ = dtype;
  numel_ = n;
}

void Tensor::reshape(const Shape& shape) {
  if (shape_numel(shape) != numel_)
    throw Error("cannot reshape tensor " + shape_str(shape_) + " to " + shape_str(shape));
  shape_ = shape;
}

void Tensor::zero() {
  if (nbytes()) std::memset(raw(), 0, nbytes());
}

float* Tensor::f32() {
  if (dtype_ != DType::kFloat32) throw Error(std::string("tensor is ") + dtype_name(dtype_) + ", not float32");
  return data<float>();
}

const float* Tensor::f32() const {
  if (dtype_ != DType::kFloat32) throw Error(std::string("tensor is ") + dtype_name(dtype_) + ", not float32");
  return data<float>();
}

}  // namespace qlite
