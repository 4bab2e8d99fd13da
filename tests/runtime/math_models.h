// A model chaining the elementwise math, comparison, select and reduction
// ops (int8 MUL with a broadcast constant, SUB, MAXIMUM, LEAKY_RELU, SUM,
// GREATER -> BOOL, SELECT_V2, PRELU, REDUCE_MAX), for the hostile-file tests
// and the interpreter fuzz target's seeds.
#pragma once

#include <vector>

#include "qlite/lite.h"

namespace qlite::test::math_models {

// Tensor indices: x 0, c 1, m 2, s 3, mx 4, lr 5, axes 6, sum 7, cmp 8, sel 9, pr 10, rm 11.
//   m = MUL(x int8 [1, 4, 4, 3], c [3]);  s = SUB(m, x);  mx = MAXIMUM(s, x)
//   lr = LEAKY_RELU(mx);  sum = SUM(lr, axes [1, -2], keep_dims)  ([1, 1, 1, 3])
//   cmp = GREATER(lr, x) (BOOL);  sel = SELECT_V2(cmp, lr, x);  pr = PRELU(sel, c)
//   rm = REDUCE_MAX(pr, axes); outputs sum and rm.
inline lite::ModelDef math_chain() {
  lite::ModelBuilder b;
  const auto q = lite::Quantization::per_tensor(0.05f, -3);
  const auto q2 = lite::Quantization::per_tensor(0.1f, 5);
  const int32_t x = b.add_tensor("x", lite::TensorType::kInt8, {1, 4, 4, 3}, q);
  const int32_t c = b.add_constant("c", lite::TensorType::kInt8, {3}, std::vector<int8_t>{20, -7, 90}, lite::Quantization::per_tensor(0.02f, 1));
  const int32_t m = b.add_tensor("m", lite::TensorType::kInt8, {1, 4, 4, 3}, q2);
  const int32_t s = b.add_tensor("s", lite::TensorType::kInt8, {1, 4, 4, 3}, q2);
  const int32_t mx = b.add_tensor("mx", lite::TensorType::kInt8, {1, 4, 4, 3}, q2);
  const int32_t lr = b.add_tensor("lr", lite::TensorType::kInt8, {1, 4, 4, 3}, q);
  const int32_t axes = b.add_constant("axes", lite::TensorType::kInt32, {2}, std::vector<int32_t>{1, -2});
  const int32_t sum = b.add_tensor("sum", lite::TensorType::kInt8, {1, 1, 1, 3}, q2);
  const int32_t cmp = b.add_tensor("cmp", lite::TensorType::kBool, {1, 4, 4, 3});
  const int32_t sel = b.add_tensor("sel", lite::TensorType::kInt8, {1, 4, 4, 3}, q);
  const int32_t pr = b.add_tensor("pr", lite::TensorType::kInt8, {1, 4, 4, 3}, q);
  const int32_t rm = b.add_tensor("rm", lite::TensorType::kInt8, {1, 1, 1, 3}, q);
  b.add_operator(lite::BuiltinOp::kMul, {x, c}, {m}, lite::MulOptions{lite::Activation::kRelu});
  b.add_operator(lite::BuiltinOp::kSub, {m, x}, {s}, lite::SubOptions{});
  b.add_operator(lite::BuiltinOp::kMaximum, {s, x}, {mx}, lite::MaximumMinimumOptions{});
  b.add_operator(lite::BuiltinOp::kLeakyRelu, {mx}, {lr}, lite::LeakyReluOptions{0.2f});
  b.add_operator(lite::BuiltinOp::kSum, {lr, axes}, {sum}, lite::ReducerOptions{true});
  b.add_operator(lite::BuiltinOp::kGreater, {lr, x}, {cmp}, lite::GreaterOptions{});
  b.add_operator(lite::BuiltinOp::kSelectV2, {cmp, lr, x}, {sel}, lite::SelectV2Options{});
  b.add_operator(lite::BuiltinOp::kPrelu, {sel, c}, {pr});
  b.add_operator(lite::BuiltinOp::kReduceMax, {pr, axes}, {rm}, lite::ReducerOptions{true});
  b.set_inputs({x});
  b.set_outputs({sum, rm});
  return b.build();
}

// float32 and int32: x [2, 3, 4] -> DIV(x, c [4]) -> FLOOR_MOD(., c) -> EXP
// -> LOG_SOFTMAX -> CUMSUM(axis 1, reverse) -> REDUCE_PROD(axes [-1]) and,
// from an int32 input, FLOOR_DIV -> SQUARED_DIFFERENCE -> EQUAL -> LOGICAL_NOT.
inline lite::ModelDef float_int_chain() {
  using lite::TensorType;
  lite::ModelBuilder b;
  const int32_t x = b.add_tensor("x", TensorType::kFloat32, {2, 3, 4});
  const int32_t c = b.add_constant("c", TensorType::kFloat32, {4}, std::vector<float>{0.5f, -2.0f, 3.0f, 1.5f});
  const int32_t d = b.add_tensor("d", TensorType::kFloat32, {2, 3, 4});
  const int32_t fm = b.add_tensor("fm", TensorType::kFloat32, {2, 3, 4});
  const int32_t e = b.add_tensor("e", TensorType::kFloat32, {2, 3, 4});
  const int32_t ls = b.add_tensor("ls", TensorType::kFloat32, {2, 3, 4});
  const int32_t axis = b.add_constant("axis", TensorType::kInt32, {}, std::vector<int32_t>{1});
  const int32_t cs = b.add_tensor("cs", TensorType::kFloat32, {2, 3, 4});
  const int32_t axes = b.add_constant("axes", TensorType::kInt32, {1}, std::vector<int32_t>{-1});
  const int32_t p = b.add_tensor("p", TensorType::kFloat32, {2, 3});
  const int32_t xi = b.add_tensor("xi", TensorType::kInt32, {2, 3, 4});
  const int32_t ci = b.add_constant("ci", TensorType::kInt32, {3, 1}, std::vector<int32_t>{3, -2, 7});
  const int32_t fd = b.add_tensor("fd", TensorType::kInt32, {2, 3, 4});
  const int32_t sd = b.add_tensor("sd", TensorType::kInt32, {2, 3, 4});
  const int32_t eq = b.add_tensor("eq", TensorType::kBool, {2, 3, 4});
  const int32_t nt = b.add_tensor("nt", TensorType::kBool, {2, 3, 4});
  b.add_operator(lite::BuiltinOp::kDiv, {x, c}, {d}, lite::DivOptions{lite::Activation::kRelu6});
  b.add_operator(lite::BuiltinOp::kFloorMod, {d, c}, {fm}, lite::FloorModOptions{});
  b.add_operator(lite::BuiltinOp::kExp, {fm}, {e}, lite::ExpOptions{});
  b.add_operator(lite::BuiltinOp::kLogSoftmax, {e}, {ls}, lite::LogSoftmaxOptions{});
  b.add_operator(lite::BuiltinOp::kCumsum, {ls, axis}, {cs}, lite::CumsumOptions{false, true});
  b.add_operator(lite::BuiltinOp::kReduceProd, {cs, axes}, {p}, lite::ReducerOptions{false});
  b.add_operator(lite::BuiltinOp::kFloorDiv, {xi, ci}, {fd}, lite::FloorDivOptions{});
  b.add_operator(lite::BuiltinOp::kSquaredDifference, {fd, xi}, {sd}, lite::SquaredDifferenceOptions{});
  b.add_operator(lite::BuiltinOp::kEqual, {sd, xi}, {eq}, lite::EqualOptions{});
  b.add_operator(lite::BuiltinOp::kLogicalNot, {eq}, {nt}, lite::LogicalNotOptions{});
  b.set_inputs({x, xi});
  b.set_outputs({p, nt});
  return b.build();
}

}  // namespace qlite::test::math_models
