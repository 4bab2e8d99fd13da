#include "kernels/reference/geometry.h"

#include <algorithm>
#include <string>

#include "qlite/core.h"

namespace qlite::ref {

PaddedDim compute_padding(Padding padding, int in, int kernel, int stride, int dilation) {
  QLITE_CHECK(in > 0 && kernel > 0 && stride > 0 && dilation > 0,
              "compute_padding: sizes must be positive (in " + std::to_string(in) + ", kernel " +
                  std::to_string(kernel) + ", stride " + std::to_string(stride) + ", dilation " +
                  std::to_string(dilation) + ")");
  const int64_t eff = int64_t{dilation} * (kernel - 1) + 1;
  PaddedDim d;
  if (padding == Padding::kSame) {
    d.out = static_cast<int>((int64_t{in} + stride - 1) / stride);
    const int64_t total = std::max<int64_t>((int64_t{d.out} - 1) * stride + eff - in, 0);
    d.pad_before = static_cast<int>(total / 2);
  } else {
    QLITE_CHECK(eff <= in, "compute_padding: VALID window of " + std::to_string(eff) +
                               " does not fit input of " + std::to_string(in));
    d.out = static_cast<int>((in - eff) / stride + 1);
    d.pad_before = 0;
  }
  return d;
}

void apply_padding(WindowGeometry& g, Padding padding) {
  const PaddedDim h = compute_padding(padding, g.in_h, g.kernel_h, g.stride_h, g.dilation_h);
  const PaddedDim w = compute_padding(padding, g.in_w, g.kernel_w, g.stride_w, g.dilation_w);
  g.out_h = h.out;
  g.pad_top = h.pad_before;
  g.out_w = w.out;
  g.pad_left = w.pad_before;
}

void validate_geometry(const WindowGeometry& g, const char* op) {
  const std::string where = std::string(op) + ": ";
  QLITE_CHECK(g.batch > 0 && g.in_h > 0 && g.in_w > 0 && g.in_c > 0,
              where + "input dimensions must be positive");
  QLITE_CHECK(g.out_h > 0 && g.out_w > 0 && g.out_c > 0, where + "output dimensions must be positive");
  QLITE_CHECK(g.kernel_h > 0 && g.kernel_w > 0, where + "kernel dimensions must be positive");
  QLITE_CHECK(g.stride_h > 0 && g.stride_w > 0, where + "strides must be positive");
  QLITE_CHECK(g.dilation_h > 0 && g.dilation_w > 0, where + "dilations must be positive");
  QLITE_CHECK(g.pad_top >= 0 && g.pad_left >= 0, where + "padding must be non-negative");
  // Element counts must be addressable with int64 offsets and kept below 2^31
  // per tensor so that int offsets in optimized kernels stay valid too.
  const int64_t in_elems = int64_t{g.batch} * g.in_h * g.in_w * g.in_c;
  const int64_t out_elems = int64_t{g.batch} * g.out_h * g.out_w * g.out_c;
  QLITE_CHECK(in_elems < (int64_t{1} << 31) && out_elems < (int64_t{1} << 31),
              where + "tensor too large");
}

void validate_window_reach(const WindowGeometry& g, const char* op) {
  validate_geometry(g, op);
  // The rows and columns the windows reach (the padded input that one
  // image's windows read, which the convolution kernels copy and index with
  // int offsets) under the tensors' bound: a huge dilation or stride would
  // otherwise overflow their int arithmetic (found by fuzzing: dilation
  // 2^30 + 5 with a 3x3 filter).
  const int64_t rows = (int64_t{g.out_h} - 1) * g.stride_h + int64_t{g.kernel_h - 1} * g.dilation_h + 1;
  const int64_t cols = (int64_t{g.out_w} - 1) * g.stride_w + int64_t{g.kernel_w - 1} * g.dilation_w + 1;
  constexpr int64_t kMax = (int64_t{1} << 31) - 1;
  QLITE_CHECK(rows <= kMax && cols <= kMax && rows + g.pad_top <= kMax && cols + g.pad_left <= kMax &&
                  rows * cols <= kMax / g.in_c,
              std::string(op) + ": the windows reach " + std::to_string(rows) + " x " + std::to_string(cols) +
                  " x " + std::to_string(g.in_c) + " input values (kernel, stride and dilation), more than 2^31");
}

}  // namespace qlite::ref
