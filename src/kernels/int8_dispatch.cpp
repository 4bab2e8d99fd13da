// Entry points of the optimized int8 kernels: validate once, then run the path
// the op was packed for. Isa::kReference runs the reference kernels (on a band
// of rows where the entry point asks for one).
#include <algorithm>
#include <string>

#include "kernels/int8_kernels_x86.h"
#include "kernels/reference/int8_detail.h"

namespace qlite::kernels {
namespace {

void require(bool cond, const char* message) {
  if (!cond) throw Error(message);
}

// The band [y0, y1) of output rows as a geometry of its own: the input starts
// at the band's first referenced row, and padding above it is what remains.
const int8_t* band_geometry(qlite::ref::WindowGeometry& g, const int8_t* image, int y0, int y1) {
  const int r0 = y0 * g.stride_h - g.pad_top;
  g.batch = 1;
  g.out_h = y1 - y0;
  if (r0 > 0) {
    require(r0 < g.in_h, "int8 kernels: output band starts below the input");
    g.in_h -= r0;
    g.pad_top = 0;
    return image + int64_t{r0} * g.in_w * g.in_c;
  }
  g.pad_top = -r0;
  return image;
}

// Checks on the per-call path build their message only when they fail: a
// std::string per call would cost more than the seed model's kernels.
void check_rows(int y0, int y1, int out_h, const char* op) {
  if (!(0 <= y0 && y0 <= y1 && y1 <= out_h))
    throw Error(std::string(op) + ": row range [" + std::to_string(y0) + ", " + std::to_string(y1) +
                ") outside the output");
}

Isa runnable(Isa isa, const char* op) {
  if (!int8_isa_available(isa))
    throw Error(std::string(op) + ": ISA " + isa_name(isa) + " is not supported by this CPU");
  return isa;
}


}  // namespace

void requantize_channels_int8(Isa isa, const Int8Requant& rq, int64_t pixels, const int32_t* acc, int8_t* out) {
  require(pixels >= 0 && rq.channels > 0, "requantize_channels_int8: bad sizes");
  switch (runnable(isa, "requantize_channels_int8")) {
    case Isa::kAvx512: require(rq.lanes == 16, "requantize_channels_int8: constants not made for 16 lanes");
      return int8_avx512::requantize_channels(rq, pixels, acc, out);
    case Isa::kAvx2: require(rq.lanes == 8, "requantize_channels_int8: constants not made for 8 lanes");
      return int8_avx2::requantize_channels(rq, pixels, acc, out);
    case Isa::kReference: break;
  }
  for (int64_t p = 0; p < pixels; ++p)
    for (int c = 0; c < rq.channels; ++c) {
      const int64_t i = p * rq.channels + c;
      const qlite::ref::QuantizedMultiplier m{rq.multiplier[c], rq.left[c] > 0 ? rq.left[c] : -rq.right[c]};
      const int32_t v = qlite::ref::multiply_by_quantized_multiplier(acc[i], m, rq.rounding);
      out[i] = static_cast<int8_t>(std::clamp<int64_t>(int64_t{v} + rq.output_zero_point, rq.act_min, rq.act_max));
    }
}

void conv2d_int8_rows(const PackedConvInt8& pc, const int8_t* image, int8_t* out_image, int y0, int y1,
                      void* scratch) {
  const qlite::ref::WindowGeometry& g = pc.params.g;
  check_rows(y0, y1, g.out_h, "conv2d_int8");
  require(image && out_image, "conv2d_int8: null tensor");
  if (y0 == y1) return;
  switch (runnable(pc.isa, "conv2d_int8")) {
    case Isa::kAvx512: require(scratch, "conv2d_int8: null scratch");
      if (pc.gemm.weight_bytes == 2) return int8_avx512::conv2d_rows_wide(pc, image, out_image, y0, y1, scratch);
      return int8_avx512::conv2d_rows(pc, image, out_image, y0, y1, scratch);
    case Isa::kAvx2: require(scratch, "conv2d_int8: null scratch");
      if (pc.gemm.weight_bytes == 2) return int8_avx2::conv2d_rows_wide(pc, image, out_image, y0, y1, scratch);
      return int8_avx2::conv2d_rows(pc, image, out_image, y0, y1, scratch);
    case Isa::kReference: break;
  }
  qlite::ref::ConvInt8Params p = pc.params;
  const int8_t* in = band_geometry(p.g, image, y0, y1);
  qlite::ref::conv2d_int8(p, in, pc.ref_weights.data(), pc.ref_bias.empty() ? nullptr : pc.ref_bias.data(),
                   out_image + int64_t{y0} * g.out_w * g.out_c);
}

void conv2d_int8(const PackedConvInt8& pc, int batch, const int8_t* input, int8_t* output, void* scratch) {
  const qlite::ref::WindowGeometry& g = pc.params.g;
  require(batch >= 0, "conv2d_int8: negative batch");
  const int64_t in_img = int64_t{g.in_h} * g.in_w * g.in_c, out_img = int64_t{g.out_h} * g.out_w * g.out_c;
  for (int b = 0; b < batch; ++b) conv2d_int8_rows(pc, input + b * in_img, output + b * out_img, 0, g.out_h, scratch);
}

void fully_connected_int8(const PackedFullyConnectedInt8& pf, int rows, const int8_t* input, int8_t* output,
                          void* scratch) {
  require(rows >= 0, "fully_connected_int8: negative batch");
  if (rows == 0) return;
  require(input && output, "fully_connected_int8: null tensor");
  switch (runnable(pf.isa, "fully_connected_int8")) {
    case Isa::kAvx512: require(scratch, "fully_connected_int8: null scratch");
      if (pf.gemm.weight_bytes == 2) return int8_avx512::fully_connected_rows_wide(pf, rows, input, output, scratch);
      return int8_avx512::fully_connected_rows(pf, rows, input, output, scratch);
    case Isa::kAvx2: require(scratch, "fully_connected_int8: null scratch");
      if (pf.gemm.weight_bytes == 2) return int8_avx2::fully_connected_rows_wide(pf, rows, input, output, scratch);
      return int8_avx2::fully_connected_rows(pf, rows, input, output, scratch);
    case Isa::kReference: break;
  }
  qlite::ref::FullyConnectedInt8Params p = pf.params;
  p.batch = rows;
  qlite::ref::fully_connected_int8(p, input, pf.ref_weights.data(), pf.ref_bias.empty() ? nullptr : pf.ref_bias.data(),
                            output);
}

FullyConnectedInt8Fn fully_connected_int8_fn(const PackedFullyConnectedInt8& pf) {
  switch (runnable(pf.isa, "fully_connected_int8")) {
    case Isa::kAvx512:
      return pf.gemm.weight_bytes == 2 ? &int8_avx512::fully_connected_rows_wide : &int8_avx512::fully_connected_rows;
    case Isa::kAvx2:
      return pf.gemm.weight_bytes == 2 ? &int8_avx2::fully_connected_rows_wide : &int8_avx2::fully_connected_rows;
    case Isa::kReference: break;
  }
  return &fully_connected_int8;
}

void depthwise_conv2d_int8_rows(const PackedDepthwiseInt8& pd, const int8_t* image, int8_t* out_image, int y0,
                                int y1, void* scratch) {
  const qlite::ref::WindowGeometry& g = pd.params.g;
  check_rows(y0, y1, g.out_h, "depthwise_conv2d_int8");
  require(image && out_image, "depthwise_conv2d_int8: null tensor");
  if (y0 == y1) return;
  switch (runnable(pd.isa, "depthwise_conv2d_int8")) {
    case Isa::kAvx512: require(scratch, "depthwise_conv2d_int8: null scratch");
      return int8_avx512::depthwise_rows(pd, image, out_image, y0, y1, scratch);
    case Isa::kAvx2: require(scratch, "depthwise_conv2d_int8: null scratch");
      return int8_avx2::depthwise_rows(pd, image, out_image, y0, y1, scratch);
    case Isa::kReference: break;
  }
  // Output rows whose windows start below the last input row see padding only:
  // their value is the requantized bias (band_geometry cannot express them).
  const int y_in = std::clamp((g.in_h + g.pad_top + g.stride_h - 1) / g.stride_h, y0, y1);
  for (int oy = y_in; oy < y1; ++oy)
    for (int ox = 0; ox < g.out_w; ++ox)
      for (int c = 0; c < g.out_c; ++c) {
        const qlite::ref::DepthwiseInt8Params& p = pd.params;
        const qlite::ref::QuantizedMultiplier& m = p.requant.size() == 1 ? p.requant[0] : p.requant[c];
        out_image[(int64_t{oy} * g.out_w + ox) * g.out_c + c] = qlite::ref::detail::requant_output(
            pd.ref_bias.empty() ? 0 : pd.ref_bias[c], m, p.output_zero_point, p.act, "depthwise_conv2d_int8");
      }
  if (y0 == y_in) return;
  qlite::ref::DepthwiseInt8Params p = pd.params;
  const int8_t* in = band_geometry(p.g, image, y0, y_in);
  qlite::ref::depthwise_conv2d_int8(p, in, pd.ref_weights.data(), pd.ref_bias.empty() ? nullptr : pd.ref_bias.data(),
                             out_image + int64_t{y0} * g.out_w * g.out_c);
}

void depthwise_conv2d_int8(const PackedDepthwiseInt8& pd, int batch, const int8_t* input, int8_t* output,
                           void* scratch) {
  const qlite::ref::WindowGeometry& g = pd.params.g;
  require(batch >= 0, "depthwise_conv2d_int8: negative batch");
  const int64_t in_img = int64_t{g.in_h} * g.in_w * g.in_c, out_img = int64_t{g.out_h} * g.out_w * g.out_c;
  for (int b = 0; b < batch; ++b)
    depthwise_conv2d_int8_rows(pd, input + b * in_img, output + b * out_img, 0, g.out_h, scratch);
}

namespace {
// Lazy versions of the reference checks (those build their messages eagerly).
void check_zp(int32_t zp, const char* op) {
  if (zp < -128 || zp > 127) qlite::ref::detail::check_zero_point(zp, op);
}
void check_act(const qlite::ref::ActRange& a, const char* op) {
  if (a.min < -128 || a.max > 127 || a.min > a.max) qlite::ref::detail::check_act(a, op);
}

void check_pool(const qlite::ref::PoolInt8Params& p, const int8_t* input, const int8_t* output, const char* op) {
  const qlite::ref::WindowGeometry& g = p.g;
  const bool positive = g.batch > 0 && g.in_h > 0 && g.in_w > 0 && g.in_c > 0 && g.out_h > 0 && g.out_w > 0 &&
                        g.kernel_h > 0 && g.kernel_w > 0 && g.stride_h > 0 && g.stride_w > 0 && g.pad_top >= 0 &&
                        g.pad_left >= 0 && int64_t{g.batch} * g.in_h * g.in_w * g.in_c < (int64_t{1} << 31) &&
                        int64_t{g.batch} * g.out_h * g.out_w * g.out_c < (int64_t{1} << 31);
  if (!positive) qlite::ref::validate_geometry(g, op);  // throws with the precise message
  if (g.in_c != g.out_c) throw Error(std::string(op) + ": output channels must equal input channels");
  if (g.dilation_h != 1 || g.dilation_w != 1) throw Error(std::string(op) + ": pooling has no dilation");
  check_act(p.act, op);
  if (!input || !output) throw Error(std::string(op) + ": null tensor");
  // The reference rejects windows that lie entirely in the padding; so do we.
  auto covered = [](int out, int stride, int pad, int kernel, int in) {
    for (int o = 0; o < out; ++o) {
      const int lo = o * stride - pad;
      if (lo + kernel <= 0 || lo >= in) return false;
    }
    return true;
  };
  if (!covered(g.out_h, g.stride_h, g.pad_top, g.kernel_h, g.in_h) ||
      !covered(g.out_w, g.stride_w, g.pad_left, g.kernel_w, g.in_w))
    throw Error(std::string(op) + ": a window lies entirely in the padding");
}
}  // namespace

void max_pool2d_int8(Isa isa, const qlite::ref::PoolInt8Params& p, const int8_t* input, int8_t* output) {
  switch (runnable(isa, "max_pool2d_int8")) {
    case Isa::kAvx512: check_pool(p, input, output, "max_pool2d_int8"); return int8_avx512::max_pool2d(p, input, output);
    case Isa::kAvx2: check_pool(p, input, output, "max_pool2d_int8"); return int8_avx2::max_pool2d(p, input, output);
    case Isa::kReference: return qlite::ref::max_pool2d_int8(p, input, output);
  }
}

void average_pool2d_int8(Isa isa, const qlite::ref::PoolInt8Params& p, const int8_t* input, int8_t* output) {
  const bool small = int64_t{p.g.kernel_h} * p.g.kernel_w <= (1 << 15);  // float division stays exact
  switch (small ? runnable(isa, "average_pool2d_int8") : Isa::kReference) {
    case Isa::kAvx512: check_pool(p, input, output, "average_pool2d_int8");
      return int8_avx512::average_pool2d(p, input, output);
    case Isa::kAvx2: check_pool(p, input, output, "average_pool2d_int8");
      return int8_avx2::average_pool2d(p, input, output);
    case Isa::kReference: return qlite::ref::average_pool2d_int8(p, input, output);
  }
}

void add_int8(Isa isa, const PreparedAddInt8& p, int64_t n, const int8_t* a, const int8_t* b, int8_t* output) {
  const Isa run = runnable(isa, "add_int8");
  if (run == Isa::kReference) return qlite::ref::add_int8(p.p, n, a, b, output);
  require(n >= 0, "add_int8: negative size");
  require(n == 0 || (a && b && output), "add_int8: null tensor");
  if (run == Isa::kAvx512) return int8_avx512::add(p, n, a, b, output);
  return int8_avx2::add(p, n, a, b, output);
}

void add_int8(Isa isa, const qlite::ref::AddInt8Params& p, int64_t n, const int8_t* a, const int8_t* b, int8_t* output) {
  if (runnable(isa, "add_int8") == Isa::kReference) return qlite::ref::add_int8(p, n, a, b, output);
  add_int8(isa, prepare_add_int8(p), n, a, b, output);
}

void mean_hw_int8(Isa isa, const qlite::ref::MeanInt8Params& p, const int8_t* input, int8_t* output) {
  const Isa run = runnable(isa, "mean_hw_int8");
  if (run == Isa::kReference) return qlite::ref::mean_hw_int8(p, input, output);
  require(p.batch > 0 && p.h > 0 && p.w > 0 && p.c > 0, "mean_hw_int8: dimensions must be positive");
  require(int64_t{p.h} * p.w * 255 < (int64_t{1} << 31), "mean_hw_int8: window too large for int32 sum");
  check_zp(p.input_zero_point, "mean_hw_int8 input");
  check_zp(p.output_zero_point, "mean_hw_int8 output");
  check_act(p.act, "mean_hw_int8");
  require(p.method != qlite::ref::MeanInt8Method::kRequantizeThenDivide ||
              (p.requant.multiplier >= 0 && p.requant.shift >= -31 && p.requant.shift <= 31),
          "mean_hw_int8: invalid quantized multiplier");
  require(input && output, "mean_hw_int8: null tensor");
  if (run == Isa::kAvx512) return int8_avx512::mean_hw(p, input, output);
  return int8_avx2::mean_hw(p, input, output);
}

}  // namespace qlite::kernels
