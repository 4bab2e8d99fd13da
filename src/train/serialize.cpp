// model.json (architecture, Keras to_json style) and model.safetensors
// (weights), written atomically and validated on load.
#include <cerrno>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <set>

#include "qlite/fileio.h"
#include "qlite/train/model.h"
#include "train/model_json.h"
#include "train/safetensors.h"

namespace qlite {

namespace {

namespace fs = std::filesystem;

constexpr const char* kVersion = "0.1.0";
constexpr const char* kJsonName = "model.json";
constexpr const char* kWeightsName = "model.safetensors";
constexpr const char* kOptimizerName = "optimizer.safetensors";
constexpr uintmax_t kMaxJsonBytes = 64u << 20;

// Bounded, and only regular files: a directory or device named model.json is refused.
std::vector<std::byte> read_file(const fs::path& path, uintmax_t max_bytes) {
  const std::vector<uint8_t> bytes = read_file_bounded(path.string(), max_bytes, "");
  const auto* p = reinterpret_cast<const std::byte*>(bytes.data());
  return std::vector<std::byte>(p, p + bytes.size());
}

std::string param_key(const Layer& l, const Param& p) { return l.name() + "/" + p.name; }

// One entry per call of the node's layer, in node order; a reference names
// the producer and which of its calls it reads (Keras' node_index).
json inbound(const Model& m, const Node& first) {
  json calls = json::array();
  for (const Node& n : m.nodes()) {
    if (n.layer != first.layer || n.inputs.empty()) continue;
    json refs = json::array();
    for (int k : n.inputs) {
      const Node& from = m.nodes()[static_cast<size_t>(k)];
      refs.push_back({from.layer->name(), from.call, 0, json::object()});
    }
    calls.push_back(std::move(refs));
  }
  return calls;
}

const json& field(const json& obj, const char* key, const std::string& where) {
  check(obj.contains(key), where + ": missing '" + key + "'");
  return obj[key];
}

}  // namespace

json Model::to_json() const {
  json layers = json::array();
  for (const Node& n : nodes_) {
    if (n.call > 0) continue;  // a shared layer is written once, with all its calls
    layers.push_back({{"class_name", n.layer->type()},
                      {"name", n.layer->name()},
                      {"config", n.layer->get_config()},
                      {"inbound_nodes", inbound(*this, n)}});
  }
  json config = {{"name", name_}, {"layers", layers}};
  // With shared layers, calls alone do not fix the node order (a later call
  // may be ready before layers listed ahead of it), and the order decides
  // the summation order of a shared layer's gradient: qlite's own key lists
  // every node as [layer name, node_index], so that a load rebuilds this
  // order exactly and resumed training stays bit-identical.
  bool shared = false;
  for (const Node& n : nodes_) shared = shared || n.call > 0;
  if (shared && class_name() != "Sequential") {
    json order = json::array();
    for (const Node& n : nodes_) order.push_back(json::array({n.layer->name(), n.call}));
    config["qlite_node_order"] = std::move(order);
  }
  if (class_name() != "Sequential" && !nodes_.empty()) {
    config["input_layers"] = json::array({json::array({nodes_.front().layer->name(), 0, 0})});
    config["output_layers"] = json::array({json::array({nodes_.back().layer->name(), nodes_.back().call, 0})});
  }
  return {{"class_name", class_name()}, {"config", config}, {"qlite_version", kVersion}};
}

std::unique_ptr<Model> model_from_json(const json& j) {
  check(j.is_object(), "model JSON must be an object");
  const json& cls = field(j, "class_name", "model JSON");
  check(cls.is_string() && (cls == "Sequential" || cls == "Functional"),
        "model JSON: 'class_name' must be \"Sequential\" or \"Functional\"");
  const json& config = field(j, "config", "model JSON");
  check(config.is_object(), "model JSON: 'config' must be an object");
  const json& name = field(config, "name", "model JSON config");
  check(name.is_string(), "model JSON config: 'name' must be a string");
  const json& layers = field(config, "layers", "model JSON config");
  check(layers.is_array() && !layers.empty(), "model JSON config: 'layers' must be a non-empty array");

  std::unique_ptr<Model> model;
  if (cls == "Sequential")
    model = std::make_unique<Sequential>(name.get<std::string>());
  else
    model = std::make_unique<Model>(name.get<std::string>());
  // Every layer first, with its calls (one per inbound_nodes entry) as
  // references (layer name, node_index); then the calls become nodes, each
  // once everything it reads is a node. A shared layer's later call may read
  // a layer listed after it, so the calls are taken in passes over the list;
  // a pass that adds nothing leaves calls that wait on each other: a cycle.
  struct Ref {
    std::string layer;
    int64_t node_index = 0;
  };
  struct Entry {
    LayerPtr layer;
    std::string where;
    std::vector<std::vector<Ref>> calls;  // empty for the InputLayer and Sequential layers
    size_t added = 0;                     // calls already nodes
  };
  std::vector<Entry> entries;
  std::map<std::string, size_t> entry_of;  // layer name -> entry
  for (size_t i = 0; i < layers.size(); ++i) {
    const json& l = layers[i];
    const std::string where = "model JSON layer " + std::to_string(i);
    check(l.is_object(), where + ": must be an object");
    const json& lcls = field(l, "class_name", where);
    check(lcls.is_string(), where + ": 'class_name' must be a string");
    const json& lconf = field(l, "config", where);
    check(lconf.is_object(), where + " (" + lcls.get<std::string>() + "): 'config' must be an object");
    LayerPtr layer;
    try {
      layer = layer_from_config(lcls.get<std::string>(), lconf);
    } catch (const json::exception& e) {
      throw Error(where + " (" + lcls.get<std::string>() + "): invalid config: " + e.what());
    }
    check(layer != nullptr, where + ": layer_from_config returned null");
    Entry e{layer, where + " ('" + layer->name() + "')", {}, 0};
    if (l.contains("inbound_nodes")) {
      const json& in = l["inbound_nodes"];
      check(in.is_array(), where + ": 'inbound_nodes' must be an array");
      check(cls != "Sequential" || in.size() <= 1,
            where + ": a Sequential model's layer has at most one inbound node");
      for (const json& call : in) {
        check(call.is_array() && !call.empty(), where + ": each inbound node must be a non-empty array");
        std::vector<Ref> refs;
        for (const json& ref : call) {
          check(ref.is_array() && !ref.empty() && ref[0].is_string(),
                where + ": each inbound reference must be [\"layer name\", node_index, ...]");
          Ref r{ref[0].get<std::string>(), 0};
          if (ref.size() > 1) {
            check(ref[1].is_number_integer() && ref[1].get<int64_t>() >= 0,
                  where + ": the node_index reading '" + r.layer + "' must be a non-negative integer");
            r.node_index = ref[1].get<int64_t>();
          }
          refs.push_back(std::move(r));
        }
        e.calls.push_back(std::move(refs));
      }
      check(i > 0 || e.calls.empty(), where + ": the InputLayer must have no inbound nodes");
      check(i == 0 || !e.calls.empty(), where + ": has no inbound nodes");
    } else {
      check(cls == "Sequential", where + ": a Functional model's layers need 'inbound_nodes'");
    }
    // A repeated name is add_node's error (names are unique), raised below.
    entry_of.emplace(layer->name(), entries.size());
    entries.push_back(std::move(e));
  }
  // Every reference names a layer of the file and one of its calls.
  for (const Entry& e : entries)
    for (const auto& call : e.calls)
      for (const Ref& r : call) {
        auto it = entry_of.find(r.layer);
        check(it != entry_of.end(), e.where + ": reads layer '" + r.layer + "', which the model does not have");
        const Entry& from = entries[it->second];
        const size_t calls = std::max<size_t>(1, from.calls.size());
        check(static_cast<uint64_t>(r.node_index) < calls,
              e.where + ": reads node " + std::to_string(r.node_index) + " of layer '" + r.layer + "', which has " +
                  std::to_string(calls) + " node(s)");
      }
  std::map<std::pair<std::string, int64_t>, int> node_of;  // (layer, node_index) -> node
  size_t pending = 0;
  for (const Entry& e : entries) pending += std::max<size_t>(1, e.calls.size());
  // Call k of entry e becomes a node when everything it reads is one.
  auto add_call = [&](Entry& e) {
    std::vector<int> inputs;
    if (!e.calls.empty())
      for (const Ref& r : e.calls[e.added]) {
        auto it = node_of.find({r.layer, r.node_index});
        if (it == node_of.end()) return false;
        inputs.push_back(it->second);
      }
    // Only the file's first layer (the InputLayer) may go first.
    if (node_of.empty() && &e != &entries.front()) return false;
    const int idx = model->add_node(e.layer, inputs);
    node_of[{e.layer->name(), static_cast<int64_t>(e.added)}] = idx;
    ++e.added;
    --pending;
    return true;
  };
  if (config.contains("qlite_node_order")) {
    // The saved order (see to_json): each layer's calls in turn, each one
    // ready when its turn comes.
    const json& order = config["qlite_node_order"];
    const std::string where = "model JSON config 'qlite_node_order'";
    check(order.is_array() && order.size() == pending,
          where + ": must be an array of the model's " + std::to_string(pending) + " nodes");
    for (size_t k = 0; k < order.size(); ++k) {
      const json& o = order[k];
      check(o.is_array() && o.size() == 2 && o[0].is_string() && o[1].is_number_integer(),
            where + ": entry " + std::to_string(k) + " must be [\"layer name\", node_index]");
      auto it = entry_of.find(o[0].get<std::string>());
      check(it != entry_of.end(), where + ": entry " + std::to_string(k) + " names layer '" +
                                      o[0].get<std::string>() + "', which the model does not have");
      Entry& e = entries[it->second];
      check(e.added < std::max<size_t>(1, e.calls.size()),
            where + ": entry " + std::to_string(k) + " names more nodes of '" + e.layer->name() + "' than it has");
      check(o[1].get<int64_t>() == static_cast<int64_t>(e.added),
            where + ": entry " + std::to_string(k) + " is node " + o[1].dump() + " of '" + e.layer->name() +
                "', but its next node is " + std::to_string(e.added));
      check(add_call(e), where + ": entry " + std::to_string(k) + " ('" + e.layer->name() + "' node " +
                             o[1].dump() + ") comes before a node it reads");
    }
  }
  while (pending > 0) {
    bool progress = false;
    for (Entry& e : entries) {
      const size_t total = std::max<size_t>(1, e.calls.size());
      while (e.added < total && add_call(e)) progress = true;
    }
    if (!progress) {
      std::string waiting;
      for (const Entry& e : entries)
        if (e.added < std::max<size_t>(1, e.calls.size()))
          waiting += (waiting.empty() ? "'" : ", '") + e.layer->name() + "' node " + std::to_string(e.added);
      throw Error("model JSON: inbound nodes form a cycle; these nodes wait on each other: " + waiting);
    }
  }
  model->build(0);
  return model;
}

void stage_model(const Model& model, const std::string& dir, StagedFiles& staging) {
  check(model.is_built(), "save_model: model '" + model.name() + "' is not built");
  check_finite_params(model, "save_model: refusing to save " + dir);
  std::error_code ec;
  check(!fs::exists(dir, ec) || fs::is_directory(dir, ec), "save_model: " + dir + " exists and is not a directory");

  json j = model.to_json();
  if (model.compiled()) {
    j["training_config"] = {
        {"loss", {{"class_name", "SparseCategoricalCrossentropy"},
                  {"config", {{"from_logits", model.loss().from_logits}}}}},
        {"optimizer_config", optimizer_to_config(*model.optimizer())}};
  }
  std::vector<char> optimizer_file;
  if (model.compiled()) {
    // The training state: what a continued run needs to match an uninterrupted one.
    const OptimizerState st = model.optimizer()->state();
    const std::vector<std::string> slot_names = model.optimizer()->slot_names();
    json& tc = j["training_config"];
    tc["optimizer_state"] = {{"iterations", st.iterations}, {"slots", kOptimizerName}};
    tc["epochs_trained"] = model.epochs_trained();
    json layer_state = json::object();
    for (const Layer* l : model.unique_layers())
      if (json ls = l->training_state(); !ls.is_null()) layer_state[l->name()] = ls;
    if (!layer_state.empty()) tc["layer_state"] = layer_state;
    std::vector<safetensors::TensorRef> slots;
    if (!st.slots.empty()) {
      size_t i = 0;
      for (const Layer* l : model.unique_layers())
        for (const Param* p : l->params()) {
          if (!p->trainable) continue;
          for (const std::string& slot : slot_names) {
            check(i < st.slots.size(), "save_model: the optimizer has fewer slots than the model's trainable params");
            const Tensor& t = st.slots[i++];
            check(t.shape() == p->value.shape(), "save_model: optimizer slot '" + slot + "' of '" +
                                                     param_key(*l, *p) + "' does not match its parameter");
            slots.push_back({param_key(*l, *p) + "/" + slot, t.dtype(), t.shape(), &t});
          }
        }
      check(i == st.slots.size(), "save_model: the optimizer has more slots than the model's trainable params");
    }
    optimizer_file = safetensors::serialize(
        slots, {{"format", "qlite"}, {"qlite_version", kVersion}, {"optimizer", model.optimizer()->name()}});
  }
  const std::string text = j.dump(2) + "\n";

  std::vector<safetensors::TensorRef> refs;
  for (const Layer* l : model.unique_layers())
    for (const Param* p : l->params())
      refs.push_back({param_key(*l, *p), p->value.dtype(), p->value.shape(), &p->value});
  const std::vector<char> weights =
      safetensors::serialize(refs, {{"format", "qlite"}, {"qlite_version", kVersion}});

  // Both files are complete on disk before either is renamed into place.
  staging.add((fs::path(dir) / kWeightsName).string(), std::string_view(weights.data(), weights.size()));
  if (model.compiled())
    staging.add((fs::path(dir) / kOptimizerName).string(), std::string_view(optimizer_file.data(), optimizer_file.size()));
  staging.add((fs::path(dir) / kJsonName).string(), text);
}

void save_model(const Model& model, const std::string& dir) {
  // A missing parent is created (a new model directory itself appears only
  // on commit, complete).
  const fs::path parent = fs::path(dir).lexically_normal().parent_path();
  std::error_code ec;
  if (!parent.empty() && !fs::exists(parent, ec)) {
    fs::create_directories(parent, ec);
    check(!ec, "save_model: cannot create directory " + parent.string() + ": " + ec.message());
  }
  StagedFiles staging;
  stage_model(model, dir, staging);
  staging.commit();
}

void load_weights(Model& model, const std::string& dir) {
  const fs::path wpath = fs::path(dir) / kWeightsName;
  // At most the weights this architecture has, the 8-byte length and the
  // 100 MB header limit of safetensors.
  uintmax_t weight_bytes = 0;
  for (Layer* l : model.unique_layers())
    for (Param* p : l->params()) weight_bytes += p->value.nbytes();
  const std::vector<std::byte> wbytes = read_file(wpath, weight_bytes + 8 + 100'000'000);
  const safetensors::File file = safetensors::parse(wbytes, wpath.string());
  std::set<std::string> used;
  for (Layer* l : model.unique_layers()) {
    for (Param* p : l->params()) {
      const std::string key = param_key(*l, *p);
      auto it = file.tensors.find(key);
      check(it != file.tensors.end(), wpath.string() + ": missing tensor '" + key + "'");
      const safetensors::Entry& e = it->second;
      check(e.dtype == p->value.dtype(), wpath.string() + ": tensor '" + key + "' is " +
                                             safetensors::dtype_code(e.dtype) + ", the layer expects " +
                                             safetensors::dtype_code(p->value.dtype()));
      check(e.shape == p->value.shape(), wpath.string() + ": tensor '" + key + "' has shape " +
                                             shape_str(e.shape) + ", the layer expects " +
                                             shape_str(p->value.shape()));
      if (!e.bytes.empty()) std::memcpy(p->value.raw(), e.bytes.data(), e.bytes.size());
      used.insert(key);
    }
  }
  for (const auto& [key, e] : file.tensors)
    check(used.count(key), wpath.string() + ": tensor '" + key + "' belongs to no layer of the model");
  // qlite saves only finite weights: NaN or Inf is a damaged or foreign file,
  // refused before it evaluates or converts to garbage.
  const std::string bad = first_non_finite_param(model);
  check(bad.empty(), wpath.string() + ": " + bad + "; a saved model's weights must be finite (did training diverge?)");
}

namespace {

// The JSON parts of a compiled model's training_config (save_model's
// "optimizer_state", "epochs_trained", "layer_state"); returns the optimizer's
// iteration count, whose slots load_optimizer_slots reads.
int64_t load_training_state_json(Model& model, const json& tc) {
  const json& os = tc["optimizer_state"];
  check(os.is_object() && os.contains("iterations") && os["iterations"].is_number_unsigned(),
        "training_config: 'optimizer_state' must hold a non-negative integer 'iterations'");
  const int64_t iterations = os["iterations"].get<int64_t>();
  check(iterations >= 0, "training_config: 'iterations' is out of range");
  if (tc.contains("epochs_trained")) {
    check(tc["epochs_trained"].is_number_unsigned() && tc["epochs_trained"].get<int64_t>() >= 0,
          "training_config: 'epochs_trained' must be a non-negative integer");
    model.set_epochs_trained(tc["epochs_trained"].get<int64_t>());
  }
  if (tc.contains("layer_state")) {
    const json& ls = tc["layer_state"];
    check(ls.is_object(), "training_config: 'layer_state' must be an object");
    for (const auto& [name, state] : ls.items()) {
      Layer* l = model.find_layer(name);
      check(l != nullptr, "training_config: 'layer_state' names no layer of the model: '" + name + "'");
      l->set_training_state(state);
    }
  }
  return iterations;
}

// DIR/optimizer.safetensors: the optimizer slots of a compiled model that has
// taken `iterations` steps.
void load_optimizer_slots(Model& model, int64_t iterations, const std::string& dir) {
  OptimizerState st;
  st.iterations = iterations;
  const fs::path opath = fs::path(dir) / kOptimizerName;
  const std::vector<std::string> slot_names = model.optimizer()->slot_names();
  std::vector<Param*> params = model.trainable_params();
  uintmax_t slot_bytes = 0;
  for (const Param* p : params) slot_bytes += p->value.nbytes() * slot_names.size();
  const std::vector<std::byte> obytes = read_file(opath, slot_bytes + 8 + 100'000'000);
  const safetensors::File file = safetensors::parse(obytes, opath.string());
  if (!file.tensors.empty()) {
    std::set<std::string> used;
    for (Layer* l : model.unique_layers())
      for (Param* p : l->params()) {
        if (!p->trainable) continue;
        for (const std::string& slot : slot_names) {
          const std::string key = param_key(*l, *p) + "/" + slot;
          auto it = file.tensors.find(key);
          check(it != file.tensors.end(), opath.string() + ": missing optimizer slot '" + key + "'");
          const safetensors::Entry& e = it->second;
          check(e.dtype == DType::kFloat32 && e.shape == p->value.shape(),
                opath.string() + ": optimizer slot '" + key + "' is " + safetensors::dtype_code(e.dtype) + " " +
                    shape_str(e.shape) + ", expected F32 " + shape_str(p->value.shape()));
          Tensor t(e.shape);
          if (!e.bytes.empty()) std::memcpy(t.raw(), e.bytes.data(), e.bytes.size());
          for (int64_t k = 0; k < t.numel(); ++k)
            check(std::isfinite(t.f32()[k]), opath.string() + ": optimizer slot '" + key + "' is not finite");
          st.slots.push_back(std::move(t));
          used.insert(key);
        }
      }
    for (const auto& [key, e] : file.tensors)
      check(used.count(key), opath.string() + ": slot '" + key + "' belongs to no trainable parameter of the model");
  } else {
    check(st.iterations == 0 || slot_names.empty(),
          opath.string() + ": no optimizer slots for " + std::to_string(st.iterations) + " iterations");
  }
  model.optimizer()->set_state(std::move(st));
}

// model.json text -> model: the architecture, the loss and optimizer of its
// training_config and that config's JSON training state. Every error, also a
// JSON library exception, becomes an Error prefixed by `where`.
std::unique_ptr<Model> parse_model_json(std::string_view text, const std::string& where, int64_t* iterations) {
  json j;
  try {
    j = json::parse(text.begin(), text.end());
  } catch (const json::exception& e) {
    throw Error(where + ": invalid JSON: " + e.what());
  }
  *iterations = -1;
  std::unique_ptr<Model> model;
  try {
    model = model_from_json(j);
    if (j.contains("training_config")) {
      const json& tc = j["training_config"];
      check(tc.is_object(), "'training_config' must be an object");
      SparseCategoricalCrossentropy loss;
      if (tc.contains("loss")) {
        const json& l = tc["loss"];
        check(l.is_object() && l.contains("class_name") &&
                  l["class_name"] == "SparseCategoricalCrossentropy",
              "training_config: only the SparseCategoricalCrossentropy loss is supported");
        if (l.contains("config") && l["config"].is_object() && l["config"].contains("from_logits")) {
          check(l["config"]["from_logits"].is_boolean(), "training_config: 'from_logits' must be a boolean");
          loss.from_logits = l["config"]["from_logits"].get<bool>();
        }
      }
      check(tc.contains("optimizer_config"), "training_config: missing 'optimizer_config'");
      model->compile(optimizer_from_config(tc["optimizer_config"]), loss);
      if (tc.contains("optimizer_state")) *iterations = load_training_state_json(*model, tc);
    }
  } catch (const json::exception& e) {
    throw Error(where + ": " + e.what());
  } catch (const Error& e) {
    throw Error(where + ": " + e.what());
  }
  return model;
}

}  // namespace

std::unique_ptr<Model> model_from_json_text(std::string_view text, const std::string& where) {
  int64_t iterations = -1;
  return parse_model_json(text, where, &iterations);
}

std::unique_ptr<Model> load_model(const std::string& dir) {
  const fs::path jpath = fs::path(dir) / kJsonName;
  const std::vector<std::byte> jbytes = read_file(jpath, kMaxJsonBytes);
  int64_t iterations = -1;
  std::unique_ptr<Model> model = parse_model_json(
      std::string_view(reinterpret_cast<const char*>(jbytes.data()), jbytes.size()), jpath.string(), &iterations);
  load_weights(*model, dir);
  if (iterations >= 0) load_optimizer_slots(*model, iterations, dir);
  return model;
}

}  // namespace qlite
