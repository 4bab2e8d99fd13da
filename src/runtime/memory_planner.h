// Places buffers with known lifetimes into one arena: greedy by size (largest
// first, as TFLite Micro's GreedyMemoryPlanner), each at the lowest aligned
// offset that overlaps no already-placed buffer alive at the same time.
#pragma once

#include <cstddef>
#include <vector>

namespace qlite::runtime::detail {

struct BufferRequest {
  size_t bytes = 0;
  int first = 0;  // first step that needs the buffer (inclusive)
  int last = 0;   // last step that needs it (inclusive)
};

struct ArenaPlan {
  std::vector<size_t> offsets;  // one per request, multiples of the alignment
  size_t total = 0;             // arena bytes
};

ArenaPlan plan_arena(const std::vector<BufferRequest>& requests, size_t alignment = 64);

}  // namespace qlite::runtime::detail
