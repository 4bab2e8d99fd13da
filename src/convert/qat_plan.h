// Internal: planning the conversion of a quantization-aware model from the
// numbers its QAT layers evaluate with (no calibration).
#pragma once

#include <vector>

#include "convert/lowering.h"

namespace qlite::convert::detail {

// True when the model contains QuantizeWrapper or QuantizeLayer nodes.
bool is_quantization_aware(const Model& model);

// One plan per node. layers[i] is replaced by the layer to lower for node i
// (a wrapper's inner layer); input quantizers become identity plans.
std::vector<NodePlan> plan_qat_model(const Model& model, std::vector<const Layer*>& layers);

}  // namespace qlite::convert::detail
