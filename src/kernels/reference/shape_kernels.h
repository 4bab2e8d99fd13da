// Reference PAD and TRANSPOSE: THE spec of the two data-movement ops, for
// any element size (they never look inside an element, so one kernel serves
// float32, int8, uint8, int32, ...). Plain loops over output elements, every
// assumption checked; src/kernels/shape_kernels.h has the row-wise PAD the
// runtime runs, judged by exact equality with this one.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

namespace qlite::ref {

// TFLite 2.9 pads tensors of rank 1..5 and transposes tensors of rank 1..5
// (pad.cc: PadKernelMaxDimensionCount(); transpose.cc: "only supports 1D-5D").
inline constexpr int kMaxPadRank = 5;
inline constexpr int kMaxTransposeRank = 5;

// out_dims[d] = before[d] + in_dims[d] + after[d]; every pad >= 0.
struct PadGeometry {
  int rank = 0;
  std::array<int64_t, kMaxPadRank> in_dims{};
  std::array<int64_t, kMaxPadRank> before{};
  std::array<int64_t, kMaxPadRank> after{};

  int64_t out_dim(int d) const { return before[static_cast<size_t>(d)] + in_dims[static_cast<size_t>(d)] + after[static_cast<size_t>(d)]; }
  int64_t in_numel() const;
  int64_t out_numel() const;
};
// Throws Error naming `what` unless rank is in [1, kMaxPadRank], every dim and
// pad >= 0, and both element counts fit int64.
void validate_pad(const PadGeometry& g, const char* what);

// Every output element is the input element at (out index - before) when that
// lies inside the input, else the `elem_size` bytes at pad_value.
void pad(const PadGeometry& g, size_t elem_size, const std::byte* input, const std::byte* pad_value,
         std::byte* output);

// out_dims[d] = in_dims[perm[d]]; out[i0, .., i(r-1)] = in[j] with
// j[perm[d]] = i[d]. perm is a permutation of 0 .. rank-1.
struct TransposeGeometry {
  int rank = 0;
  std::array<int64_t, kMaxTransposeRank> in_dims{};
  std::array<int, kMaxTransposeRank> perm{};

  int64_t numel() const;
};
// Throws Error naming `what` unless rank is in [1, kMaxTransposeRank], dims >= 0,
// the count fits int64 and perm is a permutation.
void validate_transpose(const TransposeGeometry& g, const char* what);

void transpose(const TransposeGeometry& g, size_t elem_size, const std::byte* input, std::byte* output);

}  // namespace qlite::ref
