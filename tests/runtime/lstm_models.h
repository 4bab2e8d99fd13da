// One-op UNIDIRECTIONAL_SEQUENCE_LSTM files with random weights, float32 or
// int8 (int16 cell state, the five intermediates TFLite's converter writes),
// for the comparisons with TensorFlow Lite 2.9 (tflite_lstm_test.cpp) and the
// hostile-file cases (hostile_files_test.cpp).
#pragma once

#include <cmath>
#include <cstdint>
#include <vector>

#include "qlite/core.h"
#include "qlite/lite.h"

namespace qlite::test {

struct LstmSpec {
  bool int8 = true;
  bool time_major = false;
  bool cifg = false;  // no input gate
  int batch = 1, time = 4, n_input = 5, n_cell = 6;
  float cell_clip = 0.0f;
  lite::Activation activation = lite::Activation::kTanh;
  int32_t input_zp = 3, state_zp = -2, hidden_zp = 0;
  int cell_log2 = -11;
  uint64_t seed = 1;
};

// Tensor indices: 0 x, then the weights and biases, then (in order) output
// state, cell state, y; lstm_state_tensors() names the two states.
inline lite::ModelDef lstm_model(const LstmSpec& s) {
  using T = lite::TensorType;
  lite::ModelBuilder b;
  Rng rng(s.seed);
  const T act = s.int8 ? T::kInt8 : T::kFloat32;
  const float in_scale = 0.02f, state_scale = 1.0f / 128;
  auto q = [&](float scale, int64_t zp) { return s.int8 ? lite::Quantization::per_tensor(scale, zp) : lite::Quantization{}; };
  const std::vector<int32_t> in_shape =
      s.time_major ? std::vector<int32_t>{s.time, s.batch, s.n_input} : std::vector<int32_t>{s.batch, s.time, s.n_input};
  const int32_t x = b.add_tensor("x", act, in_shape, q(in_scale, s.input_zp));
  auto weight = [&](const char* name, int rows, int cols) {
    const float scale = rng.uniform(0.004f, 0.03f);
    if (s.int8) {
      std::vector<int8_t> v(static_cast<size_t>(rows * cols));
      for (int8_t& e : v) e = static_cast<int8_t>(std::lround(rng.uniform(-127.0f, 127.0f)));
      return b.add_constant(name, T::kInt8, {rows, cols}, v, lite::Quantization::per_tensor(scale, 0));
    }
    std::vector<float> v(static_cast<size_t>(rows * cols));
    for (float& e : v) e = rng.uniform(-0.6f, 0.6f);
    return b.add_constant(name, T::kFloat32, {rows, cols}, v);
  };
  auto bias = [&](const char* name) {
    if (s.int8) {
      std::vector<int32_t> v(static_cast<size_t>(s.n_cell));
      for (int32_t& e : v) e = static_cast<int32_t>(std::lround(rng.uniform(-3000.0f, 3000.0f)));
      return b.add_constant(name, T::kInt32, {s.n_cell}, v, lite::Quantization::per_tensor(in_scale * 0.01f, 0));
    }
    std::vector<float> v(static_cast<size_t>(s.n_cell));
    for (float& e : v) e = rng.uniform(-0.5f, 0.5f);
    return b.add_constant(name, T::kFloat32, {s.n_cell}, v);
  };
  std::vector<int32_t> in(24, -1);
  in[0] = x;
  const char* gates[4] = {"input", "forget", "cell", "output"};
  for (int g = s.cifg ? 1 : 0; g < 4; ++g) {
    in[static_cast<size_t>(1 + g)] = weight(gates[g], s.n_cell, s.n_input);
    in[static_cast<size_t>(5 + g)] = weight(gates[g], s.n_cell, s.n_cell);
    in[static_cast<size_t>(12 + g)] = bias(gates[g]);
  }
  const int32_t h = b.add_tensor("output_state", act, {s.batch, s.n_cell}, q(state_scale, s.state_zp));
  const int32_t c = b.add_tensor("cell_state", s.int8 ? T::kInt16 : T::kFloat32, {s.batch, s.n_cell},
                                 q(std::ldexp(1.0f, s.cell_log2), 0));
  b.graph().tensors[static_cast<size_t>(h)].is_variable = true;
  b.graph().tensors[static_cast<size_t>(c)].is_variable = true;
  in[18] = h;
  in[19] = c;
  std::vector<int32_t> out_shape = in_shape;
  out_shape.back() = s.n_cell;
  const int32_t y = b.add_tensor("y", act, out_shape, q(state_scale, s.state_zp));
  std::vector<int32_t> intermediates;
  if (s.int8) {
    for (const char* name : {"input_to_input", "input_to_forget", "input_to_cell", "input_to_output"})
      intermediates.push_back(b.add_tensor(name, T::kFloat32, {0}));
    intermediates.push_back(b.add_tensor("effective_hidden_scale", T::kInt8, {0}, q(state_scale, s.hidden_zp)));
  }
  lite::UnidirectionalSequenceLstmOptions o;
  o.activation = s.activation;
  o.cell_clip = s.cell_clip;
  o.time_major = s.time_major;
  b.add_operator(lite::BuiltinOp::kUnidirectionalSequenceLstm, in, {y}, o);
  b.graph().operators.back().intermediates = intermediates;
  b.set_inputs({x});
  b.set_outputs({y});
  return b.build();
}

}  // namespace qlite::test
