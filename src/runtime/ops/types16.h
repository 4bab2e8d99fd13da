// Prepare paths for the type combinations of types16.cpp, called by the ops'
// own prepare functions (mean.cpp, reduce.cpp, math_binary.cpp) when the
// types match; each sets the node's state and eval.
#pragma once

#include "runtime/graph.h"

namespace qlite::runtime::detail {

// MEAN of int16, int32 or int64 over any constant axes, and of float32, int8
// or uint8 over axes other than H, W of a 4-D input (mean.cpp's case).
void prepare_mean_types16(PrepareContext& ctx, Node& n);
// Quantized REDUCE_PROD of int8 or int16.
void prepare_reduce_prod_quantized(PrepareContext& ctx, Node& n);
// MUL of two int16 tensors into an int8 or uint8 output.
void prepare_mul_int16_to_8bit(PrepareContext& ctx, Node& n);

}  // namespace qlite::runtime::detail
