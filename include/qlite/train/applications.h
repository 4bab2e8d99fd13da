// Model builders in the spirit of keras.applications: the same layers, in
// the same order, with the same names, paddings, strides and parameter
// counts as Keras builds them (weights freshly initialised; no pretrained
// weights are shipped). Each returns an unbuilt functional model; build(seed)
// or fit() creates the weights.
#pragma once

#include <memory>

#include "qlite/train/model.h"

namespace qlite::applications {

struct MobileNetOptions {
  double alpha = 1.0;                 // width multiplier
  Shape input_shape = {224, 224, 3};  // (height, width, channels); V1 needs sides >= 32 (as Keras), V2 any
  int classes = 1000;
  double dropout = 1e-3;  // MobileNetV1 only: Dropout rate before the classifier
};

// keras.applications.MobileNet (V1): conv1 + 13 depthwise-separable blocks,
// GlobalAveragePooling2D(keepdims) -> Dropout -> Conv2D 1x1 -> Reshape ->
// softmax. 4,253,864 parameters at alpha 1.0, 224x224x3, 1000 classes.
std::unique_ptr<Model> MobileNetV1(const MobileNetOptions& options = {});

// keras.applications.MobileNetV2: Conv1 + 17 inverted residual blocks +
// Conv_1 (1280) -> GlobalAveragePooling2D -> Dense softmax. 3,538,984
// parameters at alpha 1.0, 224x224x3, 1000 classes.
std::unique_ptr<Model> MobileNetV2(const MobileNetOptions& options = {});

// The reference MobileNet-style network of issue 12 (9,610 parameters):
// Conv2D 16 3x3 stride 2 + BN + ReLU6, three depthwise-separable blocks (32,
// 64 stride 2, 64 with a residual Add), GlobalAveragePooling2D,
// Dense(classes) logits. It follows the PyTorch peer network the issue's
// figures come from: BatchNormalizations with momentum 0.9 and epsilon 1e-5
// (BatchNorm2d's defaults) and kernels initialized as PyTorch's layers are
// (uniform in +-1/sqrt(fan_in), as Keras' VarianceScaling(1/3, fan_in,
// uniform); depthwise kernels over their 3x3 receptive field). Input (28, 28,
// 1) by default.
std::unique_ptr<Model> MobileNetStyle(Shape input_shape = {28, 28, 1}, int classes = 10);

// A copy of `model` whose BatchNormalization moving statistics are those of
// the batch `x` (one training step at learning rate 0 with momentum 0; the
// other weights are unchanged), as a briefly trained network has them. An
// untrained network with Keras' initial weights shrinks activations about
// sevenfold per depthwise layer, so its deep ranges underflow; this gives
// benchmarks and tests of random-weight MobileNets realistic ranges.
std::unique_ptr<Model> with_batch_statistics(const Model& model, const Tensor& x);

// Keras' _make_divisible: v rounded to a multiple of divisor, not below 90% of v.
int make_divisible(double v, int divisor = 8);

}  // namespace qlite::applications
