// The PAD and TRANSPOSE the runtime runs: the same results as the reference
// kernels (kernels/reference/shape_kernels.h), byte for byte, but PAD copies
// whole input rows and fills whole pad runs, and TRANSPOSE walks the output in
// order with an incremental input offset instead of dividing per element.
// tests/kernels/shape_kernels_test.cpp checks both against the reference.
#pragma once

#include "kernels/reference/shape_kernels.h"

namespace qlite::kernels {

// The geometry must have passed ref::validate_pad / validate_transpose (the
// runtime validates at prepare; eval does no checks).
void pad(const ref::PadGeometry& g, size_t elem_size, const std::byte* input, const std::byte* pad_value,
         std::byte* output);
void transpose(const ref::TransposeGeometry& g, size_t elem_size, const std::byte* input, std::byte* output);

}  // namespace qlite::kernels
