#include <cstdlib>
#include <string>
#include <thread>

#include "qlite/core.h"

namespace qlite {

const CpuFeatures& cpu_features() {
  static const CpuFeatures f = [] {
    CpuFeatures c;
#if defined(__x86_64__) || defined(__i386__)
    __builtin_cpu_init();
    c.avx2 = __builtin_cpu_supports("avx2");
    c.fma = __builtin_cpu_supports("fma");
    c.f16c = c.avx2;  // every AVX2 CPU qlite targets has F16C; checked below where available
#if defined(__GNUC__) && !defined(__clang__) && __GNUC__ >= 11
    c.f16c = __builtin_cpu_supports("f16c");
#endif
    c.avx512f = __builtin_cpu_supports("avx512f");
    c.avx512bw = __builtin_cpu_supports("avx512bw");
    c.avx512dq = __builtin_cpu_supports("avx512dq");
    c.avx512vl = __builtin_cpu_supports("avx512vl");
    c.avx512vnni = __builtin_cpu_supports("avx512vnni");
#endif
    return c;
  }();
  return f;
}

const char* isa_name(Isa isa) {
  switch (isa) {
    case Isa::kReference: return "reference";
    case Isa::kAvx2: return "avx2";
    case Isa::kAvx512: return "avx512";
  }
  return "unknown";
}

namespace {
Isa widest_supported() {
  const CpuFeatures& c = cpu_features();
  if (c.avx512f && c.avx512bw && c.avx512dq && c.avx512vl && c.avx512vnni && c.avx2 && c.fma && c.f16c)
    return Isa::kAvx512;
  if (c.avx2 && c.fma && c.f16c) return Isa::kAvx2;
  return Isa::kReference;
}
}  // namespace

Isa active_isa() {
  static const Isa isa = [] {
    const Isa widest = widest_supported();
    const char* env = std::getenv("QLITE_ISA");
    if (!env || !*env) return widest;
    const std::string want(env);
    Isa asked;
    if (want == "reference" || want == "portable") asked = Isa::kReference;
    else if (want == "avx2") asked = Isa::kAvx2;
    else if (want == "avx512" || want == "avx512vnni") asked = Isa::kAvx512;
    else throw Error("QLITE_ISA='" + want + "' is not one of reference, avx2, avx512");
    if (static_cast<int>(asked) > static_cast<int>(widest))
      throw Error("QLITE_ISA=" + want + " asks for a path this CPU does not support (widest: " +
                  isa_name(widest) + ")");
    return asked;
  }();
  return isa;
}

int hardware_threads() {
  const unsigned n = std::thread::hardware_concurrency();
  return n == 0 ? 1 : static_cast<int>(n);
}

}  // namespace qlite
