// The shared graph rewrite (rewrite.h).
#include "qlite/train/rewrite.h"

#include "qlite/train/layer_kind.h"

namespace qlite {
namespace {

// The readers of every node.
std::vector<std::vector<int>> readers_of(const Model& m) {
  std::vector<std::vector<int>> r(m.num_layers());
  for (size_t j = 0; j < m.num_layers(); ++j)
    for (int k : m.nodes()[j].inputs) r[static_cast<size_t>(k)].push_back(static_cast<int>(j));
  return r;
}

// The one reader of node i, when it has exactly one and i is not the output.
std::optional<int> only_reader(const Model& m, const std::vector<std::vector<int>>& readers, int i) {
  if (static_cast<size_t>(i) + 1 == m.num_layers()) return std::nullopt;  // the model's output
  const auto& r = readers[static_cast<size_t>(i)];
  if (r.size() != 1 || m.nodes()[static_cast<size_t>(r[0])].inputs.size() != 1) return std::nullopt;
  return r[0];
}

// A copy of `layer` with `activation` fused, and its weights.
LayerPtr with_activation(const Layer& layer, Activation activation) {
  json c = layer.get_config();
  c["activation"] = activation_name(activation);
  LayerPtr out = layer_from_config(layer.type(), c);
  out->set_name(layer.name());
  return out;
}

void copy_params(const Layer& from, Layer& to) {
  const std::vector<const Param*> src = from.params();
  for (Param* p : to.params())
    for (const Param* s : src)
      if (s->name == p->name) {
        check(s->value.shape() == p->value.shape(),
              "rewrite: param '" + p->name + "' of '" + from.name() + "' changed shape");
        p->value = s->value;
      }
}

}  // namespace

RewrittenModel rewrite_for_lowering(const Model& model) {
  check(model.is_built(), "rewrite: model '" + model.name() + "' is not built");
  const auto readers = readers_of(model);
  const size_t n = model.num_layers();
  RewrittenModel rw;
  rw.model = model.class_name() == "Sequential" ? std::make_unique<Sequential>(model.name())
                                                : std::make_unique<Model>(model.name());
  std::vector<int> where(n, -1);   // source node -> node of the rewritten model
  std::vector<LayerPtr> replaced;  // per rewritten node: the source layer whose weights it takes, or null
  for (size_t i = 0; i < n; ++i) {
    if (where[i] >= 0) continue;  // absorbed into an earlier node
    const Node& node = model.nodes()[i];
    std::vector<int> chain{static_cast<int>(i)};
    LayerPtr layer = node.layer;
    const LayerKind* kind = find_layer_kind(layer->type());
    bool changed = false;
    if (kind != nullptr && kind->fuses_activation && kind->op_spec(*layer).activation == Activation::kLinear) {
      if (const std::optional<int> r = only_reader(model, readers, chain.back())) {
        const Layer& clamp = model.layer(static_cast<size_t>(*r));
        const LayerKind* ck = find_layer_kind(clamp.type());
        if (ck != nullptr && ck->as_fused_activation != nullptr) {
          if (const std::optional<Activation> a = ck->as_fused_activation(clamp)) {
            layer = with_activation(*layer, *a);
            chain.push_back(*r);
            changed = true;
          }
        }
      }
    }
    std::vector<int> inputs;
    for (int k : node.inputs) inputs.push_back(where[static_cast<size_t>(k)]);
    const int at = rw.model->add_node(changed ? layer : LayerPtr(layer->clone()), inputs);
    for (int c : chain) where[static_cast<size_t>(c)] = at;
    rw.sources.push_back(chain);
    replaced.push_back(changed ? node.layer : nullptr);
  }
  rw.model->build(0);
  for (size_t j = 0; j < replaced.size(); ++j)
    if (replaced[j]) copy_params(*replaced[j], rw.model->layer(j));
  return rw;
}

}  // namespace qlite
