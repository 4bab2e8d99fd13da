#include <cstdlib>
#include <algorithm>
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

void Tensor::Free::operator()(std::byte* p) const {
  if (owned) std::free(p);
}

Tensor Tensor::borrow(void* data, Shape shape, DType dtype) {
  Tensor t;
  const int64_t n = shape_numel(shape);
  QLITE_CHECK(n >= 0 && (n == 0 || data != nullptr), "Tensor::borrow: null data for shape " + shape_str(shape));
  t.shape_ = std::move(shape);
  t.dtype_ = dtype;
  t.numel_ = n;
  t.capacity_ = 0;  // any resize allocates owned storage
  t.data_ = std::unique_ptr<std::byte[], Free>(static_cast<std::byte*>(data), Free(false));
  return t;
}

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

void Tensor::reshape_storage(int64_t lead, const int64_t* dims, size_t rank, DType dtype) {
  const size_t full_rank = rank + (lead >= 0 ? 1 : 0);
  auto shape_for_error = [&] {
    Shape full;
    if (lead >= 0) full.push_back(lead);
    full.insert(full.end(), dims, dims + rank);
    return full;
  };
  int64_t n = lead >= 0 ? lead : 1;
  for (size_t i = 0; i < rank; ++i) {
    const int64_t d = dims[i];
    if (d < 0) throw Error("negative dimension in shape " + shape_str(shape_for_error()));
    if (d != 0 && n > (int64_t{1} << 62) / d) throw Error("shape " + shape_str(shape_for_error()) + " is too large");
    n *= d;
  }
  const size_t bytes = static_cast<size_t>(n) * dtype_size(dtype);
  if (bytes > capacity_ || !data_) {
    // Round up to whole cache lines (aligned_alloc requires a multiple of the alignment)
    // and keep one spare line so vector kernels may read a little past the end.
    const size_t alloc = ((bytes + 63) / 64) * 64 + 64;
    void* p = std::aligned_alloc(64, alloc);
    if (!p)
      throw Error("out of memory allocating " + std::to_string(bytes) + " bytes for tensor " +
                  shape_str(shape_for_error()));
    std::memset(static_cast<std::byte*>(p) + (alloc - 64), 0, 64);
    data_ = std::unique_ptr<std::byte[], Free>(static_cast<std::byte*>(p), Free());
    capacity_ = alloc - 64;
  }
  // dims may point into shape_ itself (resize(shape())): copy through a small buffer.
  int64_t tmp[16];
  const bool small = rank <= 16;
  Shape big;
  const int64_t* src = dims;
  if (small) {
    std::copy(dims, dims + rank, tmp);
    src = tmp;
  } else {
    big.assign(dims, dims + rank);
    src = big.data();
  }
  shape_.resize(full_rank);
  size_t o = 0;
  if (lead >= 0) shape_[o++] = lead;
  std::copy(src, src + rank, shape_.begin() + static_cast<std::ptrdiff_t>(o));
  dtype_ = dtype;
  numel_ = n;
}

void Tensor::resize(const Shape& shape, DType dtype) { reshape_storage(-1, shape.data(), shape.size(), dtype); }

void Tensor::resize(std::initializer_list<int64_t> dims, DType dtype) {
  reshape_storage(-1, dims.begin(), dims.size(), dtype);
}

void Tensor::resize_batched(int64_t batch, const Shape& sample, DType dtype) {
  if (batch < 0) throw Error("negative batch size " + std::to_string(batch));
  reshape_storage(batch, sample.data(), sample.size(), dtype);
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
