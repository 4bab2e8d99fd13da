// AVX2 runtime float kernels: the shared templates on 8-lane vectors.
#if defined(__x86_64__)
#include "kernels/x86/runtime_float_impl.h"
#include "kernels/x86/simd_avx2.h"

namespace qlite::kernels::rtf_avx2 {
QLITE_DEFINE_RUNTIME_FLOAT_KERNELS(V256)
}  // namespace qlite::kernels::rtf_avx2
#endif
