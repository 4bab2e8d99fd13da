// UNIDIRECTIONAL_SEQUENCE_LSTM reference kernels: float32, and int8 with an
// int16 cell state as TensorFlow Lite 2.9 computes it (lstm_eval.cc,
// EvalInteger8x8_16: int8 gate matmuls rescaled into int16 gate values,
// sigmoid / tanh in int16 fixed point, the cell state in int16 with a
// power-of-two scale). One call runs one time step for n_batch rows; the
// runtime op (src/runtime/ops/lstm.cpp) walks the sequence.
#pragma once

#include <cstdint>

#include "kernels/reference/requantize.h"

namespace qlite::ref::lstm {

// gemmlowp's int16 fixed-point logistic: input Q3.12, output Q0.15.
int16_t logistic_q3_12(int16_t x);
// gemmlowp's int16 fixed-point tanh: input with `integer_bits` (0..6) integer
// bits, output Q0.15.
int16_t tanh_q(int16_t x, int integer_bits);

// The four gates, in TFLite's order: input, forget, cell, output.
enum Gate { kInputGate = 0, kForgetGate = 1, kCellGate = 2, kOutputGate = 3 };

struct Int8Step {
  // Per gate (input gate absent when CIFG): weights [n_cell, n_input] and
  // [n_cell, n_output], effective biases (bias + zero-point terms, computed at
  // prepare), and the multipliers into the gate's int16 Q3.12 value.
  const int8_t* input_weights[4] = {};
  const int8_t* recurrent_weights[4] = {};
  const int32_t* input_bias[4] = {};
  const int32_t* recurrent_bias[4] = {};
  QuantizedMultiplier input_scale[4], recurrent_scale[4];
  bool cifg = false;
  int cell_shift = -11;       // log2 of the cell state's scale
  int16_t cell_clip = 0;      // 0: none
  QuantizedMultiplier hidden_scale;
  int32_t hidden_zp = 0;
  int n_batch = 1, n_input = 0, n_cell = 0, n_output = 0;
};

// One time step. input [n_batch, n_input]; output_state [n_batch, n_output]
// int8 and cell_state [n_batch, n_cell] int16, both updated; output receives
// a copy of the new output state. scratch: 4 * n_batch * n_cell int16.
void int8_step(const Int8Step& p, const int8_t* input, int8_t* output_state, int16_t* cell_state, int8_t* output,
               int16_t* scratch);

// TFLite's fused activations as ApplyActivationToVector takes them.
enum class FloatAct { kNone, kRelu, kReluN1To1, kRelu6, kTanh, kSigmoid };

struct FloatStep {
  const float* input_weights[4] = {};
  const float* recurrent_weights[4] = {};
  const float* bias[4] = {};
  bool cifg = false;
  FloatAct activation = FloatAct::kTanh;  // of the cell gate and of the output
  float cell_clip = 0.0f;
  int n_batch = 1, n_input = 0, n_cell = 0, n_output = 0;
};

// One time step in float; scratch: 4 * n_batch * n_cell floats.
void float_step(const FloatStep& p, const float* input, float* output_state, float* cell_state, float* output,
                float* scratch);

}  // namespace qlite::ref::lstm
