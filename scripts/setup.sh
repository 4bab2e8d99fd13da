#!/usr/bin/env bash
# Installs the Debian packages that building, testing and the demo need.
# Idempotent: when everything is present it changes nothing and needs no network.
# Extra package names given as arguments are installed too (scripts/fuzz.sh: clang).
# --test adds the test dependencies: Debian's chromium, in which the tests load
# the demo's report.html headless (tests/report/), and python3-pip,
# python3-setuptools and python3-wheel, with which python/tests/test_pip_install.py
# runs `pip install .` offline, and ccache, which scripts/build.sh uses when
# present (the test command builds twice, Release and ASan).
set -euo pipefail

test_packages=()
if [ "${1:-}" = "--test" ]; then
  test_packages=(chromium python3-pip python3-setuptools python3-wheel ccache)
  shift
fi

packages=(
  g++ cmake ninja-build pkg-config
  libgtest-dev libgmock-dev libbenchmark-dev
  zlib1g-dev nlohmann-json3-dev libcli11-dev
  flatbuffers-compiler libflatbuffers-dev
  dataset-fashion-mnist
  python3-dev pybind11-dev python3-numpy python3-pytest
  "${test_packages[@]}"
  "$@"
)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "setup: all ${#packages[@]} packages present"
  exit 0
fi

echo "setup: installing ${missing[*]}"
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q
$SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
