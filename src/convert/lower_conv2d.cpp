// Conv2D -> CONV_2D. Keras kernels are HWIO; TFLite wants OHWI.
#include "convert/lowering.h"

namespace qlite::convert::detail {

using lite::TensorType;

namespace {

std::vector<float> hwio_to_ohwi(const std::vector<float>& k, int64_t kh, int64_t kw, int64_t in,
                                int64_t out) {
  std::vector<float> r(k.size());
  for (int64_t o = 0; o < out; ++o)
    for (int64_t h = 0; h < kh; ++h)
      for (int64_t w = 0; w < kw; ++w)
        for (int64_t i = 0; i < in; ++i)
          r[static_cast<size_t>(((o * kh + h) * kw + w) * in + i)] =
              k[static_cast<size_t>(((h * kw + w) * in + i) * out + o)];
  return r;
}

}  // namespace

Value lower_conv2d(Lowering& L, const Layer& layer, const Value& in, const NodePlan& plan) {
  const std::string& name = layer.name();
  check(in.shape.size() == 3, "convert: Conv2D layer '" + name + "' needs a [H, W, C] input, got " +
                                  shape_str(in.shape));
  const Param* kernel = find_param(layer, "kernel");
  check(kernel != nullptr && kernel->value.rank() == 4,
        "convert: Conv2D layer '" + name + "' has no 4-D kernel");
  const Shape& ks = kernel->value.shape();  // [kh, kw, in, out]
  const int64_t kh = ks[0], kw = ks[1], cin = ks[2], cout = ks[3];
  check(cin == in.shape[2], "convert: Conv2D layer '" + name + "' kernel expects " +
                                std::to_string(cin) + " input channels, input has " +
                                std::to_string(in.shape[2]));
  const json cfg = layer.get_config();
  if (cfg.contains("dilation_rate"))
    check(cfg["dilation_rate"] == json::array({1, 1}),
          "convert: Conv2D layer '" + name + "' has a dilation TFLite lowering does not support here");
  const auto strides = config_pair(layer, "strides");
  lite::Conv2DOptions opts;
  opts.padding = padding_of(layer);
  opts.stride_h = strides[0];
  opts.stride_w = strides[1];
  opts.activation = fused_activation(layer);

  const std::vector<float> w = hwio_to_ohwi(param_values(*kernel), kh, kw, cin, cout);
  const Param* bias_p = find_param(layer, "bias");
  // TFLite's converter always gives CONV_2D a bias; so do we (zeros without one).
  const std::vector<float> bias =
      bias_p != nullptr ? param_values(*bias_p) : std::vector<float>(static_cast<size_t>(cout), 0.0f);
  check(static_cast<int64_t>(bias.size()) == cout,
        "convert: Conv2D layer '" + name + "' bias size does not match its filters");
  const std::vector<int32_t> wshape = to_i32_shape({cout, kh, kw, cin}, "Conv2D kernel of '" + name + "'");
  const std::vector<int32_t> bshape = {static_cast<int32_t>(cout)};
  auto& b = L.builder();
  const Shape out_shape = layer.output_shape();

  if (plan.kind == Kind::kInt8) {
    const Value x = in.is_int8() ? in : L.to_int8(in, plan.in.value(), name);
    const IntWeights iw = plan.weights ? *plan.weights : quantize_weights(w, cout, true);
    check(iw.q.size() == w.size() && static_cast<int64_t>(iw.scales.size()) == cout,
          "convert: Conv2D layer '" + name + "' integer weights do not match its kernel");
    const std::vector<int32_t> qb = plan.bias ? *plan.bias : quantize_bias(bias, x.quant.scale, iw.scales);
    check(static_cast<int64_t>(qb.size()) == cout,
          "convert: Conv2D layer '" + name + "' integer bias does not match its filters");
    const std::vector<int64_t> zeros(static_cast<size_t>(cout), 0);
    const int32_t wt = b.add_constant(name + "/kernel", TensorType::kInt8, wshape, iw.q,
                                      lite::Quantization::per_axis(iw.scales, zeros, 0));
    const int32_t bt = b.add_constant(name + "/bias", TensorType::kInt32, bshape, qb,
                                      lite::Quantization::per_axis(bias_scales(x.quant.scale, iw.scales), zeros, 0));
    Value y = L.make_value(name, TensorType::kInt8, out_shape, &plan.out);
    L.add_op(lite::BuiltinOp::kConv2D, {x.tensor, wt, bt}, {y.tensor}, opts, 3, name, true);
    return y;
  }

  const Value x = L.to_float(in, name);
  int32_t wt = -1;
  int32_t version = 1;
  if (plan.kind == Kind::kHybrid && plan.quantize_kernel) {
    const IntWeights iw = quantize_weights(w, cout, true);
    const std::vector<int64_t> zeros(static_cast<size_t>(cout), 0);
    wt = b.add_constant(name + "/kernel", TensorType::kInt8, wshape, iw.q,
                        lite::Quantization::per_axis(iw.scales, zeros, 0));
    version = cout > 1 ? 5 : 2;  // hybrid per-channel / per-tensor (op_version.cc)
  } else {
    wt = L.float_constant(name + "/kernel", wshape, w, plan.kind == Kind::kFloat16Weights, name);
  }
  const int32_t bt = L.float_constant(name + "/bias", bshape, bias, plan.kind == Kind::kFloat16Weights, name);
  Value y = L.make_value(name, TensorType::kFloat32, out_shape);
  L.add_op(lite::BuiltinOp::kConv2D, {x.tensor, wt, bt}, {y.tensor}, opts, version, name, false);
  return y;
}

}  // namespace qlite::convert::detail
