// The converter's one lowering per op kind (OpKind of the layer records):
// CONV_2D, DEPTHWISE_CONV_2D and FULLY_CONNECTED from the record's weight
// layout and OpSpec, the
// rest in lower_passthrough.cpp. A new layer that lowers to an existing op
// needs nothing here; a new op is one case of lower_op.
#include <algorithm>

#include "convert/lowering.h"

namespace qlite::convert::detail {

namespace {

std::string lowerable_names() {
  std::string s;
  for (const std::string& name : layer_kind_names()) {
    const LayerKind* k = find_layer_kind(name);
    if (k != nullptr && k->op_spec != nullptr) s += (s.empty() ? "" : ", ") + name;
  }
  return s;
}

const Value& single(const Layer& layer, std::span<const Value> in) {
  check(in.size() == 1, "convert: layer '" + layer.name() + "' of type " + layer.type() + " reads " +
                            std::to_string(in.size()) + " inputs; its op takes one");
  return in[0];
}

Value lower_conv2d(Lowering& L, const Layer& layer, const OpSpec& spec, const Value& in, const NodePlan& plan) {
  check(in.shape.size() == 3, "convert: Conv2D layer '" + layer.name() + "' needs a [H, W, C] input, got " +
                                  shape_str(in.shape));
  lite::Conv2DOptions opts;
  opts.padding = spec.padding;
  opts.stride_h = spec.strides[0];
  opts.stride_w = spec.strides[1];
  opts.activation = spec.activation;
  const int64_t cout = layer.output_shape().back();
  // Per-channel weights; hybrid version 5 per channel, 2 per tensor (op_version.cc).
  return lower_weighted(L, layer, in, plan,
                        {.units = "filters",
                         .per_channel = true,
                         .op = lite::BuiltinOp::kConv2D,
                         .options = opts,
                         .int8_version = 3,
                         .hybrid_version = cout > 1 ? 5 : 2});
}

// DEPTHWISE_CONV_2D: weights 1HWC [1, kh, kw, in * multiplier] per channel
// along dimension 3 (the record's layout), as TFLite 2.9's converter writes
// it; int8 version 3, float version 1 (dilation 1, op_version.cc). Dynamic
// range keeps it float (plan_float_model: qlite has no hybrid depthwise).
Value lower_depthwise_conv2d(Lowering& L, const Layer& layer, const OpSpec& spec, const Value& in,
                             const NodePlan& plan) {
  check(in.shape.size() == 3, "convert: DepthwiseConv2D layer '" + layer.name() + "' needs a [H, W, C] input, got " +
                                  shape_str(in.shape));
  check(plan.kind != Kind::kHybrid, "convert: DepthwiseConv2D layer '" + layer.name() + "' has no hybrid form");
  lite::DepthwiseConv2DOptions opts;
  opts.padding = spec.padding;
  opts.stride_h = spec.strides[0];
  opts.stride_w = spec.strides[1];
  opts.depth_multiplier = spec.depth_multiplier;
  opts.activation = spec.activation;
  return lower_weighted(L, layer, in, plan,
                        {.units = "channels",
                         .per_channel = true,
                         .op = lite::BuiltinOp::kDepthwiseConv2D,
                         .options = opts,
                         .int8_version = 3});
}

// Integer weights are per tensor: TFLite 2.9 mis-computes per-channel
// FULLY_CONNECTED and Arm NN aborts on it (docs/QUANTIZATION.md).
Value lower_fully_connected(Lowering& L, const Layer& layer, const OpSpec& spec, const Value& in,
                            const NodePlan& plan) {
  check(in.shape.size() == 1, "convert: Dense layer '" + layer.name() +
                                  "' needs a flat per-sample input (add a Flatten), got " + shape_str(in.shape));
  lite::FullyConnectedOptions opts;
  opts.activation = spec.activation;
  // Hybrid version 3: symmetric input quantization (op_version.cc).
  return lower_weighted(L, layer, in, plan,
                        {.units = "units",
                         .per_channel = false,
                         .op = lite::BuiltinOp::kFullyConnected,
                         .options = opts,
                         .int8_version = 4,
                         .hybrid_version = 3});
}

// ADD of two same-shaped inputs: int8 when the plan is (each input with its
// own scale, as TFLite's ADD takes them; a float input is quantized with the
// output's parameters, as calibration ranges it), float otherwise.
Value lower_add(Lowering& L, const Layer& layer, const OpSpec& spec, std::span<const Value> in, const NodePlan& plan) {
  check(in.size() == 2 && in[0].shape == in[1].shape,
        "convert: Add layer '" + layer.name() + "' needs two inputs of the same shape");
  const std::string& name = layer.name();
  lite::AddOptions opts;
  opts.activation = spec.activation;
  if (plan.kind == Kind::kInt8) {
    const Value a = in[0].is_int8() ? in[0] : L.to_int8(in[0], plan.out, name);
    const Value b = in[1].is_int8() ? in[1] : L.to_int8(in[1], plan.out, name);
    Value y = L.make_value(name, lite::TensorType::kInt8, layer.output_shape(), &plan.out);
    // Version 2: int8 (op_version.cc).
    L.add_op(lite::BuiltinOp::kAdd, {a.tensor, b.tensor}, {y.tensor}, opts, 2, name, true);
    return y;
  }
  const Value a = L.to_float(in[0], name), b = L.to_float(in[1], name);
  Value y = L.make_value(name, lite::TensorType::kFloat32, layer.output_shape());
  L.add_op(lite::BuiltinOp::kAdd, {a.tensor, b.tensor}, {y.tensor}, opts, 1, name, false);
  return y;
}

// MEAN over axes {1, 2} (an int32 constant, as TFLite's converter writes
// global average pooling), int8 with its own output parameters or float.
Value lower_mean(Lowering& L, const Layer& layer, const OpSpec& spec, const Value& in, const NodePlan& plan) {
  check(in.shape.size() == 3, "convert: layer '" + layer.name() + "' needs a [H, W, C] input, got " +
                                  shape_str(in.shape));
  const std::string& name = layer.name();
  const int32_t axes = L.builder().add_constant(name + "/axes", lite::TensorType::kInt32, {2},
                                                std::vector<int32_t>{1, 2});
  const lite::ReducerOptions opts{spec.keep_dims};
  if (plan.kind == Kind::kInt8) {
    const Value x = in.is_int8() ? in : L.to_int8(in, plan.in.value(), name);
    Value y = L.make_value(name, lite::TensorType::kInt8, layer.output_shape(), &plan.out);
    // Version 2: int8 (op_version.cc).
    L.add_op(lite::BuiltinOp::kMean, {x.tensor, axes}, {y.tensor}, opts, 2, name, true);
    return y;
  }
  const Value x = L.to_float(in, name);
  Value y = L.make_value(name, lite::TensorType::kFloat32, layer.output_shape());
  L.add_op(lite::BuiltinOp::kMean, {x.tensor, axes}, {y.tensor}, opts, 1, name, false);
  return y;
}

}  // namespace

const LayerKind& lowerable_kind(const Layer& layer) {
  const LayerKind* k = find_layer_kind(layer.type());
  check(k != nullptr && lowered_op(layer) != OpKind::kNone,
        "convert: layer '" + layer.name() + "' of type " + layer.type() +
            (k != nullptr && k->op_spec != nullptr ? " (" + layer.get_config().dump() + ")" : std::string()) +
            " has no TFLite lowering (supported: InputLayer, " + lowerable_names() + ")");
  return *k;
}

bool has_kernel(const Layer& layer) {
  const LayerKind* k = find_layer_kind(layer.type());
  return k != nullptr && k->tflite_weight_layout != nullptr;
}

bool has_hybrid_form(const Layer& layer) {
  const LayerKind* k = find_layer_kind(layer.type());
  return has_kernel(layer) && (k->op == OpKind::kConv2D || k->op == OpKind::kFullyConnected);
}

Value lower_op(Lowering& L, const Layer& layer, const OpSpec& spec, std::span<const Value> in, const NodePlan& plan) {
  // The shared rewrite split every other activation into an op of its own.
  check(activation_fusable(spec.activation), "convert: layer '" + layer.name() + "' fuses activation " +
                                                 activation_label(spec.activation) + ", which TFLite cannot fuse");
  switch (spec.op) {
    case OpKind::kConv2D: return lower_conv2d(L, layer, spec, single(layer, in), plan);
    case OpKind::kDepthwiseConv2D: return lower_depthwise_conv2d(L, layer, spec, single(layer, in), plan);
    case OpKind::kFullyConnected: return lower_fully_connected(L, layer, spec, single(layer, in), plan);
    case OpKind::kMaxPool2D:
    case OpKind::kAveragePool2D: return lower_pool2d(L, layer, spec, single(layer, in), plan);
    case OpKind::kReshape: return lower_reshape(L, layer, single(layer, in), plan);
    case OpKind::kSoftmax:
    case OpKind::kLogistic:
    case OpKind::kTanh:
    case OpKind::kHardSwish:
    case OpKind::kRelu: return lower_activation(L, layer, spec, single(layer, in), plan);
    case OpKind::kAdd: return lower_add(L, layer, spec, in, plan);
    case OpKind::kMean: return lower_mean(L, layer, spec, single(layer, in), plan);
    case OpKind::kConcatenation: return lower_concatenation(L, layer, spec, in, plan);
    case OpKind::kPad: return lower_pad(L, layer, spec, single(layer, in), plan);
    case OpKind::kIdentity: return lower_identity(layer, single(layer, in));
    case OpKind::kNone: break;
  }
  throw Error("convert: layer '" + layer.name() + "' of type " + layer.type() + " has no TFLite lowering");
}

}  // namespace qlite::convert::detail
