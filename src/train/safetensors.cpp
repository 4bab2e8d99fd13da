#include "train/safetensors.h"

#include <algorithm>
#include <bit>
#include <cstring>

#include <nlohmann/json.hpp>

namespace qlite::safetensors {

static_assert(std::endian::native == std::endian::little,
              "safetensors data is little-endian; a big-endian port must swap bytes");

namespace {

using json = nlohmann::json;

// The safetensors reference implementation rejects headers above 100 MB.
constexpr uint64_t kMaxHeader = 100'000'000;

bool dtype_from_code(const std::string& s, DType* t) {
  static const std::pair<const char*, DType> kCodes[] = {
      {"F32", DType::kFloat32}, {"F16", DType::kFloat16}, {"I32", DType::kInt32},
      {"I8", DType::kInt8},     {"U8", DType::kUInt8},    {"I64", DType::kInt64}};
  for (const auto& [code, dt] : kCodes)
    if (s == code) {
      *t = dt;
      return true;
    }
  return false;
}

}  // namespace

const char* dtype_code(DType t) {
  switch (t) {
    case DType::kFloat32: return "F32";
    case DType::kFloat16: return "F16";
    case DType::kInt32: return "I32";
    case DType::kInt8: return "I8";
    case DType::kUInt8: return "U8";
    case DType::kInt64: return "I64";
  }
  throw Error("safetensors: unknown dtype");
}

std::vector<char> serialize(std::span<const TensorRef> tensors,
                            const std::map<std::string, std::string>& metadata) {
  json header = json::object();
  uint64_t offset = 0;
  for (const TensorRef& t : tensors) {
    check(t.name != "__metadata__" && !header.contains(t.name),
          "safetensors: duplicate or reserved tensor name '" + t.name + "'");
    check(t.data->dtype() == t.dtype && t.data->shape() == t.shape,
          "safetensors: tensor '" + t.name + "' does not match its declared dtype and shape");
    const uint64_t size = t.data->nbytes();
    header[t.name] = {{"dtype", dtype_code(t.dtype)},
                      {"shape", t.shape},
                      {"data_offsets", {offset, offset + size}}};
    offset += size;
  }
  if (!metadata.empty()) header["__metadata__"] = metadata;
  std::string text = header.dump();
  text.resize((text.size() + 7) / 8 * 8, ' ');
  std::vector<char> out(8 + text.size() + offset);
  const uint64_t n = text.size();
  std::memcpy(out.data(), &n, 8);
  std::memcpy(out.data() + 8, text.data(), text.size());
  char* data = out.data() + 8 + text.size();
  for (const TensorRef& t : tensors) {
    if (t.data->nbytes()) std::memcpy(data, t.data->raw(), t.data->nbytes());
    data += t.data->nbytes();
  }
  return out;
}

File parse(std::span<const std::byte> buf, const std::string& what) {
  const std::string w = what + ": ";
  check(buf.size() >= 8, w + "file is " + std::to_string(buf.size()) +
                             " bytes, too short for the 8-byte header length");
  uint64_t n = 0;
  std::memcpy(&n, buf.data(), 8);
  check(n <= kMaxHeader && n <= buf.size() - 8,
        w + "header length " + std::to_string(n) + " exceeds the file (" +
            std::to_string(buf.size()) + " bytes) or the 100 MB limit");
  check(n >= 2 && static_cast<char>(buf[8]) == '{', w + "header is not a JSON object");
  const char* text = reinterpret_cast<const char*>(buf.data() + 8);
  json header = json::parse(text, text + n, nullptr, /*allow_exceptions=*/false);
  check(!header.is_discarded() && header.is_object(), w + "header is not valid JSON object text");
  const std::span<const std::byte> data = buf.subspan(8 + n);

  File f;
  struct Range {
    uint64_t begin, end;
    std::string name;
  };
  std::vector<Range> ranges;
  for (auto it = header.begin(); it != header.end(); ++it) {
    const std::string& name = it.key();
    const json& e = it.value();
    if (name == "__metadata__") {
      check(e.is_object(), w + "__metadata__ must be an object");
      for (auto m = e.begin(); m != e.end(); ++m) {
        check(m.value().is_string(), w + "__metadata__ value '" + m.key() + "' must be a string");
        f.metadata[m.key()] = m.value().get<std::string>();
      }
      continue;
    }
    const std::string t = w + "tensor '" + name + "': ";
    check(e.is_object(), t + "entry must be an object");
    check(e.contains("dtype") && e["dtype"].is_string(), t + "missing string 'dtype'");
    Entry entry{};
    const std::string code = e["dtype"].get<std::string>();
    check(dtype_from_code(code, &entry.dtype), t + "unsupported dtype '" + code + "'");
    check(e.contains("shape") && e["shape"].is_array(), t + "missing array 'shape'");
    for (const json& d : e["shape"]) {
      check(d.is_number_unsigned(), t + "shape entries must be non-negative integers");
      const uint64_t v = d.get<uint64_t>();
      check(v <= (uint64_t{1} << 40), t + "dimension " + std::to_string(v) + " is too large");
      entry.shape.push_back(static_cast<int64_t>(v));
    }
    check(e.contains("data_offsets") && e["data_offsets"].is_array() && e["data_offsets"].size() == 2 &&
              e["data_offsets"][0].is_number_unsigned() && e["data_offsets"][1].is_number_unsigned(),
          t + "'data_offsets' must be two non-negative integers");
    const uint64_t begin = e["data_offsets"][0].get<uint64_t>();
    const uint64_t end = e["data_offsets"][1].get<uint64_t>();
    check(begin <= end && end <= data.size(),
          t + "data_offsets [" + std::to_string(begin) + ", " + std::to_string(end) +
              "] are outside the " + std::to_string(data.size()) + "-byte data section");
    const int64_t numel = shape_numel(entry.shape);  // throws past 2^62
    const uint64_t bytes = static_cast<uint64_t>(numel) * dtype_size(entry.dtype);
    check(bytes == end - begin, t + "shape " + shape_str(entry.shape) + " of " + code + " needs " +
                                    std::to_string(bytes) + " bytes, data_offsets give " +
                                    std::to_string(end - begin));
    entry.bytes = data.subspan(begin, end - begin);
    ranges.push_back({begin, end, name});
    f.tensors.emplace(name, std::move(entry));
  }
  // Like the reference implementation: the tensors tile the data section exactly.
  std::sort(ranges.begin(), ranges.end(), [](const Range& a, const Range& b) {
    return a.begin != b.begin ? a.begin < b.begin : a.end < b.end;
  });
  uint64_t at = 0;
  for (const Range& r : ranges) {
    check(r.begin >= at, w + "tensor '" + r.name + "' overlaps the tensor before it");
    check(r.begin == at, w + "gap in the data section before tensor '" + r.name + "'");
    at = r.end;
  }
  check(at == data.size(), w + "data section has " + std::to_string(data.size() - at) +
                               " trailing bytes not covered by any tensor");
  return f;
}

}  // namespace qlite::safetensors
