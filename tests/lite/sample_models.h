// Small models shared by the lite tests, built with the public ModelBuilder.
#pragma once

#include <vector>

#include "qlite/lite.h"

namespace qlite::test {

// float32: x[b,4] -> FULLY_CONNECTED(W[3,4], bias[3], RELU) -> h[b,3]
//          -> RESHAPE(shape input {-1,3,1} and new_shape option) -> y[b,3,1]
inline const std::vector<float> kFloatWeights = {1.0f,  2.0f,  3.0f, 4.0f,    // unit 0
                                                 -1.0f, 0.5f,  0.0f, 2.0f,    // unit 1
                                                 0.25f, -2.0f, 1.0f, -1.0f};  // unit 2
inline const std::vector<float> kFloatBias = {0.5f, -1.0f, 2.0f};

inline lite::ModelDef float_fc_reshape_model() {
  using namespace lite;
  ModelBuilder b;
  b.set_description("float FC + RESHAPE");
  const int32_t x = b.add_tensor("x", TensorType::kFloat32, {1, 4}, {}, {-1, 4});
  const int32_t w = b.add_constant("dense/kernel", TensorType::kFloat32, {3, 4}, kFloatWeights);
  const int32_t bias = b.add_constant("dense/bias", TensorType::kFloat32, {3}, kFloatBias);
  const int32_t h = b.add_tensor("dense/out", TensorType::kFloat32, {1, 3}, {}, {-1, 3});
  const int32_t shape =
      b.add_constant("reshape/shape", TensorType::kInt32, {3}, std::vector<int32_t>{-1, 3, 1});
  const int32_t y = b.add_tensor("y", TensorType::kFloat32, {1, 3, 1}, {}, {-1, 3, 1});
  b.add_operator(BuiltinOp::kFullyConnected, {x, w, bias}, {h},
                 FullyConnectedOptions{Activation::kRelu, false, false});
  b.add_operator(BuiltinOp::kReshape, {h, shape}, {y}, ReshapeOptions{{-1, 3, 1}});
  b.set_inputs({x});
  b.set_outputs({y});
  return b.build();
}

// int8 FULLY_CONNECTED with per-tensor weights (docs/QUANTIZATION.md): x[b,in] -> FC -> [b,out],
// optionally followed by a RESHAPE to [b,out,1] that takes its shape from options only.
struct Int8FcParams {
  int in = 4, out = 3;
  float in_scale = 0.05f, w_scale = 0.02f, out_scale = 0.07f;
  int32_t in_zp = -3, out_zp = 5;
  std::vector<int8_t> weights;  // [out, in]
  std::vector<int32_t> bias;    // [out], scale in_scale * w_scale
  lite::Activation activation = lite::Activation::kLinear;
};

inline lite::ModelDef int8_fc_model(const Int8FcParams& p, bool with_reshape = false) {
  using namespace lite;
  ModelBuilder b;
  const int32_t x = b.add_tensor("x", TensorType::kInt8, {1, p.in},
                                 Quantization::per_tensor(p.in_scale, p.in_zp), {-1, p.in});
  const int32_t w = b.add_constant("fc/kernel", TensorType::kInt8, {p.out, p.in}, p.weights,
                                   Quantization::per_tensor(p.w_scale, 0));
  const int32_t bias = b.add_constant("fc/bias", TensorType::kInt32, {p.out}, p.bias,
                                      Quantization::per_tensor(p.in_scale * p.w_scale, 0));
  const int32_t h = b.add_tensor(with_reshape ? "fc/out" : "y", TensorType::kInt8, {1, p.out},
                                 Quantization::per_tensor(p.out_scale, p.out_zp), {-1, p.out});
  // Version 4 is what TFLite's converter records for int8 FULLY_CONNECTED.
  b.add_operator(BuiltinOp::kFullyConnected, {x, w, bias}, {h},
                 FullyConnectedOptions{p.activation, false, false}, 4);
  int32_t y = h;
  if (with_reshape) {
    y = b.add_tensor("y", TensorType::kInt8, {1, p.out, 1},
                     Quantization::per_tensor(p.out_scale, p.out_zp), {-1, p.out, 1});
    b.add_operator(BuiltinOp::kReshape, {h}, {y}, ReshapeOptions{{-1, p.out, 1}});
  }
  b.set_inputs({x});
  b.set_outputs({y});
  return b.build();
}

}  // namespace qlite::test
