// IF and WHILE: TensorFlow Lite 2.9's control flow (if.cc, while.cc). Each
// runs other subgraphs of the model, every one in an interpreter of its own
// (CalledSubgraph, runtime/graph.h) prepared for the shapes of the op's
// operands, with values copied in and out as TFLite copies them.
//  - IF: input 0 is a BOOL of one element; the other inputs go to the
//    `then` subgraph when it is true, to the `else` subgraph otherwise; the
//    branch's outputs are the op's. When the two branches give outputs of
//    different shapes, the output takes the shape of the branch taken
//    (TFLite's dynamic outputs): the op is then prepared at invoke, again
//    whenever the condition changes.
//  - WHILE: the inputs are the loop variables. While the `cond` subgraph
//    (the variables in, one BOOL out) gives true, the `body` subgraph (the
//    variables in, their next values out) runs; the outputs are the last
//    values (the inputs when the loop runs no iteration). When the body
//    gives a variable another shape than it takes (TFLite's dynamic case: a
//    loop that grows a tensor), the output shapes are known only once the
//    loop has run: the op is then prepared at every invoke, and that
//    preparation runs the loop (preparing the subgraphs again whenever the
//    shapes change) and keeps the final values, which eval copies out. A
//    loop running more than InterpreterOptions::max_loop_iterations
//    iterations fails, where TFLite would run without bound.
#include <cstring>

#include "runtime/ops/op_util.h"
#include "runtime/ops/ops.h"

namespace qlite::runtime::detail {
namespace {

using T = lite::TensorType;

struct IfState : OpState {
  std::unique_ptr<CalledSubgraph> branch[2];  // then, else
  int32_t index[2] = {-1, -1};
};

struct WhileState : OpState {
  std::unique_ptr<CalledSubgraph> cond, body;
  int32_t cond_index = -1, body_index = -1;
  int64_t max_iterations = 0;
  // A loop whose shapes change: the final values, computed by prepare.
  std::vector<std::vector<std::byte>> values;
  std::vector<Shape> shapes;
};

// TFLite reads a BOOL as a byte: anything but 0 is true.
bool truth(const RtTensor& t) { return *reinterpret_cast<const uint8_t*>(t.data) != 0; }

// Shapes were checked equal at prepare. (The same tensor may be on both
// sides: a subgraph that passes an input straight to an output.)
void copy_values(const RtTensor& dst, const RtTensor& src) {
  const size_t bytes = dst.nbytes();
  if (bytes != 0 && dst.data != src.data) std::memcpy(dst.data, src.data, bytes);
}

// Subgraph k of op n, opened once and kept across preparations.
CalledSubgraph& open(PrepareContext& ctx, const Node& n, std::unique_ptr<CalledSubgraph>& held, int32_t& held_index,
                     int32_t k, const char* role) {
  if (!held || held_index != k) {
    held = ctx.resources()->open_subgraph(n, k, ctx.subgraph(), role);
    held_index = k;
  }
  return *held;
}

std::string sub_name(const char* role, int32_t k) {
  return std::string(role) + " subgraph " + std::to_string(k);
}

// Prepares g for `shapes`; its outputs' shapes must then be known.
void prepare_for(const Node& n, CalledSubgraph& g, const char* role, int32_t k, const std::vector<Shape>& shapes) {
  g.prepare(n, shapes);
  for (size_t i = 0; i < g.num_outputs(); ++i)
    QLITE_OP_CHECK(!g.output(i).dynamic, n,
                   "output " + std::to_string(i) + " of " + sub_name(role, k) +
                       " has a shape known only at invoke; the runtime needs it at prepare");
}

// The subgraph's inputs and outputs in number, its inputs of the types of
// the op's (from input `first` on), then prepared for their shapes.
// (Messages are built only on failure: a dynamic IF or WHILE comes here at
// invoke.)
void prepare_called(PrepareContext& ctx, const Node& n, CalledSubgraph& g, const char* role, int32_t k, size_t first,
                    size_t num_outputs) {
  const size_t num_inputs = ctx.num_inputs(n) - first;
  QLITE_OP_CHECK(g.num_inputs() == num_inputs, n,
                 sub_name(role, k) + " has " + std::to_string(g.num_inputs()) + " inputs; the op passes it " +
                     std::to_string(num_inputs));
  QLITE_OP_CHECK(g.num_outputs() == num_outputs, n,
                 sub_name(role, k) + " has " + std::to_string(g.num_outputs()) + " outputs; the op takes " +
                     std::to_string(num_outputs));
  std::vector<Shape> shapes;
  for (size_t i = 0; i < num_inputs; ++i) {
    const RtTensor& in = ctx.input(n, first + i);
    const RtTensor& declared = g.declared_input(i);
    QLITE_OP_CHECK(declared.type == in.type, n,
                   "input " + std::to_string(first + i) + " " + describe(in) + " is " +
                       lite::tensor_type_name(in.type) + ", input " + std::to_string(i) + " of " +
                       sub_name(role, k) + " is " + lite::tensor_type_name(declared.type));
    shapes.push_back(in.shape);
  }
  prepare_for(n, g, role, k, shapes);
}

void eval_if(const EvalContext& c, const Node& n) {
  const auto& s = n.state_as<IfState>();
  CalledSubgraph& g = *s.branch[truth(c.input(n, 0)) ? 0 : 1];
  for (size_t i = 0; i < g.num_inputs(); ++i) copy_values(g.input(i), c.input(n, i + 1));
  g.run();
  for (size_t i = 0; i < g.num_outputs(); ++i) copy_values(c.output(n, i), g.output(i));
}

void eval_while(const EvalContext& c, const Node& n) {
  const auto& s = n.state_as<WhileState>();
  CalledSubgraph& cond = *s.cond;
  CalledSubgraph& body = *s.body;
  const size_t num = n.def->inputs.size();
  // The outputs hold the loop variables between the subgraphs' runs.
  for (size_t i = 0; i < num; ++i) copy_values(c.output(n, i), c.input(n, i));
  for (int64_t iteration = 0;; ++iteration) {
    for (size_t i = 0; i < num; ++i) copy_values(cond.input(i), c.output(n, i));
    cond.run();
    if (!truth(cond.output(0))) return;
    QLITE_OP_CHECK(iteration < s.max_iterations, n,
                   "the loop runs more than " + std::to_string(s.max_iterations) +
                       " iterations (InterpreterOptions::max_loop_iterations)");
    for (size_t i = 0; i < num; ++i) copy_values(body.input(i), c.output(n, i));
    body.run();
    for (size_t i = 0; i < num; ++i) copy_values(c.output(n, i), body.output(i));
  }
}

void eval_while_dynamic(const EvalContext& c, const Node& n) {
  const auto& s = n.state_as<WhileState>();
  for (size_t i = 0; i < s.values.size(); ++i)
    if (!s.values[i].empty()) std::memcpy(c.output(n, i).data, s.values[i].data(), s.values[i].size());
}

void check_loop_condition(const Node& n, const RtTensor& c, int32_t k) {
  QLITE_OP_CHECK(c.type == T::kBool && (c.shape.empty() || c.shape == Shape{1}), n,
                 "output 0 of " + sub_name("cond", k) + " is " + lite::tensor_type_name(c.type) + " " +
                     shape_str(c.shape) + "; a loop condition is one BOOL of shape () or (1)");
}

void check_next_types(const PrepareContext& ctx, const Node& n, const CalledSubgraph& body, int32_t k) {
  for (size_t i = 0; i < ctx.num_inputs(n); ++i) {
    const RtTensor& in = ctx.input(n, i);
    const RtTensor& next = body.output(i);
    QLITE_OP_CHECK(next.type == in.type, n,
                   "output " + std::to_string(i) + " of " + sub_name("body", k) + " is " +
                       lite::tensor_type_name(next.type) + ", loop variable " + std::to_string(i) + " " +
                       describe(in) + " is " + lite::tensor_type_name(in.type));
  }
}

// The loop of a body that changes shapes, run while preparing at invoke
// (the inputs' values are known then; prepare_while has checked the
// subgraphs' operands): cond and body are prepared again whenever the
// variables' shapes change; the final values stay in the state.
void run_dynamic_loop(PrepareContext& ctx, Node& n, WhileState& s, const lite::WhileOptions& o) {
  const size_t num = ctx.num_inputs(n);
  s.values.resize(num);
  s.shapes.resize(num);
  for (size_t i = 0; i < num; ++i) {
    const RtTensor& in = ctx.input(n, i);
    s.shapes[i] = in.shape;
    s.values[i].assign(in.data, in.data + in.nbytes());
  }
  CalledSubgraph& cond = *s.cond;
  CalledSubgraph& body = *s.body;
  for (int64_t iteration = 0;; ++iteration) {
    prepare_for(n, cond, "cond", o.cond_subgraph_index, s.shapes);
    check_loop_condition(n, cond.output(0), o.cond_subgraph_index);
    for (size_t i = 0; i < num; ++i)
      if (!s.values[i].empty()) std::memcpy(cond.input(i).data, s.values[i].data(), s.values[i].size());
    cond.run();
    if (!truth(cond.output(0))) return;
    QLITE_OP_CHECK(iteration < s.max_iterations, n,
                   "the loop runs more than " + std::to_string(s.max_iterations) +
                       " iterations (InterpreterOptions::max_loop_iterations)");
    prepare_for(n, body, "body", o.body_subgraph_index, s.shapes);
    for (size_t i = 0; i < num; ++i)
      if (!s.values[i].empty()) std::memcpy(body.input(i).data, s.values[i].data(), s.values[i].size());
    body.run();
    for (size_t i = 0; i < num; ++i) {
      const RtTensor& next = body.output(i);
      s.shapes[i] = next.shape;
      s.values[i].assign(next.data, next.data + next.nbytes());
    }
  }
}

}  // namespace

void prepare_if(PrepareContext& ctx, Node& n) {
  const RtTensor& cond = ctx.input(n, 0);
  QLITE_OP_CHECK(cond.type == T::kBool, n, "condition " + describe(cond) + " must be BOOL");
  QLITE_OP_CHECK(cond.numel() == 1, n, "condition " + describe(cond) + " must hold one element");
  lite::IfOptions o;
  if (const auto* p = std::get_if<lite::IfOptions>(&n.def->options)) o = *p;
  auto& s = n.state_as<IfState>();
  const size_t num_outputs = n.def->outputs.size();
  const int32_t index[2] = {o.then_subgraph_index, o.else_subgraph_index};
  const char* role[2] = {"then", "else"};
  for (int b = 0; b < 2; ++b) {
    CalledSubgraph& g = open(ctx, n, s.branch[b], s.index[b], index[b], role[b]);
    prepare_called(ctx, n, g, role[b], index[b], 1, num_outputs);
    for (size_t i = 0; i < num_outputs; ++i) {
      const RtTensor& out = ctx.output(n, i);
      QLITE_OP_CHECK(g.output(i).type == out.type, n,
                     "output " + std::to_string(i) + " " + describe(out) + " is " +
                         lite::tensor_type_name(out.type) + ", " + sub_name(role[b], index[b]) + " gives " +
                         lite::tensor_type_name(g.output(i).type));
    }
  }
  bool same = true;
  for (size_t i = 0; i < num_outputs; ++i) same = same && s.branch[0]->output(i).shape == s.branch[1]->output(i).shape;
  int taken = 0;
  if (!same) {
    // TFLite 2.9 makes the outputs dynamic: they take the taken branch's shapes.
    if (!cond.constant && !cond.known)
      throw ValuesAtRunTime(n.label +
                            ": the branches' outputs differ in shape; they take the shapes of the branch taken");
    require_values(n, cond, "condition");
    taken = truth(cond) ? 0 : 1;
  }
  for (size_t i = 0; i < num_outputs; ++i) ctx.set_output_shape(n, i, s.branch[taken]->output(i).shape);
  n.separable = false;
  n.eval = eval_if;
}

void prepare_while(PrepareContext& ctx, Node& n) {
  const size_t num = ctx.num_inputs(n);
  QLITE_OP_CHECK(n.def->outputs.size() == num, n,
                 "has " + std::to_string(num) + " inputs and " + std::to_string(n.def->outputs.size()) +
                     " outputs; a WHILE has one output per loop variable");
  lite::WhileOptions o;
  if (const auto* p = std::get_if<lite::WhileOptions>(&n.def->options)) o = *p;
  QLITE_OP_CHECK(o.cond_subgraph_index != o.body_subgraph_index, n,
                 "cond_subgraph_index and body_subgraph_index are both " + std::to_string(o.body_subgraph_index));
  auto& s = n.state_as<WhileState>();
  CalledSubgraph& cond = open(ctx, n, s.cond, s.cond_index, o.cond_subgraph_index, "cond");
  CalledSubgraph& body = open(ctx, n, s.body, s.body_index, o.body_subgraph_index, "body");
  prepare_called(ctx, n, cond, "cond", o.cond_subgraph_index, 0, 1);
  check_loop_condition(n, cond.output(0), o.cond_subgraph_index);
  prepare_called(ctx, n, body, "body", o.body_subgraph_index, 0, num);
  check_next_types(ctx, n, body, o.body_subgraph_index);
  bool same = true;
  for (size_t i = 0; i < num; ++i) {
    const RtTensor& in = ctx.input(n, i);
    const RtTensor& out = ctx.output(n, i);
    QLITE_OP_CHECK(out.type == in.type, n,
                   "output " + std::to_string(i) + " " + describe(out) + " is " + lite::tensor_type_name(out.type) +
                       ", loop variable " + std::to_string(i) + " is " + lite::tensor_type_name(in.type));
    same = same && body.output(i).shape == in.shape;
  }
  s.max_iterations = ctx.resources()->max_loop_iterations();
  n.separable = false;
  if (same) {
    s.values.clear();
    for (size_t i = 0; i < num; ++i) ctx.set_output_shape(n, i, ctx.input(n, i).shape);
    n.eval = eval_while;
    return;
  }
  // The body changes shapes: the outputs' shapes are those the loop ends
  // with, known once it has run on the inputs' values, at invoke.
  for (size_t i = 0; i < num; ++i) {
    const RtTensor& in = ctx.input(n, i);
    if (!in.known)
      throw ValuesAtRunTime(n.label + ": " + sub_name("body", o.body_subgraph_index) +
                            " changes the shapes of the loop variables; the loop runs at invoke");
    require_values(n, in, "loop variable");
  }
  run_dynamic_loop(ctx, n, s, o);
  for (size_t i = 0; i < num; ++i) ctx.set_output_shape(n, i, s.shapes[i]);
  n.prepare_every_invoke = true;  // the shapes follow the values
  n.eval = eval_while_dynamic;
}

}  // namespace qlite::runtime::detail
