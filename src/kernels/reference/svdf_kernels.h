// SVDF (TFLite's singular-value-decomposition filter, the keyword-spotting
// layer of TFLite Micro's examples): a fully connected layer factored into
// num_filters = units x rank feature filters over the input and a time filter
// over the last `memory` feature activations of each, kept in a state tensor
// across invokes. One invoke, as TensorFlow Lite 2.9's reference svdf.h:
//  1. the state [batch, filters, memory] moves one step left (the oldest
//     activation drops out);
//  2. each filter's activation on this input goes into its last slot;
//  3. each filter's dot product with its time weights, summed over the
//     filters of a unit (rank of them), plus the bias, is the unit's output.
// Float32, and int8 with an int16 state (TFLite's EvalIntegerSVDF).
#pragma once

#include <cstdint>

#include "kernels/reference/requantize.h"
#include "qlite/core.h"

namespace qlite::ref {

struct SvdfShape {
  int batch = 1, input_size = 1, num_filters = 1, rank = 1, memory = 1;
  int units() const { return num_filters / rank; }
};

// Float: state [batch, num_filters * memory]; scratch batch * num_filters
// floats; bias may be null. act: kLinear, kRelu, kRelu6, kReluN1To1 or kTanh.
void svdf_float(const SvdfShape& s, const float* input, const float* weights_feature, const float* weights_time,
                const float* bias, Activation act, float* state, float* scratch, float* output);

// int8: the feature product rescaled by scale1 (input x weights_feature /
// state scales) into the int16 state, saturated; the time product of int16
// weights and state summed in int32 with the bias, rescaled by scale2 (state
// x weights_time / output scales) and the output zero point, saturated to
// int8. Both rescalings are gemmlowp's double rounding. TFLite requires the
// fused activation to be RELU here and applies none but the int8 bounds. The
// int32 sums wrap, as TFLite's (undefined) overflow does on x86.
struct SvdfInt8Params {
  QuantizedMultiplier scale1, scale2;
  int32_t input_zero_point = 0, output_zero_point = 0;
};
// scratch: batch * num_filters int32.
void svdf_int8(const SvdfShape& s, const SvdfInt8Params& p, const int8_t* input, const int8_t* weights_feature,
               const int16_t* weights_time, const int32_t* bias, int16_t* state, int32_t* scratch, int8_t* output);

}  // namespace qlite::ref
