#include "kernels/reference/math_kernels.h"

#include <string>

#include "qlite/core.h"

namespace qlite::ref {
namespace {

std::string dims_text(const std::vector<int64_t>& s) {
  std::string r = "(";
  for (size_t i = 0; i < s.size(); ++i) r += (i ? ", " : "") + std::to_string(s[i]);
  return r + ")";
}

void check_quant(float scale, int32_t zp, int32_t qmin, int32_t qmax, const char* what) {
  QLITE_CHECK(std::isfinite(scale) && scale > 0.0f, std::string(what) + ": scale must be finite and > 0");
  QLITE_CHECK(zp >= qmin && zp <= qmax, std::string(what) + ": zero point " + std::to_string(zp) + " outside [" +
                                            std::to_string(qmin) + ", " + std::to_string(qmax) + "]");
}

// x86's conversion of a float to int32, then the int32 sum with wrap-around
// (TFLite's `zero_point + static_cast<int32>(roundf(r / scale))`).
int32_t zp_plus_rounded(int32_t zp, float r) {
  return static_cast<int32_t>(static_cast<uint32_t>(zp) + static_cast<uint32_t>(x86_float_to_int32(std::round(r))));
}

}  // namespace

std::vector<int64_t> BroadcastGeometry::out_shape() const {
  return std::vector<int64_t>(dims.begin() + (rank - out_rank), dims.begin() + rank);
}

BroadcastGeometry make_broadcast(const char* op, std::span<const std::vector<int64_t>> shapes, int max_rank) {
  QLITE_CHECK(shapes.size() >= 1 && shapes.size() <= 3, std::string(op) + ": 1 to 3 inputs broadcast");
  BroadcastGeometry g;
  g.inputs = static_cast<int>(shapes.size());
  int rank = 0;
  for (const auto& s : shapes) {
    if (static_cast<int>(s.size()) > max_rank)
      throw Error(std::string(op) + ": input shape " + dims_text(s) + " has rank " + std::to_string(s.size()) +
                  ", more than the " + std::to_string(max_rank) + " dimensions it broadcasts");
    rank = std::max(rank, static_cast<int>(s.size()));
  }
  g.out_rank = rank;
  g.rank = std::max(rank, 1);
  g.same = true;
  for (const auto& s : shapes) g.same = g.same && static_cast<int>(s.size()) == rank;
  for (int d = 0; d < g.rank; ++d) {
    int64_t dim = 1;
    for (const auto& s : shapes) {
      const int off = g.rank - static_cast<int>(s.size());
      const int64_t v = d < off ? 1 : s[static_cast<size_t>(d - off)];
      if (v == dim || v == 1) continue;
      if (dim != 1) {
        std::string list;
        for (const auto& t : shapes) list += (list.empty() ? "" : " and ") + dims_text(t);
        throw Error(std::string(op) + ": shapes " + list + " do not broadcast");
      }
      dim = v;
    }
    g.dims[static_cast<size_t>(d)] = dim;
  }
  for (size_t k = 0; k < shapes.size(); ++k) {
    const auto& s = shapes[k];
    const int off = g.rank - static_cast<int>(s.size());
    int64_t stride = 1;
    for (int d = g.rank - 1; d >= 0; --d) {
      const int64_t v = d < off ? 1 : s[static_cast<size_t>(d - off)];
      g.strides[k][static_cast<size_t>(d)] = v == 1 ? 0 : stride;
      if (v != g.dims[static_cast<size_t>(d)]) g.same = false;
      stride *= v;
    }
  }
  g.count = 1;
  for (int d = 0; d < g.rank; ++d) g.count *= g.dims[static_cast<size_t>(d)];
  return g;
}

MulQuantParams make_mul_params(float s1, int32_t zp1, float s2, int32_t zp2, float so, int32_t zpo, Activation act,
                               int32_t qmin, int32_t qmax) {
  check_quant(s1, zp1, qmin, qmax, "mul input 1");
  check_quant(s2, zp2, qmin, qmax, "mul input 2");
  check_quant(so, zpo, qmin, qmax, "mul output");
  MulQuantParams p;
  p.in1_offset = -zp1;
  p.in2_offset = -zp2;
  p.out_offset = zpo;
  // float product and quotient, then widened (mul.cc's expression on float scales)
  const float real = s1 * s2 / so;
  QLITE_CHECK(std::isfinite(real) && real < 2147483648.0f, "mul: the scale ratio s1 * s2 / so is out of range");
  p.m = quantize_multiplier(static_cast<double>(real));
  p.act = fused_activation_range(act, so, zpo, qmin, qmax);
  return p;
}

SubQuantParams make_sub_params(float s1, int32_t zp1, float s2, int32_t zp2, float so, int32_t zpo, Activation act,
                               int32_t qmin, int32_t qmax) {
  check_quant(s1, zp1, qmin, qmax, "sub input 1");
  check_quant(s2, zp2, qmin, qmax, "sub input 2");
  check_quant(so, zpo, qmin, qmax, "sub output");
  SubQuantParams p;
  p.in1_offset = -zp1;
  p.in2_offset = -zp2;
  p.out_offset = zpo;
  p.left_shift = qmax > 255 ? 15 : 20;
  const double twice_max = 2.0 * std::max<double>(s1, s2);
  p.m1 = quantize_multiplier(static_cast<double>(s1) / twice_max);
  p.m2 = quantize_multiplier(static_cast<double>(s2) / twice_max);
  const double out = twice_max / (static_cast<double>(int64_t{1} << p.left_shift) * so);
  // TFLite's QuantizeMultiplierSmallerThanOneExp aborts on a multiplier >= 1.
  QLITE_CHECK(out < 1.0, "sub: the output multiplier 2 max(s1, s2) / (2^" + std::to_string(p.left_shift) +
                             " so) must be below 1");
  p.out = quantize_multiplier(out);
  p.act = fused_activation_range(act, so, zpo, qmin, qmax);
  return p;
}

SquaredDifferenceQuantParams make_squared_difference_params(float s1, int32_t zp1, float s2, int32_t zp2, float so,
                                                            int32_t zpo) {
  check_quant(s1, zp1, -128, 127, "squared_difference input 1");
  check_quant(s2, zp2, -128, 127, "squared_difference input 2");
  check_quant(so, zpo, -128, 127, "squared_difference output");
  SquaredDifferenceQuantParams p;
  p.in1_offset = -zp1;
  p.in2_offset = -zp2;
  p.out_offset = zpo;
  const double twice_max = 2.0 * static_cast<double>(std::max(s1, s2));
  const double out = twice_max * twice_max / static_cast<double>(static_cast<float>(1 << 14) * so);
  QLITE_CHECK(out < 1.0, "squared_difference: the output multiplier (2 max(s1, s2))^2 / (2^14 so) must be below 1 "
                         "(TensorFlow Lite 2.9 aborts otherwise)");
  p.m1 = quantize_multiplier(static_cast<double>(s1) / twice_max);
  p.m2 = quantize_multiplier(static_cast<double>(s2) / twice_max);
  p.out = quantize_multiplier(out);
  return p;
}

CompareQuantParams make_compare_params(float s1, int32_t zp1, float s2, int32_t zp2) {
  for (float s : {s1, s2})
    QLITE_CHECK(std::isfinite(s) && s > 0.0f && s < 1.0f,
                "comparison: quantized input scales must be in (0, 1) (TensorFlow Lite 2.9 aborts otherwise)");
  CompareQuantParams p;
  p.in1_offset = -zp1;
  p.in2_offset = -zp2;
  p.m1 = quantize_multiplier(s1);
  p.m2 = quantize_multiplier(s2);
  return p;
}

ReluQuantParams make_relu_params(float lo, float hi, float si, int32_t zi, float so, int32_t zo, int32_t qmin,
                                 int32_t qmax) {
  check_quant(si, zi, qmin, qmax, "relu input");
  check_quant(so, zo, qmin, qmax, "relu output");
  ReluQuantParams p;
  p.wide = false;
  p.in_zp = zi;
  p.out_zp = zo;
  // activations.cc: `double real_multiplier = input->params.scale /
  // output->params.scale;`, a float quotient widened afterwards.
  const double real = static_cast<double>(si / so);
  QLITE_CHECK(real < 2147483648.0, "relu: input scale / output scale is too large");
  p.m = quantize_multiplier(real);
  p.act_min = std::max(qmin, zp_plus_rounded(zo, lo / so));
  p.act_max = std::isinf(hi) ? qmax : std::min(qmax, zp_plus_rounded(zo, hi / so));
  return p;
}

int32_t relu_quantized(const ReluQuantParams& p, int32_t q) {
  const int32_t m = p.wide ? multiply_by_quantized_multiplier_64(q - p.in_zp, p.m)
                           : multiply_by_quantized_multiplier(q - p.in_zp, p.m);
  const int32_t v = static_cast<int32_t>(static_cast<uint32_t>(p.out_zp) + static_cast<uint32_t>(m));
  return std::min(p.act_max, std::max(p.act_min, v));
}

LeakyReluQuantParams make_leaky_relu_params(float alpha, float si, int32_t zi, float so, int32_t zo, int32_t qmin,
                                            int32_t qmax) {
  check_quant(si, zi, qmin, qmax, "leaky_relu input");
  check_quant(so, zo, qmin, qmax, "leaky_relu output");
  QLITE_CHECK(std::isfinite(alpha) && alpha >= 0.0f, "leaky_relu: a quantized alpha must be finite and >= 0");
  LeakyReluQuantParams p;
  p.wide = false;
  p.in_zp = zi;
  p.out_zp = zo;
  p.qmin = qmin;
  p.qmax = qmax;
  // Float products and quotients, widened afterwards (activations.cc).
  const double identity = static_cast<double>(si / so);
  const double a = static_cast<double>(si * alpha / so);
  QLITE_CHECK(identity < 2147483648.0 && a < 2147483648.0, "leaky_relu: the scale ratios are too large");
  p.identity = quantize_multiplier(identity);
  p.alpha = quantize_multiplier(a);
  return p;
}

int32_t leaky_relu_quantized(const LeakyReluQuantParams& p, int32_t q) {
  const int32_t x = q - p.in_zp;
  const QuantizedMultiplier k = x >= 0 ? p.identity : p.alpha;
  const int32_t m = p.wide ? multiply_by_quantized_multiplier_64(x, k) : multiply_by_quantized_multiplier(x, k);
  const int64_t v = int64_t{p.out_zp} + m;
  return static_cast<int32_t>(std::clamp<int64_t>(v, p.qmin, p.qmax));
}

AbsQuantParams make_abs_params(float si, int32_t zi, float so, int32_t zo, int32_t qmin, int32_t qmax) {
  check_quant(si, zi, qmin, qmax, "abs input");
  check_quant(so, zo, qmin, qmax, "abs output");
  AbsQuantParams p;
  p.wide = false;
  p.in_zp = zi;
  p.out_zp = zo;
  p.qmin = qmin;
  p.qmax = qmax;
  p.rescale = si != so;
  if (p.rescale) {
    const double real = static_cast<double>(si / so);  // a float quotient, widened
    QLITE_CHECK(real < 2147483648.0, "abs: input scale / output scale is too large");
    p.m = quantize_multiplier(real);
  }
  return p;
}

int32_t abs_quantized(const AbsQuantParams& p, int32_t q) {
  const int32_t v = std::abs(q - p.in_zp);
  const int32_t r = !p.rescale ? v : p.wide ? multiply_by_quantized_multiplier_64(v, p.m) : multiply_by_quantized_multiplier(v, p.m);
  const int64_t o = int64_t{r} + p.out_zp;
  return static_cast<int32_t>(std::clamp<int64_t>(o, p.qmin, p.qmax));
}

PreluQuantParams make_prelu_params(float si, int32_t zi, float sa, int32_t za, float so, int32_t zo, int32_t qmin,
                                   int32_t qmax) {
  check_quant(si, zi, qmin, qmax, "prelu input");
  check_quant(sa, za, qmin, qmax, "prelu alpha");
  check_quant(so, zo, qmin, qmax, "prelu output");
  PreluQuantParams p;
  p.in_zp = zi;
  p.alpha_zp = za;
  p.out_zp = zo;
  p.qmin = qmin;
  p.qmax = qmax;
  const double identity = static_cast<double>(si / so), alpha = static_cast<double>(si * sa / so);
  QLITE_CHECK(identity < 2147483648.0 && alpha < 2147483648.0, "prelu: the scale ratios are too large");
  p.identity = quantize_multiplier(identity);
  p.alpha = quantize_multiplier(alpha);
  return p;
}

float gelu_f32(float x, bool approximate) {
  if (approximate) {
    constexpr float kSqrt2dPi = 0.7978845608028654f;  // sqrt(2 / pi)
    return 0.5f * x * (1.0f + std::tanh(kSqrt2dPi * (x + 0.044715f * x * x * x)));
  }
  return 0.5f * x * (1.0f + std::erf(x * 0.7071067811865476f));
}

void log_softmax_row_f32(int64_t n, const float* x, float* y) {
  if (n <= 0) return;
  float mx = x[0];
  for (int64_t i = 1; i < n; ++i) mx = std::max(mx, x[i]);
  float sum = 0.0f;
  for (int64_t i = 0; i < n; ++i) sum += std::exp(x[i] - mx);
  const float log_sum = std::log(sum);
  for (int64_t i = 0; i < n; ++i) y[i] = x[i] - mx - log_sum;
}

void l2_normalize_row_f32(int64_t n, const float* x, float* y) {
  float squared = 0.0f;
  for (int64_t i = 0; i < n; ++i) squared += x[i] * x[i];
  const float norm = std::max(std::sqrt(squared), 1e-6f);
  for (int64_t i = 0; i < n; ++i) y[i] = x[i] / norm;
}

void l2_pool2d_f32(const WindowGeometry& g, Activation act, const float* in, float* out) {
  validate_geometry(g, "l2_pool2d_f32");
  const FloatActRange r = fused_activation_range_f32(act);
  for (int b = 0; b < g.batch; ++b)
    for (int oy = 0; oy < g.out_h; ++oy)
      for (int ox = 0; ox < g.out_w; ++ox) {
        const int y0 = oy * g.stride_h - g.pad_top, x0 = ox * g.stride_w - g.pad_left;
        const int fy0 = std::max(0, -y0), fy1 = std::min(g.kernel_h, g.in_h - y0);
        const int fx0 = std::max(0, -x0), fx1 = std::min(g.kernel_w, g.in_w - x0);
        float* o = out + ((int64_t{b} * g.out_h + oy) * g.out_w + ox) * g.out_c;
        for (int c = 0; c < g.in_c; ++c) {
          float sum = 0.0f;
          int count = 0;
          for (int fy = fy0; fy < fy1; ++fy)
            for (int fx = fx0; fx < fx1; ++fx) {
              const float v = in[((int64_t{b} * g.in_h + y0 + fy) * g.in_w + x0 + fx) * g.in_c + c];
              sum += v * v;
              ++count;
            }
          const float l2 = std::sqrt(sum / static_cast<float>(count));
          o[c] = std::min(std::max(l2, r.min), r.max);
        }
      }
}

ReduceGeometry make_reduce(const char* op, const std::vector<int64_t>& in_shape, std::span<const int64_t> axes) {
  ReduceGeometry g;
  g.in_dims = in_shape;
  const auto rank = static_cast<int64_t>(in_shape.size());
  if (in_shape.size() > kMaxReduceRank)
    throw Error(std::string(op) + ": input of rank " + std::to_string(rank) + "; reductions take ranks up to " +
                std::to_string(kMaxReduceRank));
  g.reduced.assign(in_shape.size(), false);
  for (int64_t a : axes) {
    if (a < -rank || a >= rank)
      throw Error(std::string(op) + ": axis " + std::to_string(a) + " is outside [" + std::to_string(-rank) + ", " +
                  std::to_string(rank) + ") for an input of rank " + std::to_string(rank));
    g.reduced[static_cast<size_t>(a < 0 ? a + rank : a)] = true;
  }
  g.in_count = 1;
  g.out_count = 1;
  for (size_t d = 0; d < in_shape.size(); ++d) {
    g.in_count *= in_shape[d];
    if (g.reduced[d]) g.reduce_count *= in_shape[d];
    else g.out_count *= in_shape[d];
  }
  return g;
}

std::vector<int64_t> reduce_output_shape(const ReduceGeometry& g, bool keep_dims) {
  std::vector<int64_t> s;
  for (size_t d = 0; d < g.in_dims.size(); ++d) {
    if (!g.reduced[d]) s.push_back(g.in_dims[d]);
    else if (keep_dims) s.push_back(1);
  }
  return s;
}

int32_t quantized_sum_output(int32_t raw_sum, int64_t n, float si, int32_t zi, float so, int32_t zo) {
  const float scale = si / so;
  const float bias = static_cast<float>(-zi) * scale * static_cast<float>(n);
  const float r = std::round(static_cast<float>(raw_sum) * scale + bias);
  return static_cast<int32_t>(static_cast<uint32_t>(x86_float_to_int32(r)) + static_cast<uint32_t>(zo));
}

}  // namespace qlite::ref
