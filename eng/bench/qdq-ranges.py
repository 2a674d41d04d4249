#!/usr/bin/env python3
"""Activation ranges of QDQ models against a reference QDQ model of the same graph (docs/performance.md, "Why DSG's
samples fall short at 224x224").

  /usr/bin/python3 eng/bench/qdq-ranges.py REFERENCE.onnx OTHER.onnx [--table]

For every activation QuantizeLinear (per-tensor scale, input not an initializer, input not the output of a Clip,
whose range the clip bounds fix: ReLU6) the representable interval [(qmin - zero) * scale, (qmax - zero) * scale] is
read from both models. Prints one line: the median ratio of OTHER's
scale to REFERENCE's over the first, middle and last third of the tensors in graph order; with --table, one row per
tensor as well.
"""
import statistics
import sys

import numpy as np
import onnx
from onnx import numpy_helper


def activation_ranges(path):
    model = onnx.load(path)
    values = {i.name: numpy_helper.to_array(i) for i in model.graph.initializer}
    for node in model.graph.node:
        if node.op_type == "Constant":
            values[node.output[0]] = numpy_helper.to_array(node.attribute[0].t)
    clipped = {o for node in model.graph.node if node.op_type == "Clip" for o in node.output}
    ranges = {}
    for node in model.graph.node:
        if node.op_type != "QuantizeLinear" or node.input[0] in values or node.input[0] in clipped:
            continue
        scale = values.get(node.input[1])
        zero = values.get(node.input[2]) if len(node.input) > 2 else None
        if scale is None or scale.size != 1 or zero is None:
            continue
        info = np.iinfo(zero.dtype)
        z = int(zero)
        ranges[node.input[0]] = (float(scale), (info.min - z) * float(scale), (info.max - z) * float(scale))
    return ranges


def main(argv):
    if len(argv) < 3:
        print(__doc__, file=sys.stderr)
        return 2
    reference, other = activation_ranges(argv[1]), activation_ranges(argv[2])
    names = [n for n in reference if n in other]
    if not names:
        print("no activation QuantizeLinear in common", file=sys.stderr)
        return 1
    ratios = [other[n][0] / reference[n][0] for n in names]
    third = max(1, len(ratios) // 3)
    parts = [ratios[:third], ratios[third:len(ratios) - third] or ratios, ratios[len(ratios) - third:]]
    print("tensors %d, median scale ratio first/middle/last third: %s" % (
        len(names), " / ".join("%.2f" % statistics.median(p) for p in parts)))
    if "--table" in argv:
        for n, r in zip(names, ratios):
            _, lo, hi = reference[n]
            _, olo, ohi = other[n]
            print("%-48s reference [%8.3f, %8.3f]  other [%8.3f, %8.3f]  ratio %5.2f" % (n[:48], lo, hi, olo, ohi, r))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
