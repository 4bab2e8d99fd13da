#!/usr/bin/python3
"""Gradients of the reference MobileNet-style network in qlite against PyTorch.

PyTorch is the independent oracle here: the same network (issue 12's reference
network: Conv2D 16 stride 2 'same', three depthwise-separable blocks with batch
norm and ReLU6, a residual add, global average pooling, Dense 10) gets the same
initial weights and the same batch of Fashion-MNIST training images, and each
framework takes one step of plain SGD with learning rate 1 (so the step is the
gradient) in training mode (batch statistics). qlite runs in float32 through
its Python package (`Model.fit`, one batch); PyTorch runs in float64, so its
gradient is the exact one to within float32's precision of qlite's inputs.

    PYTHONPATH=build/python /usr/bin/python3 bench/gradients_vs_pytorch.py [--batch 32] [--seeds 0,1,2]

Prints per weight the largest gradient magnitude, the largest difference and
that difference relative to the magnitude. A gradient passes when every
difference is within 1e-5 of its weight's largest gradient plus 4 float32
steps of the weight itself (qlite's gradient is read back as w - w', which
cannot resolve less than a step of w). Exit 0 when every weight passes, 1 when
one does not, 2 on a missing prerequisite (PyTorch, numpy, the qlite package
or the data).
"""
import argparse
import gzip
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
DATA_DIR = "/usr/share/datasets/fashion-mnist"

# (name, input channels, filters, kernel, stride, depthwise): applications::MobileNetStyle.
BLOCKS = [("conv1", 1, 16, 3, 2, False), ("block1_dw", 16, 16, 3, 1, True), ("block1_pw", 16, 32, 1, 1, False),
          ("block2_dw", 32, 32, 3, 2, True), ("block2_pw", 32, 64, 1, 1, False),
          ("block3_dw", 64, 64, 3, 1, True), ("block3_pw", 64, 64, 1, 1, False)]


def read_idx(path, ndim, count):
    import numpy as np
    raw = gzip.open(path).read()
    dims = [int.from_bytes(raw[4 + 4 * i:8 + 4 * i], "big") for i in range(ndim)]
    return np.frombuffer(raw[4 + 4 * ndim:], dtype=np.uint8).reshape(dims)[:count]


def qlite_model(k):
    """The reference network with the Keras layer names of applications::MobileNetStyle."""
    x = inp = k.Input((28, 28, 1), name="input")
    for name, _, filters, kernel, stride, depthwise in BLOCKS:
        if depthwise:
            x = k.layers.DepthwiseConv2D(kernel, strides=stride, padding="same", use_bias=False, name=name)(x)
        else:
            x = k.layers.Conv2D(filters, kernel, strides=stride, padding="same", use_bias=False, name=name)(x)
        x = k.layers.BatchNormalization(momentum=0.9, epsilon=1e-5, name=name + "_bn")(x)
        x = k.layers.ReLU(6.0, name=name + "_relu")(x)
        if name == "block2_pw":
            shortcut = x
    x = k.layers.Add(name="block3_add")([shortcut, x])
    x = k.layers.GlobalAveragePooling2D(name="pool")(x)
    x = k.layers.Dense(10, name="logits")(x)
    m = k.Model(inp, x)
    m.build()
    m.compile(optimizer=k.optimizers.SGD(learning_rate=1.0),
              loss=k.losses.SparseCategoricalCrossentropy(from_logits=True))
    return m


# qlite's layer names -> the blocks of mobilenet_vs_pytorch.build_torch_model.
TORCH_NAMES = {"conv1": "stem", "block1_dw": "dw1", "block1_pw": "pw1", "block2_dw": "dw2", "block2_pw": "pw2",
               "block3_dw": "dw3", "block3_pw": "pw3"}


def torch_model(torch, weights):
    """The PyTorch peer network of mobilenet_vs_pytorch.py in float64, its
    weights copied from qlite's (HWIO -> OIHW)."""
    sys.path.insert(0, HERE)
    from mobilenet_vs_pytorch import build_torch_model
    model = build_torch_model("pytorch").double()
    t = lambda a: torch.from_numpy(a).double()
    with torch.no_grad():
        for name, _, _, _, _, depthwise in BLOCKS:
            blk = getattr(model, TORCH_NAMES[name])
            w = weights[name][0]
            blk.conv.weight.copy_(t(w).permute(2, 3, 0, 1) if depthwise else t(w).permute(3, 2, 0, 1))
            gamma, beta = weights[name + "_bn"][:2]
            blk.bn.weight.copy_(t(gamma))
            blk.bn.bias.copy_(t(beta))
        kernel, bias = weights["logits"]
        model.fc.weight.copy_(t(kernel).t())
        model.fc.bias.copy_(t(bias))
    model.train()  # batch statistics, as qlite's fit
    return model


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--batch", type=int, default=32, help="training images in the batch (the first N)")
    ap.add_argument("--seeds", default="0,1,2", help="comma-separated initial-weight seeds")
    ap.add_argument("--data", default=DATA_DIR, help="directory of the Fashion-MNIST IDX files")
    args = ap.parse_args()
    try:
        import numpy as np
        import torch
        from torch import nn
    except ImportError as e:
        print(f"error: {e.name} is not importable by {sys.executable}; install Debian's python3-torch and run "
              "this script with /usr/bin/python3", file=sys.stderr)
        return 2
    try:
        import qlite.keras as k
    except ImportError:
        print("error: the qlite package is not importable; build it and set PYTHONPATH=build/python",
              file=sys.stderr)
        return 2
    images = os.path.join(args.data, "train-images-idx3-ubyte.gz")
    labels = os.path.join(args.data, "train-labels-idx1-ubyte.gz")
    if not (os.path.exists(images) and os.path.exists(labels)):
        print(f"error: no Fashion-MNIST training files in {args.data} (Debian: dataset-fashion-mnist)",
              file=sys.stderr)
        return 2
    if args.batch < 1:
        print("error: --batch must be >= 1", file=sys.stderr)
        return 2
    x = read_idx(images, 3, args.batch).astype(np.float32)[..., None] / np.float32(255.0)
    y = read_idx(labels, 1, args.batch).astype(np.int64)

    worst = 0.0
    failed = []
    for seed in [int(s) for s in args.seeds.split(",")]:
        m = qlite_model(k)
        # Deterministic initial weights per seed, the same in both frameworks.
        rng = np.random.default_rng(seed)
        layer_weights = {}
        for layer in m.layers:
            ws = layer.get_weights()
            if not ws:
                continue
            if layer.name.endswith("_bn"):
                gamma = (1.0 + 0.2 * rng.standard_normal(ws[0].shape)).astype(np.float32)
                beta = (0.1 * rng.standard_normal(ws[1].shape)).astype(np.float32)
                ws = [gamma, beta] + ws[2:]
            else:
                ws = [(rng.uniform(-1, 1, w.shape) / np.sqrt(max(1, np.prod(w.shape[:-1])))).astype(np.float32)
                      for w in ws]
            layer.set_weights(ws)
            layer_weights[layer.name] = [w.copy() for w in ws]
        m.fit(x, y, batch_size=args.batch, epochs=1, shuffle=False, verbose=0)
        after = {layer.name: layer.get_weights() for layer in m.layers if layer.get_weights()}

        model = torch_model(torch, layer_weights)
        xt = torch.from_numpy(x).permute(0, 3, 1, 2).double()
        loss = nn.CrossEntropyLoss()(model(xt), torch.from_numpy(y))
        loss.backward()
        grads = {}
        for name, _, _, _, _, depthwise in BLOCKS:
            blk = getattr(model, TORCH_NAMES[name])
            g = blk.conv.weight.grad
            grads[(name, 0)] = (g.permute(2, 3, 0, 1) if depthwise else g.permute(2, 3, 1, 0)).numpy()
            grads[(name + "_bn", 0)] = blk.bn.weight.grad.numpy()
            grads[(name + "_bn", 1)] = blk.bn.bias.grad.numpy()
        grads[("logits", 0)] = model.fc.weight.grad.t().numpy()
        grads[("logits", 1)] = model.fc.bias.grad.numpy()

        print(f"seed {seed}: loss {loss.item():.6f} (PyTorch, float64), batch {args.batch}")
        print(f"  {'weight':28s} {'max |g|':>10s} {'max diff':>10s} {'relative':>9s}")
        for (name, i), g in grads.items():
            w0 = layer_weights[name][i].astype(np.float64)
            gq = w0 - after[name][i].astype(np.float64)  # SGD, learning rate 1: w' = w - g
            diff = float(np.abs(gq - g).max())
            mag = float(np.abs(g).max())
            step = float(np.abs(np.spacing(layer_weights[name][i])).max())
            ok = diff <= 1e-5 * mag + 4 * step
            rel = diff / mag if mag > 0 else 0.0
            worst = max(worst, rel)
            label = name + "/" + (("gamma", "beta")[i] if name.endswith("_bn") else ("kernel", "bias")[i])
            print(f"  {label:28s} {mag:10.3e} {diff:10.3e} {rel:9.2e}{'' if ok else '  FAIL'}")
            if not ok:
                failed.append(f"seed {seed} {label}")
    print(f"largest relative difference {worst:.2e}; {'every gradient agrees' if not failed else 'disagree: ' + ', '.join(failed)}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
