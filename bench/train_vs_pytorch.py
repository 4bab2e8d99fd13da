#!/usr/bin/python3
"""Training speed: qlite's CLI against PyTorch on the same model and recipe.

Model (the Keras seed model): Reshape(28, 28, 1) -> Conv2D(12, 3x3) + ReLU ->
MaxPool(2) -> Flatten -> Dense(10). Adam (lr 1e-3, betas 0.9/0.999, eps 1e-7),
cross-entropy, batch 32, 1 epoch on the first 90% of the Fashion-MNIST training
images (validation split 0.1 holds out the last 10%, as Keras does).

Speed is training images per second over the training loop only (no data
loading, no validation, no test). Runs are interleaved (qlite, torch, qlite,
torch, ...) for --repeats rounds and each figure is a median over rounds.

Run with Debian's Python, which has python3-torch (apt-get install python3-torch):
    /usr/bin/python3 bench/train_vs_pytorch.py [--repeats 3] [--qlite build/qlite]
See bench/README.md.
"""
import argparse
import gzip
import importlib.util
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SYSTEM_FASHION = "/usr/share/datasets/fashion-mnist"

# Without these glibc returns PyTorch's large per-step buffers to the kernel
# after every step and they page-fault in again on the next one.
TORCH_ENV = {"MALLOC_MMAP_THRESHOLD_": "33554432", "MALLOC_TRIM_THRESHOLD_": "1073741824"}


def default_data_dir():
    env = os.environ.get("QLITE_DATA_DIR")
    if env and os.path.exists(os.path.join(env, "fashion-mnist", "train-images-idx3-ubyte.gz")):
        return os.path.join(env, "fashion-mnist")
    return SYSTEM_FASHION


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


def torch_worker(args):
    """One training run in this process; prints one JSON line."""
    import numpy as np
    import torch
    from torch import nn

    torch.set_num_threads(args.threads)
    torch.set_num_interop_threads(1)
    torch.manual_seed(args.seed)

    d = args.data_dir
    x_train = read_idx_gz(os.path.join(d, "train-images-idx3-ubyte.gz"), 3)
    y_train = read_idx_gz(os.path.join(d, "train-labels-idx1-ubyte.gz"), 1)
    x_test = read_idx_gz(os.path.join(d, "t10k-images-idx3-ubyte.gz"), 3)
    y_test = read_idx_gz(os.path.join(d, "t10k-labels-idx1-ubyte.gz"), 1)
    to_x = lambda a: torch.from_numpy(a.astype(np.float32) / np.float32(255.0))
    to_y = lambda a: torch.from_numpy(a.astype(np.int64))
    n_train = int(len(x_train) * (1 - 0.1))  # Keras: the last 10% is validation
    xt, yt = to_x(x_train[:n_train]), to_y(y_train[:n_train])
    xv, yv = to_x(x_train[n_train:]), to_y(y_train[n_train:])
    xs, ys = to_x(x_test), to_y(y_test)

    class Reshape(nn.Module):
        def forward(self, x):
            return x.reshape(-1, 1, 28, 28)

    model = nn.Sequential(Reshape(), nn.Conv2d(1, 12, 3), nn.ReLU(), nn.MaxPool2d(2),
                          nn.Flatten(), nn.Linear(12 * 13 * 13, 10))
    # Keras's initialisers (glorot_uniform kernels, zero biases), so that
    # accuracies are comparable with a Keras-recipe trainer.
    for m in model.modules():
        if isinstance(m, (nn.Conv2d, nn.Linear)):
            nn.init.xavier_uniform_(m.weight)
            nn.init.zeros_(m.bias)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3, betas=(0.9, 0.999), eps=1e-7)
    loss_fn = nn.CrossEntropyLoss()

    # Shuffle once before the timer (Keras shuffles every epoch); batches are
    # then contiguous views, so the timed loop holds no gather cost.
    perm = torch.randperm(n_train)
    xt, yt = xt[perm].contiguous(), yt[perm].contiguous()
    batch = 32
    model.train()
    start = time.perf_counter()
    for i in range(0, n_train, batch):
        opt.zero_grad(set_to_none=True)
        loss = loss_fn(model(xt[i:i + batch]), yt[i:i + batch])
        loss.backward()
        opt.step()
    elapsed = time.perf_counter() - start

    model.eval()
    with torch.no_grad():
        val_acc = (model(xv).argmax(1) == yv).float().mean().item()
        test_acc = (model(xs).argmax(1) == ys).float().mean().item()
    print(json.dumps({"train_images_per_second": n_train / elapsed, "train_seconds": elapsed,
                      "train_images": n_train, "val_accuracy": val_acc, "test_accuracy": test_acc,
                      "torch_version": torch.__version__, "threads": args.threads}))


def run_torch(threads, data_dir, seed):
    env = dict(os.environ, **TORCH_ENV, OMP_NUM_THREADS=str(threads), MKL_NUM_THREADS=str(threads))
    cmd = [sys.executable, os.path.abspath(__file__), "--torch-worker", "--threads", str(threads),
           "--data-dir", data_dir, "--seed", str(seed)]
    p = subprocess.run(cmd, env=env, capture_output=True, text=True)
    if p.returncode != 0:
        raise RuntimeError(f"PyTorch run failed (exit {p.returncode}):\n{p.stderr[-2000:]}")
    return json.loads(p.stdout.strip().splitlines()[-1])


# ---------------------------------------------------------------- qlite side

def run_qlite(qlite, threads, data_arg):
    with tempfile.TemporaryDirectory(prefix="qlite_bench_") as tmp:
        out_json = os.path.join(tmp, "result.json")
        cmd = [qlite, "train", "--data", data_arg, "--epochs", "1", "--batch-size", "32",
               "--validation-split", "0.1", "--out", os.path.join(tmp, "model"), "--quiet",
               "--json", out_json, "--threads", str(threads)]
        p = subprocess.run(cmd, capture_output=True, text=True)
        if p.returncode != 0:
            raise RuntimeError(f"`{' '.join(cmd)}` failed (exit {p.returncode}):\n"
                               f"{(p.stderr or p.stdout)[-2000:]}")
        with open(out_json) as f:
            r = json.load(f)
    for key in ("train_images_per_second", "test_accuracy"):
        if key not in r:
            raise RuntimeError(f"{out_json} from `{' '.join(cmd)}` has no '{key}'")
    return r


# ---------------------------------------------------------------- driver

def fmt_row(name, values):
    return f"  {name:<8}" + "".join(f"{v:>12.1f}" if v is not None else f"{'-':>12}" for v in values)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
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
    args = ap.parse_args()

    if args.torch_worker:
        args.threads = int(args.threads)
        return torch_worker(args)

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
    threads = [int(t) for t in args.threads.split(",")]

    use_qlite = not args.no_qlite
    qlite_problem = None
    if use_qlite and not (os.path.isfile(args.qlite) and os.access(args.qlite, os.X_OK)):
        qlite_problem = (f"qlite CLI not found at {args.qlite}: build it (scripts/build.sh, or "
                         "cmake --build build --target qlite_cli) or pass --qlite PATH")
        use_qlite = False
        print(f"warning: {qlite_problem}; running PyTorch only", file=sys.stderr)

    speed = {("qlite", t): [] for t in threads} | {("pytorch", t): [] for t in threads}
    acc = {"qlite": [], "pytorch": []}
    for r in range(args.repeats):
        for t in threads:
            if use_qlite:
                try:
                    q = run_qlite(args.qlite, t, qlite_data)
                    speed["qlite", t].append(q["train_images_per_second"])
                    acc["qlite"].append(q["test_accuracy"])
                    print(f"round {r + 1}/{args.repeats}  qlite    threads={t}  "
                          f"{q['train_images_per_second']:9.1f} images/s  "
                          f"test accuracy {q['test_accuracy']:.4f}", flush=True)
                except RuntimeError as e:
                    qlite_problem = str(e)
                    use_qlite = False
                    print(f"warning: {e}\nwarning: continuing with PyTorch only", file=sys.stderr)
            try:
                p = run_torch(t, data_dir, args.seed + r)
            except RuntimeError as e:
                sys.exit(f"error: {e}")
            speed["pytorch", t].append(p["train_images_per_second"])
            acc["pytorch"].append(p["test_accuracy"])
            print(f"round {r + 1}/{args.repeats}  pytorch  threads={t}  "
                  f"{p['train_images_per_second']:9.1f} images/s  "
                  f"test accuracy {p['test_accuracy']:.4f}  (torch {p['torch_version']})", flush=True)

    med = {k: (statistics.median(v) if v else None) for k, v in speed.items()}
    print(f"\nmedian training images/s over {args.repeats} round(s), "
          f"{int(60000 * 0.9)} images, batch 32:")
    print("  " + " " * 8 + "".join(f"{'threads=' + str(t):>12}" for t in threads))
    for name in ("qlite", "pytorch"):
        print(fmt_row(name, [med[name, t] for t in threads]))
    for name in ("qlite", "pytorch"):
        if acc[name]:
            print(f"test accuracy {name}: median {statistics.median(acc[name]):.4f} "
                  f"(min {min(acc[name]):.4f}, max {max(acc[name]):.4f}, {len(acc[name])} runs)")
    best_q = max((med["qlite", t] for t in threads if med["qlite", t] is not None), default=None)
    best_p = max(med["pytorch", t] for t in threads)
    if best_q is None:
        why = "--no-qlite" if args.no_qlite else "qlite could not be run: see the warning above"
        print(f"ratio qlite best / pytorch best = n/a ({why})")
        return 0 if args.no_qlite else 3
    print(f"ratio qlite best / pytorch best = {best_q / best_p:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main() or 0)
