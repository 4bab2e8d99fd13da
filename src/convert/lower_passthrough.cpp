// Layers that move values without arithmetic: Reshape/Flatten -> RESHAPE,
// MaxPooling2D -> MAX_POOL_2D. In int8 they keep the input's scale and zero
// point (docs/QUANTIZATION.md, "Per-op rules"); they run in whatever type their
// input has, so a float layer upstream never forces an extra QUANTIZE here.
// Also Softmax -> SOFTMAX, whose int8 output parameters are fixed by TFLite.
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

Value lower_max_pool2d(Lowering& L, const Layer& layer, const OpSpec& spec, const Value& in, const NodePlan& plan) {
  const std::string& name = layer.name();
  check(in.shape.size() == 3, "convert: MaxPooling2D layer '" + name +
                                  "' needs a [H, W, C] input, got " + shape_str(in.shape));
  lite::Pool2DOptions opts;
  opts.padding = spec.padding;
  opts.filter_h = spec.kernel[0];
  opts.filter_w = spec.kernel[1];
  opts.stride_h = spec.strides[0];
  opts.stride_w = spec.strides[1];
  Value y = L.make_value(name, in.type, layer.output_shape(), in.is_int8() ? &in.quant : nullptr);
  L.add_op(lite::BuiltinOp::kMaxPool2D, {in.tensor}, {y.tensor}, opts, in.is_int8() ? 2 : 1, name,
           in.is_int8());
  return y;
}

Value lower_softmax(Lowering& L, const Layer& layer, const Value& in, const NodePlan& plan) {
  const std::string& name = layer.name();
  const json cfg = layer.get_config();
  if (cfg.contains("axis")) {
    const json& axis = cfg["axis"];
    const bool last = axis.is_number_integer() &&
                      (axis.get<int64_t>() == -1 || axis.get<int64_t>() == static_cast<int64_t>(in.shape.size()));
    check(last, "convert: Softmax layer '" + name + "' must work on the last axis");
  }
  if (plan.kind == Kind::kInt8) {
    const Value x = in.is_int8() ? in : L.to_int8(in, plan.in.value(), name);
    Value y = L.make_value(name, TensorType::kInt8, layer.output_shape(), &kSoftmaxQuant);
    L.add_op(lite::BuiltinOp::kSoftmax, {x.tensor}, {y.tensor}, lite::SoftmaxOptions{1.0f}, 2, name, true);
    return y;
  }
  const Value x = L.to_float(in, name);
  Value y = L.make_value(name, TensorType::kFloat32, layer.output_shape());
  L.add_op(lite::BuiltinOp::kSoftmax, {x.tensor}, {y.tensor}, lite::SoftmaxOptions{1.0f}, 1, name, false);
  return y;
}

}  // namespace qlite::convert::detail
