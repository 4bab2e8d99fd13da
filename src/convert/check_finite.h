// See check_finite.cpp.
#pragma once

#include "qlite/train/model.h"

namespace qlite::convert::detail {

// Throws Error naming the layer and parameter when a weight or QAT range of
// `model` is NaN or +-Inf.
void check_finite_model(const Model& model);

}  // namespace qlite::convert::detail
