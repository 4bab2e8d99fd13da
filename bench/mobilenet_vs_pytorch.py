#!/usr/bin/python3
"""Training speed, float and QAT: qlite's CLI against PyTorch on the reference MobileNet-style network.

Network (Keras names; `qlite train --model mobilenet-style`), 9,610 parameters as
Keras counts them (BatchNormalization's moving statistics included):
  Input 28x28x1
  Conv2D 16 3x3 stride 2 'same' no bias + BatchNormalization + ReLU6
  DepthwiseConv2D 3x3 'same' + BN + ReLU6, Conv2D 32 1x1 + BN + ReLU6
  DepthwiseConv2D 3x3 stride 2 'same' + BN + ReLU6, Conv2D 64 1x1 + BN + ReLU6
  DepthwiseConv2D 3x3 'same' + BN + ReLU6, Conv2D 64 1x1 + BN + ReLU6, added to its input
  GlobalAveragePooling2D -> Dense 10 (logits)
(every convolution without bias; BN momentum 0.9 in Keras' convention, 0.1 in
PyTorch's, and epsilon 1e-5: BatchNorm2d's defaults, which qlite's builder uses).

Float: Adam (lr 1e-3, betas 0.9/0.999, eps 1e-7), cross-entropy, batch 32, --epochs
on the first 90% of the Fashion-MNIST training images (validation split 0.1). QAT:
from the float model, one epoch, batch 32, Adam lr 1e-4. PyTorch's QAT is eager mode
(torch.ao.quantization); afterwards its model is converted to int8 and the test
images on which the QAT model and the int8 model disagree (arg-max) are counted.

Speed is training images per second over the training loop only. Runs are
interleaved (qlite, torch, qlite, torch, ...) for each thread count and each of
--repeats rounds; each figure is a median over rounds.

Run with Debian's Python, which has python3-torch (apt-get install python3-torch):
    /usr/bin/python3 bench/mobilenet_vs_pytorch.py [--repeats 3] [--epochs 1] [--qlite build/qlite]
See bench/README.md.
"""
import argparse
import copy
import json
import os
import statistics
import sys
import tempfile
import time

from bench_common import (VALIDATION_SPLIT, add_common_options, check_prerequisites, fmt_header,
                          fmt_row, load_fashion_torch, qlite_binary_problem, run_qlite_json,
                          run_torch_worker)

KERAS_PARAMS = 9610
BATCH = 32
FLOAT_LR, QAT_LR = 1e-3, 1e-4
# Quantized engines in order of preference. Debian's python3-torch 1.13 is built
# without FBGEMM (so without 'fbgemm' and 'x86'); it has 'onednn' and 'qnnpack'.
ENGINES = ("fbgemm", "x86", "onednn", "qnnpack")


# ---------------------------------------------------------------- PyTorch side

def build_torch_model(conventions="qlite"):
    """The reference network in NCHW. Each conv block is a Sequential of
    [pad,] conv, bn, act so that torch.ao.quantization.fuse_modules can name them.
    conventions "qlite": Keras' glorot-uniform kernels (qlite's layer default;
    the reference-network builder itself now starts from PyTorch's
    initialisers) and BatchNorm2d's defaults, as qlite's builder sets them;
    "pytorch": PyTorch's own initialisers as well."""
    import torch
    from torch import nn
    from torch.ao.quantization import DeQuantStub, QuantStub

    def block(cin, cout, kernel, stride=1, depthwise=False):
        m = nn.Sequential()
        if stride == 2:
            # Keras 'same' with stride 2 on an even size pads 0 before, 1 after.
            m.add_module("pad", nn.ZeroPad2d((0, 1, 0, 1)))
            padding = 0
        else:
            padding = kernel // 2
        m.add_module("conv", nn.Conv2d(cin, cout, kernel, stride, padding, bias=False,
                                       groups=cin if depthwise else 1))
        # Momentum 0.1 is Keras' 0.9; epsilon 1e-5 (qlite's builder sets both).
        m.add_module("bn", nn.BatchNorm2d(cout, eps=1e-5, momentum=0.1))
        m.add_module("act", nn.ReLU6())
        return m

    class MobileNetStyle(nn.Module):
        BLOCKS = ("stem", "dw1", "pw1", "dw2", "pw2", "dw3", "pw3")

        def __init__(self):
            super().__init__()
            self.quant = QuantStub()        # identities until QAT
            self.stem = block(1, 16, 3, stride=2)
            self.dw1 = block(16, 16, 3, depthwise=True)
            self.pw1 = block(16, 32, 1)
            self.dw2 = block(32, 32, 3, stride=2, depthwise=True)
            self.pw2 = block(32, 64, 1)
            self.dw3 = block(64, 64, 3, depthwise=True)
            self.pw3 = block(64, 64, 1)
            self.add = nn.quantized.FloatFunctional()  # the residual add
            self.pool = nn.AdaptiveAvgPool2d(1)
            self.fc = nn.Linear(64, 10)
            self.dequant = DeQuantStub()

        def forward(self, x):
            x = self.quant(x)
            x = self.pw2(self.dw2(self.pw1(self.dw1(self.stem(x)))))
            x = self.add.add(x, self.pw3(self.dw3(x)))
            x = torch.flatten(self.pool(x), 1)
            return self.dequant(self.fc(x))

    model = MobileNetStyle()
    if conventions == "pytorch":
        return model
    # Keras's initialisers: glorot_uniform kernels (depthwise too: fan_in = fan_out
    # = 9 for a 3x3 depthwise kernel in both frameworks), zero biases; BN starts at
    # gamma 1, beta 0, mean 0, variance 1 in both.
    for m in model.modules():
        if isinstance(m, (nn.Conv2d, nn.Linear)):
            nn.init.xavier_uniform_(m.weight)
            if m.bias is not None:
                nn.init.zeros_(m.bias)
    return model


def keras_param_count(model):
    """Parameters as Keras counts them: BN's moving mean and variance included."""
    return (sum(p.numel() for p in model.parameters())
            + sum(b.numel() for n, b in model.named_buffers()
                  if n.endswith(("running_mean", "running_var"))))


def train_epochs(model, opt, loss_fn, xt, yt, epochs, seed):
    """Trains `epochs` passes; returns the seconds spent in the training loops.
    Each epoch's shuffle happens outside the timer and the loop takes contiguous
    slices, so the timed part holds no gather cost."""
    import torch
    g = torch.Generator().manual_seed(seed)
    n = len(xt)
    elapsed = 0.0
    model.train()
    for _ in range(epochs):
        perm = torch.randperm(n, generator=g)
        xe, ye = xt[perm].contiguous(), yt[perm].contiguous()
        start = time.perf_counter()
        for i in range(0, n, BATCH):
            opt.zero_grad(set_to_none=True)
            loss = loss_fn(model(xe[i:i + BATCH]), ye[i:i + BATCH])
            loss.backward()
            opt.step()
        elapsed += time.perf_counter() - start
    return elapsed


def predict(model, x, chunk=1000):
    import torch
    with torch.no_grad():
        return torch.cat([model(x[i:i + chunk]).argmax(1) for i in range(0, len(x), chunk)])


def torch_worker(args):
    """One run in this process: float training, then QAT, then int8 conversion;
    prints one JSON line."""
    import torch
    from torch import nn
    from torch.ao import quantization as tq

    torch.set_num_threads(args.threads)
    torch.set_num_interop_threads(1)
    torch.manual_seed(args.seed)

    xt, yt, xv, yv, xs, ys = load_fashion_torch(args.data_dir)
    xt, xv, xs = xt.unsqueeze(1), xv.unsqueeze(1), xs.unsqueeze(1)  # NCHW
    n_train = len(xt)

    model = build_torch_model(args.conventions)
    adam_eps = 1e-7 if args.conventions == "qlite" else 1e-8
    params = keras_param_count(model)
    assert params == KERAS_PARAMS, f"PyTorch model has {params} parameters, not {KERAS_PARAMS}"
    loss_fn = nn.CrossEntropyLoss()

    # ---- float
    opt = torch.optim.Adam(model.parameters(), lr=FLOAT_LR, betas=(0.9, 0.999), eps=adam_eps)
    float_seconds = train_epochs(model, opt, loss_fn, xt, yt, args.epochs, args.seed)
    model.eval()
    float_val = (predict(model, xv) == yv).float().mean().item()
    float_test = (predict(model, xs) == ys).float().mean().item()

    # ---- QAT (eager mode)
    engine = next(e for e in ENGINES if e in torch.backends.quantized.supported_engines)
    torch.backends.quantized.engine = engine
    model.train()
    for name in model.BLOCKS:
        blk = getattr(model, name)
        if args.relu6 == "relu":
            # torchvision's quantizable MobileNetV2 does this (_replace_relu):
            # ReLU6 -> ReLU, which fuse_modules can fold into the convolution.
            blk.act = nn.ReLU()
            tq.fuse_modules_qat(blk, [["conv", "bn", "act"]], inplace=True)
        else:
            # 1.13 cannot fuse ReLU6: Conv+BN fused, ReLU6 stays a module of its own.
            tq.fuse_modules_qat(blk, [["conv", "bn"]], inplace=True)
    model.qconfig = tq.get_default_qat_qconfig(engine)
    tq.prepare_qat(model, inplace=True)
    opt = torch.optim.Adam(model.parameters(), lr=QAT_LR, betas=(0.9, 0.999), eps=adam_eps)
    qat_seconds = train_epochs(model, opt, loss_fn, xt, yt, 1, args.seed + 1)

    # Freeze the ranges (observers would otherwise keep updating while evaluating)
    # so that the QAT model evaluated here has the scales convert() will use.
    model.apply(tq.disable_observer)
    model.eval()
    qat_val_pred = predict(model, xv)
    qat_pred = predict(model, xs)
    int8 = tq.convert(copy.deepcopy(model), inplace=False)
    int8_pred = predict(int8, xs)

    print(json.dumps({
        "torch_version": torch.__version__, "threads": args.threads, "engine": engine,
        "relu6": args.relu6, "conventions": args.conventions, "seed": args.seed, "params": params, "train_images": n_train, "epochs": args.epochs,
        "float_train_images_per_second": n_train * args.epochs / float_seconds,
        "float_train_seconds": float_seconds,
        "float_val_accuracy": float_val, "float_test_accuracy": float_test,
        "qat_train_images_per_second": n_train / qat_seconds, "qat_train_seconds": qat_seconds,
        "qat_val_accuracy": (qat_val_pred == yv).float().mean().item(),
        "qat_test_accuracy": (qat_pred == ys).float().mean().item(),
        "int8_test_accuracy": (int8_pred == ys).float().mean().item(),
        "qat_int8_mismatches": int((qat_pred != int8_pred).sum().item()),
        "test_images": len(ys)}))


def run_torch(threads, data_dir, seed, epochs, relu6, conventions):
    return run_torch_worker(__file__, threads, ["--data-dir", data_dir, "--seed", str(seed),
                                                "--epochs", str(epochs), "--relu6", relu6,
                                                "--conventions", conventions])


# ---------------------------------------------------------------- qlite side

class QliteRun:
    """One qlite run: `qlite train` then `qlite qat` on the model it saved."""

    def __init__(self, qlite, threads, data_arg, epochs):
        self.qlite, self.threads, self.data, self.epochs = qlite, threads, data_arg, epochs

    def common(self):
        return ["--data", self.data, "--batch-size", str(BATCH),
                "--validation-split", str(VALIDATION_SPLIT), "--quiet", "--threads", str(self.threads)]

    def train(self, tmp):
        out_json = os.path.join(tmp, "train.json")
        cmd = [self.qlite, "train", "--model", "mobilenet-style", "--epochs", str(self.epochs),
               *self.common(), "--out", os.path.join(tmp, "model"), "--json", out_json]
        return run_qlite_json(cmd, out_json, ("train_images_per_second", "test_accuracy"))

    def qat(self, tmp):
        out_json = os.path.join(tmp, "qat.json")
        # `qlite qat` fine-tunes on its first --subset training images (default
        # 1000); 60000 covers the whole training file, as PyTorch's QAT epoch does.
        cmd = [self.qlite, "qat", "--model", os.path.join(tmp, "model"), "--epochs", "1",
               "--lr", str(QAT_LR), "--subset", "60000", *self.common(),
               "--out", os.path.join(tmp, "qat"), "--json", out_json]
        return run_qlite_json(cmd, out_json, ("train_images_per_second", "qat_test_accuracy",
                                              "baseline_test_accuracy"))


# ---------------------------------------------------------------- driver

def median_or_none(values):
    return statistics.median(values) if values else None


def acc_summary(values):
    return (f"median {statistics.median(values):.4f} "
            f"(min {min(values):.4f}, max {max(values):.4f}, {len(values)} runs)")


def ratio_line(label, num, den, why):
    if num is None or den is None:
        return f"{label} = n/a ({why})"
    return f"{label} = {num / den:.2f}"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_common_options(ap)
    ap.add_argument("--epochs", type=int, default=1,
                    help="float training epochs (default 1; the accuracy recipe is 3). QAT is 1 epoch")
    ap.add_argument("--relu6", choices=("relu", "keep"), default="relu",
                    help="PyTorch QAT only: 'relu' replaces ReLU6 by ReLU and fuses Conv+BN+ReLU "
                         "(torchvision's quantizable MobileNetV2; default); 'keep' fuses Conv+BN "
                         "and keeps ReLU6 as a separate module")
    ap.add_argument("--conventions", choices=("qlite", "pytorch"), default="qlite",
                    help="PyTorch's initialisers and Adam epsilon: 'qlite' (Keras' glorot-uniform "
                         "and Adam epsilon 1e-7, qlite's layer and Adam defaults; default) or 'pytorch' "
                         "(PyTorch's own initialisers, which qlite's reference-network builder also "
                         "uses, and Adam epsilon 1e-8)")
    args = ap.parse_args()

    if args.torch_worker:
        args.threads = int(args.threads)
        return torch_worker(args)

    data_dir, qlite_data, threads = check_prerequisites(args)
    n_train = int(60000 * (1 - VALIDATION_SPLIT))

    qlite_problem = None if args.no_qlite else qlite_binary_problem(args.qlite)
    use_qlite = not args.no_qlite and qlite_problem is None   # float and QAT
    use_qlite_qat = use_qlite
    if qlite_problem:
        print(f"warning: {qlite_problem}; running PyTorch only", file=sys.stderr)

    sides = ("qlite", "pytorch")
    speed = {(s, phase, t): [] for s in sides for phase in ("float", "qat") for t in threads}
    acc = {k: [] for k in ("qlite float", "qlite qat", "pytorch float", "pytorch qat",
                           "pytorch int8")}
    mismatches = []
    torch_info = None
    for r in range(args.repeats):
        for t in threads:
            head = f"round {r + 1}/{args.repeats}"
            if use_qlite:
                run = QliteRun(args.qlite, t, qlite_data, args.epochs)
                with tempfile.TemporaryDirectory(prefix="qlite_bench_") as tmp:
                    try:
                        q = run.train(tmp)
                    except RuntimeError as e:
                        qlite_problem = str(e)
                        use_qlite = use_qlite_qat = False
                        print(f"warning: {e}\nwarning: continuing with PyTorch only", file=sys.stderr)
                        q = None
                    if q is not None:
                        speed["qlite", "float", t].append(q["train_images_per_second"])
                        acc["qlite float"].append(q["test_accuracy"])
                        line = (f"{head}  qlite    threads={t}  float {q['train_images_per_second']:8.1f} "
                                f"images/s  test {q['test_accuracy']:.4f}")
                        if q.get("train_samples", n_train) != n_train:
                            print(f"warning: qlite trained on {q['train_samples']} images, "
                                  f"not {n_train}", file=sys.stderr)
                        if use_qlite_qat:
                            try:
                                qq = run.qat(tmp)
                                speed["qlite", "qat", t].append(qq["train_images_per_second"])
                                acc["qlite qat"].append(qq["qat_test_accuracy"])
                                line += (f"  |  qat {qq['train_images_per_second']:8.1f} images/s  "
                                         f"int8 test {qq['qat_test_accuracy']:.4f} "
                                         f"(baseline {qq['baseline_test_accuracy']:.4f})")
                                if qq.get("train_samples", n_train) != n_train:
                                    print(f"warning: qlite QAT trained on {qq['train_samples']} "
                                          f"images, not {n_train}", file=sys.stderr)
                            except RuntimeError as e:
                                qlite_problem = str(e)
                                use_qlite_qat = False
                                print(f"warning: {e}\nwarning: continuing without qlite QAT",
                                      file=sys.stderr)
                        print(line, flush=True)
            try:
                p = run_torch(t, data_dir, args.seed + r, args.epochs, args.relu6, args.conventions)
            except RuntimeError as e:
                sys.exit(f"error: {e}")
            torch_info = p
            speed["pytorch", "float", t].append(p["float_train_images_per_second"])
            speed["pytorch", "qat", t].append(p["qat_train_images_per_second"])
            acc["pytorch float"].append(p["float_test_accuracy"])
            acc["pytorch qat"].append(p["qat_test_accuracy"])
            acc["pytorch int8"].append(p["int8_test_accuracy"])
            mismatches.append(p["qat_int8_mismatches"])
            print(f"{head}  pytorch  threads={t}  float {p['float_train_images_per_second']:8.1f} "
                  f"images/s  test {p['float_test_accuracy']:.4f}  |  qat "
                  f"{p['qat_train_images_per_second']:8.1f} images/s  fake-quant test "
                  f"{p['qat_test_accuracy']:.4f}, int8 test {p['int8_test_accuracy']:.4f}, "
                  f"{p['qat_int8_mismatches']} mismatches  (torch {p['torch_version']}, "
                  f"{p['engine']})", flush=True)

    med = {k: median_or_none(v) for k, v in speed.items()}
    print(f"\nmedian training images/s over {args.repeats} round(s), batch {BATCH}, "
          f"{n_train} images; float {args.epochs} epoch(s), QAT 1 epoch:")
    print(fmt_header(threads, width=14))
    for phase in ("float", "qat"):
        for s in sides:
            print(fmt_row(f"{phase:<6}{s}", [med[s, phase, t] for t in threads], width=14))

    relu6 = ("ReLU6 replaced by ReLU, Conv+BN+ReLU fused" if args.relu6 == "relu"
             else "Conv+BN fused, ReLU6 kept unfused")
    print(f"\ntest accuracy ({torch_info['test_images']} images):")
    labels = {"qlite float": "qlite float",
              "qlite qat": "qlite QAT (int8 evaluation)",
              "pytorch float": "pytorch float",
              "pytorch qat": "pytorch QAT (fake-quant, eval)",
              "pytorch int8": "pytorch int8 (converted)"}
    for k, label in labels.items():
        if acc[k]:
            print(f"  {label:<31} {acc_summary(acc[k])}")
    print(f"pytorch QAT vs int8 arg-max mismatches on {torch_info['test_images']} test images: "
          f"median {statistics.median(mismatches):g} (min {min(mismatches)}, max {max(mismatches)}, "
          f"{len(mismatches)} runs; engine {torch_info['engine']}, {relu6})")

    def best(side, phase):
        vals = [med[side, phase, t] for t in threads if med[side, phase, t] is not None]
        return max(vals, default=None)

    why = "--no-qlite" if args.no_qlite else "qlite could not be run: see the warning above"
    print()
    print(ratio_line("float: qlite best / pytorch best", best("qlite", "float"),
                     best("pytorch", "float"), why))
    print(ratio_line("qat: qlite best / pytorch best", best("qlite", "qat"), best("pytorch", "qat"), why))
    print(ratio_line("qlite qat / qlite float", best("qlite", "qat"), best("qlite", "float"), why))
    print(ratio_line("pytorch qat / pytorch float", best("pytorch", "qat"), best("pytorch", "float"), why))
    if args.no_qlite:
        return 0
    return 3 if qlite_problem else 0


if __name__ == "__main__":
    sys.exit(main() or 0)
