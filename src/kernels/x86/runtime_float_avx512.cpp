// AVX-512 runtime float kernels: the shared templates on 16-lane vectors.
#if defined(__x86_64__)
#include "kernels/x86/runtime_float_impl.h"
#include "kernels/x86/simd_avx512.h"

namespace qlite::kernels::rtf_avx512 {
QLITE_DEFINE_RUNTIME_FLOAT_KERNELS(V512)
}  // namespace qlite::kernels::rtf_avx512
#endif
