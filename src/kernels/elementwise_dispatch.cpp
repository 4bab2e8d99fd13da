// Entry points of the 8-bit elementwise kernels (kernels/elementwise_x86.h):
// validate, then run the requested path; Isa::kReference runs the reference
// definitions.
#include <array>
#include <string>

#include "kernels/elementwise_x86.h"
#include "kernels/int8_kernels_x86.h"

namespace qlite::kernels {
namespace {

Isa runnable(Isa isa, const char* op) {
  if (!int8_isa_available(isa))
    throw Error(std::string(op) + ": ISA " + isa_name(isa) + " is not supported by this CPU");
  return isa;
}

template <class Q>
void mul_reference(const qlite::ref::MulQuantParams& p, int64_t n, const Q* a, bool as, const Q* b, bool bs, Q* out) {
  for (int64_t i = 0; i < n; ++i)
    out[i] = static_cast<Q>(qlite::ref::mul_quantized(p, a[as ? 0 : i], b[bs ? 0 : i]));
}

// The vector forms hold (x + o1) * (y + o2) in int32 and the result's clamp
// bounds in the type: what make_mul_params produces for 8-bit types.
void check_mul_params(const qlite::ref::MulQuantParams& p, bool is_signed) {
  const int32_t qmin = is_signed ? -128 : 0, qmax = is_signed ? 127 : 255;
  const int32_t omin = is_signed ? -127 : -255, omax = is_signed ? 128 : 0;
  if (!(p.in1_offset >= omin && p.in1_offset <= omax && p.in2_offset >= omin && p.in2_offset <= omax &&
        p.out_offset >= qmin && p.out_offset <= qmax && p.act.min >= qmin && p.act.max <= qmax &&
        p.act.min <= p.act.max && p.m.multiplier >= 0 && p.m.shift >= -31 && p.m.shift <= 31))
    throw Error("mul_quant8: parameters outside the 8-bit MUL's range");
}

// One run, validated by the caller.
void mul_run(Isa run, const qlite::ref::MulQuantParams& p, bool is_signed, int64_t n, const uint8_t* a, bool as,
             const uint8_t* b, bool bs, uint8_t* out) {
  switch (run) {
    case Isa::kAvx512: return elementwise_avx512::mul_quant8(p, is_signed, n, a, as, b, bs, out);
    case Isa::kAvx2: return elementwise_avx2::mul_quant8(p, is_signed, n, a, as, b, bs, out);
    case Isa::kReference: break;
  }
  if (is_signed)
    mul_reference(p, n, reinterpret_cast<const int8_t*>(a), as, reinterpret_cast<const int8_t*>(b), bs,
                  reinterpret_cast<int8_t*>(out));
  else
    mul_reference(p, n, a, as, b, bs, out);
}

}  // namespace

void lookup_bytes(Isa isa, const qlite::ref::ByteTable& t, int64_t n, const uint8_t* in, uint8_t* out) {
  const Isa run = runnable(isa, "lookup_bytes");
  if (run == Isa::kReference || n <= 0) return qlite::ref::lookup_bytes(t, n, in, out);
  if (!in || !out) throw Error("lookup_bytes: null tensor");
  if (run == Isa::kAvx512 && elementwise_avx512::lookup_bytes(t.v.data(), n, in, out)) return;
  elementwise_avx2::lookup_bytes(t.v.data(), n, in, out);  // AVX2, and AVX-512 without VBMI
}

void mul_quant8(Isa isa, const qlite::ref::MulQuantParams& p, bool is_signed, int64_t n, const uint8_t* a,
                bool a_scalar, const uint8_t* b, bool b_scalar, uint8_t* out) {
  const Isa run = runnable(isa, "mul_quant8");
  if (n < 0) throw Error("mul_quant8: negative size");
  if (n == 0) return;
  if (!a || !b || !out) throw Error("mul_quant8: null tensor");
  if (run != Isa::kReference) check_mul_params(p, is_signed);
  mul_run(run, p, is_signed, n, a, a_scalar, b, b_scalar, out);
}

void mul_quant8_broadcast(Isa isa, const qlite::ref::MulQuantParams& p, bool is_signed,
                          const qlite::ref::BroadcastGeometry& g, int64_t count, const uint8_t* a, const uint8_t* b,
                          uint8_t* out) {
  if (g.same) return mul_quant8(isa, p, is_signed, count, a, false, b, false, out);
  const Isa run = runnable(isa, "mul_quant8_broadcast");
  const int r = g.rank;
  if (r < 1 || r > qlite::ref::kMaxBroadcastRank) throw Error("mul_quant8_broadcast: bad rank");
  const auto last = static_cast<size_t>(r - 1);
  if (g.dims[last] == 0 || count == 0) return;
  if (!a || !b || !out) throw Error("mul_quant8_broadcast: null tensor");
  if (run != Isa::kReference) check_mul_params(p, is_signed);
  // ref::broadcast_binary's walk, with the trailing dimensions merged into one
  // run while each operand stays a scalar (strides 0) or contiguous there:
  // a scalar operand, or a squeeze-excite [1, 1, c] row, is then one long run
  // (or one run per row) instead of one per innermost dimension.
  const bool as = g.strides[0][last] == 0, bs = g.strides[1][last] == 0;
  if ((!as && g.strides[0][last] != 1) || (!bs && g.strides[1][last] != 1))
    throw Error("mul_quant8_broadcast: last-dimension strides must be 0 or 1");
  int64_t inner = g.dims[last];
  int outer_last = r - 2;  // the last dimension the odometer walks
  for (; outer_last >= 0; --outer_last) {
    const auto u = static_cast<size_t>(outer_last);
    const bool ok_a = as ? g.strides[0][u] == 0 : g.strides[0][u] == inner;
    const bool ok_b = bs ? g.strides[1][u] == 0 : g.strides[1][u] == inner;
    if (!ok_a || !ok_b) break;
    inner *= g.dims[u];
  }
  std::array<int64_t, qlite::ref::kMaxBroadcastRank> idx{};
  std::array<int64_t, 2> off{};
  for (int64_t o = 0; o < count; o += inner) {
    mul_run(run, p, is_signed, inner, a + off[0], as, b + off[1], bs, out + o);
    qlite::ref::broadcast_step(g, outer_last, idx, off);
  }
}

namespace {
Isa resize_path(Isa isa, const qlite::ref::ResizeGeometry& g, const char* name) {
  const Isa run = runnable(isa, name);
  if (g.batch < 0 || g.in_h < 1 || g.in_w < 1 || g.out_h < 1 || g.out_w < 1 || g.depth < 0 ||
      g.in_h >= (1 << 20) || g.in_w >= (1 << 20) || g.out_h >= (1 << 20) || g.out_w >= (1 << 20))
    throw Error(std::string(name) + ": sizes outside [1, 2^20)");
  return run;
}
}  // namespace

void resize_bilinear_s8(Isa isa, const qlite::ref::ResizeGeometry& g, const int8_t* in, int8_t* out) {
  const Isa run = resize_path(isa, g, "resize_bilinear_s8");
  if (run == Isa::kAvx512) return elementwise_avx512::resize_bilinear_s8(g, in, out);
  if (run == Isa::kAvx2) return elementwise_avx2::resize_bilinear_s8(g, in, out);
  qlite::ref::resize_bilinear_s8(g, in, out);
}

void resize_bilinear_f32(Isa isa, const qlite::ref::ResizeGeometry& g, const float* in, float* out) {
  if (resize_path(isa, g, "resize_bilinear_f32") != Isa::kReference)
    return elementwise_avx2::resize_bilinear_f32(g, in, out);
  qlite::ref::resize_bilinear_f32(g, in, out);
}

void resize_bilinear_u8(Isa isa, const qlite::ref::ResizeGeometry& g, const uint8_t* in, uint8_t* out) {
  if (resize_path(isa, g, "resize_bilinear_u8") != Isa::kReference)
    return elementwise_avx2::resize_bilinear_u8(g, in, out);
  qlite::ref::resize_bilinear_u8(g, in, out);
}

}  // namespace qlite::kernels
