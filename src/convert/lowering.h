// Internal: the state shared by the per-layer lowerings of the converter.
#pragma once

#include <array>
#include <map>
#include <span>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "qlite/convert.h"
#include "qlite/lite.h"
#include "qlite/train.h"

namespace qlite::convert::detail {

// Per-tensor affine parameters of an int8 activation.
struct ActQuant {
  float scale = 1.0f;
  int32_t zero_point = 0;
};

// A value flowing between lowered layers: one graph tensor.
struct Value {
  int32_t tensor = -1;
  lite::TensorType type = lite::TensorType::kFloat32;  // kFloat32 or kInt8
  // Per sample (no batch). Equals the tensor's shape, except after a Flatten
  // folded into its Dense reader: then the flat shape over the unflattened tensor.
  Shape shape;
  ActQuant quant;                                       // meaningful when kInt8
  bool is_int8() const { return type == lite::TensorType::kInt8; }
};

// Integer weights of a conv, depthwise or dense layer, in TFLite's layout
// (conv OHWI, depthwise 1HWC, dense [out, in]) with one scale per output
// channel (conv, depthwise) or one (dense).
struct IntWeights {
  std::vector<int8_t> q;
  std::vector<float> scales;
};

// How a layer is to be computed in the converted graph.
enum class Kind { kFloat, kFloat16Weights, kHybrid, kInt8 };

// What the mode-specific pass decided for one node.
struct NodePlan {
  Kind kind = Kind::kFloat;
  // kInt8: the output's parameters (pass-through layers: the input's).
  ActQuant out;
  // kInt8 with a float input (the previous layer was left float): the
  // parameters of the QUANTIZE inserted in front.
  std::optional<ActQuant> in;
  // kInt8 from a QAT layer with several inputs (ADD): each input's own
  // parameters, in place of `in`.
  std::vector<ActQuant> ins;
  // kInt8 from a QAT layer: the exact integers it evaluates with. When unset,
  // the lowering quantizes the float weights itself (PTQ).
  std::optional<IntWeights> weights;
  std::optional<std::vector<int32_t>> bias;
  // A node that only (re)quantizes its input to `out` (QAT input quantizer).
  bool identity = false;
  // kHybrid: which kernels are large enough to quantize.
  bool quantize_kernel = true;
};

class Lowering {
 public:
  explicit Lowering(const ConvertOptions& options) : options_(options), b_(options.producer) {}

  const ConvertOptions& options() const { return options_; }
  lite::ModelBuilder& builder() { return b_; }

  // An activation tensor with batch 1 in its shape and -1 in its signature.
  int32_t add_activation(const std::string& name, lite::TensorType type, const Shape& per_sample,
                         const ActQuant* quant = nullptr);
  Value make_value(const std::string& name, lite::TensorType type, const Shape& per_sample,
                   const ActQuant* quant = nullptr);
  // Adds an operator and records its summary. integer: computes on integers.
  void add_op(lite::BuiltinOp op, std::vector<int32_t> inputs, std::vector<int32_t> outputs,
              lite::OpOptions options, int32_t version, const std::string& layer, bool integer,
              bool io_boundary = false);

  // Float view of v (DEQUANTIZE when v is int8).
  Value to_float(const Value& v, const std::string& layer);
  // int8 view of v with parameters q (QUANTIZE from float, or a requantizing
  // QUANTIZE int8 -> int8 when the parameters differ).
  Value to_int8(const Value& v, const ActQuant& q, const std::string& layer);

  // A constant tensor. A shared layer is lowered once per call: a constant
  // with the name and bytes of one added before (its kernel) reads that
  // constant's buffer, so the file holds the weights once.
  template <class T>
  int32_t constant(const std::string& name, lite::TensorType type, std::vector<int32_t> shape,
                   const std::vector<T>& values, lite::Quantization quantization = {}) {
    return constant_bytes(name, type, std::move(shape),
                          {reinterpret_cast<const uint8_t*>(values.data()), values.size() * sizeof(T)},
                          std::move(quantization));
  }
  int32_t constant_bytes(const std::string& name, lite::TensorType type, std::vector<int32_t> shape,
                         std::span<const uint8_t> bytes, lite::Quantization quantization);

  // A constant float32 tensor, or float16 + DEQUANTIZE in Kind::kFloat16Weights.
  int32_t float_constant(const std::string& name, const std::vector<int32_t>& shape,
                         const std::vector<float>& values, bool as_float16, const std::string& layer);

  const std::vector<OpSummary>& ops() const { return ops_; }

 private:
  // A graph tensor's name and its shape without the batch dimension.
  std::pair<std::string, Shape> tensor_name_and_sample_shape(int32_t tensor);
  const ConvertOptions& options_;
  lite::ModelBuilder b_;
  std::vector<OpSummary> ops_;
  std::map<std::string, std::vector<uint32_t>> buffers_by_name_;  // constant() buffers, by tensor name
};

std::vector<int32_t> to_i32_shape(const Shape& s, const std::string& what);
std::vector<int32_t> batched(const Shape& per_sample, int32_t batch);

// ---- reading training layers -------------------------------------------------------
// The param with this name; nullptr when absent (e.g. no bias).
const Param* find_param(const Layer& layer, const std::string& name);
std::vector<float> param_values(const Param& p);

// ---- weight quantization (PTQ) --------------------------------------------------
// Symmetric narrow-range int8 of w (in `layout`'s TFLite order), per channel
// along layout.channel_axis or per tensor.
IntWeights quantize_weights(const std::vector<float>& w, const WeightLayout& layout, bool per_channel);
// int32 bias and its scales: quant::quantize_bias / quant::bias_scales, the
// one definition QAT's integer evaluation uses too.

// ---- per-op lowerings: each returns the layer's output value -------------------
// The layer's record when the converter can lower it (its op is not kNone);
// Error naming the layer and the classes that lower otherwise.
const LayerKind& lowerable_kind(const Layer& layer);
// The layer's record has a weight in TFLite's layout (conv and dense kernels):
// what float16 and dynamic-range modes store differently.
bool has_kernel(const Layer& layer);
// ... and its op has a dynamic-range (hybrid) form qlite writes: CONV_2D and
// FULLY_CONNECTED. DEPTHWISE_CONV_2D stays float in dynamic-range mode.
bool has_hybrid_form(const Layer& layer);
// Lowers one layer as its record's op, reading `in` (one value per input).
// Every op kind is lowered here and only here, whatever layer it comes from.
Value lower_op(Lowering& L, const Layer& layer, const OpSpec& spec, std::span<const Value> in, const NodePlan& plan);

// What CONV_2D, DEPTHWISE_CONV_2D and FULLY_CONNECTED hand to lower_weighted().
struct WeightedOp {
  const char* units;  // what the output channels are called in messages: "filters", "units"
  bool per_channel = false;  // PTQ integer weights with one scale per output channel
  lite::BuiltinOp op;
  lite::OpOptions options;
  int32_t int8_version = 1;
  int32_t hybrid_version = 1;
};
// Reads the layer's kernel (in TFLite's layout, from its record) and bias
// (zeros without one: TFLite's converter always gives these ops a bias) and
// emits kernel, bias and op in plan.kind.
Value lower_weighted(Lowering& L, const Layer& layer, const Value& in, const NodePlan& plan, WeightedOp w);
// MAX_POOL_2D / AVERAGE_POOL_2D (spec.op).
Value lower_pool2d(Lowering& L, const Layer& layer, const OpSpec& spec, const Value& in, const NodePlan& plan);
// Reshape and Flatten: RESHAPE to the layer's output shape with a -1 batch.
Value lower_reshape(Lowering& L, const Layer& layer, const Value& in, const NodePlan& plan);
Value lower_pad(Lowering& L, const Layer& layer, const OpSpec& spec, const Value& in, const NodePlan& plan);
Value lower_identity(const Layer& layer, const Value& in);
// LOGISTIC / TANH / SOFTMAX / HARD_SWISH (spec.op).
Value lower_activation(Lowering& L, const Layer& layer, const OpSpec& spec, const Value& in, const NodePlan& plan);
Value lower_concatenation(Lowering& L, const Layer& layer, const OpSpec& spec, std::span<const Value> in,
                          const NodePlan& plan);

// ---- calibration ---------------------------------------------------------------------
// Runs the float model layer by layer on rows [0, count) of x and returns the
// [min, max] of every node's output (node 0: the input), NaN/Inf skipped.
struct NodeRange {
  float min = 0.0f, max = 0.0f;
};
std::vector<NodeRange> calibrate(const Model& model, const Tensor& x, int64_t count);

ActQuant act_quant_from_range(float min, float max);

// Output parameters TFLite 2.9 requires of int8 SOFTMAX and LOGISTIC (1/256,
// -128) and of TANH (1/128, 0).
inline constexpr ActQuant kSoftmaxQuant{1.0f / 256.0f, -128};
inline constexpr ActQuant kTanhQuant{1.0f / 128.0f, 0};
// The fixed int8 output parameters of an op, nullopt when TFLite fixes none.
std::optional<ActQuant> fixed_output_quant(OpKind op);

}  // namespace qlite::convert::detail
