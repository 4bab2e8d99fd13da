// Baseline instance of the QAT element loops and the dispatch by active_isa()
// (QLITE_ISA=reference|avx2|avx512 forces a path, as for the kernels).
#define QLITE_QAT_FAST_NS base
#include "quant/qat/qat_fast_impl.h"
#include "quant/qat/qat_fast_isa.h"
#include "quant/qat/qat_internal.h"

namespace qlite::quant::detail {

void fake_quant_base(const float* x, float* y, int64_t n, const QuantParams& p) { base::fake_quant_loop(x, y, n, p); }
void fake_quant_mask_base(const float* x, const float* dy, float* dx, int64_t n, const QuantParams& p) {
  base::fake_quant_mask_loop(x, dy, dx, n, p);
}
void finite_range_base(const float* x, int64_t n, float* lo, float* hi) { base::finite_range_loop(x, n, lo, hi); }
void fake_quant_keep_base(const float* x, float* y, uint8_t* keep, int64_t n, const QuantParams& p, int act) {
  base::fake_quant_keep_loop(x, y, keep, n, p, act);
}
void keep_backward_base(const uint8_t* keep, const float* dy, float* dz, int64_t n) {
  base::keep_backward_loop(keep, dy, dz, n);
}

void fake_quant_fast(const float* x, float* y, int64_t n, const QuantParams& p) {
  switch (active_isa()) {
    case Isa::kAvx512: return fake_quant_avx512(x, y, n, p);
    case Isa::kAvx2: return fake_quant_avx2(x, y, n, p);
    default: return fake_quant_base(x, y, n, p);
  }
}

void fake_quant_mask_fast(const float* x, const float* dy, float* dx, int64_t n, const QuantParams& p) {
  switch (active_isa()) {
    case Isa::kAvx512: return fake_quant_mask_avx512(x, dy, dx, n, p);
    case Isa::kAvx2: return fake_quant_mask_avx2(x, dy, dx, n, p);
    default: return fake_quant_mask_base(x, dy, dx, n, p);
  }
}

void fake_quant_keep_fast(const float* x, float* y, uint8_t* keep, int64_t n, const QuantParams& p, int act) {
  switch (active_isa()) {
    case Isa::kAvx512: return fake_quant_keep_avx512(x, y, keep, n, p, act);
    case Isa::kAvx2: return fake_quant_keep_avx2(x, y, keep, n, p, act);
    default: return fake_quant_keep_base(x, y, keep, n, p, act);
  }
}

void keep_backward_fast(const uint8_t* keep, const float* dy, float* dz, int64_t n) {
  switch (active_isa()) {
    case Isa::kAvx512: return keep_backward_avx512(keep, dy, dz, n);
    case Isa::kAvx2: return keep_backward_avx2(keep, dy, dz, n);
    default: return keep_backward_base(keep, dy, dz, n);
  }
}

Range finite_range_fast(const float* x, int64_t n) {
  Range r;
  switch (active_isa()) {
    case Isa::kAvx512: finite_range_avx512(x, n, &r.min, &r.max); break;
    case Isa::kAvx2: finite_range_avx2(x, n, &r.min, &r.max); break;
    default: finite_range_base(x, n, &r.min, &r.max); break;
  }
  return r;
}

}  // namespace qlite::quant::detail
