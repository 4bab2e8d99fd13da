// Reference (portable) float patch kernels: the spec the vector paths are
// compared against. Plain loops in a fixed order, no cleverness.
#include <algorithm>
#include <cstring>

#include "kernels/float_kernels.h"

namespace qlite::kernels::ref {

namespace {
inline float activate(FloatAct act, float v) {
  switch (act) {
    case FloatAct::kLinear: return v;
    case FloatAct::kRelu: return std::max(v, 0.0f);
    case FloatAct::kRelu6: return std::min(std::max(v, 0.0f), 6.0f);
  }
  return v;
}

// The activation's derivative read from its output.
inline float act_grad(FloatAct act, float out, float dout) {
  switch (act) {
    case FloatAct::kLinear: return dout;
    case FloatAct::kRelu: return out > 0.0f ? dout : 0.0f;
    case FloatAct::kRelu6: return (out > 0.0f && out < 6.0f) ? dout : 0.0f;
  }
  return dout;
}
}  // namespace

void patch_forward(const PatchGeom& g, const float* in, const float* w, const float* bias, FloatAct act,
                   float* out) {
  for (int64_t y = 0; y < g.rows; ++y) {
    for (int64_t x = 0; x < g.cols; ++x) {
      const float* src = in + y * g.in_row + x * g.in_col;
      float* dst = out + y * g.out_row + x * g.out_col;
      for (int64_t c = 0; c < g.C; ++c) {
        float acc = bias ? bias[c] : 0.0f;
        for (int64_t r = 0; r < g.R; ++r) acc += src[g.offs[r]] * w[r * g.C + c];
        dst[c] = activate(act, acc);
      }
    }
  }
}

void patch_wgrad(const PatchGeom& g, const float* in, const float* dout, const float* out, FloatAct act, float* dw,
                 float* db) {
  auto dz = [&](int64_t y, int64_t x, int64_t c) {
    const int64_t i = y * g.out_row + x * g.out_col + c;
    return act_grad(act, act == FloatAct::kLinear ? 0.0f : out[i], dout[i]);
  };
  for (int64_t r = 0; r < g.R; ++r) {
    for (int64_t c = 0; c < g.C; ++c) {
      float acc = 0.0f;
      for (int64_t y = 0; y < g.rows; ++y)
        for (int64_t x = 0; x < g.cols; ++x) acc += in[y * g.in_row + x * g.in_col + g.offs[r]] * dz(y, x, c);
      dw[r * g.C + c] += acc;
    }
  }
  if (db) {
    for (int64_t c = 0; c < g.C; ++c) {
      float acc = 0.0f;
      for (int64_t y = 0; y < g.rows; ++y)
        for (int64_t x = 0; x < g.cols; ++x) acc += dz(y, x, c);
      db[c] += acc;
    }
  }
}

void patch_dgrad(const PatchGeom& g, const float* dz, const float* wt, float* din, bool overwrite) {
  for (int64_t y = 0; y < g.rows; ++y) {
    for (int64_t x = 0; x < g.cols; ++x) {
      const float* d = dz + y * g.out_row + x * g.out_col;
      float* dst = din + y * g.in_row + x * g.in_col;
      for (int64_t r = 0; r < g.R; ++r) {
        float acc = 0.0f;
        for (int64_t c = 0; c < g.C; ++c) acc += d[c] * wt[c * g.R + r];
        if (overwrite) dst[g.offs[r]] = acc;
        else dst[g.offs[r]] += acc;
      }
    }
  }
}

void act_backward(FloatAct act, const float* out, const float* dout, float* dz, int64_t n) {
  if (act == FloatAct::kLinear) {
    if (dz != dout) std::memmove(dz, dout, static_cast<size_t>(n) * sizeof(float));
    return;
  }
  for (int64_t i = 0; i < n; ++i) dz[i] = act_grad(act, out[i], dout[i]);
}

// Depthwise: the orders the vector paths keep (float_kernels.h).
void depthwise_forward(const DepthwiseGeom& g, const float* in, const float* w, const float* bias, FloatAct act,
                       float* out) {
  for (int64_t oy = 0; oy < g.OH; ++oy)
    for (int64_t ox = 0; ox < g.OW; ++ox)
      for (int64_t c = 0; c < g.C; ++c) {
        float acc = bias ? bias[c] : 0.0f;
        for (int ky = 0; ky < g.kh; ++ky)
          for (int kx = 0; kx < g.kw; ++kx)
            acc += in[((oy * g.sh + ky) * g.W + ox * g.sw + kx) * g.C + c] * w[(ky * g.kw + kx) * g.C + c];
        out[(oy * g.OW + ox) * g.C + c] = activate(act, acc);
      }
}

void depthwise_wgrad(const DepthwiseGeom& g, const float* in, const float* dout, const float* out, FloatAct act,
                     float* dw, float* db) {
  auto dz = [&](int64_t i) { return act_grad(act, act == FloatAct::kLinear ? 0.0f : out[i], dout[i]); };
  for (int ky = 0; ky < g.kh; ++ky)
    for (int kx = 0; kx < g.kw; ++kx)
      for (int64_t c = 0; c < g.C; ++c) {
        float acc = 0.0f;
        for (int64_t oy = 0; oy < g.OH; ++oy)
          for (int64_t ox = 0; ox < g.OW; ++ox)
            acc += in[((oy * g.sh + ky) * g.W + ox * g.sw + kx) * g.C + c] * dz((oy * g.OW + ox) * g.C + c);
        dw[(ky * g.kw + kx) * g.C + c] += acc;
      }
  if (db)
    for (int64_t c = 0; c < g.C; ++c) {
      float acc = 0.0f;
      for (int64_t p = 0; p < g.OH * g.OW; ++p) acc += dz(p * g.C + c);
      db[c] += acc;
    }
}

void depthwise_dgrad(const DepthwiseGeom& g, const float* dz, const float* w, float* din) {
  std::fill(din, din + g.H * g.W * g.C, 0.0f);
  for (int64_t oy = 0; oy < g.OH; ++oy)
    for (int64_t ox = 0; ox < g.OW; ++ox)
      for (int64_t c = 0; c < g.C; ++c) {
        const float d = dz[(oy * g.OW + ox) * g.C + c];
        for (int ky = 0; ky < g.kh; ++ky)
          for (int kx = 0; kx < g.kw; ++kx)
            din[((oy * g.sh + ky) * g.W + ox * g.sw + kx) * g.C + c] += d * w[(ky * g.kw + kx) * g.C + c];
      }
}

}  // namespace qlite::kernels::ref
