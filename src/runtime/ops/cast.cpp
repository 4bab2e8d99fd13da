// CAST between FLOAT32, INT8, UINT8, INT16, INT32, INT64 and BOOL, any pair
// (TensorFlow Lite 2.9's cast.cc, which also takes UINT16 and COMPLEX64: not
// qlite tensor types). Values convert as C++'s static_cast on x86-64
// (kernels/reference/data_kernels.h), raw: CAST ignores quantization, as
// TFLite's does. The options' types are informational (TFLite reads the
// tensors' types), so they are not compared.
#include <cstring>

#include "kernels/reference/data_kernels.h"
#include "runtime/ops/data_util.h"
#include "runtime/ops/ops.h"

namespace qlite::runtime::detail {
namespace {

struct CastState : OpState {
  lite::TensorType from = lite::TensorType::kFloat32, to = lite::TensorType::kFloat32;
  int64_t count = 0;
};

void eval_cast(const EvalContext& c, const Node& n) {
  const auto& s = n.state_as<CastState>();
  ref::cast(s.from, s.to, c.scaled(s.count), c.input(n, 0).data, c.output(n, 0).data);
}

}  // namespace

void prepare_cast(PrepareContext& ctx, Node& n) {
  RtTensor& in = ctx.input(n, 0);
  RtTensor& out = ctx.output(n, 0);
  if (!ref::cast_supported(in.type) || !ref::cast_supported(out.type)) unsupported_types(ctx, n);
  auto& s = n.state_as<CastState>();
  s.from = in.type;
  s.to = out.type;
  s.count = in.numel();
  ctx.set_output_shape(n, 0, in.shape);
  n.work = s.count;
  n.separable = !in.constant;
  n.eval = eval_cast;
}

}  // namespace qlite::runtime::detail
