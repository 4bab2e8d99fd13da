// Dispatch of the float training kernels to the path asked for.
#include "kernels/float_kernels.h"

namespace qlite::kernels {

bool isa_supported(Isa isa) {
#if defined(__x86_64__)
  const CpuFeatures& c = cpu_features();
  switch (isa) {
    case Isa::kReference: return true;
    case Isa::kAvx2: return c.avx2 && c.fma && c.f16c;
    case Isa::kAvx512:
      return c.avx512f && c.avx512bw && c.avx512dq && c.avx512vl && c.avx512vnni && c.avx2 && c.fma && c.f16c;
  }
  return false;
#else
  return isa == Isa::kReference;
#endif
}

namespace {
// An explicit request for a path the CPU lacks is a programming error in the
// caller; fail loudly instead of executing illegal instructions.
Isa checked(Isa isa) {
  if (!isa_supported(isa))
    throw Error(std::string("float kernels: ISA ") + isa_name(isa) + " is not supported by this CPU");
#if !defined(__x86_64__)
  return Isa::kReference;
#else
  return isa;
#endif
}
}  // namespace

#if defined(__x86_64__)
#define QLITE_DISPATCH(call)                        \
  switch (checked(isa)) {                           \
    case Isa::kAvx512: avx512::call; return;        \
    case Isa::kAvx2: avx2::call; return;            \
    case Isa::kReference: ref::call; return;        \
  }
#else
#define QLITE_DISPATCH(call) \
  checked(isa);              \
  ref::call;
#endif

void float_patch_forward(Isa isa, const PatchGeom& g, const float* in, const float* w, const float* bias,
                         FloatAct act, float* out) {
  QLITE_DISPATCH(patch_forward(g, in, w, bias, act, out))
}

void float_patch_wgrad(Isa isa, const PatchGeom& g, const float* in, const float* dout, const float* out,
                       FloatAct act, float* dw, float* db) {
  if (act != FloatAct::kLinear && out == nullptr)
    throw Error("float_patch_wgrad: the activation gradient needs the layer output");
  QLITE_DISPATCH(patch_wgrad(g, in, dout, out, act, dw, db))
}

void float_patch_dgrad(Isa isa, const PatchGeom& g, const float* dz, const float* wt, float* din, bool overwrite) {
  QLITE_DISPATCH(patch_dgrad(g, dz, wt, din, overwrite))
}

void float_act_backward(Isa isa, FloatAct act, const float* out, const float* dout, float* dz, int64_t n) {
  QLITE_DISPATCH(act_backward(act, out, dout, dz, n))
}

void float_maxpool_forward(Isa isa, const PoolGeom& g, const float* in, float* out, int32_t* argmax) {
  QLITE_DISPATCH(maxpool_forward(g, in, out, argmax))
}

void float_maxpool_backward(Isa isa, const PoolGeom& g, const float* dout, const int32_t* argmax, float* din) {
  QLITE_DISPATCH(maxpool_backward(g, dout, argmax, din))
}

namespace {
void check_depthwise(const DepthwiseGeom& g, const char* what) {
  if (g.H <= 0 || g.W <= 0 || g.C <= 0 || g.OH <= 0 || g.OW <= 0 || g.kh <= 0 || g.kw <= 0 || g.sh <= 0 ||
      g.sw <= 0 || (g.OH - 1) * g.sh + g.kh > g.H || (g.OW - 1) * g.sw + g.kw > g.W)
    throw Error(std::string(what) + ": the windows do not fit the image");
}
}  // namespace

void float_depthwise_forward(Isa isa, const DepthwiseGeom& g, const float* in, const float* w, const float* bias,
                             FloatAct act, float* out) {
  check_depthwise(g, "float_depthwise_forward");
  QLITE_DISPATCH(depthwise_forward(g, in, w, bias, act, out))
}

void float_depthwise_wgrad(Isa isa, const DepthwiseGeom& g, const float* in, const float* dout, const float* out,
                           FloatAct act, float* dw, float* db) {
  check_depthwise(g, "float_depthwise_wgrad");
  if (act != FloatAct::kLinear && out == nullptr)
    throw Error("float_depthwise_wgrad: the activation gradient needs the layer output");
  QLITE_DISPATCH(depthwise_wgrad(g, in, dout, out, act, dw, db))
}

void float_depthwise_dgrad(Isa isa, const DepthwiseGeom& g, const float* dz, const float* w, float* din) {
  check_depthwise(g, "float_depthwise_dgrad");
  QLITE_DISPATCH(depthwise_dgrad(g, dz, w, din))
}

void float_bn_sums(Isa isa, const float* x, int64_t rows, int64_t c, double* sum, int64_t ld) {
  if (ld == 0) ld = c;
  QLITE_DISPATCH(bn_sums(x, rows, c, ld, sum))
}

void float_bn_sq(Isa isa, const float* x, int64_t rows, int64_t c, const float* mean, double* sq, int64_t ld) {
  if (ld == 0) ld = c;
  QLITE_DISPATCH(bn_sq(x, rows, c, ld, mean, sq))
}

void float_bn_normalize(Isa isa, const float* x, int64_t rows, int64_t c, const float* gamma, const float* mean,
                        const float* inv, const float* beta, const float* hi, float* y) {
  QLITE_DISPATCH(bn_normalize(x, rows, c, gamma, mean, inv, beta, hi, y))
}

void float_bn_grad_sums(Isa isa, const float* x, const float* dy, int64_t rows, int64_t c, const float* mean,
                        const float* inv, const float* gamma, const float* beta, const float* hi, double* sdy,
                        double* sdyx, int64_t ld) {
  if (ld == 0) ld = c;
  QLITE_DISPATCH(bn_grad_sums(x, dy, rows, c, mean, inv, gamma, beta, hi, sdy, sdyx, ld))
}

void float_bn_input_grad(Isa isa, const float* x, const float* dy, int64_t rows, int64_t c, const float* mean,
                         const float* inv, const float* gamma, const float* beta, const float* hi, const double* a,
                         double m, const double* sdy, const double* sdyx, float* dx) {
  QLITE_DISPATCH(bn_input_grad(x, dy, rows, c, mean, inv, gamma, beta, hi, a, m, sdy, sdyx, dx))
}

void float_clamp_forward(Isa isa, const float* x, float* y, int64_t n, float hi) {
  QLITE_DISPATCH(clamp_forward(x, y, n, hi))
}

void float_clamp_backward(Isa isa, const float* x, const float* dy, float* dx, int64_t n, float hi) {
  QLITE_DISPATCH(clamp_backward(x, dy, dx, n, hi))
}

}  // namespace qlite::kernels
