#!/usr/bin/env bash
# The README's main command: installs what is missing, builds, and runs the main demo,
# `qlite demo`: trains the seed model on Fashion-MNIST, fine-tunes it with QAT, converts
# every variant to .tflite, measures each in qlite's runtime and writes runs/demo/report.{md,json,html}.
# Extra arguments go to `qlite demo` (e.g. --data mnist, --seed 1, --out DIR).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
bash scripts/build.sh
build/qlite demo --out runs/demo "$@"
