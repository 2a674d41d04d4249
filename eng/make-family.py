#!/usr/bin/python3
"""Train the evaluation family: small Fashion-MNIST CNNs, exported with BatchNorm preserved, on which the
generator's defaults are studied (the tuning split) and reported (the held-out split).

How to run (from the repository root; Debian's python3-torch and python3-onnx, as eng/make-testassets.py):

    /usr/bin/python3 eng/make-family.py                 # every net (~40 min on a quiet 2-core machine)
    /usr/bin/python3 eng/make-family.py --only tune_resnet20,held_vgg
    /usr/bin/python3 eng/make-family.py --quick         # a few batches per epoch (smoke test; do not commit)

Outputs: testassets/family/<name>.onnx and testassets/family/manifest.json (split, architecture, training recipe,
seed, fp32 test accuracy, seconds). Trained weights are cached like the test assets' (~/.cache/dsg-testassets).

The nets differ from the two test assets and from each other in depth, width, block type, seed and augmentation.
The split is fixed here, before any study: names starting with `tune_` are the ones defaults may be chosen on,
`held_` ones are only reported on (eng/results.sh --family held).
"""

import argparse
import importlib.util
import json
import time
from pathlib import Path

import torch
import torch.nn as nn

ROOT = Path(__file__).resolve().parent.parent
_spec = importlib.util.spec_from_file_location("assets", ROOT / "eng" / "make-testassets.py")
assets = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(assets)

OUT = ROOT / "testassets" / "family"


class VggBN(nn.Module):
    """VGG-style: stages of (Conv3x3 + BN + ReLU) x convs, MaxPool 2x2 between stages, GAP, Linear."""

    def __init__(self, widths=(32, 64, 128), convs=2, num_classes=10):
        super().__init__()
        layers, cin = [], 1
        for si, w in enumerate(widths):
            for _ in range(convs):
                layers += [nn.Conv2d(cin, w, 3, 1, 1, bias=False), nn.BatchNorm2d(w), nn.ReLU()]
                cin = w
            if si + 1 < len(widths):
                layers.append(nn.MaxPool2d(2))
        self.features = nn.Sequential(*layers)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(cin, num_classes)

    def forward(self, x):
        return self.fc(torch.flatten(self.pool(self.features(x)), 1))


def mbv2_cfg(width, expand):
    """The test asset's MobileNetV2 layout at a width multiplier and expansion factor."""
    c = lambda ch: max(8, int(round(ch * width / 8)) * 8)
    return [(c(16), c(24), 2, expand), (c(24), c(24), 1, expand), (c(24), c(32), 2, expand),
            (c(32), c(32), 1, expand), (c(32), c(32), 1, expand)], c(16), c(128)


def mbv2(width, expand):
    cfg, stem, last = mbv2_cfg(width, expand)
    return assets.MobileNetV2FMNIST(cfg=cfg, stem=stem, last=last)


# name -> (description, constructor, recipe). Seeds and augmentation differ within each family.
FAMILY = {
    "tune_resnet20": ("ResNet-20 (3 basic blocks per stage), widths 16/32/64, augmented",
                      lambda: assets.ResNetFMNIST(blocks_per_stage=3),
                      dict(epochs=2, lr=0.1, wd=5e-4, augment=True, seed=11)),
    "tune_resnet14_wide": ("ResNet-14 (2 blocks per stage), widths 24/48/96, not augmented",
                           lambda: assets.ResNetFMNIST(blocks_per_stage=2, widths=(24, 48, 96)),
                           dict(epochs=1, lr=0.1, wd=5e-4, augment=False, seed=12)),
    "tune_mbv2": ("MobileNetV2-style, width 1.0, expansion 4, augmented",
                  lambda: mbv2(1.0, 4), dict(epochs=1, lr=0.1, wd=4e-5, augment=True, seed=13)),
    "tune_vgg": ("VGG-style with BN, widths 32/64/128, 2 convs per stage, augmented",
                 lambda: VggBN((32, 64, 128), 2), dict(epochs=1, lr=0.05, wd=5e-4, augment=True, seed=14)),
    "held_resnet32": ("ResNet-32 (5 basic blocks per stage), widths 16/32/64, augmented",
                      lambda: assets.ResNetFMNIST(blocks_per_stage=5),
                      dict(epochs=1, lr=0.1, wd=5e-4, augment=True, seed=21)),
    "held_mbv2_wide": ("MobileNetV2-style, width 1.5, expansion 6, not augmented",
                       lambda: mbv2(1.5, 6), dict(epochs=1, lr=0.1, wd=4e-5, augment=False, seed=23)),
    "held_mbv2_narrow": ("MobileNetV2-style, width 0.5, expansion 4, augmented",
                         lambda: mbv2(0.5, 4), dict(epochs=2, lr=0.1, wd=4e-5, augment=True, seed=24)),
    "held_vgg": ("VGG-style with BN, widths 24/48/96, 3 convs per stage, not augmented",
                 lambda: VggBN((24, 48, 96), 3), dict(epochs=1, lr=0.05, wd=5e-4, augment=False, seed=25)),
}


def build(name, data, quick, threads, previous):
    description, make, recipe = FAMILY[name]
    torch.set_num_threads(threads)
    assets.seed_everything(recipe["seed"])
    model = make()
    train_recipe = dict(recipe, channels_last=True, target=0.0)
    cache = assets.cache_path(name, model, train_recipe, quick)
    started = time.time()
    cached = cache.exists()
    if cached:
        model.load_state_dict(torch.load(cache))
        model.eval()
        assets.log(f"{name}: weights from {cache}")
    else:
        model, _, _, _ = assets.train(model, name, train_recipe, data, recipe["seed"], quick)
        cache.parent.mkdir(parents=True, exist_ok=True)
        torch.save(model.state_dict(), cache)
    # Loaded from the cache: the time of the run that trained it, when the manifest still has it.
    seconds = previous.get("train_seconds") if cached else round(time.time() - started, 1)
    _, _, xte, yte = data
    accuracy = assets.evaluate(model, xte, yte)
    path = OUT / f"{name}.onnx"
    onnx_model, bn = assets.export_bn_preserving(model, path)
    assets.check_against_torch(onnx_model, model, xte[:2].numpy(), name)
    assets.log(f"{name}: fp32 test accuracy {accuracy:.4f}, {bn} BN, {path.stat().st_size} bytes")
    return dict(name=name, split=name.split("_")[0], description=description, recipe=recipe,
                fp32_test_accuracy=round(accuracy, 4), batchnorm_nodes=bn,
                parameters=sum(p.numel() for p in model.parameters()), bytes=path.stat().st_size,
                train_seconds=seconds)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", default="", help="comma-separated names (default: all)")
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    names = [n for n in args.only.split(",") if n] or list(FAMILY)
    unknown = [n for n in names if n not in FAMILY]
    if unknown:
        raise SystemExit(f"unknown net(s) {unknown}; known: {', '.join(FAMILY)}")
    data = assets.load_fmnist()
    manifest_path = OUT / "manifest.json"
    manifest = json.loads(manifest_path.read_text()) if manifest_path.exists() else {}
    for name in names:
        manifest[name] = build(name, data, args.quick, args.threads, manifest.get(name, {}))
        OUT.mkdir(parents=True, exist_ok=True)
        manifest_path.write_text(json.dumps(dict(sorted(manifest.items())), indent=2) + "\n")


if __name__ == "__main__":
    main()
