// Reference kernels of the data-movement ops that look at values: CAST
// (element conversion with the x86 results TensorFlow Lite 2.9 gives for
// out-of-range floats), GATHER and GATHER_ND (index checks). THE spec of
// those ops; the runtime runs them as they are.
#pragma once

#include <cstddef>
#include <cstdint>

#include "qlite/lite.h"

namespace qlite::ref {

// Converts n elements of `from` to `to` as C++'s static_cast does on x86-64
// (TFLite's cast.cc): integers wrap; bool is value != 0; a float outside the
// int32 range (or NaN) becomes INT32_MIN before narrowing to 8/16/32 bits and
// INT64_MIN for int64. Types: FLOAT32, INT8, UINT8, INT16, INT32, INT64, BOOL.
bool cast_supported(lite::TensorType t);
void cast(lite::TensorType from, lite::TensorType to, int64_t n, const std::byte* in, std::byte* out);

// GATHER: out[b][o][i][k] = in[b][o][idx[b][i]][k] over batch (the first
// batch_dims dims), outer (dims batch_dims..axis-1), coord (the index's dims
// after batch_dims) and inner (dims after axis), elem_size bytes each.
struct GatherGeometry {
  int64_t batch = 1, outer = 1, axis_size = 0, inner = 1, coords = 0;
};
// Index values as int64 (int32, int16 and int64 index tensors). Returns the
// position of the first index outside [0, axis_size), or -1 when all are in range;
// nothing is written unless all are.
int64_t gather(const GatherGeometry& g, size_t elem_size, const std::byte* in, const int64_t* indices,
               std::byte* out);

// GATHER_ND: `count` index tuples of `depth` values each pick slices of
// `slice` elements from a tensor with dims in_dims[0..depth). As TFLite 2.9,
// a tuple is valid when its flat slice position lies inside the tensor (a
// coordinate past its dimension that still lands inside is read). Returns the
// position of the first invalid tuple, or -1; nothing is written unless all are valid.
int64_t gather_nd(const int64_t* in_dims, int depth, int64_t slice, int64_t count, size_t elem_size,
                  const std::byte* in, const int64_t* indices, std::byte* out);

// The int64 values of an index tensor (INT16, INT32 or INT64).
void indices_to_int64(lite::TensorType t, int64_t n, const std::byte* in, int64_t* out);

}  // namespace qlite::ref
