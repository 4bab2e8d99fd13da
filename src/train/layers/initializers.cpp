// Keras' kernel and bias initializers (qlite::Initializer): names, the
// serialized form model.json carries, and the draw itself.
#include <algorithm>
#include <cmath>
#include <string_view>

#include "qlite/train/layers.h"

namespace qlite {
namespace {

using Kind = Initializer::Kind;
using Mode = Initializer::Mode;
using Dist = Initializer::Distribution;

struct Named {
  std::string_view snake, camel;
  Initializer init;
};

// Keras' built-ins (keras.initializers): each VarianceScaling one is that
// class with fixed settings.
constexpr Named kNamed[] = {
    {"glorot_uniform", "GlorotUniform", {Kind::kVarianceScaling, 1.0, Mode::kFanAvg, Dist::kUniform}},
    {"glorot_normal", "GlorotNormal", {Kind::kVarianceScaling, 1.0, Mode::kFanAvg, Dist::kTruncatedNormal}},
    {"he_uniform", "HeUniform", {Kind::kVarianceScaling, 2.0, Mode::kFanIn, Dist::kUniform}},
    {"he_normal", "HeNormal", {Kind::kVarianceScaling, 2.0, Mode::kFanIn, Dist::kTruncatedNormal}},
    {"lecun_uniform", "LecunUniform", {Kind::kVarianceScaling, 1.0, Mode::kFanIn, Dist::kUniform}},
    {"lecun_normal", "LecunNormal", {Kind::kVarianceScaling, 1.0, Mode::kFanIn, Dist::kTruncatedNormal}},
    {"zeros", "Zeros", {Kind::kZeros, 1.0, Mode::kFanAvg, Dist::kUniform}},
    {"ones", "Ones", {Kind::kOnes, 1.0, Mode::kFanAvg, Dist::kUniform}},
};

constexpr std::string_view kModes[] = {"fan_in", "fan_out", "fan_avg"};
constexpr std::string_view kDists[] = {"uniform", "truncated_normal", "untruncated_normal"};

std::string known_names() {
  std::string s;
  for (const Named& n : kNamed) s += (s.empty() ? "" : ", ") + std::string(n.snake);
  return s + " or VarianceScaling";
}

// Normal truncated at two standard deviations, by rejection (as Keras'
// truncated_normal: values beyond 2 sigma are redrawn).
float truncated_normal(Rng& rng) {
  for (;;) {
    const float v = rng.normal();
    if (std::fabs(v) <= 2.0f) return v;
  }
}

}  // namespace

Initializer Initializer::from_name(const std::string& name) {
  for (const Named& n : kNamed)
    if (name == n.snake || name == n.camel) return n.init;
  // Keras' VarianceScaling defaults: scale 1, fan_in, truncated_normal.
  if (name == "VarianceScaling" || name == "variance_scaling")
    return {Kind::kVarianceScaling, 1.0, Mode::kFanIn, Dist::kTruncatedNormal};
  throw Error("unknown initializer '" + name + "' (expected " + known_names() + ")");
}

Initializer Initializer::from_json(const json& j, const std::string& key) {
  const std::string where = "\"" + key + "\"";
  if (j.is_string()) {
    try {
      return from_name(j.get<std::string>());
    } catch (const Error& e) {
      throw Error(where + ": " + e.what());
    }
  }
  check(j.is_object() && j.contains("class_name") && j["class_name"].is_string(),
        where + " must be an initializer name or {\"class_name\": ..., \"config\": {...}}, got " + j.dump());
  const std::string cls = j["class_name"].get<std::string>();
  Initializer init;
  try {
    init = from_name(cls);
  } catch (const Error& e) {
    throw Error(where + ": " + e.what());
  }
  const json empty = json::object();
  const json& c = j.contains("config") && !j["config"].is_null() ? j["config"] : empty;
  check(c.is_object(), where + ": \"config\" must be an object, got " + c.dump());
  if (c.contains("seed"))
    check(c["seed"].is_null() || c["seed"].is_number_integer(),
          where + ": \"seed\" must be an integer or null, got " + c["seed"].dump());
  if (cls != "VarianceScaling" && cls != "variance_scaling") return init;
  if (c.contains("scale")) {
    check(c["scale"].is_number(), where + ": \"scale\" must be a number, got " + c["scale"].dump());
    init.scale = c["scale"].get<double>();
    check(std::isfinite(init.scale) && init.scale > 0 && init.scale < 1e30,
          where + ": \"scale\" must be positive and finite, got " + c["scale"].dump());
  }
  if (c.contains("mode")) {
    check(c["mode"].is_string(), where + ": \"mode\" must be a string, got " + c["mode"].dump());
    const std::string m = c["mode"].get<std::string>();
    int k = 0;
    while (k < 3 && kModes[k] != m) ++k;
    check(k < 3, where + ": unknown mode '" + m + "' (expected fan_in, fan_out or fan_avg)");
    init.mode = static_cast<Mode>(k);
  }
  if (c.contains("distribution")) {
    check(c["distribution"].is_string(),
          where + ": \"distribution\" must be a string, got " + c["distribution"].dump());
    std::string d = c["distribution"].get<std::string>();
    if (d == "normal") d = "truncated_normal";  // Keras' older alias
    int k = 0;
    while (k < 3 && kDists[k] != d) ++k;
    check(k < 3, where + ": unknown distribution '" + d + "' (expected uniform, truncated_normal or untruncated_normal)");
    init.distribution = static_cast<Dist>(k);
  }
  return init;
}

json Initializer::to_json() const {
  for (const Named& n : kNamed)
    if (n.init == *this) return {{"class_name", std::string(n.camel)}, {"config", {{"seed", nullptr}}}};
  return {{"class_name", "VarianceScaling"},
          {"config",
           {{"scale", scale},
            {"mode", std::string(kModes[static_cast<int>(mode)])},
            {"distribution", std::string(kDists[static_cast<int>(distribution)])},
            {"seed", nullptr}}}};
}

void Initializer::fill(Tensor& t, Rng& rng) const {
  if (kind != Kind::kVarianceScaling) {
    const float v = kind == Kind::kOnes ? 1.0f : 0.0f;
    for (float& x : t.span_f32()) x = v;
    return;
  }
  // Keras' _compute_fans: a scalar or 1-D shape is its own fan in and out.
  const Shape& s = t.shape();
  double fan_in = 1, fan_out = 1;
  if (s.size() == 1) {
    fan_in = fan_out = static_cast<double>(s[0]);
  } else if (s.size() >= 2) {
    double field = 1;
    for (size_t i = 0; i + 2 < s.size(); ++i) field *= static_cast<double>(s[i]);
    fan_in = field * static_cast<double>(s[s.size() - 2]);
    fan_out = field * static_cast<double>(s[s.size() - 1]);
  }
  // Variance = scale / fan, with fan_avg = (fan_in + fan_out) / 2. The
  // uniform limit sqrt(3 * variance) is written as sqrt(6 * scale / (fan_in +
  // fan_out)) for fan_avg, so glorot_uniform is sqrt(6 / (fan_in + fan_out))
  // to the last bit, as qlite always drew it.
  const double num = mode == Mode::kFanAvg ? 2 * scale : scale;
  const double den = mode == Mode::kFanIn    ? std::max(1.0, fan_in)
                     : mode == Mode::kFanOut ? std::max(1.0, fan_out)
                                             : std::max(2.0, fan_in + fan_out);
  const double var = num / den;
  switch (distribution) {
    case Dist::kUniform: {
      const float limit = static_cast<float>(std::sqrt(3 * num / den));
      for (float& x : t.span_f32()) x = rng.uniform(-limit, limit);
      return;
    }
    case Dist::kTruncatedNormal: {
      const float sd = static_cast<float>(std::sqrt(var) / 0.87962566103423978);
      for (float& x : t.span_f32()) x = sd * truncated_normal(rng);
      return;
    }
    case Dist::kUntruncatedNormal: {
      const float sd = static_cast<float>(std::sqrt(var));
      for (float& x : t.span_f32()) x = sd * rng.normal();
      return;
    }
  }
}

}  // namespace qlite
