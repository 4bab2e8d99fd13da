// The records of the built-in layer kinds (include/qlite/train/layer_kind.h),
// one per layer file, registered by layer_kind.cpp.
#pragma once

#include "qlite/train/layer_kind.h"

namespace qlite::detail {

LayerKind input_kind();
LayerKind reshape_kind();
LayerKind flatten_kind();
LayerKind conv2d_kind();
LayerKind max_pooling2d_kind();
LayerKind dense_kind();
LayerKind relu_kind();
LayerKind activation_kind();
LayerKind batch_norm_kind();
LayerKind add_kind();
LayerKind global_average_pooling2d_kind();
LayerKind depthwise_conv2d_kind();
LayerKind dropout_kind();
LayerKind average_pooling2d_kind();
LayerKind concatenate_kind();
LayerKind zero_padding2d_kind();
LayerKind rescaling_kind();

}  // namespace qlite::detail
