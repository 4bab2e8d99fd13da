// The shared graph rewrite (rewrite.h).
#include "qlite/train/rewrite.h"

#include <map>
#include <set>

#include "qlite/train/layer_kind.h"
#include "qlite/train/layers.h"

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

// A rewritten node: the config its layer is made from and the weights it
// gets once built.
struct Unit {
  json config;
  std::map<std::string, Tensor> weights;
  bool frozen = false;  // its weights are not trained (made from a layer without trainable ones)
};

Unit unit_of(const Layer& layer) {
  Unit u{layer.get_config(), {}};
  for (const Param* p : layer.params()) u.weights[p->name] = p->value;
  return u;
}

// Folds y = scale * z + offset (per output channel, as the record says:
// element i of the weight belongs to channel i % channels) into the weights
// of the op producing z: kernel * scale and bias * scale + offset, as the
// TFLite converter folds batch normalization.
void fold_affine(Unit& u, const LayerKind& kind, const ChannelAffine& a, const std::string& who) {
  Tensor& k = u.weights.at(kind.weight);
  const int64_t c = weight_output_channels(kind, k.shape());
  check(static_cast<int64_t>(a.scale.size()) == c && a.offset.size() == a.scale.size(),
        "rewrite: " + who + " has " + std::to_string(c) + " output channels, the affine layer after it " +
            std::to_string(a.scale.size()));
  for (int64_t i = 0; i < k.numel(); ++i) k.f32()[i] *= a.scale[static_cast<size_t>(i % c)];
  Tensor bias({c});
  const auto it = u.weights.find("bias");
  for (int64_t i = 0; i < c; ++i)
    bias.f32()[i] = (it != u.weights.end() ? it->second.f32()[i] * a.scale[static_cast<size_t>(i)] : 0.0f) +
                    a.offset[static_cast<size_t>(i)];
  u.weights["bias"] = std::move(bias);
  u.config["use_bias"] = true;
}

// The batch norm kept apart from the op (RewriteOptions::keep_batch_norm): a
// clone whose moving mean takes the op's bias, the op with a zero bias.
LayerPtr keep_batch_norm(Unit& u, const LayerKind& kind, const Layer& bn, const std::string& who) {
  const Tensor& k = u.weights.at(kind.weight);
  const int64_t c = weight_output_channels(kind, k.shape());
  LayerPtr kept(bn.clone());
  Param* mean = nullptr;
  for (Param* p : kept->params())
    if (p->name == "moving_mean") mean = p;
  check(mean != nullptr && mean->value.numel() == c,
        "rewrite: " + who + " has " + std::to_string(c) + " output channels, the batch norm after it does not");
  const auto it = u.weights.find("bias");
  if (it != u.weights.end())
    for (int64_t i = 0; i < c; ++i) mean->value.f32()[i] -= it->second.f32()[i];
  u.weights["bias"] = Tensor({c});  // zeros
  u.config["use_bias"] = true;
  return kept;
}

void set_weights(Layer& layer, const std::map<std::string, Tensor>& weights) {
  for (Param* p : layer.params()) {
    const auto it = weights.find(p->name);
    check(it != weights.end(), "rewrite: no value for param '" + p->name + "' of '" + layer.name() + "'");
    check(it->second.shape() == p->value.shape(),
          "rewrite: param '" + p->name + "' of '" + layer.name() + "' changed shape");
    p->value = it->second;
  }
}

}  // namespace

RewrittenModel rewrite_for_lowering(const Model& model, const RewriteOptions& options) {
  check(model.is_built(), "rewrite: model '" + model.name() + "' is not built");
  const auto readers = readers_of(model);
  const size_t n = model.num_layers();
  RewrittenModel rw;
  rw.model = model.class_name() == "Sequential" ? std::make_unique<Sequential>(model.name())
                                                : std::make_unique<Model>(model.name());
  std::set<std::string> names;
  for (size_t i = 0; i < n; ++i) names.insert(model.layer(i).name());
  // A name no layer of the source has (nor an earlier split): stem, stem_1, ...
  auto unused_name = [&names](const std::string& stem) {
    std::string name = stem;
    for (int k = 1; names.count(name); ++k) name = stem + "_" + std::to_string(k);
    names.insert(name);
    return name;
  };
  std::vector<int> where(n, -1);   // source node -> node of the rewritten model
  std::vector<std::optional<Unit>> units;  // per rewritten node: its new weights, when it changed
  // A pattern at node i: the nodes it takes in (i first), the batch norm it
  // folds and the clamp it fuses; no side effects.
  struct Pattern {
    std::vector<int> chain;
    const Layer* bn = nullptr;
    std::optional<Activation> clamp;
    // The head is a per-channel affine layer (BatchNormalization, channels
    // last) that no op before it absorbs: it becomes a 1x1 DepthwiseConv2D
    // (kernel = scale, bias = offset), which may fuse a clamp. A sample of
    // any rank but 3 is seen as [1, P, C] (P the product of its other
    // dimensions: 1 for [C], T for [T, C]) through a Reshape on each side.
    bool affine_op = false;
    bool same_as(const Pattern& o) const {
      return chain.size() == o.chain.size() && bn == o.bn && clamp == o.clamp && affine_op == o.affine_op;
    }
  };
  auto pattern_at = [&](size_t i) {
    const Layer& layer = *model.nodes()[i].layer;
    const LayerKind* kind = find_layer_kind(layer.type());
    Pattern p{{static_cast<int>(i)}, nullptr, std::nullopt};
    // The one reader of the chain's end, when there is one.
    auto next = [&]() -> std::optional<int> { return only_reader(model, readers, p.chain.back()); };
    const bool linear = kind != nullptr && kind->op_spec != nullptr &&
                        kind->op_spec(layer).activation == Activation::kLinear;
    p.affine_op = kind != nullptr && kind->as_channel_affine != nullptr && layer.input_shapes().size() == 1 &&
                  !layer.input_shapes()[0].empty() &&
                  kind->as_channel_affine(layer).has_value();
    if (linear && kind->folds_batch_norm) {  // Conv2D / DepthwiseConv2D / Dense -> BatchNormalization
      if (const std::optional<int> r = next()) {
        const Layer& bn = model.layer(static_cast<size_t>(*r));
        const LayerKind* bk = find_layer_kind(bn.type());
        if (bk != nullptr && bk->as_channel_affine != nullptr && bk->as_channel_affine(bn)) {
          p.bn = &bn;
          p.chain.push_back(*r);
        }
      }
    }
    if ((linear && kind->fuses_activation) || p.affine_op) {  // ... -> ReLU / ReLU(6) / Activation
      if (const std::optional<int> r = next()) {
        const Layer& clamp = model.layer(static_cast<size_t>(*r));
        const LayerKind* ck = find_layer_kind(clamp.type());
        if (ck != nullptr && ck->as_fused_activation != nullptr)
          if (const std::optional<Activation> a = ck->as_fused_activation(clamp)) {
            p.clamp = a;
            p.chain.push_back(*r);
          }
      }
    }
    return p;
  };
  // A shared layer (called more than once) keeps one set of weights, so a
  // pattern applies to it only when every call has the same one (the same
  // batch norm object, the same clamp); a batch norm that would fold into
  // some calls only cannot be exact and is refused. A batch norm folded into
  // an unshared op may itself be shared (its moving statistics fold into
  // each op alike), except when kept apart to train with batch statistics.
  std::vector<int> calls(n, 0);
  for (size_t i = 0; i < n; ++i)
    for (size_t k = 0; k < n; ++k) calls[i] += model.nodes()[k].layer == model.nodes()[i].layer;
  std::vector<Pattern> patterns(n);
  for (size_t i = 0; i < n; ++i) patterns[i] = pattern_at(i);
  for (size_t i = 0; i < n; ++i) {
    if (calls[i] < 2 || model.nodes()[i].call != 0) continue;
    const Layer& l = *model.nodes()[i].layer;
    bool same = true, any_bn = false;
    for (size_t k = 0; k < n; ++k) {
      if (model.nodes()[k].layer.get() != &l) continue;
      same = same && patterns[k].same_as(patterns[i]);
      any_bn = any_bn || patterns[k].bn != nullptr;
    }
    if (!same && any_bn)
      throw Error("rewrite: shared " + l.type() + " '" + l.name() + "' (called " + std::to_string(calls[i]) +
                  " times) is followed by a batch norm in some calls only; it cannot fold into one set of weights");
    if (!same)
      for (size_t k = 0; k < n; ++k)
        if (model.nodes()[k].layer.get() == &l) patterns[k] = Pattern{{static_cast<int>(k)}, nullptr, std::nullopt};
  }
  // A shared layer's rewritten layer, made at its first call that is not
  // absorbed (a shared clamp or batch norm may be absorbed in some calls).
  std::map<const Layer*, LayerPtr> shared_copy;
  std::map<const Layer*, LayerPtr> shared_bn;    // the batch norm kept apart for a shared op
  for (size_t i = 0; i < n; ++i) {
    if (where[i] >= 0) continue;  // absorbed into an earlier node
    const Node& node = model.nodes()[i];
    const Pattern& pat = patterns[i];
    std::vector<int> chain = pat.chain;
    LayerPtr layer = node.layer;
    const LayerKind* kind = find_layer_kind(layer->type());
    std::optional<Unit> unit;
    LayerPtr kept_bn;
    const bool shared = calls[i] > 1;
    const bool later_call = shared && shared_copy.count(node.layer.get()) > 0;
    std::string type = node.layer->type();
    // A sample of rank other than 3 through the 1x1 depthwise: its shape
    // (restored after it) and the [1, P, C] it is seen as; else empty.
    Shape affine_sample, affine_hwc;
    if (pat.affine_op && node.layer->input_shapes()[0].size() != 3) {
      affine_sample = node.layer->input_shapes()[0];
      int64_t p = 1;
      for (size_t d = 0; d + 1 < affine_sample.size(); ++d) p *= affine_sample[d];
      affine_hwc = {1, p, affine_sample.back()};
    }
    if (pat.affine_op && !later_call) {
      const ChannelAffine a = *kind->as_channel_affine(*layer);
      const auto c = static_cast<int64_t>(a.scale.size());
      check(c == layer->input_shapes()[0].back() && a.offset.size() == a.scale.size(),
            "rewrite: " + layer->type() + " '" + layer->name() + "' has " + std::to_string(c) +
                " channels, its input " + std::to_string(layer->input_shapes()[0].back()));
      type = "DepthwiseConv2D";
      kind = find_layer_kind(type);
      check(kind != nullptr && kind->weight == "depthwise_kernel", "rewrite: no DepthwiseConv2D record");
      unit = Unit{layers::DepthwiseConv2D({1, 1}, {.name = layer->name()})->get_config(), {}};
      Tensor k({1, 1, c, 1}), b({c});
      std::copy(a.scale.begin(), a.scale.end(), k.f32());
      std::copy(a.offset.begin(), a.offset.end(), b.f32());
      unit->weights[kind->weight] = std::move(k);
      unit->weights["bias"] = std::move(b);
      bool trainable = false;
      for (const Param* q : layer->params()) trainable = trainable || q->trainable;
      unit->frozen = !trainable;  // Rescaling: QAT keeps its scale and offset
    }
    if (pat.bn != nullptr && !later_call) {
      unit = unit_of(*layer);
      const LayerKind* bk = find_layer_kind(pat.bn->type());
      if (bk->batch_statistics && options.keep_batch_norm && options.keep_batch_norm(static_cast<int>(i))) {
        // Its step count would advance once per call, and a shared batch
        // norm would fold into several ops: not what freeze_bn_after means.
        if (shared || calls[static_cast<size_t>(pat.chain[1])] > 1)
          throw Error("rewrite: " + layer->type() + " '" + layer->name() + "' and BatchNormalization '" +
                      pat.bn->name() + "': a shared layer cannot train its batch norm with batch statistics "
                      "(freeze_bn_after); convert it with the batch norm frozen");
        kept_bn = keep_batch_norm(*unit, *kind, *pat.bn, layer->type() + " '" + layer->name() + "'");
      } else {
        fold_affine(*unit, *kind, *bk->as_channel_affine(*pat.bn), layer->type() + " '" + layer->name() + "'");
      }
    }
    if (pat.clamp && !later_call) {
      if (!unit) unit = unit_of(*layer);
      unit->config["activation"] = activation_name(*pat.clamp);
    }
    // An activation TFLite has no fused form of (sigmoid, softmax, tanh,
    // hard_swish) becomes an Activation layer of its own after the op.
    std::optional<Activation> split;
    if (chain.size() == 1 && !pat.affine_op && kind != nullptr && kind->fuses_activation && kind->op_spec != nullptr) {
      const Activation a = kind->op_spec(*layer).activation;
      if (!activation_fusable(a)) {
        split = a;
        if (!later_call) {
          unit = unit_of(*layer);
          unit->config["activation"] = activation_name(Activation::kLinear);
        }
      }
    }
    const bool changed = unit.has_value();
    if (changed) {
      layer = layer_from_config(type, unit->config);
      layer->set_name(node.layer->name());
    } else if (!later_call) {
      layer = LayerPtr(layer->clone());
    }
    if (shared) {
      if (later_call) {
        layer = shared_copy.at(node.layer.get());
        kept_bn = shared_bn[node.layer.get()];
      } else {
        shared_copy[node.layer.get()] = layer;
        shared_bn[node.layer.get()] = kept_bn;
      }
    }
    std::vector<int> inputs;
    for (int k : node.inputs) inputs.push_back(where[static_cast<size_t>(k)]);
    // A node the rewrite adds around the source's (no weights of its own).
    auto add_plain = [&](LayerPtr l, std::vector<int> in) {
      const int a = rw.model->add_node(std::move(l), std::move(in));
      rw.sources.push_back(chain);
      rw.batch_norms.emplace_back();
      units.emplace_back();
      return a;
    };
    if (!affine_hwc.empty())
      inputs = {add_plain(layers::Reshape(affine_hwc, unused_name(node.layer->name() + "_hwc")), inputs)};
    int at = rw.model->add_node(layer, inputs);
    rw.sources.push_back(chain);
    rw.batch_norms.push_back(std::move(kept_bn));
    units.push_back(std::move(unit));
    if (split)
      at = add_plain(layers::ActivationLayer(*split, unused_name(node.layer->name() + "_" + activation_name(*split))),
                     {at});
    if (!affine_hwc.empty())
      at = add_plain(layers::Reshape(affine_sample, unused_name(node.layer->name() + "_flat")), {at});
    for (int c : chain) where[static_cast<size_t>(c)] = at;
  }
  rw.model->build(0);
  for (size_t j = 0; j < units.size(); ++j) {
    if (!units[j]) continue;
    set_weights(rw.model->layer(j), units[j]->weights);
    if (units[j]->frozen)
      for (Param* p : rw.model->layer(j).params()) p->trainable = false;
  }
  return rw;
}

}  // namespace qlite
