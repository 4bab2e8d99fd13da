// The folded Conv/Depthwise/Dense + BatchNormalization unit of QAT with batch
// statistics (qat_bn_fold.h).
#include "quant/qat/qat_bn_fold.h"

#include <cmath>

#include "quant/qat/qat_internal.h"

namespace qlite::quant::detail {

BnFoldUnit::BnFoldUnit(const std::string& op_type, const json& op_config, LayerPtr bn) : bn_(std::move(bn)) {
  QLITE_CHECK(bn_ != nullptr && bn_->type() == "BatchNormalization",
              "QAT batch-norm fold: the layer after " + op_type + " is no BatchNormalization");
  kind_ = &layer_kind(*layer_from_config(op_type, op_config));
  QLITE_CHECK(kind_->folds_batch_norm && kind_->op_spec != nullptr,
              "QAT batch-norm fold: " + op_type + " does not fold a batch norm");
  json c = op_config;
  act_ = kind_->op_spec(*layer_from_config(op_type, op_config)).activation;
  QLITE_CHECK(act_ == Activation::kLinear || act_ == Activation::kRelu || act_ == Activation::kRelu6,
              "QAT batch-norm fold: " + op_type + " has activation " + activation_label(act_) +
                  "; only linear, relu and relu6 fuse");
  c["activation"] = activation_name(Activation::kLinear);
  c["use_bias"] = false;
  op_ = layer_from_config(op_type, c);
  op_->set_name(op_config.value("name", std::string("op")) + "_unfolded");
  const json b = bn_->get_config();
  epsilon_ = b.at("epsilon").get<float>();
  momentum_ = b.at("momentum").get<float>();
}

void BnFoldUnit::build(std::span<const Shape> input_shapes, Rng& rng) {
  const Shape out = op_->build(input_shapes, rng);
  if (!bn_->built()) {  // from model.json: its values come with the weights
    const Shape shapes[] = {out};
    bn_->build(shapes, rng);
  }
  const Shape& bs = bn_->output_shape();
  QLITE_CHECK(!out.empty() && !bs.empty() && out.back() == bs.back(),
              "QAT batch-norm fold: " + op_->type() + " has " + std::to_string(out.empty() ? 0 : out.back()) +
                  " output channels, batch norm '" + bn_->name() + "' " +
                  std::to_string(bs.empty() ? 0 : bs.back()));
  channels_ = out.back();
}

Param* BnFoldUnit::bn_param(const char* name) {
  for (Param* p : bn_->params())
    if (p->name == name) return p;
  return nullptr;
}

ChannelAffine BnFoldUnit::running_affine() const {
  const std::optional<ChannelAffine> a = layer_kind(*bn_).as_channel_affine(*bn_);
  QLITE_CHECK(a.has_value(), "QAT batch-norm fold: batch norm '" + bn_->name() + "' has no affine form");
  return *a;
}

void BnFoldUnit::folded(const Tensor& kernel, Tensor& folded_kernel, std::vector<float>& folded_bias) const {
  const ChannelAffine a = running_affine();
  const int64_t c = weight_output_channels(*kind_, kernel.shape());
  QLITE_CHECK(static_cast<int64_t>(a.scale.size()) == c, "QAT batch-norm fold: channel count mismatch");
  folded_kernel.resize(kernel.shape());
  // The rewrite's fold (rewrite.cpp fold_affine): kernel * s in float.
  for (int64_t i = 0; i < kernel.numel(); ++i)
    folded_kernel.f32()[i] = kernel.f32()[i] * a.scale[static_cast<size_t>(i % c)];
  folded_bias = a.offset;  // 0 * s + t: the unit has no bias of its own
}

namespace {

float act_value(Activation a, float v) {
  if (a == Activation::kRelu) return v > 0.0f ? v : 0.0f;
  if (a == Activation::kRelu6) return v > 0.0f ? (v < 6.0f ? v : 6.0f) : 0.0f;
  return v;
}

bool act_passes(Activation a, float v) {
  if (a == Activation::kRelu) return v > 0.0f;
  if (a == Activation::kRelu6) return v > 0.0f && v < 6.0f;
  return true;
}

}  // namespace

void BnFoldUnit::forward(const Tensor& kernel, std::span<const Tensor* const> in, Tensor& out, const RunContext& ctx,
                         bool frozen, const WeightFq& fq) {
  QLITE_CHECK(channels_ > 0, "QAT batch-norm fold: not built");
  frozen_ = frozen;
  const ChannelAffine a = running_affine();
  const int64_t c = channels_;
  s_ = a.scale;
  const Param* mv0 = bn_param("moving_variance");
  inv_running_.resize(static_cast<size_t>(c));
  for (int64_t j = 0; j < c; ++j) inv_running_[static_cast<size_t>(j)] = 1.0f / std::sqrt(mv0->value.f32()[j] + epsilon_);
  std::vector<float> t;
  folded(kernel, wf_, t);
  Param* k = nullptr;
  for (Param* p : op_->params())
    if (p->name == kind_->weight) k = p;
  QLITE_CHECK(k != nullptr, "QAT batch-norm fold: no weight '" + kind_->weight + "'");
  if (fq) {
    fq(wf_, k->value);
  } else {
    k->value = wf_;
  }
  op_->forward(in, z_, ctx);
  const int64_t rows = z_.numel() / c;
  y_.resize(z_.shape());
  const float* z = z_.f32();
  float* y = y_.f32();
  if (frozen) {
    for (int64_t r = 0; r < rows; ++r)
      for (int64_t j = 0; j < c; ++j) y[r * c + j] = z[r * c + j] + t[static_cast<size_t>(j)];
  } else {
    for (int64_t j = 0; j < c; ++j)
      QLITE_CHECK(s_[static_cast<size_t>(j)] != 0.0f && std::isfinite(s_[static_cast<size_t>(j)]),
                  "QAT batch-norm fold: batch norm '" + bn_->name() + "' has gamma 0 (or a non-finite scale) in "
                  "channel " + std::to_string(j) + "; the batch statistics cannot be recovered from the folded op");
    // u = z / s; the batch moments of u in double, as BatchNormalization.
    std::vector<double> sum(static_cast<size_t>(c), 0.0), sq(static_cast<size_t>(c), 0.0);
    for (int64_t r = 0; r < rows; ++r)
      for (int64_t j = 0; j < c; ++j) sum[static_cast<size_t>(j)] += z[r * c + j] / s_[static_cast<size_t>(j)];
    mean_b_.assign(static_cast<size_t>(c), 0.0f);
    inv_b_.assign(static_cast<size_t>(c), 0.0f);
    for (int64_t j = 0; j < c; ++j) mean_b_[j] = static_cast<float>(sum[j] / static_cast<double>(rows));
    for (int64_t r = 0; r < rows; ++r)
      for (int64_t j = 0; j < c; ++j) {
        const double d = z[r * c + j] / s_[static_cast<size_t>(j)] - static_cast<double>(mean_b_[j]);
        sq[static_cast<size_t>(j)] += d * d;
      }
    Param* g = bn_param("gamma");
    Param* b = bn_param("beta");
    Param* mm = bn_param("moving_mean");
    Param* mv = bn_param("moving_variance");
    const float m = momentum_;
    for (int64_t j = 0; j < c; ++j) {
      const float var = static_cast<float>(sq[j] / static_cast<double>(rows));
      inv_b_[j] = 1.0f / std::sqrt(var + epsilon_);
      mm->value.f32()[j] = mm->value.f32()[j] * m + mean_b_[j] * (1.0f - m);
      mv->value.f32()[j] = mv->value.f32()[j] * m + var * (1.0f - m);
    }
    for (int64_t r = 0; r < rows; ++r)
      for (int64_t j = 0; j < c; ++j) {
        const float gj = g ? g->value.f32()[j] : 1.0f;
        const float bj = b ? b->value.f32()[j] : 0.0f;
        y[r * c + j] = gj * (z[r * c + j] / s_[static_cast<size_t>(j)] - mean_b_[j]) * inv_b_[j] + bj;
      }
  }
  out.resize(y_.shape());
  float* o = out.f32();
  for (int64_t i = 0; i < y_.numel(); ++i) o[i] = act_value(act_, y[i]);
}

void BnFoldUnit::backward(const Tensor& kernel, std::span<const Tensor* const> in, const Tensor& dout,
                          std::span<Tensor* const> din, Tensor& dkernel, const RunContext& ctx,
                          const WeightFqBackward& fq) {
  QLITE_CHECK(dout.shape() == y_.shape(), "QAT batch-norm fold: backward without a matching training forward");
  const int64_t c = channels_;
  const int64_t rows = y_.numel() / c;
  const float* y = y_.f32();
  const float* z = z_.f32();
  // g = dL/dy through the activation.
  std::vector<float> g(static_cast<size_t>(y_.numel()));
  for (int64_t i = 0; i < y_.numel(); ++i) g[static_cast<size_t>(i)] = act_passes(act_, y[i]) ? dout.f32()[i] : 0.0f;
  Param* gp = bn_param("gamma");
  Param* bp = bn_param("beta");
  const Param* mm = bn_param("moving_mean");
  // ds: dL/ds per channel (s = gamma * inv_running).
  std::vector<double> sdy(static_cast<size_t>(c), 0.0), sdyx(static_cast<size_t>(c), 0.0), ds(static_cast<size_t>(c), 0.0);
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t j = 0; j < c; ++j) sdy[static_cast<size_t>(j)] += g[static_cast<size_t>(r * c + j)];
  dz_.resize(z_.shape());
  float* dz = dz_.f32();
  std::vector<double> dgamma(static_cast<size_t>(c), 0.0);
  if (frozen_) {
    // y = z + beta - m * s.
    for (int64_t i = 0; i < y_.numel(); ++i) dz[i] = g[static_cast<size_t>(i)];
    for (int64_t j = 0; j < c; ++j) ds[static_cast<size_t>(j)] -= static_cast<double>(mm->value.f32()[j]) * sdy[j];
  } else {
    // y = gamma * xhat + beta, xhat = (u - mean_B) * inv_B, u = z / s.
    for (int64_t r = 0; r < rows; ++r)
      for (int64_t j = 0; j < c; ++j) {
        const double xhat = (z[r * c + j] / s_[static_cast<size_t>(j)] - mean_b_[j]) * inv_b_[j];
        sdyx[static_cast<size_t>(j)] += g[static_cast<size_t>(r * c + j)] * xhat;
      }
    const double m = static_cast<double>(rows);
    for (int64_t j = 0; j < c; ++j) dgamma[static_cast<size_t>(j)] = sdyx[j];
    for (int64_t r = 0; r < rows; ++r)
      for (int64_t j = 0; j < c; ++j) {
        const double sj = s_[static_cast<size_t>(j)];
        const double u = z[r * c + j] / sj;
        const double xhat = (u - mean_b_[j]) * inv_b_[j];
        const double gj = gp ? gp->value.f32()[j] : 1.0;
        const double du = gj * inv_b_[j] / m * (m * g[static_cast<size_t>(r * c + j)] - sdy[j] - xhat * sdyx[j]);
        dz[r * c + j] = static_cast<float>(du / sj);
        ds[static_cast<size_t>(j)] -= du * u / sj;  // u = z / s
      }
  }
  // Through the op: dL/dx and dL/d(weights it ran with).
  op_->backward(in, z_, dz_, din, ctx);
  Param* k = nullptr;
  for (Param* p : op_->params())
    if (p->name == kind_->weight) k = p;
  if (fq) {
    fq(wf_, k->grad, dwf_);
  } else {
    dwf_ = k->grad;
  }
  // W_f = W * s.
  dkernel.resize(kernel.shape());
  const int64_t kc = weight_output_channels(*kind_, kernel.shape());
  for (int64_t i = 0; i < kernel.numel(); ++i) {
    const size_t j = static_cast<size_t>(i % kc);
    dkernel.f32()[i] = dwf_.f32()[i] * s_[j];
    ds[j] += static_cast<double>(dwf_.f32()[i]) * kernel.f32()[i];
  }
  // s = gamma / sqrt(v + eps): ds/dgamma = 1 / sqrt(v + eps).
  // (With the running variance of the forward: an unfrozen forward updated
  // it after forming s.)
  if (gp)
    for (int64_t j = 0; j < c; ++j)
      gp->grad.f32()[j] = static_cast<float>(dgamma[j] + ds[j] * inv_running_[static_cast<size_t>(j)]);
  if (bp)
    for (int64_t j = 0; j < c; ++j) bp->grad.f32()[j] = static_cast<float>(sdy[j]);
}

}  // namespace qlite::quant::detail
