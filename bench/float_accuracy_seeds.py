#!/usr/bin/python3
"""Float test accuracy of the reference MobileNet-style network over several seeds,
for several BatchNormalization settings and kernel initializers.

Issue 12's float bar (0.867) comes from one PyTorch run of the network; this script
shows how far one seed is from another under the issue's recipe (3 epochs, Adam 1e-3,
batch 32, validation split 0.1) and what the conventions change: BatchNormalization's
momentum and epsilon (Keras' 0.99 / 1e-3 against PyTorch's 0.9 / 1e-5 in Keras' terms)
and the kernel initializers (Keras' glorot_uniform against PyTorch's default bound
1/sqrt(fan_in)). It writes the architecture with `qlite train --model mobilenet-style`
(one step on 64 images), sets every BatchNormalization's momentum and epsilon and every
kernel's initializer in a copy of its model.json, and trains each (setting, seed) pair
from scratch with `qlite train --model ARCH.json`.

    /usr/bin/python3 bench/float_accuracy_seeds.py [--seeds 0,1,2,3] [--bn 0.9:1e-5,0.99:1e-3]
        [--init keras,torch] [--epochs 3] [--qlite build/qlite]

Prints one line per run and, per setting, the mean, min and max test accuracy.
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

# PyTorch's default weight initialisation (kaiming_uniform with a = sqrt(5)) is
# uniform in +-1/sqrt(fan_in): Keras' VarianceScaling(1/3, uniform) over PyTorch's
# fan in. For Conv2D and Dense that is Keras' fan_in; for a depthwise kernel
# PyTorch's fan in is the receptive field alone (one input channel per group),
# which on Keras' shape (kh, kw, in, multiplier) with multiplier 1 is fan_out.
_TORCH_VS = {"class_name": "VarianceScaling", "config": {"scale": 1 / 3, "distribution": "uniform"}}
_GLOROT = {"class_name": "GlorotUniform", "config": {"seed": None}}
INITS = {
    "keras": {
        "Conv2D": {"kernel_initializer": _GLOROT},
        "Dense": {"kernel_initializer": _GLOROT},
        "DepthwiseConv2D": {"depthwise_initializer": _GLOROT},
    },
    "torch": {
        "Conv2D": {"kernel_initializer": {**_TORCH_VS, "config": {**_TORCH_VS["config"], "mode": "fan_in"}}},
        "Dense": {"kernel_initializer": {**_TORCH_VS, "config": {**_TORCH_VS["config"], "mode": "fan_in"}}},
        "DepthwiseConv2D": {"depthwise_initializer": {**_TORCH_VS, "config": {**_TORCH_VS["config"], "mode": "fan_out"}}},
    },
}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seeds", default="0,1,2,3", help="comma-separated training seeds")
    ap.add_argument("--epochs", type=int, default=3)
    ap.add_argument("--bn", "--momenta", dest="bn", default="0.9:1e-5,0.99:1e-3",
                    help="BatchNormalization settings to compare, comma-separated MOMENTUM[:EPSILON] "
                         "in Keras' convention (epsilon default 1e-3, Keras'); e.g. 0.99,0.9:1e-5")
    ap.add_argument("--init", default="torch",
                    help="kernel initializers to compare, comma-separated: keras (glorot_uniform, Keras' "
                         "default) and/or torch (PyTorch's default bound 1/sqrt(fan_in), with PyTorch's fans: "
                         "the builder's own since it follows the PyTorch network)")
    ap.add_argument("--qlite", default=os.path.join(HERE, "..", "build", "qlite"))
    args = ap.parse_args()
    try:
        seeds = [int(s) for s in args.seeds.split(",")]
        variants = []
        for item in args.bn.split(","):
            m, _, e = item.partition(":")
            variants.append((float(m), float(e) if e else 1e-3))
        inits = args.init.split(",")
        if any(i not in INITS for i in inits):
            sys.exit("float_accuracy_seeds: --init takes keras and/or torch")
        variants = [(m, e, i) for (m, e) in variants for i in inits]
    except ValueError:
        sys.exit("float_accuracy_seeds: --seeds and --bn take comma-separated numbers (--bn: MOMENTUM[:EPSILON])")
    if not os.access(args.qlite, os.X_OK):
        sys.exit(f"float_accuracy_seeds: no qlite binary at {args.qlite} (build it first)")

    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run([args.qlite, "train", "--model", "mobilenet-style", "--subset", "64", "--epochs", "1",
                        "--out", os.path.join(tmp, "arch"), "--quiet"], check=True)
        with open(os.path.join(tmp, "arch", "model.json")) as f:
            arch = json.load(f)
        arch.pop("training_config", None)
        results = {}
        for m, e, i in variants:
            spec = json.loads(json.dumps(arch))
            for layer in spec["config"]["layers"]:
                if layer["class_name"] == "BatchNormalization":
                    layer["config"]["momentum"] = m
                    layer["config"]["epsilon"] = e
                layer["config"].update(INITS[i].get(layer["class_name"], {}))
            path = os.path.join(tmp, f"arch_{m}_{e}_{i}.json")
            with open(path, "w") as f:
                json.dump(spec, f)
            results[m, e, i] = []
        for seed in seeds:  # interleaved by seed, so a partial run still compares
            for m, e, i in variants:
                out = os.path.join(tmp, f"m{m}_e{e}_{i}_s{seed}")
                subprocess.run([args.qlite, "train", "--model", os.path.join(tmp, f"arch_{m}_{e}_{i}.json"),
                                "--epochs", str(args.epochs), "--batch-size", "32", "--lr", "1e-3",
                                "--validation-split", "0.1", "--seed", str(seed), "--out", out,
                                "--json", out + ".json", "--quiet"], check=True)
                with open(out + ".json") as f:
                    acc = json.load(f)["test_accuracy"]
                results[m, e, i].append(acc)
                print(f"momentum {m:<5} epsilon {e:<6g} init {i:<5} seed {seed}: test accuracy {acc:.4f}",
                      flush=True)
        for (m, e, i), accs in results.items():
            print(f"momentum {m:<5} epsilon {e:<6g} init {i:<5} mean {statistics.mean(accs):.4f}  min {min(accs):.4f}  max {max(accs):.4f}"
                  f"  ({len(accs)} seeds)")


if __name__ == "__main__":
    main()
