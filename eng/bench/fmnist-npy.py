#!/usr/bin/python3
"""Fashion-MNIST as model-input .npy files for eng/bench/source-study.sh on the 28x28 nets (testassets/family, testassets/models).

    /usr/bin/python3 eng/bench/fmnist-npy.py OUT_DIR [--train N] [--test M]

Writes OUT_DIR/real_calibration.npy (the first N training images) and OUT_DIR/heldout.npy (the first M test images),
float32 N x 1 x 28 x 28, read and normalised by eng/make-testassets.py's own functions (as the nets were trained).
"""
import argparse
import importlib.util
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent.parent
_spec = importlib.util.spec_from_file_location("assets", ROOT / "eng" / "make-testassets.py")
assets = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(assets)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--train", type=int, default=256)
    parser.add_argument("--test", type=int, default=2000)
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    train = assets.read_idx(assets.FMNIST_DIR / "train-images-idx3-ubyte.gz")[:args.train]
    test = assets.read_idx(assets.FMNIST_DIR / "t10k-images-idx3-ubyte.gz")[:args.test]
    np.save(args.out / "real_calibration.npy", assets.preprocess(train))
    np.save(args.out / "heldout.npy", assets.preprocess(test))


if __name__ == "__main__":
    main()
