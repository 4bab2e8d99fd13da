// Reference int8 convolution, depthwise convolution and fully connected.
// CONV_2D and FULLY_CONNECTED requantize round-half-up, DEPTHWISE_CONV_2D
// with double rounding: what TFLite 2.9 computes on x86 (requantize.h).
#include <string>

#include "kernels/reference/int8_detail.h"
#include "kernels/reference/int8_kernels.h"

namespace qlite::ref {

std::vector<QuantizedMultiplier> make_requant(float input_scale, const std::vector<float>& weight_scales,
                                              float output_scale) {
  return conv_multipliers(input_scale, weight_scales, output_scale);
}

std::vector<QuantizedMultiplier> make_fully_connected_requant(float input_scale,
                                                              const std::vector<float>& weight_scales,
                                                              float output_scale) {
  return fully_connected_multipliers(input_scale, weight_scales, output_scale);
}

void conv2d_int8(const ConvInt8Params& p, const int8_t* input, const int8_t* weights, const int32_t* bias,
                 int8_t* output) {
  const WindowGeometry& g = p.g;
  validate_geometry(g, "conv2d_int8");
  detail::check_zero_point(p.input_zero_point, "conv2d_int8 input");
  detail::check_zero_point(p.output_zero_point, "conv2d_int8 output");
  detail::check_act(p.act, "conv2d_int8");
  detail::check_requant(p.requant, g.out_c, "conv2d_int8");
  QLITE_CHECK(input && weights && output, "conv2d_int8: null tensor");

  for (int b = 0; b < g.batch; ++b) {
    for (int oy = 0; oy < g.out_h; ++oy) {
      for (int ox = 0; ox < g.out_w; ++ox) {
        for (int oc = 0; oc < g.out_c; ++oc) {
          int64_t acc = 0;
          for (int ky = 0; ky < g.kernel_h; ++ky) {
            const int iy = oy * g.stride_h - g.pad_top + ky * g.dilation_h;
            if (iy < 0 || iy >= g.in_h) continue;  // padding tap: real zero contributes nothing
            for (int kx = 0; kx < g.kernel_w; ++kx) {
              const int ix = ox * g.stride_w - g.pad_left + kx * g.dilation_w;
              if (ix < 0 || ix >= g.in_w) continue;
              const int8_t* in_px = input + ((int64_t{b} * g.in_h + iy) * g.in_w + ix) * g.in_c;
              const int8_t* w_px = weights + ((int64_t{oc} * g.kernel_h + ky) * g.kernel_w + kx) * g.in_c;
              for (int ic = 0; ic < g.in_c; ++ic) {
                acc += int64_t{w_px[ic]} * (int64_t{in_px[ic]} - p.input_zero_point);
              }
            }
          }
          if (bias) acc += bias[oc];
          const QuantizedMultiplier& m = p.requant.size() == 1 ? p.requant[0] : p.requant[oc];
          output[((int64_t{b} * g.out_h + oy) * g.out_w + ox) * g.out_c + oc] =
              detail::requant_output(acc, m, Rounding::kHalfUp, p.output_zero_point, p.act, "conv2d_int8");
        }
      }
    }
  }
}

void depthwise_conv2d_int8(const DepthwiseInt8Params& p, const int8_t* input, const int8_t* weights,
                           const int32_t* bias, int8_t* output) {
  const WindowGeometry& g = p.g;
  validate_geometry(g, "depthwise_conv2d_int8");
  QLITE_CHECK(p.depth_multiplier > 0 && int64_t{g.in_c} * p.depth_multiplier == g.out_c,
              "depthwise_conv2d_int8: out_c must equal in_c * depth_multiplier");
  detail::check_zero_point(p.input_zero_point, "depthwise_conv2d_int8 input");
  detail::check_zero_point(p.output_zero_point, "depthwise_conv2d_int8 output");
  detail::check_act(p.act, "depthwise_conv2d_int8");
  detail::check_requant(p.requant, g.out_c, "depthwise_conv2d_int8");
  QLITE_CHECK(input && weights && output, "depthwise_conv2d_int8: null tensor");

  for (int b = 0; b < g.batch; ++b) {
    for (int oy = 0; oy < g.out_h; ++oy) {
      for (int ox = 0; ox < g.out_w; ++ox) {
        for (int ic = 0; ic < g.in_c; ++ic) {
          for (int m = 0; m < p.depth_multiplier; ++m) {
            const int oc = ic * p.depth_multiplier + m;
            int64_t acc = 0;
            for (int ky = 0; ky < g.kernel_h; ++ky) {
              const int iy = oy * g.stride_h - g.pad_top + ky * g.dilation_h;
              if (iy < 0 || iy >= g.in_h) continue;
              for (int kx = 0; kx < g.kernel_w; ++kx) {
                const int ix = ox * g.stride_w - g.pad_left + kx * g.dilation_w;
                if (ix < 0 || ix >= g.in_w) continue;
                const int32_t x = input[((int64_t{b} * g.in_h + iy) * g.in_w + ix) * g.in_c + ic];
                const int32_t w = weights[(int64_t{ky} * g.kernel_w + kx) * g.out_c + oc];
                acc += int64_t{w} * (x - p.input_zero_point);
              }
            }
            if (bias) acc += bias[oc];
            const QuantizedMultiplier& q = p.requant.size() == 1 ? p.requant[0] : p.requant[oc];
            output[((int64_t{b} * g.out_h + oy) * g.out_w + ox) * g.out_c + oc] =
                detail::requant_output(acc, q, Rounding::kDoubleRounding, p.output_zero_point, p.act,
                                       "depthwise_conv2d_int8");
          }
        }
      }
    }
  }
}

void fully_connected_int8(const FullyConnectedInt8Params& p, const int8_t* input, const int8_t* weights,
                          const int32_t* bias, int8_t* output) {
  QLITE_CHECK(p.batch > 0 && p.in_features > 0 && p.out_features > 0,
              "fully_connected_int8: dimensions must be positive");
  detail::check_zero_point(p.input_zero_point, "fully_connected_int8 input");
  detail::check_zero_point(p.output_zero_point, "fully_connected_int8 output");
  detail::check_act(p.act, "fully_connected_int8");
  detail::check_requant(p.requant, p.out_features, "fully_connected_int8");
  QLITE_CHECK(input && weights && output, "fully_connected_int8: null tensor");

  for (int b = 0; b < p.batch; ++b) {
    const int8_t* x = input + int64_t{b} * p.in_features;
    for (int o = 0; o < p.out_features; ++o) {
      const int8_t* w = weights + int64_t{o} * p.in_features;
      int64_t acc = 0;
      for (int k = 0; k < p.in_features; ++k) acc += int64_t{w[k]} * (int64_t{x[k]} - p.input_zero_point);
      if (bias) acc += bias[o];
      const QuantizedMultiplier& m = p.requant.size() == 1 ? p.requant[0] : p.requant[o];
      output[int64_t{b} * p.out_features + o] =
          detail::requant_output(acc, m, Rounding::kHalfUp, p.output_zero_point, p.act, "fully_connected_int8");
    }
  }
}

}  // namespace qlite::ref
