#include "kernels/reference/data_kernels.h"

#include <cmath>
#include <cstring>
#include <limits>
#include <vector>

namespace qlite::ref {
namespace {

using T = lite::TensorType;

// cvttss2si: truncation, INT_MIN for NaN and out-of-range values.
int32_t float_to_i32(float f) {
  if (!(f >= -2147483648.0f && f < 2147483648.0f)) return std::numeric_limits<int32_t>::min();
  return static_cast<int32_t>(f);
}
int64_t float_to_i64(float f) {
  if (!(f >= -9223372036854775808.0f && f < 9223372036854775808.0f)) return std::numeric_limits<int64_t>::min();
  return static_cast<int64_t>(f);
}

// Every supported type read as float (float32) or int64 (integers and bool).
struct Elem {
  bool is_float = false;
  float f = 0.0f;
  int64_t i = 0;
};

Elem load(T t, const std::byte* p) {
  Elem e;
  switch (t) {
    case T::kFloat32: e.is_float = true, std::memcpy(&e.f, p, 4); break;
    case T::kInt8: e.i = static_cast<int8_t>(p[0]); break;
    case T::kUInt8: e.i = static_cast<uint8_t>(p[0]); break;
    case T::kBool: e.i = p[0] != std::byte{0} ? 1 : 0; break;
    case T::kInt16: {
      int16_t v;
      std::memcpy(&v, p, 2);
      e.i = v;
      break;
    }
    case T::kInt32: {
      int32_t v;
      std::memcpy(&v, p, 4);
      e.i = v;
      break;
    }
    case T::kInt64: std::memcpy(&e.i, p, 8); break;
    default: break;
  }
  return e;
}

template <class U>
void put(std::byte* p, U v) {
  std::memcpy(p, &v, sizeof v);
}

void store(T t, const Elem& e, std::byte* p) {
  if (t == T::kFloat32) {
    put(p, e.is_float ? e.f : static_cast<float>(e.i));
    return;
  }
  if (t == T::kBool) {
    put(p, static_cast<uint8_t>(e.is_float ? e.f != 0.0f : e.i != 0));
    return;
  }
  int64_t v;
  if (!e.is_float) v = e.i;
  else if (t == T::kInt64) v = float_to_i64(e.f);
  else v = float_to_i32(e.f);  // narrower destinations convert through int32 first
  switch (t) {
    case T::kInt8: put(p, static_cast<int8_t>(v)); break;
    case T::kUInt8: put(p, static_cast<uint8_t>(v)); break;
    case T::kInt16: put(p, static_cast<int16_t>(v)); break;
    case T::kInt32: put(p, static_cast<int32_t>(v)); break;
    case T::kInt64: put(p, v); break;
    default: break;
  }
}

}  // namespace

bool cast_supported(T t) {
  return t == T::kFloat32 || t == T::kInt8 || t == T::kUInt8 || t == T::kInt16 || t == T::kInt32 ||
         t == T::kInt64 || t == T::kBool;
}

void cast(T from, T to, int64_t n, const std::byte* in, std::byte* out) {
  const size_t a = lite::tensor_type_size(from), b = lite::tensor_type_size(to);
  for (int64_t i = 0; i < n; ++i)
    store(to, load(from, in + static_cast<size_t>(i) * a), out + static_cast<size_t>(i) * b);
}

void indices_to_int64(T t, int64_t n, const std::byte* in, int64_t* out) {
  for (int64_t i = 0; i < n; ++i) {
    const size_t k = static_cast<size_t>(i);
    if (t == T::kInt64) {
      std::memcpy(&out[k], in + 8 * k, 8);
    } else if (t == T::kInt32) {
      int32_t v;
      std::memcpy(&v, in + 4 * k, 4);
      out[k] = v;
    } else {
      int16_t v;
      std::memcpy(&v, in + 2 * k, 2);
      out[k] = v;
    }
  }
}

int64_t gather(const GatherGeometry& g, size_t elem_size, const std::byte* in, const int64_t* indices,
               std::byte* out) {
  for (int64_t i = 0; i < g.batch * g.coords; ++i)
    if (indices[i] < 0 || indices[i] >= g.axis_size) return i;
  const size_t row = static_cast<size_t>(g.inner) * elem_size;
  for (int64_t b = 0; b < g.batch; ++b)
    for (int64_t o = 0; o < g.outer; ++o)
      for (int64_t i = 0; i < g.coords; ++i) {
        const int64_t src = (b * g.outer + o) * g.axis_size + indices[b * g.coords + i];
        const int64_t dst = (b * g.outer + o) * g.coords + i;
        std::memcpy(out + static_cast<size_t>(dst) * row, in + static_cast<size_t>(src) * row, row);
      }
  return -1;
}

int64_t gather_nd(const int64_t* in_dims, int depth, int64_t slice, int64_t count, size_t elem_size,
                  const std::byte* in, const int64_t* indices, std::byte* out) {
  // TFLite's reference_ops::GatherNd checks the flat position of each slice
  // against the tensor, not each coordinate against its dimension.
  int64_t total = slice;
  for (int d = 0; d < depth; ++d) total *= in_dims[d];
  std::vector<int64_t> from(static_cast<size_t>(count));
  for (int64_t t = 0; t < count; ++t) {
    int64_t pos = 0, stride = slice;
    bool ok = true;
    for (int d = depth - 1; d >= 0 && ok; --d) {
      int64_t term;
      ok = !__builtin_mul_overflow(indices[t * depth + d], stride, &term) && !__builtin_add_overflow(pos, term, &pos);
      stride *= in_dims[d];
    }
    if (!ok || pos < 0 || pos > total - slice) return t;
    from[static_cast<size_t>(t)] = pos;
  }
  const size_t bytes = static_cast<size_t>(slice) * elem_size;
  for (int64_t t = 0; t < count; ++t)
    std::memcpy(out + static_cast<size_t>(t) * bytes, in + static_cast<size_t>(from[static_cast<size_t>(t)]) * elem_size,
                bytes);
  return -1;
}

}  // namespace qlite::ref
