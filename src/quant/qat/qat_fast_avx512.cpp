// AVX-512 instance of the QAT element loops (qat_fast_impl.h).
#define QLITE_QAT_FAST_NS avx512
#include "quant/qat/qat_fast_impl.h"
#include "quant/qat/qat_fast_isa.h"

namespace qlite::quant::detail {

void fake_quant_avx512(const float* x, float* y, int64_t n, const QuantParams& p) { avx512::fake_quant_loop(x, y, n, p); }
void fake_quant_mask_avx512(const float* x, const float* dy, float* dx, int64_t n, const QuantParams& p) {
  avx512::fake_quant_mask_loop(x, dy, dx, n, p);
}
void finite_range_avx512(const float* x, int64_t n, float* lo, float* hi) { avx512::finite_range_loop(x, n, lo, hi); }
void fake_quant_keep_avx512(const float* x, float* y, uint8_t* keep, int64_t n, const QuantParams& p, int act) {
  avx512::fake_quant_keep_loop(x, y, keep, n, p, act);
}
void keep_backward_avx512(const uint8_t* keep, const float* dy, float* dz, int64_t n) {
  avx512::keep_backward_loop(keep, dy, dz, n);
}

}  // namespace qlite::quant::detail
