// The one way the runtime tests run a model in qlite's interpreter: graph
// input k gets inputs[k]'s bytes, every output is returned (or the error).
// single_op_peer.h (first output), multi_io_peer.h (all outputs) and
// isa_runs.h (a forced Isa) are views of it.
#pragma once

#include <cstring>
#include <optional>
#include <string>
#include <vector>

#include "qlite/runtime.h"

namespace qlite::test {

struct MultiOutcome {
  std::string error;  // empty when the model ran
  std::vector<std::vector<int64_t>> shapes;
  std::vector<std::vector<uint8_t>> bytes;
  size_t executed_ops = 0;  // Interpreter::num_executed_ops()
};

struct QliteRunOptions {
  std::optional<Isa> isa;  // the interpreter's choice when absent
  int batch = 0;           // resize_batch(batch) first when > 0
};

// inputs[k] are the bytes of graph input k at the file's shapes (at `batch`
// images when options.batch is set).
inline MultiOutcome run_multi_in_qlite(const std::vector<uint8_t>& model, const std::vector<std::vector<uint8_t>>& inputs,
                                       const QliteRunOptions& options = {}) {
  MultiOutcome r;
  try {
    runtime::InterpreterOptions o;
    o.isa = options.isa;
    auto it = runtime::Interpreter::from_buffer(model, o);
    if (options.batch > 0) it->resize_batch(options.batch);
    if (it->num_inputs() != inputs.size()) {
      r.error = "qlite model has " + std::to_string(it->num_inputs()) + " inputs, given " + std::to_string(inputs.size());
      return r;
    }
    for (size_t k = 0; k < inputs.size(); ++k) {
      const auto in = it->input_bytes(k);
      if (in.size() != inputs[k].size()) {
        r.error = "qlite input " + std::to_string(k) + " holds " + std::to_string(in.size()) + " bytes, given " +
                  std::to_string(inputs[k].size());
        return r;
      }
      if (!in.empty()) std::memcpy(in.data(), inputs[k].data(), in.size());
    }
    it->invoke();
    for (size_t k = 0; k < it->num_outputs(); ++k) {
      const auto out = it->output_bytes(k);
      const auto* p = reinterpret_cast<const uint8_t*>(out.data());
      r.bytes.emplace_back(p, p + out.size());
      r.shapes.push_back(it->output_info(k).shape);
    }
    r.executed_ops = it->num_executed_ops();
  } catch (const Error& e) {
    r.error = e.what();
  }
  return r;
}

// The error of loading the model and invoking it once with every input byte
// set to `fill`; "" when it runs.
inline std::string first_error_in_qlite(const std::vector<uint8_t>& model, int fill,
                                        const runtime::InterpreterOptions& options = {}) {
  try {
    auto it = runtime::Interpreter::from_buffer(model, options);
    for (size_t i = 0; i < it->num_inputs(); ++i) {
      const auto in = it->input_bytes(i);
      if (!in.empty()) std::memset(in.data(), fill, in.size());
    }
    it->invoke();
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

// A model with state (variable tensors or resource variables): one
// interpreter invoked once per step, graph input 0 getting steps[k]'s bytes,
// reset_variables() before the steps flagged in reset_before (the qlite side
// of TfLitePeer::run_steps). Returns every output's bytes after each step.
inline std::vector<std::vector<std::vector<uint8_t>>> run_steps_all_outputs_in_qlite(
    const std::vector<uint8_t>& model, const std::vector<std::vector<uint8_t>>& steps,
    const std::vector<bool>& reset_before = {}) {
  auto it = runtime::Interpreter::from_buffer(model);
  std::vector<std::vector<std::vector<uint8_t>>> outs;
  for (size_t k = 0; k < steps.size(); ++k) {
    if (k < reset_before.size() && reset_before[k]) it->reset_variables();
    auto in = it->input_bytes(0);
    check(in.size() == steps[k].size(), "run_steps_in_qlite: step " + std::to_string(k) + " has " +
                                            std::to_string(steps[k].size()) + " bytes for an input of " +
                                            std::to_string(in.size()));
    std::memcpy(in.data(), steps[k].data(), in.size());
    it->invoke();
    outs.emplace_back();
    for (size_t o = 0; o < it->num_outputs(); ++o) {
      const auto out = it->output_bytes(o);
      const auto* p = reinterpret_cast<const uint8_t*>(out.data());
      outs.back().emplace_back(p, p + out.size());
    }
  }
  return outs;
}

// The same, output 0's bytes after each step.
inline std::vector<std::vector<uint8_t>> run_steps_in_qlite(const std::vector<uint8_t>& model,
                                                             const std::vector<std::vector<uint8_t>>& steps,
                                                             const std::vector<bool>& reset_before) {
  std::vector<std::vector<uint8_t>> first;
  for (auto& step : run_steps_all_outputs_in_qlite(model, steps, reset_before)) first.push_back(std::move(step.at(0)));
  return first;
}

}  // namespace qlite::test
