// The part Conv2D and Dense share: bias, integer or float constants, the op.
#include "convert/lowering.h"
#include "qlite/quant.h"

namespace qlite::convert::detail {

using lite::TensorType;

namespace {

// Per output channel (along `axis`) or per tensor; zero points are 0 (symmetric).
lite::Quantization weight_quantization(const std::vector<float>& scales, bool per_channel, int axis) {
  if (!per_channel) return lite::Quantization::per_tensor(scales[0], 0);
  return lite::Quantization::per_axis(scales, std::vector<int64_t>(scales.size(), 0), axis);
}

}  // namespace

Value lower_weighted(Lowering& L, const Layer& layer, const Value& in, const NodePlan& plan, WeightedOp w) {
  const std::string& name = layer.name();
  const std::string what = "convert: " + layer.type() + " layer '" + name + "' ";
  const LayerKind& kind = lowerable_kind(layer);
  const Param* kernel_p = find_param(layer, kind.weight);
  check(kernel_p != nullptr && kind.tflite_weight_layout != nullptr, what + "has no \"" + kind.weight + "\" weight");
  // Keras layout -> TFLite's, as the layer's record defines it (QAT uses the same).
  const WeightLayout layout = kind.tflite_weight_layout(kernel_p->value.shape());
  const std::vector<float> kernel = layout.apply(param_values(*kernel_p).data());
  const int64_t cout = layout.shape.at(static_cast<size_t>(layout.channel_axis));
  check(layer.output_shape().back() == cout, what + "kernel has " + std::to_string(cout) + " output " + w.units +
                                                 ", its output " + shape_str(layer.output_shape()));
  const Param* bias_p = find_param(layer, "bias");
  const std::vector<float> bias =
      bias_p != nullptr ? param_values(*bias_p) : std::vector<float>(static_cast<size_t>(cout), 0.0f);
  check(static_cast<int64_t>(bias.size()) == cout, what + "bias size does not match its " + w.units);
  const std::vector<int32_t> wshape = to_i32_shape(layout.shape, "kernel of '" + name + "'");
  const std::vector<int32_t> bshape = {static_cast<int32_t>(cout)};
  const Shape out_shape = layer.output_shape();

  if (plan.kind == Kind::kInt8) {
    const Value x = in.is_int8() ? in : L.to_int8(in, plan.in.value(), name);
    const IntWeights iw = plan.weights ? *plan.weights : quantize_weights(kernel, layout, w.per_channel);
    check(iw.q.size() == kernel.size() && static_cast<int64_t>(iw.scales.size()) == (w.per_channel ? cout : 1),
          what + (w.per_channel ? "integer weights do not match its kernel"
                                : "integer weights must be per tensor and match its kernel"));
    const std::vector<int32_t> qb = plan.bias ? *plan.bias : quant::quantize_bias(bias, x.quant.scale, iw.scales);
    check(static_cast<int64_t>(qb.size()) == cout, what + "integer bias does not match its " + w.units);
    const int32_t wt = L.constant(name + "/kernel", TensorType::kInt8, wshape, iw.q,
                                      weight_quantization(iw.scales, w.per_channel, layout.channel_axis));
    const int32_t bt = L.constant(name + "/bias", TensorType::kInt32, bshape, qb,
                                      weight_quantization(quant::bias_scales(x.quant.scale, iw.scales), w.per_channel, 0));
    Value y = L.make_value(name, TensorType::kInt8, out_shape, &plan.out);
    L.add_op(w.op, {x.tensor, wt, bt}, {y.tensor}, std::move(w.options), w.int8_version, name, true);
    return y;
  }

  const Value x = L.to_float(in, name);
  const bool f16 = plan.kind == Kind::kFloat16Weights;
  int32_t wt = -1;
  int32_t version = 1;
  if (plan.kind == Kind::kHybrid && plan.quantize_kernel) {
    const IntWeights iw = quantize_weights(kernel, layout, w.per_channel);
    wt = L.constant(name + "/kernel", TensorType::kInt8, wshape, iw.q,
                        weight_quantization(iw.scales, w.per_channel, layout.channel_axis));
    version = w.hybrid_version;
  } else {
    wt = L.float_constant(name + "/kernel", wshape, kernel, f16, name);
  }
  const int32_t bt = L.float_constant(name + "/bias", bshape, bias, f16, name);
  Value y = L.make_value(name, TensorType::kFloat32, out_shape);
  L.add_op(w.op, {x.tensor, wt, bt}, {y.tensor}, std::move(w.options), version, name, false);
  return y;
}

}  // namespace qlite::convert::detail
