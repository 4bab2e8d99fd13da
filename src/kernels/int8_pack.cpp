// Weight packing and requantization constants for the optimized int8
// kernels: done once at prepare time, in plain (baseline) C++.
#include <algorithm>
#include <cstring>
#include <string>

#include "kernels/int8_kernels_x86.h"
#include "kernels/reference/int8_detail.h"

namespace qlite::kernels {
namespace {

constexpr size_t kSlack = 64;  // kernels may over-read / over-write small copies by < 64 bytes

size_t align64(size_t n) { return (n + 63) & ~size_t{63}; }
int round_up(int x, int m) { return (x + m - 1) / m * m; }

// elem_size: bytes of an input-buffer element; weight_bytes: of a packed weight.
struct IsaLayout {
  int lanes, group, elem_size, weight_bytes, input_offset, panel;
};
// wide: int16 weights (uint8 models whose w - zw do not fit int8).
IsaLayout layout_of(Isa isa, bool wide = false) {
  if (isa == Isa::kAvx512 && wide) return {16, 2, 2, 2, 0, kGemmPanelAvx512};  // vpmaddwd on 16 lanes: int16 x int16
  if (isa == Isa::kAvx512) return {16, 4, 1, 1, 128, kGemmPanelAvx512};  // vpdpbusd: u8 input (x + 128) x s8 weights
  // vpmaddwd on int16 operands; int8 weights are sign-extended as they are
  // loaded (vpmovsxbw), which halves the bytes streamed per dot.
  if (wide) return {8, 2, 2, 2, 0, kGemmPanelAvx2};
  return {8, 2, 2, 1, 0, kGemmPanelAvx2};
}

Isa checked(Isa isa, const char* op) {
  check(int8_isa_available(isa), std::string(op) + ": ISA " + isa_name(isa) + " is not supported by this CPU");
  return isa;
}

// K x N matrix given as w(k, n); see PackedGemmInt8 for the layout.
template <class W>
PackedGemmInt8 pack_gemm(const IsaLayout& l, int k, int n, W w, const int32_t* bias, int32_t input_zero_point,
                         const std::vector<qlite::ref::QuantizedMultiplier>& rq, int32_t out_zp, qlite::ref::ActRange act) {
  PackedGemmInt8 g;
  g.lanes = l.lanes;
  g.group = l.group;
  g.k = k;
  g.k_pad = round_up(k, l.group);
  g.n = n;
  g.n_blocks = (n + l.lanes - 1) / l.lanes;
  g.panel = l.panel;
  g.input_offset = l.input_offset;
  g.weight_bytes = l.weight_bytes;
  const int n_pad = g.n_blocks * l.lanes;
  g.weights.assign(static_cast<size_t>(g.k_pad) * n_pad * l.weight_bytes + kSlack, 0);
  g.bias.assign(static_cast<size_t>(n_pad), 0);
  for (int c = 0; c < n; ++c) {
    int64_t sum = 0;
    for (int kk = 0; kk < k; ++kk) {
      const int32_t v = w(kk, c);  // int8, or int16 in a wide layout (uint8 weights)
      sum += v;
      const int b = c / l.lanes, p = b / l.panel, pb = std::min(l.panel, g.n_blocks - p * l.panel);
      const size_t idx = static_cast<size_t>(p) * g.k_pad * l.panel * l.lanes +
                         (static_cast<size_t>(kk / l.group) * pb + b % l.panel) * l.lanes * l.group +
                         static_cast<size_t>(c % l.lanes) * l.group + kk % l.group;
      if (l.weight_bytes == 1) {
        g.weights[idx] = static_cast<int8_t>(v);
      } else {
        const int16_t v16 = static_cast<int16_t>(v);
        std::memcpy(&g.weights[idx * 2], &v16, 2);
      }
    }
    // The kernels see x + offset; sum w * (x - zp) = sum w * (x + offset) - (zp + offset) * sum w.
    // Everything is exact modulo 2^32, so the int32 accumulators stay exact.
    const int64_t folded = (bias ? int64_t{bias[c]} : 0) - (int64_t{input_zero_point} + l.input_offset) * sum;
    g.bias[static_cast<size_t>(c)] = static_cast<int32_t>(static_cast<uint32_t>(static_cast<uint64_t>(folded)));
  }
  // Conv and fully connected: ruy's round-half-up requantization (requantize.h).
  g.rq = make_int8_requant(rq, n, l.lanes, out_zp, act, qlite::ref::Rounding::kHalfUp);
  return g;
}

}  // namespace

bool int8_isa_available(Isa isa) {
#if defined(__x86_64__)
  const CpuFeatures& c = cpu_features();
  switch (isa) {
    case Isa::kReference: return true;
    case Isa::kAvx2: return c.avx2 && c.fma;
    case Isa::kAvx512: return c.avx512f && c.avx512bw && c.avx512dq && c.avx512vl && c.avx512vnni && c.avx2;
  }
  return false;
#else
  return isa == Isa::kReference;
#endif
}

// The cheaper form of double rounding, derived from the reference's with
// l = 0:
//   y = SRDHM(acc, m) = floor((acc * m + 2^30) / 2^31)  (no saturation: m < 2^31),
//   out = RDBPOT(y, r) + zp = floor((y + h - [y < 0 and r > 0]) / 2^r) + zp.
// With a = acc - lo and c64 = 2^31 + lo * 2m + (h + zp * 2^r) * 2^32 (mod 2^64): a * 2m + c64 = 2 * (acc * m + 2^30) + (h + zp * 2^r) * 2^32,
// whose floor by 2^32 (the high dword) is y + h + zp * 2^r = Y. Conditions,
// checked over the accumulator range [lo, hi] (y is monotone in
// acc): lo and hi in int32, hi - lo < 2^31 - 1 (a and thr non-negative int32),
// Y - 1 .. Y in int32 (then the 64-bit value is in range too), and no left
// shift (2m must fit in 32 bits). [y < 0] is [acc * m < -2^30], i.e.
// a < thr with thr = -floor(2^30 / m) - lo clamped to [0, hi - lo + 1].
bool fast_double_rounding(const qlite::ref::QuantizedMultiplier& q, int64_t lo, int64_t hi, int32_t zero_point,
                          FastDoubleRounding& out) {
  constexpr int64_t kMin = -(int64_t{1} << 31), kMax = (int64_t{1} << 31) - 1;
  const int64_t m = q.multiplier;
  const int shift = q.shift;
  if (shift > 0 || shift < -31 || m < 0 || lo < kMin || hi > kMax || lo > hi || hi - lo >= kMax) return false;
  const int r = -shift;
  const int64_t off = (r > 0 ? int64_t{1} << (r - 1) : 0) + int64_t{zero_point} * (int64_t{1} << r);
  const int64_t y_lo = (lo * m + (int64_t{1} << 30)) >> 31, y_hi = (hi * m + (int64_t{1} << 30)) >> 31;
  if (y_lo + off - 1 < kMin || y_hi + off > kMax) return false;
  out.m2 = static_cast<uint32_t>(2 * m);
  out.c64 = static_cast<int64_t>((uint64_t{1} << 31) + static_cast<uint64_t>(lo) * static_cast<uint64_t>(2 * m) +
                                 (static_cast<uint64_t>(off) << 32));
  int64_t thr = 0;
  if (r > 0 && m > 0) thr = std::clamp(-((int64_t{1} << 30) / m) - lo, int64_t{0}, hi - lo + 1);
  out.thr = static_cast<int32_t>(std::min(thr, kMax));
  out.shift = r;
  return true;
}

// ADD's input scaling in 32-bit arithmetic. The reference computes, for
// x = q - zp in [-255, 255] and left shift ls <= 22,
//   RDBPOT(SRDHM(x * 2^ls, m), r)   (r = -shift >= 0).
// SRDHM's nudged, truncated quotient equals floor((P + 2^30) / 2^31) for every
// product P (no saturation: |x * 2^ls| < 2^30), and RDBPOT(h, r) is
// floor((h + 2^(r-1) - [h < 0]) / 2^r) (r = 0: h). Nested floors of integer
// divisions compose, and P and 2^30 share the factor 2^ls, so the whole is
//   floor((x * m + K) / 2^S),  S = 31 + r - ls,
//   K = 2^(30-ls) + (2^(r-1) - [h < 0]) * 2^(31-ls)   (r = 0: K = 2^(30-ls)),
// where h < 0 exactly when x * m < -2^(30-ls), i.e. when q < thr. Splitting
// m = mq * 2^S + mr (mr < 2^S) gives x * mq + floor((x * mr + K) / 2^S); both
// parts fit in int32 when S is small enough, which is checked here on the
// extreme x (everything is monotone in x). The zero point is folded into the
// constants: x * mq = q * mq - zp * mq (off) and x * mr + K = q * mr + k.
// Two vpmulld and a 32-bit shift per input instead of two 64-bit products,
// shifts and the tie fix. Returns false when the form does not apply (the
// caller keeps the 64-bit one). Run once per ADD, at prepare (prepare_add_int8).
bool add_input_scale(const qlite::ref::QuantizedMultiplier& qm, int32_t zp, int ls, AddInScale& c) {
  const int64_t m = qm.multiplier;
  const int r = -qm.shift;
  if (m < 0 || r < 0 || r > 31 || ls < 0 || ls > 22) return false;
  const int s = 31 + r - ls;
  if (s < 1 || s > 30) return false;
  const int64_t mq = m >> s, mr = m & ((int64_t{1} << s) - 1);
  const int64_t k_pos = (int64_t{1} << (30 - ls)) + (r > 0 ? int64_t{1} << (r - 1 + 31 - ls) : 0);
  const int64_t d = r > 0 ? int64_t{1} << (31 - ls) : 0;
  constexpr int64_t kMax = (int64_t{1} << 31) - 1, kMin = -(int64_t{1} << 31);
  for (const int64_t x : {int64_t{-255}, int64_t{255}})
    for (const int64_t k : {k_pos, k_pos - d}) {
      const int64_t lo = x * mr + k;
      if (lo > kMax || lo < kMin) return false;
    }
  if (255 * mq > (int64_t{1} << 29)) return false;
  // h < 0 <=> (q - zp) * m < -2^(30-ls): thr is the smallest q where it fails.
  int64_t thr = -128;
  while (thr <= 127 && (thr - zp) * m < -(int64_t{1} << (30 - ls))) ++thr;
  const int64_t k = k_pos - int64_t{zp} * mr;
  if (k > kMax || k < kMin) return false;
  c.mq = static_cast<int32_t>(mq);
  c.mr = static_cast<int32_t>(mr);
  c.k = static_cast<int32_t>(k);
  c.thr = static_cast<int32_t>(thr);
  c.d = static_cast<int32_t>(d);
  c.off = static_cast<int32_t>(-int64_t{zp} * mq);
  c.s = s;
  return true;
}


PreparedAddInt8 prepare_add_int8(const qlite::ref::AddInt8Params& p) {
  check(p.left_shift >= 0 && p.left_shift <= 22, "add_int8: left_shift must be in [0, 22]");
  qlite::ref::detail::check_zero_point(p.input1_zero_point, "add_int8 input1");
  qlite::ref::detail::check_zero_point(p.input2_zero_point, "add_int8 input2");
  qlite::ref::detail::check_zero_point(p.output_zero_point, "add_int8 output");
  qlite::ref::detail::check_act(p.act, "add_int8");
  check(p.input1.shift <= 0 && p.input2.shift <= 0, "add_int8: input multipliers must be < 1");
  check(p.input1.multiplier >= 0 && p.input2.multiplier >= 0 && p.output.multiplier >= 0 && p.output.shift >= -31 &&
            p.output.shift <= 31 && p.input1.shift >= -31 && p.input2.shift >= -31,
        "add_int8: invalid quantized multiplier");
  PreparedAddInt8 r;
  r.p = p;
  r.in32 = add_input_scale(p.input1, p.input1_zero_point, p.left_shift, r.c1) &&
           add_input_scale(p.input2, p.input2_zero_point, p.left_shift, r.c2);
  if (!r.in32) return r;
  // The raw sums' range is that of the two scaled inputs, each monotone in
  // its byte; lo is folded into the inputs' offset so that the sum arrives
  // non-negative, as fast_double_rounding wants.
  auto scaled = [&](int32_t q, int32_t zp, const qlite::ref::QuantizedMultiplier& m) {
    return int64_t{qlite::ref::multiply_by_quantized_multiplier((q - zp) * (int32_t{1} << p.left_shift), m)};
  };
  const int64_t lo = scaled(-128, p.input1_zero_point, p.input1) + scaled(-128, p.input2_zero_point, p.input2);
  const int64_t hi = scaled(127, p.input1_zero_point, p.input1) + scaled(127, p.input2_zero_point, p.input2);
  r.fast_out = fast_double_rounding(p.output, lo, hi, p.output_zero_point, r.f);
  r.fast_off = static_cast<int32_t>(static_cast<uint32_t>(r.c1.off) + static_cast<uint32_t>(r.c2.off) -
                                    static_cast<uint32_t>(lo));
  return r;
}

Int8Requant make_int8_requant(const std::vector<qlite::ref::QuantizedMultiplier>& rq, int channels, int lanes,
                              int32_t output_zero_point, qlite::ref::ActRange act, qlite::ref::Rounding rounding) {
  qlite::ref::detail::check_requant(rq, channels, "make_int8_requant");
  qlite::ref::detail::check_zero_point(output_zero_point, "make_int8_requant output");
  qlite::ref::detail::check_act(act, "make_int8_requant");
  check(lanes == 1 || (lanes > 0 && lanes % 2 == 0), "make_int8_requant: lanes must be 1 or even");
  Int8Requant r;
  r.channels = channels;
  r.lanes = lanes;
  r.rounding = rounding;
  r.output_zero_point = output_zero_point;
  r.act_min = act.min;
  r.act_max = act.max;
  const int padded = (channels + lanes - 1) / lanes * lanes;
  r.multiplier.assign(padded, 0);
  r.left.assign(padded, 0);
  r.right.assign(padded, 0);
  r.rmask.assign(padded, 0);
  r.rhalf.assign(padded, 0);
  r.round64.assign(padded, int64_t{1} << 30);
  r.fix64.assign(padded, 0);
  r.shift64.assign(padded, 31);
  for (int c = 0; c < channels; ++c) {
    const qlite::ref::QuantizedMultiplier& m = rq.size() == 1 ? rq[0] : rq[static_cast<size_t>(c)];
    const int left = std::max(m.shift, 0), right = std::max(-m.shift, 0);
    r.multiplier[c] = m.multiplier;
    r.left[c] = left;
    r.right[c] = right;
    r.rmask[c] = static_cast<int32_t>((int64_t{1} << right) - 1);
    r.rhalf[c] = r.rmask[c] >> 1;
    r.any_left = r.any_left || left > 0;
    // 64-bit form, stored per block as even lanes then odd lanes.
    const int block = c / lanes, lane = c % lanes;
    const int slot = block * lanes + (lane % 2 == 0 ? lane / 2 : lanes / 2 + lane / 2);
    const size_t s = static_cast<size_t>(lanes == 1 ? c : slot);
    r.round64[s] = (int64_t{1} << 30) + (right > 0 ? int64_t{1} << (30 + right) : 0);
    r.fix64[s] = right > 0 && rounding == qlite::ref::Rounding::kDoubleRounding ? int64_t{1} << 31 : 0;
    r.shift64[s] = 31 + right;
  }
  r.fast64.resize(static_cast<size_t>(padded));
  r.fast_shift.resize(static_cast<size_t>(padded));
  for (size_t i = 0; i < static_cast<size_t>(padded); ++i) {
    const uint64_t sh = static_cast<uint64_t>(r.shift64[i]);
    const uint64_t zp = sh < 64 ? static_cast<uint64_t>(int64_t{output_zero_point}) << sh : 0;  // as vpsllvq
    r.fast64[i] = static_cast<int64_t>(static_cast<uint64_t>(r.round64[i]) + zp);
    r.fast_shift[i] = std::max(r.right[i] - 1, 0);
  }
  return r;
}

namespace {

// uint8 weights enter the kernels as w - zero point: int8 when every value
// fits, else int16 (the wide layouts).
bool uint8_weights_fit_int8(const uint8_t* w, int64_t n, int32_t zp) {
  for (int64_t i = 0; i < n; ++i)
    if (int32_t{w[i]} - zp < -128 || int32_t{w[i]} - zp > 127) return false;
  return true;
}
Isa uint8_isa(Isa isa, const char* op) {
  check(isa != Isa::kReference,
        std::string(op) + ": Isa::kReference has no packed form; the reference uint8 kernels are in uint8_kernels.h");
  return checked(isa, op);
}
template <class P>
P to_int8_domain(P p, const char* op) {
  check(p.input_zero_point >= 0 && p.input_zero_point <= 255 && p.output_zero_point >= 0 &&
            p.output_zero_point <= 255 && p.act.min >= 0 && p.act.max <= 255,
        std::string(op) + ": zero points and activation range must lie in [0, 255]");
  p.input_zero_point -= 128;
  p.output_zero_point -= 128;
  p.act.min -= 128;
  p.act.max -= 128;
  return p;
}

// W: weight element i of the OHWI tensor, as int32 (already minus any zero point).
template <class W>
PackedConvInt8 pack_conv_impl(Isa isa, const qlite::ref::ConvInt8Params& p, W weights, const int32_t* bias,
                              bool wide = false) {
  const qlite::ref::WindowGeometry& g = p.g;
  PackedConvInt8 pc;
  pc.isa = isa;
  pc.params = p;
  pc.params.g.batch = 1;
  const int64_t kernel_elems = int64_t{g.kernel_h} * g.kernel_w * g.in_c;
  const IsaLayout l = layout_of(isa, wide);
  // Row taps (dilation_w 1): the kernel_w * in_c elements of one window row
  // are contiguous in the padded buffer, so a tap is a whole window row cut
  // into groups; the group's last elements may run into the next pixel and
  // meet zero weights. Fewer padded dot elements than per-pixel taps and no
  // im2col copy (the seed conv: 3 groups of 4 per pixel instead of 9).
  pc.row_taps = g.dilation_w == 1;
  pc.im2col = !pc.row_taps && g.in_c % l.group != 0 && g.in_c <= 32;
  pc.cin_p = pc.im2col || pc.row_taps ? g.in_c : round_up(g.in_c, l.group);
  pc.rows_p = (g.out_h - 1) * g.stride_h + (g.kernel_h - 1) * g.dilation_h + 1;
  pc.cols_p = (g.out_w - 1) * g.stride_w + (g.kernel_w - 1) * g.dilation_w + 1;
  const int taps = g.kernel_h * g.kernel_w;
  const int row_len = g.kernel_w * g.in_c;
  pc.tap_groups = pc.row_taps ? (row_len + l.group - 1) / l.group : pc.cin_p / l.group;
  const int tap_k = pc.tap_groups * l.group;
  const int k = pc.im2col ? static_cast<int>(kernel_elems) : (pc.row_taps ? g.kernel_h : taps) * tap_k;
  auto w_at = [&](int kk, int oc) -> int32_t {
    if (pc.row_taps) {
      const int ky = kk / tap_k, e = kk % tap_k;
      if (e >= row_len) return 0;
      return weights((int64_t{oc} * g.kernel_h + ky) * row_len + e);
    }
    const int tap = pc.im2col ? kk / g.in_c : kk / pc.cin_p;
    const int ci = pc.im2col ? kk % g.in_c : kk % pc.cin_p;
    if (ci >= g.in_c) return 0;
    return weights((int64_t{oc} * taps + tap) * g.in_c + ci);
  };
  pc.gemm = pack_gemm(l, k, g.out_c, w_at, bias, p.input_zero_point, p.requant, p.output_zero_point, p.act);
  if (pc.row_taps) {
    for (int ky = 0; ky < g.kernel_h; ++ky) pc.tap_offsets.push_back(ky * g.dilation_h * pc.cols_p * pc.cin_p);
  } else if (!pc.im2col) {
    for (int ky = 0; ky < g.kernel_h; ++ky)
      for (int kx = 0; kx < g.kernel_w; ++kx)
        pc.tap_offsets.push_back((ky * g.dilation_h * pc.cols_p + kx * g.dilation_w) * pc.cin_p);
  }
  const size_t pad_bytes = static_cast<size_t>(pc.rows_p) * pc.cols_p * pc.cin_p * l.elem_size;
  pc.scratch_bytes = align64(pad_bytes + kSlack);
  if (pc.im2col)
    pc.scratch_bytes += align64(static_cast<size_t>(g.out_h) * g.out_w * pc.gemm.k_pad * l.elem_size + kSlack);
  return pc;
}

}  // namespace

PackedConvInt8 pack_conv2d_int8(Isa isa, const qlite::ref::ConvInt8Params& p, const int8_t* weights, const int32_t* bias) {
  const qlite::ref::WindowGeometry& g = p.g;
  qlite::ref::validate_window_reach(g, "pack_conv2d_int8");
  qlite::ref::detail::check_zero_point(p.input_zero_point, "pack_conv2d_int8 input");
  qlite::ref::detail::check_zero_point(p.output_zero_point, "pack_conv2d_int8 output");
  qlite::ref::detail::check_act(p.act, "pack_conv2d_int8");
  qlite::ref::detail::check_requant(p.requant, g.out_c, "pack_conv2d_int8");
  check(weights != nullptr, "pack_conv2d_int8: null weights");
  PackedConvInt8 pc;
  pc.isa = checked(isa, "pack_conv2d_int8");
  pc.params = p;
  pc.params.g.batch = 1;
  const int64_t kernel_elems = int64_t{g.kernel_h} * g.kernel_w * g.in_c;
  check(kernel_elems < (int64_t{1} << 28), "pack_conv2d_int8: kernel too large");
  if (isa == Isa::kReference) {
    pc.ref_weights.assign(weights, weights + kernel_elems * g.out_c);
    if (bias) pc.ref_bias.assign(bias, bias + g.out_c);
    return pc;
  }
  return pack_conv_impl(isa, p, [weights](int64_t i) -> int32_t { return weights[i]; }, bias);
}

PackedConvInt8 pack_conv2d_uint8(Isa isa, const qlite::ref::ConvInt8Params& p_u8, int32_t weight_zero_point,
                                 const uint8_t* weights, const int32_t* bias) {
  const qlite::ref::ConvInt8Params p = to_int8_domain(p_u8, "pack_conv2d_uint8");
  const qlite::ref::WindowGeometry& g = p.g;
  qlite::ref::validate_window_reach(g, "pack_conv2d_uint8");
  qlite::ref::detail::check_requant(p.requant, g.out_c, "pack_conv2d_uint8");
  check(weights != nullptr, "pack_conv2d_uint8: null weights");
  check(weight_zero_point >= 0 && weight_zero_point <= 255, "pack_conv2d_uint8: weight zero point outside [0, 255]");
  const int64_t kernel_elems = int64_t{g.kernel_h} * g.kernel_w * g.in_c;
  check(kernel_elems < (int64_t{1} << 28), "pack_conv2d_uint8: kernel too large");
  const bool fits = uint8_weights_fit_int8(weights, kernel_elems * g.out_c, weight_zero_point);
  return pack_conv_impl(uint8_isa(isa, "pack_conv2d_uint8"), p,
                        [=](int64_t i) -> int32_t { return int32_t{weights[i]} - weight_zero_point; }, bias, !fits);
}

namespace {
template <class W>
void finish_fully_connected(PackedFullyConnectedInt8& pf, W w_at, const int32_t* bias, bool wide = false) {
  const qlite::ref::FullyConnectedInt8Params& p = pf.params;
  const IsaLayout l = layout_of(pf.isa, wide);
  pf.gemm = pack_gemm(l, p.in_features, p.out_features, w_at, bias, p.input_zero_point, p.requant,
                      p.output_zero_point, p.act);
  // Converted rows stay in L1/L2: about 64 KB of converted input per pass.
  const size_t row_bytes = static_cast<size_t>(pf.gemm.k_pad) * l.elem_size;
  pf.chunk_rows = static_cast<int>(std::clamp<size_t>((64 << 10) / row_bytes, 1, 256));
  pf.scratch_bytes = align64(row_bytes * pf.chunk_rows + kSlack);
}
}  // namespace

PackedFullyConnectedInt8 pack_fully_connected_int8(Isa isa, const qlite::ref::FullyConnectedInt8Params& p,
                                                   const int8_t* weights, const int32_t* bias) {
  check(p.in_features > 0 && p.out_features > 0, "pack_fully_connected_int8: dimensions must be positive");
  qlite::ref::detail::check_zero_point(p.input_zero_point, "pack_fully_connected_int8 input");
  qlite::ref::detail::check_zero_point(p.output_zero_point, "pack_fully_connected_int8 output");
  qlite::ref::detail::check_act(p.act, "pack_fully_connected_int8");
  qlite::ref::detail::check_requant(p.requant, p.out_features, "pack_fully_connected_int8");
  check(weights != nullptr, "pack_fully_connected_int8: null weights");
  PackedFullyConnectedInt8 pf;
  pf.isa = checked(isa, "pack_fully_connected_int8");
  pf.params = p;
  pf.params.batch = 1;
  const int64_t n_w = int64_t{p.in_features} * p.out_features;
  if (isa == Isa::kReference) {
    pf.ref_weights.assign(weights, weights + n_w);
    if (bias) pf.ref_bias.assign(bias, bias + p.out_features);
    return pf;
  }
  finish_fully_connected(pf, [&](int kk, int o) -> int32_t { return weights[int64_t{o} * p.in_features + kk]; },
                         bias);
  return pf;
}

PackedFullyConnectedInt8 pack_fully_connected_uint8(Isa isa, const qlite::ref::FullyConnectedInt8Params& p_u8,
                                                    int32_t weight_zero_point, const uint8_t* weights,
                                                    const int32_t* bias) {
  const qlite::ref::FullyConnectedInt8Params p = to_int8_domain(p_u8, "pack_fully_connected_uint8");
  check(p.in_features > 0 && p.out_features > 0, "pack_fully_connected_uint8: dimensions must be positive");
  qlite::ref::detail::check_requant(p.requant, p.out_features, "pack_fully_connected_uint8");
  check(weights != nullptr, "pack_fully_connected_uint8: null weights");
  check(weight_zero_point >= 0 && weight_zero_point <= 255,
        "pack_fully_connected_uint8: weight zero point outside [0, 255]");
  const int64_t n_w = int64_t{p.in_features} * p.out_features;
  PackedFullyConnectedInt8 pf;
  pf.isa = uint8_isa(isa, "pack_fully_connected_uint8");
  pf.params = p;
  pf.params.batch = 1;
  finish_fully_connected(
      pf, [&](int kk, int o) -> int32_t { return int32_t{weights[int64_t{o} * p.in_features + kk]} - weight_zero_point; },
      bias, !uint8_weights_fit_int8(weights, n_w, weight_zero_point));
  return pf;
}

namespace {
template <class W>
void finish_depthwise(PackedDepthwiseInt8& pd, W weights, const int32_t* bias);
}  // namespace

bool depthwise_int8_vectorized(const qlite::ref::DepthwiseInt8Params& p) {
  return p.g.kernel_h <= kMaxDwKernel && p.g.kernel_w <= kMaxDwKernel;
}

int dw_channel_at(const PackedDepthwiseInt8& pd, int pos) {
  // The kernels' in-lane unpacks: register k, lane m of a block holds channel
  // (m / 4) * 4 * regs + 4 * k + m % 4 (see x86/int8_depthwise_impl.h).
  const int lanes = pd.isa == Isa::kAvx512 ? 16 : 8, regs = pd.block / lanes;
  const int k = pos / lanes, m = pos % lanes;
  return (m / 4) * 4 * regs + 4 * k + m % 4;
}

PackedDepthwiseInt8 pack_depthwise_conv2d_int8(Isa isa, const qlite::ref::DepthwiseInt8Params& p, const int8_t* weights,
                                               const int32_t* bias) {
  const qlite::ref::WindowGeometry& g = p.g;
  qlite::ref::validate_window_reach(g, "pack_depthwise_conv2d_int8");
  check(p.depth_multiplier > 0 && int64_t{g.in_c} * p.depth_multiplier == g.out_c,
        "pack_depthwise_conv2d_int8: out_c must equal in_c * depth_multiplier");
  qlite::ref::detail::check_zero_point(p.input_zero_point, "pack_depthwise_conv2d_int8 input");
  qlite::ref::detail::check_zero_point(p.output_zero_point, "pack_depthwise_conv2d_int8 output");
  qlite::ref::detail::check_act(p.act, "pack_depthwise_conv2d_int8");
  qlite::ref::detail::check_requant(p.requant, g.out_c, "pack_depthwise_conv2d_int8");
  check(weights != nullptr, "pack_depthwise_conv2d_int8: null weights");
  PackedDepthwiseInt8 pd;
  pd.isa = checked(isa, "pack_depthwise_conv2d_int8");
  pd.params = p;
  pd.params.g.batch = 1;
  const int64_t n_w = int64_t{g.kernel_h} * g.kernel_w * g.out_c;
  check(n_w < (int64_t{1} << 28), "pack_depthwise_conv2d_int8: kernel too large");
  // Rare shapes are not vectorised (a depth multiplier > 1 is: it runs as
  // multiplier 1 on input rows whose channels are repeated, expand_row).
  if (!depthwise_int8_vectorized(p)) pd.isa = Isa::kReference;
  if (pd.isa == Isa::kReference) {
    pd.ref_weights.assign(weights, weights + n_w);
    if (bias) pd.ref_bias.assign(bias, bias + g.out_c);
    return pd;
  }
  finish_depthwise(pd, [weights](int64_t i) -> int32_t { return weights[i]; }, bias);
  return pd;
}

PackedDepthwiseInt8 pack_depthwise_conv2d_uint8(Isa isa, const qlite::ref::DepthwiseInt8Params& p_u8,
                                                int32_t weight_zero_point, const uint8_t* weights,
                                                const int32_t* bias) {
  const qlite::ref::DepthwiseInt8Params p = to_int8_domain(p_u8, "pack_depthwise_conv2d_uint8");
  const qlite::ref::WindowGeometry& g = p.g;
  qlite::ref::validate_geometry(g, "pack_depthwise_conv2d_uint8");
  check(p.depth_multiplier > 0 && int64_t{g.in_c} * p.depth_multiplier == g.out_c,
        "pack_depthwise_conv2d_uint8: out_c must equal in_c * depth_multiplier");
  check(depthwise_int8_vectorized(p), "pack_depthwise_conv2d_uint8: shape not vectorized (see depthwise_int8_vectorized)");
  qlite::ref::detail::check_requant(p.requant, g.out_c, "pack_depthwise_conv2d_uint8");
  check(weights != nullptr, "pack_depthwise_conv2d_uint8: null weights");
  check(weight_zero_point >= 0 && weight_zero_point <= 255,
        "pack_depthwise_conv2d_uint8: weight zero point outside [0, 255]");
  const int64_t n_w = int64_t{g.kernel_h} * g.kernel_w * g.out_c;
  check(n_w < (int64_t{1} << 28), "pack_depthwise_conv2d_uint8: kernel too large");
  PackedDepthwiseInt8 pd;
  pd.isa = uint8_isa(isa, "pack_depthwise_conv2d_uint8");
  // The AVX-512 depthwise layout holds int8 weights only: wider ones take the AVX2 layout.
  if (pd.isa == Isa::kAvx512 && !uint8_weights_fit_int8(weights, n_w, weight_zero_point)) pd.isa = Isa::kAvx2;
  pd.params = p;
  pd.params.g.batch = 1;
  finish_depthwise(pd, [=](int64_t i) -> int32_t { return int32_t{weights[i]} - weight_zero_point; }, bias);
  return pd;
}

namespace {
// PackedDepthwiseInt8's fast requantization: every channel's
// fast_double_rounding over its accumulator range, or none.
void make_depthwise_fast_rq(PackedDepthwiseInt8& pd, const std::vector<qlite::ref::QuantizedMultiplier>& rq,
                            const std::vector<int64_t>& acc_lo, const std::vector<int64_t>& acc_hi, int lanes) {
  const int n = pd.c_pad;
  std::vector<FastDoubleRounding> f(static_cast<size_t>(n));
  bool thr_zero = true;
  for (int c = 0; c < n; ++c) {
    const size_t i = static_cast<size_t>(c);
    FastDoubleRounding& fi = f[i];
    if (!fast_double_rounding(rq[i], acc_lo[i], acc_hi[i], pd.params.output_zero_point, fi)) return;
    // The output without the a < thr step is non-decreasing in a (Y is
    // SRDHM(acc, m) plus a constant, all inside int32), and the step only
    // lowers it: when it is <= act.min at a = thr - 1 already, the clamp
    // gives act.min for every a < thr with or without the step.
    if (fi.thr > 0) {
      const uint64_t w = static_cast<uint64_t>(fi.thr - 1) * fi.m2 + static_cast<uint64_t>(fi.c64);
      const int32_t y = static_cast<int32_t>(static_cast<uint32_t>(w >> 32));
      if ((y >> fi.shift) <= pd.params.act.min) fi.thr = 0;
    }
    thr_zero = thr_zero && fi.thr == 0;
  }
  pd.rq_m2.assign(static_cast<size_t>(n), 0);
  pd.rq_c64.assign(static_cast<size_t>(n), 0);
  pd.rq_thr.assign(static_cast<size_t>(n), 0);
  pd.rq_shift.assign(static_cast<size_t>(n), 0);
  for (int c = 0; c < n; ++c) {
    const size_t i = static_cast<size_t>(c);
    const int block = c / lanes, lane = c % lanes;
    const size_t slot = static_cast<size_t>(block * lanes + (lane % 2 == 0 ? lane / 2 : lanes / 2 + lane / 2));
    pd.rq_m2[i] = f[i].m2;
    pd.rq_c64[slot] = f[i].c64;
    pd.rq_thr[i] = f[i].thr;
    pd.rq_shift[i] = f[i].shift;
  }
  for (int c = 0; c < n; ++c) {
    const size_t i = static_cast<size_t>(c);
    pd.bias[i] = static_cast<int32_t>(static_cast<uint32_t>(pd.bias[i]) - static_cast<uint32_t>(acc_lo[i]));
  }
  pd.fast_rq = true;
  pd.rq_thr_zero = thr_zero;
}

template <class W>
void finish_depthwise(PackedDepthwiseInt8& pd, W weights, const int32_t* bias) {
  const qlite::ref::DepthwiseInt8Params& p = pd.params;
  const qlite::ref::WindowGeometry& g = p.g;
  const int c = g.out_c;
  const bool v512 = pd.isa == Isa::kAvx512;
  // A 64-channel AVX-512 block would be mostly padding: up to 32 channels,
  // blocks of 16 in one register (DwV512x16).
  pd.block = v512 ? (c <= 32 ? 16 : 64) : 16;
  pd.group = v512 ? 4 : 2;
  const int32_t input_offset = v512 ? 128 : 0;  // vpdpbusd reads x + 128 as u8
  pd.c_pad = round_up(c, pd.block);
  pd.kw_groups = (g.kernel_w + pd.group - 1) / pd.group;
  // Group rows only at the columns outputs start from, when every group's
  // column offset is a whole number of strides (always for one group).
  const int group_shift = pd.group * g.dilation_w;
  pd.q_step = pd.kw_groups == 1 || group_shift % g.stride_w == 0 ? g.stride_w : 1;
  pd.col_step = g.stride_w / pd.q_step;
  pd.group_cols = group_shift / pd.q_step;
  pd.q_cols = ((g.out_w - 1) * g.stride_w + (pd.kw_groups - 1) * group_shift) / pd.q_step + 1;
  // Pixel pairs: measured faster with 16-channel blocks (14x14x16 1.31 ->
  // 1.03 us) and slower with 64-channel ones (56x56x64 45 -> 65 us), so
  // only those.
  pd.pairs = v512 && pd.block == 16 && g.kernel_h == 3 && g.kernel_w < pd.group && g.stride_w == 1 &&
             g.dilation_w == 1;
  if (pd.pairs) {
    pd.q_step = 2;
    pd.q_cols = (g.out_w + 1) / 2;
  }
  pd.ring_rows = (g.kernel_h - 1) * g.dilation_h + 1;
  pd.weights.assign(static_cast<size_t>(g.kernel_h) * pd.kw_groups * pd.c_pad, 0);
  if (pd.pairs) pd.weights_odd.assign(pd.weights.size(), 0);
  pd.bias.assign(static_cast<size_t>(pd.c_pad), 0);
  std::vector<qlite::ref::QuantizedMultiplier> rq(static_cast<size_t>(pd.c_pad), p.requant[0]);
  // Range of the true accumulator bias + sum w * (x - zp) per packed channel
  // (padding taps add 0, which lies inside): for the fast requantization.
  std::vector<int64_t> acc_lo(static_cast<size_t>(pd.c_pad), 0), acc_hi(static_cast<size_t>(pd.c_pad), 0);
  for (int blk = 0; blk < pd.c_pad; blk += pd.block)
    for (int pos = 0; pos < pd.block; ++pos) {
      const int ch = blk + dw_channel_at(pd, pos);
      if (ch >= c) continue;  // padding channel: zero weights and bias
      const size_t at = static_cast<size_t>(blk + pos);
      int64_t sum = 0, lo = 0, hi = 0;
      for (int ky = 0; ky < g.kernel_h; ++ky)
        for (int kx = 0; kx < g.kernel_w; ++kx) {
          // int8, or int16 (AVX2 layout only) for uint8 weights minus their zero point
          const int32_t w = weights((int64_t{ky} * g.kernel_w + kx) * c + ch);
          sum += w;
          const int64_t a = int64_t{w} * (-128 - p.input_zero_point), b = int64_t{w} * (127 - p.input_zero_point);
          lo += std::min(a, b);
          hi += std::max(a, b);
          const int j = kx / pd.group, t = kx % pd.group;
          uint32_t& slot = pd.weights[(static_cast<size_t>(ky) * pd.kw_groups + j) * pd.c_pad + at];
          slot |= v512 ? static_cast<uint32_t>(static_cast<uint8_t>(w)) << (8 * t)
                       : static_cast<uint32_t>(static_cast<uint16_t>(static_cast<int16_t>(w))) << (16 * t);
          if (pd.pairs)
            pd.weights_odd[static_cast<size_t>(ky) * pd.c_pad + at] |= static_cast<uint32_t>(static_cast<uint8_t>(w))
                                                                       << (8 * (t + 1));
        }
      // Padding taps hold the zero point: fold -(zp + offset) * sum w, exact modulo 2^32.
      const int64_t folded = (bias ? int64_t{bias[ch]} : 0) - (int64_t{p.input_zero_point} + input_offset) * sum;
      pd.bias[at] = static_cast<int32_t>(static_cast<uint32_t>(static_cast<uint64_t>(folded)));
      rq[at] = p.requant.size() == 1 ? p.requant[0] : p.requant[static_cast<size_t>(ch)];
      const int64_t b = bias ? int64_t{bias[ch]} : 0;
      acc_lo[at] = b + lo;
      acc_hi[at] = b + hi;
    }
  pd.rq = make_int8_requant(rq, pd.c_pad, v512 ? 16 : 8, p.output_zero_point, p.act,
                            qlite::ref::Rounding::kDoubleRounding);
  make_depthwise_fast_rq(pd, rq, acc_lo, acc_hi, v512 ? 16 : 8);
  const size_t ring_bytes = static_cast<size_t>(pd.ring_rows) * pd.q_cols * pd.c_pad * 4;
  pd.expand_offset = align64(ring_bytes + sizeof(int32_t) * pd.ring_rows);
  const size_t expand_bytes = p.depth_multiplier == 1 ? 0 : static_cast<size_t>(g.in_w) * g.out_c;
  pd.scratch_bytes = align64(pd.expand_offset + expand_bytes + kSlack);
}
}  // namespace

}  // namespace qlite::kernels
