// The activations a layer applies after its op instead of fusing them into
// the op's kernel (activation_fusable() false: sigmoid, softmax, tanh,
// hard_swish), and the clamps, as plain elementwise / per-row functions.
// Shared by the Activation layer and, through HookedLayer, by every op layer
// that takes activation= (Conv2D, Dense, DepthwiseConv2D).
#pragma once

#include <cstdint>

#include "qlite/core.h"

namespace qlite::detail {

// y = act(z) over rows x cols values (softmax: each row of cols values).
// y may alias z. Deterministic for any pool (elementwise or per row).
void activation_forward(Activation a, const float* z, float* y, int64_t rows, int64_t cols, ThreadPool* pool);
// dz = dy * act'(z) (softmax: the row's Jacobian), from z and y = act(z).
// dz may alias dy. Kinks take TensorFlow's choice: relu, relu6 and the relu6
// inside hard_swish have derivative 0 at their corners.
void activation_backward(Activation a, const float* z, const float* y, const float* dy, float* dz, int64_t rows,
                         int64_t cols, ThreadPool* pool);

}  // namespace qlite::detail
