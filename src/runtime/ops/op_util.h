// Checks and conversions shared by the ops' prepare functions. They run at
// prepare time only, so building message strings here costs nothing per invoke.
#pragma once

#include <string>

#include "kernels/reference/geometry.h"
#include "kernels/reference/requantize.h"
#include "runtime/graph.h"

namespace qlite::runtime::detail {

[[noreturn]] void op_fail(const Node& n, const std::string& message);
inline void op_check(bool cond, const Node& n, const std::string& message) {
  if (!cond) op_fail(n, message);
}

std::string describe(const RtTensor& t);  // "'name' INT8 (1, 28, 28, 1)"
ref::FusedActivation to_fused(const Node& n, lite::Activation a);
ref::Padding to_padding(lite::Padding p);
// A dimension as int, checked to fit (kernels index with int).
int dim_int(const Node& n, int64_t v, const char* what);

void require_rank(const Node& n, const RtTensor& t, size_t rank, const char* what);
void require_type(const Node& n, const RtTensor& t, lite::TensorType type, const char* what);
// Quantized with exactly one scale and zero point.
void require_per_tensor(const Node& n, const RtTensor& t, const char* what);
void require_same_quantization(const Node& n, const RtTensor& a, const RtTensor& b, const char* what);
// "An unsupported combination": names every input and output type.
[[noreturn]] void unsupported_types(const PrepareContext& ctx, const Node& n);

// Symmetric int8 weights: zero points all 0, 1 or `channels` scales along
// `dim`. Returns the scales.
std::vector<float> weight_scales(const Node& n, const RtTensor& w, int64_t channels, int32_t dim,
                                 const char* what);
// int32 bias of a quantized conv / FC: a scale present, equal to
// input_scale * weight_scale[c] within TFLite's tolerance, zero point 0.
void check_bias_int32(const Node& n, const RtTensor& bias, int64_t channels, float input_scale,
                      const std::vector<float>& w_scales, float output_scale);
// Float bias [channels].
void check_bias_f32(const Node& n, const RtTensor& bias, int64_t channels);

}  // namespace qlite::runtime::detail
