// AVX2 + FMA float training kernels: the shared templates on 8-lane vectors.
#if defined(__x86_64__)
#include "kernels/x86/float_simd_impl.h"
#include "kernels/x86/simd_avx2.h"

namespace qlite::kernels::avx2 {
QLITE_DEFINE_FLOAT_KERNELS(V256)
}  // namespace qlite::kernels::avx2
#endif
