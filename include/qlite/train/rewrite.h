// The graph rewrite shared by QAT and the converter (tfmot's
// default_8bit_transforms, the TFLite converter's fusion passes): the
// patterns TFLite computes as one op become one layer, so that QAT
// fake-quantizes exactly the tensors the file will have and the converter
// lowers the very graph QAT trained.
//
// Patterns, each decided by the layer records (layer_kind.h), never by type
// names, applied in this order to an op with a linear activation:
//  - an op whose record folds batch norm (Conv2D, DepthwiseConv2D, Dense)
//    read only by a per-channel affine layer (BatchNormalization, with its
//    moving statistics) -> the op with kernel * s and bias * s + t, per
//    output channel as the record's output_channel_axes says (a bias is added
//    when it had none): the batch norm is frozen from here on, which is
//    what QAT fine-tuning of a trained model uses (tfmot's default once
//    batch statistics are frozen) and what the TFLite converter writes
//    (RewriteOptions::keep_batch_norm keeps it apart instead, for QAT with
//    batch statistics: QuantizeOptions::freeze_bn_after);
//  - an op whose record fuses activations (Conv2D, DepthwiseConv2D, Dense), read only by a
//    clamp layer (ReLU, ReLU(6), Activation relu / relu6) -> the op with that
//    activation fused;
//  - a per-channel affine layer (BatchNormalization, moving statistics) that
//    no pattern above absorbs, on [H, W, C] samples -> a 1x1 DepthwiseConv2D
//    of the same name with kernel s and bias t per channel, which takes a
//    following clamp as the ops above do (keep_batch_norm does not apply);
//    on [C] samples the same between Reshape layers "<name>_hwc" (to
//    [1, 1, C]) and "<name>_flat" (back), listing the source node too;
//  - an op whose record fuses activations, with an activation TFLite has no
//    fused form of (activation_fusable() false: sigmoid, softmax, tanh,
//    hard_swish) -> the op with no activation, then an Activation layer of
//    that activation named "<op name>_<activation>" (LOGISTIC, SOFTMAX, TANH,
//    HARD_SWISH in the file); both nodes list the source node in `sources`.
// A fusing pattern applies only where the inner tensor has no other reader
// and is not the model's output. A shared layer (called more than once)
// stays one layer: a pattern applies to it only when every call has the
// same one (the same batch norm, the same clamp activation), and a batch
// norm after some of its calls only is an Error naming it; a shared batch
// norm after unshared ops folds into each.
#pragma once

#include <functional>
#include <memory>
#include <vector>

#include "qlite/train/model.h"

namespace qlite {

struct RewrittenModel {
  std::unique_ptr<Model> model;  // built, with the source's weights
  // Per node of `model`: the nodes of the source model it computes, the one
  // it keeps the layer (and name) of first.
  std::vector<std::vector<int>> sources;
  // Per node of `model`: the BatchNormalization folded into it when the
  // options kept it (a clone, built, its moving mean less the op's bias);
  // nullptr elsewhere.
  std::vector<LayerPtr> batch_norms;
};

struct RewriteOptions {
  // Called with the source node of an op a batch norm folds into: true keeps
  // the batch norm apart (RewrittenModel::batch_norms; QAT trains it with
  // batch statistics) instead of folding its moving statistics into the
  // weights. The op then keeps its unfolded kernel, and its bias is 0 (the
  // op's own bias goes into the batch norm's moving mean: BN(z + b) with mean
  // m equals BN(z) with mean m - b). The rest of the pattern (the fused
  // activation) is unchanged. An Error where the op or the batch norm is
  // shared.
  std::function<bool(int node)> keep_batch_norm;
};

// Rewrites a built model (never modified). Layers outside any pattern are
// cloned as they are; so is a model with nothing to rewrite.
RewrittenModel rewrite_for_lowering(const Model& model, const RewriteOptions& options = {});

}  // namespace qlite
