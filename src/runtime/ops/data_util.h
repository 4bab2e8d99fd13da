// Helpers shared by the data-movement and shape ops (cast.cpp, gather.cpp,
// slice.cpp, split.cpp, ...): reading the constant index / axis / shape
// tensors a file holds, with every value checked by the caller.
#pragma once

#include <cstring>
#include <string>
#include <vector>

#include "runtime/ops/op_util.h"

namespace qlite::runtime::detail {

// The values of a constant INT32 or INT64 tensor (INT16 too when allow_int16)
// as int64, or of a run-time one while the op is prepared at invoke
// (require_values); fails naming `what` when of another type.
inline std::vector<int64_t> constant_ints(const Node& n, const RtTensor& t, const char* what,
                                          bool allow_int16 = false) {
  using T = lite::TensorType;
  require_values(n, t, what);
  op_check(t.type == T::kInt32 || t.type == T::kInt64 || (allow_int16 && t.type == T::kInt16), n,
           std::string(what) + " " + describe(t) + " must be INT32 or INT64");
  std::vector<int64_t> v(static_cast<size_t>(t.numel()));
  for (size_t i = 0; i < v.size(); ++i) {
    if (t.type == T::kInt32) v[i] = t.as<const int32_t>()[i];
    else if (t.type == T::kInt64) v[i] = t.as<const int64_t>()[i];
    else v[i] = t.as<const int16_t>()[i];
  }
  return v;
}

// An axis in [-rank, rank) made non-negative; fails naming `what`.
inline int normalize_axis(const Node& n, int64_t axis, int64_t rank, const std::string& what) {
  op_check(axis >= -rank && axis < rank, n,
           what + " " + std::to_string(axis) + " is outside [" + std::to_string(-rank) + ", " + std::to_string(rank) + ")");
  return static_cast<int>(axis < 0 ? axis + rank : axis);
}

inline int64_t product(const Shape& s, size_t from, size_t to) {
  int64_t p = 1;
  for (size_t d = from; d < to && d < s.size(); ++d) p *= s[d];
  return p;
}

// Copies the input's bytes to the output (ops that only change the shape).
inline void eval_copy_bytes(const EvalContext& c, const Node& n) {
  const RtTensor& in = c.input(n, 0);
  const RtTensor& out = c.output(n, 0);
  const size_t bytes = static_cast<size_t>(c.scaled(static_cast<int64_t>(out.nbytes())));
  if (in.data != out.data && bytes != 0) std::memcpy(out.data, in.data, bytes);
}

}  // namespace qlite::runtime::detail
