// Sparse categorical cross-entropy and accuracy, as Keras computes them.
#include <algorithm>
#include <cmath>

#include "qlite/train/model.h"
#include "train/train_util.h"

namespace qlite {

namespace {

// Rows and classes of an output whose last axis holds the classes.
void output_layout(const Tensor& output, const Tensor& labels, const char* what, int64_t* rows,
                   int64_t* classes) {
  QLITE_CHECK(output.dtype() == DType::kFloat32,
        std::string(what) + ": output must be float32, got " + dtype_name(output.dtype()));
  QLITE_CHECK(output.rank() >= 1 && output.shape().back() > 0,
        std::string(what) + ": output " + shape_str(output.shape()) + " has no class axis");
  QLITE_CHECK(labels.dtype() == DType::kInt32,
        std::string(what) + ": labels must be int32, got " + dtype_name(labels.dtype()));
  *classes = output.shape().back();
  *rows = output.numel() / *classes;
  QLITE_CHECK(labels.numel() == *rows, std::string(what) + ": " + std::to_string(labels.numel()) +
                                     " labels for output " + shape_str(output.shape()) + " (" +
                                     std::to_string(*rows) + " rows)");
}

void check_label(int32_t label, int64_t row, int64_t classes) {
  if (label < 0 || label >= classes)
    throw Error("sparse_categorical_crossentropy: label " + std::to_string(label) + " in row " +
                std::to_string(row) + " is outside [0, " + std::to_string(classes) + ")");
}

}  // namespace

// from_logits=false follows keras.backend.sparse_categorical_crossentropy:
// the probabilities are clipped to [eps, 1-eps], their log is taken as logits,
// and softmax cross-entropy is applied to that. For rows that sum to 1 this is
// -log p[label]; otherwise it is -log(p[label] / sum(p)), and the gradient is
// that of this expression (zero where the clip is active, as tf.clip_by_value).
double sparse_categorical_crossentropy(const Tensor& output, const Tensor& labels, bool from_logits,
                                       Tensor* doutput) {
  int64_t rows, classes;
  output_layout(output, labels, "sparse_categorical_crossentropy", &rows, &classes);
  const float* z = output.f32();
  const int32_t* y = labels.data<int32_t>();
  for (int64_t r = 0; r < rows; ++r) check_label(y[r], r, classes);
  if (rows == 0) {
    if (doutput) doutput->resize(output.shape());
    return 0.0;
  }
  float* d = nullptr;
  if (doutput) {
    doutput->resize(output.shape());
    d = doutput->f32();
  }
  const double inv_rows = 1.0 / static_cast<double>(rows);
  constexpr float kEps = 1e-7f;
  double total = 0;
  for (int64_t r = 0; r < rows; ++r) {
    const float* zr = z + r * classes;
    const int64_t label = y[r];
    if (from_logits) {
      float m = zr[0];
      for (int64_t c = 1; c < classes; ++c) m = std::max(m, zr[c]);
      double s = 0;
      for (int64_t c = 0; c < classes; ++c) s += std::exp(static_cast<double>(zr[c]) - m);
      const double log_s = std::log(s);
      total += -(static_cast<double>(zr[label]) - m - log_s);
      if (d) {
        float* dr = d + r * classes;
        for (int64_t c = 0; c < classes; ++c) {
          const double p = std::exp(static_cast<double>(zr[c]) - m - log_s);
          dr[c] = static_cast<float>((p - (c == label ? 1.0 : 0.0)) * inv_rows);
        }
      }
    } else {
      double s = 0;
      for (int64_t c = 0; c < classes; ++c) s += std::clamp(zr[c], kEps, 1.0f - kEps);
      const double py = std::clamp(zr[label], kEps, 1.0f - kEps);
      total += -std::log(py) + std::log(s);
      if (d) {
        float* dr = d + r * classes;
        for (int64_t c = 0; c < classes; ++c) {
          const bool inside = zr[c] >= kEps && zr[c] <= 1.0f - kEps;
          const double g = 1.0 / s - (c == label ? 1.0 / py : 0.0);
          dr[c] = inside ? static_cast<float>(g * inv_rows) : 0.0f;
        }
      }
    }
  }
  return total * inv_rows;
}

int64_t count_correct(const Tensor& output, const Tensor& labels) {
  int64_t rows, classes;
  output_layout(output, labels, "count_correct", &rows, &classes);
  const float* z = output.f32();
  const int32_t* y = labels.data<int32_t>();
  int64_t correct = 0;
  for (int64_t r = 0; r < rows; ++r) {
    const float* zr = z + r * classes;
    int64_t best = 0;
    for (int64_t c = 1; c < classes; ++c)
      if (zr[c] > zr[best]) best = c;  // strict: the first maximum wins, as tf.argmax
    correct += best == y[r];
  }
  return correct;
}

}  // namespace qlite
