// qlite_armnn_runner: runs a .tflite file with Arm NN's TfLite parser on the
// CpuRef backend, an implementation independent of TensorFlow Lite (it
// requantizes in float). Used by tests/convert/interop_armnn_test.cpp, which
// runs it in a subprocess because Arm NN aborts the process on some inputs.
//
//   qlite_armnn_runner MODEL.tflite INPUT.bin OUTPUT.bin
//
// INPUT.bin holds N samples of the model's one input, raw, in the input's own
// type; the file's batch is 1 (Arm NN 20.08 cannot resize it), so each sample
// is one inference. OUTPUT.bin receives the N outputs, raw.
// Exit codes: 0 success, 2 bad usage or input, 3 Arm NN error.
//
// Named .cc so that the tests/ glob (one GoogleTest executable per folder, of
// *.cpp) leaves it alone; tests/armnn/CMakeLists.txt builds it when Arm NN is
// installed. Not part of the qlite library: it prints and exits.
#include <armnn/ArmNN.hpp>
#include <armnnTfLiteParser/ITfLiteParser.hpp>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

namespace {

int fail(int code, const std::string& msg) {
  std::fprintf(stderr, "qlite_armnn_runner: %s\n", msg.c_str());
  return code;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 4) return fail(2, "usage: qlite_armnn_runner MODEL.tflite INPUT.bin OUTPUT.bin");
  std::ifstream in_file(argv[2], std::ios::binary);
  if (!in_file) return fail(2, std::string("cannot read ") + argv[2]);
  const std::vector<char> input((std::istreambuf_iterator<char>(in_file)), std::istreambuf_iterator<char>());
  try {
    armnn::ConfigureLogging(false, false, armnn::LogSeverity::Fatal);
    auto parser = armnnTfLiteParser::ITfLiteParser::Create();
    armnn::INetworkPtr network = parser->CreateNetworkFromBinaryFile(argv[1]);
    const auto in_names = parser->GetSubgraphInputTensorNames(0);
    const auto out_names = parser->GetSubgraphOutputTensorNames(0);
    if (in_names.size() != 1 || out_names.size() != 1) return fail(2, "the model must have one input and one output");
    const armnn::BindingPointInfo in_bind = parser->GetNetworkInputBindingInfo(0, in_names[0]);
    const armnn::BindingPointInfo out_bind = parser->GetNetworkOutputBindingInfo(0, out_names[0]);

    armnn::IRuntime::CreationOptions options;
    const char* backends = std::getenv("QLITE_ARMNN_BACKENDS");
    options.m_DynamicBackendsPath = backends != nullptr ? backends : "/usr/lib/x86_64-linux-gnu/armnn22";
    armnn::IRuntimePtr runtime = armnn::IRuntime::Create(options);
    std::vector<std::string> messages;
    armnn::IOptimizedNetworkPtr optimized =
        armnn::Optimize(*network, {armnn::Compute::CpuRef}, runtime->GetDeviceSpec(), armnn::OptimizerOptions(),
                        armnn::Optional<std::vector<std::string>&>(messages));
    if (!optimized) return fail(3, "optimization for CpuRef failed");
    armnn::NetworkId id = 0;
    std::string error;
    if (runtime->LoadNetwork(id, std::move(optimized), error, armnn::INetworkProperties()) != armnn::Status::Success)
      return fail(3, "LoadNetwork: " + error);

    const size_t in_bytes = in_bind.second.GetNumBytes();
    const size_t out_bytes = out_bind.second.GetNumBytes();
    if (in_bytes == 0 || input.size() % in_bytes != 0)
      return fail(2, "input file size " + std::to_string(input.size()) + " is not a multiple of one sample (" +
                         std::to_string(in_bytes) + " bytes)");
    const size_t n = input.size() / in_bytes;
    std::vector<char> output(n * out_bytes);
    for (size_t i = 0; i < n; ++i) {
      armnn::InputTensors inputs{{in_bind.first, armnn::ConstTensor(in_bind.second, input.data() + i * in_bytes)}};
      armnn::OutputTensors outputs{{out_bind.first, armnn::Tensor(out_bind.second, output.data() + i * out_bytes)}};
      if (runtime->EnqueueWorkload(id, inputs, outputs) != armnn::Status::Success)
        return fail(3, "EnqueueWorkload failed on sample " + std::to_string(i));
    }
    std::ofstream out_file(argv[3], std::ios::binary | std::ios::trunc);
    out_file.write(output.data(), static_cast<std::streamsize>(output.size()));
    if (!out_file) return fail(2, std::string("cannot write ") + argv[3]);
    std::fprintf(stderr, "qlite_armnn_runner: %zu samples\n", n);
    return 0;
  } catch (const armnn::Exception& e) {
    return fail(3, std::string("Arm NN: ") + e.what());
  } catch (const std::exception& e) {
    return fail(3, e.what());
  }
}
