// Reference RESIZE_BILINEAR and RESIZE_NEAREST_NEIGHBOR: THE spec of the two
// resize ops, written after TensorFlow Lite 2.9's arithmetic as its x86 build
// runs it (tensorflow/lite/kernels/resize_*.cc with the builtin, "generic
// optimized" kernels):
//  - float32 bilinear: optimized_ops' order of operations (a 2x upsample
//    without align_corners / half_pixel_centers averages neighbours; other
//    sizes accumulate the four weighted corners into a zeroed output);
//  - uint8 bilinear: the float weights of ResizeBilinearGenericSmallChannel,
//    plus 0.5, truncated;
//  - int8 / int16 bilinear: ResizeBilinearInteger's 10-bit fixed point;
//  - nearest neighbour: GetNearestNeighbor's float scale, for every type.
// Tensors are NHWC; the kernels move or weigh raw values, so a quantized
// input and output share scale and zero point (checked by the runtime op).
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>

namespace qlite::ref {

struct ResizeGeometry {
  int64_t batch = 0;
  int32_t in_h = 0, in_w = 0, out_h = 0, out_w = 0;
  int64_t depth = 0;
  bool align_corners = false;
  bool half_pixel_centers = false;
};

// int8 / int16 bilinear's 10-bit fixed-point scale of one axis, as
// ResizeBilinearInteger computes it.
inline int32_t integer_axis_scale(int32_t in, int32_t out, bool align_corners) {
  if (align_corners && out > 1) return ((1 << 10) * (in - 1) + (out - 1) / 2) / (out - 1);
  return ((1 << 10) * in + out / 2) / out;
}

// reference_ops::ComputeInterpolationValuesInteger: the 10-bit source
// coordinate of output index `value` and its two neighbours. TFLite clamps
// only `upper` to the input; its rounded scale can put `lower` past the last
// row on large upsamplings (1 -> 1100 rows: scale 1, so output row 1024 has
// lower 1), where TFLite 2.9 reads outside its input. qlite clamps `lower`
// too: such a pixel then reads the last row only (both neighbours), and
// every pixel TFLite computes inside its input is unchanged.
inline void interpolation_values_int(int32_t value, int32_t scale_10, bool half_pixel_centers, int32_t input_size,
                                     int32_t* scaled, int32_t* lower, int32_t* upper) {
  if (half_pixel_centers) *scaled = value * scale_10 + scale_10 / 2 - (1 << 9);
  else *scaled = value * scale_10;
  *lower = std::min(std::max(*scaled / (1 << 10), int32_t{0}), input_size - 1);
  *upper = std::min((*scaled + (1 << 10) - 1) / (1 << 10), input_size - 1);
}

void resize_bilinear_f32(const ResizeGeometry& g, const float* in, float* out);
void resize_bilinear_u8(const ResizeGeometry& g, const uint8_t* in, uint8_t* out);
void resize_bilinear_s8(const ResizeGeometry& g, const int8_t* in, int8_t* out);
void resize_bilinear_s16(const ResizeGeometry& g, const int16_t* in, int16_t* out);

// Any element size: copies whole elements.
void resize_nearest(const ResizeGeometry& g, size_t elem_size, const std::byte* in, std::byte* out);

}  // namespace qlite::ref
