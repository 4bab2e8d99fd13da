// The plain-signature kernels the runtime's ops call, as one table of
// function pointers per instruction-set path; an op copies the pointers it
// needs into its prepared state, so eval never dispatches. Every entry is
// bit-exact with the reference kernel it replaces.
//
// The packed int8 kernels (conv, depthwise, fully connected) and the
// pooling, add and mean kernels are not in the table: they take the Isa
// themselves (kernels/int8_kernels_x86.h), as do the float patch kernels and
// the hybrid (float activations, int8 weights) conv and fully connected
// kernels, whose weights are packed at prepare (kernels/x86/hybrid_x86.h).
#pragma once

#include <cstdint>
#include <vector>

#include "kernels/reference/int8_kernels.h"
#include "kernels/reference/reference_float.h"
#include "qlite/core.h"

namespace qlite::runtime {

struct KernelTable {
  Isa isa = Isa::kReference;

  // ---- int8
  void (*softmax_int8)(const ref::SoftmaxInt8Params&, int64_t outer, int depth, const int8_t*,
                       int8_t*) = nullptr;
  void (*quantize_f32_to_int8)(int64_t, const float*, float, int32_t, int8_t*) = nullptr;
  void (*quantize_f32_to_uint8)(int64_t, const float*, float, int32_t, uint8_t*) = nullptr;
  void (*dequantize_int8)(int64_t, const int8_t*, float, int32_t, float*) = nullptr;
  void (*dequantize_uint8)(int64_t, const uint8_t*, float, int32_t, float*) = nullptr;
  void (*requantize_int8)(const ref::RequantizeParams&, int64_t, const int8_t*, int8_t*) = nullptr;

  // ---- float32
  void (*conv2d_f32)(const ref::WindowGeometry&, const float* input, const float* weights,
                     const float* bias, Activation, float* output) = nullptr;
  void (*depthwise_conv2d_f32)(const ref::WindowGeometry&, int depth_multiplier, const float*,
                               const float*, const float*, Activation, float*) = nullptr;
  void (*fully_connected_f32)(int batch, int in, int out, const float* input, const float* weights,
                              const float* bias, Activation, float* output) = nullptr;
  void (*max_pool2d_f32)(const ref::WindowGeometry&, Activation, const float*, float*) = nullptr;
  void (*average_pool2d_f32)(const ref::WindowGeometry&, Activation, const float*,
                             float*) = nullptr;
  void (*add_f32)(int64_t, const float*, const float*, Activation, float*) = nullptr;
  void (*mean_hw_f32)(int, int, int, int, const float*, float*) = nullptr;
  void (*softmax_f32)(int64_t outer, int depth, float beta, const float*, float*) = nullptr;
  void (*dequantize_f16)(int64_t, const uint16_t*, float*) = nullptr;
};

// The table for a path; the reference table for Isa::kReference. Filled once.
const KernelTable& kernel_table(Isa isa);

}  // namespace qlite::runtime
