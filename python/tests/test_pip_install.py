"""`pip install .` from the checkout, offline, taking the already-built extension (QLITE_CMAKE_BUILD_DIR).

The installed copy is imported from the --target directory alone (no build/python on the path) and must give
the same predictions and the same .tflite bytes as the package in the build tree.
"""
import importlib.util
import os
import subprocess
import sys

import numpy as np

import qlite
from conftest import QLITE_BIN, SOURCE_DIR, require_peer

BUILD_DIR = os.path.abspath(os.environ.get("QLITE_BUILD_DIR", str(QLITE_BIN.parent)))
CHECKOUT = str(SOURCE_DIR.resolve())

SCRIPT = r"""
import sys
import numpy as np
import qlite, qlite.tf as tf
from qlite import keras
assert qlite.__file__.startswith(sys.argv[1]), qlite.__file__
keras.utils.set_random_seed(2)
rng = np.random.default_rng(0)
x, y = rng.random((200, 6, 6)), rng.integers(0, 4, 200)
m = keras.Sequential([keras.layers.Flatten(input_shape=(6, 6)), keras.layers.Dense(8, activation="relu"),
                      keras.layers.Dense(4)])
m.compile(optimizer="adam", loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True), metrics=["accuracy"])
m.fit(x, y, epochs=2, batch_size=50, verbose=0)
c = tf.lite.TFLiteConverter.from_keras_model(m)
c.optimizations = [tf.lite.Optimize.DEFAULT]
c.representative_dataset = lambda: ([x[i:i + 1].astype(np.float32)] for i in range(20))
content = c.convert()
it = tf.lite.Interpreter(model_content=content)
it.allocate_tensors()
it.set_tensor(it.get_input_details()[0]["index"], x[:1].astype(np.float32))
it.invoke()
np.save(sys.argv[2], m.predict(x))
np.save(sys.argv[3], it.get_tensor(it.get_output_details()[0]["index"]))
open(sys.argv[4], "wb").write(content)
"""


def run_script(pythonpath, tmp_path, tag):
    out = [tmp_path / (tag + n) for n in ("_pred.npy", "_tfl.npy", ".tflite")]
    env = dict(os.environ, PYTHONPATH=str(pythonpath), PYTHONDONTWRITEBYTECODE="1")
    subprocess.run([sys.executable, "-c", SCRIPT, str(pythonpath)] + [str(p) for p in out], env=env, check=True,
                   capture_output=True, text=True)
    return np.load(out[0]), np.load(out[1]), out[2].read_bytes()


def test_pip_install_from_the_checkout(tmp_path):
    require_peer(importlib.util.find_spec("pip") is not None, "python3-pip (scripts/setup.sh --test installs it)")
    require_peer(importlib.util.find_spec("wheel") is not None, "python3-wheel (scripts/setup.sh --test)")
    target = tmp_path / "site"
    env = dict(os.environ, QLITE_CMAKE_BUILD_DIR=BUILD_DIR, PIP_NO_INDEX="1", PIP_NO_CACHE_DIR="1",
               PIP_DISABLE_PIP_VERSION_CHECK="1")
    p = subprocess.run([sys.executable, "-m", "pip", "install", "--no-build-isolation", "--no-deps", "--target",
                        str(target), CHECKOUT], env=env, capture_output=True, text=True, cwd=tmp_path)
    assert p.returncode == 0, p.stdout + p.stderr
    assert (target / "qlite" / "__init__.py").is_file()
    assert list((target / "qlite").glob("_qlite*.so"))
    installed = run_script(target, tmp_path, "installed")
    in_tree = run_script(os.path.dirname(os.path.dirname(qlite.__file__)), tmp_path, "tree")
    assert np.array_equal(installed[0], in_tree[0])
    assert np.array_equal(installed[1], in_tree[1])
    assert installed[2] == in_tree[2]


def test_a_missing_prebuilt_tree_is_one_clear_error(tmp_path):
    require_peer(importlib.util.find_spec("pip") is not None, "python3-pip (scripts/setup.sh --test installs it)")
    env = dict(os.environ, QLITE_CMAKE_BUILD_DIR=str(tmp_path / "nothing"), PIP_NO_INDEX="1", PIP_NO_CACHE_DIR="1",
               PIP_DISABLE_PIP_VERSION_CHECK="1")
    p = subprocess.run([sys.executable, "-m", "pip", "install", "--no-build-isolation", "--no-deps", "--target",
                        str(tmp_path / "site"), CHECKOUT], env=env, capture_output=True, text=True,
                       cwd=tmp_path)
    assert p.returncode != 0
    assert "no built package at" in p.stdout + p.stderr
    assert not (tmp_path / "site" / "qlite").exists()
