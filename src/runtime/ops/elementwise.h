// What the one-input elementwise activations (LOGISTIC, TANH, HARD_SWISH)
// share: the output takes the input's shape and type; int8 and uint8 run
// through a 256-entry byte table made at prepare from the op's reference
// definition (kernels/reference/activation_kernels.h), float32 through the
// op's float kernel. The table lookup runs the context's Isa.
#pragma once

#include "kernels/reference/activation_kernels.h"
#include "kernels/reference/int16_activation_kernels.h"
#include "runtime/graph.h"

namespace qlite::runtime::detail {

struct ElementwiseState : OpState {
  ref::ByteTable table;
  void (*f32)(int64_t, const float*, float*) = nullptr;
  float param = 0.0f;  // an op's float parameter (LEAKY_RELU's alpha)
  ref::Int16ActivationParams i16;  // int16 LOGISTIC / TANH
  Isa isa = Isa::kReference;       // the byte table's lookup kernel (kernels/elementwise_x86.h)
};

// Checks one input and one output of the same type, sets the output shape
// and the work; returns the state to fill.
ElementwiseState& prepare_elementwise(PrepareContext& ctx, Node& n);
void eval_byte_table(const EvalContext& c, const Node& n);
void eval_f32_elementwise(const EvalContext& c, const Node& n);

}  // namespace qlite::runtime::detail
