#!/usr/bin/python3
"""Generate ImageNet-size (3x224x224) benchmark assets for Dsg on demand (never committed).

How to run (from the repository root):

    /usr/bin/python3 eng/make-imagenet-assets.py                  # -> artifacts/imagenet-assets/
    /usr/bin/python3 eng/make-imagenet-assets.py --out DIR        # another output folder
    /usr/bin/python3 eng/make-imagenet-assets.py --held-out 512   # more fidelity images
    /usr/bin/python3 eng/make-imagenet-assets.py --force          # regenerate even if cached
    /usr/bin/python3 eng/make-imagenet-assets.py --train-steps 300 --threads 2 \
        --out artifacts/imagenet-trained                          # trained backbones (below)

If the output folder already holds a manifest.json written with the same seed and options and
every file it lists is present with the recorded size and sha256, nothing is regenerated (the
summary is printed again); --force regenerates.  `artifacts/` is git-ignored: these files are
large (about 0.4 GB with the defaults) and must not be committed.

Takes about 6-7 minutes on one CPU thread (the default; --threads N to change), almost all of it
224x224 forward passes (--probe-train 2048 adds ~4 minutes and a few points of top-1); a cached
re-run takes a few seconds.  Peak memory about 1 GB.

Use the Debian interpreter (/usr/bin/python3), not pyenv/virtualenv.  Debian 12 packages:
    python3-torch (1.13)  python3-torchvision (0.14)  python3-onnx (1.12)  python3-numpy
    dataset-fashion-mnist (IDX files in /usr/share/datasets/fashion-mnist; FMNIST_DIR=... overrides)
(`eng/install-deps.sh --assets` installs them.)  No internet, no pretrained weights, no onnxruntime.

What it makes (in the output folder):
    resnet18.onnx                  torchvision resnet18(num_classes=10), opset 13, batch dynamic,
                                   20 BatchNormalization nodes (BN preserved, no constant folding)
    mobilenet_v2.onnx              torchvision mobilenet_v2(num_classes=10), opset 13, batch dynamic,
                                   52 BatchNormalization nodes, ReLU6 -> Clip
    resnet18_opset9_batch1.onnx    the same ResNet-18 exported the way old exporters do: opset 9,
                                   fixed input [1,3,224,224], default constant folding, BN preserved
    heldout_224.npy                N (default 256) Fashion-MNIST TEST images, float32 [N,3,224,224]
    heldout_224_labels.npy         their labels, int64 [N]
    real_calibration_224.npy       M (default 256) TRAIN images not used for the BN statistics nor
                                   the classifier fit, float32 [M,3,224,224] (real-image calibration)
    <model>_heldout_logits.npy     PyTorch fp32 eval-mode logits on heldout_224.npy, float32 [N,10]
    manifest.json                  files (bytes, sha256), opset, BN nodes, params, fp32 top-1 on the
                                   held-out images, preprocessing, splits, seed, options, run time

How the models get meaningful weights without downloads: the networks are randomly initialised
(seeded), then their BatchNorm running statistics are set by running real images (Fashion-MNIST
TRAIN, upscaled to 3x224x224) through them in train() mode with BN momentum=None (cumulative
average) under torch.no_grad().  The BN affine parameters keep torchvision's init (gamma=1,
beta=0).  Then only the final classifier (fc / classifier[1]) is fitted: pooled features of other
training images are computed once in eval mode and a linear layer is trained on them (backbone
frozen; L2 --probe-weight-decay 0.1, picked on an 80/20 split of those features), so each model
has a meaningful top-1 on the held-out images (about 0.70 ResNet-18, 0.49 MobileNetV2; random
features limit it, and 10 classes make chance 0.10).

Trained backbones (--train-steps N, N > 0): before the BN statistics are set, the whole network
(backbone and classifier) is trained end to end at 224x224 for N Adam steps (lr 1e-3, cosine decay
to 0, batch --train-batch, BN in train mode) on TRAIN images disjoint from the BN, calibration and
classifier-fit splits; the classifier is then not refitted.  Random backbones keep every channel
alive and their activation statistics look like nothing a user ships; trained ones have the dead,
sparse and heavy-tailed channels real networks have, so they are the assets to choose generation
defaults on.  After 300 steps ResNet-18 reaches 0.86 and MobileNetV2 0.85 held-out top-1; the
run took 50 minutes on 2 threads (sharing the 2 cores with other work; 4.6 s a ResNet-18 step).

Preprocessing (torchvision convention, same for every image written and used):
    gray uint8 28x28 -> /255 -> bilinear upscale to 224x224 (torch F.interpolate, align_corners=False,
    = torchvision.transforms.Resize on tensors) -> replicated to 3 channels ->
    (x - [0.485, 0.456, 0.406]) / [0.229, 0.224, 0.225] per channel.

Every exported graph passes onnx.checker (full_check), has exactly one inference-form
BatchNormalization node per BatchNorm2d module, and is re-executed by the float64 NumPy ONNX
interpreter of eng/make-testassets.py on real held-out images and compared with PyTorch.
"""

import os

# One thread everywhere (numpy's BLAS included): other work shares this machine's CPUs.
for _v in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_v, "1")

import argparse  # noqa: E402
import datetime  # noqa: E402
import hashlib  # noqa: E402
import importlib.util  # noqa: E402
import json  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
import warnings  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
import torch  # noqa: E402
import torch.nn as nn  # noqa: E402
import torch.nn.functional as F  # noqa: E402
import onnx  # noqa: E402

try:
    import torchvision  # noqa: E402
except ImportError:  # pragma: no cover - environment problem, say how to fix it
    sys.exit("torchvision is missing: apt-get install -y python3-torchvision "
             "(or eng/install-deps.sh --assets), and run with /usr/bin/python3")


def _load_make_testassets():
    """Load eng/make-testassets.py (hyphenated name) as a module to share its helpers
    (read_idx, the NumPy ONNX interpreter, ...).  Its main() is guarded by __main__."""
    spec = importlib.util.spec_from_file_location(
        "make_testassets", Path(__file__).with_name("make-testassets.py"))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


_mt = _load_make_testassets()
log = _mt.log
read_idx = _mt.read_idx
ROOT = _mt.ROOT
FMNIST_DIR = _mt.FMNIST_DIR

# --------------------------------------------------------------------------------------
# Constants
# --------------------------------------------------------------------------------------

VERSION = 1                      # bump when the outputs change for the same options
SEED = 20250101
SIZE = 224
IMAGENET_MEAN = [0.485, 0.456, 0.406]
IMAGENET_STD = [0.229, 0.224, 0.225]
NUM_CLASSES = 10
FWD_BATCH = 32                   # batch for eval-mode forward passes
OPSET = 13
DEFAULT_OUT = ROOT / "artifacts" / "imagenet-assets"

HELDOUT = "heldout_224.npy"
HELDOUT_LABELS = "heldout_224_labels.npy"
CALIB = "real_calibration_224.npy"
MANIFEST = "manifest.json"

# name -> (constructor, how to get/set the final Linear)
ARCHS = {
    "resnet18": dict(ctor=torchvision.models.resnet18, head=("fc",)),
    "mobilenet_v2": dict(ctor=torchvision.models.mobilenet_v2, head=("classifier", 1)),
}


# --------------------------------------------------------------------------------------
# Data
# --------------------------------------------------------------------------------------

def preprocess_224(images_u8):
    """uint8 [n,28,28] -> float32 torch [n,3,224,224], torchvision/ImageNet normalisation."""
    x = torch.from_numpy(np.ascontiguousarray(images_u8)).to(torch.float32).div_(255.0)
    x = F.interpolate(x[:, None], size=(SIZE, SIZE), mode="bilinear", align_corners=False)
    mean = torch.tensor(IMAGENET_MEAN, dtype=torch.float32).view(1, 3, 1, 1)
    std = torch.tensor(IMAGENET_STD, dtype=torch.float32).view(1, 3, 1, 1)
    return ((x.expand(-1, 3, -1, -1) - mean) / std).contiguous()


def write_images_npy(path, images_u8, chunk=64):
    """Preprocess in chunks straight into a float32 .npy (no full float copy in memory)."""
    n = len(images_u8)
    arr = np.lib.format.open_memmap(str(path), mode="w+", dtype=np.float32,
                                    shape=(n, 3, SIZE, SIZE))
    for i in range(0, n, chunk):
        arr[i:i + chunk] = preprocess_224(images_u8[i:i + chunk]).numpy()
    arr.flush()
    del arr


def load_fmnist_u8():
    d = FMNIST_DIR
    xtr = read_idx(d / "train-images-idx3-ubyte.gz")
    ytr = read_idx(d / "train-labels-idx1-ubyte.gz").astype(np.int64)
    xte = read_idx(d / "t10k-images-idx3-ubyte.gz")
    yte = read_idx(d / "t10k-labels-idx1-ubyte.gz").astype(np.int64)
    assert xtr.shape == (60000, 28, 28) and xte.shape == (10000, 28, 28)
    return xtr, ytr, xte, yte


def make_splits(opts):
    """Disjoint, seeded subsets of the TRAIN split: BN statistics, calibration, classifier fit,
    end-to-end training (drawn with replacement from what is left)."""
    perm = np.random.RandomState(opts["seed"]).permutation(60000)
    n_bn = opts["bn_batches"] * opts["bn_batch_size"]
    n_cal = opts["calibration"]
    n_fit = opts["probe_train"] if opts["train_steps"] == 0 else 0
    used = n_bn + n_cal + n_fit
    assert used < 60000, "splits exceed the 60000 training images"
    return dict(bn=perm[:n_bn], calibration=perm[n_bn:n_bn + n_cal],
                probe=perm[n_bn + n_cal:used], train=perm[used:])


# --------------------------------------------------------------------------------------
# Models
# --------------------------------------------------------------------------------------

def get_head(model, path):
    m = model
    for p in path:
        m = m[p] if isinstance(p, int) else getattr(m, p)
    return m


def set_head(model, path, module):
    parent = get_head(model, path[:-1])
    if isinstance(path[-1], int):
        parent[path[-1]] = module
    else:
        setattr(parent, path[-1], module)


def bn_modules(model):
    return [m for m in model.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]


@torch.no_grad()
def forward_batches(model, images_u8_or_f32, bs=FWD_BATCH):
    """Eval-mode forward over uint8 28x28 images (preprocessed on the fly) or float32 224 arrays."""
    outs = []
    for i in range(0, len(images_u8_or_f32), bs):
        chunk = images_u8_or_f32[i:i + bs]
        x = preprocess_224(chunk) if chunk.dtype == np.uint8 else torch.from_numpy(np.array(chunk))
        outs.append(model(x.contiguous(memory_format=torch.channels_last)))
    return torch.cat(outs)


@torch.no_grad()
def set_bn_statistics(model, images_u8, batch_size):
    """Cumulative-average BN running stats from real images (train mode, momentum=None)."""
    bns = bn_modules(model)
    saved = [m.momentum for m in bns]
    for m in bns:
        m.reset_running_stats()
        m.momentum = None
    model.train()
    for i in range(0, len(images_u8), batch_size):
        x = preprocess_224(images_u8[i:i + batch_size])
        model(x.contiguous(memory_format=torch.channels_last))
    for m, mom in zip(bns, saved):
        m.momentum = mom
    model.eval()
    tracked = {int(m.num_batches_tracked) for m in bns}
    assert tracked == {len(images_u8) // batch_size + (len(images_u8) % batch_size > 0)}, tracked


def fit_classifier(model, head_path, images_u8, labels, steps, seed, weight_decay):
    """Fit only the final Linear on pooled eval-mode features (backbone frozen).

    Features are computed once, standardised, a linear layer is trained full-batch with Adam,
    and the standardisation is folded into the Linear's weight and bias."""
    head = get_head(model, head_path)
    set_head(model, head_path, nn.Identity())
    feats = forward_batches(model.eval(), images_u8).double()
    set_head(model, head_path, head)
    y = torch.from_numpy(labels)
    mu = feats.mean(0)
    sd = feats.std(0) + 1e-6
    z = ((feats - mu) / sd).float()
    g = torch.Generator().manual_seed(seed)
    lin = nn.Linear(z.shape[1], NUM_CLASSES)
    with torch.no_grad():
        lin.weight.normal_(0.0, 0.01, generator=g)
        lin.bias.zero_()
    opt = torch.optim.Adam(lin.parameters(), lr=1e-2)
    for _ in range(steps):
        opt.zero_grad()
        loss = F.cross_entropy(lin(z), y) + weight_decay * lin.weight.pow(2).sum()
        loss.backward()
        opt.step()
    with torch.no_grad():
        train_top1 = float((lin(z).argmax(1) == y).double().mean())
        w = lin.weight.double() / sd
        b = lin.bias.double() - w @ mu
        head.weight.copy_(w.float())
        head.bias.copy_(b.float())
    return dict(train_images=len(images_u8), steps=steps, weight_decay=weight_decay,
                final_loss=round(float(loss), 4), train_top1=round(train_top1, 4),
                feature_dim=int(z.shape[1]))


def train_end_to_end(model, images_u8, labels, steps, batch, seed):
    """Train every parameter at 224x224: Adam 1e-3 with cosine decay, BN in train mode.
    Batches are drawn with a seeded generator from `images_u8` (disjoint from the other splits)."""
    g = np.random.RandomState(seed + 1)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=steps)
    model.train()
    t0, recent = time.time(), []
    for step in range(steps):
        idx = g.randint(0, len(images_u8), size=batch)
        x = preprocess_224(images_u8[idx]).contiguous(memory_format=torch.channels_last)
        y = torch.from_numpy(labels[idx])
        opt.zero_grad()
        out = model(x)
        loss = F.cross_entropy(out, y)
        loss.backward()
        opt.step()
        sched.step()
        recent.append(float((out.argmax(1) == y).double().mean()))
        if (step + 1) % 25 == 0 or step + 1 == steps:
            log(f"  train step {step + 1}/{steps}: loss {float(loss):.3f}, batch top-1 (last 25) "
                f"{np.mean(recent[-25:]):.3f}, {time.time() - t0:.0f} s")
    model.eval()
    return dict(steps=steps, batch=batch, optimizer="Adam lr 1e-3, cosine decay to 0",
                final_loss=round(float(loss), 4), last25_batch_top1=round(float(np.mean(recent[-25:])), 4),
                seconds=round(time.time() - t0, 1))


# --------------------------------------------------------------------------------------
# Export + checks
# --------------------------------------------------------------------------------------

def _np_maxpool_padded(x, a, _orig=_mt._np_maxpool):
    """make-testassets' NumPy MaxPool has no padding (its nets need none); ResNet-18's stem
    MaxPool has pads=1.  Pad with -inf and delegate."""
    p = list(a.get("pads", [0, 0, 0, 0]))
    if any(p):
        x = np.pad(x, ((0, 0), (0, 0), (p[0], p[2]), (p[1], p[3])), constant_values=-np.inf)
        a = dict(a, pads=[0, 0, 0, 0])
    return _orig(x, a)


_mt._np_maxpool = _np_maxpool_padded  # run_onnx_numpy looks it up in its module at call time


def export_onnx(model, path, opset, dynamic_batch, constant_folding):
    model.eval()
    kw = dict(opset_version=opset, training=torch.onnx.TrainingMode.PRESERVE,
              input_names=["input"], output_names=["logits"],
              do_constant_folding=constant_folding)
    if dynamic_batch:
        kw["dynamic_axes"] = {"input": {0: "batch"}, "logits": {0: "batch"}}
    with warnings.catch_warnings():
        # The opset-9 file deliberately keeps the exporter's default constant folding with
        # PRESERVE (as old export scripts did); torch warns about that combination.
        warnings.filterwarnings("ignore", message="It is recommended that constant folding")
        torch.onnx.export(model, torch.zeros(1, 3, SIZE, SIZE), str(path), **kw)
    # torch 1.13 de-duplicates bit-identical initializers (all gamma=1 / beta=0 BN parameters of
    # one width here) into Identity nodes; give every BN its own plain initializers again.
    n_id = _mt.materialize_identity_initializers(path)
    m = onnx.load(str(path))
    onnx.checker.check_model(m, full_check=True)
    _mt.assert_no_external_data(m)
    bn_nodes = [n for n in m.graph.node if n.op_type == "BatchNormalization"]
    n_bn_mod = len(bn_modules(model))
    assert len(bn_nodes) == n_bn_mod, f"{path.name}: {len(bn_nodes)} BN nodes vs {n_bn_mod} modules"
    for n in bn_nodes:
        attrs = {a.name: onnx.helper.get_attribute_value(a) for a in n.attribute}
        assert len(n.output) == 1 and attrs.get("training_mode", 0) == 0, f"{n.name}: training form"
    assert [i.name for i in m.graph.input] == ["input"] and [o.name for o in m.graph.output] == ["logits"]
    io = _mt.io_summary(m)
    want = ["batch" if dynamic_batch else 1, 3, SIZE, SIZE]
    assert io["inputs"][0]["shape"] == want, io
    log(f"{path.name}: opset {opset}, {len(m.graph.node)} nodes, {n_bn_mod} BN nodes"
        + (f", {n_id} Identity node(s) materialised" if n_id else ""))
    return m, dict(opset=opset, bn_nodes=len(bn_nodes), bn_modules=n_bn_mod,
                   input_shape=want, constant_folding=constant_folding,
                   identity_nodes_materialised=n_id, ops=_mt.op_histogram(m))


def check_numpy(onnx_model, torch_model, x, name):
    """Float64 NumPy execution of the ONNX graph vs PyTorch fp32 on real images."""
    with torch.no_grad():
        ref = torch_model.eval()(torch.from_numpy(x)).numpy().astype(np.float64)
    got = _mt.run_onnx_numpy(onnx_model, x)
    err = float(np.abs(got - ref).max())
    scale = max(1.0, float(np.abs(ref).max()))
    log(f"{name}: numpy-ONNX vs PyTorch max |diff| = {err:.2e} (|logits| max {scale:.2f}) "
        f"on {list(x.shape)}")
    assert err < 1e-3 * scale, f"{name}: ONNX graph disagrees with PyTorch ({err})"
    assert (got.argmax(1) == ref.argmax(1)).all(), f"{name}: top-1 differs"
    return err


# --------------------------------------------------------------------------------------
# Manifest / cache
# --------------------------------------------------------------------------------------

def file_entry(out, name):
    p = out / name
    h = hashlib.sha256()
    with open(p, "rb") as f:
        for blk in iter(lambda: f.read(1 << 22), b""):
            h.update(blk)
    return dict(path=name, bytes=p.stat().st_size, sha256=h.hexdigest())


def cached_manifest(out, opts):
    """The existing manifest if it matches `opts` and every listed file is intact, else None."""
    mp = out / MANIFEST
    if not mp.is_file():
        return None
    try:
        man = json.loads(mp.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if man.get("version") != VERSION or man.get("options") != opts:
        return None
    for f in man.get("files", []):
        p = out / f["path"]
        if not p.is_file() or p.stat().st_size != f["bytes"] or file_entry(out, f["path"]) != f:
            return None
    return man


def fmt_bytes(n):
    return f"{n / 2**20:8.1f} MiB"


def print_summary(man, out, cached):
    print(f"\nImageNet-size assets in {out}" + ("  (cached; --force to regenerate)" if cached else ""))
    for f in man["files"]:
        print(f"  {f['path']:34s} {fmt_bytes(f['bytes'])}  sha256 {f['sha256'][:12]}")
    for name, m in man["models"].items():
        print(f"  {name:28s} opset {m['opset']:2d}  input {m['input_shape']}  BN nodes {m['bn_nodes']:2d}"
              f"  params {m['params']:,}  fp32 held-out top-1 {m['heldout_top1']:.4f}")
    print(f"  held-out images {man['options']['held_out']}, calibration images "
          f"{man['options']['calibration']}, seed {man['options']['seed']}, "
          f"generated in {man['run_seconds']:.0f} s")


# --------------------------------------------------------------------------------------
# Main
# --------------------------------------------------------------------------------------

def main():
    t0 = time.time()
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", type=Path, default=DEFAULT_OUT,
                    help=f"output folder (default {DEFAULT_OUT.relative_to(ROOT)}/ under the repo)")
    ap.add_argument("--held-out", type=int, default=256, metavar="N",
                    help="number of Fashion-MNIST TEST images for fidelity (default 256)")
    ap.add_argument("--calibration", type=int, default=256, metavar="M",
                    help="number of real TRAIN images for calibration comparisons (default 256)")
    ap.add_argument("--bn-batches", type=int, default=8, help="batches for BN statistics (default 8)")
    ap.add_argument("--bn-batch-size", type=int, default=32, help="BN statistics batch (default 32)")
    ap.add_argument("--probe-train", type=int, default=1024, metavar="K",
                    help="TRAIN images whose pooled features fit the classifier (default 1024; "
                         "0 keeps the random classifier)")
    ap.add_argument("--probe-steps", type=int, default=300, help="classifier fit steps (default 300)")
    ap.add_argument("--probe-weight-decay", type=float, default=0.1,
                    help="L2 penalty on the standardised classifier weights (default 0.1)")
    ap.add_argument("--train-steps", type=int, default=0, metavar="N",
                    help="train the whole network end to end for N steps first (default 0: random "
                         "backbone, fitted classifier)")
    ap.add_argument("--train-batch", type=int, default=32, help="end-to-end training batch (default 32)")
    ap.add_argument("--seed", type=int, default=SEED)
    ap.add_argument("--threads", type=int, default=1, help="torch CPU threads (default 1)")
    ap.add_argument("--force", action="store_true", help="regenerate even if the outputs are cached")
    args = ap.parse_args()

    out = args.out.resolve()
    opts = dict(seed=args.seed, held_out=args.held_out, calibration=args.calibration,
                bn_batches=args.bn_batches, bn_batch_size=args.bn_batch_size,
                probe_train=args.probe_train, probe_steps=args.probe_steps,
                probe_weight_decay=args.probe_weight_decay)
    if args.train_steps > 0:  # only then in the options, so older manifests stay cached
        opts.update(train_steps=args.train_steps, train_batch=args.train_batch)
    if args.held_out < 1 or args.held_out > 10000 or args.calibration < 0 or args.bn_batches < 1:
        ap.error("--held-out must be 1..10000, --calibration >= 0, --bn-batches >= 1")

    if not args.force:
        man = cached_manifest(out, opts)
        if man is not None:
            print_summary(man, out, cached=True)
            return

    torch.set_num_threads(args.threads)
    try:
        torch.set_num_interop_threads(1)
    except RuntimeError:
        pass
    log(f"torch {torch.__version__}, torchvision {torchvision.__version__}, onnx {onnx.__version__}, "
        f"numpy {np.__version__}, threads {torch.get_num_threads()}, out {out}")

    out.mkdir(parents=True, exist_ok=True)
    (out / MANIFEST).unlink(missing_ok=True)  # a half-written folder never looks cached

    xtr, ytr, xte, yte = load_fmnist_u8()
    splits = make_splits(dict(opts, train_steps=args.train_steps))

    write_images_npy(out / HELDOUT, xte[:args.held_out])
    np.save(out / HELDOUT_LABELS, yte[:args.held_out].astype(np.int64))
    write_images_npy(out / CALIB, xtr[splits["calibration"]])
    log(f"wrote {HELDOUT} [{args.held_out},3,{SIZE},{SIZE}], {HELDOUT_LABELS}, "
        f"{CALIB} [{args.calibration},3,{SIZE},{SIZE}]")
    heldout = np.load(out / HELDOUT, mmap_mode="r")
    y_held = yte[:args.held_out]

    files = [HELDOUT, HELDOUT_LABELS, CALIB]
    models = {}
    for name, arch in ARCHS.items():
        tm = time.time()
        torch.manual_seed(args.seed)
        model = arch["ctor"](num_classes=NUM_CLASSES)
        model = model.to(memory_format=torch.channels_last)  # ~2x faster on CPU, same numbers
        params = sum(p.numel() for p in model.parameters())

        trained = None
        if args.train_steps > 0:
            trained = train_end_to_end(model, xtr[splits["train"]], ytr[splits["train"]],
                                       args.train_steps, args.train_batch, args.seed)
            log(f"{name}: trained end to end, {trained['steps']} steps, {trained['seconds']:.0f} s")

        set_bn_statistics(model, xtr[splits["bn"]], args.bn_batch_size)
        log(f"{name}: BN statistics from {len(splits['bn'])} train images "
            f"({args.bn_batches}x{args.bn_batch_size}), {time.time() - tm:.0f} s")

        fit = None
        if args.probe_train > 0 and args.train_steps == 0:
            fit = fit_classifier(model, arch["head"], xtr[splits["probe"]], ytr[splits["probe"]],
                                 args.probe_steps, args.seed, args.probe_weight_decay)
            log(f"{name}: classifier fitted on {fit['train_images']} pooled features "
                f"(dim {fit['feature_dim']}), train top-1 {fit['train_top1']:.4f}")

        logits = forward_batches(model.eval(), heldout).numpy().astype(np.float32)
        top1 = float((logits.argmax(1) == y_held).mean())
        np.save(out / f"{name}_heldout_logits.npy", logits)
        files.append(f"{name}_heldout_logits.npy")
        log(f"{name}: fp32 held-out top-1 {top1:.4f} on {len(y_held)} test images")

        model = model.to(memory_format=torch.contiguous_format).eval()
        onnx_file = f"{name}.onnx"
        m, info = export_onnx(model, out / onnx_file, OPSET, dynamic_batch=True,
                              constant_folding=False)
        info["numpy_check_max_abs_diff"] = check_numpy(m, model, np.array(heldout[:2]), onnx_file)
        models[name] = dict(file=onnx_file, architecture=f"torchvision.models.{name}"
                            f"(num_classes={NUM_CLASSES})", params=params, **info,
                            heldout_top1=round(top1, 4), classifier_fit=fit, trained=trained,
                            heldout_logits=f"{name}_heldout_logits.npy")
        files.append(onnx_file)

        if name == "resnet18":
            old = "resnet18_opset9_batch1.onnx"
            m9, info9 = export_onnx(model, out / old, 9, dynamic_batch=False, constant_folding=True)
            info9["numpy_check_max_abs_diff"] = check_numpy(m9, model, np.array(heldout[:1]), old)
            models["resnet18_opset9_batch1"] = dict(
                file=old, architecture="same weights as resnet18.onnx", params=params, **info9,
                heldout_top1=round(top1, 4), heldout_logits=f"{name}_heldout_logits.npy")
            files.append(old)
        log(f"{name}: done in {time.time() - tm:.0f} s")
        del model

    man = dict(
        generator="eng/make-imagenet-assets.py", version=VERSION, options=opts,
        created_utc=datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        environment=dict(torch=torch.__version__, torchvision=torchvision.__version__,
                         onnx=onnx.__version__, numpy=np.__version__,
                         threads=torch.get_num_threads()),
        dataset=dict(name="Fashion-MNIST", dir=str(FMNIST_DIR), classes=_mt.CLASS_NAMES),
        preprocessing=dict(
            description="gray uint8 28x28 -> /255 -> bilinear upscale to 224x224 "
                        "(F.interpolate, align_corners=False) -> 3 channels -> (x - mean) / std",
            input_range="x/255 then (x - mean) / std (torchvision)", size=[3, SIZE, SIZE],
            mean=IMAGENET_MEAN, std=IMAGENET_STD, layout="NCHW float32"),
        splits=dict(
            heldout=f"first {args.held_out} TEST images",
            bn_statistics=f"{len(splits['bn'])} TRAIN images, train() mode, BN momentum=None",
            calibration=f"{len(splits['calibration'])} TRAIN images disjoint from the BN and "
                        "classifier images",
            classifier_fit=f"{len(splits['probe'])} TRAIN images (pooled features, backbone frozen)",
            end_to_end_training=(f"{args.train_steps} x {args.train_batch} draws from the "
                                 f"{len(splits['train'])} TRAIN images after the other splits"
                                 if args.train_steps > 0 else "none"),
            permutation=f"numpy RandomState({args.seed}).permutation(60000): BN images first, "
                        "then calibration, then classifier-fit images",
            calibration_train_indices=[int(i) for i in splits["calibration"]]),
        models=models,
        files=[file_entry(out, f) for f in files],
        run_seconds=round(time.time() - t0, 1),
    )
    tmp = out / (MANIFEST + ".tmp")
    tmp.write_text(json.dumps(man, indent=2) + "\n", encoding="utf-8")
    tmp.replace(out / MANIFEST)
    print_summary(man, out, cached=False)


if __name__ == "__main__":
    main()
