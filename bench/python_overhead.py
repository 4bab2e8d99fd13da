#!/usr/bin/env python3
"""What the Python package costs over the C++ paths it calls: Interpreter.invoke latency at batch 1 on the
seed int8 model against `qlite bench`, and Model.fit training throughput against `qlite train`.

When build/bench/runtime_vs_tflite is built, each round also times the same file in TensorFlow Lite 2.9's C
API (no Python; built-in kernels and XNNPACK, one thread), as the reference both qlite figures are read against.

Rounds alternate (C++, Python, C++, Python, ...) so a change in machine load hits both; every figure is a
median. Run after the normal build, with Debian's interpreter:

  PYTHONPATH=build/python /usr/bin/python3 bench/python_overhead.py [--rounds 5] [--images 10000]
"""
import argparse
import json
import os
import pathlib
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np

ROOT = pathlib.Path(__file__).resolve().parents[1]


def run(cmd):
    p = subprocess.run([str(c) for c in cmd], capture_output=True, text=True)
    if p.returncode != 0:
        sys.exit("%s failed: %s" % (" ".join(map(str, cmd)), p.stderr))
    return p.stdout


def python_invoke_us(path, runs, warmup):
    from qlite.lite import Interpreter
    it = Interpreter(model_path=str(path))
    it.allocate_tensors()
    inp, out = it.get_input_details()[0], it.get_output_details()[0]
    x = np.random.default_rng(1).integers(-128, 128, size=tuple(inp["shape"]), dtype=np.int8)
    it.set_tensor(inp["index"], x)
    for _ in range(warmup):
        it.invoke()
    clock = time.perf_counter_ns
    invoke_only = []
    for _ in range(runs):
        t0 = clock()
        it.invoke()
        invoke_only.append(clock() - t0)
    full = []
    for _ in range(runs):
        t0 = clock()
        it.set_tensor(inp["index"], x)
        it.invoke()
        it.get_tensor(out["index"])
        full.append(clock() - t0)
    return statistics.median(invoke_only) / 1e3, statistics.median(full) / 1e3


def python_fit(x, y, seed):
    from qlite import keras
    keras.utils.set_random_seed(seed)
    model = keras.Sequential([
        keras.layers.InputLayer(input_shape=(28, 28)), keras.layers.Reshape((28, 28, 1)),
        keras.layers.Conv2D(12, (3, 3), activation="relu"), keras.layers.MaxPooling2D((2, 2)),
        keras.layers.Flatten(), keras.layers.Dense(10)])
    model.compile(optimizer="adam", loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                  metrics=["accuracy"])
    t0 = time.perf_counter()
    h = model.fit(x, y, epochs=1, validation_split=0.0, verbose=0)
    wall = time.perf_counter() - t0
    return h.images_per_second, h.params["samples"] / wall


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--images", type=int, default=10000, help="training images per fit (first N of the split)")
    ap.add_argument("--runs", type=int, default=2000, help="timed invokes per round")
    ap.add_argument("--qlite", default=str(ROOT / "build" / "qlite"))
    ap.add_argument("--runtime-vs-tflite", default=str(ROOT / "build" / "bench" / "runtime_vs_tflite"),
                    help="the TFLite 2.9 comparison (skipped when the file is missing)")
    a = ap.parse_args()
    from qlite import keras
    (x, y), _ = keras.datasets.fashion_mnist.load_data()
    x, y = x[:a.images] / 255.0, y[:a.images]

    with tempfile.TemporaryDirectory() as d:
        d = pathlib.Path(d)
        run([a.qlite, "train", "--subset", 2000, "--out", d / "m", "--quiet"])
        model = d / "seed_int8.tflite"
        run([a.qlite, "convert", "--model", d / "m", "--mode", "int8", "--io", "int8", "--out", model, "--quiet"])
        cpp_lat, py_inv, py_full, cpp_fit, py_fit_loop, py_fit_wall, py_fit_wall32 = [], [], [], [], [], [], []
        tflite = {}  # engine name -> medians per round (TFLite 2.9's C API, built-in and XNNPACK)
        tflite_bench = pathlib.Path(a.runtime_vs_tflite)
        x32 = x.astype(np.float32)  # float32 C-contiguous: fit reads it in place
        for r in range(a.rounds):
            j = json.loads(run([a.qlite, "bench", model, "--runs", a.runs, "--json", "-", "--quiet"]))
            cpp_lat.append(j["latency_us_median"])
            inv, full = python_invoke_us(model, a.runs, 100)
            py_inv.append(inv)
            py_full.append(full)
            if tflite_bench.exists():
                out = d / "tflite.json"
                run([tflite_bench, "--file", model, "--rounds", 1, "--runs1", a.runs, "--json", out])
                for res in json.loads(out.read_text()).get("results", []):
                    if res["engine"].startswith("TFLite"):
                        tflite.setdefault(res["engine"], []).append(res["median_us"])
            j = json.loads(run([a.qlite, "train", "--subset", a.images, "--seed", r, "--validation-split", 0,
                                "--out", d / ("t%d" % r), "--quiet", "--json", "-"]))
            cpp_fit.append(j["train_images_per_second"])
            loop, wall = python_fit(x, y, r)
            py_fit_loop.append(loop)
            py_fit_wall.append(wall)
            py_fit_wall32.append(python_fit(x32, y, r)[1])
    med = statistics.median
    print("rounds: %d (alternating C++ / Python), medians; machine load shared with other work" % a.rounds)
    print("invoke, batch 1, seed int8 model (int8 I/O):")
    print("  qlite bench (C++)                      %8.3f us" % med(cpp_lat))
    print("  Interpreter.invoke() (Python)          %8.3f us   (+%.3f us)" % (med(py_inv), med(py_inv) - med(cpp_lat)))
    print("  set_tensor + invoke + get_tensor       %8.3f us   (+%.3f us)" % (med(py_full), med(py_full) - med(cpp_lat)))
    for name, us in sorted(tflite.items()):
        print("  %-38s %8.3f us   (C API, no Python; qlite bench %.2fx, invoke() %.2fx its latency)"
              % (name + " 2.9", med(us), med(cpp_lat) / med(us), med(py_inv) / med(us)))
    if not tflite:
        print("  (TensorFlow Lite 2.9 not compared: %s missing or the peer library absent)" % tflite_bench)
    print("fit, seed model, 1 epoch, %d images (no validation), batch 32, 1 thread:" % a.images)
    print("  qlite train (C++ loop)                 %8.0f images/s" % med(cpp_fit))
    print("  Model.fit (same C++ loop, from Python) %8.0f images/s   (ratio %.3f)" % (med(py_fit_loop),
                                                                                   med(py_fit_loop) / med(cpp_fit)))
    print("  Model.fit wall clock, float64 x        %8.0f images/s   (ratio %.3f; incl. the float32 conversion)"
          % (med(py_fit_wall), med(py_fit_wall) / med(cpp_fit)))
    print("  Model.fit wall clock, float32 x        %8.0f images/s   (ratio %.3f; x read in place)"
          % (med(py_fit_wall32), med(py_fit_wall32) / med(cpp_fit)))


if __name__ == "__main__":
    main()
