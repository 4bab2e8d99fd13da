// Non-finite numbers are never a result: training that produces a NaN or
// infinite loss stops with an Error (Keras' TerminateOnNaN, but as an error,
// since the weights are then garbage), and NaN/Inf weights are never saved.
#include <cmath>
#include <limits>
#include <sstream>

#include "qlite/train/model.h"
#include "train/train_util.h"

namespace qlite {
namespace {

std::string number(double v) {
  if (std::isnan(v)) return "nan";
  if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
  std::ostringstream s;
  s << v;
  return s.str();
}

// The first float parameter value with |v| > limit (NaN included), described.
std::string first_param_beyond(const Model& model, float limit) {
  for (const Layer* l : model.unique_layers())
    for (const Param* p : l->params()) {
      if (p->value.dtype() != DType::kFloat32) continue;
      const auto v = p->value.span_f32();
      for (size_t i = 0; i < v.size(); ++i)
        if (!(std::fabs(v[i]) <= limit))
          return "layer '" + l->name() + "' parameter '" + p->name + "' holds " + number(v[i]) +
                 " (element " + std::to_string(i) + " of " + std::to_string(v.size()) + ")";
    }
  return {};
}

// Beyond sqrt(FLT_MAX) ~ 1.8e19 the product of two values overflows float
// (an input scale times a weight scale does, in the int8 requantization), so
// no working model holds such a weight; QAT's fake quantization can keep the
// loss finite while its weights run away to there.
const float kDivergedMagnitude = std::sqrt(std::numeric_limits<float>::max());

}  // namespace

std::string first_non_finite_param(const Model& model) {
  return first_param_beyond(model, std::numeric_limits<float>::max());
}

void check_finite_params(const Model& model, const std::string& what) {
  const std::string bad = first_non_finite_param(model);
  if (!bad.empty()) throw Error(what + ": " + bad);
}

namespace detail {

void check_not_diverged(double loss, int epoch, int64_t step, const char* which) {
  if (std::isfinite(loss)) return;
  throw TrainingDiverged("training diverged at epoch " + std::to_string(epoch + 1) +
                             (step >= 0 ? " step " + std::to_string(step + 1) : std::string()) + ": " + which +
                             " is " + number(loss) + "; lower the learning rate",
                         epoch, step);
}

void check_not_diverged(const Model& model, int epoch) {
  const std::string bad = first_param_beyond(model, kDivergedMagnitude);
  if (!bad.empty())
    throw TrainingDiverged("training diverged at epoch " + std::to_string(epoch + 1) + ": " + bad +
                               "; lower the learning rate",
                           epoch, -1);
}

}  // namespace detail
}  // namespace qlite
