// RESHAPE: the new shape comes from the constant shape input, else from the
// options, else from the output's declared shape; one -1 is inferred. A shape
// written for the file's batch (no -1) follows the run-time batch when the
// output's shape_signature marks dimension 0 as -1.
#include <cstring>

#include "runtime/ops/op_util.h"
#include "runtime/ops/ops.h"

namespace qlite::runtime::detail {
namespace {

void eval_copy(const EvalContext& c, const Node& n) {
  const RtTensor& in = c.input(n, 0);
  const RtTensor& out = c.output(n, 0);
  if (in.data != out.data) std::memcpy(out.data, in.data, static_cast<size_t>(c.scaled(static_cast<int64_t>(out.nbytes()))));
}

struct ReshapeState : OpState {};

}  // namespace

void prepare_reshape(PrepareContext& ctx, Node& n) {
  RtTensor& in = ctx.input(n, 0);
  RtTensor* shape_in = ctx.optional_input(n, 1);
  RtTensor& out = ctx.output(n, 0);
  std::vector<int64_t> target;
  const auto* opts = std::get_if<lite::ReshapeOptions>(&n.def->options);
  // As TFLite 2.9: a shape input computed at run time that is a 1-D INT32
  // vector gives the shape at invoke (a dynamic output).
  const bool run_time_vector = shape_in && !shape_in->constant && shape_in->shape.size() == 1 &&
                               shape_in->type == lite::TensorType::kInt32;
  if (shape_in && (shape_in->constant || run_time_vector)) {
    require_type(n, *shape_in, lite::TensorType::kInt32, "shape");
    op_check(shape_in->shape.size() <= 1, n, "shape input " + describe(*shape_in) + " must be 1-D");
    require_values(n, *shape_in, "shape");
    const int32_t* d = shape_in->as<const int32_t>();
    target.assign(d, d + shape_in->numel());
  } else if (opts && !opts->new_shape.empty()) {
    target.assign(opts->new_shape.begin(), opts->new_shape.end());
  } else {
    // (The message must not be built when there is no shape input: found by
    // fuzz/tflite_interpreter_fuzz.cpp.)
    if (shape_in != nullptr) op_check(false, n, "shape input " + describe(*shape_in) + " must be constant");
    target.assign(out.def->shape.begin(), out.def->shape.end());
  }
  const int64_t numel = in.numel();
  int64_t known = 1;
  int unknown = -1;
  // Messages are built only on failure: a run-time shape operand can have
  // any number of elements, and building one per dimension made the loop
  // quadratic (a 2-minute invoke, found by fuzz/tflite_interpreter_fuzz.cpp).
  for (size_t d = 0; d < target.size(); ++d) {
    if (target[d] == -1) {
      if (unknown >= 0) op_check(false, n, "new shape " + shape_str(target) + " has more than one -1");
      unknown = static_cast<int>(d);
    } else {
      if (target[d] < 0) op_check(false, n, "new shape " + shape_str(target) + " has a negative dimension");
      if (__builtin_mul_overflow(known, target[d], &known))
        op_check(false, n, "new shape " + shape_str(target) + " has more elements than int64 can count");
    }
  }
  const auto& sig = out.def->shape_signature;
  if (unknown < 0 && known != numel && !target.empty() && !sig.empty() && sig[0] == -1 &&
      target[0] != 0 && known / target[0] != 0) {
    known /= target[0];
    unknown = 0;
  }
  if (unknown >= 0) {
    op_check(known > 0 && numel % known == 0, n,
             "cannot reshape " + describe(in) + " to " + shape_str(target));
    target[static_cast<size_t>(unknown)] = numel / known;
  }
  op_check(shape_numel(target) == numel, n, "cannot reshape " + describe(in) + " (" +
                                                std::to_string(numel) + " elements) to " + shape_str(target));
  op_check(in.type == out.type, n, "input " + describe(in) + " and output " + describe(out) + " differ in type");
  if (in.quantized() || out.quantized()) require_same_quantization(n, in, out, "reshape keeps the quantization");
  ctx.set_output_shape(n, 0, target);
  n.state_as<ReshapeState>();
  n.eval = eval_copy;
}

}  // namespace qlite::runtime::detail
