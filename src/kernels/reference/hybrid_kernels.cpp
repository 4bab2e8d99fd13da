// Reference dynamic-range kernels (see hybrid_kernels.h for the TFLite 2.9
// behaviour they reproduce). Float expressions are written in TFLite's order
// and precision on purpose: changing float to double or reassociating a
// product changes results in the last bit.
#include "kernels/reference/hybrid_kernels.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <string>

namespace qlite::ref {

HybridRowParams hybrid_symmetric_params(float min, float max) {
  constexpr int32_t kScale = 127;
  HybridRowParams r;
  const float range = std::max(std::abs(min), std::abs(max));
  if (range == 0.0f) {
    r.zero = true;
    return r;
  }
  r.scaling = range / kScale;
  r.inv = kScale / range;
  return r;
}

HybridRowParams hybrid_asymmetric_params(float min, float max) {
  constexpr double qmin = -128, qmax = 127;
  HybridRowParams r;
  const double rmin = std::fmin(0.0, static_cast<double>(min));
  const double rmax = std::fmax(0.0, static_cast<double>(max));
  if (rmin == rmax) {
    r.zero = true;
    return r;
  }
  const double scale = (rmax - rmin) / (qmax - qmin);
  const double zp_from_min = qmin - rmin / scale;
  const double zp_from_max = qmax - rmax / scale;
  const double err_min = std::abs(qmin) + std::abs(rmin / scale);
  const double err_max = std::abs(qmax) + std::abs(rmax / scale);
  double zp = err_min < err_max ? zp_from_min : zp_from_max;
  // An infinite end of the range makes its candidate inf / inf = NaN, which
  // TFLite then casts to int (undefined behaviour). qlite takes the other,
  // finite candidate (0 when neither is): every finite input then quantizes
  // to the zero point.
  if (std::isnan(zp)) {
    r.infinite_range = true;
    zp = !std::isnan(zp_from_min) ? zp_from_min : !std::isnan(zp_from_max) ? zp_from_max : 0.0;
  }
  if (zp <= qmin) r.zero_point = -128;
  else if (zp >= qmax) r.zero_point = 127;
  else r.zero_point = static_cast<int32_t>(std::round(zp));
  r.scaling = static_cast<float>(scale);
  r.inv = static_cast<float>(1.0 / static_cast<double>(r.scaling));
  return r;
}

void hybrid_quantize_symmetric(const float* x, int64_t n, int8_t* q, float* scaling_factor) {
  QLITE_CHECK(n > 0 && x && q && scaling_factor, "hybrid_quantize_symmetric: empty or null input");
  constexpr int32_t kScale = 127;
  const auto mm = std::minmax_element(x, x + n);
  const HybridRowParams p = hybrid_symmetric_params(*mm.first, *mm.second);
  *scaling_factor = p.scaling;
  if (p.zero) {
    std::memset(q, 0, static_cast<size_t>(n));
    return;
  }
  for (int64_t i = 0; i < n; ++i) {
    // Clamp before the cast: a NaN or huge product must not be undefined behaviour.
    const float r = std::round(std::fmin(std::fmax(x[i] * p.inv, -1.0e6f), 1.0e6f));
    const int32_t v = std::isnan(r) ? 0 : static_cast<int32_t>(r);
    q[i] = static_cast<int8_t>(std::clamp(v, -kScale, kScale));
  }
}

void hybrid_quantize_asymmetric(const float* x, int64_t n, int8_t* q, float* scaling_factor,
                                int32_t* offset) {
  QLITE_CHECK(n > 0 && x && q && scaling_factor && offset,
              "hybrid_quantize_asymmetric: empty or null input");
  constexpr int32_t kMin = -128, kMax = 127;
  const auto mm = std::minmax_element(x, x + n);
  const HybridRowParams p = hybrid_asymmetric_params(*mm.first, *mm.second);
  *scaling_factor = p.scaling;
  *offset = p.zero_point;
  if (p.zero) {
    std::memset(q, 0, static_cast<size_t>(n));
    return;
  }
  const float fzp = static_cast<float>(p.zero_point);
  for (int64_t i = 0; i < n; ++i) {
    const float r = std::round(fzp + std::fmin(std::fmax(x[i] * p.inv, -1.0e6f), 1.0e6f));
    const int32_t v = std::isnan(r) ? p.zero_point : static_cast<int32_t>(r);
    q[i] = static_cast<int8_t>(std::clamp(v, kMin, kMax));
  }
}

namespace {

float clamp_act(float v, Activation act) {
  const FloatActRange r = fused_activation_range_f32(act);
  return std::min(std::max(v, r.min), r.max);
}

void check_acc(int64_t acc, const char* op) {
  QLITE_CHECK(acc >= std::numeric_limits<int32_t>::min() && acc <= std::numeric_limits<int32_t>::max(),
              std::string(op) + ": int32 accumulator overflow");
}

}  // namespace

void fully_connected_hybrid(const HybridFcParams& p, const float* input, const int8_t* weights,
                            const float* bias, const HybridScratch& s, float* output) {
  QLITE_CHECK(p.batch > 0 && p.in_features > 0 && p.out_features > 0,
              "fully_connected_hybrid: dimensions must be positive");
  QLITE_CHECK(std::isfinite(p.weight_scale) && p.weight_scale > 0.0f,
              "fully_connected_hybrid: weight scale must be finite and > 0");
  QLITE_CHECK(input && weights && output && s.quantized && s.scaling &&
                  (!p.asymmetric_inputs || s.offsets),
              "fully_connected_hybrid: null tensor or scratch");
  for (int b = 0; b < p.batch; ++b) {
    const float* x = input + int64_t{b} * p.in_features;
    int8_t* q = s.quantized + int64_t{b} * p.in_features;
    if (p.asymmetric_inputs) {
      hybrid_quantize_asymmetric(x, p.in_features, q, &s.scaling[b], &s.offsets[b]);
    } else {
      hybrid_quantize_symmetric(x, p.in_features, q, &s.scaling[b]);
    }
    s.scaling[b] *= p.weight_scale;  // fully_connected.cc: scaling_factors_ptr[b] *= filter scale
  }
  for (int b = 0; b < p.batch; ++b) {
    const int8_t* q = s.quantized + int64_t{b} * p.in_features;
    const int32_t zp = p.asymmetric_inputs ? s.offsets[b] : 0;
    for (int o = 0; o < p.out_features; ++o) {
      const int8_t* w = weights + int64_t{o} * p.in_features;
      int64_t acc = 0;
      for (int k = 0; k < p.in_features; ++k) acc += int64_t{w[k]} * (int32_t{q[k]} - zp);
      check_acc(acc, "fully_connected_hybrid");
      // Output starts as the bias, then += float(dot) * scale (VectorBatchVectorAssign + MBVMA).
      const float start = bias ? bias[o] : 0.0f;
      const float v = start + static_cast<float>(static_cast<int32_t>(acc)) * s.scaling[b];
      output[int64_t{b} * p.out_features + o] = clamp_act(v, p.act);
    }
  }
}

HybridConvParams make_hybrid_conv_params(const WindowGeometry& g, std::vector<float> weight_scales,
                                         Activation act) {
  QLITE_CHECK(!weight_scales.empty() &&
                  (weight_scales.size() == 1 || weight_scales.size() == static_cast<size_t>(g.out_c)),
              "make_hybrid_conv_params: expected 1 or out_c weight scales");
  for (float w : weight_scales)
    QLITE_CHECK(std::isfinite(w) && w > 0.0f, "make_hybrid_conv_params: weight scales must be finite and > 0");
  HybridConvParams p;
  p.g = g;
  p.act = act;
  // TFLite takes the per-channel path only when some scale differs from the first.
  for (float w : weight_scales) p.per_channel = p.per_channel || w != weight_scales[0];
  p.weight_scales = std::move(weight_scales);
  return p;
}

void conv2d_hybrid(const HybridConvParams& p, const float* input, const int8_t* weights,
                   const float* bias, const HybridScratch& s, float* output) {
  const WindowGeometry& g = p.g;
  validate_geometry(g, "conv2d_hybrid");
  QLITE_CHECK(p.weight_scales.size() == 1 || p.weight_scales.size() == static_cast<size_t>(g.out_c),
              "conv2d_hybrid: expected 1 or out_c weight scales");
  QLITE_CHECK(input && weights && output && s.quantized && s.scaling && (!p.per_channel || s.offsets),
              "conv2d_hybrid: null tensor or scratch");
  const int64_t image = int64_t{g.in_h} * g.in_w * g.in_c;
  for (int b = 0; b < g.batch; ++b) {
    if (p.per_channel) {
      hybrid_quantize_asymmetric(input + b * image, image, s.quantized + b * image, &s.scaling[b],
                                 &s.offsets[b]);
    } else {
      hybrid_quantize_symmetric(input + b * image, image, s.quantized + b * image, &s.scaling[b]);
      s.scaling[b] *= p.weight_scales[0];  // conv.cc EvalHybrid: *= filter->params.scale
    }
  }
  for (int b = 0; b < g.batch; ++b) {
    const int32_t zp = p.per_channel ? s.offsets[b] : 0;
    for (int oy = 0; oy < g.out_h; ++oy) {
      for (int ox = 0; ox < g.out_w; ++ox) {
        for (int oc = 0; oc < g.out_c; ++oc) {
          int64_t acc = 0;
          for (int ky = 0; ky < g.kernel_h; ++ky) {
            const int iy = oy * g.stride_h - g.pad_top + ky * g.dilation_h;
            if (iy < 0 || iy >= g.in_h) continue;
            for (int kx = 0; kx < g.kernel_w; ++kx) {
              const int ix = ox * g.stride_w - g.pad_left + kx * g.dilation_w;
              if (ix < 0 || ix >= g.in_w) continue;
              const int8_t* in_px = s.quantized + b * image + (int64_t{iy} * g.in_w + ix) * g.in_c;
              const int8_t* w_px = weights + ((int64_t{oc} * g.kernel_h + ky) * g.kernel_w + kx) * g.in_c;
              for (int ic = 0; ic < g.in_c; ++ic) acc += int64_t{w_px[ic]} * (int32_t{in_px[ic]} - zp);
            }
          }
          check_acc(acc, "conv2d_hybrid");
          // Per channel: optimized_ops::HybridConvPerChannel multiplies by
          // (per_channel_scale * input_scale); per tensor the product was formed above.
          const float scale = p.per_channel ? p.weight_scales[static_cast<size_t>(oc)] * s.scaling[b]
                                            : s.scaling[b];
          float v = static_cast<float>(static_cast<int32_t>(acc)) * scale;
          if (bias) v += bias[oc];
          output[((int64_t{b} * g.out_h + oy) * g.out_w + ox) * g.out_c + oc] = clamp_act(v, p.act);
        }
      }
    }
  }
}

}  // namespace qlite::ref
