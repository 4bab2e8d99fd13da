// Per-ISA instances of the QAT element loops and the dispatching entry points
// (declared in qat_internal.h).
#pragma once

#include <cstdint>

#include "qlite/quant/qparams.h"

namespace qlite::quant::detail {

#define QLITE_QAT_FAST_DECL(ns)                                                                       \
  void fake_quant_##ns(const float* x, float* y, int64_t n, const QuantParams& p);                   \
  void fake_quant_mask_##ns(const float* x, const float* dy, float* dx, int64_t n, const QuantParams& p); \
  void finite_range_##ns(const float* x, int64_t n, float* lo, float* hi);
QLITE_QAT_FAST_DECL(base)
QLITE_QAT_FAST_DECL(avx2)
QLITE_QAT_FAST_DECL(avx512)
#undef QLITE_QAT_FAST_DECL

}  // namespace qlite::quant::detail
