#!/usr/bin/env bash
# The README's main command: installs what is missing, builds, and runs the main demo
# (train the seed model on Fashion-MNIST for one epoch, save it, evaluate it).
# Extra arguments go to `qlite train`.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
bash scripts/build.sh
build/qlite train --data fashion-mnist --epochs 1 --batch-size 32 --validation-split 0.1 --out runs/seed "$@"
build/qlite eval runs/seed --data fashion-mnist
