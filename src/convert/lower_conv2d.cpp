// Conv2D -> CONV_2D. Keras kernels are HWIO; TFLite wants OHWI.
#include "convert/lowering.h"

namespace qlite::convert::detail {

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

  // Per-channel weights; hybrid version 5 per channel, 2 per tensor (op_version.cc).
  return lower_weighted(L, layer, in, plan,
                        {.layer_type = "Conv2D",
                         .units = "filters",
                         .kernel = hwio_to_ohwi(param_values(*kernel), kh, kw, cin, cout),
                         .kernel_shape = {cout, kh, kw, cin},
                         .out_channels = cout,
                         .per_channel = true,
                         .op = lite::BuiltinOp::kConv2D,
                         .options = opts,
                         .int8_version = 3,
                         .hybrid_version = cout > 1 ? 5 : 2});
}

}  // namespace qlite::convert::detail
