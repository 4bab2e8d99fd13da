// A CUSTOM op's options: the FlexBuffers map TFLite's converter writes into
// Operator.custom_options (TFLite_Detection_PostProcess's max_detections,
// nms_iou_threshold, ...). The bytes come from the file, so they are checked
// with FlexBuffers' verifier before anything is read.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace qlite::lite {

// One value of the map, read the way TFLite's kernels read it: FlexBuffers'
// AsInt64 / AsDouble / AsBool conversions (a float read as an int truncates,
// a missing key reads 0), done once here.
struct CustomOptionValue {
  std::string key;
  bool is_null = false;
  int64_t as_int64 = 0;
  double as_double = 0;
  bool as_bool = false;
  std::string text;  // the value as FlexBuffers prints it (strings quoted)
};

class CustomOptions {
 public:
  // Throws Error naming `where` when the bytes are not a well-formed
  // FlexBuffers map.
  static CustomOptions parse(std::span<const uint8_t> bytes, const std::string& where);

  // nullptr when the key is absent.
  const CustomOptionValue* find(std::string_view key) const;
  // TFLite's m[key].AsInt32() / AsFloat() / AsBool(): 0 / 0 / false when absent.
  int32_t int32(std::string_view key) const;
  float float32(std::string_view key) const;
  bool boolean(std::string_view key) const;
  // Absent or null (TFLite's IsNull()).
  bool is_null(std::string_view key) const;

  const std::vector<CustomOptionValue>& values() const { return values_; }
  // "{max_detections=10 nms_iou_threshold=0.6 ...}"
  std::string describe() const;

 private:
  std::vector<CustomOptionValue> values_;
};

// describe() of the bytes, or "custom_options(N B, not a FlexBuffers map)".
std::string describe_custom_options(std::span<const uint8_t> bytes);

}  // namespace qlite::lite
