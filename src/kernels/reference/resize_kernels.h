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

void resize_bilinear_f32(const ResizeGeometry& g, const float* in, float* out);
void resize_bilinear_u8(const ResizeGeometry& g, const uint8_t* in, uint8_t* out);
void resize_bilinear_s8(const ResizeGeometry& g, const int8_t* in, int8_t* out);
void resize_bilinear_s16(const ResizeGeometry& g, const int16_t* in, int16_t* out);

// Any element size: copies whole elements.
void resize_nearest(const ResizeGeometry& g, size_t elem_size, const std::byte* in, std::byte* out);

}  // namespace qlite::ref
