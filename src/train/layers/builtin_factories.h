// Factories of the built-in layer classes, for the registry in layer.cpp.
#pragma once

#include "qlite/train/layer.h"

namespace qlite::detail {

LayerPtr input_from_config(const json& config);
LayerPtr reshape_from_config(const json& config);
LayerPtr flatten_from_config(const json& config);
LayerPtr conv2d_from_config(const json& config);
LayerPtr max_pooling2d_from_config(const json& config);
LayerPtr dense_from_config(const json& config);

}  // namespace qlite::detail
