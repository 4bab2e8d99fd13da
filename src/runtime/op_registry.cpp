// The builtin ops the runtime runs (one file per op in ops/) and the
// PrepareContext helpers they share.
#include "runtime/ops/op_util.h"
#include "runtime/ops/ops.h"

namespace qlite::runtime::detail {

namespace {
const OpKernel kOps[] = {
    {lite::BuiltinOp::kConv2D, prepare_conv2d},
    {lite::BuiltinOp::kDepthwiseConv2D, prepare_depthwise_conv2d},
    {lite::BuiltinOp::kFullyConnected, prepare_fully_connected},
    {lite::BuiltinOp::kMaxPool2D, prepare_max_pool2d},
    {lite::BuiltinOp::kAveragePool2D, prepare_average_pool2d},
    {lite::BuiltinOp::kReshape, prepare_reshape},
    {lite::BuiltinOp::kSoftmax, prepare_softmax},
    {lite::BuiltinOp::kQuantize, prepare_quantize},
    {lite::BuiltinOp::kDequantize, prepare_dequantize},
    {lite::BuiltinOp::kAdd, prepare_add},
    {lite::BuiltinOp::kMean, prepare_mean},
    {lite::BuiltinOp::kConcatenation, prepare_concatenation},
};
}  // namespace

const OpKernel* find_op_kernel(lite::BuiltinOp op) {
  for (const OpKernel& k : kOps)
    if (k.op == op) return &k;
  return nullptr;
}

RtTensor& PrepareContext::input(const Node& n, size_t k) const {
  RtTensor* t = optional_input(n, k);
  op_check(t != nullptr, n, "input " + std::to_string(k) + " is missing");
  return *t;
}

RtTensor* PrepareContext::optional_input(const Node& n, size_t k) const {
  if (k >= n.def->inputs.size() || n.def->inputs[k] < 0) return nullptr;
  return &tensors_[static_cast<size_t>(n.def->inputs[k])];
}

RtTensor& PrepareContext::output(const Node& n, size_t k) const {
  op_check(k < n.def->outputs.size(), n, "output " + std::to_string(k) + " is missing");
  return tensors_[static_cast<size_t>(n.def->outputs[k])];
}

void PrepareContext::set_output_shape(const Node& n, size_t k, Shape shape) const {
  RtTensor& out = output(n, k);
  const std::vector<int32_t>& declared = out.def->shape;
  if (!declared.empty()) {
    bool ok = declared.size() == shape.size();
    for (size_t d = 1; ok && d < shape.size(); ++d) ok = declared[d] == shape[d];
    op_check(ok, n,
             "computed output shape " + shape_str(shape) + " disagrees with the shape " +
                 shape_str(Shape(declared.begin(), declared.end())) + " the file declares for '" +
                 out.def->name + "'");
  }
  shape_numel(shape);  // overflow check
  out.shape = std::move(shape);
}

size_t PrepareContext::request_scratch(Node& n, size_t bytes) const {
  n.scratch_bytes.push_back(bytes);
  return n.scratch_bytes.size() - 1;
}

}  // namespace qlite::runtime::detail
