// Shapes shared by the reference kernels: NHWC tensors, explicit padding.
#pragma once

#include <cstdint>

#include "qlite/core.h"

namespace qlite::ref {


// Output size and leading pad of one spatial dimension, as TFLite computes
// them (ComputePaddingHeightWidth): SAME gives ceil(in / stride) outputs and
// puts the odd padding element at the end; VALID uses only full windows.
struct PaddedDim {
  int out = 0;
  int pad_before = 0;
};
PaddedDim compute_padding(Padding padding, int in, int kernel, int stride, int dilation = 1);

// A window over an NHWC input: convolution, depthwise convolution or pooling.
// Taps that fall outside the input (padding) are skipped.
struct WindowGeometry {
  int batch = 1;
  int in_h = 0, in_w = 0, in_c = 0;
  int out_h = 0, out_w = 0, out_c = 0;
  int kernel_h = 1, kernel_w = 1;
  int stride_h = 1, stride_w = 1;
  int dilation_h = 1, dilation_w = 1;
  int pad_top = 0, pad_left = 0;
};

// Fills out_h/out_w and pads from the padding mode; other fields must be set.
void apply_padding(WindowGeometry& g, Padding padding);

// Throws qlite::Error naming `op` when a field is out of range.
void validate_geometry(const WindowGeometry& g, const char* op);
// validate_geometry, and for the convolutions (which copy or index the
// padded input, unlike the pools, which clip windows to the image): the rows
// and columns the windows reach times the channels below 2^31.
void validate_window_reach(const WindowGeometry& g, const char* op);

}  // namespace qlite::ref
