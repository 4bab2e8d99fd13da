// qlite inspect: a text dump of a .tflite file (inputs, outputs, every tensor
// with type, shape and quantization, every operator with its options), plus
// which operators the runtime cannot run (marked, and listed on one line) and,
// with --check, what it would execute.
#include "cli.h"
#include "qlite/lite.h"
#include "qlite/runtime.h"

namespace qlite::cli {
namespace {

struct InspectArgs {
  std::string path;
  bool check = false;
};

int run_inspect(const InspectArgs& a) {
  const lite::ModelDef model = lite::read_model_file(a.path);
  // Marks, from the runtime's op records, every operator it cannot run (in
  // any subgraph: a CALL_ONCE runs another one).
  lite::InspectOptions options;
  options.op_note = [](const lite::ModelDef& m, size_t subgraph, const lite::OperatorDef& op) {
    const std::string why = runtime::unsupported_reason(m, op, subgraph);
    return why.empty() ? why : "not supported by the qlite runtime: " + why;
  };
  std::fputs(lite::inspect(model, options).c_str(), stdout);
  const std::vector<runtime::UnsupportedOp> missing = runtime::unsupported_ops(model);
  if (!missing.empty())
    std::printf("runtime: %s\n", lite::escape_control(runtime::describe_unsupported(missing)).c_str());
  if (a.check) {
    // Prepares the model in the runtime: any op or type it cannot run is an error.
    auto it = runtime::Interpreter::from_model(model);
    std::printf("runtime: %zu operators executed per invoke, arena %zu bytes at batch %d, kernels %s\n",
                it->num_executed_ops(), it->arena_bytes(), it->batch(), isa_name(it->isa()));
  }
  return 0;
}

}  // namespace

Command add_inspect(CLI::App& app) {
  auto a = std::make_shared<InspectArgs>();
  CLI::App* sub = app.add_subcommand("inspect", "Print the tensors and operators of a .tflite file");
  sub->add_option("model", a->path, ".tflite file")->required()->check(non_empty());
  sub->add_flag("--check", a->check, "Also prepare the model in the qlite runtime and report the plan");
  return {sub, [a] { return run_inspect(*a); }};
}

}  // namespace qlite::cli
