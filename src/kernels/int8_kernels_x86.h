// Optimized int8 kernels (AVX-512 VNNI, AVX2) behind one API, bit-exact with
// the reference kernels in kernels/reference/int8_kernels.h.
//
// Use: pack once at prepare time (weights re-laid-out, zero-point terms folded
// into the bias, requantization constants expanded per lane), then run many
// times. Each packed op remembers the Isa it was packed for; pass
// active_isa() in the runtime and any supported Isa in tests. Isa::kReference
// keeps the original tensors and calls the reference kernels, so it is always
// available. Scratch memory is owned by the caller (the runtime's arena): ask
// the packed op for scratch_bytes and pass at least that many bytes (any
// alignment; 64 is best). Nothing here allocates at run time.
//
// Work split for threads: *_rows entry points compute a range of output rows of
// one image (conv, depthwise) or a range of batch rows (fully connected); each
// thread needs its own scratch.
//
// When the reference kernel would throw because an int32 accumulator
// overflows, these kernels return unspecified values instead (they accumulate
// with int32 wrap-around, which is exact whenever the true sum fits).
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "kernels/reference/int8_kernels.h"
#include "qlite/core.h"

namespace qlite::kernels {

// True when the CPU can run the int8 kernels of this path.
bool int8_isa_available(Isa isa);

// Per-output-channel requantization constants, expanded for `lanes`-wide
// vectors (channels padded to a multiple of lanes), for either rounding form
// of requantize.h (conv and fully connected: half up; depthwise and add:
// double rounding). Two equivalent exact computations are kept: the 32-bit
// one (AVX2: SRDHM = (p + 2^30) >> 31, then a rounding shift by `right` whose
// threshold is rhalf, plus 1 for a negative value under double rounding only)
// and a 64-bit one that folds both roundings into one add and one shift of
// the 64-bit product (AVX-512, fewer ops):
//   MBQM(x) = (p + round64 - (p < -2^30 ? fix64 : 0)) >> shift64,
//   p = (x << left) * multiplier, round64 = 2^30 + (right > 0 ? 2^(30+right) : 0),
//   shift64 = 31 + right, fix64 = right > 0 ? 2^31 : 0 for double rounding
//   (it turns a negative tie of the second step away from zero) and 0 for
//   half up (floor of nested floors: both steps collapse into one).
struct Int8Requant {
  int channels = 0;  // real channels
  int lanes = 1;
  qlite::ref::Rounding rounding = qlite::ref::Rounding::kDoubleRounding;
  int32_t output_zero_point = 0;
  int32_t act_min = -128, act_max = 127;
  bool any_left = false;  // some channel has a left shift (multiplier >= 1)
  std::vector<int32_t> multiplier, left, right, rmask, rhalf;  // channel order
  // Per block of `lanes` channels: the even channels, then the odd channels.
  std::vector<int64_t> round64, fix64, shift64;
  // The constants of the x86 kernels' cheaper exact form (fast_rq), made
  // here once instead of per tile: round64 + output_zero_point * 2^shift64
  // (mod 2^64) in round64's layout, and max(right - 1, 0) in channel order.
  std::vector<int64_t> fast64;
  std::vector<int32_t> fast_shift;
};
Int8Requant make_int8_requant(const std::vector<qlite::ref::QuantizedMultiplier>& rq, int channels, int lanes,
                              int32_t output_zero_point, qlite::ref::ActRange act, qlite::ref::Rounding rounding);

// out[p * channels + c] = clamp(MBQM(acc[p * channels + c], c) + zp) in the
// form rq.rounding names: the requantization stage alone, exposed so that tests can sweep it exhaustively.
void requantize_channels_int8(Isa isa, const Int8Requant& rq, int64_t pixels, const int32_t* acc, int8_t* out);

// The cheaper exact form of double rounding (docs/QUANTIZATION.md, CONV_2D /
// DEPTHWISE_CONV_2D) for accumulators known to lie in [lo, hi]: with
// a = acc - lo (unsigned), the high dword Y of a * m2 + c64 (mod 2^64) is
// SRDHM(acc, M) + 2^(shift-1) + zero_point * 2^shift, and the output with
// its zero point is (Y - [a < thr]) >> shift. False when the multiplier
// shifts left or the range does not keep every step inside 32 bits.
struct FastDoubleRounding {
  uint32_t m2 = 0;
  int64_t c64 = 0;
  int32_t thr = 0, shift = 0;
};
bool fast_double_rounding(const qlite::ref::QuantizedMultiplier& m, int64_t lo, int64_t hi, int32_t zero_point,
                          FastDoubleRounding& out);

// Packed dot-product weights, in panels of `panel` blocks of `lanes`
// channels (the GEMM tile's width: a tile reads one panel front to back).
// Element (k, n) of the K x N matrix (K = window elements, N = output
// channels), in block b = n / lanes, panel p = b / panel, with
// pb = min(panel, n_blocks - p * panel) blocks in its panel, lives at
//   p * k_pad * panel * lanes + ((k / group) * pb + b % panel) * lanes * group
//     + (n % lanes) * group + k % group,
// as int8 (AVX-512 VNNI, group 4; AVX2, group 2, sign-extended to int16 as
// the kernel loads it) or, in the wide layouts (weight_bytes 2), int16.
// With n_blocks <= panel this is one panel, [k / group][block][lane][k % group].
// A panel's weights are contiguous so that a tile's walk down K streams
// them: across all blocks, at batch 1 the walk strode n_blocks * lanes *
// group bytes per step, and MobileNetV2's 1280 x 1000 classifier waited on
// cache misses the prefetchers did not see coming.
constexpr int kGemmPanelAvx2 = 2, kGemmPanelAvx512 = 4;
struct PackedGemmInt8 {
  int lanes = 0, group = 0;
  int k = 0, k_pad = 0;  // real and padded (to group) dot length
  int n = 0, n_blocks = 0;
  int panel = 1;             // blocks per panel (kGemmPanelAvx2 / kGemmPanelAvx512)
  int32_t input_offset = 0;  // the input buffer holds x + input_offset (128 for VNNI: u8 operand)
  int weight_bytes = 1;         // 1: int8 weights; 2: int16 (the wide layouts of uint8 weights)
  std::vector<int8_t> weights;  // raw bytes
  std::vector<int32_t> bias;    // bias - (input_zero_point + input_offset) * sum_k w, n_blocks * lanes
  Int8Requant rq;
};

struct PackedConvInt8 {
  Isa isa = Isa::kReference;
  qlite::ref::ConvInt8Params params;  // geometry of one image; batch is given at run time
  // Reference path: the original tensors.
  std::vector<int8_t> ref_weights;
  std::vector<int32_t> ref_bias;
  // SIMD path. Direct: the input is copied into a padded buffer (rows_p x
  // cols_p x cin_p, channels padded to the group) and every tap is a fixed
  // offset. im2col (few input channels): each output pixel's window is
  // gathered into a row of k_pad elements, so channels are not padded per tap.
  // Row taps (dilation_w 1, any in_c): direct, channels not padded, one tap
  // per window row of kernel_w * in_c elements (see pack_conv2d_int8).
  bool im2col = false, row_taps = false;
  int cin_p = 0, rows_p = 0, cols_p = 0;
  int tap_groups = 0;                // dot groups per tap (direct and row taps)
  std::vector<int32_t> tap_offsets;  // direct and row taps, in buffer elements
  PackedGemmInt8 gemm;
  size_t scratch_bytes = 0;
};
PackedConvInt8 pack_conv2d_int8(Isa isa, const qlite::ref::ConvInt8Params& p, const int8_t* weights, const int32_t* bias);

// uint8 (TF1-era) ops through the same kernels. A uint8 x with zero point z
// is the int8 x - 128 with zero point z - 128 (ref::flip_uint8_int8 maps the
// bytes), so the caller flips the input into int8, runs the packed op and
// flips its output back. The weights' zero point zw is folded at pack time:
// the kernels multiply by w - zw, held as int8 when every value fits, else as
// int16 (vpmaddwd takes any int16): a wide layout (gemm.weight_bytes 2; on
// AVX-512 16 lanes with group 2; AVX-512 depthwise then packs for AVX2,
// which pd.isa records). `p` is given in the uint8 domain
// (zero points and activation range in [0, 255]); the packed params are the
// int8 ones. Isa::kReference is refused: its path is ref::*_uint8.
PackedConvInt8 pack_conv2d_uint8(Isa isa, const qlite::ref::ConvInt8Params& p, int32_t weight_zero_point,
                                 const uint8_t* weights, const int32_t* bias);
void conv2d_int8(const PackedConvInt8& pc, int batch, const int8_t* input, int8_t* output, void* scratch);
// Output rows [y0, y1) of one image.
void conv2d_int8_rows(const PackedConvInt8& pc, const int8_t* image, int8_t* out_image, int y0, int y1,
                      void* scratch);

struct PackedFullyConnectedInt8 {
  Isa isa = Isa::kReference;
  qlite::ref::FullyConnectedInt8Params params;  // batch is given at run time
  std::vector<int8_t> ref_weights;
  std::vector<int32_t> ref_bias;
  PackedGemmInt8 gemm;
  int chunk_rows = 0;  // batch rows converted per pass through the scratch
  size_t scratch_bytes = 0;
};
PackedFullyConnectedInt8 pack_fully_connected_int8(Isa isa, const qlite::ref::FullyConnectedInt8Params& p,
                                                   const int8_t* weights, const int32_t* bias);
PackedFullyConnectedInt8 pack_fully_connected_uint8(Isa isa, const qlite::ref::FullyConnectedInt8Params& p,
                                                    int32_t weight_zero_point, const uint8_t* weights,
                                                    const int32_t* bias);
// rows of the batch; input [rows, in], output [rows, out].
void fully_connected_int8(const PackedFullyConnectedInt8& pf, int rows, const int8_t* input, int8_t* output,
                          void* scratch);
// The function fully_connected_int8 runs for `pf` (same signature), resolved
// once: an op that runs every invoke calls it directly, without the argument
// and CPU checks (an Error here if the CPU lacks pf's Isa). It needs the
// scratch fully_connected_int8 needs and rows > 0.
using FullyConnectedInt8Fn = void (*)(const PackedFullyConnectedInt8& pf, int rows, const int8_t* input,
                                      int8_t* output, void* scratch);
FullyConnectedInt8Fn fully_connected_int8_fn(const PackedFullyConnectedInt8& pf);

// Depthwise (kernels up to kMaxDwKernel on the SIMD paths; anything larger
// runs the reference; a depth multiplier > 1 repeats each input channel that
// many times in a scratch row first). Each input row becomes a "group
// row" once: per column and channel, `group` horizontally adjacent taps side by
// side in 4 bytes (AVX-512: 4 x u8 = x + 128 for vpdpbusd; AVX2: 2 x int16
// for vpmaddwd), so one dot instruction covers `group` taps of a register of
// channels (see x86/int8_depthwise_impl.h). Channels come in blocks of
// `block`; inside a block they are stored in the order the kernels' in-lane
// unpacks produce (dw_channel_at below), and weights, bias and rq follow it.
// AVX-512 packs of at most 32 channels use blocks of 16 (block says which).
constexpr int kMaxDwKernel = 16;
struct PackedDepthwiseInt8 {
  Isa isa = Isa::kReference;
  qlite::ref::DepthwiseInt8Params params;
  std::vector<int8_t> ref_weights;
  std::vector<int32_t> ref_bias;
  int block = 0, group = 0, c_pad = 0;  // c_pad: channels rounded up to the block
  int kw_groups = 0;                    // ceil(kernel_w / group)
  // Group rows hold columns x = i * q_step (padded coordinates), i < q_cols;
  // output pixel ox, group j reads column ox * col_step + j * group_cols.
  int q_step = 1, q_cols = 0, col_step = 1, group_cols = 0;
  int ring_rows = 0;                // group rows kept: (kernel_h - 1) * dilation_h + 1
  std::vector<uint32_t> weights;    // [ky][j][c_pad], permuted; 4 u8 or 2 int16 taps per entry
  // Pixel pairs (AVX-512, kernel_w <= 3, stride_w and dilation_w 1): the
  // group at column 2i (q_step 2) holds taps 2i..2i+3, which serve output
  // pixel 2i with `weights` (taps in slots 0..2) and pixel 2i + 1 with
  // weights_odd (the same taps one slot later), so group rows are half as long.
  bool pairs = false;
  std::vector<uint32_t> weights_odd;  // pairs: as weights, taps shifted by one slot
  std::vector<int32_t> bias;        // c_pad, permuted: bias - (input_zero_point + offset) * sum w
  Int8Requant rq;                   // permuted channel order, c_pad channels
  // Depthwise's cheaper exact requantization (both ISAs), chosen at pack time
  // when every channel allows it (no left shift, and the accumulator and
  // intermediate ranges that the weights, bias and zero point allow fit; see
  // finish_depthwise). Then the packed bias is offset by B = -lo per channel,
  // so the kernel's accumulator a = acc - lo lies in [0, 2^31), and
  //   W = a * m2 + c64 (unsigned 32 x 32 -> 64-bit product, wrapping add)
  // has the high dword Y = SRDHM(acc, m) + h + zp * 2^r (h = 2^(r-1), 0 for
  // r = 0), so that the output (double rounding, zero point added) is
  //   (Y - [a < thr]) >> r   (arithmetic shift; thr: where SRDHM < 0, r > 0).
  bool fast_rq = false;
  std::vector<uint32_t> rq_m2;    // 2 * multiplier, c_pad, permuted order
  std::vector<int64_t> rq_c64;    // c_pad; per block of lanes the even channels, then the odd
  std::vector<int32_t> rq_thr;    // c_pad
  std::vector<int32_t> rq_shift;  // c_pad: r
  // Every rq_thr is 0, so the kernels skip the a < thr step. A channel's thr
  // is packed as 0 also when the step cannot show: when, without it, every
  // a < thr already gives at most act.min (a fused ReLU or ReLU6 clamps
  // those outputs to act.min either way, and the output is monotone in a).
  bool rq_thr_zero = false;
  size_t expand_offset = 0;         // scratch offset of the channel-repeated input row (multiplier > 1)
  size_t scratch_bytes = 0;
};
// The shapes the SIMD depthwise paths take (others run the reference).
bool depthwise_int8_vectorized(const qlite::ref::DepthwiseInt8Params& p);
// Channel held at position pos (0 <= pos < block) of a block.
int dw_channel_at(const PackedDepthwiseInt8& pd, int pos);
PackedDepthwiseInt8 pack_depthwise_conv2d_int8(Isa isa, const qlite::ref::DepthwiseInt8Params& p, const int8_t* weights,
                                               const int32_t* bias);
// uint8 (see pack_conv2d_uint8); only shapes depthwise_int8_vectorized takes.
PackedDepthwiseInt8 pack_depthwise_conv2d_uint8(Isa isa, const qlite::ref::DepthwiseInt8Params& p,
                                                int32_t weight_zero_point, const uint8_t* weights,
                                                const int32_t* bias);
void depthwise_conv2d_int8(const PackedDepthwiseInt8& pd, int batch, const int8_t* input, int8_t* output,
                           void* scratch);
void depthwise_conv2d_int8_rows(const PackedDepthwiseInt8& pd, const int8_t* image, int8_t* out_image, int y0,
                                int y1, void* scratch);

// Unpacked ops: geometry batch is used as given.
void max_pool2d_int8(Isa isa, const qlite::ref::PoolInt8Params& p, const int8_t* input, int8_t* output);
void average_pool2d_int8(Isa isa, const qlite::ref::PoolInt8Params& p, const int8_t* input, int8_t* output);
// ADD, with every constant derived once (prepare_add_int8, which validates
// the parameters and throws on bad ones): the 32-bit form of each input's
// scaling MBQM((q - zp) << left_shift) (AddInScale; see add_input_scale in
// int8_pack.cpp) and, when the raw sums' range allows it, the output stage
// in fast_double_rounding. The forms are chosen per ADD, not per ISA; an ISA
// without a fast output stage ignores it.
struct AddInScale {
  int32_t mq = 0, mr = 0, k = 0, thr = 0, d = 0, off = 0;
  int s = 0;
};
bool add_input_scale(const qlite::ref::QuantizedMultiplier& qm, int32_t zp, int ls, AddInScale& c);
struct PreparedAddInt8 {
  qlite::ref::AddInt8Params p;
  bool in32 = false;  // both inputs take AddInScale
  AddInScale c1, c2;
  bool fast_out = false;  // with in32: the output stage takes f
  FastDoubleRounding f;
  int32_t fast_off = 0;  // c1.off + c2.off - (the raw sums' least value), modulo 2^32
};
PreparedAddInt8 prepare_add_int8(const qlite::ref::AddInt8Params& p);
void add_int8(Isa isa, const PreparedAddInt8& p, int64_t n, const int8_t* a, const int8_t* b, int8_t* output);
// Prepares and runs in one call (tests, one-off use).
void add_int8(Isa isa, const qlite::ref::AddInt8Params& p, int64_t n, const int8_t* a, const int8_t* b, int8_t* output);
void mean_hw_int8(Isa isa, const qlite::ref::MeanInt8Params& p, const int8_t* input, int8_t* output);

// The per-ISA implementations behind the entry points above (packed ops
// already validated; pointers non-null).
#define QLITE_INT8_KERNEL_DECLS                                                                               \
  void requantize_channels(const Int8Requant& rq, int64_t pixels, const int32_t* acc, int8_t* out);          \
  void conv2d_rows(const PackedConvInt8& pc, const int8_t* image, int8_t* out_image, int y0, int y1,          \
                   void* scratch);                                                                            \
  void fully_connected_rows(const PackedFullyConnectedInt8& pf, int rows, const int8_t* input, int8_t* output, \
                            void* scratch);                                                                   \
  void depthwise_rows(const PackedDepthwiseInt8& pd, const int8_t* image, int8_t* out_image, int y0, int y1,  \
                      void* scratch);                                                                         \
  void max_pool2d(const qlite::ref::PoolInt8Params& p, const int8_t* input, int8_t* output);                        \
  void average_pool2d(const qlite::ref::PoolInt8Params& p, const int8_t* input, int8_t* output);                    \
  void add(const PreparedAddInt8& p, int64_t n, const int8_t* a, const int8_t* b, int8_t* output);               \
  void mean_hw(const qlite::ref::MeanInt8Params& p, const int8_t* input, int8_t* output);

// Each ISA also has the wide GEMM layout (gemm.weight_bytes 2: int16
// weights, for uint8 weights that do not fit int8).
#define QLITE_INT8_WIDE_DECLS                                                                                 \
  void conv2d_rows_wide(const PackedConvInt8& pc, const int8_t* image, int8_t* out_image, int y0, int y1,     \
                        void* scratch);                                                                       \
  void fully_connected_rows_wide(const PackedFullyConnectedInt8& pf, int rows, const int8_t* input,           \
                                 int8_t* output, void* scratch);
namespace int8_avx2 { QLITE_INT8_KERNEL_DECLS QLITE_INT8_WIDE_DECLS }
namespace int8_avx512 { QLITE_INT8_KERNEL_DECLS QLITE_INT8_WIDE_DECLS }
#undef QLITE_INT8_WIDE_DECLS
#undef QLITE_INT8_KERNEL_DECLS

}  // namespace qlite::kernels
