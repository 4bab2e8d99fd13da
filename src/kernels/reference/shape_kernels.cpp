#include "kernels/reference/shape_kernels.h"

#include <cstring>
#include <string>

#include "qlite/core.h"

namespace qlite::ref {
namespace {

// The product of n dims, or -1 when it overflows int64.
int64_t checked_product(const int64_t* dims, int n) {
  int64_t p = 1;
  for (int d = 0; d < n; ++d)
    if (__builtin_mul_overflow(p, dims[d], &p)) return -1;
  return p;
}

}  // namespace

int64_t PadGeometry::in_numel() const { return checked_product(in_dims.data(), rank); }

int64_t PadGeometry::out_numel() const {
  std::array<int64_t, kMaxPadRank> out{};
  for (int d = 0; d < rank; ++d) {
    const auto k = static_cast<size_t>(d);
    if (__builtin_add_overflow(in_dims[k], before[k], &out[k]) || __builtin_add_overflow(out[k], after[k], &out[k]))
      return -1;
  }
  return checked_product(out.data(), rank);
}

void validate_pad(const PadGeometry& g, const char* what) {
  QLITE_CHECK(g.rank >= 1 && g.rank <= kMaxPadRank,
              std::string(what) + ": rank " + std::to_string(g.rank) + " outside [1, " +
                  std::to_string(kMaxPadRank) + "]");
  for (int d = 0; d < g.rank; ++d) {
    const auto k = static_cast<size_t>(d);
    QLITE_CHECK(g.in_dims[k] >= 0 && g.before[k] >= 0 && g.after[k] >= 0,
                std::string(what) + ": negative dimension or padding in dimension " + std::to_string(d));
  }
  QLITE_CHECK(g.in_numel() >= 0 && g.out_numel() >= 0, std::string(what) + ": element count overflows int64");
}

void pad(const PadGeometry& g, size_t elem_size, const std::byte* input, const std::byte* pad_value,
         std::byte* output) {
  validate_pad(g, "pad");
  QLITE_CHECK(elem_size >= 1, "pad: element size 0");
  const int64_t n = g.out_numel();
  QLITE_CHECK(n == 0 || (output && pad_value), "pad: null tensor");
  QLITE_CHECK(g.in_numel() == 0 || input, "pad: null input");
  std::array<int64_t, kMaxPadRank> idx{};  // output coordinates, last fastest
  for (int64_t i = 0; i < n; ++i) {
    // Decode i into coordinates and map each to the input.
    int64_t rest = i, in_offset = 0, stride = 1;
    bool inside = true;
    for (int d = g.rank - 1; d >= 0; --d) {
      const auto k = static_cast<size_t>(d);
      idx[k] = rest % g.out_dim(d);
      rest /= g.out_dim(d);
      const int64_t j = idx[k] - g.before[k];
      if (j < 0 || j >= g.in_dims[k]) inside = false;
      in_offset += j * stride;
      stride *= g.in_dims[k];
    }
    const std::byte* src = inside ? input + static_cast<size_t>(in_offset) * elem_size : pad_value;
    std::memcpy(output + static_cast<size_t>(i) * elem_size, src, elem_size);
  }
}

int64_t TransposeGeometry::numel() const { return checked_product(in_dims.data(), rank); }

void validate_transpose(const TransposeGeometry& g, const char* what) {
  QLITE_CHECK(g.rank >= 1 && g.rank <= kMaxTransposeRank,
              std::string(what) + ": rank " + std::to_string(g.rank) + " outside [1, " +
                  std::to_string(kMaxTransposeRank) + "]");
  std::array<bool, kMaxTransposeRank> seen{};
  for (int d = 0; d < g.rank; ++d) {
    const int p = g.perm[static_cast<size_t>(d)];
    QLITE_CHECK(p >= 0 && p < g.rank && !seen[static_cast<size_t>(p)],
                std::string(what) + ": perm is not a permutation of 0.." + std::to_string(g.rank - 1));
    seen[static_cast<size_t>(p)] = true;
    QLITE_CHECK(g.in_dims[static_cast<size_t>(d)] >= 0, std::string(what) + ": negative dimension");
  }
  QLITE_CHECK(g.numel() >= 0, std::string(what) + ": element count overflows int64");
}

void transpose(const TransposeGeometry& g, size_t elem_size, const std::byte* input, std::byte* output) {
  validate_transpose(g, "transpose");
  QLITE_CHECK(elem_size >= 1, "transpose: element size 0");
  const int64_t n = g.numel();
  QLITE_CHECK(n == 0 || (input && output), "transpose: null tensor");
  // Input strides (row-major), then the output's dims and the input stride
  // each output dimension walks.
  std::array<int64_t, kMaxTransposeRank> in_stride{}, out_dims{}, walk{};
  int64_t s = 1;
  for (int d = g.rank - 1; d >= 0; --d) {
    in_stride[static_cast<size_t>(d)] = s;
    s *= g.in_dims[static_cast<size_t>(d)];
  }
  for (int d = 0; d < g.rank; ++d) {
    const auto p = static_cast<size_t>(g.perm[static_cast<size_t>(d)]);
    out_dims[static_cast<size_t>(d)] = g.in_dims[p];
    walk[static_cast<size_t>(d)] = in_stride[p];
  }
  for (int64_t i = 0; i < n; ++i) {
    int64_t rest = i, in_offset = 0;
    for (int d = g.rank - 1; d >= 0; --d) {
      const auto k = static_cast<size_t>(d);
      in_offset += (rest % out_dims[k]) * walk[k];
      rest /= out_dims[k];
    }
    std::memcpy(output + static_cast<size_t>(i) * elem_size, input + static_cast<size_t>(in_offset) * elem_size,
                elem_size);
  }
}

}  // namespace qlite::ref
