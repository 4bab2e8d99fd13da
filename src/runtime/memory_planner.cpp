#include "runtime/memory_planner.h"

#include <algorithm>
#include <numeric>

#include "qlite/core.h"

namespace qlite::runtime::detail {

ArenaPlan plan_arena(const std::vector<BufferRequest>& requests, size_t alignment) {
  check(alignment > 0 && (alignment & (alignment - 1)) == 0, "plan_arena: alignment must be a power of 2");
  auto round_up = [&](size_t v) { return (v + alignment - 1) & ~(alignment - 1); };
  ArenaPlan plan;
  plan.offsets.assign(requests.size(), 0);
  std::vector<size_t> order(requests.size());
  std::iota(order.begin(), order.end(), size_t{0});
  // Largest first; ties by first use then index, so the plan is deterministic.
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    if (requests[a].bytes != requests[b].bytes) return requests[a].bytes > requests[b].bytes;
    return requests[a].first < requests[b].first;
  });
  struct Placed {
    size_t offset, end;
    int first, last;
  };
  std::vector<Placed> placed;
  std::vector<std::pair<size_t, size_t>> busy;  // reused between iterations
  for (size_t idx : order) {
    const BufferRequest& r = requests[idx];
    check(r.first <= r.last, "plan_arena: buffer lifetime ends before it starts");
    const size_t size = round_up(std::max<size_t>(r.bytes, 1));
    busy.clear();
    for (const Placed& p : placed)
      if (p.first <= r.last && r.first <= p.last) busy.emplace_back(p.offset, p.end);
    std::sort(busy.begin(), busy.end());
    size_t offset = 0;
    for (const auto& [lo, hi] : busy) {
      if (offset + size <= lo) break;  // fits in the gap before this buffer
      offset = std::max(offset, hi);
    }
    plan.offsets[idx] = offset;
    placed.push_back({offset, offset + size, r.first, r.last});
    plan.total = std::max(plan.total, offset + size);
  }
  return plan;
}

}  // namespace qlite::runtime::detail
