#!/usr/bin/python3
"""Build the "wild-shaped" ONNX test corpus for Dsg (testassets/models/wild/).

Real users bring ONNX image models in many shapes: old opsets (8-12), IR-3 files that list
initializers as graph inputs, a fixed batch of 1, softmax / embedding / dense-map / multiple
outputs, weights stored as Constant nodes (Paddle2ONNX), and many input conventions
((x/255-mean)/std, [0,1], [0,255], BGR minus a mean image, (x-0.5)/0.5).  This script trains a
few small BN-carrying CNNs on Fashion-MNIST and exports one small ONNX model per such shape,
so the .NET side can test loading, opset upgrade, calibration and quantization on all of them.

How to run (from the repository root):

    /usr/bin/python3 eng/make-wild-testassets.py              # full build (trains ~8 small nets)
    /usr/bin/python3 eng/make-wild-testassets.py --quick      # smoke test: 30 steps per net,
                                                              # accuracy targets not enforced
                                                              # (writes the same files - do not commit)
    /usr/bin/python3 eng/make-wild-testassets.py --no-cache   # retrain even if cached

Trained weights are cached in ~/.cache/dsg-wild-testassets (override with
DSG_WILD_TESTASSETS_CACHE), keyed by name + architecture + recipe + seed, so a re-run only
re-exports and re-checks.  Uses one torch thread (--threads N to change).

Use the Debian interpreter (/usr/bin/python3): python3-torch (1.13), python3-onnx (1.12),
python3-numpy and dataset-fashion-mnist (IDX files in /usr/share/datasets/fashion-mnist,
override with FMNIST_DIR=...).  No torchvision, onnxruntime or internet access is needed.

Outputs (testassets/models/wild/): the *.onnx corpus, bgr_mean_image.mean.npy, manifest.json
(machine-readable: sizes, sha256, opsets, I/O, conventions with a machine-readable
preprocessing recipe, accuracies, op histograms, reference outputs) and README.md (generated).

Every exported graph is checked with onnx.checker (full_check), strict ONNX shape inference,
and re-executed by a small float64 NumPy ONNX interpreter (below) on 64 real test images and
compared with the PyTorch model it came from.
"""

import argparse
import copy
import hashlib
import importlib.util
import json
import math
import os
import sys
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
import onnx
from onnx import TensorProto, helper, numpy_helper, shape_inference, version_converter


def _load_make_testassets():
    """Load eng/make-testassets.py (hyphenated name) as a module to share its helpers.

    Importing it only defines constants, classes and functions; its main() runs only under
    `if __name__ == "__main__"`.
    """
    spec = importlib.util.spec_from_file_location(
        "make_testassets", Path(__file__).with_name("make-testassets.py"))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


_mt = _load_make_testassets()

# --------------------------------------------------------------------------------------
# Constants
# --------------------------------------------------------------------------------------

SEED = 20240917
BATCH = 128
STEPS = 1000          # Adam steps per trained net (~2.1 epochs of Fashion-MNIST)
LR = 5e-3             # OneCycle max learning rate
HEAD_STEPS = 300      # steps to fit the dense head's 1x1 conv (trunk frozen)
TARGET_ACC = 0.85
WIDTHS = (8, 16, 64)  # stem, stage-2 (incl. residual block), final feature width
N_CHECK = 64          # test images used for the NumPy-vs-PyTorch check
CLASS_NAMES = _mt.CLASS_NAMES

ROOT = _mt.ROOT
WILD = ROOT / "testassets" / "models" / "wild"
FMNIST_DIR = _mt.FMNIST_DIR
CACHE_DIR = Path(os.environ.get("DSG_WILD_TESTASSETS_CACHE",
                                Path.home() / ".cache" / "dsg-wild-testassets"))
MEAN_IMAGE_FILE = "bgr_mean_image.mean.npy"
BGR_OFFSETS = (4.0, -2.0, 0.0)  # added to the per-pixel mean image for channels B, G, R

# Input conventions: x = ((p * scale) - (mean_image or mean)) / std, p = raw pixel 0..255,
# after an optional crop [x0, y0, width, height] of the 28x28 image.
CONVENTIONS = {
    "torchvision": dict(channels=1, order="gray", scale=1.0 / 255.0, mean=[0.2860], std=[0.3530],
                        mean_image=None, crop=None),
    "unit": dict(channels=1, order="gray", scale=1.0 / 255.0, mean=[0.0], std=[1.0],
                 mean_image=None, crop=None),
    "half": dict(channels=1, order="gray", scale=1.0 / 255.0, mean=[0.5], std=[0.5],
                 mean_image=None, crop=None),
    "bgr_mean_image": dict(channels=3, order="bgr", scale=1.0, mean=[0.0, 0.0, 0.0],
                           std=[1.0, 1.0, 1.0], mean_image=MEAN_IMAGE_FILE, crop=None),
    "raw255": dict(channels=1, order="gray", scale=1.0, mean=[0.0], std=[1.0],
                   mean_image=None, crop=None),
}
CONVENTION_TEXT = {
    "torchvision": "x = (p/255 - 0.2860) / 0.3530, 1 channel",
    "unit": "x = p/255 (inputs in [0,1]), 1 channel",
    "half": "x = (p/255 - 0.5) / 0.5 (Paddle style, inputs in [-1,1]), 1 channel",
    "bgr_mean_image": ("3 channels in B,G,R order (all the same gray image), "
                       "x[c,h,w] = p[h,w] - mean_image[c,h,w] (Caffe/CNTK style); mean_image = "
                       "per-pixel mean of the 60k training images + (B +4, G -2, R +0), stored in "
                       f"`{MEAN_IMAGE_FILE}` (float32 [3,28,28])"),
    "raw255": "x = p (inputs in [0,255], no normalization), 1 channel",
}
NONSQUARE_CROP = [4, 0, 20, 28]  # x0, y0, width, height: columns 4..23, all rows

T0 = _mt.T0                          # shared clock: log() below prints time since T0
log = _mt.log
seed_everything = _mt.seed_everything


# --------------------------------------------------------------------------------------
# Data
# --------------------------------------------------------------------------------------

read_idx = _mt.read_idx


def load_fmnist_raw():
    d = FMNIST_DIR
    xtr = read_idx(d / "train-images-idx3-ubyte.gz")
    ytr = read_idx(d / "train-labels-idx1-ubyte.gz")
    xte = read_idx(d / "t10k-images-idx3-ubyte.gz")
    yte = read_idx(d / "t10k-labels-idx1-ubyte.gz")
    assert xtr.shape == (60000, 28, 28) and xte.shape == (10000, 28, 28)
    return (torch.from_numpy(xtr), torch.from_numpy(ytr.astype(np.int64)),
            torch.from_numpy(xte), torch.from_numpy(yte.astype(np.int64)))


def make_mean_image(xtr_u8):
    """Per-pixel mean of the training images, replicated to B,G,R with small offsets."""
    m = xtr_u8.numpy().astype(np.float64).mean(axis=0)
    mi = np.stack([m + off for off in BGR_OFFSETS]).astype(np.float32)
    assert mi.shape == (3, 28, 28)
    return mi


class Preprocessor:
    """Applies a manifest `preprocessing` object to raw uint8 [N,28,28] pixels (torch)."""

    def __init__(self, pre, mean_images):
        self.pre = pre
        c = pre["channels"]
        x0, y0, w, h = pre["crop"] or [0, 0, 28, 28]
        self.box = (x0, y0, w, h)
        if pre["mean_image"]:
            sub = torch.from_numpy(mean_images[pre["mean_image"]])[:, y0:y0 + h, x0:x0 + w]
        else:
            sub = torch.tensor(pre["mean"], dtype=torch.float32).view(c, 1, 1)
        self.sub = sub.to(torch.float32)
        self.std = torch.tensor(pre["std"], dtype=torch.float32).view(c, 1, 1)
        self.scale = torch.tensor(pre["scale"], dtype=torch.float32)
        self.shape = (c, h, w)

    def __call__(self, u8):
        x0, y0, w, h = self.box
        p = u8[:, y0:y0 + h, x0:x0 + w].to(torch.float32)
        x = (p * self.scale)[:, None].expand(-1, self.shape[0], -1, -1)
        return ((x - self.sub) / self.std).contiguous()


# --------------------------------------------------------------------------------------
# Models
# --------------------------------------------------------------------------------------

def conv_bn(cin, cout, stride, act):
    return nn.Sequential(nn.Conv2d(cin, cout, 3, stride, 1, bias=False), nn.BatchNorm2d(cout), act)


class ResBlock(nn.Module):
    """conv3x3+BN+act, conv3x3+BN, optional SE gate, identity Add, act."""

    def __init__(self, c, hard=False):
        super().__init__()
        self.conv1 = nn.Conv2d(c, c, 3, 1, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(c)
        self.act1 = nn.ReLU6() if hard else nn.ReLU()
        self.conv2 = nn.Conv2d(c, c, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(c)
        if hard:  # squeeze-excitation gate with a hard-sigmoid (MobileNetV3 style)
            self.se = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Conv2d(c, c // 4, 1), nn.ReLU(),
                                    nn.Conv2d(c // 4, c, 1), nn.Hardsigmoid())
        else:
            self.se = None
        self.act2 = nn.Hardswish() if hard else nn.ReLU()

    def forward(self, x):
        y = self.bn2(self.conv2(self.act1(self.bn1(self.conv1(x)))))
        if self.se is not None:
            y = y * self.se(y)
        return self.act2(x + y)


class Trunk(nn.Module):
    """Small BN CNN: stem conv3x3, stride-2 conv3x3, residual block, stride-2 conv3x3."""

    def __init__(self, cin=1, widths=WIDTHS, hard=False):
        super().__init__()
        a, b, c = widths
        self.stem = conv_bn(cin, a, 1, nn.Hardswish() if hard else nn.ReLU())
        self.down1 = conv_bn(a, b, 2, nn.ReLU6() if hard else nn.ReLU())
        self.res = ResBlock(b, hard)
        self.down2 = conv_bn(b, c, 2, nn.Hardswish() if hard else nn.ReLU())

    def forward(self, x):  # -> [N, 64, H/4, W/4]
        return self.down2(self.res(self.down1(self.stem(x))))


class Classifier(nn.Module):
    """Trunk + GAP + Linear.  flatten: 'flatten' (torch.flatten) or 'view' (x.view(N, -1))."""

    def __init__(self, trunk, flatten="flatten", softmax=False, dropout=None, features=False):
        super().__init__()
        self.trunk = trunk
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.dropout = nn.Dropout(dropout) if dropout else None
        self.fc = nn.Linear(WIDTHS[2], 10)
        self.flatten, self.softmax, self.features = flatten, softmax, features

    def forward(self, x):
        f = self.pool(self.trunk(x))
        f = f.view(f.size(0), -1) if self.flatten == "view" else torch.flatten(f, 1)
        z = self.fc(self.dropout(f) if self.dropout is not None else f)
        if self.softmax:
            return torch.softmax(z, dim=1)
        if self.features:
            return z, f
        return z


class Embedding(nn.Module):
    def __init__(self, trunk):
        super().__init__()
        self.trunk = trunk
        self.pool = nn.AdaptiveAvgPool2d(1)

    def forward(self, x):  # [N, 64, 1, 1]
        return self.pool(self.trunk(x))


class DenseHead(nn.Module):
    """Trunk features (64 x 7 x 7) -> 1x1 conv to 10 classes -> nearest x4 upsample (28x28)."""

    def __init__(self, trunk):
        super().__init__()
        self.trunk = trunk
        self.head = nn.Conv2d(WIDTHS[2], 10, 1)
        self.up = nn.Upsample(scale_factor=4, mode="nearest")

    def forward(self, x):
        return self.up(self.head(self.trunk(x)))


# --------------------------------------------------------------------------------------
# Training / evaluation
# --------------------------------------------------------------------------------------

@torch.no_grad()
def evaluate(model, x, y, bs=500):
    """Top-1 accuracy (fraction) of a model whose (first) output is logits/probabilities."""
    model.eval()
    correct = 0
    for i in range(0, x.shape[0], bs):
        out = model(x[i:i + bs])
        if isinstance(out, tuple):
            out = out[0]
        correct += (out.argmax(1) == y[i:i + bs]).sum().item()
    return correct / x.shape[0]


def cache_path(name, arch, recipe):
    key = json.dumps(dict(name=name, arch=arch, recipe=recipe, seed=SEED, batch=BATCH),
                     sort_keys=True)
    return CACHE_DIR / f"{name}-{hashlib.sha256(key.encode()).hexdigest()[:16]}.pt"


def train_classifier(name, model, prep, data, seed, steps, args):
    """Adam + OneCycle, batch 128, epoch-wise permutation sampling; cached by name."""
    xtr, ytr, xte, yte = data
    recipe = dict(steps=steps, lr=LR, optimizer="Adam+OneCycle", convention=prep.pre)
    ckpt = cache_path(name, repr(model), recipe)
    if ckpt.exists() and not args.no_cache:
        c = torch.load(ckpt)
        model.load_state_dict(c["state_dict"])
        model.eval()
        log(f"{name}: loaded cached weights {ckpt.name} (trained in {c['seconds']:.0f}s)")
        return model, c["seconds"], c["final_train_loss"], True
    seed_everything(seed)
    model.train()
    opt = torch.optim.Adam(model.parameters(), lr=LR)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=LR, total_steps=steps)
    gen = torch.Generator().manual_seed(seed + 1)
    n = xtr.shape[0]
    perm, pos = torch.randperm(n, generator=gen), 0
    t = time.time()
    ema = None
    for step in range(steps):
        if pos + BATCH > n:
            perm, pos = torch.randperm(n, generator=gen), 0
        idx = perm[pos:pos + BATCH]
        pos += BATCH
        out = model(prep(xtr[idx]))
        if isinstance(out, tuple):
            out = out[0]
        loss = F.cross_entropy(out, ytr[idx])
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        sched.step()
        ema = loss.item() if ema is None else 0.98 * ema + 0.02 * loss.item()
        if (step + 1) % 250 == 0 or step + 1 == steps:
            log(f"{name}: step {step + 1}/{steps} loss(ema) {ema:.4f}")
    secs = time.time() - t
    model.eval()
    CACHE_DIR.mkdir(parents=True, exist_ok=True)
    torch.save(dict(state_dict=model.state_dict(), seconds=secs, final_train_loss=ema), ckpt)
    log(f"{name}: trained in {secs:.1f}s, cached {ckpt}")
    return model, secs, ema, False


def train_dense_head(name, model, prep, data, seed, steps, args):
    """Fit only the 1x1 conv head (trunk frozen, eval mode) to predict the class everywhere."""
    xtr, ytr, _, _ = data
    recipe = dict(steps=steps, lr=1e-2, optimizer="Adam", convention=prep.pre, trunk="frozen")
    trunk_hash = hashlib.sha256(b"".join(v.numpy().tobytes()
                                         for v in model.trunk.state_dict().values())).hexdigest()
    ckpt = cache_path(name, repr(model) + trunk_hash, recipe)
    if ckpt.exists() and not args.no_cache:
        c = torch.load(ckpt)
        model.head.load_state_dict(c["state_dict"])
        model.eval()
        log(f"{name}: loaded cached head weights {ckpt.name}")
        return model, c["seconds"], True
    seed_everything(seed)
    model.eval()  # trunk BN stays in inference mode
    for p in model.trunk.parameters():
        p.requires_grad_(False)
    opt = torch.optim.Adam(model.head.parameters(), lr=1e-2)
    gen = torch.Generator().manual_seed(seed + 1)
    t = time.time()
    for step in range(steps):
        idx = torch.randint(0, xtr.shape[0], (BATCH,), generator=gen)
        with torch.no_grad():
            feats = model.trunk(prep(xtr[idx]))
        logits = model.head(feats)  # [B,10,7,7]; nearest upsampling does not change the mean CE
        target = ytr[idx][:, None, None].expand(-1, logits.shape[2], logits.shape[3])
        loss = F.cross_entropy(logits, target)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
    secs = time.time() - t
    for p in model.trunk.parameters():
        p.requires_grad_(True)
    CACHE_DIR.mkdir(parents=True, exist_ok=True)
    torch.save(dict(state_dict=model.head.state_dict(), seconds=secs), ckpt)
    log(f"{name}: head fitted in {secs:.1f}s (final loss {loss.item():.4f})")
    return model, secs, False


@torch.no_grad()
def dense_pixel_accuracy(model, x, y, bs=500):
    correct, total = 0, 0
    for i in range(0, x.shape[0], bs):
        m = model(x[i:i + bs])
        correct += (m.argmax(1) == y[i:i + bs][:, None, None]).sum().item()
        total += m.shape[0] * m.shape[2] * m.shape[3]
    return correct / total


# --------------------------------------------------------------------------------------
# Minimal NumPy ONNX interpreter (float64) used to verify the exported graphs
# --------------------------------------------------------------------------------------

_np_conv = _mt._np_conv  # im2col Conv (groups, strides, pads)


def _np_resize_nearest(x, scales, sizes, a):
    mode = a.get("mode", b"nearest")
    mode = mode.decode() if isinstance(mode, bytes) else mode
    assert mode == "nearest", mode
    ctm = a.get("coordinate_transformation_mode", b"half_pixel")
    ctm = ctm.decode() if isinstance(ctm, bytes) else ctm
    nm = a.get("nearest_mode", b"round_prefer_floor")
    nm = nm.decode() if isinstance(nm, bytes) else nm
    if sizes is None or sizes.size == 0:
        sizes = [int(math.floor(d * s)) for d, s in zip(x.shape, scales)]
        scales = list(scales)
    else:
        scales = [o / i for o, i in zip(sizes, x.shape)]
    out = x
    for ax in range(x.ndim):
        if sizes[ax] == x.shape[ax]:
            continue
        o = np.arange(sizes[ax], dtype=np.float64)
        if ctm == "asymmetric":
            src = o / scales[ax]
        elif ctm == "half_pixel":
            src = (o + 0.5) / scales[ax] - 0.5
        else:
            raise NotImplementedError(ctm)
        if nm == "floor":
            idx = np.floor(src)
        elif nm == "round_prefer_floor":
            idx = np.ceil(src - 0.5)
        else:
            raise NotImplementedError(nm)
        idx = np.clip(idx.astype(np.int64), 0, x.shape[ax] - 1)
        out = np.take(out, idx, axis=ax)
    return out


def run_onnx_numpy(model, feeds):
    """Execute `model` on `feeds` (dict name -> array); returns the list of graph outputs."""
    g = model.graph
    env = {}
    for t in g.initializer:
        v = numpy_helper.to_array(t)
        env[t.name] = v.astype(np.float64) if v.dtype.kind == "f" else v
    for k, v in feeds.items():
        env[k] = v.astype(np.float64)
    opset = next(o.version for o in model.opset_import if o.domain in ("", "ai.onnx"))
    for node in g.node:
        a = {at.name: helper.get_attribute_value(at) for at in node.attribute}
        ins = [env[i] if i else None for i in node.input]
        op = node.op_type
        if op == "Constant":
            v = numpy_helper.to_array(a["value"])
            out = v.astype(np.float64) if v.dtype.kind == "f" else v
        elif op in ("Identity", "Dropout"):
            out = ins[0]
        elif op == "Conv":
            out = _np_conv(ins[0], ins[1], ins[2] if len(ins) > 2 else None, a)
        elif op == "BatchNormalization":
            assert a.get("training_mode", 0) == 0 and a.get("spatial", 1) == 1
            xx, sc, bi, mu, var = ins
            eps = a.get("epsilon", 1e-5)
            r = lambda t: t[None, :, None, None]
            out = (xx - r(mu)) / np.sqrt(r(var) + eps) * r(sc) + r(bi)
        elif op == "Relu":
            out = np.maximum(ins[0], 0.0)
        elif op == "Clip":
            if opset < 11:
                lo, hi = a.get("min", -np.inf), a.get("max", np.inf)
            else:
                lo = ins[1] if len(ins) > 1 and ins[1] is not None else -np.inf
                hi = ins[2] if len(ins) > 2 and ins[2] is not None else np.inf
            out = np.clip(ins[0], lo, hi)
        elif op == "HardSigmoid":
            out = np.clip(a.get("alpha", 0.2) * ins[0] + a.get("beta", 0.5), 0.0, 1.0)
        elif op == "HardSwish":
            out = ins[0] * np.clip(ins[0] / 6.0 + 0.5, 0.0, 1.0)
        elif op == "Add":
            out = ins[0] + ins[1]
        elif op == "Mul":
            out = ins[0] * ins[1]
        elif op == "GlobalAveragePool":
            out = ins[0].mean(axis=(2, 3), keepdims=True)
        elif op == "Flatten":
            ax = a.get("axis", 1)
            out = ins[0].reshape(int(np.prod(ins[0].shape[:ax])), -1)
        elif op == "Reshape":
            shape = [int(s) for s in ins[1]]
            shape = [ins[0].shape[i] if s == 0 else s for i, s in enumerate(shape)]
            out = ins[0].reshape(shape)
        elif op == "Shape":
            out = np.array(ins[0].shape, dtype=np.int64)
        elif op == "Gather":
            out = np.take(ins[0], ins[1].astype(np.int64), axis=a.get("axis", 0))
        elif op == "Unsqueeze":
            axes = a["axes"] if opset < 13 else [int(v) for v in ins[1]]
            out = ins[0]
            for ax in sorted(axes):
                out = np.expand_dims(out, ax)
        elif op == "Concat":
            out = np.concatenate([np.atleast_1d(t) for t in ins], axis=a["axis"])
        elif op == "Gemm":
            A, B = ins[0], ins[1]
            if a.get("transA", 0):
                A = A.T
            if a.get("transB", 0):
                B = B.T
            out = a.get("alpha", 1.0) * (A @ B)
            if len(ins) > 2 and ins[2] is not None:
                out = out + a.get("beta", 1.0) * ins[2]
        elif op == "Softmax":
            ax = a.get("axis", -1 if opset >= 13 else 1)
            if opset < 13:  # coerce to 2-D at `axis`
                assert ax == ins[0].ndim - 1, "numpy reference: Softmax<13 only on last axis"
            z = ins[0] - ins[0].max(axis=ax, keepdims=True)
            e = np.exp(z)
            out = e / e.sum(axis=ax, keepdims=True)
        elif op == "Resize":
            scales = ins[2] if len(ins) > 2 and ins[2] is not None else None
            sizes = ins[3] if len(ins) > 3 and ins[3] is not None else None
            out = _np_resize_nearest(ins[0], scales, sizes, a)
        elif op == "Upsample":
            scales = ins[1] if len(ins) > 1 else a["scales"]
            out = _np_resize_nearest(ins[0], scales, None,
                                     dict(mode=a.get("mode", b"nearest"),
                                          coordinate_transformation_mode="asymmetric",
                                          nearest_mode="floor"))
        else:
            raise NotImplementedError(f"numpy reference: op {op}")
        env[node.output[0]] = out  # Dropout's optional mask output is never consumed here
    return [env[o.name] for o in g.output]


# --------------------------------------------------------------------------------------
# ONNX helpers
# --------------------------------------------------------------------------------------

op_histogram = _mt.op_histogram
dims_of = _mt.dims_of


def default_opset(model):
    return next(o.version for o in model.opset_import if o.domain in ("", "ai.onnx"))


def float_weight_elements(model):
    """Float elements stored in initializers and Constant nodes (incl. BN running stats)."""
    n = 0
    for t in model.graph.initializer:
        if t.data_type == TensorProto.FLOAT:
            n += int(np.prod(t.dims)) if len(t.dims) else 1
    for node in model.graph.node:
        if node.op_type == "Constant":
            for at in node.attribute:
                if at.name == "value" and at.t.data_type == TensorProto.FLOAT:
                    n += int(np.prod(at.t.dims)) if len(at.t.dims) else 1
    return n


def check_model(m, name):
    """onnx.checker (full_check) + strict shape inference agreeing with declared outputs."""
    onnx.checker.check_model(m, full_check=True)
    inferred = shape_inference.infer_shapes(m, check_type=True, strict_mode=True)
    for o_decl, o_inf in zip(m.graph.output, inferred.graph.output):
        assert dims_of(o_decl) == dims_of(o_inf), (name, dims_of(o_decl), dims_of(o_inf))
    for t in m.graph.initializer:
        assert t.data_location != TensorProto.EXTERNAL, f"{name}: external data"
    return "checker(full_check) + strict shape inference"


def bn_nodes_checked(m, name, expected=None):
    bns = [n for n in m.graph.node if n.op_type == "BatchNormalization"]
    for n in bns:
        assert len(n.output) == 1, f"{name}: BN {n.name} has {len(n.output)} outputs"
        attrs = {a.name: helper.get_attribute_value(a) for a in n.attribute}
        assert attrs.get("training_mode", 0) == 0, f"{name}: BN training_mode=1"
    if expected is not None:
        assert len(bns) == expected, f"{name}: {len(bns)} BN nodes, expected {expected}"
    assert len(bns) > 0
    return len(bns)


def torch_export(model, in_shape, opset, out_names, dynamic=True, fold=False):
    """Export in eval mode with BN preserved; returns the loaded, Identity-cleaned model."""
    model.eval()
    path = WILD / ".tmp_export.onnx"
    dyn = None
    if dynamic:
        dyn = {"input": {0: "batch"}}
        dyn.update({o: {0: "batch"} for o in out_names})
    torch.onnx.export(model, torch.zeros(1, *in_shape), str(path), opset_version=opset,
                      input_names=["input"], output_names=list(out_names), dynamic_axes=dyn,
                      training=torch.onnx.TrainingMode.PRESERVE, do_constant_folding=fold)
    # Identity(initializer) -> initializer, rewritten in the file (make-testassets.py helper)
    n_id = _mt.materialize_identity_initializers(path)
    m = onnx.load(str(path))
    path.unlink()
    if n_id:
        log(f"  replaced {n_id} de-duplicated-initializer Identity node(s)")
    m.producer_name = "pytorch"  # keep torch's producer; version string is torch's
    return m


def torch_outputs(model, x):
    with torch.no_grad():
        out = model(torch.from_numpy(x))
    if not isinstance(out, tuple):
        out = (out,)
    return [o.numpy() for o in out]


def numpy_check(m, ref_outs, x, name, rtol=2e-5, quiet=False):
    """Relative max error of the NumPy interpretation of `m` against PyTorch outputs."""
    got = run_onnx_numpy(m, {"input": x})
    assert len(got) == len(ref_outs), name
    worst = 0.0
    for gv, rv in zip(got, ref_outs):
        assert gv.shape == rv.shape, (name, gv.shape, rv.shape)
        err = float(np.abs(gv - rv).max() / max(1.0, float(np.abs(rv).max())))
        worst = max(worst, err)
    if not quiet:
        log(f"  {name}: numpy-ONNX vs PyTorch max rel |diff| = {worst:.2e} on {list(x.shape)}")
    assert worst < rtol, f"{name}: ONNX graph disagrees with PyTorch ({worst})"
    agree = None
    if ref_outs[0].ndim == 2 and ref_outs[0].shape[1] == 10:
        agree = int((got[0].argmax(1) == ref_outs[0].argmax(1)).sum())
        assert agree == x.shape[0], f"{name}: argmax disagrees on {x.shape[0] - agree} images"
    return worst


def sha256(path):
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


# --------------------------------------------------------------------------------------
# Post-processing transforms
# --------------------------------------------------------------------------------------

def initializers_to_constants(m):
    """Paddle2ONNX style: every initializer becomes a Constant node at the front."""
    m = copy.deepcopy(m)
    consts = []
    for t in m.graph.initializer:
        consts.append(helper.make_node("Constant", [], [t.name], name=f"const/{t.name}",
                                       value=t))
    names = {t.name for t in m.graph.initializer}
    keep_inputs = [i for i in m.graph.input if i.name not in names]
    nodes = consts + list(m.graph.node)
    del m.graph.node[:]
    m.graph.node.extend(nodes)
    del m.graph.initializer[:]
    del m.graph.input[:]
    m.graph.input.extend(keep_inputs)
    return m, len(consts)


def to_ir3_with_initializer_inputs(m):
    m = copy.deepcopy(m)
    m.ir_version = 3
    listed = {i.name for i in m.graph.input}
    for t in m.graph.initializer:
        if t.name not in listed:
            m.graph.input.append(helper.make_tensor_value_info(t.name, t.data_type, list(t.dims)))
    return m


def insert_dropout_before_gemm(m, ratio):
    """Insert an opset-10 Dropout(ratio=...) node on the Gemm's data input."""
    m = copy.deepcopy(m)
    nodes = list(m.graph.node)
    gi = next(i for i, n in enumerate(nodes) if n.op_type == "Gemm")
    gemm = nodes[gi]
    src = gemm.input[0]
    dname = "/dropout/Dropout_output_0"
    drop = helper.make_node("Dropout", [src], [dname], name="/dropout/Dropout", ratio=ratio)
    gemm.input[0] = dname
    nodes.insert(gi, drop)
    del m.graph.node[:]
    m.graph.node.extend(nodes)
    return m


def describe_flatten(m):
    """What the Classifier's flatten became in the graph."""
    inits = {t.name: numpy_helper.to_array(t) for t in m.graph.initializer}
    consts = {n.output[0]: numpy_helper.to_array(n.attribute[0].t)
              for n in m.graph.node if n.op_type == "Constant"}
    for n in m.graph.node:
        if n.op_type == "Flatten":
            return f"Flatten(axis={helper.get_attribute_value(n.attribute[0]) if n.attribute else 1})"
        if n.op_type == "Reshape":
            s = n.input[1]
            if s in inits:
                return f"Reshape with shape initializer {inits[s].tolist()}"
            if s in consts:
                return f"Reshape with shape from a Constant node {consts[s].tolist()}"
            producer = next((p.op_type for p in m.graph.node if s in p.output), "?")
            return f"Reshape with a computed shape (from {producer}: Shape->Gather->Unsqueeze->Concat)"
    return "none"


# --------------------------------------------------------------------------------------
# README
# --------------------------------------------------------------------------------------

def fmt_dims(d):
    return "[" + ",".join(str(v) for v in d) + "]"


def write_readme(manifest, path):
    L = []
    L.append("# Wild-shaped ONNX test models")
    L.append("")
    L.append("Generated by `eng/make-wild-testassets.py` — **do not edit by hand**; regenerate with")
    L.append("")
    L.append("```sh")
    L.append("/usr/bin/python3 eng/make-wild-testassets.py")
    L.append("```")
    L.append("")
    cached = manifest["trained_models_loaded_from_cache"]
    L.append(
        "from the repository root (Debian 12 packages `python3-torch` 1.13, `python3-onnx` 1.12, "
        "`python3-numpy`, `dataset-fashion-mnist`; use `/usr/bin/python3`). Trained weights are "
        "cached in `~/.cache/dsg-wild-testassets`, so a re-run only re-exports (`--no-cache` "
        f"retrains). The last run took **{manifest['total_seconds']:.0f} s** wall-clock "
        f"({manifest['cpu_seconds']:.0f} s CPU, torch threads = {manifest['torch_threads']}, "
        f"torch {manifest['torch_version']}, onnx {manifest['onnx_version']}); "
        + ("it trained every net from scratch." if not cached else
           f"it loaded cached weights for {', '.join(cached)}.")
        + " Everything is seeded; exact bytes may still differ across PyTorch/oneDNN builds.")
    L.append("")
    L.append(
        "These models mimic what users bring from the wild (old opsets, IR 3, fixed batch 1, "
        "softmax/embedding/dense/multiple outputs, Constant-node weights, assorted input "
        "conventions). All are small Fashion-MNIST CNNs (10 classes, "
        + ", ".join(f"{i} {c}" for i, c in enumerate(CLASS_NAMES))
        + ") with **inference-form `BatchNormalization` nodes preserved** (not folded), so "
        "DSG can synthesise calibration data from their BN statistics. `manifest.json` holds "
        "the same facts machine-readably (sha256, opset, IR, I/O dims, op histogram, "
        "preprocessing object, accuracy, reference outputs).")
    L.append("")
    L.append("## Corpus")
    L.append("")
    L.append("| file | opset | IR | input | outputs | kind | convention | BN | weights (floats) "
             "| fp32 acc (10k) | bytes |")
    L.append("|---|---:|---:|---|---|---|---|---:|---:|---:|---:|")
    for e in manifest["models"]:
        outs = ", ".join(f"`{o['name']}` {fmt_dims(o['dims'])}" for o in e["outputs"])
        acc = "—" if e["fp32_test_accuracy"] is None else f"{e['fp32_test_accuracy']:.2f} %"
        L.append(f"| `{e['file']}` | {e['opset']} | {e['ir_version']} | `{e['input']['name']}` "
                 f"{fmt_dims(e['input']['dims'])} | {outs} | {e['output_kind']} | "
                 f"{e['convention']} | {e['bn_nodes']} | {e['params']:,} | {acc} | "
                 f"{e['bytes']:,} |")
    total = sum(e["bytes"] for e in manifest["models"])
    L.append("")
    L.append(f"Total: {len(manifest['models'])} models, {total:,} bytes. Plus "
             f"`{MEAN_IMAGE_FILE}` (float32 [3,28,28], the mean image of `bgr_mean_image.onnx`).")
    L.append("")
    L.append("`weights (floats)` counts float elements in initializers and Constant nodes "
             "(BN running statistics included). The dense model's accuracy column is empty; "
             "its per-pixel accuracy is in the manifest (`dense_pixel_accuracy`).")
    L.append("")
    L.append("## Input conventions")
    L.append("")
    L.append("Raw Fashion-MNIST pixel `p` in 0..255 (28x28 gray). Every manifest entry has a "
             "`preprocessing` object: optional `crop` `[x0, y0, width, height]` first, then "
             "`x[c] = ((p * scale) - (mean_image[c] if mean_image else mean[c])) / std[c]`; "
             "`channels` copies of the gray image, `order` is `gray` or `bgr`.")
    L.append("")
    L.append("| convention | formula | scale | mean | std | mean_image |")
    L.append("|---|---|---:|---|---|---|")
    for k, pre in CONVENTIONS.items():
        L.append(f"| `{k}` | {CONVENTION_TEXT[k]} | {pre['scale']:.6g} | {pre['mean']} | "
                 f"{pre['std']} | {pre['mean_image'] or '—'} |")
    L.append("")
    L.append(f"`nonsquare.onnx` uses the torchvision convention on a crop "
             f"`{NONSQUARE_CROP}` (columns 4..23, all 28 rows) → input [N,1,28,20].")
    L.append("")
    L.append("## Architecture and training")
    L.append("")
    L.append(manifest["architecture"])
    L.append("")
    L.append("| trained net | used by | steps | seconds | fp32 acc |")
    L.append("|---|---|---:|---:|---:|")
    for k, t in manifest["training"].items():
        acc = "—" if t.get("test_accuracy") is None else f"{100 * t['test_accuracy']:.2f} %"
        L.append(f"| `{k}` | {', '.join(t['used_by'])} | {t['steps']} | {t['seconds']:.0f} | {acc} |")
    L.append("")
    L.append("## Export settings and checks per model")
    L.append("")
    L.append(
        "Unless stated otherwise a model is exported as `model.eval(); torch.onnx.export(model, "
        "torch.zeros(1, C, H, W), path, opset_version=OPSET, input_names=['input'], "
        "output_names=[...], dynamic_axes={'input': {0: 'batch'}, <each output>: {0: 'batch'}}, "
        "training=torch.onnx.TrainingMode.PRESERVE, do_constant_folding=False)` — PRESERVE on an "
        "eval-mode model keeps every `BatchNorm2d` as one inference-form `BatchNormalization` "
        "node (the default export would fold BN into Conv). torch 1.13 de-duplicates "
        "bit-identical initializers through `Identity` nodes; the script turns any such node "
        "back into an initializer. Each model passes `onnx.checker.check_model(full_check=True)` "
        "and strict `onnx.shape_inference` (inferred output dims equal the declared ones), and "
        f"a float64 NumPy ONNX interpreter in the script reproduces the PyTorch outputs on the "
        f"first {N_CHECK} test images (max relative error listed; argmax identical for "
        "classifier outputs).")
    L.append("")
    for e in manifest["models"]:
        L.append(f"### `{e['file']}`")
        L.append("")
        L.append(e["description"])
        L.append("")
        L.append(f"* Export: {e['export']}")
        L.append(f"* Ops: " + ", ".join(f"{k} {v}" for k, v in e["op_histogram"].items()))
        L.append(f"* Checks: {e['checks']}; NumPy vs PyTorch max rel error "
                 f"{e['numpy_vs_torch_max_rel_diff']:.1e}")
        L.append("")
    path.write_text("\n".join(L) + "\n", encoding="utf-8")


# --------------------------------------------------------------------------------------
# Main
# --------------------------------------------------------------------------------------

def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true",
                    help="30 training steps per net, accuracy targets not enforced")
    ap.add_argument("--no-cache", action="store_true", help="retrain even if weights are cached")
    ap.add_argument("--threads", type=int, default=1, help="torch threads (default 1)")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    steps = 30 if args.quick else STEPS
    head_steps = 30 if args.quick else HEAD_STEPS
    WILD.mkdir(parents=True, exist_ok=True)

    xtr, ytr, xte, yte = load_fmnist_raw()
    data = (xtr, ytr, xte, yte)
    log(f"loaded Fashion-MNIST raw: train {tuple(xtr.shape)}, test {tuple(xte.shape)}")

    mean_image = make_mean_image(xtr)
    np.save(WILD / MEAN_IMAGE_FILE, mean_image)
    mean_images = {MEAN_IMAGE_FILE: mean_image}

    def pre_of(conv, crop=None):
        p = dict(CONVENTIONS[conv])
        p["crop"] = crop
        return p

    preps = {k: Preprocessor(pre_of(k), mean_images) for k in CONVENTIONS}
    prep_ns = Preprocessor(pre_of("torchvision", NONSQUARE_CROP), mean_images)
    x_te = {k: p(xte) for k, p in preps.items()}  # full test set per convention
    x_te_ns = prep_ns(xte)

    # ---------------- training ----------------
    train_specs = [  # name, convention, preprocessor, builder
        ("trunk_torchvision", "torchvision", preps["torchvision"], lambda: Classifier(Trunk(1))),
        ("trunk_unit", "unit", preps["unit"], lambda: Classifier(Trunk(1))),
        ("trunk_half", "half", preps["half"], lambda: Classifier(Trunk(1))),
        ("trunk_raw255", "raw255", preps["raw255"], lambda: Classifier(Trunk(1))),
        ("trunk_bgr_mean_image", "bgr_mean_image", preps["bgr_mean_image"],
         lambda: Classifier(Trunk(3))),
        ("trunk_hard", "torchvision", preps["torchvision"], lambda: Classifier(Trunk(1, hard=True))),
        ("trunk_nonsquare", "torchvision", prep_ns, lambda: Classifier(Trunk(1))),
    ]
    trained, training = {}, {}
    cached = []
    for k, (name, conv, prep, build) in enumerate(train_specs):
        seed_everything(SEED + 1000 * (k + 1))
        model = build()
        model, secs, loss, was_cached = train_classifier(name, model, prep, data,
                                                         SEED + 1000 * (k + 1) + 7, steps, args)
        if was_cached:
            cached.append(name)
        xt = x_te_ns if prep is prep_ns else x_te[conv]
        acc = evaluate(model, xt, yte)
        log(f"{name}: fp32 test accuracy {100 * acc:.2f} %")
        if not args.quick:
            assert acc >= TARGET_ACC, f"{name}: accuracy {acc:.4f} < {TARGET_ACC}"
        trained[name] = model
        training[name] = dict(convention=conv, steps=steps, seconds=round(secs, 1),
                              final_train_loss_ema=round(loss, 4), test_accuracy=round(acc, 4),
                              loaded_from_cache=was_cached, used_by=[])

    tv = trained["trunk_torchvision"]
    dense = DenseHead(tv.trunk)
    seed_everything(SEED + 99)
    dense.head.reset_parameters()
    dense, hsecs, was_cached = train_dense_head("dense_head", dense, preps["torchvision"], data,
                                                SEED + 99 + 7, head_steps, args)
    if was_cached:
        cached.append("dense_head")
    pix_acc = dense_pixel_accuracy(dense, x_te["torchvision"], yte)
    log(f"dense_head: per-pixel test accuracy {100 * pix_acc:.2f} %")
    training["dense_head"] = dict(convention="torchvision", steps=head_steps,
                                  seconds=round(hsecs, 1), test_accuracy=None,
                                  dense_pixel_accuracy=round(pix_acc, 4),
                                  loaded_from_cache=was_cached, used_by=[],
                                  note="only the 1x1 conv head is fitted (Adam lr 1e-2), trunk "
                                       "= trunk_torchvision, frozen in eval mode")

    # ---------------- export ----------------
    entries = []
    x64 = {k: v[:N_CHECK].numpy().copy() for k, v in x_te.items()}
    x64_ns = x_te_ns[:N_CHECK].numpy().copy()
    exported = {}

    def finish(file, m, *, torch_model, trained_name, x, conv, kind, description, export,
               acc=None, crop=None, bn_expected=None, extra=None, checks=None, xref=None):
        path = WILD / file
        xref = x if xref is None else xref
        chk = checks or check_model(m, file)
        n_bn = bn_nodes_checked(m, file, bn_expected)
        ref = torch_outputs(torch_model, x)
        err = numpy_check(m, ref, x, file)
        onnx.save(m, str(path))
        m2 = onnx.load(str(path))
        assert [i.name for i in m2.graph.input][0] == "input"
        pre = pre_of(conv, crop)
        refs = {}
        for o, r in zip(m.graph.output, torch_outputs(torch_model, xref[:4])):
            if r.ndim == 4 and r.shape[2] > 1:
                refs[o.name] = dict(what="map[:, :, 14, 14] (centre pixel), first 4 test images",
                                    values=np.round(r[:4, :, 14, 14].astype(np.float64), 6).tolist())
            else:
                refs[o.name] = dict(what="first 4 test images, flattened per image",
                                    values=np.round(r[:4].reshape(4, -1).astype(np.float64), 6).tolist())
        e = dict(
            file=file, bytes=path.stat().st_size, sha256=sha256(path),
            opset=default_opset(m), ir_version=m.ir_version,
            input=dict(name=m.graph.input[0].name, dims=dims_of(m.graph.input[0])),
            outputs=[dict(name=o.name, dims=dims_of(o)) for o in m.graph.output],
            output_kind=kind, convention=conv, preprocessing=pre,
            fp32_test_accuracy=None if acc is None else round(100 * acc, 2),
            params=float_weight_elements(m),
            trainable_params=sum(p.numel() for p in torch_model.parameters()),
            bn_nodes=n_bn, initializers=len(m.graph.initializer),
            graph_inputs=len(m.graph.input),
            op_histogram=op_histogram(m),
            trained_net=trained_name, description=description, export=export,
            checks=chk + f"; NumPy interpreter vs PyTorch on {x.shape[0]} test images",
            numpy_vs_torch_max_rel_diff=err,
            expected_argmax_first16=None, reference_outputs=refs)
        if kind in ("logits", "probabilities", "multiple"):
            first = torch_outputs(torch_model, xref[:16])[0]
            e["expected_argmax_first16"] = first.argmax(1).tolist()
        if extra:
            e.update(extra)
        entries.append(e)
        exported[file] = m
        for tn in (trained_name if isinstance(trained_name, list) else [trained_name]):
            training[tn]["used_by"].append(file)
        log(f"{file}: opset {e['opset']} IR {e['ir_version']} {e['bytes']} B, BN {n_bn}, "
            f"ops {e['op_histogram']}")
        return e

    acc_tv = training["trunk_torchvision"]["test_accuracy"]
    std_export = ("eval(), training=PRESERVE, do_constant_folding=False, dynamic batch "
                  "(`batch`)")
    trunk_desc = ("Trunk classifier (torchvision convention): Conv3x3(1->8)+BN+ReLU, "
                  "Conv3x3 s2(8->16)+BN+ReLU, residual block at 16 (Conv+BN+ReLU, Conv+BN, Add, "
                  "ReLU), Conv3x3 s2(16->64)+BN+ReLU, GlobalAveragePool, Flatten, Gemm(64->10).")

    # 1-3: plain trunk at opsets 9, 11, 13
    for ops in (9, 11, 13):
        log(f"exporting opset{ops}.onnx")
        m = torch_export(tv, (1, 28, 28), ops, ["logits"])
        finish(f"opset{ops}.onnx", m, torch_model=tv, trained_name="trunk_torchvision",
               x=x64["torchvision"], conv="torchvision", kind="logits", acc=acc_tv,
               bn_expected=5, description=trunk_desc + f" Exported at opset {ops}.",
               export=f"opset {ops}, {std_export}")

    # 4: opset 8 via the ONNX version converter
    log("converting opset9 -> opset 8 with onnx.version_converter")
    conv_attempts = []
    m8 = None
    for src in ("opset9.onnx", "opset11.onnx", "opset13.onnx"):
        try:
            cand = version_converter.convert_version(exported[src], 8)
            assert default_opset(cand) == 8, f"converter produced opset {default_opset(cand)}"
            check_model(cand, "opset8_converted.onnx")
            conv_attempts.append(f"{src} -> 8: OK")
            m8 = cand
            break
        except Exception as ex:  # noqa: BLE001 - record and try the next source
            msg = f"{src} -> 8: FAILED {type(ex).__name__}: {str(ex).strip().splitlines()[-1][:200]}"
            conv_attempts.append(msg)
            log("  " + msg)
    # informative only: does the converter handle the other exports?
    for src in ("opset11.onnx", "opset13.onnx"):
        if any(a.startswith(src) for a in conv_attempts):
            continue
        try:
            version_converter.convert_version(exported[src], 8)
            conv_attempts.append(f"(info) {src} -> 8: OK")
        except Exception as ex:  # noqa: BLE001
            conv_attempts.append(f"(info) {src} -> 8: FAILED {type(ex).__name__}: "
                                 f"{str(ex).strip().splitlines()[-1][:200]}")
    log("  converter attempts: " + " | ".join(conv_attempts))
    assert m8 is not None, "no export could be converted to opset 8"
    finish("opset8_converted.onnx", m8, torch_model=tv, trained_name="trunk_torchvision",
           x=x64["torchvision"], conv="torchvision", kind="logits", acc=acc_tv, bn_expected=5,
           description=trunk_desc + " Converted DOWN to opset 8 by "
                                    "`onnx.version_converter.convert_version(model, 8)`.",
           export="opset9.onnx converted with onnx.version_converter.convert_version(m, 8) "
                  "(onnx 1.12); attempts: " + "; ".join(conv_attempts),
           extra=dict(converter_attempts=conv_attempts))

    # 5: fixed batch 1, view(N, -1), default constant folding
    log("exporting fixed_batch1.onnx")
    fixed = Classifier(tv.trunk, flatten="view")
    fixed.fc.load_state_dict(tv.fc.state_dict())
    fixed.eval()
    m = torch_export(fixed, (1, 28, 28), 13, ["logits"], dynamic=False, fold=True)
    assert dims_of(m.graph.input[0]) == [1, 1, 28, 28] and dims_of(m.graph.output[0]) == [1, 10]
    flat = describe_flatten(m)
    log(f"  fixed_batch1: flatten x.view(x.size(0), -1) became: {flat}")
    finish("fixed_batch1.onnx", m, torch_model=fixed, trained_name="trunk_torchvision",
           x=x64["torchvision"][:1], xref=x64["torchvision"], conv="torchvision", kind="logits",
           acc=acc_tv,
           bn_expected=5,
           description=trunk_desc + " Forward flattens with `x.view(x.size(0), -1)`; input is "
                                    "declared [1,1,28,28] and output [1,10] (no dynamic axes), "
                                    f"so the flatten is baked to batch 1: {flat}.",
           export="opset 13, eval(), training=PRESERVE, do_constant_folding=True (default), "
                  "NO dynamic_axes",
           extra=dict(flatten_lowering=flat))
    # the batch is fixed to 1: check the graph on every one of the 64 images, one at a time
    worst = max(numpy_check(m, torch_outputs(fixed, x64["torchvision"][i:i + 1]),
                            x64["torchvision"][i:i + 1], f"fixed_batch1#{i}", quiet=True)
                for i in range(N_CHECK))
    log(f"  fixed_batch1.onnx: numpy-ONNX vs PyTorch max rel |diff| = {worst:.2e} on "
        f"{N_CHECK} images fed one at a time")
    entries[-1]["numpy_vs_torch_max_rel_diff"] = max(entries[-1]["numpy_vs_torch_max_rel_diff"],
                                                     worst)
    entries[-1]["checks"] = entries[-1]["checks"].replace(
        "on 1 test images", f"on {N_CHECK} test images fed one at a time (batch is fixed to 1)")

    # 6: softmax head
    log("exporting softmax_head.onnx")
    soft = Classifier(tv.trunk, softmax=True)
    soft.fc.load_state_dict(tv.fc.state_dict())
    soft.eval()
    m = torch_export(soft, (1, 28, 28), 13, ["probabilities"])
    finish("softmax_head.onnx", m, torch_model=soft, trained_name="trunk_torchvision",
           x=x64["torchvision"], conv="torchvision", kind="probabilities", acc=acc_tv,
           bn_expected=5, description=trunk_desc + " Followed by Softmax(axis=1); output "
                                                   "`probabilities`.",
           export=f"opset 13, {std_export}")

    # 7: embedding
    log("exporting embedding_head.onnx")
    emb = Embedding(tv.trunk).eval()
    m = torch_export(emb, (1, 28, 28), 13, ["features"])
    finish("embedding_head.onnx", m, torch_model=emb, trained_name="trunk_torchvision",
           x=x64["torchvision"], conv="torchvision", kind="embedding", bn_expected=5,
           description="The torchvision trunk WITHOUT the classifier: output `features` is the "
                       "GlobalAveragePool output kept 4-D, [N,64,1,1].",
           export=f"opset 13, {std_export}")

    # 8: dense head
    log("exporting dense_head.onnx")
    dense.eval()
    m = torch_export(dense, (1, 28, 28), 13, ["map"])
    finish("dense_head.onnx", m, torch_model=dense, trained_name=["trunk_torchvision", "dense_head"],
           x=x64["torchvision"], conv="torchvision", kind="dense", bn_expected=5,
           description="Dense-map head on the torchvision trunk: the trunk's 64x7x7 feature map "
                       "-> Conv1x1(64->10, with bias) -> nn.Upsample(scale_factor=4, "
                       "mode='nearest') (exports as Resize, asymmetric/floor) -> `map` "
                       "[N,10,28,28]. Trunk weights are the trained classifier's; the 1x1 conv "
                       f"was FITTED ({head_steps} Adam steps, trunk frozen) to predict the image "
                       f"class at every pixel (per-pixel test accuracy {100 * pix_acc:.2f} %).",
           export=f"opset 13, {std_export}",
           extra=dict(dense_pixel_accuracy=round(100 * pix_acc, 2)))

    # 9: two outputs
    log("exporting two_outputs.onnx")
    two = Classifier(tv.trunk, features=True)
    two.fc.load_state_dict(tv.fc.state_dict())
    two.eval()
    m = torch_export(two, (1, 28, 28), 13, ["logits", "features"])
    assert [o.name for o in m.graph.output] == ["logits", "features"]
    finish("two_outputs.onnx", m, torch_model=two, trained_name="trunk_torchvision",
           x=x64["torchvision"], conv="torchvision", kind="multiple", acc=acc_tv, bn_expected=5,
           description=trunk_desc + " Two graph outputs, in this order: `logits` [N,10] and "
                                    "`features` [N,64] (the flattened pooled features that "
                                    "also feed the Gemm).",
           export=f"opset 13, {std_export}")

    # 10: constant weights (Paddle2ONNX style)
    log("building constant_weights.onnx")
    mc, n_const = initializers_to_constants(exported["opset13.onnx"])
    assert len(mc.graph.initializer) == 0 and [i.name for i in mc.graph.input] == ["input"]
    finish("constant_weights.onnx", mc, torch_model=tv, trained_name="trunk_torchvision",
           x=x64["torchvision"], conv="torchvision", kind="logits", acc=acc_tv, bn_expected=5,
           description=trunk_desc + f" Every weight/bias/BN tensor ({n_const} tensors) is the "
                                    "output of a `Constant` node at the front of the graph "
                                    "(as Paddle2ONNX writes them); the graph has ZERO "
                                    "initializers.",
           export="opset13.onnx post-processed: each initializer -> Constant node (attribute "
                  "`value`, output name = initializer name), initializers removed")

    # 11: BGR minus mean image, opset 11
    log("exporting bgr_mean_image.onnx")
    bgr = trained["trunk_bgr_mean_image"]
    m = torch_export(bgr, (3, 28, 28), 11, ["logits"])
    finish("bgr_mean_image.onnx", m, torch_model=bgr, trained_name="trunk_bgr_mean_image",
           x=x64["bgr_mean_image"], conv="bgr_mean_image", kind="logits",
           acc=training["trunk_bgr_mean_image"]["test_accuracy"], bn_expected=5,
           description="Trunk with a 3-channel stem, trained from scratch on Caffe/CNTK-style "
                       "inputs: B,G,R channels (the same gray image) minus a per-pixel mean "
                       f"image (`{MEAN_IMAGE_FILE}`, train mean + B +4 / G -2 / R +0), values "
                       "roughly in [-130, 255].",
           export=f"opset 11, {std_export}")

    # 12-14: other ranges
    for file, name, conv, ops, text in [
        ("unit_range.onnx", "trunk_unit", "unit", 13, "inputs p/255 in [0,1]"),
        ("half_range.onnx", "trunk_half", "half", 13, "inputs (p/255-0.5)/0.5 in [-1,1]"),
        ("raw255.onnx", "trunk_raw255", "raw255", 12, "raw inputs p in [0,255], no normalization"),
    ]:
        log(f"exporting {file}")
        mod = trained[name]
        m = torch_export(mod, (1, 28, 28), ops, ["logits"])
        finish(file, m, torch_model=mod, trained_name=name, x=x64[conv], conv=conv, kind="logits",
               acc=training[name]["test_accuracy"], bn_expected=5,
               description=f"Trunk classifier trained from scratch on {text}.",
               export=f"opset {ops}, {std_export}")

    # 15: hard activations (opset 13, and opset 14 for a real HardSwish node)
    hard = trained["trunk_hard"]
    hard_desc = ("Trunk variant with hard activations (MobileNetV3 style): stem "
                 "Conv3x3(1->8)+BN+Hardswish, Conv3x3 s2(8->16)+BN+ReLU6 (-> Clip(0,6)), residual "
                 "block (Conv+BN+ReLU6, Conv+BN, SE gate GlobalAveragePool->Conv1x1(16->4)->ReLU->"
                 "Conv1x1(4->16)->Hardsigmoid, Mul, Add, Hardswish), Conv3x3 s2(16->64)+BN+"
                 "Hardswish, GlobalAveragePool, Flatten, Gemm. Trained (torchvision convention).")
    for file, ops in (("hard_activations.onnx", 13), ("hard_activations_opset14.onnx", 14)):
        log(f"exporting {file}")
        m = torch_export(hard, (1, 28, 28), ops, ["logits"])
        h = op_histogram(m)
        assert "Clip" in h and "HardSigmoid" in h, h
        what = ("Hardswish -> HardSwish node" if "HardSwish" in h else
                "Hardswish -> HardSigmoid(alpha=1/6, beta=0.5) + Mul")
        what += "; Hardsigmoid -> HardSigmoid(alpha=1/6, beta=0.5); ReLU6 -> Clip(min, max " \
                "from Constant nodes 0 and 6)"
        log(f"  {file}: {what}")
        finish(file, m, torch_model=hard, trained_name="trunk_hard", x=x64["torchvision"],
               conv="torchvision", kind="logits",
               acc=training["trunk_hard"]["test_accuracy"], bn_expected=5,
               description=hard_desc + f" Exported at opset {ops}: {what}.",
               export=f"opset {ops}, {std_export}", extra=dict(hard_activation_lowering=what))

    # 16: non-square input
    log("exporting nonsquare.onnx")
    ns = trained["trunk_nonsquare"]
    m = torch_export(ns, (1, 28, 20), 13, ["logits"])
    assert dims_of(m.graph.input[0]) == ["batch", 1, 28, 20]
    finish("nonsquare.onnx", m, torch_model=ns, trained_name="trunk_nonsquare", x=x64_ns,
           conv="torchvision", crop=NONSQUARE_CROP, kind="logits",
           acc=training["trunk_nonsquare"]["test_accuracy"], bn_expected=5,
           description="Trunk classifier trained from scratch on a NON-SQUARE 28x20 crop "
                       "(columns 4..23, all rows) of the image, torchvision convention; feature "
                       "maps 28x20 -> 14x10 -> 7x5.",
           export=f"opset 13, {std_export}")

    # 17: IR 3 with initializers listed as graph inputs
    log("building ir3_initializer_inputs.onnx")
    m3 = to_ir3_with_initializer_inputs(exported["opset9.onnx"])
    try:
        up = version_converter.convert_version(m3, 13)
        onnx.checker.check_model(up, full_check=True)
        ir3_conv = ("onnx.version_converter(this IR-3 model -> 13): OK (result passes "
                    "onnx.checker)")
    except Exception as ex:  # noqa: BLE001 - informative
        ir3_conv = (f"onnx.version_converter(ir3 model -> 13): FAILED {type(ex).__name__}: "
                    f"{str(ex).strip().splitlines()[-1][:200]}")
    log("  " + ir3_conv)
    finish("ir3_initializer_inputs.onnx", m3, torch_model=tv, trained_name="trunk_torchvision",
           x=x64["torchvision"], conv="torchvision", kind="logits", acc=acc_tv, bn_expected=5,
           description=trunk_desc + " Old-style file: the opset-9 export with ir_version set to "
                                    f"3 and every initializer ({len(m3.graph.initializer)}) "
                                    "ALSO listed as a graph input (as IR-3 exporters did); "
                                    "`input` stays the first graph input. (Historically IR 3 "
                                    "went with opsets <= 8; onnx.checker accepts it.) "
                                    f"Note: {ir3_conv}.",
           export="opset9.onnx post-processed: ir_version=3, initializers appended to "
                  "graph.input", extra=dict(version_converter_to_13=ir3_conv))

    # 18: dropout at opset 10
    log("exporting dropout_opset10.onnx")
    dro = Classifier(tv.trunk, dropout=0.2)
    dro.fc.load_state_dict(tv.fc.state_dict())
    dro.eval()
    m = torch_export(dro, (1, 28, 28), 10, ["logits"])
    if "Dropout" in op_histogram(m):
        drop_how = "the exporter emitted the Dropout node itself"
    else:
        m = insert_dropout_before_gemm(m, 0.2)
        drop_how = ("torch.onnx (eval mode, even with PRESERVE) drops nn.Dropout, so a "
                    "Dropout(ratio=0.2) node (opset-10 form, one output) was inserted by hand "
                    "between Flatten and Gemm")
    assert op_histogram(m).get("Dropout") == 1
    log(f"  dropout_opset10: {drop_how}")
    finish("dropout_opset10.onnx", m, torch_model=dro, trained_name="trunk_torchvision",
           x=x64["torchvision"], conv="torchvision", kind="logits", acc=acc_tv, bn_expected=5,
           description=trunk_desc + " Variant with nn.Dropout(0.2) before the classifier "
                                    "(re-uses the trained trunk_torchvision weights; dropout is "
                                    f"the identity at inference): {drop_how}.",
           export=f"opset 10, {std_export}; then Dropout inserted if missing",
           extra=dict(dropout_how=drop_how))

    # ---------------- manifest + README ----------------
    for e in entries:  # accuracy comes from the very PyTorch model the graph was checked against
        if e["output_kind"] in ("embedding", "dense"):
            assert e["fp32_test_accuracy"] is None
    total_bytes = sum(e["bytes"] for e in entries)
    manifest = dict(
        generator="eng/make-wild-testassets.py",
        regenerate="/usr/bin/python3 eng/make-wild-testassets.py",
        torch_version=torch.__version__, onnx_version=onnx.__version__,
        numpy_version=np.__version__, seed=SEED, quick=args.quick, torch_threads=args.threads,
        class_names=CLASS_NAMES,
        conventions={k: dict(preprocessing=v, text=CONVENTION_TEXT[k])
                     for k, v in CONVENTIONS.items()},
        preprocessing_formula=("crop [x0,y0,width,height] of the raw 28x28 uint8 image (if "
                               "crop), then x[c,h,w] = ((p[h,w] * scale) - (mean_image[c,h,w] "
                               "if mean_image else mean[c])) / std[c], c over `channels` "
                               "(`order` gray or bgr; FMNIST is gray so all channels get the "
                               "same p)"),
        mean_image=dict(file=MEAN_IMAGE_FILE, dtype="float32", shape=[3, 28, 28],
                        channel_order="bgr", offsets_bgr=list(BGR_OFFSETS),
                        sha256=sha256(WILD / MEAN_IMAGE_FILE),
                        bytes=(WILD / MEAN_IMAGE_FILE).stat().st_size),
        architecture=(f"Trunk (widths {WIDTHS}): Conv3x3(C_in->8, no bias)+BN+ReLU at 28x28; "
                      "Conv3x3 stride 2 (8->16)+BN+ReLU (14x14); residual block at 16 channels "
                      "(Conv3x3+BN+ReLU, Conv3x3+BN, identity Add, ReLU); Conv3x3 stride 2 "
                      "(16->64)+BN+ReLU (7x7); GlobalAveragePool; Linear(64->10) (Gemm). "
                      f"5 BatchNorm layers. Training: Adam with OneCycle LR (max {LR}), batch "
                      f"{BATCH}, {steps} steps (~{steps * BATCH / 60000:.1f} epochs), no "
                      "augmentation, 1 torch thread, seeded. Trunk widths are smaller than "
                      "16/32/64 to keep each file under ~70 KB."),
        training=training,
        models=entries,
        total_model_bytes=total_bytes,
        trained_models_loaded_from_cache=cached,
    )
    manifest["total_seconds"] = round(time.time() - T0, 1)
    manifest["cpu_seconds"] = round(time.process_time(), 1)
    (WILD / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    write_readme(manifest, WILD / "README.md")
    log(f"wrote {len(entries)} models ({total_bytes} B) + manifest.json + README.md "
        f"to {WILD.relative_to(ROOT)}")
    log(f"done in {manifest['total_seconds']:.1f}s")


if __name__ == "__main__":
    main()
