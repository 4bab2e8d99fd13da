#!/usr/bin/env bash
# Runs every libFuzzer target in fuzz/ (ASan + UBSan) for a bounded time and
# prints one line per target. Installs clang on first use.
#
#   scripts/fuzz.sh [SECONDS_PER_TARGET] [TARGET ...]     (default 60 s, all targets)
#   scripts/fuzz.sh 300 tflite_interpreter_fuzz
#
# Targets: idx_fuzz, safetensors_fuzz, tflite_reader_fuzz, tflite_interpreter_fuzz.
# Corpora persist in build-fuzz/corpus/<target> (seeded by the targets
# themselves), so later runs continue where earlier ones stopped. A crash
# leaves its input as build-fuzz/crash-* and makes the script exit 1.
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-60}
shift || true
if ! [[ "$secs" =~ ^[0-9]+$ ]] || [ "$secs" -lt 1 ]; then
  echo "fuzz: SECONDS_PER_TARGET must be a positive integer, got '$secs'" >&2
  exit 2
fi
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  targets=()
  for f in fuzz/*.cpp; do targets+=("$(basename "$f" .cpp)"); done
fi
for t in "${targets[@]}"; do
  if [ ! -f "fuzz/$t.cpp" ]; then
    echo "fuzz: no target '$t' (fuzz/$t.cpp)" >&2
    exit 2
  fi
done

scripts/setup.sh clang libclang-rt-14-dev
BUILD=${BUILD_DIR:-build-fuzz}
CXX=clang++ cmake -S . -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DQLITE_BUILD_FUZZ=ON \
  -DQLITE_SANITIZE=ON -DQLITE_BUILD_TESTS=OFF -DQLITE_BUILD_BENCH=OFF >/dev/null
build_targets=()
for t in "${targets[@]}"; do build_targets+=("fuzz_$t"); done
cmake --build "$BUILD" --parallel "$(nproc)" --target "${build_targets[@]}"

status=0
for t in "${targets[@]}"; do
  corpus="$BUILD/corpus/$t"
  mkdir -p "$corpus"
  log="$BUILD/$t.log"
  set +e
  (cd "$BUILD" && QLITE_FUZZ_WRITE_SEEDS="corpus/$t" "./fuzz/fuzz_$t" "corpus/$t" \
      -max_total_time="$secs" -rss_limit_mb=2048 -timeout=10 -print_final_stats=1) >"$log" 2>&1
  rc=$?
  set -e
  runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' || echo "?")
  files=$(find "$corpus" -type f | wc -l)
  if [ $rc -eq 0 ]; then
    echo "fuzz: $t: ${secs} s, ${runs} runs, corpus ${files} files, no crash"
  else
    echo "fuzz: $t: FAILED (exit $rc) after ${runs} runs; see $log and $BUILD/crash-*"
    status=1
  fi
done
exit $status
