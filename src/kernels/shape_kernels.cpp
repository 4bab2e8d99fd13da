#include "kernels/shape_kernels.h"

#include <algorithm>
#include <cstring>

namespace qlite::kernels {
namespace {

// `count` copies of the element at `value`, from `out` on.
void fill(std::byte* out, int64_t count, const std::byte* value, size_t elem_size) {
  if (count <= 0) return;
  if (elem_size == 1) {
    std::memset(out, static_cast<int>(*value), static_cast<size_t>(count));
    return;
  }
  // One element, then doubling copies of what is already written.
  std::memcpy(out, value, elem_size);
  const size_t total = static_cast<size_t>(count) * elem_size;
  size_t done = elem_size;
  while (done < total) {
    const size_t n = std::min(done, total - done);
    std::memcpy(out + done, out, n);
    done += n;
  }
}

struct PadWalk {
  const ref::PadGeometry& g;
  size_t elem;
  const std::byte* value;
  std::array<int64_t, ref::kMaxPadRank> in_stride{}, out_stride{};  // in elements

  void run(int d, const std::byte* in, std::byte* out) const {
    const auto k = static_cast<size_t>(d);
    // PadGeometry holds rank <= kMaxPadRank; saying so also keeps GCC's
    // -Warray-bounds from following the recursion past the array.
    if (k >= ref::kMaxPadRank) return;
    const int64_t before = g.before[k] * out_stride[k], after = g.after[k] * out_stride[k];
    fill(out, before, value, elem);
    std::byte* o = out + static_cast<size_t>(before) * elem;
    if (d == g.rank - 1) {
      if (g.in_dims[k] > 0) std::memcpy(o, in, static_cast<size_t>(g.in_dims[k]) * elem);
    } else {
      for (int64_t i = 0; i < g.in_dims[k]; ++i)
        run(d + 1, in + static_cast<size_t>(i * in_stride[k]) * elem, o + static_cast<size_t>(i * out_stride[k]) * elem);
    }
    fill(o + static_cast<size_t>(g.in_dims[k] * out_stride[k]) * elem, after, value, elem);
  }
};

template <size_t N>
struct Element {
  std::byte b[N];
};

template <class E>
void transpose_walk(const ref::TransposeGeometry& g, const std::byte* input, std::byte* output) {
  std::array<int64_t, ref::kMaxTransposeRank> in_stride{}, out_dims{}, walk{}, idx{};
  int64_t s = 1;
  for (int d = g.rank - 1; d >= 0; --d) {
    in_stride[static_cast<size_t>(d)] = s;
    s *= g.in_dims[static_cast<size_t>(d)];
  }
  const int64_t n = s;
  if (n == 0) return;
  for (int d = 0; d < g.rank; ++d) {
    const auto p = static_cast<size_t>(g.perm[static_cast<size_t>(d)]);
    out_dims[static_cast<size_t>(d)] = g.in_dims[p];
    walk[static_cast<size_t>(d)] = in_stride[p];
  }
  const E* in = reinterpret_cast<const E*>(input);
  E* out = reinterpret_cast<E*>(output);
  const int last = g.rank - 1;
  const int64_t inner = out_dims[static_cast<size_t>(last)], inner_walk = walk[static_cast<size_t>(last)];
  // A channels-last move of a few planes (NCHW -> NHWC of an image: the
  // second-to-last output dimension is the input's contiguous one, the last
  // is short): each group of output rows is a small 2-D transpose, read
  // along the contiguous input rows, instead of the per-element walk below
  // whose odometer runs every `inner` elements. Same elements, same places.
  if (last >= 1 && walk[static_cast<size_t>(last - 1)] == 1 && inner >= 2 && inner <= 4) {
    const int64_t rows = out_dims[static_cast<size_t>(last - 1)], block = rows * inner;
    auto run = [&]<int K>() {
      int64_t off = 0;
      for (int64_t i = 0; i < n; i += block) {
        const E* src = in + off;
        E* dst = out + i;
        for (int64_t r = 0; r < rows; ++r)
          for (int k = 0; k < K; ++k) dst[r * K + k] = src[r + k * inner_walk];
        for (int d = last - 2; d >= 0; --d) {
          const auto k = static_cast<size_t>(d);
          off += walk[k];
          if (++idx[k] < out_dims[k]) break;
          off -= walk[k] * out_dims[k];
          idx[k] = 0;
        }
      }
    };
    if (inner == 2) run.template operator()<2>();
    else if (inner == 3) run.template operator()<3>();
    else run.template operator()<4>();
    return;
  }
  int64_t offset = 0;
  for (int64_t i = 0; i < n; i += inner) {
    const E* src = in + offset;
    for (int64_t j = 0; j < inner; ++j) out[i + j] = src[j * inner_walk];
    // Advance the odometer over the outer output dimensions.
    for (int d = last - 1; d >= 0; --d) {
      const auto k = static_cast<size_t>(d);
      offset += walk[k];
      if (++idx[k] < out_dims[k]) break;
      offset -= walk[k] * out_dims[k];
      idx[k] = 0;
    }
  }
}

}  // namespace

void pad(const ref::PadGeometry& g, size_t elem_size, const std::byte* input, const std::byte* pad_value,
         std::byte* output) {
  if (g.out_numel() == 0) return;
  PadWalk w{g, elem_size, pad_value};
  int64_t in_s = 1, out_s = 1;
  for (int d = g.rank - 1; d >= 0; --d) {
    const auto k = static_cast<size_t>(d);
    w.in_stride[k] = in_s;
    w.out_stride[k] = out_s;
    in_s *= g.in_dims[k];
    out_s *= g.out_dim(d);
  }
  if (g.in_numel() == 0) {
    fill(output, g.out_numel(), pad_value, elem_size);  // nothing to copy, all padding
    return;
  }
  w.run(0, input, output);
}

void transpose(const ref::TransposeGeometry& g, size_t elem_size, const std::byte* input, std::byte* output) {
  switch (elem_size) {
    case 1: return transpose_walk<uint8_t>(g, input, output);
    case 2: return transpose_walk<uint16_t>(g, input, output);
    case 4: return transpose_walk<uint32_t>(g, input, output);
    case 8: return transpose_walk<uint64_t>(g, input, output);
    case 16: return transpose_walk<Element<16>>(g, input, output);
    default: return ref::transpose(g, elem_size, input, output);
  }
}

}  // namespace qlite::kernels
