// Helpers shared by the built-in layers: config parsing, shape checks,
// weight initialisation and batch splitting over the thread pool.
#pragma once

#include <array>
#include <cmath>
#include <cstdio>
#include <functional>
#include <string>

#include "kernels/float_kernels.h"
#include "qlite/train/layer.h"
#include "qlite/train/layers.h"

namespace qlite::detail {

// "Conv2D 'conv2d_1'" for error messages.
inline std::string layer_label(const Layer& l) { return l.type() + " '" + l.name() + "'"; }

inline std::string config_name(const json& c) {
  if (!c.contains("name") || c["name"].is_null()) return "";
  check(c["name"].is_string(), "\"name\" must be a string");
  return c["name"].get<std::string>();
}

inline int64_t config_int(const json& v, const std::string& key) {
  check(v.is_number_integer(), "\"" + key + "\" must be an integer, got " + v.dump());
  return v.get<int64_t>();
}

inline int config_positive(const json& c, const std::string& key) {
  check(c.contains(key), "missing \"" + key + "\"");
  const int64_t v = config_int(c[key], key);
  check(v > 0 && v < (int64_t{1} << 30), "\"" + key + "\" must be a positive integer, got " + c[key].dump());
  return static_cast<int>(v);
}

// Keras accepts an int or a pair for kernel_size / strides / pool_size.
inline std::array<int, 2> config_pair(const json& v, const std::string& key) {
  std::array<int, 2> out{};
  if (v.is_number_integer()) {
    out[0] = out[1] = static_cast<int>(config_int(v, key));
  } else {
    check(v.is_array() && v.size() == 2, "\"" + key + "\" must be an int or a pair, got " + v.dump());
    out[0] = static_cast<int>(config_int(v[0], key));
    out[1] = static_cast<int>(config_int(v[1], key));
  }
  check(out[0] > 0 && out[1] > 0 && out[0] < (1 << 20) && out[1] < (1 << 20),
        "\"" + key + "\" must be positive, got " + v.dump());
  return out;
}

inline Padding config_padding(const json& c) {
  if (!c.contains("padding")) return Padding::kValid;
  check(c["padding"].is_string(), "\"padding\" must be a string");
  const std::string p = c["padding"].get<std::string>();
  if (p == "valid") return Padding::kValid;
  if (p == "same") return Padding::kSame;
  throw Error("unsupported padding '" + p + "' (expected valid or same)");
}

inline const char* padding_name(Padding p) { return p == Padding::kSame ? "same" : "valid"; }

inline Activation config_activation(const json& c) {
  if (!c.contains("activation") || c["activation"].is_null()) return Activation::kLinear;
  check(c["activation"].is_string(), "\"activation\" must be a string");
  return activation_from_string(c["activation"].get<std::string>());
}

inline bool config_bool(const json& c, const std::string& key, bool dflt) {
  if (!c.contains(key)) return dflt;
  check(c[key].is_boolean(), "\"" + key + "\" must be a boolean");
  return c[key].get<bool>();
}

// Only channels_last is supported; anything else is rejected rather than misread.
inline void config_channels_last(const json& c) {
  if (!c.contains("data_format") || c["data_format"].is_null()) return;
  check(c["data_format"] == "channels_last",
        "unsupported data_format " + c["data_format"].dump() + " (only channels_last)");
}

inline Shape config_shape(const json& v, const std::string& key) {
  check(v.is_array(), "\"" + key + "\" must be a list of ints");
  Shape s;
  for (const json& d : v) s.push_back(config_int(d, key));
  return s;
}

inline json shape_json(const Shape& s) {
  json j = json::array();
  for (int64_t d : s) j.push_back(d);
  return j;
}

// The part of an activation the float kernels fuse: the clamp itself, or
// nothing (kLinear) for the activations HookedLayer applies after the op
// (activation_fusable() false: sigmoid, softmax, tanh, hard_swish).
inline kernels::FloatAct kernel_act(Activation a) {
  switch (a) {
    case Activation::kLinear: return kernels::FloatAct::kLinear;
    case Activation::kRelu: return kernels::FloatAct::kRelu;
    case Activation::kRelu6: return kernels::FloatAct::kRelu6;
    case Activation::kTanh:
    case Activation::kSigmoid:
    case Activation::kSoftmax:
    case Activation::kHardSwish:
      return kernels::FloatAct::kLinear;
    case Activation::kReluN1To1:
    case Activation::kSignBit:
      break;
  }
  throw Error(std::string("training layers have no kernel for activation ") + activation_label(a));
}

inline Shape batched(int64_t n, const Shape& per_sample) {
  Shape s{n};
  s.insert(s.end(), per_sample.begin(), per_sample.end());
  return s;
}

// Checks one batched input against the built per-sample shape; returns N.
inline int64_t check_batched_input(const Layer& l, std::span<const Tensor* const> in) {
  // Messages are built only on failure: this runs on every step.
  if (!l.built()) throw Error(layer_label(l) + ": forward/backward before build");
  if (in.size() != 1 || in[0] == nullptr) throw Error(layer_label(l) + ": expects exactly one input");
  const Tensor& x = *in[0];
  const Shape& want = l.input_shapes().at(0);
  bool ok = x.dtype() == DType::kFloat32 && x.rank() == want.size() + 1;
  for (size_t i = 0; ok && i < want.size(); ++i) ok = x.dim(i + 1) == want[i];
  if (!ok)
    throw Error(layer_label(l) + ": input of shape " + shape_str(x.shape()) + " does not match built shape (None, " +
                shape_str(want).substr(1));
  return x.dim(0);
}

inline void check_dout(const Layer& l, const Tensor& dout, int64_t n) {
  const Shape& o = l.output_shape();
  bool ok = dout.dtype() == DType::kFloat32 && dout.rank() == o.size() + 1 && dout.dim(0) == n;
  for (size_t i = 0; ok && i < o.size(); ++i) ok = dout.dim(i + 1) == o[i];
  if (!ok)
    throw Error(layer_label(l) + ": output gradient of shape " + shape_str(dout.shape()) + ", expected " +
                shape_str(batched(n, o)));
}

// A model.json is untrusted input: layers check the weight shape a config
// asks for here, before allocating it, so that a file cannot make qlite
// allocate and initialise gigabytes (kMaxWeightElements; Model::build checks
// the model's total).
inline void check_weight_shape(const std::string& who, const char* what, const Shape& shape) {
  double n = 1;  // a double: the product of four dims below 2^30 cannot overflow it
  for (int64_t d : shape) n *= static_cast<double>(d);
  if (n <= static_cast<double>(kMaxWeightElements)) return;
  char count[32];
  std::snprintf(count, sizeof count, "%.3g", n);
  throw Error(who + ": its " + what + " " + shape_str(shape) + " would hold " + count + " values, more than the " +
              std::to_string(kMaxWeightElements) +" (2 GiB of float32) one weight tensor may hold");
}

// An initializer from a layer config's `key` when present and not null
// (Keras writes null for none): `init` keeps its default otherwise.
inline void config_initializer(const json& c, const std::string& key, Initializer& init) {
  if (c.contains(key) && !c[key].is_null()) init = Initializer::from_json(c[key], key);
}

inline int num_chunks(const RunContext& ctx) { return ctx.pool ? ctx.pool->num_threads() : 1; }

// Splits [0, n) over the pool (or runs inline without one). Chunking is
// deterministic for a given thread count, so per-chunk partial sums reduced in
// chunk order are reproducible.
template <class F>
void run_chunks(const RunContext& ctx, int64_t n, F&& fn, int64_t min_chunk = 1) {
  parallel_for(ctx.pool, n, fn, min_chunk);
}

// Same-padding amounts as Keras/TF compute them.
inline void same_padding(int64_t in, int k, int s, int64_t* out, int64_t* pad_before, int64_t* pad_total) {
  const int64_t o = (in + s - 1) / s;
  *out = o;
  *pad_total = std::max<int64_t>((o - 1) * s + k - in, 0);
  *pad_before = *pad_total / 2;
}

// The geometry of a kernel_size window sliding with `strides` over a
// per-sample (height, width, channels) input under Keras' padding: the
// output size, the padding before, and the zero-padded input's size. `what`
// names the window in errors ("kernel", "pool").
struct ConvGeometry {
  int64_t h = 0, w = 0, c = 0, oh = 0, ow = 0, pad_top = 0, pad_left = 0, hp = 0, wp = 0;
};

inline ConvGeometry conv_geometry(const std::string& who, const Shape& s, std::array<int, 2> k,
                                  std::array<int, 2> strides, Padding padding, const char* what = "kernel") {
  check(s.size() == 3 && s[0] > 0 && s[1] > 0 && s[2] > 0,
        who + ": needs a per-sample input (height, width, channels), got " + shape_str(s));
  ConvGeometry g{.h = s[0], .w = s[1], .c = s[2]};
  if (padding == Padding::kValid) {
    check(g.h >= k[0] && g.w >= k[1], who + ": " + what + " " + std::to_string(k[0]) + "x" + std::to_string(k[1]) +
                                          " is larger than its input " + shape_str(s) + " with 'valid' padding");
    g.oh = (g.h - k[0]) / strides[0] + 1;
    g.ow = (g.w - k[1]) / strides[1] + 1;
    g.hp = g.h;
    g.wp = g.w;
  } else {
    int64_t th, tw;
    same_padding(g.h, k[0], strides[0], &g.oh, &g.pad_top, &th);
    same_padding(g.w, k[1], strides[1], &g.ow, &g.pad_left, &tw);
    g.hp = g.h + th;
    g.wp = g.w + tw;
  }
  return g;
}

}  // namespace qlite::detail
