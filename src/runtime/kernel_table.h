// The kernels the runtime's ops call, as one table of function pointers per
// instruction-set path. An op copies the pointers it needs into its prepared
// state, so eval never dispatches. Every entry has the reference kernel's
// signature and contract (bit-exact with it); a pack hook, when set, turns the
// stored weights into the kernel's own layout once at prepare, and the kernel
// then receives the packed bytes in place of the weights.
//
// Today every path maps to the reference kernels; issue 5 fills the AVX2 and
// AVX-512 rows from src/kernels/int8_dispatch.* without touching the ops.
#pragma once

#include <cstdint>
#include <vector>

#include "kernels/reference/hybrid_kernels.h"
#include "kernels/reference/int8_kernels.h"
#include "kernels/reference/reference_float.h"
#include "qlite/core.h"

namespace qlite::runtime {

struct KernelTable {
  Isa isa = Isa::kReference;

  // ---- int8
  void (*conv2d_int8)(const ref::ConvInt8Params&, const int8_t* input, const int8_t* weights,
                      const int32_t* bias, int8_t* output) = nullptr;
  void (*pack_conv2d_int8)(const ref::ConvInt8Params&, const int8_t* ohwi,
                           std::vector<int8_t>& packed) = nullptr;
  void (*depthwise_conv2d_int8)(const ref::DepthwiseInt8Params&, const int8_t* input,
                                const int8_t* weights, const int32_t* bias, int8_t* output) = nullptr;
  void (*fully_connected_int8)(const ref::FullyConnectedInt8Params&, const int8_t* input,
                               const int8_t* weights, const int32_t* bias, int8_t* output) = nullptr;
  void (*pack_fully_connected_int8)(const ref::FullyConnectedInt8Params&, const int8_t* weights,
                                    std::vector<int8_t>& packed) = nullptr;
  void (*max_pool2d_int8)(const ref::PoolInt8Params&, const int8_t*, int8_t*) = nullptr;
  void (*average_pool2d_int8)(const ref::PoolInt8Params&, const int8_t*, int8_t*) = nullptr;
  void (*add_int8)(const ref::AddInt8Params&, int64_t n, const int8_t*, const int8_t*, int8_t*) = nullptr;
  void (*mean_hw_int8)(const ref::MeanInt8Params&, const int8_t*, int8_t*) = nullptr;
  void (*softmax_int8)(const ref::SoftmaxInt8Params&, int64_t outer, int depth, const int8_t*,
                       int8_t*) = nullptr;
  void (*quantize_f32_to_int8)(int64_t, const float*, float, int32_t, int8_t*) = nullptr;
  void (*quantize_f32_to_uint8)(int64_t, const float*, float, int32_t, uint8_t*) = nullptr;
  void (*dequantize_int8)(int64_t, const int8_t*, float, int32_t, float*) = nullptr;
  void (*dequantize_uint8)(int64_t, const uint8_t*, float, int32_t, float*) = nullptr;
  void (*requantize_int8)(const ref::RequantizeParams&, int64_t, const int8_t*, int8_t*) = nullptr;

  // ---- float32
  void (*conv2d_f32)(const ref::WindowGeometry&, const float* input, const float* weights,
                     const float* bias, ref::FusedActivation, float* output) = nullptr;
  void (*depthwise_conv2d_f32)(const ref::WindowGeometry&, int depth_multiplier, const float*,
                               const float*, const float*, ref::FusedActivation, float*) = nullptr;
  void (*fully_connected_f32)(int batch, int in, int out, const float* input, const float* weights,
                              const float* bias, ref::FusedActivation, float* output) = nullptr;
  void (*max_pool2d_f32)(const ref::WindowGeometry&, ref::FusedActivation, const float*, float*) = nullptr;
  void (*average_pool2d_f32)(const ref::WindowGeometry&, ref::FusedActivation, const float*,
                             float*) = nullptr;
  void (*add_f32)(int64_t, const float*, const float*, ref::FusedActivation, float*) = nullptr;
  void (*mean_hw_f32)(int, int, int, int, const float*, float*) = nullptr;
  void (*softmax_f32)(int64_t outer, int depth, float beta, const float*, float*) = nullptr;
  void (*dequantize_f16)(int64_t, const uint16_t*, float*) = nullptr;

  // ---- hybrid (float activations, int8 weights)
  void (*fully_connected_hybrid)(const ref::HybridFcParams&, const float*, const int8_t*,
                                 const float*, const ref::HybridScratch&, float*) = nullptr;
  void (*conv2d_hybrid)(const ref::HybridConvParams&, const float*, const int8_t*, const float*,
                        const ref::HybridScratch&, float*) = nullptr;
};

// The table for a path; the reference table for Isa::kReference. Filled once.
const KernelTable& kernel_table(Isa isa);

}  // namespace qlite::runtime
