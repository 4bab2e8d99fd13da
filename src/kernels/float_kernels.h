// Float kernels of the training layers: a "patch GEMM" that covers Conv2D
// (NHWC input, HWIO kernel) and Dense, its two gradients, activation
// gradients and max pooling. Each kernel exists as a plain C++ reference
// (the spec) and as AVX2 / AVX-512 versions; the entry points taking an Isa
// let tests compare the paths on any machine that has them.
#pragma once

#include <cstdint>

#include "qlite/core.h"

namespace qlite::kernels {

enum class FloatAct : uint8_t { kLinear, kRelu, kRelu6 };

// A grid of output positions ("pixels") and the input window each one reads.
// Pixel (y, x) reads window element r at in[y*in_row + x*in_col + offs[r]]
// and owns C output channels at out[y*out_row + x*out_col + c].
//  - Conv2D over one (padded) NHWC image, stride (sh, sw), kernel (kh, kw):
//    rows = OH, cols = OW, in_row = sh*W*Cin, in_col = sw*Cin,
//    offs[(ky*kw + kx)*Cin + ci] = (ky*W + kx)*Cin + ci, R = kh*kw*Cin,
//    out_row = OW*C, out_col = C; weights w[R][C] are HWIO as stored.
//  - Dense over N samples: rows = 1, cols = N, in_col = K, offs[r] = r, out_col = C.
struct PatchGeom {
  int64_t rows = 0, cols = 0;
  int64_t in_row = 0, in_col = 0;
  const int64_t* offs = nullptr;
  int64_t R = 0;
  int64_t C = 0;
  int64_t out_row = 0, out_col = 0;
};

// Depthwise convolution of one NHWC image [H, W, C] whose channels already
// line up with the output's (DepthwiseConv2D expands its depth multiplier and
// applies 'same' padding before calling): output pixel (oy, ox), channel c
// reads in[oy*sh + ky][ox*sw + kx][c] * w[ky*kw + kx][c] for every tap
// (ky, kx) of the kernel, so every window lies inside the image. Output
// [OH, OW, C]. Channels are the innermost (vectorised) loop.
struct DepthwiseGeom {
  int64_t H = 0, W = 0, C = 0, OH = 0, OW = 0;
  int kh = 1, kw = 1, sh = 1, sw = 1;
};

// One NHWC image pooled by windows (ph, pw) with strides (sh, sw); windows
// start at (y*sh - pad_top, x*sw - pad_left) and skip positions outside the
// image (so padding never wins). argmax holds the winning index
// (iy*W + ix)*C + c in the image; among equal values the first in row-major
// window order wins.
struct PoolGeom {
  int64_t H = 0, W = 0, C = 0, OH = 0, OW = 0;
  int ph = 1, pw = 1, sh = 1, sw = 1;
  int64_t pad_top = 0, pad_left = 0;
};

// out[oy][ox][c] = act(bias[c] + sum over taps in (ky, kx) order); bias may be null.
void float_depthwise_forward(Isa isa, const DepthwiseGeom& g, const float* in, const float* w, const float* bias,
                             FloatAct act, float* out);
// dw[ky*kw + kx][c] += sum over pixels (row-major) of in[..][c] * dz[oy][ox][c];
// db[c] += sum dz[oy][ox][c] (db may be null), dz = dout * act'(out) formed
// on the fly as in float_patch_wgrad (out may be null for kLinear).
void float_depthwise_wgrad(Isa isa, const DepthwiseGeom& g, const float* in, const float* dout, const float* out,
                           FloatAct act, float* dw, float* db);
// din [H, W, C], every element written (no accumulation into it): the sum,
// over the output pixels (row-major) whose window covers the position, of
// dz[oy][ox][c] * w[ky*kw + kx][c]; zero where no window reaches.
void float_depthwise_dgrad(Isa isa, const DepthwiseGeom& g, const float* dz, const float* w, float* din);

// True when this CPU can run the path.
bool isa_supported(Isa isa);

// out[p][c] = act(bias[c] + sum_r in[p, r] * w[r][c]); bias may be null.
void float_patch_forward(Isa isa, const PatchGeom& g, const float* in, const float* w, const float* bias,
                         FloatAct act, float* out);
// dw[r][c] += sum_p in[p, r] * dz[p][c]; db[c] += sum_p dz[p][c] (db may be null),
// where dz = dout * act'(out) is formed on the fly (out may be null for kLinear;
// out and dout share the output strides). Fusing the activation gradient
// saves a pass over the output when no input gradient is needed.
void float_patch_wgrad(Isa isa, const PatchGeom& g, const float* in, const float* dout, const float* out,
                       FloatAct act, float* dw, float* db);
// din[p, r] += sum_c dz[p][c] * wt[c][r], wt being the kernel transposed to [C][R].
// Overlapping windows accumulate; din is read and written. With overwrite,
// din is stored instead of accumulated: only valid when no two (pixel,
// window element) pairs share a din element, as in Dense.
void float_patch_dgrad(Isa isa, const PatchGeom& g, const float* dz, const float* wt, float* din, bool overwrite);
// dz[i] = dout[i] * act'(out[i]), act' taken from the activation's output
// (relu: out > 0; relu6: 0 < out < 6). For kLinear dz = dout.
void float_act_backward(Isa isa, FloatAct act, const float* out, const float* dout, float* dz, int64_t n);
void float_maxpool_forward(Isa isa, const PoolGeom& g, const float* in, float* out, int32_t* argmax);
// din (H*W*C, fully written) receives dout at the argmax positions, summed where windows overlap.
void float_maxpool_backward(Isa isa, const PoolGeom& g, const float* dout, const int32_t* argmax, float* din);

// BatchNormalization in training mode and the clamp activations (ReLU,
// ReLU6) on `rows` rows of `c` channels (NHWC flattened, channel innermost).
// Unlike the kernels above, every path gives the reference's results bit for
// bit: statistics are double sums in row order per channel, and the files are
// built without FMA contraction.
// The three sums take ld, the distance between rows (c when 0), so that a
// range of channels can be summed alone: x, dy and the per-channel arrays
// then start at the range's first channel. Each channel's sum is the same
// whichever channels are summed with it.
//   sum[k] += x[r][k]                                  (double)
void float_bn_sums(Isa isa, const float* x, int64_t rows, int64_t c, double* sum, int64_t ld = 0);
//   sq[k] += d * d, d = double(x[r][k]) - double(mean[k])
void float_bn_sq(Isa isa, const float* x, int64_t rows, int64_t c, const float* mean, double* sq, int64_t ld = 0);
//   y[r][k] = gamma[k] * (x[r][k] - mean[k]) * inv[k] + beta[k]   (float, left to right)
// With hi not null, a clamp (ReLU / ReLU6) that follows is fused:
//   y = min(max(y, 0), *hi) as float_clamp_forward computes it.
void float_bn_normalize(Isa isa, const float* x, int64_t rows, int64_t c, const float* gamma, const float* mean,
                        const float* inv, const float* beta, const float* hi, float* y);
//   xhat = float((x - mean[k]) * inv[k]); sdy[k] += dy; sdyx[k] += double(dy) * xhat   (double)
// With hi not null, dy is first the fused clamp's input gradient: dy where
// 0 < y < *hi, else +0, y being the normalized value above (recomputed from
// x, gamma and beta, so the clamp's output need not be read).
void float_bn_grad_sums(Isa isa, const float* x, const float* dy, int64_t rows, int64_t c, const float* mean,
                        const float* inv, const float* gamma, const float* beta, const float* hi, double* sdy,
                        double* sdyx, int64_t ld = 0);
//   dx = float(a[k] * (m * dy - sdy[k] - xhat * sdyx[k]))   (double, xhat and dy as above)
void float_bn_input_grad(Isa isa, const float* x, const float* dy, int64_t rows, int64_t c, const float* mean,
                         const float* inv, const float* gamma, const float* beta, const float* hi, const double* a,
                         double m, const double* sdy, const double* sdyx, float* dx);
// y[i] = min(max(x[i], 0), hi) as maxss / minss compute it (NaN -> 0; hi may be +inf).
void float_clamp_forward(Isa isa, const float* x, float* y, int64_t n, float hi);
// dx[i] = dy[i] where 0 < x[i] < hi, else +0.
void float_clamp_backward(Isa isa, const float* x, const float* dy, float* dx, int64_t n, float hi);

// The per-ISA implementations behind the entry points above.
#define QLITE_FLOAT_KERNEL_DECLS                                                                          \
  void patch_forward(const PatchGeom& g, const float* in, const float* w, const float* bias, FloatAct act, \
                     float* out);                                                                         \
  void patch_wgrad(const PatchGeom& g, const float* in, const float* dout, const float* out, FloatAct act,   \
                   float* dw, float* db);                                                                 \
  void patch_dgrad(const PatchGeom& g, const float* dz, const float* wt, float* din, bool overwrite);       \
  void act_backward(FloatAct act, const float* out, const float* dout, float* dz, int64_t n);              \
  void maxpool_forward(const PoolGeom& g, const float* in, float* out, int32_t* argmax);                   \
  void maxpool_backward(const PoolGeom& g, const float* dout, const int32_t* argmax, float* din);          \
  void depthwise_forward(const DepthwiseGeom& g, const float* in, const float* w, const float* bias,        \
                         FloatAct act, float* out);                                                       \
  void depthwise_wgrad(const DepthwiseGeom& g, const float* in, const float* dout, const float* out,        \
                       FloatAct act, float* dw, float* db);                                               \
  void depthwise_dgrad(const DepthwiseGeom& g, const float* dz, const float* w, float* din);

#define QLITE_FLOAT_BN_DECLS                                                                              \
  void bn_sums(const float* x, int64_t rows, int64_t c, int64_t ld, double* sum);                          \
  void bn_sq(const float* x, int64_t rows, int64_t c, int64_t ld, const float* mean, double* sq);          \
  void bn_normalize(const float* x, int64_t rows, int64_t c, const float* gamma, const float* mean,        \
                    const float* inv, const float* beta, const float* hi, float* y);                      \
  void bn_grad_sums(const float* x, const float* dy, int64_t rows, int64_t c, const float* mean,           \
                    const float* inv, const float* gamma, const float* beta, const float* hi, double* sdy, \
                    double* sdyx, int64_t ld);                                                            \
  void bn_input_grad(const float* x, const float* dy, int64_t rows, int64_t c, const float* mean,          \
                     const float* inv, const float* gamma, const float* beta, const float* hi,             \
                     const double* a, double m, const double* sdy, const double* sdyx, float* dx);         \
  void clamp_forward(const float* x, float* y, int64_t n, float hi);                                       \
  void clamp_backward(const float* x, const float* dy, float* dx, int64_t n, float hi);

namespace ref { QLITE_FLOAT_KERNEL_DECLS QLITE_FLOAT_BN_DECLS }
namespace avx2 { QLITE_FLOAT_KERNEL_DECLS QLITE_FLOAT_BN_DECLS }
namespace avx512 { QLITE_FLOAT_KERNEL_DECLS QLITE_FLOAT_BN_DECLS }
#undef QLITE_FLOAT_KERNEL_DECLS
#undef QLITE_FLOAT_BN_DECLS

}  // namespace qlite::kernels
