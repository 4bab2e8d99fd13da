// The converter's refusal of non-finite numbers: a NaN or infinite weight or
// QAT range (a diverged training run) would otherwise become NaN scales, or
// integers quantized from garbage, in a .tflite that loads and runs wrongly.
#include "convert/check_finite.h"

namespace qlite::convert::detail {

void check_finite_model(const Model& model) {
  const std::string bad = first_non_finite_param(model);
  if (!bad.empty())
    throw Error("convert: " + bad + ": weights and quantization ranges must be finite (did training diverge?)");
}

}  // namespace qlite::convert::detail
