// The CLI's error paths: a user mistake is exit 2 with exactly one line on
// stderr, nothing on stdout and no file created or changed; exit 1 is only
// for bugs. Messages name the flag and the expectation; misspelt commands and
// flags get a suggestion; no input is read without a size limit; --json -
// leaves stdout one JSON document.
#include <gtest/gtest.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <iterator>
#include <map>
#include <thread>

#include "cli_helpers.h"
#include "qlite/convert.h"
#include "qlite/fileio.h"
#include "qlite/train.h"

using namespace qlite;
using namespace qlite::testing;
namespace fs = std::filesystem;

namespace {

struct CliRun {
  int code = -1;
  std::string out, err;
};

// Runs qlite in `cwd` with stdout and stderr captured apart (outside cwd).
CliRun run_in(const fs::path& cwd, const std::string& args) {
  TempDir io;
  const std::string cmd = "cd '" + cwd.string() + "' && timeout 120 " + qlite_bin() + " " + args + " >" + io / "out" +
                          " 2>" + io / "err" + " </dev/null";
  const int status = std::system(cmd.c_str());
  CliRun r;
  r.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  r.out = slurp(io / "out");
  r.err = slurp(io / "err");
  return r;
}

std::map<std::string, std::string> snapshot(const fs::path& dir) {
  std::map<std::string, std::string> r;
  for (const auto& e : fs::recursive_directory_iterator(dir)) {
    const bool file = e.is_regular_file() && !e.is_symlink();
    const std::string bytes = file ? slurp(e.path().string()) : std::string("<other>");
    r[e.path().string()] = std::to_string(bytes.size()) + " bytes, hash " + std::to_string(std::hash<std::string>{}(bytes));
  }
  return r;
}

size_t lines(const std::string& s) { return static_cast<size_t>(std::count(s.begin(), s.end(), '\n')); }

// A working directory with a saved seed model (m), a float .tflite (m.tflite),
// an int8-I/O .tflite (m8.tflite), an empty directory, input files and bad
// model JSONs. No dataset is needed to build it.
struct Workdir {
  TempDir tmp;
  Workdir() {
    auto m = make_seed_model(10, 1);
    m->compile(Adam(), SparseCategoricalCrossentropy{true});
    save_model(*m, tmp / "m");
    write_file_atomic(tmp / "m.tflite", std::span<const uint8_t>(convert::convert_model(*m, {}).bytes));
    Tensor rep({8, 28, 28});
    Rng rng(3);
    for (int64_t i = 0; i < rep.numel(); ++i) rep.data<float>()[i] = rng.uniform();
    convert::ConvertOptions o;
    o.mode = convert::Mode::kInt8;
    o.io = convert::IoType::kInt8;
    o.representative = &rep;
    write_file_atomic(tmp / "m8.tflite", std::span<const uint8_t>(convert::convert_model(*m, o).bytes));
    fs::create_directory(tmp.path / "emptydir");
    write_file_atomic(tmp / "f1.bin", std::string(28 * 28 * 4, '\0'));  // one float32 image
    write_file_atomic(tmp / "notes.txt", std::string("not a model\n"));
    write_file_atomic(tmp / "bad_class.json",
                      std::string(R"({"class_name":"Sequential","config":{"name":"s","layers":[)"
                                  R"({"class_name":"InputLayer","config":{"name":"in","batch_input_shape":[null,28,28]}},)"
                                  R"({"class_name":"Dropuot","config":{"name":"d","rate":0.5}}]}})"));
  }
  fs::path path() const { return tmp.path; }
};

}  // namespace

TEST(CliErrors, EveryUserMistakeIsExit2OneLineNoOutputNoFiles) {
  Workdir w;
  const std::vector<std::string> bad = {
      // top level
      "trian",
      "",
      // train
      "train --epochs 0 --out o",
      "train --epcohs 1 --out o",
      "train --out o --seed -1",
      "train --out o --batch-size 0",
      "train --model nosuch.json --out o",
      "train --model emptydir --out o",
      "train --model bad_class.json --out o",
      "train --model m.tflite --out o",
      "train --out o --json ''",
      "train --out o --data nosuch",
      "train --out o --optimizer rmsprop",
      "train",
      "train --model m --out m",
      "train --model m/model.json --out m",
      "train --model m --out m/sub",
      "train --resume m --out o",  // saved before any training: no optimizer state
      "train --resume m --initial-weights m --out o",
      "train --resume m --model seed --out o",
      "train --resume nosuch --out o",
      "train --resume notes.txt --out o",
      "train --resume m --out m",
      "train --resume '' --out o",
      "train --initial-weights emptydir --out o",
      "train --initial-weights m --model mobilenet-style --out o",
      "train --initial-weights m --out m",
      // qat
      "qat --model m --out m",
      "qat --model m --out ./m/",
      "qat --model m --out q --only ''",
      "qat --model emptydir --out q",
      "qat --model m.tflite --out q",
      "qat --model m --out q --lr nan",
      "qat --model m --out q --seed -1",
      "qat --model m --out q --freeze-bn-after -1",
      "qat --model m --out q --freeze-bn-after 1.5",
      "qat --model m --out q --freeze-bn-after abc",
      "qat --model m --out q --freeze-bn-after ''",
      "qat --model m --out q --freeze-bn-after 99999999999999999999",
      // eval
      "eval missing.tflite",
      "eval emptydir",
      "eval notes.txt",
      "eval m --json emptydir",
      "eval m --batch-size 0",
      "eval m extra",
      // convert
      "convert --model m --out emptydir",
      "convert --model m --mode int9 --out o.tflite",
      "convert --model m --out ''",
      "convert --model m.tflite --out o.tflite",
      "convert --model m --out o.tflite --representative 0",
      // inspect
      "inspect emptydir",
      "inspect /dev/zero",
      "inspect notes.txt",
      "inspect missing.tflite",
      // run
      "run m.tflite --input /dev/zero --output o",
      "run m.tflite --input /dev/zero --output o --batch 1",
      "run /dev/urandom --input f1.bin --output o",
      "run m.tflite --input f1.bin --output ''",
      "run m8.tflite --input f1.bin --output o",
      "run m.tflite --input emptydir --output o",
      "run m.tflite --input f1.bin --input f1.bin --output o",
      "run m.tflite --input notes.txt --output o",
      // bench
      "bench emptydir",
      "bench m.tflite --batch 0",
      "bench m.tflite --isa foo",
      "bench m.tflite --json emptydir",
      "bench m.tflite --seed -1",
      // demo
      "demo --epochs 0",
      "demo --bench-seconds nan",
      "demo --seed -1",
      "demo --subset 0",
      "demo --data nosuch --out newdemo",
  };
  const auto before = snapshot(w.path());
  for (const std::string& args : bad) {
    const CliRun r = run_in(w.path(), args);
    EXPECT_EQ(r.code, 2) << "qlite " << args << "\n" << r.err;
    EXPECT_EQ(lines(r.err), 1u) << "qlite " << args << "\n" << r.err;
    EXPECT_EQ(r.err.rfind("qlite: error: ", 0), 0u) << "qlite " << args << "\n" << r.err;
    EXPECT_EQ(r.out, "") << "qlite " << args;
    EXPECT_EQ(snapshot(w.path()), before) << "qlite " << args;
  }
}

TEST(CliErrors, MessagesNameTheFlagAndSuggest) {
  Workdir w;
  auto err = [&](const std::string& args) { return run_in(w.path(), args).err; };
  EXPECT_EQ(err("train --epochs 0 --out o"), "qlite: error: --epochs must be at least 1\n");
  EXPECT_EQ(err("bench m.tflite --runs 0"), "qlite: error: --runs must be at least 1\n");
  EXPECT_EQ(err("train --threads 300 --out o"), "qlite: error: --threads must be at most 256\n");
  EXPECT_NE(err("trian").find("unknown command 'trian'; did you mean 'train'?"), std::string::npos);
  const std::string flag = err("train --epcohs 1 --out o");
  EXPECT_NE(flag.find("unknown flag '--epcohs'"), std::string::npos) << flag;
  EXPECT_NE(flag.find("did you mean '--epochs'?"), std::string::npos) << flag;
  EXPECT_NE(err("eval m --bach-size 3").find("did you mean '--batch-size'?"), std::string::npos);
  const std::string missing = err("eval missing.tflite");
  EXPECT_EQ(missing.find("model directory"), std::string::npos) << missing;
  EXPECT_NE(missing.find("missing.tflite"), std::string::npos) << missing;
  for (const std::string args : {"eval m --json emptydir", "bench m.tflite --json emptydir",
                                  "convert --model m --out o.tflite --json emptydir"}) {
    const std::string e = err(args);
    EXPECT_EQ(e.find("Success"), std::string::npos) << e;
    EXPECT_NE(e.find("is a directory"), std::string::npos) << e;
  }
  EXPECT_NE(err("qat --model m --out q --only ''").find("--only must not be empty"), std::string::npos);
  EXPECT_NE(err("qat --model m --out q --freeze-bn-after -1").find("--freeze-bn-after must be"), std::string::npos);
  EXPECT_NE(err("qat --model m --out q --freeze-bn-after 1.5").find("--freeze-bn-after"), std::string::npos);
  EXPECT_NE(err("run m.tflite --input f1.bin --output ''").find("--output must not be empty"), std::string::npos);
  EXPECT_NE(err("train --out o --seed -1").find("--seed must be"), std::string::npos);
  EXPECT_NE(err("demo --bench-seconds nan").find("--bench-seconds"), std::string::npos);
  // The library's list of layer classes, passed through in one line.
  const std::string cls = err("train --model bad_class.json --out o");
  EXPECT_NE(cls.find("unknown layer class 'Dropuot'"), std::string::npos) << cls;
  EXPECT_NE(cls.find("Conv2D, Dense"), std::string::npos) << cls;
}

// An unbounded read would end in bad_alloc (exit 1) or never: the refusal is
// an exit 2 naming the file kind or the expected size. No wall-clock limit.
TEST(CliErrors, UnboundedInputsAreRefused) {
  Workdir w;
  for (const std::string args : {"inspect /dev/zero", "run m.tflite --input /dev/zero --output o",
                                  "run m.tflite --input /dev/zero --output o --batch 2",
                                  "run /dev/urandom --input f1.bin --output o", "bench /dev/zero"}) {
    const CliRun r = run_in(w.path(), args);
    EXPECT_EQ(r.code, 2) << args << "\n" << r.err;
    EXPECT_EQ(r.err.find("bad_alloc"), std::string::npos) << r.err;
  }
  EXPECT_NE(run_in(w.path(), "inspect /dev/zero").err.find("not a regular file"), std::string::npos);
  EXPECT_NE(run_in(w.path(), "run m.tflite --input /dev/zero --output o --batch 1").err.find("expected exactly 3136"),
            std::string::npos);
}

TEST(CliErrors, Int8RunNeedsBatchWhenTheFileCouldBeFloat) {
  Workdir w;
  // One float32 image is 4 int8 images in size: no batch is guessed.
  const CliRun amb = run_in(w.path(), "run m8.tflite --input f1.bin --output o");
  EXPECT_EQ(amb.code, 2) << amb.err;
  EXPECT_NE(amb.err.find("--batch"), std::string::npos) << amb.err;
  EXPECT_FALSE(fs::exists(w.tmp / "o0.bin"));
  // --batch 1 says the file is the wrong size for one int8 image.
  const CliRun one = run_in(w.path(), "run m8.tflite --input f1.bin --output o --batch 1");
  EXPECT_EQ(one.code, 2) << one.err;
  EXPECT_NE(one.err.find("expected exactly 784"), std::string::npos) << one.err;
  // --batch 4: the file as four int8 images, as asked.
  const CliRun four = run_in(w.path(), "run m8.tflite --input f1.bin --output o --batch 4");
  EXPECT_EQ(four.code, 0) << four.err;
  EXPECT_EQ(fs::file_size(w.tmp / "o0.bin"), 40u);
  // One int8 image and one float32 image are unambiguous.
  write_file_atomic(w.tmp / "i1.bin", std::string(784, '\0'));
  EXPECT_EQ(run_in(w.path(), "run m8.tflite --input i1.bin --output p").code, 0);
  EXPECT_EQ(fs::file_size(w.tmp / "p0.bin"), 10u);
  EXPECT_EQ(run_in(w.path(), "run m.tflite --input f1.bin --output q").code, 0);
  EXPECT_EQ(fs::file_size(w.tmp / "q0.bin"), 40u);
}

TEST(CliErrors, EveryFlagHasAHelpText) {
  for (const std::string cmd : {"train", "qat", "eval", "convert", "inspect", "run", "bench", "demo"}) {
    const CmdResult r = run_qlite(cmd + " --help");
    ASSERT_EQ(r.exit_code, 0) << r.output;
    std::istringstream in(r.output);
    std::vector<std::string> ls;
    for (std::string l; std::getline(in, l);) ls.push_back(l);
    for (size_t i = 0; i < ls.size(); ++i) {
      const std::string& l = ls[i];
      if (l.rfind("  -", 0) != 0) continue;  // an option line
      // The description is after the name column, or on the next line indented past it.
      const bool same_line = l.size() > 30 && l.find_first_not_of(' ', 30) != std::string::npos &&
                             l.find("  ", l.find_first_not_of(' ')) != std::string::npos &&
                             l.find_first_not_of(' ', l.find("  ", l.find_first_not_of(' '))) != std::string::npos;
      const bool next_line = i + 1 < ls.size() && ls[i + 1].rfind(std::string(20, ' '), 0) == 0;
      EXPECT_TRUE(same_line || next_line) << "qlite " << cmd << ": no help text for: " << l;
    }
  }
}

TEST(CliErrors, TrainAcceptsAModelDirectoryAndWarnsAboutUnknownKeys) {
  QLITE_REQUIRE_FASHION_MNIST();
  Workdir w;
  const CliRun dir = run_in(w.path(), "train --quiet --subset 100 --model m --out t1");
  EXPECT_EQ(dir.code, 0) << dir.err;
  EXPECT_EQ(dir.err, "");
  EXPECT_TRUE(fs::exists(w.tmp / "t1/model.safetensors"));
  // A Keras config key qlite does not implement is named, not dropped silently.
  nlohmann::json j = read_json(w.tmp / "m/model.json");
  for (auto& l : j["config"]["layers"])
    if (l["class_name"] == "Dense") l["config"]["kernel_regularizer"] = {{"class_name", "L2"}};
  write_file_atomic(w.tmp / "reg.json", j.dump());
  const CliRun reg = run_in(w.path(), "train --quiet --subset 100 --model reg.json --out t2");
  EXPECT_EQ(reg.code, 0) << reg.err;
  EXPECT_EQ(lines(reg.err), 1u) << reg.err;
  EXPECT_NE(reg.err.find("warning"), std::string::npos) << reg.err;
  EXPECT_NE(reg.err.find("'dense'"), std::string::npos) << reg.err;
  EXPECT_NE(reg.err.find("'kernel_regularizer'"), std::string::npos) << reg.err;
}

TEST(CliErrors, JsonToStdoutIsTheOnlyThingOnStdout) {
  QLITE_REQUIRE_FASHION_MNIST();
  Workdir w;
  for (const std::string args :
       {"train --subset 200 --out t --json -", "qat --model m --subset 200 --out q --json -",
        "eval m --subset 200 --json -", "eval m.tflite --subset 200 --json -",
        "convert --model m --out c.tflite --json -", "bench m.tflite --runs 3 --warmup 1 --json -"}) {
    const CliRun r = run_in(w.path(), args);
    ASSERT_EQ(r.code, 0) << args << "\n" << r.err;
    nlohmann::json j;
    EXPECT_NO_THROW(j = nlohmann::json::parse(r.out)) << args << "\nstdout:\n" << r.out;
    EXPECT_TRUE(j.is_object()) << args;
    EXPECT_FALSE(r.err.empty()) << args << ": the human summary goes to stderr";
  }
}

// An existing --json destination that is not a regular file (a character
// device, a FIFO) is written in place after the work succeeded, never
// replaced by a regular file through a temporary file and rename; a write it
// refuses (ENOSPC from /dev/full) is one line, exit 2, and no other output
// (here convert's --out) appears.
TEST(CliErrors, JsonToADeviceOrFifoIsWrittenInPlace) {
  Workdir w;
  auto is_char_device = [](const char* p) {
    struct stat st{};
    return ::stat(p, &st) == 0 && S_ISCHR(st.st_mode);
  };
  ASSERT_TRUE(is_char_device("/dev/full") && is_char_device("/dev/null"));
  const auto before = snapshot(w.path());
  const CliRun full = run_in(w.path(), "convert --model m --mode float32 --out c.tflite --json /dev/full");
  EXPECT_EQ(full.code, 2) << full.err;
  EXPECT_EQ(lines(full.err), 1u) << full.err;
  EXPECT_NE(full.err.find("cannot write /dev/full: No space left on device"), std::string::npos) << full.err;
  EXPECT_EQ(full.out, "");
  EXPECT_TRUE(is_char_device("/dev/full")) << "/dev/full was replaced";
  EXPECT_EQ(snapshot(w.path()), before);

  const CliRun null = run_in(w.path(), "convert --model m --mode float32 --out c.tflite --json /dev/null");
  EXPECT_EQ(null.code, 0) << null.err;
  EXPECT_TRUE(is_char_device("/dev/null")) << "/dev/null was replaced";
  EXPECT_TRUE(fs::exists(w.tmp / "c.tflite"));

  // A FIFO: its reader gets the JSON document; the FIFO stays a FIFO.
  const std::string fifo = w.tmp / "report.fifo";
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  std::string received;
  std::thread reader([&] { received = slurp(fifo); });
  const CliRun piped = run_in(w.path(), "bench m.tflite --runs 3 --warmup 1 --json report.fifo");
  // Had qlite never opened the FIFO, the reader would wait in open(): a
  // writer that opens and closes it ends that read with nothing.
  if (const int fd = ::open(fifo.c_str(), O_WRONLY | O_NONBLOCK); fd >= 0) ::close(fd);
  reader.join();
  EXPECT_EQ(piped.code, 0) << piped.err;
  nlohmann::json j;
  EXPECT_NO_THROW(j = nlohmann::json::parse(received)) << received;
  EXPECT_TRUE(j.is_object());
  EXPECT_TRUE(fs::is_fifo(fifo)) << "the FIFO was replaced";
}
