// Reference (portable) max pooling over one NHWC image, with argmax kept
// for the backward pass.
#include <algorithm>

#include "kernels/float_kernels.h"

namespace qlite::kernels::ref {

void maxpool_forward(const PoolGeom& g, const float* in, float* out, int32_t* argmax) {
  for (int64_t oy = 0; oy < g.OH; ++oy) {
    const int64_t y0 = std::max<int64_t>(oy * g.sh - g.pad_top, 0);
    const int64_t y1 = std::min<int64_t>(oy * g.sh - g.pad_top + g.ph, g.H);
    for (int64_t ox = 0; ox < g.OW; ++ox) {
      const int64_t x0 = std::max<int64_t>(ox * g.sw - g.pad_left, 0);
      const int64_t x1 = std::min<int64_t>(ox * g.sw - g.pad_left + g.pw, g.W);
      float* o = out + (oy * g.OW + ox) * g.C;
      int32_t* a = argmax + (oy * g.OW + ox) * g.C;
      for (int64_t c = 0; c < g.C; ++c) {
        // Start from the first element in the window; later ones win only when
        // strictly greater, so the first of equal maxima is kept.
        int64_t best_i = (y0 * g.W + x0) * g.C + c;
        float best = in[best_i];
        for (int64_t y = y0; y < y1; ++y) {
          for (int64_t x = x0; x < x1; ++x) {
            const int64_t i = (y * g.W + x) * g.C + c;
            if (in[i] > best) {
              best = in[i];
              best_i = i;
            }
          }
        }
        o[c] = best;
        a[c] = static_cast<int32_t>(best_i);
      }
    }
  }
}

void maxpool_backward(const PoolGeom& g, const float* dout, const int32_t* argmax, float* din) {
  std::fill(din, din + g.H * g.W * g.C, 0.0f);
  const int64_t n = g.OH * g.OW * g.C;
  for (int64_t i = 0; i < n; ++i) din[argmax[i]] += dout[i];
}

}  // namespace qlite::kernels::ref
