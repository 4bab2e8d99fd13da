// quantize_annotate_layer / quantize_annotate_model / quantize_apply /
// quantize_model, and the registration of the QAT layer classes.
#include <mutex>

#include "quant/qat/qat_internal.h"

namespace qlite::quant {
namespace {

// Marks a layer for quantize_apply; otherwise behaves exactly as the layer.
class QuantizeAnnotate final : public Layer {
 public:
  QuantizeAnnotate(LayerPtr inner, QuantizeConfigPtr config)
      : Layer(inner->name()), inner_(std::move(inner)), config_(std::move(config)) {}

  std::string type() const override { return "QuantizeAnnotate"; }
  std::string default_name_stem() const override { return inner_->default_name_stem(); }
  int num_inputs() const override { return inner_->num_inputs(); }
  Shape build(std::span<const Shape> input_shapes, Rng& rng) override {
    inner_->set_name(name());
    const Shape out = inner_->build(input_shapes, rng);
    mark_built(input_shapes, out);
    return out;
  }
  void forward(std::span<const Tensor* const> in, Tensor& out, const RunContext& ctx) override {
    inner_->forward(in, out, ctx);
  }
  void backward(std::span<const Tensor* const> in, const Tensor& out, const Tensor& dout,
                std::span<Tensor* const> din, const RunContext& ctx) override {
    inner_->backward(in, out, dout, din, ctx);
  }
  std::vector<Param*> params() override { return inner_->params(); }
  json get_config() const override {
    json c = {{"name", name()}, {"layer", {{"class_name", inner_->type()}, {"config", inner_->get_config()}}}};
    c["quantize_config"] = config_ ? quantize_config_to_json(*config_) : json(nullptr);
    return c;
  }
  std::unique_ptr<Layer> clone() const override {
    auto c = std::make_unique<QuantizeAnnotate>(LayerPtr(inner_->clone()), config_ ? config_->clone() : nullptr);
    c->set_name(name());
    if (built()) c->mark_built(input_shapes(), output_shape());
    return c;
  }

  // The inner layer, renamed as the annotation (Model may have named it).
  LayerPtr release_inner() const {
    inner_->set_name(name());
    return inner_;
  }
  const QuantizeConfigPtr& config() const { return config_; }
  const Layer& inner() const { return *inner_; }

 private:
  LayerPtr inner_;
  QuantizeConfigPtr config_;
};

json sub(const json& c, const char* key) {
  QLITE_CHECK(c.contains(key), std::string("missing \"") + key + "\"");
  return c.at(key);
}

LayerPtr inner_from(const json& c) {
  const json l = sub(c, "layer");
  QLITE_CHECK(l.is_object() && l.contains("class_name") && l["class_name"].is_string() && l.contains("config"),
        "\"layer\" must be {\"class_name\": ..., \"config\": ...}");
  return layer_from_config(l["class_name"].get<std::string>(), l["config"]);
}

std::string config_name(const json& c) {
  if (!c.contains("name") || c["name"].is_null()) return "";
  QLITE_CHECK(c["name"].is_string(), "\"name\" must be a string");
  return c["name"].get<std::string>();
}

LayerPtr wrapper_from_config(const json& c) {
  std::shared_ptr<QuantizeWrapper> w;
  if (c.contains("batch_norm") && !c["batch_norm"].is_null()) {
    const json b = c["batch_norm"];
    QLITE_CHECK(b.is_object() && b.contains("class_name") && b["class_name"] == "BatchNormalization" &&
                    b.contains("config"),
                "\"batch_norm\" must be {\"class_name\": \"BatchNormalization\", \"config\": ...}");
    QLITE_CHECK(c.contains("freeze_bn_after") && c["freeze_bn_after"].is_number_unsigned() &&
                    c["freeze_bn_after"].get<uint64_t>() <= static_cast<uint64_t>(INT64_MAX),
                "\"freeze_bn_after\" must be a non-negative integer");
    w = std::make_shared<QuantizeWrapper>(inner_from(c), quantize_config_from_json(sub(c, "quantize_config")),
                                          layer_from_config("BatchNormalization", b["config"]),
                                          c["freeze_bn_after"].get<int64_t>());
  } else {
    w = std::make_shared<QuantizeWrapper>(inner_from(c), quantize_config_from_json(sub(c, "quantize_config")));
  }
  const std::string name = config_name(c);
  if (!name.empty()) w->set_name(name);
  return w;
}

LayerPtr quantize_layer_from_config(const json& c) {
  return std::make_shared<QuantizeLayer>(QuantizerSpec::from_json(sub(c, "quantizer")), config_name(c));
}

LayerPtr annotate_from_config(const json& c) {
  QuantizeConfigPtr qc;
  if (c.contains("quantize_config") && !c["quantize_config"].is_null())
    qc = quantize_config_from_json(c["quantize_config"]);
  auto a = std::make_shared<QuantizeAnnotate>(inner_from(c), qc);
  const std::string name = config_name(c);
  if (!name.empty()) a->set_name(name);
  return a;
}

std::unique_ptr<Model> empty_like(const Model& m) {
  if (m.class_name() == "Sequential") return std::make_unique<Sequential>(m.name());
  return std::make_unique<Model>(m.name());
}

// The model as the converter will lower it (rewrite.h: clamps fused into the
// op before them), with the annotations carried over: QAT then puts its
// quantizers exactly on the tensors the file will have. The annotations are
// taken off for the rewrite, which sees plain layers only, and put back on
// the layer each rewritten node keeps.
struct Rewritten {
  std::unique_ptr<Model> model;
  std::vector<LayerPtr> batch_norms;  // per node: a batch norm kept apart (QuantizeOptions::freeze_bn_after)
};

Rewritten rewritten_annotated(const Model& model, const QuantizeOptions& options) {
  std::unique_ptr<Model> src = clone_model(model);
  if (!src->is_built()) src->build(0);
  std::vector<const QuantizeAnnotate*> annotation(src->num_layers(), nullptr);
  for (size_t i = 0; i < src->num_layers(); ++i)
    annotation[i] = dynamic_cast<const QuantizeAnnotate*>(&src->layer(i));
  // clone_model passes each layer once, at its first call (shared layers).
  auto first_calls = [](const Model& m) {
    std::vector<size_t> firsts;
    for (size_t i = 0; i < m.num_layers(); ++i)
      if (m.nodes()[i].call == 0) firsts.push_back(i);
    return firsts;
  };
  const std::vector<size_t> src_firsts = first_calls(*src);
  size_t at = 0;
  std::unique_ptr<Model> plain = clone_model(*src, [&](const Layer& l) -> LayerPtr {
    const QuantizeAnnotate* a = annotation[src_firsts.at(at++)];
    return a ? LayerPtr(a->release_inner()->clone()) : LayerPtr(l.clone());
  });
  RewriteOptions ro;
  // Batch norms after an annotated op train with batch statistics first.
  if (options.freeze_bn_after > 0) ro.keep_batch_norm = [&](int node) { return annotation[static_cast<size_t>(node)] != nullptr; };
  RewrittenModel rw = rewrite_for_lowering(*plain, ro);
  const std::vector<size_t> rw_firsts = first_calls(*rw.model);
  at = 0;
  Rewritten out;
  out.batch_norms = rw.batch_norms;
  out.model = clone_model(*rw.model, [&](const Layer& l) -> LayerPtr {
    const std::vector<int>& from = rw.sources[rw_firsts.at(at++)];
    const QuantizeAnnotate* a = annotation[static_cast<size_t>(from[0])];
    for (int s : from)
      QLITE_CHECK((annotation[static_cast<size_t>(s)] != nullptr) == (a != nullptr),
                  "quantize_apply: " + detail::label(src->layer(static_cast<size_t>(from[0]))) + " and " +
                      detail::label(src->layer(static_cast<size_t>(s))) +
                      " become one TFLite op; annotate both or neither");
    LayerPtr copy(l.clone());
    // An activation the rewrite split off its op (rewrite.h) gets the
    // registry's config, not the op's.
    const bool split_off = a && l.type() != a->inner().type();
    return a ? std::make_shared<QuantizeAnnotate>(std::move(copy),
                                                  a->config() && !split_off ? a->config()->clone() : nullptr)
             : copy;
  });
  return out;
}

// The config each annotated node of `src` is wrapped with: its own, or the
// registry's; then tfmot's ConcatTransform: a producer whose only reader is a
// quantized Concatenate quantizes no output of its own (its config loses the
// output quantizer), and its output takes the Concatenate's range
// (QuantizeWrapper::takes_reader_range), so TFLite's CONCATENATION, which
// wants every int8 input at the output's scale and zero point, is a copy.
// Producers that keep their own range are those read by other layers too,
// those whose quantization is their input's (pass-through) or fixed by TFLite
// (LOGISTIC, TANH, SOFTMAX), the model's output, and those whose output
// quantizer differs from the concat's; the Concatenate requantizes them
// (QUANTIZE int8 -> int8 in the file).
std::vector<QuantizeConfigPtr> wrapper_configs(const Model& src) {
  const std::vector<Node>& nodes = src.nodes();
  const size_t n = nodes.size();
  std::vector<const QuantizeAnnotate*> annotation(n, nullptr);
  std::vector<QuantizeConfigPtr> config(n);
  std::vector<std::vector<int>> readers(n);
  for (size_t j = 0; j < n; ++j) {
    annotation[j] = dynamic_cast<const QuantizeAnnotate*>(nodes[j].layer.get());
    if (annotation[j])
      config[j] = annotation[j]->config() ? annotation[j]->config() : default_quantize_config(annotation[j]->inner());
    for (int k : nodes[j].inputs) {
      auto& r = readers[static_cast<size_t>(k)];
      if (r.empty() || r.back() != static_cast<int>(j)) r.push_back(static_cast<int>(j));
    }
  }
  for (size_t i = 0; i + 1 < n; ++i) {
    if (!config[i] || readers[i].size() != 1 || config[i]->class_name() != "QuantizeConfig") continue;
    const auto j = static_cast<size_t>(readers[i][0]);
    // A shared producer or Concatenate keeps its own ranges: one range per
    // layer cannot be each call's reader's.
    if (src.num_calls(i) > 1 || src.num_calls(j) > 1) continue;
    if (!config[j] || lowered_op(annotation[j]->inner()) != OpKind::kConcatenation) continue;
    const QuantRole role = quant_role(annotation[i]->inner());
    if (role != QuantRole::kWeighted && role != QuantRole::kOutputRange) continue;
    const std::optional<QuantizerSpec> own = config[i]->output_quantizer(), theirs = config[j]->output_quantizer();
    if (!own || !theirs || own->to_json() != theirs->to_json()) continue;
    config[i] = std::make_shared<LayerQuantizeConfig>(config[i]->weight_quantizers(), std::nullopt);
  }
  return config;
}

}  // namespace

void register_qat_layers() {
  static std::once_flag once;
  std::call_once(once, [] {
    register_layer_class("QuantizeWrapper", &wrapper_from_config);
    register_layer_class("QuantizeLayer", &quantize_layer_from_config);
    register_layer_class("QuantizeAnnotate", &annotate_from_config);
  });
}

LayerPtr quantize_annotate_layer(LayerPtr layer, QuantizeConfigPtr config) {
  register_qat_layers();
  QLITE_CHECK(layer != nullptr, "quantize_annotate_layer: null layer");
  QLITE_CHECK(layer->type() != "InputLayer", "quantize_annotate_layer: the InputLayer '" + layer->name() +
                                           "' is not annotated; quantize_apply quantizes the model input itself");
  QLITE_CHECK(layer->type() != "QuantizeAnnotate" && dynamic_cast<const QuantizedLayer*>(layer.get()) == nullptr,
        "quantize_annotate_layer: " + detail::label(*layer) + " is already annotated or quantized");
  return std::make_shared<QuantizeAnnotate>(std::move(layer), std::move(config));
}

const Layer* annotated_layer(const Layer& layer) {
  const auto* a = dynamic_cast<const QuantizeAnnotate*>(&layer);
  return a ? &a->inner() : nullptr;
}

QuantizeConfigPtr annotation_config(const Layer& layer) {
  const auto* a = dynamic_cast<const QuantizeAnnotate*>(&layer);
  return a ? a->config() : nullptr;
}

std::unique_ptr<Model> quantize_annotate_model(const Model& model) {
  register_qat_layers();
  return clone_model(model, [](const Layer& l) -> LayerPtr {
    LayerPtr copy(l.clone());
    if (l.type() == "InputLayer" || l.type() == "QuantizeAnnotate") return copy;
    return quantize_annotate_layer(std::move(copy));
  });
}

std::unique_ptr<Model> quantize_apply(const Model& model) { return quantize_apply(model, QuantizeOptions{}); }

std::unique_ptr<Model> quantize_apply(const Model& model, const QuantizeOptions& options) {
  register_qat_layers();
  QLITE_CHECK(options.freeze_bn_after >= 0, "quantize_apply: freeze_bn_after must be >= 0, not " +
                                                std::to_string(options.freeze_bn_after));
  Rewritten rw = rewritten_annotated(model, options);  // `model` is never touched
  std::unique_ptr<Model> src = std::move(rw.model);
  const std::vector<Node>& nodes = src->nodes();
  std::unique_ptr<Model> out = empty_like(model);
  std::vector<int> where(nodes.size(), -1);       // source node -> node in `out`
  std::vector<char> quantized(nodes.size(), 0);   // the node's output holds quantized values
  std::vector<int> quantize_of(nodes.size(), -1); // QuantizeLayer inserted after a float node
  const std::vector<QuantizeConfigPtr> configs = wrapper_configs(*src);
  bool any = false;
  for (size_t i = 0; i < nodes.size(); ++i) {
    const Layer& l = *nodes[i].layer;
    QLITE_CHECK(dynamic_cast<const QuantizedLayer*>(&l) == nullptr,
          "quantize_apply: model '" + model.name() + "' is already quantized (" + detail::label(l) + ")");
    const auto* a = dynamic_cast<const QuantizeAnnotate*>(&l);
    std::vector<int> inputs;
    for (int k : nodes[i].inputs) {
      int from = where[static_cast<size_t>(k)];
      if (a && !quantized[static_cast<size_t>(k)]) {
        // tfmot: a QuantizeLayer in front of a quantized region whose input is float.
        if (quantize_of[static_cast<size_t>(k)] < 0)
          quantize_of[static_cast<size_t>(k)] = out->add_node(std::make_shared<QuantizeLayer>(), {from});
        from = quantize_of[static_cast<size_t>(k)];
      }
      inputs.push_back(from);
    }
    if (a && nodes[i].call > 0) {  // a shared layer's later call: the wrapper its first call made
      LayerPtr wrapper;
      for (size_t k = 0; k < i && !wrapper; ++k)
        if (nodes[k].layer == nodes[i].layer) wrapper = out->nodes()[static_cast<size_t>(where[k])].layer;
      where[i] = out->add_node(wrapper, inputs);
      quantized[i] = 1;
    } else if (a) {
      where[i] = out->add_node(
          rw.batch_norms[i] ? std::make_shared<QuantizeWrapper>(a->release_inner(), configs[i], rw.batch_norms[i],
                                                                options.freeze_bn_after)
                            : std::make_shared<QuantizeWrapper>(a->release_inner(), configs[i]),
          inputs);
      quantized[i] = 1;
      any = true;
    } else {
      where[i] = out->add_node(nodes[i].layer, inputs);
    }
  }
  QLITE_CHECK(any, "quantize_apply: model '" + model.name() +
                 "' has no annotated layer; annotate layers with quantize_annotate_layer or use quantize_model");
  out->build(0);
  return out;
}

std::unique_ptr<Model> quantize_model(const Model& model) {
  return quantize_apply(*quantize_annotate_model(model));
}

std::unique_ptr<Model> quantize_model(const Model& model, const QuantizeOptions& options) {
  return quantize_apply(*quantize_annotate_model(model), options);
}

}  // namespace qlite::quant
