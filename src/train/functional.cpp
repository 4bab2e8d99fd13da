// The functional front end: layers called on symbolic tensors record a graph
// (LayerPtr::operator()), and Model(inputs, outputs) turns it into nodes.
#include <map>

#include "qlite/train/model.h"
#include "train/layers/layer_util.h"

namespace qlite {

SymbolicTensor::SymbolicTensor(LayerPtr layer, std::vector<SymbolicTensor> inputs)
    : node_(std::make_shared<const Record>(Record{std::move(layer), std::move(inputs)})) {
  check(node_->layer != nullptr, "a symbolic tensor needs the layer that produces it");
}

SymbolicTensor LayerPtr::operator()(const SymbolicTensor& x) const { return (*this)(std::vector<SymbolicTensor>{x}); }

SymbolicTensor LayerPtr::operator()(const std::vector<SymbolicTensor>& xs) const {
  check(get() != nullptr, "cannot call a null layer");
  const std::string who = detail::layer_label(*get());
  check(get()->type() != "InputLayer", who + ": an InputLayer is not called on tensors; use layers::Input(shape)");
  check(!xs.empty(), who + ": called on no tensors");
  const int want = get()->num_inputs();
  check(want <= 0 || static_cast<int>(xs.size()) == want,
        who + ": takes " + std::to_string(want) + " input(s), called on " + std::to_string(xs.size()));
  return SymbolicTensor(*this, xs);
}

Model::Model(const SymbolicTensor& inputs, const SymbolicTensor& outputs, std::string name) : name_(std::move(name)) {
  check(inputs.layer()->type() == "InputLayer",
        "Model(inputs, outputs): inputs must come from layers::Input, got " + detail::layer_label(*inputs.layer()));
  // Post-order walk from the output: each layer after the layers it reads.
  // Iterative, so deep graphs cannot exhaust the stack.
  std::map<const void*, int> index;  // by symbolic tensor: a layer called twice is two tensors
  add_node(inputs.layer());
  index[inputs.id()] = 0;
  struct Frame {
    SymbolicTensor t;
    size_t next = 0;
  };
  std::vector<Frame> stack{{outputs}};
  while (!stack.empty()) {
    Frame& f = stack.back();
    const Layer* l = f.t.layer().get();
    if (index.count(f.t.id())) {
      stack.pop_back();
      continue;
    }
    if (f.t.inputs().empty())
      throw Error("Model(inputs, outputs): " + detail::layer_label(*l) +
                  " is an input the model was not given (every layer must be computed from `inputs`)");
    if (f.next < f.t.inputs().size()) {
      SymbolicTensor in = f.t.inputs()[f.next++];
      if (!index.count(in.id())) stack.push_back({in});
      continue;
    }
    std::vector<int> ins;
    for (const SymbolicTensor& in : f.t.inputs()) ins.push_back(index.at(in.id()));
    // A layer object met again is another call of a shared layer.
    index[f.t.id()] = add_node(f.t.layer(), ins);
    stack.pop_back();
  }
}

}  // namespace qlite
