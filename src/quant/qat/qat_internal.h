// Helpers shared by the QAT layers (private to src/quant/qat).
#pragma once

#include <string>

#include "kernels/reference/int8_kernels.h"
#include "qlite/quant/qat.h"

namespace qlite::quant::detail {

inline std::string label(const Layer& l) { return l.type() + " '" + l.name() + "'"; }

TensorQuant to_tensor_quant(const QuantParams& p, const QuantScheme& s);
// The fake-quant parameters of a tensor's quantization (never degenerate).
QuantParams to_quant_params(const TensorQuant& t);
// TFLite's int8 activations: 8 bits, full range.
inline bool tflite_int8(const TensorQuant& t) { return t.num_bits == 8 && t.qmin == -128 && t.qmax == 127; }
// TFLite's int8 format holds the scheme as is (8 bits, full range activations).
bool activation_scheme_in_tflite(const QuantScheme& s);

// The range state lives in non-trainable Params (saved with the model); a
// Quantizer is a transient view of it.
Param range_param(const std::string& name, int64_t channels, float init);
void store_range(const Quantizer& q, Param& min, Param& max);

// Splits [0, n) over the context's pool (inline without one). A template, so
// no std::function is built (and allocated) per call.
template <class F>
void run_chunks(const RunContext& ctx, int64_t n, F&& fn, int64_t min_chunk) {
  parallel_for(ctx.pool, n, fn, min_chunk);
}
inline int num_chunks(const RunContext& ctx) { return ctx.pool ? ctx.pool->num_threads() : 1; }
inline void merge_range(Range& into, const Range& r) {
  into.min = r.min < into.min ? r.min : into.min;
  into.max = r.max > into.max ? r.max : into.max;
}

// fake_quant_value / the STE mask of qparams.h over arrays, vectorisable.
void fake_quant_fast(const float* x, float* y, int64_t n, const QuantParams& p);
void fake_quant_mask_fast(const float* x, const float* dy, float* dx, int64_t n, const QuantParams& p);
// In-place fake quant of a layer output with its fused activation (act: 0
// linear, 1 ReLU, 2 ReLU6) that records in keep[] what the backward pass
// needs; keep_backward_fast then gives exactly the STE mask followed by the
// activation's derivative (see qat_fast_impl.h). y may alias x.
void fake_quant_keep_fast(const float* x, float* y, uint8_t* keep, int64_t n, const QuantParams& p, int act);
void keep_backward_fast(const uint8_t* keep, const float* dy, float* dz, int64_t n);
// finite_range (NaN and +-Inf skipped), vectorisable.
Range finite_range_fast(const float* x, int64_t n);
// Per-tensor q.observe(x) with the range sweep split over the pool (tests
// hold it and observe_values to Quantizer::observe).
void observe_tensor(const RunContext& ctx, Quantizer& q, const Tensor& x);
// Per-tensor range update from x (as Quantizer::observe) with the sweep split
// over the pool, on range state held in Params (one entry each);
// allocation-free once `parts` (one Range per chunk) has grown. Returns the
// updated params.
QuantParams observe_values(const RunContext& ctx, const QuantizerSpec& spec, const float* x, int64_t n,
                           std::vector<Range>& parts, Param& min, Param& max);
// Updates per-tensor range state from a batch range; returns its params.
QuantParams update_range(const QuantizerSpec& spec, Range batch, Param& min, Param& max);
// Per-channel LastValue-style update of weight ranges, one per output
// channel, element i of w being channel i % (range size) (the trailing
// output-channel axes of the layer record, flattened): `ranges` and `used`
// are resized to the channel count (allocation-free once sized).
void observe_channels(const QuantizerSpec& spec, const Tensor& w, std::vector<Range>& ranges, Param& min,
                      Param& max, std::vector<QuantParams>& used);

// Weights: one QuantParams (per tensor) or one per output channel (element i
// of w is channel i % p.size()).
void fake_quant_weights(const Tensor& w, Tensor& y, const std::vector<QuantParams>& p);
void fake_quant_weights_backward(const Tensor& w, const Tensor& dy, Tensor& dx, const std::vector<QuantParams>& p);

// Per-tensor fake quant and its STE, split over the pool (elementwise, so the
// result does not depend on the chunking).
void fake_quant_tensor(const RunContext& ctx, const Tensor& x, Tensor& y, const QuantParams& p);
void fake_quant_tensor_backward(const RunContext& ctx, const Tensor& x, const Tensor& dy, Tensor& dx,
                                const QuantParams& p);

// Float <-> integer at the boundaries of the integer path: QUANTIZE (ref
// kernel, round half away from zero, clamped to the scheme) and DEQUANTIZE.
void quantize_values(int64_t n, const float* x, const TensorQuant& t, int8_t* q);
void dequantize_values(int64_t n, const int8_t* q, const TensorQuant& t, float* x);

}  // namespace qlite::quant::detail

namespace qlite::quant::detail {

// Inference of a lowered Conv2D / DepthwiseConv2D / Dense: x holds dequantized values of
// L.input; out gets the dequantized int8 result. `input_shape` is the
// per-sample input shape the inner layer was built for.
struct IntegerScratch {
  std::vector<int8_t> in, in2, out;
  // Kernel parameters derived from L, one copy per chunk (a chunk sets its
  // batch size in its own copy); rebuilt when `prepared` is false.
  bool prepared = false;
  std::vector<ref::ConvInt8Params> conv;
  std::vector<ref::DepthwiseInt8Params> depthwise;
  std::vector<ref::FullyConnectedInt8Params> fc;
};
void run_integer(const LoweredQuant& L, const Shape& input_shape, const Tensor& x, Tensor& out,
                 const Shape& output_shape, const RunContext& ctx, IntegerScratch& scratch);
// Inference of a lowered ADD: each input re-quantized with its own
// parameters, TFLite's integer ADD (ref::add_int8), dequantized.
// Inference of a lowered MEAN over H and W (global average pooling): the
// input re-quantized, the int8 MEAN TFLite 2.9 computes for these tensors
// (ref::tflite_mean_method with axes {1, 2}), dequantized.
void run_integer_mean(const LoweredQuant& L, const Shape& input_shape, const Tensor& x, Tensor& out,
                      const Shape& output_shape, IntegerScratch& scratch);
void run_integer_add(const LoweredQuant& L, std::span<const Tensor* const> in, Tensor& out, const RunContext& ctx,
                     IntegerScratch& scratch);
// AVERAGE_POOL_2D of a pass-through layer: the input re-quantized with q, the
// int8 kernel (ref::average_pool2d_int8), dequantized with q.
void run_integer_average_pool(const OpSpec& spec, const TensorQuant& q, const Shape& input_shape, const Tensor& x,
                              Tensor& out, const Shape& output_shape, IntegerScratch& scratch);
// CONCATENATION along L.spec.axis: each input re-quantized with its own
// parameters, requantized to L.output when they differ (ref::requantize_int8,
// TFLite's QUANTIZE int8 -> int8, as the converter writes it), copied,
// dequantized.
void run_integer_concatenation(const LoweredQuant& L, std::span<const Shape> input_shapes,
                               std::span<const Tensor* const> in, Tensor& out, const Shape& output_shape,
                               IntegerScratch& scratch);
// LOGISTIC / TANH / SOFTMAX / HARD_SWISH (L.spec.op) with the int8 reference kernels.
void run_integer_activation(const LoweredQuant& L, const Tensor& x, Tensor& out, const Shape& output_shape,
                            IntegerScratch& scratch);

}  // namespace qlite::quant::detail
