// Reference BatchNormalization (training mode) and clamp kernels: the spec
// the vector paths match bit for bit. Built with -ffp-contract=off (its name
// starts with float_bn, cmake/qlite_helpers.cmake).
#include "kernels/float_kernels.h"

namespace qlite::kernels::ref {

void bn_sums(const float* x, int64_t rows, int64_t c, double* sum) {
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t k = 0; k < c; ++k) sum[k] += x[r * c + k];
}

void bn_sq(const float* x, int64_t rows, int64_t c, const float* mean, double* sq) {
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t k = 0; k < c; ++k) {
      const double d = x[r * c + k] - static_cast<double>(mean[k]);
      sq[k] += d * d;
    }
}

void bn_normalize(const float* x, int64_t rows, int64_t c, const float* gamma, const float* mean, const float* inv,
                  const float* beta, float* y) {
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t k = 0; k < c; ++k) y[r * c + k] = gamma[k] * (x[r * c + k] - mean[k]) * inv[k] + beta[k];
}

void bn_grad_sums(const float* x, const float* dy, int64_t rows, int64_t c, const float* mean, const float* inv,
                  double* sdy, double* sdyx) {
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t k = 0; k < c; ++k) {
      const double xhat = (x[r * c + k] - mean[k]) * inv[k];
      sdy[k] += dy[r * c + k];
      sdyx[k] += dy[r * c + k] * xhat;
    }
}

void bn_input_grad(const float* x, const float* dy, int64_t rows, int64_t c, const float* mean, const float* inv,
                   const double* a, double m, const double* sdy, const double* sdyx, float* dx) {
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t k = 0; k < c; ++k) {
      const double xhat = (x[r * c + k] - mean[k]) * inv[k];
      dx[r * c + k] = static_cast<float>(a[k] * (m * dy[r * c + k] - sdy[k] - xhat * sdyx[k]));
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
