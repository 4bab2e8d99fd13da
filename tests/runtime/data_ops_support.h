// Shared pieces of the data-movement op tests (tflite_data_ops_test.cpp,
// tflite_data_ops2_test.cpp): random values of each type, and a tiny builder
// of one-op models with graph inputs, constants and several outputs.
#pragma once

#include <cstring>
#include <string>
#include <vector>

#include "multi_io_peer.h"
#include "single_op_peer.h"

namespace qlite::test::data_ops {

using T = lite::TensorType;
using lite::BuiltinOp;
using lite::ModelBuilder;
using lite::Quantization;

inline int64_t numel(const std::vector<int32_t>& s) {
  int64_t n = 1;
  for (int32_t d : s) n *= d;
  return n;
}

inline std::string dims(const std::vector<int32_t>& s) {
  std::string r = "(";
  for (size_t i = 0; i < s.size(); ++i) r += (i ? ", " : "") + std::to_string(s[i]);
  return r + ")";
}

// Random contents: floats in [-1000, 1000], any bit pattern for integers, 0/1 for bool.
inline std::vector<uint8_t> random_bytes(Rng& rng, T t, int64_t n) {
  return random_tensor_bytes(rng, t, static_cast<size_t>(n), 1000.0f);
}

inline Quantization quant_of(T t) {
  if (t == T::kInt8) return Quantization::per_tensor(0.05f, -3);
  if (t == T::kUInt8) return Quantization::per_tensor(0.05f, 130);
  if (t == T::kInt16) return Quantization::per_tensor(0.001f, 0);
  return {};
}

// Integer index values as the bytes of an INT16 / INT32 / INT64 tensor.
inline std::vector<uint8_t> int_bytes(T t, const std::vector<int64_t>& v) {
  std::vector<uint8_t> b(v.size() * lite::tensor_type_size(t));
  for (size_t i = 0; i < v.size(); ++i) {
    if (t == T::kInt64) std::memcpy(b.data() + 8 * i, &v[i], 8);
    else if (t == T::kInt32) {
      const auto x = static_cast<int32_t>(v[i]);
      std::memcpy(b.data() + 4 * i, &x, 4);
    } else {
      const auto x = static_cast<int16_t>(v[i]);
      std::memcpy(b.data() + 2 * i, &x, 2);
    }
  }
  return b;
}

// A one-op model: inputs added in order, each a graph input (with bytes fed
// at run time) or a constant.
struct OneOp {
  ModelBuilder b;
  std::vector<int32_t> op_inputs, graph_inputs, outputs;
  std::vector<std::vector<int32_t>> in_shapes;
  std::vector<std::vector<uint8_t>> in_bytes;
  std::vector<bool> float_outputs;

  void input(T t, const std::vector<int32_t>& shape, std::vector<uint8_t> bytes, const Quantization& q = {}) {
    const int32_t id = b.add_tensor("in" + std::to_string(op_inputs.size()), t, shape, q);
    op_inputs.push_back(id);
    graph_inputs.push_back(id);
    in_shapes.push_back(shape);
    in_bytes.push_back(std::move(bytes));
  }
  void constant(T t, const std::vector<int32_t>& shape, const std::vector<uint8_t>& bytes, const Quantization& q = {}) {
    op_inputs.push_back(b.add_constant("c" + std::to_string(op_inputs.size()), t, shape, bytes, q));
  }
  void output(T t, const std::vector<int32_t>& shape, const Quantization& q = {}) {
    outputs.push_back(b.add_tensor("out" + std::to_string(outputs.size()), t, shape, q));
    float_outputs.push_back(t == T::kFloat32);
  }
  std::vector<uint8_t> finish(BuiltinOp op, lite::OpOptions options = {}) {
    // TFLite 2.9 registers BROADCAST_TO from version 2 (its version 1 was a
    // custom op).
    b.add_operator(op, op_inputs, outputs, std::move(options), op == BuiltinOp::kBroadcastTo ? 2 : 1);
    b.set_inputs(graph_inputs);
    b.set_outputs(outputs);
    return b.finish();
  }
};

// Runs a one-op model in both; returns the output bytes compared.
inline size_t same(const TfLitePeer& peer, OneOp& m, BuiltinOp op, lite::OpOptions options, const std::string& what) {
  const std::vector<uint8_t> model = m.finish(op, std::move(options));
  return expect_same_outputs(peer, model, m.in_shapes, m.in_bytes, m.float_outputs, what);
}

inline void both_refuse(const TfLitePeer& peer, OneOp& m, BuiltinOp op, lite::OpOptions options, const std::string& part) {
  const std::vector<uint8_t> model = m.finish(op, std::move(options));
  expect_both_refuse_multi(peer, model, m.in_shapes, m.in_bytes, part);
}

}  // namespace qlite::test::data_ops
