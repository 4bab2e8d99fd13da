// AVX-512 float training kernels: the shared templates on 16-lane vectors.
#if defined(__x86_64__)
#include "kernels/x86/float_simd_impl.h"
#include "kernels/x86/simd_avx512.h"

namespace qlite::kernels::avx512 {
QLITE_DEFINE_FLOAT_KERNELS(V512)
}  // namespace qlite::kernels::avx512
#endif
