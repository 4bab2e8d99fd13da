// A Conv2D / DepthwiseConv2D / Dense folded with the BatchNormalization after
// it, trained with batch statistics until it is frozen (private to
// src/quant/qat; QuantizeWrapper owns one when quantize_apply is given
// QuantizeOptions::freeze_bn_after > 0).
//
// The scheme of Jacob et al. 2018 as tfmot's folded conv and PyTorch's
// ConvBn QAT modules run it. Per output channel c, with the running
// statistics (moving mean m, moving variance v) and s = gamma / sqrt(v + eps):
//   folded weights   W_f = W * s                     (fake-quantized: what the file holds)
//   z                = op(x, fq(W_f))                (no bias)
// unfrozen (batch statistics, moving averages updated from them as Keras' BN):
//   u                = z / s                         (the unfolded op output)
//   y                = gamma * (u - mean_B) / sqrt(var_B + eps) + beta
//                    = z * sqrt(v + eps) / sqrt(var_B + eps) + (beta - gamma * mean_B / sqrt(var_B + eps))
// frozen (running statistics):
//   y                = z + (beta - m * s)            (exactly the folded op)
// then the op's fused activation (ReLU / ReLU6). With the fake quant removed
// the unfrozen y is Conv -> BatchNormalization in training mode and the
// frozen y is it in inference mode. Gradients are those of these formulas
// (the batch statistics depend on x and W; gamma reaches y through s and
// through the normalisation), the fake quant contributing its
// straight-through estimator.
//
// The op's own bias, if it had one, is taken into the moving mean when the
// unit is made (BN(z + b) = BN(z) with m - b), so the unit has no bias.
#pragma once

#include <functional>

#include "qlite/train/layer.h"
#include "qlite/train/layer_kind.h"

namespace qlite::quant::detail {

class BnFoldUnit {
 public:
  // `op_config`: the op's config (its fused activation is the unit's); `bn`
  // a built BatchNormalization whose params the unit trains (shared, not
  // copied). The op layer the unit runs is made from the config with a
  // linear activation and no bias.
  BnFoldUnit(const std::string& op_type, const json& op_config, LayerPtr bn);
  void build(std::span<const Shape> input_shapes, Rng& rng);

  const LayerPtr& batch_norm() const { return bn_; }
  Activation activation() const { return act_; }
  // Per output channel: scale s and offset t of the batch norm with its
  // running statistics (BatchNormalization's own inference affine).
  ChannelAffine running_affine() const;
  // The folded weights W * s and bias t: what the converter writes (after
  // quantization) and what frozen training and inference compute.
  void folded(const Tensor& kernel, Tensor& folded_kernel, std::vector<float>& folded_bias) const;
  // The trainable and state params of the batch norm (gamma, beta when the
  // layer has them, moving_mean, moving_variance).
  std::vector<Param*> bn_params() { return bn_->params(); }

  // Weight fake quant: wq = fq(wf) (observing the range), and its STE.
  // Null: no fake quant (tests).
  using WeightFq = std::function<void(const Tensor& wf, Tensor& wq)>;
  using WeightFqBackward = std::function<void(const Tensor& wf, const Tensor& dwq, Tensor& dwf)>;

  // Training forward: out = act(y) as above, with the master (unfolded)
  // kernel. `frozen` selects the running statistics; unfrozen updates the
  // moving averages.
  void forward(const Tensor& kernel, std::span<const Tensor* const> in, Tensor& out, const RunContext& ctx,
               bool frozen, const WeightFq& fq);
  // dout: gradient with respect to out. Writes din (when asked) and the
  // kernel's gradient into dkernel; sets the batch norm's gamma / beta grads.
  void backward(const Tensor& kernel, std::span<const Tensor* const> in, const Tensor& dout,
                std::span<Tensor* const> din, Tensor& dkernel, const RunContext& ctx, const WeightFqBackward& fq);

 private:
  Param* bn_param(const char* name);
  LayerPtr op_, bn_;
  const LayerKind* kind_ = nullptr;
  Activation act_ = Activation::kLinear;
  float epsilon_ = 1e-3f, momentum_ = 0.99f;
  // Of the last training forward.
  bool frozen_ = true;
  int64_t channels_ = 0;
  std::vector<float> s_, inv_running_, mean_b_, inv_b_;
  Tensor wf_, z_, y_, dz_, dwq_, dwf_;
};

}  // namespace qlite::quant::detail
