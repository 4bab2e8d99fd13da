// Portable versions of the runtime's float32 inference kernels, and the
// dispatch to the path asked for.
#include "kernels/runtime_float.h"

#include <algorithm>
#include <limits>
#include <string>

#include "kernels/reference/reference_float.h"

namespace qlite::kernels {

namespace rtf_ref {

void max_pool_rows(const PoolGeom& g, float lo, float hi, const float* image, float* out_image, int64_t y0,
                   int64_t y1) {
  const int64_t C = g.C;
  for (int64_t oy = y0; oy < y1; ++oy) {
    const int64_t wy = oy * g.sh - g.pad_top;
    const int64_t ylo = std::max<int64_t>(wy, 0), yhi = std::min<int64_t>(wy + g.ph, g.H);
    for (int64_t ox = 0; ox < g.OW; ++ox) {
      const int64_t wx = ox * g.sw - g.pad_left;
      const int64_t xlo = std::max<int64_t>(wx, 0), xhi = std::min<int64_t>(wx + g.pw, g.W);
      float* o = out_image + (oy * g.OW + ox) * C;
      for (int64_t c = 0; c < C; ++c) {
        float m = -std::numeric_limits<float>::infinity();
        for (int64_t y = ylo; y < yhi; ++y)
          for (int64_t x = xlo; x < xhi; ++x) {
            const float v = image[(y * g.W + x) * C + c];
            m = v > m ? v : m;
          }
        m = lo > m ? lo : m;
        o[c] = hi < m ? hi : m;
      }
    }
  }
}

void fc_small(int64_t rows, int64_t K, int64_t N, const float* in, const float* wt, const float* bias,
              FloatAct act, float* out) {
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t o = 0; o < N; ++o) {
      float v = bias ? bias[o] : 0.0f;
      for (int64_t k = 0; k < K; ++k) v += in[r * K + k] * wt[k * N + o];
      if (act != FloatAct::kLinear) v = std::max(v, 0.0f);
      if (act == FloatAct::kRelu6) v = std::min(v, 6.0f);
      out[r * N + o] = v;
    }
}

void fc_dot(int64_t rows, int64_t K, int64_t N, const float* in, const float* w, const float* bias, FloatAct act,
            float* out) {
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t o = 0; o < N; ++o) {
      float s = 0.0f;
      for (int64_t k = 0; k < K; ++k) s += in[r * K + k] * w[o * K + k];
      s += bias ? bias[o] : 0.0f;
      if (act != FloatAct::kLinear) s = std::max(s, 0.0f);
      if (act == FloatAct::kRelu6) s = std::min(s, 6.0f);
      out[r * N + o] = s;
    }
}

bool conv_small(const PatchGeom&, const float*, const float*, const float*, FloatAct, float*) { return false; }

void add_clamped(int64_t n, const float* a, const float* b, float lo, float hi, float* out) {
  qlite::ref::add_f32_range(n, a, b, lo, hi, out);
}

}  // namespace rtf_ref

namespace {
Isa checked(Isa isa) {
  if (!isa_supported(isa))
    throw Error(std::string("runtime float kernels: ISA ") + isa_name(isa) + " is not supported by this CPU");
  return isa;
}
}  // namespace

#if defined(__x86_64__)
#define QLITE_RTF_DISPATCH(call)                \
  switch (checked(isa)) {                       \
    case Isa::kAvx512: rtf_avx512::call; return; \
    case Isa::kAvx2: rtf_avx2::call; return;     \
    case Isa::kReference: rtf_ref::call; return; \
  }
#else
#define QLITE_RTF_DISPATCH(call) \
  checked(isa);                  \
  rtf_ref::call;
#endif

void max_pool_f32_rows(Isa isa, const PoolGeom& g, float lo, float hi, const float* image, float* out_image,
                       int64_t y0, int64_t y1) {
  QLITE_RTF_DISPATCH(max_pool_rows(g, lo, hi, image, out_image, y0, y1))
}

void fc_f32_dot(Isa isa, int64_t rows, int64_t K, int64_t N, const float* in, const float* w, const float* bias,
                FloatAct act, float* out) {
  QLITE_RTF_DISPATCH(fc_dot(rows, K, N, in, w, bias, act, out))
}

void fc_f32_small(Isa isa, int64_t rows, int64_t K, int64_t N, const float* in, const float* wt, const float* bias,
                  FloatAct act, float* out) {
  QLITE_RTF_DISPATCH(fc_small(rows, K, N, in, wt, bias, act, out))
}

void add_f32_clamped(Isa isa, int64_t n, const float* a, const float* b, float lo, float hi, float* out) {
  QLITE_RTF_DISPATCH(add_clamped(n, a, b, lo, hi, out))
}

FcF32SmallFn fc_f32_small_fn(Isa isa) {
#if defined(__x86_64__)
  switch (checked(isa)) {
    case Isa::kAvx512: return &rtf_avx512::fc_small;
    case Isa::kAvx2: return &rtf_avx2::fc_small;
    case Isa::kReference: break;
  }
#else
  checked(isa);
#endif
  return &rtf_ref::fc_small;
}

}  // namespace qlite::kernels

namespace qlite::kernels {

bool conv_f32_small(Isa isa, const PatchGeom& g, const float* in, const float* w, const float* bias, FloatAct act,
                    float* out) {
#if defined(__x86_64__)
  switch (checked(isa)) {
    case Isa::kAvx512: return rtf_avx512::conv_small(g, in, w, bias, act, out);
    case Isa::kAvx2: return rtf_avx2::conv_small(g, in, w, bias, act, out);
    case Isa::kReference: return false;
  }
#endif
  return false;
}

}  // namespace qlite::kernels
