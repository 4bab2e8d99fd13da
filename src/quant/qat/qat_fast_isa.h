// Per-ISA instances of the QAT element loops and the dispatching entry points
// (declared in qat_internal.h).
#pragma once

#include <cstdint>

#include "qlite/quant/qparams.h"

namespace qlite::quant::detail {

#define QLITE_QAT_FAST_DECL(ns)                                                                       \
  void fake_quant_##ns(const float* x, float* y, int64_t n, const QuantParams& p);                   \
  void fake_quant_mask_##ns(const float* x, const float* dy, float* dx, int64_t n, const QuantParams& p); \
  void finite_range_##ns(const float* x, int64_t n, float* lo, float* hi);                           \
  void fake_quant_keep_##ns(const float* x, float* y, uint8_t* keep, int64_t n, const QuantParams& p, int act); \
  void keep_backward_##ns(const uint8_t* keep, const float* dy, float* dz, int64_t n);
QLITE_QAT_FAST_DECL(base)
QLITE_QAT_FAST_DECL(avx2)
QLITE_QAT_FAST_DECL(avx512)
#undef QLITE_QAT_FAST_DECL

}  // namespace qlite::quant::detail
