// Reference BatchNormalization (training mode) and clamp kernels: the spec
// the vector paths match bit for bit. Built with -ffp-contract=off (its name
// starts with float_bn, cmake/qlite_helpers.cmake).
#include "kernels/float_kernels.h"

namespace qlite::kernels::ref {

void bn_sums(const float* x, int64_t rows, int64_t c, int64_t ld, double* sum) {
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t k = 0; k < c; ++k) sum[k] += x[r * ld + k];
}

void bn_sq(const float* x, int64_t rows, int64_t c, int64_t ld, const float* mean, double* sq) {
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t k = 0; k < c; ++k) {
      const double d = x[r * ld + k] - static_cast<double>(mean[k]);
      sq[k] += d * d;
    }
}

namespace {
// maxss / minss order: NaN -> 0.
inline float clamp(float v, float hi) {
  v = v > 0.0f ? v : 0.0f;
  return v < hi ? v : hi;
}
inline float normalized(float x, float g, float mu, float inv, float b) { return g * (x - mu) * inv + b; }
// The fused clamp's input gradient, from the clamp's input y.
inline float clamp_grad(float y, float hi, float dy) { return (y > 0.0f && y < hi) ? dy : 0.0f; }
}  // namespace

void bn_normalize(const float* x, int64_t rows, int64_t c, const float* gamma, const float* mean, const float* inv,
                  const float* beta, const float* hi, float* y) {
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t k = 0; k < c; ++k) {
      const float v = normalized(x[r * c + k], gamma[k], mean[k], inv[k], beta[k]);
      y[r * c + k] = hi ? clamp(v, *hi) : v;
    }
}

void bn_grad_sums(const float* x, const float* dy, int64_t rows, int64_t c, const float* mean, const float* inv,
                  const float* gamma, const float* beta, const float* hi, double* sdy, double* sdyx, int64_t ld) {
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t k = 0; k < c; ++k) {
      const float xr = x[r * ld + k];
      const float d = hi ? clamp_grad(normalized(xr, gamma[k], mean[k], inv[k], beta[k]), *hi, dy[r * ld + k])
                         : dy[r * ld + k];
      const double xhat = (xr - mean[k]) * inv[k];
      sdy[k] += d;
      sdyx[k] += d * xhat;
    }
}

void bn_input_grad(const float* x, const float* dy, int64_t rows, int64_t c, const float* mean, const float* inv,
                   const float* gamma, const float* beta, const float* hi, const double* a, double m,
                   const double* sdy, const double* sdyx, float* dx) {
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t k = 0; k < c; ++k) {
      const float xr = x[r * c + k];
      const float d = hi ? clamp_grad(normalized(xr, gamma[k], mean[k], inv[k], beta[k]), *hi, dy[r * c + k])
                         : dy[r * c + k];
      const double xhat = (xr - mean[k]) * inv[k];
      dx[r * c + k] = static_cast<float>(a[k] * (m * d - sdy[k] - xhat * sdyx[k]));
    }
}

// Written as the comparisons maxss / minss compute (NaN -> 0, like
// fmax(x, 0)).
void clamp_forward(const float* x, float* y, int64_t n, float hi) {
  for (int64_t i = 0; i < n; ++i) {
    const float v = x[i] > 0.0f ? x[i] : 0.0f;
    y[i] = v < hi ? v : hi;
  }
}

void clamp_backward(const float* x, const float* dy, float* dx, int64_t n, float hi) {
  for (int64_t i = 0; i < n; ++i) dx[i] = (x[i] > 0.0f && x[i] < hi) ? dy[i] : 0.0f;
}

}  // namespace qlite::kernels::ref
