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
import json
import os
import statistics
import sys
import tempfile
import time

from bench_common import (add_common_options, check_prerequisites, fmt_header, fmt_row,
                          load_fashion_torch, qlite_binary_problem, run_qlite_json,
                          run_torch_worker)


# ---------------------------------------------------------------- PyTorch side

def torch_worker(args):
    """One training run in this process; prints one JSON line."""
    import torch
    from torch import nn

    torch.set_num_threads(args.threads)
    torch.set_num_interop_threads(1)
    torch.manual_seed(args.seed)

    xt, yt, xv, yv, xs, ys = load_fashion_torch(args.data_dir)
    n_train = len(xt)

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
    return run_torch_worker(__file__, threads, ["--data-dir", data_dir, "--seed", str(seed)])


# ---------------------------------------------------------------- qlite side

def run_qlite(qlite, threads, data_arg):
    with tempfile.TemporaryDirectory(prefix="qlite_bench_") as tmp:
        out_json = os.path.join(tmp, "result.json")
        cmd = [qlite, "train", "--data", data_arg, "--epochs", "1", "--batch-size", "32",
               "--validation-split", "0.1", "--out", os.path.join(tmp, "model"), "--quiet",
               "--json", out_json, "--threads", str(threads)]
        return run_qlite_json(cmd, out_json, ("train_images_per_second", "test_accuracy"))


# ---------------------------------------------------------------- driver

def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_common_options(ap)
    args = ap.parse_args()

    if args.torch_worker:
        args.threads = int(args.threads)
        return torch_worker(args)

    data_dir, qlite_data, threads = check_prerequisites(args)

    qlite_problem = None if args.no_qlite else qlite_binary_problem(args.qlite)
    use_qlite = not args.no_qlite and qlite_problem is None
    if qlite_problem:
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
    print(fmt_header(threads))
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
