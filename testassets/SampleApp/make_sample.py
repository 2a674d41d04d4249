#!/usr/bin/env python3
"""Writes sample.pgm: one Fashion-MNIST test image as a binary 28x28 PGM, with its label in a comment.

Usage: make_sample.py [INDEX]   (reads /usr/share/datasets/fashion-mnist from the dataset-fashion-mnist package)
"""
import gzip
import os
import sys

CLASSES = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]
ROOT = "/usr/share/datasets/fashion-mnist"

index = int(sys.argv[1]) if len(sys.argv) > 1 else 2
with gzip.open(os.path.join(ROOT, "t10k-images-idx3-ubyte.gz")) as f:
    data = f.read()
with gzip.open(os.path.join(ROOT, "t10k-labels-idx1-ubyte.gz")) as f:
    labels = f.read()
pixels = data[16 + index * 784: 16 + (index + 1) * 784]
label = labels[8 + index]
out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "sample.pgm")
with open(out, "wb") as f:
    f.write(f"P5\n# fashion-mnist t10k index {index} label {label} {CLASSES[label]}\n28 28\n255\n".encode("ascii"))
    f.write(pixels)
print(f"wrote {out}: index {index}, label {label} ({CLASSES[label]})")
