#!/usr/bin/python3
"""Build the real ONNX test-asset models and reference data for Dsg.

How to run (from the repository root):

    /usr/bin/python3 eng/make-testassets.py            # full build, ~20 min on a 2-core CPU
    /usr/bin/python3 eng/make-testassets.py --quick    # smoke test: a few batches per epoch,
                                                       # accuracy targets not enforced
                                                       # (writes the same files - do not commit)
    /usr/bin/python3 eng/make-testassets.py --readme-only   # re-render README.md from manifest.json

Trained weights are cached in ~/.cache/dsg-testassets (override with DSG_TESTASSETS_CACHE),
keyed by architecture, recipe and seed, so a second run only re-exports and re-checks; use
--no-cache to force retraining.  --train-only resnet_fmnist,... trains (and caches) only the
named models, e.g. to train them in parallel processes; --threads N sets torch threads.

Use the Debian interpreter (/usr/bin/python3), not a pyenv/virtualenv python:
torch and onnx come from Debian packages.

Required Debian 12 (bookworm) packages (apt-get install ...):
    python3-torch           (tested with 1.13)
    python3-onnx            (tested with 1.12)
    python3-numpy
    dataset-fashion-mnist   (gzipped IDX files in /usr/share/datasets/fashion-mnist;
                             override the location with FMNIST_DIR=...)
No torchvision, onnxruntime or internet access is needed.

Outputs (all paths relative to the repository root):
    testassets/models/resnet_fmnist.onnx          ResNet-8, BN preserved (inference-form BN nodes)
    testassets/models/mobilenetv2_fmnist.onnx     MobileNetV2-style, BN preserved, ReLU6 -> Clip
    testassets/models/resnet_fmnist_folded.onnx   same ResNet, default export => BN folded (bad input)
    testassets/models/tiny_cnn.onnx               tiny CNN for fast unit tests / gradient checks
    testassets/models/bad/unsupported_ops.onnx    hand-built, contains Hardmax + LpNormalization
    testassets/models/bad/dynamic_spatial.onnx    tiny CNN with symbolic batch, height and width
    testassets/models/manifest.json               machine-readable summary (sizes, sha256, ops, acc)
    testassets/models/README.md                   human-readable summary (generated)
    testassets/data/fmnist_test_64.npy            first 64 Fashion-MNIST test images, preprocessed
    testassets/data/fmnist_test_64_labels.npy     their labels (int64)
    testassets/data/<model>_logits_64.npy         PyTorch eval-mode logits for the 64 images

Everything is seeded (Python, NumPy, torch) and single-process; re-running reproduces the
same architectures and (near-)identical accuracy, but the exact bytes of the .onnx / .npy
files can differ across PyTorch / oneDNN versions and CPUs.

Every exported BN-preserving graph is re-executed with a small NumPy reference interpreter
(below) and compared against the PyTorch logits, so the ONNX files are known to be faithful.
"""

import argparse
import collections
import gzip
import hashlib
import json
import math
import os
import random
import sys
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
import onnx
from onnx import TensorProto, helper, numpy_helper

# --------------------------------------------------------------------------------------
# Constants
# --------------------------------------------------------------------------------------

SEED = 20240601
MEAN = 0.2860
STD = 0.3530
BATCH = 128
OPSET = 13
CLASS_NAMES = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
               "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]

ROOT = Path(__file__).resolve().parent.parent
MODELS = ROOT / "testassets" / "models"
BAD = MODELS / "bad"
DATA = ROOT / "testassets" / "data"
FMNIST_DIR = Path(os.environ.get("FMNIST_DIR", "/usr/share/datasets/fashion-mnist"))

# Training recipes (chosen so the whole script fits in ~20 min on 2 CPU cores).
RECIPES = {
    "resnet_fmnist": dict(epochs=8, lr=0.1, wd=5e-4, augment=True, channels_last=True, target=0.90),
    "mobilenetv2_fmnist": dict(epochs=6, lr=0.1, wd=4e-5, augment=True, channels_last=True, target=0.88),
    "tiny_cnn": dict(epochs=1, lr=0.2, wd=0.0, augment=False, channels_last=False, target=0.70),
}

T0 = time.time()


def log(msg):
    print(f"[{time.time() - T0:7.1f}s] {msg}", flush=True)


def seed_everything(seed):
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


# --------------------------------------------------------------------------------------
# Data
# --------------------------------------------------------------------------------------

def read_idx(path):
    """Read a gzipped IDX file (unsigned-byte payload) into a numpy array."""
    with gzip.open(path, "rb") as f:
        raw = f.read()
    magic = int.from_bytes(raw[0:4], "big")
    if (magic >> 8) & 0xFF != 0x08:
        raise ValueError(f"{path}: not an unsigned-byte IDX file (magic {magic:#x})")
    ndim = magic & 0xFF
    dims = [int.from_bytes(raw[4 + 4 * i:8 + 4 * i], "big") for i in range(ndim)]
    return np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * ndim).reshape(dims).copy()


def preprocess(images_u8):
    """uint8 [N,28,28] -> float32 [N,1,28,28]: x/255, then (x - 0.2860) / 0.3530."""
    x = images_u8.astype(np.float32) / np.float32(255.0)
    x = (x - np.float32(MEAN)) / np.float32(STD)
    return x[:, None, :, :].astype(np.float32)


def load_fmnist():
    d = FMNIST_DIR
    xtr = read_idx(d / "train-images-idx3-ubyte.gz")
    ytr = read_idx(d / "train-labels-idx1-ubyte.gz")
    xte = read_idx(d / "t10k-images-idx3-ubyte.gz")
    yte = read_idx(d / "t10k-labels-idx1-ubyte.gz")
    assert xtr.shape == (60000, 28, 28) and xte.shape == (10000, 28, 28)
    return (torch.from_numpy(preprocess(xtr)), torch.from_numpy(ytr.astype(np.int64)),
            torch.from_numpy(preprocess(xte)), torch.from_numpy(yte.astype(np.int64)))


PAD_VALUE = (0.0 - MEAN) / STD  # normalised value of a black (background) pixel


def augment(xb, gen):
    """Random crop 28x28 from the image padded by 2 (background value), + random h-flip."""
    n, _, h, w = xb.shape
    xp = F.pad(xb, (2, 2, 2, 2), value=PAD_VALUE)
    dy = torch.randint(0, 5, (n,), generator=gen)
    dx = torch.randint(0, 5, (n,), generator=gen)
    rows = dy[:, None] + torch.arange(h)
    cols = dx[:, None] + torch.arange(w)
    out = xp[torch.arange(n)[:, None, None], 0, rows[:, :, None], cols[:, None, :]]
    flip = torch.rand(n, generator=gen) < 0.5
    out = torch.where(flip[:, None, None], out.flip(-1), out)
    return out.unsqueeze(1).contiguous()


# --------------------------------------------------------------------------------------
# Models
# --------------------------------------------------------------------------------------

class BasicBlock(nn.Module):
    def __init__(self, cin, cout, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.relu1 = nn.ReLU()
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.relu2 = nn.ReLU()
        if stride != 1 or cin != cout:
            # projection shortcut: 1x1 conv (stride s) + BN
            self.shortcut = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, 0, bias=False),
                                          nn.BatchNorm2d(cout))
        else:
            self.shortcut = nn.Identity()

    def forward(self, x):
        y = self.relu1(self.bn1(self.conv1(x)))
        y = self.bn2(self.conv2(y))
        return self.relu2(y + self.shortcut(x))


class ResNetFMNIST(nn.Module):
    """CIFAR-style ResNet-(6n+2) for 1x28x28 input; n=1 -> ResNet-8."""

    def __init__(self, blocks_per_stage=1, widths=(16, 32, 64), num_classes=10):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(1, widths[0], 3, 1, 1, bias=False),
                                  nn.BatchNorm2d(widths[0]), nn.ReLU())
        layers, cin = [], widths[0]
        for si, w in enumerate(widths):
            for bi in range(blocks_per_stage):
                stride = 2 if (si > 0 and bi == 0) else 1
                layers.append(BasicBlock(cin, w, stride))
                cin = w
        self.layers = nn.Sequential(*layers)
        self.pool = nn.AdaptiveAvgPool2d(1)  # -> GlobalAveragePool
        self.fc = nn.Linear(cin, num_classes)

    def forward(self, x):
        x = self.layers(self.stem(x))
        return self.fc(torch.flatten(self.pool(x), 1))


class InvertedResidual(nn.Module):
    def __init__(self, cin, cout, stride, expand):
        super().__init__()
        hidden = cin * expand
        self.use_res = stride == 1 and cin == cout
        self.block = nn.Sequential(
            nn.Conv2d(cin, hidden, 1, 1, 0, bias=False), nn.BatchNorm2d(hidden), nn.ReLU6(),
            nn.Conv2d(hidden, hidden, 3, stride, 1, groups=hidden, bias=False),  # depthwise
            nn.BatchNorm2d(hidden), nn.ReLU6(),
            nn.Conv2d(hidden, cout, 1, 1, 0, bias=False), nn.BatchNorm2d(cout),  # linear bottleneck
        )

    def forward(self, x):
        y = self.block(x)
        return x + y if self.use_res else y


# (in, out, stride, expansion)
MBV2_CFG = [(16, 24, 2, 4), (24, 24, 1, 4), (24, 32, 2, 4), (32, 32, 1, 4), (32, 32, 1, 4)]


class MobileNetV2FMNIST(nn.Module):
    def __init__(self, cfg=MBV2_CFG, stem=16, last=128, num_classes=10):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(1, stem, 3, 1, 1, bias=False),
                                  nn.BatchNorm2d(stem), nn.ReLU6())
        self.blocks = nn.Sequential(*[InvertedResidual(*c) for c in cfg])
        self.head = nn.Sequential(nn.Conv2d(cfg[-1][1], last, 1, 1, 0, bias=False),
                                  nn.BatchNorm2d(last), nn.ReLU6())
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(last, num_classes)

    def forward(self, x):
        x = self.head(self.blocks(self.stem(x)))
        return self.fc(torch.flatten(self.pool(x), 1))


class TinyCNN(nn.Module):
    def __init__(self, num_classes=10):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 4, 3, 1, 1)
        self.bn1 = nn.BatchNorm2d(4)
        self.relu1 = nn.ReLU()
        self.pool1 = nn.MaxPool2d(2)
        self.conv2 = nn.Conv2d(4, 8, 3, 1, 1)
        self.bn2 = nn.BatchNorm2d(8)
        self.relu2 = nn.ReLU()
        self.gap = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(8, num_classes)

    def forward(self, x):
        x = self.pool1(self.relu1(self.bn1(self.conv1(x))))
        x = self.relu2(self.bn2(self.conv2(x)))
        return self.fc(torch.flatten(self.gap(x), 1))


ARCH_TEXT = {
    "resnet_fmnist": (
        "CIFAR-style ResNet-8 for 1x28x28 input. Stem: Conv3x3(1->16, s1, no bias)+BN+ReLU. "
        "Three stages of one BasicBlock each (Conv3x3-BN-ReLU-Conv3x3-BN, residual Add, ReLU) "
        "with widths 16/32/64; stage 1 keeps 28x28 with an identity shortcut, stages 2 and 3 "
        "start with stride 2 (28->14->7) and use PROJECTION shortcuts (Conv1x1 stride 2 + BN). "
        "Then GlobalAveragePool, Flatten, Linear(64->10) (exported as Gemm). Convs have no "
        "bias (BN follows)."),
    "mobilenetv2_fmnist": (
        "MobileNetV2-style net. Stem: Conv3x3(1->16, s1)+BN+ReLU6. Five inverted-residual "
        "blocks (in,out,stride,expansion) = (16,24,2,4), (24,24,1,4), (24,32,2,4), (32,32,1,4), "
        "(32,32,1,4); each is Conv1x1 expand+BN+ReLU6, Conv3x3 DEPTHWISE (group=hidden "
        "channels)+BN+ReLU6, Conv1x1 linear projection+BN (no activation), with a residual Add "
        "when stride 1 and in==out (3 residual Adds; 2 stride-2 blocks, 28->14->7). Head: "
        "Conv1x1(32->128)+BN+ReLU6, GlobalAveragePool, Flatten, Linear(128->10). ReLU6 is "
        "nn.ReLU6 and exports as Clip(min=0, max=6) (min/max given as Constant inputs, opset 13)."),
    "resnet_fmnist_folded": (
        "BAD-INPUT asset. The very same trained ResNet-8 as resnet_fmnist.onnx, exported the "
        "DEFAULT way (model.eval(), no training= argument, do_constant_folding=True), which "
        "makes the exporter fold every BatchNorm into the preceding Conv (Conv gains a bias). "
        "It contains ZERO BatchNormalization nodes, so there are no BN statistics for "
        "data-free calibration; Dsg should reject it. Numerically it computes the same logits."),
    "tiny_cnn": (
        "Tiny CNN for fast unit tests and finite-difference gradient checks: Conv3x3(1->4, "
        "pad 1, with bias)+BN+ReLU, MaxPool 2x2/2 (28->14), Conv3x3(4->8, pad 1, with "
        "bias)+BN+ReLU, GlobalAveragePool, Flatten, Linear(8->10). Trained for a single epoch."),
    "unsupported_ops": (
        "BAD-INPUT asset, hand-built with onnx.helper (opset 13). Input 'input' [batch,1,8,8] -> "
        "Conv3x3(1->4, pad 1) 'conv_0' -> BatchNormalization 'bn_0' -> Relu 'relu_0' -> "
        "Hardmax(axis=-1) 'hardmax_0' -> LpNormalization(axis=-1, p=2) 'lpnorm_0' -> output "
        "'output' [batch,4,8,8] float. Hardmax and LpNormalization are the two unsupported op "
        "types. Random (seeded) but valid weights; passes onnx.checker (full check)."),
    "dynamic_spatial": (
        "BAD-INPUT asset: the trained tiny CNN (same weights as tiny_cnn.onnx) exported with "
        "symbolic batch AND symbolic spatial dims: input 'input' is [batch,1,height,width]. "
        "Contains 2 inference-form BatchNormalization nodes and runs for any H,W >= 2 (checked "
        "at 28x28 and 32x20 against PyTorch), but Dsg cannot know the image size to synthesise."),
}


# --------------------------------------------------------------------------------------
# Training / evaluation
# --------------------------------------------------------------------------------------

@torch.no_grad()
def evaluate(model, x, y, channels_last=False, bs=250):
    model.eval()
    correct = 0
    for i in range(0, x.shape[0], bs):
        xb = x[i:i + bs]
        if channels_last:
            xb = xb.contiguous(memory_format=torch.channels_last)
        correct += (model(xb).argmax(1) == y[i:i + bs]).sum().item()
    return correct / x.shape[0]


def train(model, name, recipe, data, seed, quick=False):
    xtr, ytr, xte, yte = data
    cl = recipe["channels_last"]
    if cl:
        model = model.to(memory_format=torch.channels_last)
    decay = [p for p in model.parameters() if p.ndim > 1]
    no_decay = [p for p in model.parameters() if p.ndim <= 1]
    opt = torch.optim.SGD([{"params": decay, "weight_decay": recipe["wd"]},
                           {"params": no_decay, "weight_decay": 0.0}],
                          lr=recipe["lr"], momentum=0.9, nesterov=True)
    n = xtr.shape[0]
    steps_per_epoch = math.ceil(n / BATCH)
    if quick:
        steps_per_epoch = 20
    total = recipe["epochs"] * steps_per_epoch
    warmup = min(200, total // 10)

    def lr_lambda(step):  # linear warm-up, then cosine to 0 (per iteration)
        if step < warmup:
            return (step + 1) / warmup
        return 0.5 * (1.0 + math.cos(math.pi * (step - warmup) / max(1, total - warmup)))

    sched = torch.optim.lr_scheduler.LambdaLR(opt, lr_lambda)
    gen = torch.Generator().manual_seed(seed)
    history = []
    t_start = time.time()
    for epoch in range(recipe["epochs"]):
        model.train()
        t_ep = time.time()
        perm = torch.randperm(n, generator=gen)
        loss_sum, correct, seen = 0.0, 0, 0
        for it in range(steps_per_epoch):
            idx = perm[it * BATCH:(it + 1) * BATCH]
            xb, yb = xtr[idx], ytr[idx]
            if recipe["augment"]:
                xb = augment(xb, gen)
            if cl:
                xb = xb.contiguous(memory_format=torch.channels_last)
            out = model(xb)
            loss = F.cross_entropy(out, yb)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sched.step()
            loss_sum += loss.item() * yb.shape[0]
            correct += (out.argmax(1) == yb).sum().item()
            seen += yb.shape[0]
        secs = time.time() - t_ep
        # test accuracy every other epoch and at the end (a 10k eval costs ~5 s on 2 cores)
        last = epoch + 1 == recipe["epochs"]
        acc = evaluate(model, xte, yte, cl) if (last or epoch % 2 == 1) else None
        history.append(dict(epoch=epoch + 1, train_loss=round(loss_sum / seen, 4),
                            train_acc=round(correct / seen, 4),
                            test_acc=None if acc is None else round(acc, 4),
                            seconds=round(secs, 1)))
        log(f"{name} epoch {epoch + 1}/{recipe['epochs']}: loss {loss_sum / seen:.4f} "
            f"train_acc {correct / seen:.4f} "
            f"test_acc {'-' if acc is None else f'{acc:.4f}'} ({secs:.1f}s)")
    model = model.to(memory_format=torch.contiguous_format)
    model.eval()
    return model, history, time.time() - t_start, warmup


CACHE_DIR = Path(os.environ.get("DSG_TESTASSETS_CACHE",
                                Path.home() / ".cache" / "dsg-testassets"))


def cache_path(name, model, recipe, quick):
    """Trained weights are cached outside the repo, keyed by architecture + recipe + seed.

    A re-run then only re-exports/re-checks (seconds instead of ~20 min); pass --no-cache
    to retrain from scratch.
    """
    key = json.dumps(dict(arch=repr(model), recipe=recipe, seed=SEED, batch=BATCH,
                          quick=quick, mean=MEAN, std=STD), sort_keys=True)
    return CACHE_DIR / f"{name}-{hashlib.sha256(key.encode()).hexdigest()[:16]}.pt"


# --------------------------------------------------------------------------------------
# Minimal NumPy ONNX interpreter (float64) used to verify the exported graphs
# --------------------------------------------------------------------------------------

def _np_conv(x, w, b, a):
    n, c, h, wd = x.shape
    oc, icg, kh, kw = w.shape
    g = a.get("group", 1)
    s = a.get("strides", [1, 1])
    p = a.get("pads", [0, 0, 0, 0])
    d = a.get("dilations", [1, 1])
    assert list(d) == [1, 1] and a.get("auto_pad", b"NOTSET") in (b"NOTSET", "NOTSET")
    xp = np.pad(x, ((0, 0), (0, 0), (p[0], p[2]), (p[1], p[3])))
    oh = (h + p[0] + p[2] - kh) // s[0] + 1
    ow = (wd + p[1] + p[3] - kw) // s[1] + 1
    cols = np.empty((n, c, kh, kw, oh, ow), dtype=x.dtype)
    for i in range(kh):
        for j in range(kw):
            cols[:, :, i, j] = xp[:, :, i:i + s[0] * (oh - 1) + 1:s[0], j:j + s[1] * (ow - 1) + 1:s[1]]
    cols = cols.reshape(n, g, icg * kh * kw, oh * ow)
    wr = w.reshape(g, oc // g, icg * kh * kw)
    out = np.einsum("gok,ngkp->ngop", wr, cols).reshape(n, oc, oh, ow)
    if b is not None:
        out = out + b[None, :, None, None]
    return out


def _np_maxpool(x, a):
    k = a["kernel_shape"]
    s = a.get("strides", [1, 1])
    p = a.get("pads", [0, 0, 0, 0])
    assert not any(p) and a.get("ceil_mode", 0) == 0
    n, c, h, w = x.shape
    oh, ow = (h - k[0]) // s[0] + 1, (w - k[1]) // s[1] + 1
    out = np.full((n, c, oh, ow), -np.inf)
    for i in range(k[0]):
        for j in range(k[1]):
            out = np.maximum(out, x[:, :, i:i + s[0] * (oh - 1) + 1:s[0], j:j + s[1] * (ow - 1) + 1:s[1]])
    return out


def run_onnx_numpy(model, x):
    g = model.graph
    env = {t.name: numpy_helper.to_array(t).astype(np.float64)
           if numpy_helper.to_array(t).dtype.kind == "f" else numpy_helper.to_array(t)
           for t in g.initializer}
    env[g.input[0].name] = x.astype(np.float64)
    for node in g.node:
        a = {at.name: helper.get_attribute_value(at) for at in node.attribute}
        ins = [env[i] if i else None for i in node.input]
        op = node.op_type
        if op == "Constant":
            v = numpy_helper.to_array(a["value"])
            out = v.astype(np.float64) if v.dtype.kind == "f" else v
        elif op == "Conv":
            out = _np_conv(ins[0], ins[1], ins[2] if len(ins) > 2 else None, a)
        elif op == "BatchNormalization":
            xx, sc, bi, mu, var = ins
            eps = a.get("epsilon", 1e-5)
            r = lambda t: t[None, :, None, None]
            out = (xx - r(mu)) / np.sqrt(r(var) + eps) * r(sc) + r(bi)
        elif op == "Relu":
            out = np.maximum(ins[0], 0.0)
        elif op == "Clip":
            lo = ins[1] if len(ins) > 1 and ins[1] is not None else -np.inf
            hi = ins[2] if len(ins) > 2 and ins[2] is not None else np.inf
            out = np.clip(ins[0], lo, hi)
        elif op == "Add":
            out = ins[0] + ins[1]
        elif op == "MaxPool":
            out = _np_maxpool(ins[0], a)
        elif op == "GlobalAveragePool":
            out = ins[0].mean(axis=(2, 3), keepdims=True)
        elif op == "Flatten":
            ax = a.get("axis", 1)
            out = ins[0].reshape(int(np.prod(ins[0].shape[:ax])), -1)
        elif op == "Gemm":
            A, B = ins[0], ins[1]
            if a.get("transA", 0):
                A = A.T
            if a.get("transB", 0):
                B = B.T
            out = a.get("alpha", 1.0) * (A @ B)
            if len(ins) > 2 and ins[2] is not None:
                out = out + a.get("beta", 1.0) * ins[2]
        else:
            raise NotImplementedError(f"numpy reference: op {op}")
        assert len(node.output) == 1, f"{op} has {len(node.output)} outputs"
        env[node.output[0]] = out
    return env[g.output[0].name]


# --------------------------------------------------------------------------------------
# Export + checks
# --------------------------------------------------------------------------------------

def op_histogram(model):
    c = collections.Counter(n.op_type for n in model.graph.node)
    return dict(sorted(c.items()))


def dims_of(value_info):
    return [d.dim_param if d.dim_param else d.dim_value
            for d in value_info.type.tensor_type.shape.dim]


def io_summary(model):
    return {
        "inputs": [dict(name=i.name, shape=dims_of(i),
                        dtype=TensorProto.DataType.Name(i.type.tensor_type.elem_type))
                   for i in model.graph.input],
        "outputs": [dict(name=o.name, shape=dims_of(o),
                         dtype=TensorProto.DataType.Name(o.type.tensor_type.elem_type))
                    for o in model.graph.output],
    }


def assert_no_external_data(model):
    for t in model.graph.initializer:
        assert t.data_location != TensorProto.EXTERNAL, f"initializer {t.name} is external"


def const_value(model, name):
    for t in model.graph.initializer:
        if t.name == name:
            return numpy_helper.to_array(t)
    for n in model.graph.node:
        if n.op_type == "Constant" and n.output[0] == name:
            return numpy_helper.to_array(n.attribute[0].t)
    raise KeyError(name)


def materialize_identity_initializers(path):
    """Undo the exporter's initializer de-duplication.

    torch.onnx (1.13) de-duplicates initializers that are bit-identical and re-creates the
    duplicates with `Identity` nodes.  In a ResNet the bias of the last BN of a block and the
    bias of its projection-shortcut BN receive identical gradients (both feed the same Add)
    and are therefore always equal, so the exported graph fed one BN bias through an
    Identity node.  Consumers should see plain initializers, so we copy the tensor under the
    Identity output name and drop the node.  Returns the number of nodes removed.
    """
    m = onnx.load(str(path))
    inits = {t.name: t for t in m.graph.initializer}
    keep, removed = [], 0
    for n in m.graph.node:
        if n.op_type == "Identity" and n.input[0] in inits and n.output[0] not in inits:
            t = onnx.TensorProto()
            t.CopyFrom(inits[n.input[0]])
            t.name = n.output[0]
            m.graph.initializer.append(t)
            inits[t.name] = t
            removed += 1
        else:
            keep.append(n)
    if removed:
        del m.graph.node[:]
        m.graph.node.extend(keep)
        onnx.checker.check_model(m, full_check=True)
        onnx.save(m, str(path))
    return removed


def export_bn_preserving(model, path, dynamic_axes=None):
    """Export with inference-form BatchNormalization preserved (no BN folding)."""
    model.eval()
    dummy = torch.zeros(1, 1, 28, 28)
    if dynamic_axes is None:
        dynamic_axes = {"input": {0: "batch"}, "logits": {0: "batch"}}
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.onnx.export(model, dummy, str(path), opset_version=OPSET,
                      input_names=["input"], output_names=["logits"],
                      dynamic_axes=dynamic_axes,
                      training=torch.onnx.TrainingMode.PRESERVE,
                      do_constant_folding=False)
    n_id = materialize_identity_initializers(path)
    if n_id:
        log(f"{path.name}: replaced {n_id} de-duplicated-initializer Identity node(s)")
    m = onnx.load(str(path))
    onnx.checker.check_model(m, full_check=True)
    assert_no_external_data(m)
    n_bn_mod = sum(isinstance(x, nn.BatchNorm2d) for x in model.modules())
    bn_nodes = [n for n in m.graph.node if n.op_type == "BatchNormalization"]
    assert len(bn_nodes) == n_bn_mod, f"{path.name}: {len(bn_nodes)} BN nodes vs {n_bn_mod} modules"
    for n in bn_nodes:
        assert len(n.output) == 1, f"{n.name}: BN has {len(n.output)} outputs (training form)"
        attrs = {a.name: helper.get_attribute_value(a) for a in n.attribute}
        assert attrs.get("training_mode", 0) == 0, f"{n.name}: training_mode=1"
    assert [i.name for i in m.graph.input] == ["input"], [i.name for i in m.graph.input]
    assert [o.name for o in m.graph.output] == ["logits"]
    return m, n_bn_mod


def check_against_torch(onnx_model, torch_model, x, name, tol=2e-4):
    with torch.no_grad():
        ref = torch_model(torch.from_numpy(x)).numpy()
    got = run_onnx_numpy(onnx_model, x)
    err = float(np.abs(got - ref).max())
    log(f"{name}: numpy-ONNX vs PyTorch max |diff| = {err:.2e} on input {list(x.shape)}")
    assert err < tol, f"{name}: ONNX graph disagrees with PyTorch ({err})"
    return err


def build_unsupported_ops(path):
    rng = np.random.RandomState(SEED)
    c = 4
    inits = [
        numpy_helper.from_array((rng.randn(c, 1, 3, 3) * 0.5).astype(np.float32), "conv_0.weight"),
        numpy_helper.from_array((rng.randn(c) * 0.1).astype(np.float32), "conv_0.bias"),
        numpy_helper.from_array((1.0 + 0.1 * rng.randn(c)).astype(np.float32), "bn_0.scale"),
        numpy_helper.from_array((0.1 * rng.randn(c)).astype(np.float32), "bn_0.bias"),
        numpy_helper.from_array((0.1 * rng.randn(c)).astype(np.float32), "bn_0.running_mean"),
        numpy_helper.from_array((0.5 + rng.rand(c)).astype(np.float32), "bn_0.running_var"),
    ]
    nodes = [
        helper.make_node("Conv", ["input", "conv_0.weight", "conv_0.bias"], ["conv_0_out"],
                         name="conv_0", kernel_shape=[3, 3], pads=[1, 1, 1, 1], strides=[1, 1]),
        helper.make_node("BatchNormalization",
                         ["conv_0_out", "bn_0.scale", "bn_0.bias", "bn_0.running_mean",
                          "bn_0.running_var"], ["bn_0_out"], name="bn_0", epsilon=1e-5,
                         momentum=0.9),
        helper.make_node("Relu", ["bn_0_out"], ["relu_0_out"], name="relu_0"),
        helper.make_node("Hardmax", ["relu_0_out"], ["hardmax_0_out"], name="hardmax_0", axis=-1),
        helper.make_node("LpNormalization", ["hardmax_0_out"], ["output"], name="lpnorm_0",
                         axis=-1, p=2),
    ]
    graph = helper.make_graph(
        nodes, "unsupported_ops",
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, ["batch", 1, 8, 8])],
        [helper.make_tensor_value_info("output", TensorProto.FLOAT, ["batch", c, 8, 8])],
        initializer=inits)
    m = helper.make_model(graph, producer_name="dsg-make-testassets",
                          opset_imports=[helper.make_opsetid("", OPSET)])
    m.ir_version = 7
    onnx.checker.check_model(m, full_check=True)
    path.parent.mkdir(parents=True, exist_ok=True)
    onnx.save(m, str(path))
    m = onnx.load(str(path))
    onnx.checker.check_model(m, full_check=True)
    return m


def file_info(path):
    b = path.read_bytes()
    return dict(path=str(path.relative_to(ROOT)), bytes=len(b), sha256=hashlib.sha256(b).hexdigest())


# --------------------------------------------------------------------------------------
# README
# --------------------------------------------------------------------------------------

def fmt_hist(h):
    return ", ".join(f"{k}×{v}" for k, v in h.items())


def fmt_shape(s):
    return "[" + ", ".join(str(d) for d in s) + "]"


def write_readme(manifest, path):
    L = []
    A = L.append
    A("# Dsg test-asset models")
    A("")
    A("Generated by `eng/make-testassets.py` — **do not edit by hand**; regenerate with")
    A("")
    A("```sh")
    A("/usr/bin/python3 eng/make-testassets.py")
    A("```")
    A("")
    A("from the repository root (Debian 12 packages: `python3-torch` (1.13), `python3-onnx` (1.12), "
      "`python3-numpy`, `dataset-fashion-mnist`; use `/usr/bin/python3`, not a pyenv python). "
      f"The last run took **{manifest['total_seconds'] / 60:.1f} min** wall-clock on a "
      "2-core CPU"
      + (f" ({manifest['cpu_seconds'] / 60:.1f} min CPU time)" if manifest.get("cpu_seconds") else "")
      + f" (torch {manifest['torch_version']}, onnx {manifest['onnx_version']}, "
      f"numpy {manifest['numpy_version']})"
      + (f"; {manifest['timing_note']}" if manifest.get("timing_note") else "") + ".")
    if manifest.get("models_loaded_from_cache"):
        A("")
        A("That run re-used cached trained weights (`~/.cache/dsg-testassets`) for "
          + ", ".join(f"`{n}`" for n in manifest["models_loaded_from_cache"])
          + ", so its wall-clock time covers export and checks only; the per-model training "
          "times below are those of the original training runs. `--no-cache` retrains "
          "(`--train-only NAMES` trains selected models in a separate process).")
    A("")
    A("Everything is seeded (seed " + str(SEED) + "), so retraining reproduces the same "
      "architectures and near-identical accuracy, but the exact bytes of the `.onnx`/`.npy` "
      "files may differ across PyTorch/oneDNN versions and CPUs. After regenerating, tests "
      "that compare against `testassets/data/*_logits_64.npy` stay consistent because the "
      "logits are regenerated together with the models. `manifest.json` holds the same "
      "facts in machine-readable form (incl. sha256 of every file).")
    A("")
    A("## Preprocessing (all Fashion-MNIST models)")
    A("")
    A("* Input tensor `input`: float32 NCHW `[batch, 1, 28, 28]` (grayscale, one channel).")
    A("* Pixel `p` in 0..255 → `x = p / 255`, then `x = (x - 0.2860) / 0.3530` "
      "(mean 0.2860, std 0.3530). A black background pixel becomes ≈ -0.8102.")
    A("* Output `logits`: float32 `[batch, 10]` raw logits (no softmax).")
    A("* Class order: " + ", ".join(f"{i} {n}" for i, n in enumerate(CLASS_NAMES)) + ".")
    A("")
    A("## Summary")
    A("")
    A("| file | params | BN nodes | fp32 test acc (10k) | size |")
    A("|---|---:|---:|---:|---:|")
    for key, e in manifest["models"].items():
        acc = f"{e['test_accuracy'] * 100:.2f} %" if e.get("test_accuracy") is not None else "—"
        params = "—" if e.get("params") is None else f"{e['params']:,}"
        A(f"| `{e['file']['path'].replace('testassets/models/', '')}` | {params} | "
          f"{e['bn_nodes']} | {acc} | {e['file']['bytes']:,} B |")
    A("")
    A("All `.onnx` files are opset 13, weights embedded (no external data), and pass "
      "`onnx.checker.check_model(full_check=True)`.")
    A("")
    A("## Export settings")
    A("")
    A("BN-preserving models (`resnet_fmnist`, `mobilenetv2_fmnist`, `tiny_cnn`, "
      "`bad/dynamic_spatial`) are exported with")
    A("")
    A("```python")
    A("model.eval()")
    A("torch.onnx.export(model, torch.zeros(1, 1, 28, 28), path, opset_version=13,")
    A("                  input_names=[\"input\"], output_names=[\"logits\"],")
    A("                  dynamic_axes={\"input\": {0: \"batch\"}, \"logits\": {0: \"batch\"}},")
    A("                  training=torch.onnx.TrainingMode.PRESERVE, do_constant_folding=False)")
    A("```")
    A("")
    A("(`bad/dynamic_spatial` additionally marks input dims 2, 3 as `height`, `width`.) "
      "With the model in eval mode, `TrainingMode.PRESERVE` exports eval-mode behaviour but "
      "skips the exporter's eval-only Conv+BN fusion pass, so every `nn.BatchNorm2d` becomes "
      "one inference-form `BatchNormalization` node (inputs X, scale, B, mean, var; exactly one "
      "output; opset 13 has no `training_mode` attribute). The script asserts: BN node count "
      "== number of `BatchNorm2d` modules, every BN node has one output and no "
      "`training_mode=1`, no external data. `do_constant_folding=False` keeps the graph "
      "1:1 with the modules; as a consequence the `Clip` min/max (0 and 6) arrive as outputs "
      "of `Constant` nodes rather than initializers. The default export (no `training=` "
      "argument, i.e. `TrainingMode.EVAL`) folds BN into Conv — that is how "
      "`resnet_fmnist_folded.onnx` is produced.")
    A("")
    A("Export quirk: torch.onnx 1.13 de-duplicates bit-identical initializers and re-creates "
      "the duplicates through `Identity` nodes. In the ResNet the bias of a block's second BN "
      "and the bias of its projection-shortcut BN get identical gradients (both feed the same "
      "`Add`) and so stay exactly equal, which produced two `Identity` nodes feeding BN biases. "
      "The script rewrites such `Identity(initializer)` nodes back into plain initializers "
      "(named after the Identity output, e.g. `layers.1.shortcut.1.bias`), so no graph here "
      "contains `Identity` nodes and every BN input is an initializer. The `Constant` nodes in "
      "`mobilenetv2_fmnist.onnx` are only the scalar min (0) / max (6) inputs of the `Clip` "
      "nodes.")
    A("")
    A("Every BN-preserving graph (and the folded one) is re-executed by a small float64 NumPy "
      "ONNX interpreter inside the script and compared with the PyTorch eval-mode logits on "
      "the 64 reference images (max |diff| listed below).")
    A("")
    A("## Models")
    for key, e in manifest["models"].items():
        A("")
        A(f"### `{e['file']['path'].replace('testassets/models/', '')}`")
        A("")
        A(ARCH_TEXT[key])
        A("")
        if e.get("params") is not None:
            A(f"* Parameters: {e['params']:,} (trainable; BN running stats not counted)")
        A(f"* BatchNormalization nodes: {e['bn_nodes']}")
        A(f"* Op histogram ({sum(e['op_histogram'].values())} nodes): {fmt_hist(e['op_histogram'])}")
        for i in e["io"]["inputs"]:
            A(f"* Input `{i['name']}`: {i['dtype']} {fmt_shape(i['shape'])}")
        for o in e["io"]["outputs"]:
            A(f"* Output `{o['name']}`: {o['dtype']} {fmt_shape(o['shape'])}")
        A(f"* File size: {e['file']['bytes']:,} bytes; sha256 `{e['file']['sha256']}`")
        if e.get("test_accuracy") is not None:
            A(f"* fp32 Fashion-MNIST test accuracy (full 10k test set, PyTorch eval mode): "
              f"**{e['test_accuracy'] * 100:.2f} %**")
        if e.get("numpy_vs_torch_max_abs_diff") is not None:
            what = ("8 reference images at 28x28 and 3 random 32x20 inputs"
                    if key == "dynamic_spatial" else "the 64 reference images")
            A(f"* NumPy-ONNX vs PyTorch logits max |diff| ({what}): "
              f"{e['numpy_vs_torch_max_abs_diff']:.2e}")
        if e.get("training"):
            t = e["training"]
            A(f"* Training: {t['epochs']} epoch(s) on the 60k train set, batch {BATCH}, "
              f"SGD momentum 0.9 (Nesterov), peak LR {t['lr']}, linear warm-up "
              f"({t['warmup_steps']} it) then per-iteration cosine decay to 0, weight decay "
              f"{t['wd']} (conv/linear weights only), "
              + ("augmentation: random 28x28 crop of the 2-pixel-padded image + random "
                 "horizontal flip" if t["augment"] else "no augmentation")
              + f"; {t['seconds']:.0f} s on CPU.")
        if e.get("reference_logits"):
            A(f"* Reference logits: `{e['reference_logits']}` (float32 [64, 10])")
    A("")
    A("## Reference data (`testassets/data/`)")
    A("")
    for d in manifest["data"]:
        A(f"* `{d['path'].replace('testassets/data/', '')}` — {d['desc']} "
          f"({d['bytes']:,} bytes)")
    A("")
    A("All `.npy` files are written with `numpy.save` (NPY format v1.0, little-endian, C order).")
    A("")
    path.write_text("\n".join(L) + "\n", encoding="utf-8")


# --------------------------------------------------------------------------------------
# Main
# --------------------------------------------------------------------------------------

def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true",
                    help="smoke test: 20 batches per epoch, targets not enforced")
    ap.add_argument("--no-cache", action="store_true",
                    help="retrain even if trained weights are cached (see DSG_TESTASSETS_CACHE)")
    ap.add_argument("--train-only", metavar="NAMES",
                    help="comma-separated model names: only train them (fills the cache), "
                         "export nothing; lets models be trained in separate processes")
    ap.add_argument("--threads", type=int, default=2, help="torch CPU threads (default 2)")
    ap.add_argument("--readme-only", action="store_true",
                    help="only re-render testassets/models/README.md from manifest.json")
    args = ap.parse_args()
    if args.readme_only:
        manifest = json.loads((MODELS / "manifest.json").read_text(encoding="utf-8"))
        write_readme(manifest, MODELS / "README.md")
        return

    torch.set_num_threads(args.threads)
    torch.use_deterministic_algorithms(True, warn_only=True)
    seed_everything(SEED)
    log(f"torch {torch.__version__}, onnx {onnx.__version__}, numpy {np.__version__}, "
        f"threads {torch.get_num_threads()}, quick={args.quick}")

    MODELS.mkdir(parents=True, exist_ok=True)
    BAD.mkdir(parents=True, exist_ok=True)
    DATA.mkdir(parents=True, exist_ok=True)

    data = load_fmnist()
    xtr, ytr, xte, yte = data
    log(f"loaded Fashion-MNIST: train {tuple(xtr.shape)}, test {tuple(xte.shape)}")

    x64 = xte[:64].numpy().copy()
    y64 = yte[:64].numpy().astype(np.int64)
    np.save(DATA / "fmnist_test_64.npy", x64)
    np.save(DATA / "fmnist_test_64_labels.npy", y64)

    manifest = dict(torch_version=torch.__version__, onnx_version=onnx.__version__,
                    numpy_version=np.__version__, seed=SEED, quick=args.quick,
                    preprocessing=dict(mean=MEAN, std=STD, input_shape=[1, 28, 28],
                                       formula="x = (p/255 - 0.2860) / 0.3530"),
                    class_names=CLASS_NAMES, models={}, data=[])
    data_desc = [(DATA / "fmnist_test_64.npy",
                  "first 64 Fashion-MNIST TEST images, preprocessed, float32 [64, 1, 28, 28]"),
                 (DATA / "fmnist_test_64_labels.npy", "their labels, int64 [64]")]

    builders = {
        "resnet_fmnist": lambda: ResNetFMNIST(blocks_per_stage=1),
        "mobilenetv2_fmnist": lambda: MobileNetV2FMNIST(),
        "tiny_cnn": lambda: TinyCNN(),
    }
    trained, cached = {}, []
    train_only = None if args.train_only is None else args.train_only.split(",")
    for k, (name, build) in enumerate(builders.items()):
        if train_only is not None and name not in train_only:
            continue
        recipe = RECIPES[name]
        seed_everything(SEED + 1000 * (k + 1))
        model = build()
        params = sum(p.numel() for p in model.parameters())
        ckpt = cache_path(name, model, recipe, args.quick)
        if ckpt.exists() and not args.no_cache:
            c = torch.load(ckpt)
            model.load_state_dict(c["state_dict"])
            model.eval()
            history, secs, warmup = c["history"], c["seconds"], c["warmup"]
            cached.append(name)
            log(f"{name}: loaded trained weights from cache {ckpt} (trained in {secs:.0f}s)")
        else:
            log(f"training {name} ({params} params) for {recipe['epochs']} epoch(s)")
            model, history, secs, warmup = train(model, name, recipe, data,
                                                 seed=SEED + 1000 * (k + 1) + 7, quick=args.quick)
            ckpt.parent.mkdir(parents=True, exist_ok=True)
            torch.save(dict(state_dict=model.state_dict(), history=history, seconds=secs,
                            warmup=warmup), ckpt)
            log(f"{name}: cached trained weights in {ckpt}")
        if train_only is not None:
            continue
        acc = evaluate(model, xte, yte)
        log(f"{name}: final fp32 test accuracy {acc:.4f} (train {secs:.0f}s)")
        if not args.quick:
            assert acc >= recipe["target"], f"{name}: accuracy {acc:.4f} < target {recipe['target']}"

        path = MODELS / f"{name}.onnx"
        om, n_bn = export_bn_preserving(model, path)
        hist = op_histogram(om)
        if name == "mobilenetv2_fmnist":
            clips = [n for n in om.graph.node if n.op_type == "Clip"]
            assert clips, "MobileNetV2 export has no Clip nodes"
            for c in clips:
                assert float(const_value(om, c.input[1])) == 0.0
                assert float(const_value(om, c.input[2])) == 6.0
            groups = [helper.get_attribute_value(a) for n in om.graph.node if n.op_type == "Conv"
                      for a in n.attribute if a.name == "group"]
            assert any(g > 1 for g in groups), "MobileNetV2 export has no grouped (depthwise) Conv"
            assert hist.get("Add", 0) >= 2
        if name == "resnet_fmnist":
            assert hist.get("Add", 0) == 3
        err = check_against_torch(om, model, x64, name)
        with torch.no_grad():
            logits = model(torch.from_numpy(x64)).numpy().astype(np.float32)
        lpath = DATA / f"{name}_logits_64.npy"
        np.save(lpath, logits)
        data_desc.append((lpath, f"PyTorch eval-mode logits of `{name}.onnx` on the 64 images, "
                                 f"float32 [64, 10] (argmax agrees with labels on "
                                 f"{int((logits.argmax(1) == y64).sum())}/64)"))
        manifest["models"][name] = dict(
            file=file_info(path), params=params, bn_nodes=n_bn, op_histogram=hist,
            io=io_summary(om), test_accuracy=round(acc, 4), numpy_vs_torch_max_abs_diff=err,
            reference_logits=str(lpath.relative_to(ROOT)),
            training=dict(epochs=recipe["epochs"], lr=recipe["lr"], wd=recipe["wd"],
                          augment=recipe["augment"], seconds=round(secs, 1),
                          warmup_steps=warmup,
                          history=history))
        log(f"{name}: exported {path.name} ({path.stat().st_size} B) ops {hist}")
        trained[name] = (model, acc)

    if train_only is not None:
        log(f"--train-only: trained/cached {train_only}; nothing exported")
        return

    # --- resnet_fmnist_folded: same trained ResNet, default export (BN folded) ---
    resnet, resnet_acc = trained["resnet_fmnist"]
    resnet.eval()
    fpath = MODELS / "resnet_fmnist_folded.onnx"
    torch.onnx.export(resnet, torch.zeros(1, 1, 28, 28), str(fpath), opset_version=OPSET,
                      input_names=["input"], output_names=["logits"],
                      dynamic_axes={"input": {0: "batch"}, "logits": {0: "batch"}})
    materialize_identity_initializers(fpath)
    fm = onnx.load(str(fpath))
    onnx.checker.check_model(fm, full_check=True)
    assert_no_external_data(fm)
    fhist = op_histogram(fm)
    assert fhist.get("BatchNormalization", 0) == 0, f"folded export still has BN: {fhist}"
    ferr = check_against_torch(fm, resnet, x64, "resnet_fmnist_folded")
    manifest["models"]["resnet_fmnist_folded"] = dict(
        file=file_info(fpath), params=None, bn_nodes=0, op_histogram=fhist, io=io_summary(fm),
        test_accuracy=round(resnet_acc, 4), numpy_vs_torch_max_abs_diff=ferr,
        reference_logits="testassets/data/resnet_fmnist_logits_64.npy")
    log(f"resnet_fmnist_folded: ops {fhist}")

    # --- bad/unsupported_ops.onnx ---
    upath = BAD / "unsupported_ops.onnx"
    um = build_unsupported_ops(upath)
    manifest["models"]["unsupported_ops"] = dict(
        file=file_info(upath), params=None, bn_nodes=1, op_histogram=op_histogram(um),
        io=io_summary(um), test_accuracy=None)
    log(f"unsupported_ops: ops {op_histogram(um)}")

    # --- bad/dynamic_spatial.onnx: trained tiny CNN, symbolic batch/height/width ---
    tiny, _ = trained["tiny_cnn"]
    dpath = BAD / "dynamic_spatial.onnx"
    dm, n_bn = export_bn_preserving(
        tiny, dpath, dynamic_axes={"input": {0: "batch", 2: "height", 3: "width"},
                                   "logits": {0: "batch"}})
    assert dims_of(dm.graph.input[0]) == ["batch", 1, "height", "width"], dims_of(dm.graph.input[0])
    derr = check_against_torch(dm, tiny, x64[:8], "dynamic_spatial@28x28")
    rng = np.random.RandomState(SEED + 5)
    derr = max(derr, check_against_torch(dm, tiny, rng.randn(3, 1, 32, 20).astype(np.float32),
                                         "dynamic_spatial@32x20"))
    manifest["models"]["dynamic_spatial"] = dict(
        file=file_info(dpath), params=sum(p.numel() for p in tiny.parameters()), bn_nodes=n_bn,
        op_histogram=op_histogram(dm), io=io_summary(dm), test_accuracy=None,
        numpy_vs_torch_max_abs_diff=derr)
    log(f"dynamic_spatial: io {io_summary(dm)}")

    for p, desc in data_desc:
        d = file_info(p)
        d["desc"] = desc
        manifest["data"].append(d)
    manifest["total_seconds"] = round(time.time() - T0, 1)
    manifest["cpu_seconds"] = round(time.process_time(), 1)
    manifest["models_loaded_from_cache"] = cached
    (MODELS / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    write_readme(manifest, MODELS / "README.md")
    log(f"done in {manifest['total_seconds']:.0f}s")


if __name__ == "__main__":
    main()
