// The model graph: adding layers, naming, building, parameters and cloning.
#include <algorithm>
#include <map>
#include <set>

#include "train/model_json.h"
#include "train/model_runtime.h"
#include "train/train_util.h"

namespace qlite {

namespace {

std::string describe(const Layer& l) { return "layer '" + l.name() + "' (" + l.type() + ")"; }

std::string shapes_str(const std::vector<Shape>& shapes) {
  std::string s;
  for (const Shape& sh : shapes) s += (s.empty() ? "" : ", ") + shape_str(sh);
  return "[" + s + "]";
}

}  // namespace

Model::Runtime& Model::runtime() {
  if (!rt_) rt_ = std::make_shared<Runtime>();
  if (!rt_->pool) rt_->pool = std::make_unique<ThreadPool>(rt_->threads);
  return *rt_;
}

void Model::invalidate_plan() {
  if (rt_) rt_->planned = false;
}

int Model::add_node(LayerPtr layer, std::vector<int> inputs) {
  const std::string where = "model '" + name_ + "'";
  QLITE_CHECK(layer != nullptr, where + ": add_node got a null layer");
  const int index = static_cast<int>(nodes_.size());
  if (nodes_.empty()) {
    QLITE_CHECK(layer->type() == "InputLayer",
          where + ": the first layer must be an InputLayer (layers::Input), got " + describe(*layer));
    QLITE_CHECK(inputs.empty(), where + ": the InputLayer reads no other layer");
  } else {
    QLITE_CHECK(layer->type() != "InputLayer",
          where + ": only the first layer may be an InputLayer, got another: " + describe(*layer));
    if (inputs.empty()) inputs = {index - 1};
    for (int k : inputs)
      QLITE_CHECK(k >= 0 && k < index, where + ": " + describe(*layer) + " reads node " + std::to_string(k) +
                                     ", which is not an earlier node (0.." +
                                     std::to_string(index - 1) + ")");
    const int want = layer->num_inputs();
    QLITE_CHECK(want == Layer::kAnyInputs ? inputs.size() >= 2 : static_cast<int>(inputs.size()) == want,
          where + ": " + describe(*layer) + " takes " +
              (want == Layer::kAnyInputs ? std::string("two or more") : std::to_string(want)) +
              " input(s), got " + std::to_string(inputs.size()));
    QLITE_CHECK(class_name() != "Sequential" || (inputs.size() == 1 && inputs[0] == index - 1),
          where + ": a Sequential model is a chain; " + describe(*layer) +
              " must read the previous layer only");
  }
  // A layer object already in the model: another call of a shared layer.
  int call = 0;
  for (const Node& n : nodes_)
    if (n.layer == layer) ++call;
  if (call > 0) {
    QLITE_CHECK(class_name() != "Sequential", where + ": " + describe(*layer) +
                                                  " is already in the model; a Sequential model cannot call a "
                                                  "layer twice (shared layers need a functional model)");
    nodes_.push_back(Node{std::move(layer), std::move(inputs), call});
    invalidate_plan();
    return index;
  }
  std::set<std::string> taken;
  for (const Node& n : nodes_) taken.insert(n.layer->name());
  if (layer->name().empty()) {
    const std::string stem = layer->default_name_stem();
    std::string name = stem;
    for (int k = 1; taken.count(name); ++k) name = stem + "_" + std::to_string(k);
    layer->set_name(name);
  } else {
    QLITE_CHECK(!taken.count(layer->name()),
          where + ": a layer named '" + layer->name() + "' already exists; layer names must be unique");
  }
  nodes_.push_back(Node{std::move(layer), std::move(inputs)});
  invalidate_plan();
  return index;
}

void Model::build(uint64_t seed) {
  QLITE_CHECK(!nodes_.empty(), "model '" + name_ + "' has no layers");
  const size_t n = nodes_.size();
  std::vector<int> consumers(n, 0);
  std::vector<Shape> shapes;
  int64_t total_params = 0;
  for (size_t i = 0; i < n; ++i) {
    shapes.clear();
    for (int k : nodes_[i].inputs) {
      shapes.push_back(nodes_[k].layer->output_shape());
      ++consumers[k];
    }
    if (nodes_[i].call > 0) {  // a shared layer, built at its first call: same input shapes or nothing
      const Layer& l = *nodes_[i].layer;
      QLITE_CHECK(shapes == l.input_shapes(),
                  "model '" + name_ + "': shared " + describe(l) + " is called on " + shapes_str(l.input_shapes()) +
                      " and on " + shapes_str(shapes) + "; every call of a shared layer must read the same shapes");
      continue;
    }
    Rng rng(detail::mix_seed(seed, detail::kStreamLayerInit, i));
    nodes_[i].layer->build(shapes, rng);
    // Each layer bounds its own weights before allocating them; the model's
    // total is bounded here, layer by layer, so a file describing many large
    // layers stops at the first one past the limit.
    total_params += nodes_[i].layer->count_params();
    QLITE_CHECK(total_params <= kMaxWeightElements,
                "model '" + name_ + "': its weights would hold more than " + std::to_string(kMaxWeightElements) +
                    " values (2 GiB of float32, the most a .tflite file can hold); " + describe(*nodes_[i].layer) +
                    " brings the total to " + std::to_string(total_params));
  }
  std::vector<Layer*> producers;
  for (size_t i = 0; i < n; ++i) {
    if (nodes_[i].call > 0) continue;  // a shared layer connects to its first call's producers
    producers.clear();
    for (int k : nodes_[i].inputs) producers.push_back(nodes_[k].layer.get());
    nodes_[i].layer->connect_inputs(producers);
  }
  for (size_t i = 0; i + 1 < n; ++i)
    QLITE_CHECK(consumers[i] > 0, "model '" + name_ + "': " + describe(*nodes_[i].layer) +
                                " feeds no later layer; the last layer is the model's only output");
  invalidate_plan();
}

bool Model::is_built() const {
  if (nodes_.empty()) return false;
  for (const Node& n : nodes_)
    if (!n.layer->built()) return false;
  return true;
}

std::vector<Layer*> Model::unique_layers() const {
  std::vector<Layer*> out;
  for (const Node& n : nodes_)
    if (n.call == 0) out.push_back(n.layer.get());
  return out;
}

int Model::num_calls(size_t node) const {
  const Layer* l = nodes_.at(node).layer.get();
  int calls = 0;
  for (const Node& n : nodes_) calls += n.layer.get() == l;
  return calls;
}

Layer* Model::find_layer(const std::string& name) const {
  for (const Node& n : nodes_)
    if (n.layer->name() == name) return n.layer.get();
  return nullptr;
}

const Shape& Model::input_shape() const {
  QLITE_CHECK(!nodes_.empty() && nodes_[0].layer->built(),
        "model '" + name_ + "' is not built; its input shape is not known yet");
  return nodes_[0].layer->output_shape();
}

const Shape& Model::output_shape() const {
  QLITE_CHECK(is_built(), "model '" + name_ + "' is not built; its output shape is not known yet");
  return nodes_.back().layer->output_shape();
}

void Model::compile(std::unique_ptr<Optimizer> optimizer, SparseCategoricalCrossentropy loss) {
  QLITE_CHECK(optimizer != nullptr, "model '" + name_ + "': compile needs an optimizer");
  optimizer_ = std::move(optimizer);
  loss_ = loss;
  invalidate_plan();  // Param::trainable may have changed since the last plan
}

void Model::set_threads(int n) {
  QLITE_CHECK(n >= 1, "model '" + name_ + "': thread count must be >= 1, got " + std::to_string(n));
  if (!rt_) rt_ = std::make_shared<Runtime>();
  if (rt_->threads != n || !rt_->pool) {
    rt_->threads = n;
    rt_->pool = std::make_unique<ThreadPool>(n);
  }
}

int Model::threads() const { return rt_ ? rt_->threads : 1; }

int64_t Model::count_params() const {
  int64_t total = 0;
  for (const Layer* l : unique_layers()) total += l->count_params();
  return total;
}

std::vector<Param*> Model::trainable_params() {
  std::vector<Param*> out;
  for (Layer* l : unique_layers())
    for (Param* p : l->params())
      if (p->trainable) out.push_back(p);
  return out;
}

std::unique_ptr<Model> Model::clone() const { return clone_model(*this); }

Sequential::Sequential(std::initializer_list<LayerPtr> layers, std::string name)
    : Model(std::move(name)) {
  for (const LayerPtr& l : layers) add(l);
}

Sequential& Sequential::add(LayerPtr layer) {
  add_node(std::move(layer));
  return *this;
}

namespace {
// model's graph with each layer replaced by make(layer), called once per
// layer (at its first call), so a shared layer's copy is shared by the same
// calls; not built.
std::unique_ptr<Model> copy_graph(const Model& model, const std::function<LayerPtr(const Layer&)>& make,
                                  const char* who) {
  std::unique_ptr<Model> out;
  if (model.class_name() == "Sequential")
    out = std::make_unique<Sequential>(model.name());
  else
    out = std::make_unique<Model>(model.name());
  std::map<const Layer*, LayerPtr> copies;  // a shared layer is copied once
  for (const Node& n : model.nodes()) {
    LayerPtr& copy = copies[n.layer.get()];
    if (copy == nullptr) {
      copy = make(*n.layer);
      QLITE_CHECK(copy != nullptr, std::string(who) + " returned null for " + describe(*n.layer));
    }
    out->add_node(copy, n.inputs);
  }
  return out;
}
}  // namespace

std::unique_ptr<Model> clone_model(const Model& model,
                                   const std::function<LayerPtr(const Layer&)>& clone_function) {
  std::unique_ptr<Model> out =
      copy_graph(model, clone_function ? clone_function : [](const Layer& l) { return LayerPtr(l.clone()); },
                 "clone_model: clone_function");
  // Copied layers keep their weights; build() only creates those of replacements.
  if (model.is_built()) out->build(0);
  return out;
}

std::unique_ptr<Model> fresh_model_from_config(const Model& model) {
  return copy_graph(
      model, [](const Layer& l) { return layer_from_config(l.type(), l.get_config()); },
      "fresh_model_from_config: layer_from_config");
}

}  // namespace qlite
