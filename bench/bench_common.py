"""Shared parts of the Python benchmarks against PyTorch (train_vs_pytorch.py,
mobilenet_vs_pytorch.py): data reading, prerequisite checks, the PyTorch worker
subprocess and the qlite CLI runner. See bench/README.md.

Imported by scripts in this folder (Python puts a script's own folder first on
sys.path, so `import bench_common` works however the script is started).
"""
import argparse
import gzip
import importlib.util
import json
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SYSTEM_FASHION = "/usr/share/datasets/fashion-mnist"
VALIDATION_SPLIT = 0.1

# Without these glibc returns PyTorch's large per-step buffers to the kernel
# after every step and they page-fault in again on the next one.
TORCH_ENV = {"MALLOC_MMAP_THRESHOLD_": "33554432", "MALLOC_TRIM_THRESHOLD_": "1073741824"}


def default_data_dir():
    env = os.environ.get("QLITE_DATA_DIR")
    if env and os.path.exists(os.path.join(env, "fashion-mnist", "train-images-idx3-ubyte.gz")):
        return os.path.join(env, "fashion-mnist")
    return SYSTEM_FASHION


def add_common_options(ap):
    """The options every benchmark of this kind takes."""
    ap.add_argument("--repeats", type=int, default=3, help="interleaved rounds (default 3)")
    ap.add_argument("--qlite", default=os.path.join(ROOT, "build", "qlite"),
                    help="qlite CLI binary (default: build/qlite in the project)")
    ap.add_argument("--no-qlite", action="store_true", help="run only the PyTorch half")
    ap.add_argument("--data-dir", default=None,
                    help="directory with the four Fashion-MNIST .gz IDX files "
                         f"(default: $QLITE_DATA_DIR/fashion-mnist if present, else {SYSTEM_FASHION})")
    ap.add_argument("--threads", default="1,2", help="thread counts to compare (default 1,2)")
    ap.add_argument("--seed", type=int, default=1234, help=argparse.SUPPRESS)
    ap.add_argument("--torch-worker", action="store_true", help=argparse.SUPPRESS)


def check_prerequisites(args):
    """Exits with a one-line message when PyTorch/numpy or the data is missing.
    Returns (data_dir for PyTorch, --data argument for qlite, thread counts)."""
    if importlib.util.find_spec("torch") is None or importlib.util.find_spec("numpy") is None:
        sys.exit(f"error: PyTorch (or numpy) is not importable by {sys.executable}. "
                 "Install Debian's python3-torch (apt-get install python3-torch) and run this "
                 "script with /usr/bin/python3.")
    data_dir = args.data_dir or default_data_dir()
    if not os.path.exists(os.path.join(data_dir, "train-images-idx3-ubyte.gz")):
        sys.exit(f"error: no train-images-idx3-ubyte.gz in {data_dir}: "
                 "apt-get install dataset-fashion-mnist, or pass --data-dir")
    # qlite reads the same directory when one was given, else its named dataset.
    qlite_data = args.data_dir if args.data_dir else "fashion-mnist"
    return data_dir, qlite_data, [int(t) for t in args.threads.split(",")]


def qlite_binary_problem(path):
    """None when `path` is an executable, else why not (for a warning)."""
    if os.path.isfile(path) and os.access(path, os.X_OK):
        return None
    return (f"qlite CLI not found at {path}: build it (scripts/build.sh, or "
            "cmake --build build --target qlite_cli) or pass --qlite PATH")


# ---------------------------------------------------------------- PyTorch side

def read_idx_gz(path, ndim):
    import numpy as np
    with gzip.open(path, "rb") as f:
        raw = f.read()
    if raw[:2] != b"\0\0" or raw[2] != 0x08 or raw[3] != ndim:
        raise SystemExit(f"{path}: not an unsigned-byte IDX file with {ndim} dims")
    dims = [int.from_bytes(raw[4 + 4 * i:8 + 4 * i], "big") for i in range(ndim)]
    data = np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * ndim)
    return data.reshape(dims)


def load_fashion_torch(data_dir):
    """Fashion-MNIST as torch tensors: images float32 in [0, 1] shaped (N, 28, 28),
    labels int64. Returns (x_train, y_train, x_val, y_val, x_test, y_test), the
    validation part being the last 10% of the training file, as Keras holds it out."""
    import numpy as np
    import torch
    x_train = read_idx_gz(os.path.join(data_dir, "train-images-idx3-ubyte.gz"), 3)
    y_train = read_idx_gz(os.path.join(data_dir, "train-labels-idx1-ubyte.gz"), 1)
    x_test = read_idx_gz(os.path.join(data_dir, "t10k-images-idx3-ubyte.gz"), 3)
    y_test = read_idx_gz(os.path.join(data_dir, "t10k-labels-idx1-ubyte.gz"), 1)
    to_x = lambda a: torch.from_numpy(a.astype(np.float32) / np.float32(255.0))
    to_y = lambda a: torch.from_numpy(a.astype(np.int64))
    n_train = int(len(x_train) * (1 - VALIDATION_SPLIT))
    return (to_x(x_train[:n_train]), to_y(y_train[:n_train]),
            to_x(x_train[n_train:]), to_y(y_train[n_train:]), to_x(x_test), to_y(y_test))


def run_torch_worker(script, threads, worker_args):
    """Runs `script --torch-worker --threads T WORKER_ARGS` in a fresh interpreter
    with PyTorch's thread and malloc settings; returns its last stdout line as JSON."""
    env = dict(os.environ, **TORCH_ENV, OMP_NUM_THREADS=str(threads), MKL_NUM_THREADS=str(threads))
    cmd = [sys.executable, os.path.abspath(script), "--torch-worker", "--threads", str(threads),
           *worker_args]
    p = subprocess.run(cmd, env=env, capture_output=True, text=True)
    if p.returncode != 0:
        raise RuntimeError(f"PyTorch run failed (exit {p.returncode}):\n{p.stderr[-2000:]}")
    return json.loads(p.stdout.strip().splitlines()[-1])


# ---------------------------------------------------------------- qlite side

def run_qlite_json(cmd, out_json, keys):
    """Runs one qlite CLI command that writes `out_json`; returns the parsed JSON.
    RuntimeError when the command fails or the JSON lacks one of `keys`."""
    p = subprocess.run(cmd, capture_output=True, text=True)
    if p.returncode != 0:
        raise RuntimeError(f"`{' '.join(cmd)}` failed (exit {p.returncode}):\n"
                           f"{(p.stderr or p.stdout)[-2000:]}")
    with open(out_json) as f:
        r = json.load(f)
    for key in keys:
        if key not in r:
            raise RuntimeError(f"{out_json} from `{' '.join(cmd)}` has no '{key}'")
    return r


# ---------------------------------------------------------------- printing

def fmt_row(name, values, width=8):
    return f"  {name:<{width}}" + "".join(f"{v:>12.1f}" if v is not None else f"{'-':>12}"
                                         for v in values)


def fmt_header(threads, width=8):
    return "  " + " " * width + "".join(f"{'threads=' + str(t):>12}" for t in threads)
