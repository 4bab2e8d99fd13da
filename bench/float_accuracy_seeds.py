#!/usr/bin/python3
"""Float test accuracy of the reference MobileNet-style network over several seeds,
with Keras' BatchNormalization momentum (0.99, qlite's default) and with PyTorch's
(0.1 in PyTorch's convention, 0.9 in Keras').

Issue 12's float bar (0.867) comes from one PyTorch run of the network; this script
shows how far one seed is from another under the issue's recipe (3 epochs, Adam 1e-3,
batch 32, validation split 0.1) and what the momentum convention changes. It writes the
architecture with `qlite train --model mobilenet-style` (one step on 64 images), sets
every BatchNormalization's momentum in a copy of its model.json, and trains each
(momentum, seed) pair from scratch with `qlite train --model ARCH.json`.

    /usr/bin/python3 bench/float_accuracy_seeds.py [--seeds 0,1,2,3] [--epochs 3] [--qlite build/qlite]

Prints one line per run and, per momentum, the mean, min and max test accuracy.
Accuracy does not depend on machine load; a run takes about a minute on a quiet core.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seeds", default="0,1,2,3", help="comma-separated training seeds")
    ap.add_argument("--epochs", type=int, default=3)
    ap.add_argument("--momenta", default="0.99,0.9", help="Keras-convention BN momenta to compare")
    ap.add_argument("--qlite", default=os.path.join(HERE, "..", "build", "qlite"))
    args = ap.parse_args()
    try:
        seeds = [int(s) for s in args.seeds.split(",")]
        momenta = [float(m) for m in args.momenta.split(",")]
    except ValueError:
        sys.exit("float_accuracy_seeds: --seeds and --momenta take comma-separated numbers")
    if not os.access(args.qlite, os.X_OK):
        sys.exit(f"float_accuracy_seeds: no qlite binary at {args.qlite} (build it first)")

    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run([args.qlite, "train", "--model", "mobilenet-style", "--subset", "64", "--epochs", "1",
                        "--out", os.path.join(tmp, "arch"), "--quiet"], check=True)
        with open(os.path.join(tmp, "arch", "model.json")) as f:
            arch = json.load(f)
        arch.pop("training_config", None)
        results = {}
        for m in momenta:
            spec = json.loads(json.dumps(arch))
            for layer in spec["config"]["layers"]:
                if layer["class_name"] == "BatchNormalization":
                    layer["config"]["momentum"] = m
            path = os.path.join(tmp, f"arch_{m}.json")
            with open(path, "w") as f:
                json.dump(spec, f)
            results[m] = []
        for seed in seeds:  # interleaved by seed, so a partial run still compares
            for m in momenta:
                out = os.path.join(tmp, f"m{m}_s{seed}")
                subprocess.run([args.qlite, "train", "--model", os.path.join(tmp, f"arch_{m}.json"),
                                "--epochs", str(args.epochs), "--batch-size", "32", "--lr", "1e-3",
                                "--validation-split", "0.1", "--seed", str(seed), "--out", out,
                                "--json", out + ".json", "--quiet"], check=True)
                with open(out + ".json") as f:
                    acc = json.load(f)["test_accuracy"]
                results[m].append(acc)
                print(f"momentum {m:<5} seed {seed}: test accuracy {acc:.4f}", flush=True)
        for m, accs in results.items():
            print(f"momentum {m:<5} mean {statistics.mean(accs):.4f}  min {min(accs):.4f}  max {max(accs):.4f}"
                  f"  ({len(accs)} seeds)")


if __name__ == "__main__":
    main()
