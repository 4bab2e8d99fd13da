// UNIDIRECTIONAL_SEQUENCE_LSTM: float32, and int8 with an int16 cell state
// (TensorFlow Lite 2.9's integer LSTM, kernels/reference/lstm_kernels.h).
// Inputs in TFLite's order (lstm_shared.h): 0 input, 1-4 input weights
// (input, forget, cell, output gate), 5-8 recurrent weights, 9-11 peephole
// weights, 12-15 gate biases, 16-17 projection, 18 output state and 19 cell
// state (variable tensors, kept across invokes), 20-23 layer-norm weights.
// Built: with or without CIFG (no input gate), time-major or batch-major.
// Peephole, projection, layer normalization and the hybrid (float input,
// int8 weights) form stop at prepare with a one-line error.
#include <cmath>
#include <cstring>
#include <vector>

#include "kernels/reference/lstm_kernels.h"
#include "runtime/ops/op_util.h"
#include "runtime/ops/ops.h"

namespace qlite::runtime::detail {

namespace {

using T = lite::TensorType;
namespace L = ref::lstm;

constexpr size_t kInput = 0, kOutputState = 18, kCellState = 19;
constexpr size_t kInputWeights = 1, kRecurrentWeights = 5, kPeephole = 9, kBias = 12, kProjection = 16;
constexpr size_t kLayerNorm = 20;

struct LstmState : OpState {
  L::Int8Step q;
  L::FloatStep f;
  std::vector<int32_t> biases[8];  // int8: effective input (0-3) and recurrent (4-7) biases
  bool time_major = false;
  int max_time = 1, n_batch = 1, n_input = 0, n_cell = 0, n_output = 0;
};

template <class Elem, class Fn>
void walk_sequence(const EvalContext& c, const Node& n, Fn&& step_fn) {
  const auto& s = n.state_as<LstmState>();
  const Elem* in = c.input(n, kInput).as<const Elem>();
  Elem* out = c.output(n, 0).as<Elem>();
  const size_t n_input = static_cast<size_t>(s.n_input), n_output = static_cast<size_t>(s.n_output);
  if (s.time_major || s.n_batch == 1) {
    // One step per time index over all the batch rows.
    for (int t = 0; t < s.max_time; ++t) {
      const size_t tt = static_cast<size_t>(t) * static_cast<size_t>(s.n_batch);
      step_fn(s.n_batch, in + tt * n_input, out + tt * n_output, size_t{0});
    }
  } else {
    // Batch-major: each row walks its own sequence, with its own state row.
    for (int b = 0; b < s.n_batch; ++b)
      for (int t = 0; t < s.max_time; ++t) {
        const size_t row = static_cast<size_t>(b) * static_cast<size_t>(s.max_time) + static_cast<size_t>(t);
        step_fn(1, in + row * n_input, out + row * n_output, static_cast<size_t>(b));
      }
  }
}

void eval_int8(const EvalContext& c, const Node& n) {
  const auto& s = n.state_as<LstmState>();
  int8_t* h = c.input(n, kOutputState).as<int8_t>();
  int16_t* cell = c.input(n, kCellState).as<int16_t>();
  auto* scratch = reinterpret_cast<int16_t*>(c.scratch_of(n, 0));
  walk_sequence<int8_t>(c, n, [&](int rows, const int8_t* x, int8_t* y, size_t b) {
    L::Int8Step p = s.q;
    p.n_batch = rows;
    L::int8_step(p, x, h + b * static_cast<size_t>(s.n_output), cell + b * static_cast<size_t>(s.n_cell), y,
                 scratch);
  });
}

void eval_f32(const EvalContext& c, const Node& n) {
  const auto& s = n.state_as<LstmState>();
  float* h = c.input(n, kOutputState).as<float>();
  float* cell = c.input(n, kCellState).as<float>();
  auto* scratch = reinterpret_cast<float*>(c.scratch_of(n, 0));
  walk_sequence<float>(c, n, [&](int rows, const float* x, float* y, size_t b) {
    L::FloatStep p = s.f;
    p.n_batch = rows;
    L::float_step(p, x, h + b * static_cast<size_t>(s.n_output), cell + b * static_cast<size_t>(s.n_cell), y,
                  scratch);
  });
}

const RtTensor* opt(const PrepareContext& ctx, const Node& n, size_t k) { return ctx.optional_input(n, k); }

L::FloatAct float_act(const Node& n, lite::Activation a) {
  switch (a) {
    case lite::Activation::kLinear: return L::FloatAct::kNone;
    case lite::Activation::kRelu: return L::FloatAct::kRelu;
    case lite::Activation::kReluN1To1: return L::FloatAct::kReluN1To1;
    case lite::Activation::kRelu6: return L::FloatAct::kRelu6;
    case lite::Activation::kTanh: return L::FloatAct::kTanh;
    default: break;
  }
  op_fail(n, std::string("fused activation ") + lite::activation_name(a) + " is not supported");
}

// A 2-D weight of the given shape and type.
void check_weight(const Node& n, const RtTensor& w, int64_t rows, int64_t cols, T type, const char* what) {
  op_check(w.constant, n, std::string(what) + " " + describe(w) + " must be constant");
  op_check(w.type == type, n, std::string(what) + " " + describe(w) + " must be " + lite::tensor_type_name(type));
  op_check(w.shape.size() == 2 && w.shape[0] == rows && w.shape[1] == cols, n,
           std::string(what) + " " + describe(w) + " must have shape (" + std::to_string(rows) + ", " +
               std::to_string(cols) + ")");
}

void check_bias(const Node& n, const RtTensor& b, int64_t cells, T type) {
  op_check(b.constant, n, "gate bias " + describe(b) + " must be constant");
  op_check(b.type == type, n, "gate bias " + describe(b) + " must be " + lite::tensor_type_name(type));
  op_check(b.shape.size() == 1 && b.shape[0] == cells, n,
           "gate bias " + describe(b) + " must have shape (" + std::to_string(cells) + ")");
}

// TFLite's CheckedLog2: the exponent when `scale` is a power of two.
bool power_of_two(float scale, int* exponent) {
  const double l = std::log2(static_cast<double>(scale));
  const double r = std::round(l);
  *exponent = static_cast<int>(r);
  return std::isfinite(l) && std::abs(l - r) < 1e-3;
}

}  // namespace

void prepare_lstm(PrepareContext& ctx, Node& n) {
  const auto& o = std::get<lite::UnidirectionalSequenceLstmOptions>(n.def->options);
  auto& s = n.state_as<LstmState>();
  n.separable = false;  // state carries from one sequence step (and invoke) to the next
  const RtTensor& in = ctx.input(n, kInput);
  RtTensor& h = ctx.input(n, kOutputState);
  RtTensor& cell = ctx.input(n, kCellState);
  op_check(h.variable && cell.variable, n,
           "output state " + describe(h) + " and cell state " + describe(cell) + " must be variable tensors");
  op_check(in.shape.size() == 2 || in.shape.size() == 3, n, "input " + describe(in) + " must have rank 2 or 3");
  for (size_t k = kPeephole; k < kPeephole + 3; ++k)
    op_check(opt(ctx, n, k) == nullptr, n, "peephole connections (inputs 9-11) are not supported");
  op_check(opt(ctx, n, kProjection) == nullptr && opt(ctx, n, kProjection + 1) == nullptr, n,
           "projection (inputs 16-17) is not supported");
  for (size_t k = kLayerNorm; k < kLayerNorm + 4; ++k)
    op_check(opt(ctx, n, k) == nullptr, n, "layer normalization (inputs 20-23) is not supported");

  s.time_major = o.time_major;
  if (in.shape.size() == 3) {
    s.max_time = dim_int(n, o.time_major ? in.shape[0] : in.shape[1], "time steps");
    s.n_batch = dim_int(n, o.time_major ? in.shape[1] : in.shape[0], "batch");
  } else {
    s.max_time = 1;
    s.n_batch = dim_int(n, in.shape[0], "batch");
  }
  s.n_input = dim_int(n, in.shape.back(), "input size");
  const RtTensor& w_out = ctx.input(n, kInputWeights + 3);
  const RtTensor& r_out = ctx.input(n, kRecurrentWeights + 3);
  op_check(w_out.shape.size() == 2 && r_out.shape.size() == 2, n, "gate weights must be 2-D");
  s.n_cell = dim_int(n, w_out.shape[0], "cells");
  s.n_output = dim_int(n, r_out.shape[1], "output size");
  op_check(s.n_cell == s.n_output, n, "cells and output size differ, which needs a projection");
  const bool cifg = opt(ctx, n, kInputWeights) == nullptr;
  op_check(cifg == (opt(ctx, n, kRecurrentWeights) == nullptr) && cifg == (opt(ctx, n, kBias) == nullptr), n,
           "the input gate's weights and bias (inputs 1, 5, 12) must be all present or all absent");
  op_check(h.numel() == int64_t{s.n_batch} * s.n_output, n,
           "output state " + describe(h) + " must hold batch x output size = " +
               std::to_string(int64_t{s.n_batch} * s.n_output) + " values");
  op_check(cell.numel() == int64_t{s.n_batch} * s.n_cell, n,
           "cell state " + describe(cell) + " must hold batch x cells = " +
               std::to_string(int64_t{s.n_batch} * s.n_cell) + " values");
  Shape out_shape = in.shape;
  out_shape.back() = s.n_output;
  ctx.set_output_shape(n, 0, out_shape);
  const RtTensor& out = ctx.output(n, 0);
  const size_t gates_bytes = 4 * static_cast<size_t>(s.n_batch) * static_cast<size_t>(s.n_cell);
  n.work = work_of({s.max_time, s.n_batch, 4 * int64_t{s.n_cell}, int64_t{s.n_input} + s.n_output});

  if (in.type == T::kFloat32) {
    op_check(out.type == T::kFloat32 && h.type == T::kFloat32 && cell.type == T::kFloat32, n,
             "a float32 input needs float32 output and states");
    op_check(ctx.input(n, kInputWeights + 1).type == T::kFloat32, n,
             "int8 weights with a float input (the hybrid LSTM) are not supported");
    L::FloatStep& p = s.f;
    p = {};
    p.cifg = cifg;
    p.activation = float_act(n, o.activation);
    p.cell_clip = o.cell_clip;
    p.n_input = s.n_input, p.n_cell = s.n_cell, p.n_output = s.n_output;
    for (int g = cifg ? 1 : 0; g < 4; ++g) {
      const RtTensor& wx = ctx.input(n, kInputWeights + static_cast<size_t>(g));
      const RtTensor& wh = ctx.input(n, kRecurrentWeights + static_cast<size_t>(g));
      const RtTensor& b = ctx.input(n, kBias + static_cast<size_t>(g));
      check_weight(n, wx, s.n_cell, s.n_input, T::kFloat32, "input weights");
      check_weight(n, wh, s.n_cell, s.n_output, T::kFloat32, "recurrent weights");
      check_bias(n, b, s.n_cell, T::kFloat32);
      p.input_weights[g] = wx.as<const float>();
      p.recurrent_weights[g] = wh.as<const float>();
      p.bias[g] = b.as<const float>();
    }
    ctx.request_scratch(n, gates_bytes * sizeof(float));
    n.eval = eval_f32;
    return;
  }
  op_check(in.type == T::kInt8 && out.type == T::kInt8 && h.type == T::kInt8 && cell.type == T::kInt16, n,
           "the quantized LSTM needs int8 input, output and output state and an int16 cell state (got input " +
               describe(in) + ", cell state " + describe(cell) + ")");
  for (const RtTensor* t : {&in, &out, static_cast<const RtTensor*>(&h), static_cast<const RtTensor*>(&cell)}) require_per_tensor(n, *t, "tensor");
  op_check(n.def->intermediates.size() == 5, n,
           "the quantized LSTM needs 5 intermediate tensors (gate and hidden-state scales), got " +
               std::to_string(n.def->intermediates.size()));
  // Intermediates are never executed; only their quantization is read.
  const lite::Quantization& hq =
      ctx.model().subgraphs[0].tensors[static_cast<size_t>(n.def->intermediates[4])].quantization;
  op_check(hq.scale.size() == 1 && hq.zero_point.size() == 1 && std::isfinite(hq.scale[0]) && hq.scale[0] > 0, n,
           "the hidden-state intermediate (intermediate 4) must be quantized per tensor");
  int cell_shift = 0;
  op_check(power_of_two(cell.scale(), &cell_shift) && cell_shift >= -15 && cell_shift <= -9, n,
           "cell state " + describe(cell) + " must have a power-of-two scale from 2^-15 to 2^-9");
  L::Int8Step& p = s.q;
  p = {};
  p.cifg = cifg;
  p.cell_shift = cell_shift;
  p.n_input = s.n_input, p.n_cell = s.n_cell, p.n_output = s.n_output;
  p.cell_clip = o.cell_clip > 0.0f ? static_cast<int16_t>(std::min(std::max(o.cell_clip / cell.scale(), -32768.0f), 32767.0f))
                                    : int16_t{0};
  // TFLite 2.9 (unidirectional_sequence_lstm.cc, PopulateQuantizedLstmParams8x8_16)
  // without layer normalization: every gate in Q3.12, effective scales in float.
  const float gate_scale = static_cast<float>(std::pow(2.0, -12));
  const float input_scale = in.scale(), h_scale = h.scale();
  const int32_t input_zp = in.zero_point(), h_zp = h.zero_point();
  for (int g = cifg ? 1 : 0; g < 4; ++g) {
    const RtTensor& wx = ctx.input(n, kInputWeights + static_cast<size_t>(g));
    const RtTensor& wh = ctx.input(n, kRecurrentWeights + static_cast<size_t>(g));
    const RtTensor& b = ctx.input(n, kBias + static_cast<size_t>(g));
    check_weight(n, wx, s.n_cell, s.n_input, T::kInt8, "input weights");
    check_weight(n, wh, s.n_cell, s.n_output, T::kInt8, "recurrent weights");
    check_bias(n, b, s.n_cell, T::kInt32);
    require_per_tensor(n, wx, "input weights");
    require_per_tensor(n, wh, "recurrent weights");
    const float ex = wx.scale() * input_scale / gate_scale;
    const float eh = wh.scale() * h_scale / gate_scale;
    p.input_scale[g] = ref::quantize_multiplier(static_cast<double>(ex));
    p.recurrent_scale[g] = ref::quantize_multiplier(static_cast<double>(eh));
    // Effective biases: bias + (-zp) * row sum, in int32 as TFLite computes them.
    std::vector<int32_t>& bx = s.biases[g];
    std::vector<int32_t>& bh = s.biases[4 + g];
    bx.assign(b.as<const int32_t>(), b.as<const int32_t>() + s.n_cell);
    bh.assign(static_cast<size_t>(s.n_cell), 0);
    // In int64, stored wrapped to int32 as TFLite's int32 arithmetic leaves
    // it (a hostile file's rows can be long enough to overflow).
    const auto wrap = [](int64_t v) { return static_cast<int32_t>(static_cast<uint32_t>(static_cast<uint64_t>(v))); };
    for (size_t r = 0; r < static_cast<size_t>(s.n_cell); ++r) {
      int64_t sx = 0, sh = 0;
      const int8_t* rx = wx.as<const int8_t>() + r * static_cast<size_t>(s.n_input);
      const int8_t* rh = wh.as<const int8_t>() + r * static_cast<size_t>(s.n_output);
      for (int k = 0; k < s.n_input; ++k) sx += rx[k];
      for (int k = 0; k < s.n_output; ++k) sh += rh[k];
      bx[r] = wrap(int64_t{bx[r]} + wrap(sx) * int64_t{-input_zp});
      bh[r] = wrap(wrap(sh) * int64_t{-h_zp});
    }
    p.input_weights[g] = wx.as<const int8_t>();
    p.recurrent_weights[g] = wh.as<const int8_t>();
    p.input_bias[g] = bx.data();
    p.recurrent_bias[g] = bh.data();
  }
  const float hidden_scale = static_cast<float>(std::pow(2.0, -15) / static_cast<double>(hq.scale[0]) * std::pow(2.0, -15));
  p.hidden_scale = ref::quantize_multiplier(static_cast<double>(hidden_scale));
  p.hidden_zp = static_cast<int32_t>(hq.zero_point[0]);
  ctx.request_scratch(n, gates_bytes * sizeof(int16_t));
  n.eval = eval_int8;
}

}  // namespace qlite::runtime::detail
