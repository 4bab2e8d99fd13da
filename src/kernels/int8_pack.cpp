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

struct IsaLayout {
  int lanes, group, elem_size, input_offset;
};
IsaLayout layout_of(Isa isa) {
  if (isa == Isa::kAvx512) return {16, 4, 1, 128};  // vpdpbusd: u8 input (x + 128) x s8 weights
  return {8, 2, 2, 0};                              // vpmaddwd: int16 x int16
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
  g.input_offset = l.input_offset;
  const int n_pad = g.n_blocks * l.lanes;
  g.weights.assign(static_cast<size_t>(g.k_pad) * n_pad * l.elem_size + kSlack, 0);
  g.bias.assign(static_cast<size_t>(n_pad), 0);
  for (int c = 0; c < n; ++c) {
    int64_t sum = 0;
    for (int kk = 0; kk < k; ++kk) {
      const int8_t v = w(kk, c);
      sum += v;
      const size_t idx = (static_cast<size_t>(kk / l.group) * g.n_blocks + c / l.lanes) * l.lanes * l.group +
                         static_cast<size_t>(c % l.lanes) * l.group + kk % l.group;
      if (l.elem_size == 1) {
        g.weights[idx] = v;
      } else {
        const int16_t v16 = v;
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
  return r;
}

PackedConvInt8 pack_conv2d_int8(Isa isa, const qlite::ref::ConvInt8Params& p, const int8_t* weights, const int32_t* bias) {
  const qlite::ref::WindowGeometry& g = p.g;
  qlite::ref::validate_geometry(g, "pack_conv2d_int8");
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
  const IsaLayout l = layout_of(isa);
  pc.im2col = g.in_c % l.group != 0 && g.in_c <= 32;
  pc.cin_p = pc.im2col ? g.in_c : round_up(g.in_c, l.group);
  pc.rows_p = (g.out_h - 1) * g.stride_h + (g.kernel_h - 1) * g.dilation_h + 1;
  pc.cols_p = (g.out_w - 1) * g.stride_w + (g.kernel_w - 1) * g.dilation_w + 1;
  const int taps = g.kernel_h * g.kernel_w;
  const int k = pc.im2col ? static_cast<int>(kernel_elems) : taps * pc.cin_p;
  auto w_at = [&](int kk, int oc) -> int8_t {
    const int tap = pc.im2col ? kk / g.in_c : kk / pc.cin_p;
    const int ci = pc.im2col ? kk % g.in_c : kk % pc.cin_p;
    if (ci >= g.in_c) return 0;
    return weights[(int64_t{oc} * taps + tap) * g.in_c + ci];
  };
  pc.gemm = pack_gemm(l, k, g.out_c, w_at, bias, p.input_zero_point, p.requant, p.output_zero_point, p.act);
  if (!pc.im2col) {
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
  const IsaLayout l = layout_of(isa);
  auto w_at = [&](int kk, int o) { return weights[int64_t{o} * p.in_features + kk]; };
  pf.gemm = pack_gemm(l, p.in_features, p.out_features, w_at, bias, p.input_zero_point, p.requant,
                      p.output_zero_point, p.act);
  // Converted rows stay in L1/L2: about 64 KB of converted input per pass.
  const size_t row_bytes = static_cast<size_t>(pf.gemm.k_pad) * l.elem_size;
  pf.chunk_rows = static_cast<int>(std::clamp<size_t>((64 << 10) / row_bytes, 1, 256));
  pf.scratch_bytes = align64(row_bytes * pf.chunk_rows + kSlack);
  return pf;
}

PackedDepthwiseInt8 pack_depthwise_conv2d_int8(Isa isa, const qlite::ref::DepthwiseInt8Params& p, const int8_t* weights,
                                               const int32_t* bias) {
  const qlite::ref::WindowGeometry& g = p.g;
  qlite::ref::validate_geometry(g, "pack_depthwise_conv2d_int8");
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
  if (isa != Isa::kReference && p.depth_multiplier != 1) pd.isa = Isa::kReference;  // rare; not vectorised
  if (pd.isa == Isa::kReference) {
    pd.ref_weights.assign(weights, weights + n_w);
    if (bias) pd.ref_bias.assign(bias, bias + g.out_c);
    return pd;
  }
  const IsaLayout l = layout_of(isa);
  const int c = g.out_c;
  pd.lanes = l.lanes;
  pd.c_pad = round_up(c, l.lanes);
  pd.kw_pairs = (g.kernel_w + 1) / 2;
  pd.rows_p = (g.out_h - 1) * g.stride_h + (g.kernel_h - 1) * g.dilation_h + 1;
  pd.cols_p = (g.out_w - 1) * g.stride_w + (g.kernel_w - 1) * g.dilation_w + 1;
  pd.weights.assign(static_cast<size_t>(g.kernel_h) * pd.kw_pairs * pd.c_pad, 0);
  pd.bias.assign(static_cast<size_t>(pd.c_pad), 0);
  for (int ch = 0; ch < c; ++ch) {
    int64_t sum = 0;
    for (int ky = 0; ky < g.kernel_h; ++ky)
      for (int kx = 0; kx < g.kernel_w; ++kx) {
        const int8_t w = weights[(int64_t{ky} * g.kernel_w + kx) * c + ch];
        sum += w;
        uint32_t& slot = pd.weights[(static_cast<size_t>(ky) * pd.kw_pairs + kx / 2) * pd.c_pad + ch];
        slot |= static_cast<uint32_t>(static_cast<uint16_t>(int16_t{w})) << (kx % 2 == 0 ? 0 : 16);
      }
    // The pair buffer holds raw x and pads with the zero point: fold -zp * sum w.
    const int64_t folded = (bias ? int64_t{bias[ch]} : 0) - int64_t{p.input_zero_point} * sum;
    pd.bias[static_cast<size_t>(ch)] = static_cast<int32_t>(static_cast<uint32_t>(static_cast<uint64_t>(folded)));
  }
  pd.rq = make_int8_requant(p.requant, c, l.lanes, p.output_zero_point, p.act, qlite::ref::Rounding::kDoubleRounding);
  // Bands of output rows whose pair rows (4 bytes per element) fit in ~96 KB.
  const size_t pair_row = static_cast<size_t>(pd.cols_p) * pd.c_pad * 4;
  const int rows_fit = static_cast<int>(std::max<size_t>((96 << 10) / pair_row, 1));
  pd.band_rows = std::clamp((rows_fit - (g.kernel_h - 1) * g.dilation_h - 1) / g.stride_h + 1, 1, g.out_h);
  const int band_in_rows = (pd.band_rows - 1) * g.stride_h + (g.kernel_h - 1) * g.dilation_h + 1;
  pd.scratch_bytes = align64(pair_row * band_in_rows + kSlack);
  return pd;
}

}  // namespace qlite::kernels
