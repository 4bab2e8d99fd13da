// A hand-written flatbuffer walker used as an independent oracle of the binary
// layout: field numbers here come from the public TFLite schema.fbs (a union
// takes two slots: type, then value), not from qlite's .fbs.
#pragma once

#include <cstdint>
#include <cstring>
#include <span>
#include <stdexcept>
#include <string>

namespace qlite::test {

class FbWalker {
 public:
  explicit FbWalker(std::span<const uint8_t> b) : b_(b) {}

  size_t root() const { return u32(0); }
  // Absolute position of field `slot` of the table at `table`, or 0 when absent.
  size_t field(size_t table, int slot) const {
    const size_t vt = table - static_cast<size_t>(i32(table));
    const uint16_t vt_size = u16(vt);
    const size_t entry = 4 + 2 * static_cast<size_t>(slot);
    if (entry + 2 > vt_size) return 0;
    const uint16_t off = u16(vt + entry);
    return off ? table + off : 0;
  }
  size_t deref(size_t at) const { return at + u32(at); }  // offset field -> object
  // Vector / table helpers.
  size_t table_field(size_t table, int slot) const {
    const size_t f = field(table, slot);
    return f ? deref(f) : 0;
  }
  uint32_t vec_len(size_t vec) const { return u32(vec); }
  size_t vec_table(size_t vec, uint32_t i) const { return deref(vec + 4 + 4 * size_t{i}); }
  int32_t vec_i32(size_t vec, uint32_t i) const { return i32(vec + 4 + 4 * size_t{i}); }
  std::string str(size_t s) const {
    return std::string(reinterpret_cast<const char*>(&b_[s + 4]), u32(s));
  }
  template <class T>
  T scalar(size_t table, int slot, T def) const {
    const size_t f = field(table, slot);
    return f ? get<T>(f) : def;
  }

  uint32_t u32(size_t at) const { return get<uint32_t>(at); }
  int32_t i32(size_t at) const { return get<int32_t>(at); }
  uint16_t u16(size_t at) const { return get<uint16_t>(at); }

 private:
  template <class T>
  T get(size_t at) const {
    if (at + sizeof(T) > b_.size()) throw std::out_of_range("FbWalker: read past end");
    T v;
    std::memcpy(&v, b_.data() + at, sizeof(T));
    return v;
  }
  std::span<const uint8_t> b_;
};

}  // namespace qlite::test
