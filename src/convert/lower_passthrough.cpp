// Layers whose int8 output keeps the input's scale and zero point
// (docs/QUANTIZATION.md, "Per-op rules"): Reshape/Flatten -> RESHAPE,
// MaxPooling2D / AveragePooling2D -> MAX_POOL_2D / AVERAGE_POOL_2D,
// ZeroPadding2D -> PAD, Dropout -> no op. They run in whatever type their
// input has, so a float layer upstream never forces an extra QUANTIZE here.
// Also the activation ops (LOGISTIC, TANH, SOFTMAX with TFLite's fixed int8
// output parameters, HARD_SWISH) and CONCATENATION.
#include "convert/lowering.h"

namespace qlite::convert::detail {

using lite::TensorType;

Value lower_reshape(Lowering& L, const Layer& layer, const Value& in, const NodePlan& plan) {
  const std::string& name = layer.name();
  const Shape out_shape = layer.output_shape();
  check(shape_numel(out_shape) == shape_numel(in.shape),
        "convert: " + layer.type() + " layer '" + name + "' changes the element count");
  // The new shape, with -1 for the batch, lives in the options only: TFLite,
  // Arm NN and qlite all take it from there when the op has one input, and a
  // shape tensor would cost a tensor, a buffer and a name in every file.
  const std::vector<int32_t> new_shape = batched(out_shape, -1);
  Value y = L.make_value(name, in.type, out_shape, in.is_int8() ? &in.quant : nullptr);
  L.add_op(lite::BuiltinOp::kReshape, {in.tensor}, {y.tensor}, lite::ReshapeOptions{new_shape}, 1,
           name, in.is_int8());
  return y;
}

Value lower_pool2d(Lowering& L, const Layer& layer, const OpSpec& spec, const Value& in, const NodePlan& plan) {
  const std::string& name = layer.name();
  check(in.shape.size() == 3, "convert: " + layer.type() + " layer '" + name + "' needs a [H, W, C] input, got " +
                                  shape_str(in.shape));
  lite::Pool2DOptions opts;
  opts.padding = spec.padding;
  opts.filter_h = spec.kernel[0];
  opts.filter_w = spec.kernel[1];
  opts.stride_h = spec.strides[0];
  opts.stride_w = spec.strides[1];
  const lite::BuiltinOp op =
      spec.op == OpKind::kAveragePool2D ? lite::BuiltinOp::kAveragePool2D : lite::BuiltinOp::kMaxPool2D;
  Value y = L.make_value(name, in.type, layer.output_shape(), in.is_int8() ? &in.quant : nullptr);
  L.add_op(op, {in.tensor}, {y.tensor}, opts, in.is_int8() ? 2 : 1, name, in.is_int8());
  return y;
}

// PAD with paddings [[0, 0], [top, bottom], [left, right], [0, 0]] (an int32
// constant, as TFLite's converter writes ZeroPadding2D); int8 pads with the
// zero point, i.e. real 0, and keeps the input's quantization.
Value lower_pad(Lowering& L, const Layer& layer, const OpSpec& spec, const Value& in, const NodePlan& plan) {
  const std::string& name = layer.name();
  check(in.shape.size() == 3, "convert: " + layer.type() + " layer '" + name + "' needs a [H, W, C] input, got " +
                                  shape_str(in.shape));
  const int32_t pads = L.builder().add_constant(
      name + "/paddings", TensorType::kInt32, {4, 2},
      std::vector<int32_t>{0, 0, spec.pads[0][0], spec.pads[0][1], spec.pads[1][0], spec.pads[1][1], 0, 0});
  Value y = L.make_value(name, in.type, layer.output_shape(), in.is_int8() ? &in.quant : nullptr);
  // Version 2: int8 (op_version.cc).
  L.add_op(lite::BuiltinOp::kPad, {in.tensor, pads}, {y.tensor}, lite::PadOptions{}, in.is_int8() ? 2 : 1, name,
           in.is_int8());
  return y;
}

// No op: the layer's output is its input's tensor (Dropout, Activation
// "linear"), seen with the layer's shape.
Value lower_identity(const Layer& layer, const Value& in) {
  Value y = in;
  y.shape = layer.output_shape();
  return y;
}

std::optional<ActQuant> fixed_output_quant(OpKind op) {
  switch (op) {
    case OpKind::kLogistic:
    case OpKind::kSoftmax: return kSoftmaxQuant;
    case OpKind::kTanh: return kTanhQuant;
    default: return std::nullopt;
  }
}

// LOGISTIC, TANH, SOFTMAX (beta 1, last axis), HARD_SWISH and RELU / RELU6.
// In int8, LOGISTIC and SOFTMAX write TFLite's fixed 1/256, -128, TANH
// 1/128, 0; HARD_SWISH and the RELUs their own parameters (plan.out), which
// TFLite's kernels requantize to.
Value lower_activation(Lowering& L, const Layer& layer, const OpSpec& spec, const Value& in, const NodePlan& plan) {
  const std::string& name = layer.name();
  lite::BuiltinOp op = lite::BuiltinOp::kSoftmax;
  lite::OpOptions opts;
  int32_t int8_version = 2;
  switch (spec.op) {
    case OpKind::kLogistic: op = lite::BuiltinOp::kLogistic; break;
    case OpKind::kTanh: op = lite::BuiltinOp::kTanh; break;
    case OpKind::kSoftmax: opts = lite::SoftmaxOptions{1.0f}; break;
    case OpKind::kHardSwish:
      op = lite::BuiltinOp::kHardSwish;
      int8_version = 1;
      break;
    case OpKind::kRelu:  // version 2: int8 (op_version.cc)
      check(spec.activation == Activation::kRelu || spec.activation == Activation::kRelu6,
            "convert: layer '" + name + "' is a clamp TFLite has no op for");
      op = spec.activation == Activation::kRelu6 ? lite::BuiltinOp::kRelu6 : lite::BuiltinOp::kRelu;
      break;
    default: throw Error("convert: layer '" + name + "' is no activation op");
  }
  if (plan.kind == Kind::kInt8) {
    const Value x = in.is_int8() ? in : L.to_int8(in, plan.in.value(), name);
    const ActQuant q = fixed_output_quant(spec.op).value_or(plan.out);
    Value y = L.make_value(name, TensorType::kInt8, layer.output_shape(), &q);
    L.add_op(op, {x.tensor}, {y.tensor}, opts, int8_version, name, true);
    return y;
  }
  const Value x = L.to_float(in, name);
  Value y = L.make_value(name, TensorType::kFloat32, layer.output_shape());
  L.add_op(op, {x.tensor}, {y.tensor}, opts, 1, name, false);
  return y;
}

// CONCATENATION along the sample axis + 1. int8: every input at the output's
// parameters (TFLite 2.9 requires it), an input that is not requantized by a
// QUANTIZE (int8 -> int8; from float in a calibrated model).
Value lower_concatenation(Lowering& L, const Layer& layer, const OpSpec& spec, std::span<const Value> in,
                          const NodePlan& plan) {
  const std::string& name = layer.name();
  check(in.size() >= 2 && spec.axis >= 0 && static_cast<size_t>(spec.axis) < in[0].shape.size(),
        "convert: Concatenate layer '" + name + "' needs two or more inputs and an axis inside them");
  const lite::ConcatenationOptions opts{spec.axis + 1, Activation::kLinear};
  std::vector<int32_t> xs;
  if (plan.kind == Kind::kInt8) {
    for (const Value& v : in) xs.push_back(L.to_int8(v, plan.out, name).tensor);
    Value y = L.make_value(name, TensorType::kInt8, layer.output_shape(), &plan.out);
    // Version 2: int8 (op_version.cc).
    L.add_op(lite::BuiltinOp::kConcatenation, xs, {y.tensor}, opts, 2, name, true);
    return y;
  }
  for (const Value& v : in) xs.push_back(L.to_float(v, name).tensor);
  Value y = L.make_value(name, TensorType::kFloat32, layer.output_shape());
  L.add_op(lite::BuiltinOp::kConcatenation, xs, {y.tensor}, opts, 1, name, false);
  return y;
}

}  // namespace qlite::convert::detail
