// Float32 inference kernels of the runtime for the shapes the training
// kernels (float_kernels.h) serve poorly: max pooling with few channels and
// fully connected layers over a few rows (one dot product per output, with
// the weights [out][in] as TFLite stores them). Each has a portable version
// (Isa::kReference) and AVX2 / AVX-512 versions.
#pragma once

#include <cstdint>

#include "kernels/float_kernels.h"
#include "qlite/core.h"

namespace qlite::kernels {

// Output rows [y0, y1) of one NHWC image: the largest tap inside the image
// (a NaN tap never wins; ties keep the earlier tap, so -0 vs +0 resolves as
// the reference does), then clamped to [lo, hi]. Windows must each hold at
// least one tap inside the image. Equal bit for bit to the reference.
void max_pool_f32_rows(Isa isa, const PoolGeom& g, float lo, float hi, const float* image, float* out_image,
                       int64_t y0, int64_t y1);

// out[r][o] = act(bias[o] + sum_k in[r][k] * w[o][k]) for r < rows; bias may
// be null. Sums in blocks (several independent accumulators per output), so
// results differ from a sequential sum by rounding only; a row's result does
// not depend on how rows are split between calls.
void fc_f32_dot(Isa isa, int64_t rows, int64_t K, int64_t N, const float* in, const float* w, const float* bias,
                FloatAct act, float* out);

// out[r][o] = act(bias[o] + sum_k in[r][k] * wt[k][o]) for r < rows, with the
// weights transposed ([K][N]); for short dots, K <= kSmallFcK (a broadcast
// input element times registers of outputs, no horizontal sums). Sums
// differ from a sequential sum by rounding only; a row's result does not
// depend on how rows are split between calls.
constexpr int64_t kSmallFcK = 64;
void fc_f32_small(Isa isa, int64_t rows, int64_t K, int64_t N, const float* in, const float* wt, const float* bias,
                  FloatAct act, float* out);
// fc_f32_small's path for `isa`, resolved once (an Error if the CPU lacks
// it), for an op that calls it every invoke.
using FcF32SmallFn = void (*)(int64_t rows, int64_t K, int64_t N, const float* in, const float* wt,
                              const float* bias, FloatAct act, float* out);
FcF32SmallFn fc_f32_small_fn(Isa isa);

// Conv2D over a patch geometry (float_kernels.h; weights HWIO) when the
// input step between neighbouring pixels (in_col = stride * Cin) is 1..4:
// the same sums in the same order as float_patch_forward, with the pixels'
// taps at fixed displacements. Returns false (doing nothing) for other
// geometries or Isa::kReference; the caller then runs float_patch_forward.
bool conv_f32_small(Isa isa, const PatchGeom& g, const float* in, const float* w, const float* bias, FloatAct act,
                    float* out);

// ADD of two float tensors of n elements with a fused clamp, as
// ref::add_f32 computes each element: one float add, then v < lo ? lo : v
// and v > hi ? hi : v (a NaN passes through). Bit-identical to it on every
// path.
void add_f32_clamped(Isa isa, int64_t n, const float* a, const float* b, float lo, float hi, float* out);

// The per-ISA implementations behind the entry points above.
#define QLITE_RUNTIME_FLOAT_DECLS                                                                              \
  void max_pool_rows(const PoolGeom& g, float lo, float hi, const float* image, float* out_image, int64_t y0,    \
                     int64_t y1);                                                                              \
  void fc_dot(int64_t rows, int64_t K, int64_t N, const float* in, const float* w, const float* bias,            \
              FloatAct act, float* out);                                                                  \
  void fc_small(int64_t rows, int64_t K, int64_t N, const float* in, const float* wt, const float* bias,       \
                FloatAct act, float* out);                                                                   \
  bool conv_small(const PatchGeom& g, const float* in, const float* w, const float* bias, FloatAct act, float* out); \
  void add_clamped(int64_t n, const float* a, const float* b, float lo, float hi, float* out);

namespace rtf_ref { QLITE_RUNTIME_FLOAT_DECLS }
namespace rtf_avx2 { QLITE_RUNTIME_FLOAT_DECLS }
namespace rtf_avx512 { QLITE_RUNTIME_FLOAT_DECLS }
#undef QLITE_RUNTIME_FLOAT_DECLS

}  // namespace qlite::kernels
