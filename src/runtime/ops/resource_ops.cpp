// VAR_HANDLE, READ_VARIABLE, ASSIGN_VARIABLE and CALL_ONCE: TensorFlow Lite
// 2.9's resource variables (var_handle.cc, read_variable.cc,
// assign_variable.cc, call_once.cc). A resource variable is state kept by
// the interpreter, not by a tensor: ASSIGN_VARIABLE copies a tensor into it
// (type, shape and bytes), READ_VARIABLE copies it out. TensorFlow's
// converter writes them for a model's tf.Variable state, with a CALL_ONCE at
// the head of the main subgraph that runs an initialization subgraph
// (VAR_HANDLE and ASSIGN_VARIABLE of the initial values) on the first invoke.
// The interpreter holds the state (ResourceHost, runtime/graph.h).
#include <cstring>

#include "runtime/ops/op_util.h"
#include "runtime/ops/ops.h"

namespace qlite::runtime::detail {
namespace {

using T = lite::TensorType;

struct VarHandleState : OpState {
  int32_t id = 0;
};
struct CallOnceState : OpState {
  int32_t subgraph = 0;
};

// A handle is VAR_HANDLE's RESOURCE output or an INT32 id, one element.
// (Messages are built only on failure: READ_VARIABLE may be prepared at
// every invoke, which must not allocate.)
void require_handle(const Node& n, const RtTensor& h) {
  QLITE_OP_CHECK(h.type == T::kResource || h.type == T::kInt32, n,
                 "resource handle " + describe(h) + " must be RESOURCE or INT32");
  QLITE_OP_CHECK(h.numel() == 1, n, "resource handle " + describe(h) + " must hold one element");
}

int32_t handle_id(const RtTensor& h) {
  int32_t id = 0;
  std::memcpy(&id, h.data, sizeof id);
  return id;
}

void require_value_type(const Node& n, const RtTensor& t, const char* what) {
  QLITE_OP_CHECK(t.type != T::kString && t.type != T::kResource, n,
                 std::string(what) + " " + describe(t) + ": a variable of this type is not supported");
}

// The variable `id`, of the type of `out`, or a one-line error.
const ResourceVariable& variable_for(const ResourceHost& host, const Node& n, int32_t id, const RtTensor& out) {
  const ResourceVariable* v = host.variable(id);
  QLITE_OP_CHECK(v != nullptr, n, "resource variable " + std::to_string(id) + " is read before any ASSIGN_VARIABLE");
  QLITE_OP_CHECK(v->type == out.type, n,
                 "resource variable " + std::to_string(id) + " holds " + lite::tensor_type_name(v->type) +
                     ", the output " + describe(out) + " is " + lite::tensor_type_name(out.type));
  return *v;
}

void eval_var_handle(const EvalContext& c, const Node& n) {
  const int32_t id = n.state_as<VarHandleState>().id;
  std::memcpy(c.output(n, 0).data, &id, sizeof id);
}

void eval_read_variable(const EvalContext& c, const Node& n) {
  const RtTensor& out = c.output(n, 0);
  const int32_t id = handle_id(c.input(n, 0));
  const ResourceVariable& v = variable_for(*c.resources, n, id, out);
  // A declared output shape is fixed at prepare; the variable must have it.
  QLITE_OP_CHECK(v.shape == out.shape, n,
                 "resource variable " + std::to_string(id) + " has shape " + shape_str(v.shape) +
                     ", the output " + describe(out) + " is declared with another");
  if (!v.data.empty()) std::memcpy(out.data, v.data.data(), v.data.size());
}

void eval_assign_variable(const EvalContext& c, const Node& n) {
  c.resources->assign(handle_id(c.input(n, 0)), c.input(n, 1));
}

void eval_call_once(const EvalContext& c, const Node& n) {
  c.resources->call_once(n, n.state_as<CallOnceState>().subgraph);
}

}  // namespace

void prepare_var_handle(PrepareContext& ctx, Node& n) {
  RtTensor& out = ctx.output(n, 0);
  op_check(out.type == T::kResource || out.type == T::kInt32, n,
           "output " + describe(out) + " must be RESOURCE or INT32");
  ctx.set_output_shape(n, 0, Shape(out.def->shape.begin(), out.def->shape.end()));
  op_check(out.numel() == 1, n, "output " + describe(out) + " must hold one element");
  lite::VarHandleOptions o;
  if (const auto* p = std::get_if<lite::VarHandleOptions>(&n.def->options)) o = *p;
  n.state_as<VarHandleState>().id = ctx.resources()->resource_id(o.container, o.shared_name);
  n.separable = false;
  n.eval = eval_var_handle;
}

void prepare_read_variable(PrepareContext& ctx, Node& n) {
  const RtTensor& h = ctx.input(n, 0);
  require_handle(n, h);
  RtTensor& out = ctx.output(n, 0);
  require_value_type(n, out, "output");
  n.separable = false;
  n.eval = eval_read_variable;
  // A declared shape of rank >= 1 is the output's shape, as TFLite 2.9
  // allocates it; the variable must match it at invoke.
  bool declared = !out.def->shape.empty();
  for (int32_t d : out.def->shape) declared = declared && d >= 0;
  if (declared) {
    ctx.set_output_shape(n, 0, Shape(out.def->shape.begin(), out.def->shape.end()));
    return;
  }
  // Rank 0 (a scalar, or no shape): TFLite 2.9 gives the output the
  // variable's shape at invoke, and so does the interpreter, preparing the
  // op again before every invoke (an assignment may change the shape).
  // Even for a constant handle: the variable may be assigned only at invoke.
  if (!h.known) throw ValuesAtRunTime(n.label + ": the output takes the shape of the variable at invoke");
  require_values(n, h, "resource handle");
  n.prepare_every_invoke = true;
  const ResourceVariable& v = variable_for(*ctx.resources(), n, handle_id(h), out);
  ctx.set_output_shape(n, 0, v.shape);
}

void prepare_assign_variable(PrepareContext& ctx, Node& n) {
  require_handle(n, ctx.input(n, 0));
  require_value_type(n, ctx.input(n, 1), "value");
  n.separable = false;
  n.eval = eval_assign_variable;
}

void prepare_call_once(PrepareContext& ctx, Node& n) {
  int32_t k = 0;
  if (const auto* p = std::get_if<lite::CallOnceOptions>(&n.def->options)) k = p->init_subgraph_index;
  ctx.resources()->prepare_init_subgraph(n, k, ctx.subgraph());
  n.state_as<CallOnceState>().subgraph = k;
  n.separable = false;
  n.eval = eval_call_once;
}

}  // namespace qlite::runtime::detail
