// Post-training calibration: the float model is run layer by layer over the
// representative images and every node's output range is recorded with
// min/max over all of them (TFLite's MinMax calibration).
#include <algorithm>
#include <cstring>

#include "convert/lowering.h"
#include "qlite/quant.h"

namespace qlite::convert::detail {

std::vector<NodeRange> calibrate(const Model& model, const Tensor& x, int64_t count) {
  const Shape in_shape = model.input_shape();
  check(x.dtype() == DType::kFloat32 && x.rank() == in_shape.size() + 1,
        "convert: representative data must be float32 [N" + std::string(", ...") + "] matching the model input " +
            shape_str(in_shape) + ", got " + shape_str(x.shape()));
  for (size_t d = 0; d < in_shape.size(); ++d)
    check(x.dim(d + 1) == in_shape[d], "convert: representative data shape " + shape_str(x.shape()) +
                                           " does not match the model input " + shape_str(in_shape));
  count = std::min<int64_t>(count, x.dim(0));
  check(count >= 1, "convert: int8 calibration needs at least one representative image");

  // A private copy: forward() may keep per-batch state in the layers.
  std::unique_ptr<Model> m = model.clone();
  ThreadPool pool(1);
  RunContext ctx{false, &pool};
  const size_t n = m->num_layers();
  std::vector<quant::Range> ranges(n);
  std::vector<Tensor> outs(n);
  const int64_t row = shape_numel(in_shape);
  constexpr int64_t kChunk = 64;
  for (int64_t begin = 0; begin < count; begin += kChunk) {
    const int64_t rows = std::min(kChunk, count - begin);
    Shape s{rows};
    s.insert(s.end(), in_shape.begin(), in_shape.end());
    outs[0].resize(s);
    std::memcpy(outs[0].raw(), x.f32() + begin * row, static_cast<size_t>(rows * row) * sizeof(float));
    for (size_t i = 0; i < n; ++i) {
      const Node& node = m->nodes()[i];
      if (i > 0) {
        std::vector<const Tensor*> ins;
        for (int k : node.inputs) ins.push_back(&outs[static_cast<size_t>(k)]);
        node.layer->forward(ins, outs[i], ctx);
      }
      const quant::Range r = quant::finite_range(outs[i].span_f32());
      if (!r.empty()) {
        ranges[i].min = std::min(ranges[i].min, r.min);
        ranges[i].max = std::max(ranges[i].max, r.max);
      }
    }
  }
  std::vector<NodeRange> result(n);
  for (size_t i = 0; i < n; ++i)
    if (!ranges[i].empty()) result[i] = {ranges[i].min, ranges[i].max};
  return result;
}

}  // namespace qlite::convert::detail
