// The model's reusable per-run state (private to src/train).
#pragma once

#include <memory>
#include <vector>

#include "qlite/train/model.h"

namespace qlite {

// Buffers are sized on the first batch and reused (Tensor::resize keeps the
// storage), so steady-state steps allocate nothing.
struct Model::Runtime {
  int threads = 1;
  std::unique_ptr<ThreadPool> pool;

  // The plan, computed by prepare() once per graph change.
  bool planned = false;
  std::vector<char> needs_grad;  // the node's output needs dL/d(output)
  // Clamp fusion in training: clamp_hi[j] is the hi of the clamp layer at
  // node j + 1 when that layer reads node j only and nothing else reads node
  // j (NaN otherwise); fused[j] says whether node j's forward_clamped took
  // the clamp over this batch (it then writes node j + 1's output).
  std::vector<float> clamp_hi;
  std::vector<char> fused;
  std::vector<Param*> trainable;
  size_t max_inputs = 0;

  std::vector<Tensor> act;                 // per node; node 0 reads the caller's tensor
  std::vector<const Tensor*> act_ptr;      // where each node's output lives this batch
  std::vector<Tensor> grad;                // dL/d(node output)
  std::vector<char> grad_set;              // grad[k] holds a value this step
  std::vector<std::vector<const Tensor*>> in_ptrs;
  std::vector<std::vector<Tensor*>> din_ptrs;
  // Shared layers: node j of a layer's later call runs call_copy[j], a copy
  // with its own forward state (what forward keeps for backward), given the
  // layer's params before each forward; what forward changes in them (moving
  // statistics, ranges) and its training state go back to the layer after
  // it, and its gradients are added to the layer's after backward. Null for
  // a layer's first call, which runs the layer itself.
  std::vector<std::unique_ptr<Layer>> call_copy;
  std::vector<Tensor> scratch;             // per input slot, when a gradient must be summed
  std::vector<char> use_scratch;

  Tensor batch_x, batch_y;
  Shape shape_buf;
};

}  // namespace qlite
