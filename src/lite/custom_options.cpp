#include "lite/custom_options.h"

#include <flatbuffers/flexbuffers.h>

#include <cmath>
#include <limits>

#include "lite/util.h"
#include "qlite/core.h"
#include "qlite/lite.h"

namespace qlite::lite {

CustomOptions CustomOptions::parse(std::span<const uint8_t> bytes, const std::string& where) {
  check(!bytes.empty(), where + ": custom options are empty");
  // The verifier bounds every offset, and its depth and vector-count limits
  // stop nested or aliased buffers from making reads explode.
  std::vector<uint8_t> reuse;
  check(flexbuffers::VerifyBuffer(bytes.data(), bytes.size(), &reuse),
        where + ": custom options are not a well-formed FlexBuffers buffer");
  const flexbuffers::Reference root = flexbuffers::GetRoot(bytes.data(), bytes.size());
  check(root.IsMap(), where + ": custom options are not a FlexBuffers map");
  const flexbuffers::Map m = root.AsMap();
  const flexbuffers::TypedVector keys = m.Keys();
  const flexbuffers::Vector vals = m.Values();
  check(keys.size() == vals.size(), where + ": custom options map has " + std::to_string(keys.size()) +
                                        " keys and " + std::to_string(vals.size()) + " values");
  CustomOptions out;
  for (size_t i = 0; i < keys.size(); ++i) {
    const flexbuffers::Reference k = keys[i];
    const flexbuffers::Reference v = vals[i];
    CustomOptionValue e;
    e.key = k.AsKey();
    e.is_null = v.IsNull();
    e.as_double = v.AsDouble();
    if (v.IsFloat()) {
      // FlexBuffers converts with a plain cast, undefined for NaN and values
      // outside int64; here they saturate (NaN reads 0).
      const double d = e.as_double;
      e.as_int64 = std::isnan(d) ? 0
                   : d >= 0x1p63  ? std::numeric_limits<int64_t>::max()
                   : d < -0x1p63  ? std::numeric_limits<int64_t>::min()
                                  : static_cast<int64_t>(d);
      e.as_bool = e.as_int64 != 0;
    } else {
      e.as_int64 = v.AsInt64();
      e.as_bool = v.AsBool();
    }
    e.text = v.IsFloat() ? format_number(e.as_double) : v.ToString();
    out.values_.push_back(std::move(e));
  }
  return out;
}

const CustomOptionValue* CustomOptions::find(std::string_view key) const {
  for (const CustomOptionValue& v : values_)
    if (v.key == key) return &v;
  return nullptr;
}

int32_t CustomOptions::int32(std::string_view key) const {
  const CustomOptionValue* v = find(key);
  return v ? static_cast<int32_t>(v->as_int64) : 0;
}

float CustomOptions::float32(std::string_view key) const {
  const CustomOptionValue* v = find(key);
  return v ? static_cast<float>(v->as_double) : 0.0f;
}

bool CustomOptions::boolean(std::string_view key) const {
  const CustomOptionValue* v = find(key);
  return v ? v->as_bool : false;
}

bool CustomOptions::is_null(std::string_view key) const {
  const CustomOptionValue* v = find(key);
  return v == nullptr || v->is_null;
}

std::string CustomOptions::describe() const {
  std::string s = "{";
  for (size_t i = 0; i < values_.size(); ++i) {
    if (i) s += " ";
    s += escape_control(values_[i].key) + "=" + escape_control(values_[i].text);
  }
  return s + "}";
}

std::string describe_custom_options(std::span<const uint8_t> bytes) {
  try {
    return CustomOptions::parse(bytes, "custom options").describe();
  } catch (const Error&) {
    return "custom_options(" + std::to_string(bytes.size()) + " B, not a FlexBuffers map)";
  }
}

}  // namespace qlite::lite
