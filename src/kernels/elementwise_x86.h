// Optimized 8-bit elementwise kernels (AVX-512, AVX2) behind one API,
// bit-exact with the reference definitions they replace:
//   - lookup_bytes: out[i] = table[in[i]], the 256-entry byte table that
//     LOGISTIC, TANH, HARD_SWISH, LEAKY_RELU, the RELU family, GELU and the
//     other one-input 8-bit ops are evaluated through (the table itself is
//     made at prepare from the reference definition, so it is the spec;
//     kernels/reference/activation_kernels.h). AVX-512 with VBMI: two
//     vpermi2b over the four 64-byte quarters and a blend on bit 7; AVX2 (and
//     AVX-512 CPUs without VBMI): 16 vpshufb sub-tables and a blend tree on
//     the high nibble.
//   - mul_quant8: int8 / uint8 MUL, ref::mul_quantized per element
//     ((x + o1) * (y + o2), MultiplyByQuantizedMultiplier in the
//     double-rounding form, + zero point, clamp), on 16 (AVX-512) or 8 (AVX2)
//     int32 lanes, with either operand a scalar (broadcast) or a row.
//   - resize_bilinear_s8: int8 RESIZE_BILINEAR, the four corners' weighted sum
//     over 16 / 8 channels at a time in int32.
//   - resize_bilinear_f32 / _u8: float32 and uint8 RESIZE_BILINEAR, the
//     reference's float operations over 8 channels at a time (AVX2; AVX-512
//     machines run the AVX2 kernels).
// Isa::kReference runs the reference definitions. Nothing allocates.
#pragma once

#include <cstdint>

#include "kernels/reference/activation_kernels.h"
#include "kernels/reference/math_kernels.h"
#include "kernels/reference/resize_kernels.h"
#include "qlite/core.h"

namespace qlite::kernels {

// out[i] = t.v[in[i]] for i < n (in and out may be the same buffer).
void lookup_bytes(Isa isa, const qlite::ref::ByteTable& t, int64_t n, const uint8_t* in, uint8_t* out);

// out[i] = ref::mul_quantized(p, A(i), B(i)) for i < n, where A(i) = a[i] or,
// when a_scalar, a[0] (likewise B); the bytes are int8 when is_signed, uint8
// otherwise. p.act must lie within the type's range.
void mul_quant8(Isa isa, const qlite::ref::MulQuantParams& p, bool is_signed, int64_t n, const uint8_t* a,
                bool a_scalar, const uint8_t* b, bool b_scalar, uint8_t* out);

// The same over a broadcast geometry of two inputs (as ref::broadcast_binary
// visits it: every run of the last dimension is one mul_quant8 call with each
// operand a row or a scalar). count: output elements (g.count, or a scaled
// count when g.same).
void mul_quant8_broadcast(Isa isa, const qlite::ref::MulQuantParams& p, bool is_signed,
                          const qlite::ref::BroadcastGeometry& g, int64_t count, const uint8_t* a, const uint8_t* b,
                          uint8_t* out);

// int8 RESIZE_BILINEAR, bit-exact with ref::resize_bilinear_s8 (TFLite 2.9's
// 10-bit fixed point), vectorized over channels (kernels/x86/resize_impl.h).
void resize_bilinear_s8(Isa isa, const qlite::ref::ResizeGeometry& g, const int8_t* in, int8_t* out);
// float32 and uint8 RESIZE_BILINEAR, bit-exact with ref::resize_bilinear_f32 /
// ref::resize_bilinear_u8 (TFLite 2.9's float-weight kernels).
void resize_bilinear_f32(Isa isa, const qlite::ref::ResizeGeometry& g, const float* in, float* out);
void resize_bilinear_u8(Isa isa, const qlite::ref::ResizeGeometry& g, const uint8_t* in, uint8_t* out);

// Per-ISA entry points (called after validation; tests go through the above).
namespace elementwise_avx2 {
void lookup_bytes(const uint8_t* table, int64_t n, const uint8_t* in, uint8_t* out);
void mul_quant8(const qlite::ref::MulQuantParams& p, bool is_signed, int64_t n, const uint8_t* a, bool a_scalar,
                const uint8_t* b, bool b_scalar, uint8_t* out);
void resize_bilinear_s8(const qlite::ref::ResizeGeometry& g, const int8_t* in, int8_t* out);
void resize_bilinear_f32(const qlite::ref::ResizeGeometry& g, const float* in, float* out);
void resize_bilinear_u8(const qlite::ref::ResizeGeometry& g, const uint8_t* in, uint8_t* out);
}  // namespace elementwise_avx2
namespace elementwise_avx512 {
bool lookup_bytes(const uint8_t* table, int64_t n, const uint8_t* in, uint8_t* out);  // false: no VBMI
void mul_quant8(const qlite::ref::MulQuantParams& p, bool is_signed, int64_t n, const uint8_t* a, bool a_scalar,
                const uint8_t* b, bool b_scalar, uint8_t* out);
void resize_bilinear_s8(const qlite::ref::ResizeGeometry& g, const int8_t* in, int8_t* out);
}  // namespace elementwise_avx512

}  // namespace qlite::kernels
