#include "kernels/reference/matmul_kernels.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>

#include "kernels/reference/hybrid_kernels.h"
#include "kernels/reference/int16_kernels.h"

namespace qlite::ref {
namespace {

std::string dims_str(const std::vector<int64_t>& s) {
  std::string r = "(";
  for (size_t i = 0; i < s.size(); ++i) r += (i ? ", " : "") + std::to_string(s[i]);
  return r + ")";
}

// Wrap-around to int32, as TFLite's int32 accumulators behave (defined here).
inline int32_t wrap32(int64_t v) { return static_cast<int32_t>(static_cast<uint32_t>(static_cast<uint64_t>(v))); }

// fn(lhs_matrix_offset, rhs_matrix_offset, out_matrix_offset) per output matrix.
template <class F>
void for_each_matrix(const BatchMatMulShape& s, F&& fn) {
  const int64_t lhs_mat = s.lhs_rows * s.lhs_cols, rhs_mat = s.rhs_rows * s.rhs_cols, out_mat = s.m() * s.n();
  // Element strides of the batch dimensions; 0 where the dimension broadcasts.
  int64_t ls[3], rs[3];
  int64_t lacc = lhs_mat, racc = rhs_mat;
  for (int d = 2; d >= 0; --d) {
    ls[d] = s.lhs_batch[d] == 1 ? 0 : lacc;
    rs[d] = s.rhs_batch[d] == 1 ? 0 : racc;
    lacc *= s.lhs_batch[d], racc *= s.rhs_batch[d];
  }
  int64_t o = 0;
  for (int64_t b0 = 0; b0 < s.out_batch[0]; ++b0)
    for (int64_t b1 = 0; b1 < s.out_batch[1]; ++b1)
      for (int64_t b2 = 0; b2 < s.out_batch[2]; ++b2, o += out_mat)
        fn(b0 * ls[0] + b1 * ls[1] + b2 * ls[2], b0 * rs[0] + b1 * rs[1] + b2 * rs[2], o);
}

// The element strides of lhs[i, k] and rhs[k, j] after adj_x / adj_y.
struct MatStrides {
  int64_t li, lk, rk, rj;
};
MatStrides mat_strides(const BatchMatMulShape& s) {
  MatStrides m{};
  if (s.adj_x) m.li = 1, m.lk = s.lhs_cols;
  else m.li = s.lhs_cols, m.lk = 1;
  if (s.adj_y) m.rk = 1, m.rj = s.rhs_cols;
  else m.rk = s.rhs_cols, m.rj = 1;
  return m;
}

}  // namespace

BatchMatMulShape make_batch_matmul_shape(const std::vector<int64_t>& lhs, const std::vector<int64_t>& rhs,
                                         bool adj_x, bool adj_y, std::vector<int64_t>& out) {
  QLITE_CHECK(lhs.size() >= 2 && lhs.size() <= 5 && rhs.size() >= 2 && rhs.size() <= 5,
              "batch_matmul: ranks " + std::to_string(lhs.size()) + " and " + std::to_string(rhs.size()) +
                  " must be 2 to 5");
  for (int64_t d : lhs) QLITE_CHECK(d >= 0, "batch_matmul: negative dimension in " + dims_str(lhs));
  for (int64_t d : rhs) QLITE_CHECK(d >= 0, "batch_matmul: negative dimension in " + dims_str(rhs));
  BatchMatMulShape s;
  s.adj_x = adj_x, s.adj_y = adj_y;
  const size_t rank = std::max(lhs.size(), rhs.size());
  auto ext = [](const std::vector<int64_t>& v, int64_t (&b)[3]) {
    // v's batch dimensions right-aligned into the last of the 3 slots.
    const size_t nb = v.size() - 2;
    for (size_t i = 0; i < nb; ++i) b[3 - nb + i] = v[i];
  };
  ext(lhs, s.lhs_batch), ext(rhs, s.rhs_batch);
  s.lhs_rows = lhs[lhs.size() - 2], s.lhs_cols = lhs.back();
  s.rhs_rows = rhs[rhs.size() - 2], s.rhs_cols = rhs.back();
  out.assign(rank, 0);
  for (int d = 0; d < 3; ++d) {
    const int64_t a = s.lhs_batch[d], b = s.rhs_batch[d];
    QLITE_CHECK(a == b || a == 1 || b == 1, "batch_matmul: batch dimensions of " + dims_str(lhs) + " and " +
                                                dims_str(rhs) + " do not broadcast");
    s.out_batch[d] = a == 1 ? b : a;
  }
  const int64_t depth_rhs = adj_y ? s.rhs_cols : s.rhs_rows;
  QLITE_CHECK(s.k() == depth_rhs, "batch_matmul: depth " + std::to_string(s.k()) + " of " + dims_str(lhs) +
                                      " differs from " + std::to_string(depth_rhs) + " of " + dims_str(rhs) +
                                      (adj_x || adj_y ? " (after adj_x / adj_y)" : ""));
  for (size_t i = 0; i + 2 < rank; ++i) out[i] = s.out_batch[3 - (rank - 2) + i];
  out[rank - 2] = s.m(), out[rank - 1] = s.n();
  return s;
}

void batch_matmul_f32(const BatchMatMulShape& s, const float* lhs, const float* rhs, float* out) {
  const MatStrides st = mat_strides(s);
  const int64_t m = s.m(), n = s.n(), k = s.k();
  for_each_matrix(s, [&](int64_t lo, int64_t ro, int64_t oo) {
    for (int64_t i = 0; i < m; ++i)
      for (int64_t j = 0; j < n; ++j) {
        float acc = 0.0f;
        for (int64_t d = 0; d < k; ++d) acc += lhs[lo + i * st.li + d * st.lk] * rhs[ro + d * st.rk + j * st.rj];
        out[oo + i * n + j] = acc;
      }
  });
}

void batch_matmul_int8(const BatchMatMulInt8Params& p, const int8_t* lhs, const int8_t* rhs, int8_t* out) {
  const BatchMatMulShape& s = p.s;
  const MatStrides st = mat_strides(s);
  const int64_t m = s.m(), n = s.n(), k = s.k();
  for_each_matrix(s, [&](int64_t lo, int64_t ro, int64_t oo) {
    for (int64_t i = 0; i < m; ++i)
      for (int64_t j = 0; j < n; ++j) {
        int64_t acc = 0;
        for (int64_t d = 0; d < k; ++d)
          acc += (int64_t{lhs[lo + i * st.li + d * st.lk]} - p.lhs_zero_point) *
                 (int64_t{rhs[ro + d * st.rk + j * st.rj]} - p.rhs_zero_point);
        const int64_t v =
            int64_t{multiply_by_quantized_multiplier(wrap32(acc), p.requant, p.rounding)} + p.out_zero_point;
        out[oo + i * n + j] = static_cast<int8_t>(std::clamp<int64_t>(v, -128, 127));
      }
  });
}

void batch_matmul_int16(const BatchMatMulShape& s, const QuantizedMultiplier& requant, const int16_t* lhs,
                        const int16_t* rhs, int16_t* out) {
  const MatStrides st = mat_strides(s);
  const int64_t m = s.m(), n = s.n(), k = s.k();
  for_each_matrix(s, [&](int64_t lo, int64_t ro, int64_t oo) {
    for (int64_t i = 0; i < m; ++i)
      for (int64_t j = 0; j < n; ++j) {
        // |term| < 2^30: int64 overflows only past 2^33 terms, more than a
        // tensor can hold; wrap defined anyway.
        uint64_t acc = 0;
        for (int64_t d = 0; d < k; ++d)
          acc += static_cast<uint64_t>(int64_t{lhs[lo + i * st.li + d * st.lk]} * rhs[ro + d * st.rk + j * st.rj]);
        const int32_t v =
            multiply_by_quantized_multiplier_int64(static_cast<int64_t>(acc), requant.multiplier, requant.shift);
        out[oo + i * n + j] = static_cast<int16_t>(std::clamp<int32_t>(v, -32768, 32767));
      }
  });
}

BatchMatMulHybridScratchSizes batch_matmul_hybrid_scratch(const BatchMatMulShape& s) {
  BatchMatMulHybridScratchSizes z;
  const int64_t lb = s.lhs_batch[0] * s.lhs_batch[1] * s.lhs_batch[2];
  const int64_t rb = s.rhs_batch[0] * s.rhs_batch[1] * s.rhs_batch[2];
  z.lhs_elements = lb * s.lhs_rows * s.lhs_cols;
  z.lhs_rows = lb * s.m();
  z.row_sums = rb * s.n();
  return z;
}

namespace {

// float -> int32 as x86's cvttss2si: truncation, and INT32_MIN for NaN or
// anything outside int32 (what TFLite's compiled `int32 -= float` gives).
int32_t x86_float_to_int32(float v) {
  if (!(v >= -2147483648.0f && v < 2147483648.0f)) return std::numeric_limits<int32_t>::min();
  return static_cast<int32_t>(v);
}

}  // namespace

void batch_matmul_hybrid(const BatchMatMulHybridParams& p, const float* lhs, const int8_t* rhs,
                         const BatchMatMulHybridScratch& sc, float* out) {
  const BatchMatMulShape& s = p.s;
  QLITE_CHECK(s.k() > 0, "batch_matmul_hybrid: depth must be positive");
  QLITE_CHECK(std::isfinite(p.rhs_scale) && p.rhs_scale > 0.0f,
              "batch_matmul_hybrid: rhs scale must be finite and > 0");
  QLITE_CHECK(lhs && rhs && out && sc.quantized && sc.scaling && sc.offsets && sc.row_sums &&
                  (!s.adj_x || sc.lhs_transposed),
              "batch_matmul_hybrid: null tensor or scratch");
  const BatchMatMulHybridScratchSizes z = batch_matmul_hybrid_scratch(s);
  const int64_t m = s.m(), n = s.n(), k = s.k();
  // The lhs as rows of k: transposed first under adj_x, as TFLite does.
  const float* rows = lhs;
  if (s.adj_x) {
    const int64_t mat = m * k;
    for (int64_t b = 0; b * mat < z.lhs_elements; ++b)
      for (int64_t i = 0; i < m; ++i)
        for (int64_t d = 0; d < k; ++d) sc.lhs_transposed[b * mat + i * k + d] = lhs[b * mat + d * m + i];
    rows = sc.lhs_transposed;
  }
  for (int64_t r = 0; r < z.lhs_rows; ++r) {
    if (p.asymmetric_inputs) {
      hybrid_quantize_asymmetric(rows + r * k, k, sc.quantized + r * k, &sc.scaling[r], &sc.offsets[r]);
    } else {
      hybrid_quantize_symmetric(rows + r * k, k, sc.quantized + r * k, &sc.scaling[r]);
      sc.offsets[r] = 0;
    }
    sc.scaling[r] *= p.rhs_scale;
  }
  // Row sums of the rhs as TFLite holds it ([n, k] per matrix): sum over k of rhs[k, j].
  const MatStrides st = mat_strides(s);
  const int64_t rhs_mat = s.rhs_rows * s.rhs_cols;
  for (int64_t w = 0; w * n < z.row_sums; ++w)
    for (int64_t j = 0; j < n; ++j) {
      int64_t sum = 0;
      for (int64_t d = 0; d < k; ++d) sum += rhs[w * rhs_mat + d * st.rk + j * st.rj];
      sc.row_sums[w * n + j] = wrap32(sum);
    }
  // Batch strides (0 where a dimension broadcasts) and TFLite's scale / row-sum steps.
  int64_t ls[3], rs[3], lstep[3], rstep[3];
  int64_t lacc = m * k, racc = rhs_mat;
  for (int d = 2; d >= 0; --d) {
    ls[d] = s.lhs_batch[d] == 1 ? 0 : lacc;
    rs[d] = s.rhs_batch[d] == 1 ? 0 : racc;
    lstep[d] = s.lhs_batch[d] == 1 ? 0 : m;
    rstep[d] = s.rhs_batch[d] == 1 ? 0 : n;
    lacc *= s.lhs_batch[d], racc *= s.rhs_batch[d];
  }
  float* o = out;
  for (int64_t b0 = 0; b0 < s.out_batch[0]; ++b0)
    for (int64_t b1 = 0; b1 < s.out_batch[1]; ++b1)
      for (int64_t b2 = 0; b2 < s.out_batch[2]; ++b2, o += m * n) {
        const int8_t* q = sc.quantized + b0 * ls[0] + b1 * ls[1] + b2 * ls[2];
        const int8_t* r = rhs + b0 * rs[0] + b1 * rs[1] + b2 * rs[2];
        const int64_t srow = b0 * lstep[0] + b1 * lstep[1] + b2 * lstep[2];
        const int64_t rrow = b0 * rstep[0] + b1 * rstep[1] + b2 * rstep[2];
        for (int64_t i = 0; i < m; ++i) {
          const float scale = sc.scaling[srow + i];
          const float offset = static_cast<float>(sc.offsets[srow + i]);
          for (int64_t j = 0; j < n; ++j) {
            int64_t acc = 0;
            for (int64_t d = 0; d < k; ++d) acc += int64_t{q[i * k + d]} * r[d * st.rk + j * st.rj];
            const float corrected =
                static_cast<float>(wrap32(acc)) - static_cast<float>(sc.row_sums[rrow + j]) * offset;
            o[i * n + j] = 0.0f + scale * static_cast<float>(x86_float_to_int32(corrected));
          }
        }
      }
}

TransposeConvPadding transpose_conv_padding(bool same, int64_t out_size, int64_t filter, int64_t stride) {
  QLITE_CHECK(stride >= 1 && filter >= 1 && out_size >= 0, "transpose_conv_padding: invalid sizes");
  TransposeConvPadding r;
  r.conv_out = same ? (out_size + stride - 1) / stride : (out_size + stride - filter) / stride;
  if (r.conv_out < 0) r.conv_out = 0;  // TFLite's int division truncates; a negative size is no size
  const int64_t total = std::max<int64_t>(0, (r.conv_out - 1) * stride + filter - out_size);
  r.pad = total / 2;
  return r;
}

namespace {

// fn(acc_index_unused, b, oy, ox) visits outputs; terms(b, oy, ox, visit)
// calls visit(input_pixel_offset, weight_offset_of_(fy, fx)) for every input
// pixel that scatters into (oy, ox): iy * stride_h - pad_h + fy == oy.
template <class Visit>
void contributions(const TransposeConvGeometry& g, int64_t b, int64_t oy, int64_t ox, Visit&& visit) {
  for (int64_t fy = 0; fy < g.filter_h; ++fy) {
    const int64_t ty = oy + g.pad_h - fy;
    if (ty < 0 || ty % g.stride_h != 0) continue;
    const int64_t iy = ty / g.stride_h;
    if (iy >= g.in_h) continue;
    for (int64_t fx = 0; fx < g.filter_w; ++fx) {
      const int64_t tx = ox + g.pad_w - fx;
      if (tx < 0 || tx % g.stride_w != 0) continue;
      const int64_t ix = tx / g.stride_w;
      if (ix >= g.in_w) continue;
      visit(((b * g.in_h + iy) * g.in_w + ix) * g.in_c, (fy * g.filter_w + fx) * g.in_c);
    }
  }
}

void check_geometry(const TransposeConvGeometry& g, const char* op) {
  QLITE_CHECK(g.batch >= 0 && g.in_h >= 0 && g.in_w >= 0 && g.in_c >= 0 && g.out_h >= 0 && g.out_w >= 0 &&
                  g.out_c >= 0 && g.filter_h >= 1 && g.filter_w >= 1 && g.stride_h >= 1 && g.stride_w >= 1 &&
                  g.pad_h >= 0 && g.pad_w >= 0,
              std::string(op) + ": invalid geometry");
}

template <class In, class W, class Acc, class Out, class Finish>
void transpose_conv_int(const TransposeConvGeometry& g, const In* input, const W* weights, int32_t in_zp,
                        int32_t w_zp, Out* output, Finish&& finish) {
  const int64_t w_oc = g.filter_h * g.filter_w * g.in_c;  // one output channel's weights
  for (int64_t b = 0; b < g.batch; ++b)
    for (int64_t oy = 0; oy < g.out_h; ++oy)
      for (int64_t ox = 0; ox < g.out_w; ++ox) {
        Out* o = output + ((b * g.out_h + oy) * g.out_w + ox) * g.out_c;
        for (int64_t oc = 0; oc < g.out_c; ++oc) {
          Acc acc = 0;
          contributions(g, b, oy, ox, [&](int64_t ip, int64_t wp) {
            const W* w = weights + oc * w_oc + wp;
            for (int64_t ic = 0; ic < g.in_c; ++ic)
              acc += static_cast<Acc>((int64_t{input[ip + ic]} - in_zp) * (int64_t{w[ic]} - w_zp));
          });
          o[oc] = finish(acc, oc);
        }
      }
}

}  // namespace

void transpose_conv_f32(const TransposeConvGeometry& g, const float* input, const float* weights,
                        const float* bias, float* output) {
  check_geometry(g, "transpose_conv_f32");
  const int64_t w_oc = g.filter_h * g.filter_w * g.in_c;
  for (int64_t b = 0; b < g.batch; ++b)
    for (int64_t oy = 0; oy < g.out_h; ++oy)
      for (int64_t ox = 0; ox < g.out_w; ++ox) {
        float* o = output + ((b * g.out_h + oy) * g.out_w + ox) * g.out_c;
        for (int64_t oc = 0; oc < g.out_c; ++oc) {
          float acc = 0.0f;
          contributions(g, b, oy, ox, [&](int64_t ip, int64_t wp) {
            const float* w = weights + oc * w_oc + wp;
            for (int64_t ic = 0; ic < g.in_c; ++ic) acc += input[ip + ic] * w[ic];
          });
          o[oc] = bias ? acc + bias[oc] : acc;
        }
      }
}

void transpose_conv_int8(const TransposeConvGeometry& g, const TransposeConvQuantParams& p, const int8_t* input, const int8_t* weights,
                         const int32_t* bias, int8_t* output) {
  check_geometry(g, "transpose_conv_int8");
  QLITE_CHECK(p.requant.size() == static_cast<size_t>(g.out_c) || (p.requant.size() == 1 && g.out_c <= 1),
              "transpose_conv_int8: one multiplier per output channel");
  // uint32 accumulation: TFLite's int32 scratch, wrapping, without UB.
  transpose_conv_int<int8_t, int8_t, uint32_t>(
      g, input, weights, p.input_zero_point, 0, output, [&](uint32_t acc, int64_t oc) {
        if (bias) acc += static_cast<uint32_t>(bias[oc]);
        const int64_t v =
            int64_t{multiply_by_quantized_multiplier(static_cast<int32_t>(acc), p.requant[static_cast<size_t>(oc)])} +
            p.output_zero_point;
        return static_cast<int8_t>(std::clamp<int64_t>(v, -128, 127));
      });
}

void transpose_conv_uint8(const TransposeConvGeometry& g, const TransposeConvQuantParams& p, const uint8_t* input, const uint8_t* weights,
                          const int32_t* bias, uint8_t* output) {
  check_geometry(g, "transpose_conv_uint8");
  QLITE_CHECK(p.requant.size() == 1, "transpose_conv_uint8: one multiplier");
  transpose_conv_int<uint8_t, uint8_t, uint32_t>(
      g, input, weights, p.input_zero_point, p.weights_zero_point, output, [&](uint32_t acc, int64_t oc) {
        if (bias) acc += static_cast<uint32_t>(bias[oc]);
        const int64_t v = int64_t{multiply_by_quantized_multiplier(static_cast<int32_t>(acc), p.requant[0])} +
                          p.output_zero_point;
        return static_cast<uint8_t>(std::clamp<int64_t>(v, 0, 255));
      });
}

void transpose_conv_int16x8(const TransposeConvGeometry& g, const TransposeConvQuantParams& p, const int16_t* input, const int8_t* weights,
                            const int64_t* bias, int16_t* output) {
  check_geometry(g, "transpose_conv_int16x8");
  QLITE_CHECK(p.requant.size() == static_cast<size_t>(g.out_c) || (p.requant.size() == 1 && g.out_c <= 1),
              "transpose_conv_int16x8: one multiplier per output channel");
  transpose_conv_int<int16_t, int8_t, uint64_t>(g, input, weights, 0, 0, output, [&](uint64_t acc, int64_t oc) {
    if (bias) acc += static_cast<uint64_t>(bias[oc]);
    const QuantizedMultiplier& m = p.requant[static_cast<size_t>(oc)];
    // Without a bias: the int32 accumulator (wrapping) and one rounding (header).
    const int32_t v = bias ? multiply_by_quantized_multiplier_int64(static_cast<int64_t>(acc), m.multiplier, m.shift)
                           : multiply_by_quantized_multiplier_single_round(
                                 static_cast<int32_t>(static_cast<uint32_t>(acc)), m.multiplier, m.shift);
    return static_cast<int16_t>(std::clamp<int32_t>(v, -32768, 32767));
  });
}

}  // namespace qlite::ref
