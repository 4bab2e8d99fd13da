#!/usr/bin/env bash
# Runs the libFuzzer targets in fuzz/ (ASan + UBSan) and prints one line per
# target. Installs clang on first use. See docs/FUZZING.md.
#
#   scripts/fuzz.sh [SECONDS_PER_TARGET] [TARGET ...]   run each for a time (default 60 s, all targets)
#   scripts/fuzz.sh --runs N [--max-seconds S] [TARGET ...]
#                                                       run each until N executions (libFuzzer -runs=N),
#                                                       or until S seconds if that comes first
#   scripts/fuzz.sh --merge [TARGET ...]                minimize build-fuzz/corpus/<target> and
#                                                       fuzz/corpus/<target> into fuzz/corpus/<target>
#
# Targets: idx_fuzz, safetensors_fuzz, model_json_fuzz, tflite_reader_fuzz,
# tflite_interpreter_fuzz (one per fuzz/*.cpp).
# Each run mutates build-fuzz/corpus/<target> (seeded by the target itself,
# kept between runs) and reads the committed fuzz/corpus/<target> and
# fuzz/regressions/<target>. Each line gives the executions
# (stat::number_of_executed_units), wall seconds (and the CPU seconds the
# fuzzer got), executions per wall second and the corpus size. A crash leaves its input as build-fuzz/crash-* and makes the
# script exit 1. Bad arguments: one line on stderr, exit 2.
# Environment: BUILD_DIR (default build-fuzz), JOBS (build parallelism,
# default nproc), MAX_LEN (largest input, default 65536), NO_BUILD=1 (run the
# binaries already built).
set -euo pipefail
cd "$(dirname "$0")/.."

usage_error() {
  echo "fuzz: $1 (usage: scripts/fuzz.sh [SECONDS] [TARGET...] | --runs N [--max-seconds S] [TARGET...] | --merge [TARGET...])" >&2
  exit 2
}

mode=time
limit=60
max_seconds=0
if [ $# -gt 0 ]; then
  case "$1" in
    --runs)
      mode=runs
      [ $# -ge 2 ] || usage_error "--runs needs a number of executions"
      limit=$2
      shift 2
      [[ "$limit" =~ ^[0-9]{1,12}$ ]] && [ "$limit" -ge 1 ] ||
        usage_error "--runs must be a positive integer of at most 12 digits, got '$limit'"
      if [ "${1:-}" = --max-seconds ]; then
        [ $# -ge 2 ] || usage_error "--max-seconds needs a number of seconds"
        max_seconds=$2
        shift 2
        [[ "$max_seconds" =~ ^[0-9]{1,9}$ ]] && [ "$max_seconds" -ge 1 ] ||
          usage_error "--max-seconds must be a positive integer of at most 9 digits, got '$max_seconds'"
      fi
      ;;
    --merge)
      mode=merge
      shift
      ;;
    -*)
      usage_error "unknown option '$1'"
      ;;
    *)
      if [[ "$1" =~ ^[0-9]+$ ]]; then
        [[ "$1" =~ ^[0-9]{1,9}$ ]] && [ "$1" -ge 1 ] ||
          usage_error "SECONDS_PER_TARGET must be a positive integer of at most 9 digits, got '$1'"
        limit=$1
        shift
      elif [ ! -f "fuzz/$1.cpp" ]; then
        usage_error "SECONDS_PER_TARGET must be a positive integer or a target name, got '$1'"
      fi
      ;;
  esac
fi
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  for f in fuzz/*_fuzz.cpp; do targets+=("$(basename "$f" .cpp)"); done
fi
for t in "${targets[@]}"; do
  if [[ ! "$t" =~ ^[a-z0-9_]+_fuzz$ ]] || [ ! -f "fuzz/$t.cpp" ]; then
    usage_error "no target '$t' (expected one of: $(cd fuzz && ls ./*_fuzz.cpp | sed 's|^\./||; s|\.cpp$||' | tr '\n' ' '| sed 's/ $//'))"
  fi
done

BUILD=${BUILD_DIR:-build-fuzz}
if [ "${NO_BUILD:-}" = 1 ]; then
  # Use the binaries already built (e.g. while another target of the same
  # build directory is being compiled).
  for t in "${targets[@]}"; do
    [ -x "$BUILD/fuzz/fuzz_$t" ] || usage_error "NO_BUILD=1 but $BUILD/fuzz/fuzz_$t is not built"
  done
else
  scripts/setup.sh clang libclang-rt-14-dev
  CXX=clang++ cmake -S . -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DQLITE_BUILD_FUZZ=ON \
    -DQLITE_SANITIZE=ON -DQLITE_BUILD_TESTS=OFF -DQLITE_BUILD_BENCH=OFF >/dev/null
  build_targets=()
  for t in "${targets[@]}"; do build_targets+=("fuzz_$t"); done
  cmake --build "$BUILD" --parallel "${JOBS:-$(nproc)}" --target "${build_targets[@]}"
fi

# Inputs larger than this are neither generated nor kept in fuzz/corpus
# (keeps mutation fast and the committed corpora small).
MAX_LEN=${MAX_LEN:-65536}
status=0
for t in "${targets[@]}"; do
  corpus="$BUILD/corpus/$t"
  mkdir -p "$corpus"
  # Read-only extra inputs: the committed corpus and regressions.
  extra=()
  for d in "fuzz/corpus/$t" "fuzz/regressions/$t"; do
    [ -d "$d" ] && extra+=("$PWD/$d")
  done
  log="$BUILD/$t.log"
  if [ "$mode" = merge ]; then
    out="$PWD/fuzz/corpus/$t"
    tmp="$BUILD/merge-$t"
    rm -rf "$tmp" && mkdir -p "$tmp"
    set +e
    committed=()
    [ -d "fuzz/corpus/$t" ] && committed+=("$PWD/fuzz/corpus/$t")
    # Regressions are replayed from their own folder; they do not join the corpus.
    (cd "$BUILD" && "./fuzz/fuzz_$t" -merge=1 -max_len="$MAX_LEN" -rss_limit_mb=2048 -timeout=10 \
        "merge-$t" "corpus/$t" "${committed[@]}") >"$log.merge" 2>&1
    rc=$?
    set -e
    if [ $rc -ne 0 ]; then
      echo "fuzz: $t: merge FAILED (exit $rc); see $log.merge"
      status=1
      continue
    fi
    # Content-named files (libFuzzer's SHA-1 names), so re-merging is stable.
    rm -rf "$out" && mkdir -p "$out"
    for f in "$tmp"/*; do cp "$f" "$out/$(sha1sum "$f" | cut -c1-40)"; done
    rm -rf "$tmp"
    echo "fuzz: $t: merged into fuzz/corpus/$t: $(find "$out" -type f | wc -l) files, $(du -sk "$out" | cut -f1) KiB"
    continue
  fi
  if [ "$mode" = runs ]; then
    stop=(-runs="$limit")
    [ "$max_seconds" -gt 0 ] && stop+=(-max_total_time="$max_seconds")
  else
    stop=(-max_total_time="$limit")
  fi
  start=$(date +%s.%N)
  set +e
  # bash's time keyword: the CPU seconds (user + system) the fuzzer got, which
  # on a loaded machine can be far fewer than the wall seconds.
  TIMEFORMAT='%U %S'
  { time { (cd "$BUILD" && QLITE_FUZZ_WRITE_SEEDS="corpus/$t" "./fuzz/fuzz_$t" "corpus/$t" "${extra[@]}" \
      "${stop[@]}" -max_len="$MAX_LEN" -rss_limit_mb=2048 -timeout=10 -print_final_stats=1) >"$log" 2>&1; }; } \
      2>"$BUILD/$t.cpu"
  rc=$?
  set -e
  end=$(date +%s.%N)
  cpu=$(awk '{ printf "%.0f", $1 + $2 }' "$BUILD/$t.cpu" 2>/dev/null || echo "?")
  runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' || echo "?")
  wall=$(awk -v a="$start" -v b="$end" 'BEGIN { printf "%.0f", b - a }')
  rate=$(awk -v n="$runs" -v a="$start" -v b="$end" 'BEGIN { if (n ~ /^[0-9]+$/ && b > a) printf "%.0f", n / (b - a); else print "?" }')
  files=$(find "$corpus" -type f | wc -l)
  goal=""
  if [ "$mode" = runs ] && [[ "$runs" =~ ^[0-9]+$ ]]; then
    if [ "$runs" -ge "$limit" ]; then goal=" (reached --runs $limit)"; else goal=" (stopped before --runs $limit)"; fi
  fi
  if [ $rc -eq 0 ]; then
    echo "fuzz: $t: ${runs} executions, ${wall} s (${cpu} s CPU), ${rate} exec/s, corpus ${files} files, no crash${goal}"
  elif [ $rc -eq 72 ]; then  # libFuzzer's exit code after SIGINT (-interrupted_exit_code)
    echo "fuzz: $t: interrupted after ${runs} executions, ${wall} s (${cpu} s CPU), ${rate} exec/s, corpus ${files} files, no crash${goal}"
  else
    echo "fuzz: $t: FAILED (exit $rc) after ${runs} executions, ${wall} s (${cpu} s CPU); see $log and $BUILD/crash-*"
    status=1
  fi
done
exit $status
