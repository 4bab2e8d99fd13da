// Small models for the runtime tests, written with lite::ModelBuilder:
//  - cnn: x[b,H,W,C] -> CONV_2D 3x3 SAME relu -> MAX_POOL 2x2 -> RESHAPE [-1, feat]
//         -> FULLY_CONNECTED -> (SOFTMAX), in float32, float16-weight, int8
//         (float or int8 I/O) and hybrid (int8 weights, float activations) forms;
//  - mobile: x -> DEPTHWISE_CONV_2D relu6 -> ADD(x, .) -> CONCATENATION(., x)
//         -> AVERAGE_POOL_2D -> (MEAN over H, W | RESHAPE) -> FULLY_CONNECTED.
// Weights are random (qlite::Rng) and quantized here with the rules of docs/QUANTIZATION.md.
#pragma once

#include <algorithm>
#include <cmath>
#include <vector>

#include "kernels/reference/int8_kernels.h"
#include "qlite/core.h"
#include "qlite/lite.h"

namespace qlite::test {

using lite::Activation;
using lite::BuiltinOp;
using lite::ModelBuilder;
using lite::Quantization;
using lite::TensorType;

struct CnnSpec {
  int h = 8, w = 8, c = 2, filters = 4, classes = 5;
  uint64_t seed = 1;
  int feat() const { return (h / 2) * (w / 2) * filters; }
};

struct CnnWeights {
  std::vector<float> conv_w, conv_b, fc_w, fc_b;  // OHWI, [F], [classes, feat], [classes]
};

inline std::vector<float> uniform(Rng& rng, size_t n, float lo, float hi) {
  std::vector<float> v(n);
  for (float& x : v) x = rng.uniform(lo, hi);
  return v;
}

inline CnnWeights make_cnn_weights(const CnnSpec& s) {
  Rng rng(s.seed);
  CnnWeights w;
  w.conv_w = uniform(rng, static_cast<size_t>(s.filters * 9 * s.c), -0.4f, 0.4f);
  // Channel scales differ on purpose: the per-channel paths must see distinct scales.
  for (int f = 0; f < s.filters; ++f)
    for (int k = 0; k < 9 * s.c; ++k) w.conv_w[static_cast<size_t>(f * 9 * s.c + k)] *= 1.0f + 0.5f * f;
  w.conv_b = uniform(rng, static_cast<size_t>(s.filters), -0.1f, 0.1f);
  w.fc_w = uniform(rng, static_cast<size_t>(s.classes * s.feat()), -0.2f, 0.2f);
  w.fc_b = uniform(rng, static_cast<size_t>(s.classes), -0.1f, 0.1f);
  return w;
}

inline std::vector<uint16_t> to_half(const std::vector<float>& v) {
  std::vector<uint16_t> h(v.size());
  for (size_t i = 0; i < v.size(); ++i) h[i] = ref::float_to_half(v[i]);
  return h;
}

// A float32 constant, or (f16) a FLOAT16 constant feeding a DEQUANTIZE.
inline int32_t float_weight(ModelBuilder& b, const std::string& name, std::vector<int32_t> shape,
                            const std::vector<float>& v, bool f16) {
  if (!f16) return b.add_constant(name, TensorType::kFloat32, shape, v);
  const int32_t h = b.add_constant(name + "_f16", TensorType::kFloat16, shape, to_half(v));
  const int32_t f = b.add_tensor(name, TensorType::kFloat32, shape);
  b.add_operator(BuiltinOp::kDequantize, {h}, {f}, {}, 3);
  return f;
}

inline lite::ModelDef float_cnn(const CnnSpec& s, const CnnWeights& w, bool f16 = false,
                                bool softmax = true) {
  ModelBuilder b;
  const int32_t x = b.add_tensor("x", TensorType::kFloat32, {1, s.h, s.w, s.c}, {}, {-1, s.h, s.w, s.c});
  const int32_t cw = float_weight(b, "conv/w", {s.filters, 3, 3, s.c}, w.conv_w, f16);
  const int32_t cb = float_weight(b, "conv/b", {s.filters}, w.conv_b, f16);
  const int32_t c = b.add_tensor("conv", TensorType::kFloat32, {1, s.h, s.w, s.filters}, {}, {-1, s.h, s.w, s.filters});
  b.add_operator(BuiltinOp::kConv2D, {x, cw, cb}, {c}, lite::Conv2DOptions{lite::Padding::kSame, 1, 1, Activation::kRelu, 1, 1});
  const int32_t p = b.add_tensor("pool", TensorType::kFloat32, {1, s.h / 2, s.w / 2, s.filters}, {}, {-1, s.h / 2, s.w / 2, s.filters});
  b.add_operator(BuiltinOp::kMaxPool2D, {c}, {p}, lite::Pool2DOptions{lite::Padding::kValid, 2, 2, 2, 2, Activation::kLinear});
  const int32_t shape = b.add_constant("flat/shape", TensorType::kInt32, {2}, std::vector<int32_t>{-1, s.feat()});
  const int32_t fl = b.add_tensor("flat", TensorType::kFloat32, {1, s.feat()}, {}, {-1, s.feat()});
  b.add_operator(BuiltinOp::kReshape, {p, shape}, {fl}, lite::ReshapeOptions{{-1, s.feat()}});
  const int32_t fw = float_weight(b, "fc/w", {s.classes, s.feat()}, w.fc_w, f16);
  const int32_t fb = float_weight(b, "fc/b", {s.classes}, w.fc_b, f16);
  const int32_t logits = b.add_tensor("logits", TensorType::kFloat32, {1, s.classes}, {}, {-1, s.classes});
  b.add_operator(BuiltinOp::kFullyConnected, {fl, fw, fb}, {logits}, lite::FullyConnectedOptions{});
  int32_t y = logits;
  if (softmax) {
    y = b.add_tensor("probs", TensorType::kFloat32, {1, s.classes}, {}, {-1, s.classes});
    b.add_operator(BuiltinOp::kSoftmax, {logits}, {y}, lite::SoftmaxOptions{1.0f});
  }
  b.set_inputs({x});
  b.set_outputs({y});
  return b.build();
}

// Symmetric narrow-range int8 weights per output channel (dimension `dim` of
// `channels`) or per tensor (channels = 1).
struct QWeights {
  std::vector<int8_t> q;
  std::vector<float> scales;
};
inline QWeights quantize_weights(const std::vector<float>& w, int channels) {
  QWeights r;
  const size_t per = w.size() / static_cast<size_t>(channels);
  for (int c = 0; c < channels; ++c) {
    float m = 0.0f;
    for (size_t i = 0; i < per; ++i) m = std::max(m, std::abs(w[c * per + i]));
    r.scales.push_back(m > 0 ? m / 127.0f : 1.0f);
  }
  r.q.resize(w.size());
  for (size_t i = 0; i < w.size(); ++i) {
    const float s = r.scales[i / per];
    r.q[i] = static_cast<int8_t>(std::clamp<long>(std::lround(w[i] / s), -127, 127));
  }
  return r;
}
inline std::vector<int32_t> quantize_bias(const std::vector<float>& b, float in_scale,
                                          const std::vector<float>& w_scales) {
  std::vector<int32_t> q(b.size());
  for (size_t i = 0; i < b.size(); ++i)
    q[i] = static_cast<int32_t>(std::lround(b[i] / (in_scale * w_scales[w_scales.size() == 1 ? 0 : i])));
  return q;
}

struct Int8CnnParams {
  float in_scale = 2.0f / 255, conv_scale = 3.0f / 255, fc_scale = 6.0f / 255;
  int32_t in_zp = -1, conv_zp = -128, fc_zp = 3;
  bool softmax = true;
  bool int8_io = false;  // int8 input/output instead of QUANTIZE/DEQUANTIZE at the ends
};

inline lite::ModelDef int8_cnn(const CnnSpec& s, const CnnWeights& w, const Int8CnnParams& p) {
  ModelBuilder b;
  const auto per_t = [](float sc, int32_t zp) { return Quantization::per_tensor(sc, zp); };
  int32_t x = -1, xq = -1;
  if (p.int8_io) {
    x = xq = b.add_tensor("x", TensorType::kInt8, {1, s.h, s.w, s.c}, per_t(p.in_scale, p.in_zp), {-1, s.h, s.w, s.c});
  } else {
    x = b.add_tensor("x", TensorType::kFloat32, {1, s.h, s.w, s.c}, {}, {-1, s.h, s.w, s.c});
    xq = b.add_tensor("x_q", TensorType::kInt8, {1, s.h, s.w, s.c}, per_t(p.in_scale, p.in_zp), {-1, s.h, s.w, s.c});
    b.add_operator(BuiltinOp::kQuantize, {x}, {xq}, {}, 1);
  }
  const QWeights cw = quantize_weights(w.conv_w, s.filters);
  std::vector<int64_t> zeros(cw.scales.size(), 0);
  const int32_t cwt = b.add_constant("conv/w", TensorType::kInt8, {s.filters, 3, 3, s.c}, cw.q,
                                     Quantization::per_axis(cw.scales, zeros, 0));
  std::vector<float> bias_scales;
  for (float ws : cw.scales) bias_scales.push_back(p.in_scale * ws);
  const int32_t cbt = b.add_constant("conv/b", TensorType::kInt32, {s.filters}, quantize_bias(w.conv_b, p.in_scale, cw.scales),
                                     Quantization::per_axis(bias_scales, zeros, 0));
  const int32_t c = b.add_tensor("conv", TensorType::kInt8, {1, s.h, s.w, s.filters}, per_t(p.conv_scale, p.conv_zp), {-1, s.h, s.w, s.filters});
  b.add_operator(BuiltinOp::kConv2D, {xq, cwt, cbt}, {c}, lite::Conv2DOptions{lite::Padding::kSame, 1, 1, Activation::kRelu, 1, 1}, 3);
  const int32_t pl = b.add_tensor("pool", TensorType::kInt8, {1, s.h / 2, s.w / 2, s.filters}, per_t(p.conv_scale, p.conv_zp), {-1, s.h / 2, s.w / 2, s.filters});
  b.add_operator(BuiltinOp::kMaxPool2D, {c}, {pl}, lite::Pool2DOptions{lite::Padding::kValid, 2, 2, 2, 2, Activation::kLinear}, 2);
  const int32_t shape = b.add_constant("flat/shape", TensorType::kInt32, {2}, std::vector<int32_t>{-1, s.feat()});
  const int32_t fl = b.add_tensor("flat", TensorType::kInt8, {1, s.feat()}, per_t(p.conv_scale, p.conv_zp), {-1, s.feat()});
  b.add_operator(BuiltinOp::kReshape, {pl, shape}, {fl}, lite::ReshapeOptions{{-1, s.feat()}});
  const QWeights fw = quantize_weights(w.fc_w, 1);
  const int32_t fwt = b.add_constant("fc/w", TensorType::kInt8, {s.classes, s.feat()}, fw.q, per_t(fw.scales[0], 0));
  const int32_t fbt = b.add_constant("fc/b", TensorType::kInt32, {s.classes}, quantize_bias(w.fc_b, p.conv_scale, fw.scales),
                                     per_t(p.conv_scale * fw.scales[0], 0));
  const int32_t logits = b.add_tensor("logits", TensorType::kInt8, {1, s.classes}, per_t(p.fc_scale, p.fc_zp), {-1, s.classes});
  b.add_operator(BuiltinOp::kFullyConnected, {fl, fwt, fbt}, {logits}, lite::FullyConnectedOptions{}, 4);
  int32_t y = logits;
  if (p.softmax) {
    y = b.add_tensor("probs", TensorType::kInt8, {1, s.classes}, per_t(1.0f / 256, -128), {-1, s.classes});
    b.add_operator(BuiltinOp::kSoftmax, {logits}, {y}, lite::SoftmaxOptions{1.0f}, 2);
  }
  if (!p.int8_io) {
    const int32_t yf = b.add_tensor("y", TensorType::kFloat32, {1, s.classes}, {}, {-1, s.classes});
    b.add_operator(BuiltinOp::kDequantize, {y}, {yf}, {}, 2);
    y = yf;
  }
  b.set_inputs({x});
  b.set_outputs({y});
  return b.build();
}

struct HybridParams {
  bool conv_per_channel = true;     // distinct channel scales (asymmetric input path)
  bool fc_asymmetric = false;       // FullyConnectedOptions::asymmetric_quantize_inputs
};

inline lite::ModelDef hybrid_cnn(const CnnSpec& s, const CnnWeights& w, const HybridParams& hp) {
  ModelBuilder b;
  const int32_t x = b.add_tensor("x", TensorType::kFloat32, {1, s.h, s.w, s.c}, {}, {-1, s.h, s.w, s.c});
  const QWeights cw = quantize_weights(w.conv_w, hp.conv_per_channel ? s.filters : 1);
  Quantization cq = hp.conv_per_channel
                        ? Quantization::per_axis(cw.scales, std::vector<int64_t>(cw.scales.size(), 0), 0)
                        : Quantization::per_tensor(cw.scales[0], 0);
  const int32_t cwt = b.add_constant("conv/w", TensorType::kInt8, {s.filters, 3, 3, s.c}, cw.q, cq);
  const int32_t cbt = b.add_constant("conv/b", TensorType::kFloat32, {s.filters}, w.conv_b);
  const int32_t c = b.add_tensor("conv", TensorType::kFloat32, {1, s.h, s.w, s.filters}, {}, {-1, s.h, s.w, s.filters});
  b.add_operator(BuiltinOp::kConv2D, {x, cwt, cbt}, {c}, lite::Conv2DOptions{lite::Padding::kSame, 1, 1, Activation::kRelu, 1, 1}, 2);
  const int32_t pl = b.add_tensor("pool", TensorType::kFloat32, {1, s.h / 2, s.w / 2, s.filters}, {}, {-1, s.h / 2, s.w / 2, s.filters});
  b.add_operator(BuiltinOp::kMaxPool2D, {c}, {pl}, lite::Pool2DOptions{lite::Padding::kValid, 2, 2, 2, 2, Activation::kLinear});
  const int32_t shape = b.add_constant("flat/shape", TensorType::kInt32, {2}, std::vector<int32_t>{-1, s.feat()});
  const int32_t fl = b.add_tensor("flat", TensorType::kFloat32, {1, s.feat()}, {}, {-1, s.feat()});
  b.add_operator(BuiltinOp::kReshape, {pl, shape}, {fl}, lite::ReshapeOptions{{-1, s.feat()}});
  const QWeights fw = quantize_weights(w.fc_w, 1);
  const int32_t fwt = b.add_constant("fc/w", TensorType::kInt8, {s.classes, s.feat()}, fw.q, Quantization::per_tensor(fw.scales[0], 0));
  const int32_t fbt = b.add_constant("fc/b", TensorType::kFloat32, {s.classes}, w.fc_b);
  const int32_t y = b.add_tensor("logits", TensorType::kFloat32, {1, s.classes}, {}, {-1, s.classes});
  b.add_operator(BuiltinOp::kFullyConnected, {fl, fwt, fbt}, {y},
                 lite::FullyConnectedOptions{Activation::kLinear, false, hp.fc_asymmetric}, hp.fc_asymmetric ? 9 : 3);
  b.set_inputs({x});
  b.set_outputs({y});
  return b.build();
}

// x[b,6,6,4] -> DW 3x3 relu6 -> ADD(x) -> CONCAT(., x) -> AVG_POOL 2x2 -> MEAN(1,2) -> FC(3).
inline lite::ModelDef float_mobile(uint64_t seed) {
  Rng rng(seed);
  ModelBuilder b;
  const int32_t x = b.add_tensor("x", TensorType::kFloat32, {1, 6, 6, 4}, {}, {-1, 6, 6, 4});
  const int32_t dw = b.add_constant("dw/w", TensorType::kFloat32, {1, 3, 3, 4}, uniform(rng, 36, -0.5f, 0.5f));
  const int32_t db = b.add_constant("dw/b", TensorType::kFloat32, {4}, uniform(rng, 4, -0.1f, 0.1f));
  const int32_t d = b.add_tensor("dw", TensorType::kFloat32, {1, 6, 6, 4}, {}, {-1, 6, 6, 4});
  b.add_operator(BuiltinOp::kDepthwiseConv2D, {x, dw, db}, {d},
                 lite::DepthwiseConv2DOptions{lite::Padding::kSame, 1, 1, 1, Activation::kRelu6, 1, 1});
  const int32_t a = b.add_tensor("add", TensorType::kFloat32, {1, 6, 6, 4}, {}, {-1, 6, 6, 4});
  b.add_operator(BuiltinOp::kAdd, {x, d}, {a}, lite::AddOptions{});
  const int32_t cc = b.add_tensor("concat", TensorType::kFloat32, {1, 6, 6, 8}, {}, {-1, 6, 6, 8});
  b.add_operator(BuiltinOp::kConcatenation, {a, x}, {cc}, lite::ConcatenationOptions{3, Activation::kLinear});
  const int32_t ap = b.add_tensor("avg", TensorType::kFloat32, {1, 3, 3, 8}, {}, {-1, 3, 3, 8});
  b.add_operator(BuiltinOp::kAveragePool2D, {cc}, {ap}, lite::Pool2DOptions{lite::Padding::kSame, 2, 2, 2, 2, Activation::kLinear});
  const int32_t axes = b.add_constant("mean/axes", TensorType::kInt32, {2}, std::vector<int32_t>{1, 2});
  const int32_t m = b.add_tensor("mean", TensorType::kFloat32, {1, 8}, {}, {-1, 8});
  b.add_operator(BuiltinOp::kMean, {ap, axes}, {m}, lite::ReducerOptions{false});
  const int32_t fw = b.add_constant("fc/w", TensorType::kFloat32, {3, 8}, uniform(rng, 24, -1.0f, 1.0f));
  const int32_t y = b.add_tensor("y", TensorType::kFloat32, {1, 3}, {}, {-1, 3});
  b.add_operator(BuiltinOp::kFullyConnected, {m, fw, -1}, {y}, lite::FullyConnectedOptions{});
  b.set_inputs({x});
  b.set_outputs({y});
  return b.build();
}

// int8 x[b,6,6,4] -> DW 3x3 relu6 -> ADD(x) -> CONCAT(., x) -> AVG_POOL 2x2 -> RESHAPE -> FC(3).
// ADD and CONCATENATION outputs share x's parameters (CONCATENATION requires it).
inline lite::ModelDef int8_mobile(uint64_t seed) {
  Rng rng(seed);
  ModelBuilder b;
  const float xs = 0.02f, ds = 0.03f;
  const int32_t xzp = 5, dzp = -128;
  const auto per_t = [](float sc, int32_t zp) { return Quantization::per_tensor(sc, zp); };
  const int32_t x = b.add_tensor("x", TensorType::kInt8, {1, 6, 6, 4}, per_t(xs, xzp), {-1, 6, 6, 4});
  const QWeights dw = quantize_weights(uniform(rng, 36, -0.5f, 0.5f), 1);  // 1HWC: per channel needs a transpose; per tensor here
  const int32_t dwt = b.add_constant("dw/w", TensorType::kInt8, {1, 3, 3, 4}, dw.q, per_t(dw.scales[0], 0));
  std::vector<int32_t> dbias(4);
  for (auto& v : dbias) v = static_cast<int32_t>(rng.below(200)) - 100;
  const int32_t dbt = b.add_constant("dw/b", TensorType::kInt32, {4}, dbias, per_t(xs * dw.scales[0], 0));
  const int32_t d = b.add_tensor("dw", TensorType::kInt8, {1, 6, 6, 4}, per_t(ds, dzp), {-1, 6, 6, 4});
  b.add_operator(BuiltinOp::kDepthwiseConv2D, {x, dwt, dbt}, {d},
                 lite::DepthwiseConv2DOptions{lite::Padding::kSame, 1, 1, 1, Activation::kRelu6, 1, 1}, 3);
  const int32_t a = b.add_tensor("add", TensorType::kInt8, {1, 6, 6, 4}, per_t(xs * 2, xzp), {-1, 6, 6, 4});
  b.add_operator(BuiltinOp::kAdd, {x, d}, {a}, lite::AddOptions{}, 2);
  const int32_t cc = b.add_tensor("concat", TensorType::kInt8, {1, 6, 6, 8}, per_t(xs * 2, xzp), {-1, 6, 6, 8});
  // x is requantized to the ADD output's parameters first, as converters do.
  const int32_t xr = b.add_tensor("x_r", TensorType::kInt8, {1, 6, 6, 4}, per_t(xs * 2, xzp), {-1, 6, 6, 4});
  b.add_operator(BuiltinOp::kQuantize, {x}, {xr}, {}, 2);
  b.add_operator(BuiltinOp::kConcatenation, {a, xr}, {cc}, lite::ConcatenationOptions{3, Activation::kLinear}, 2);
  const int32_t ap = b.add_tensor("avg", TensorType::kInt8, {1, 3, 3, 8}, per_t(xs * 2, xzp), {-1, 3, 3, 8});
  b.add_operator(BuiltinOp::kAveragePool2D, {cc}, {ap}, lite::Pool2DOptions{lite::Padding::kSame, 2, 2, 2, 2, Activation::kLinear}, 2);
  const int32_t fl = b.add_tensor("flat", TensorType::kInt8, {1, 72}, per_t(xs * 2, xzp), {-1, 72});
  b.add_operator(BuiltinOp::kReshape, {ap}, {fl}, lite::ReshapeOptions{{-1, 72}});
  const QWeights fw = quantize_weights(uniform(rng, 216, -0.3f, 0.3f), 1);
  const int32_t fwt = b.add_constant("fc/w", TensorType::kInt8, {3, 72}, fw.q, per_t(fw.scales[0], 0));
  const int32_t y = b.add_tensor("y", TensorType::kInt8, {1, 3}, per_t(0.05f, -2), {-1, 3});
  b.add_operator(BuiltinOp::kFullyConnected, {fl, fwt, -1}, {y}, lite::FullyConnectedOptions{}, 4);
  b.set_inputs({x});
  b.set_outputs({y});
  return b.build();
}

}  // namespace qlite::test
