#!/usr/bin/python3
"""PyTorch baseline for eng/bench: ms per forward+backward (w.r.t. the input) of an ONNX test asset.

The model is rebuilt from the ONNX file itself (weights from the initializers, ops mapped one to one to
torch.nn.functional), so PyTorch runs exactly the graph Dsg runs. Weights never require grad; only the
input does, as in sample generation. BatchNormalization runs in inference form (running statistics).

    /usr/bin/python3 eng/bench/torch_baseline.py testassets/models/resnet_fmnist.onnx --batch 64 --threads 2

Prints one JSON line: {"model":..., "batch":..., "threads":..., "reps":..., "median_ms":..., "median_cpu_ms":..., "all_ms":[...]}
(cpu = process CPU time over all threads, less disturbed than wall time when other work shares the CPU).
Needs the Debian packages python3-torch (1.13) and python3-onnx; use /usr/bin/python3.
"""

import argparse
import json
import statistics
import time

import numpy as np
import onnx
import torch
import torch.nn.functional as F
from onnx import numpy_helper


def attrs(node):
    return {a.name: onnx.helper.get_attribute_value(a) for a in node.attribute}


class OnnxAsTorch:
    """Evaluates an ONNX graph of Conv/BN/activation/pool/Gemm nodes with torch.nn.functional."""

    def __init__(self, path):
        model = onnx.load(path)
        self.graph = model.graph
        self.consts = {i.name: torch.from_numpy(numpy_helper.to_array(i).copy()) for i in self.graph.initializer}
        for n in self.graph.node:
            if n.op_type == "Constant":
                self.consts[n.output[0]] = torch.from_numpy(numpy_helper.to_array(attrs(n)["value"]).copy())
        self.input_name = self.graph.input[0].name
        self.output_name = self.graph.output[0].name

    def __call__(self, x):
        env = dict(self.consts)
        env[self.input_name] = x
        for n in self.graph.node:
            if n.op_type == "Constant":
                continue
            a = attrs(n)
            i = [env[name] if name else None for name in n.input]
            env[n.output[0]] = self.run(n.op_type, a, i)
        return env[self.output_name]

    @staticmethod
    def run(op, a, i):
        if op == "Conv":
            pads = a.get("pads", [0, 0, 0, 0])
            assert pads[0] == pads[2] and pads[1] == pads[3], "asymmetric pads"
            return F.conv2d(i[0], i[1], i[2] if len(i) > 2 else None, stride=a.get("strides", [1, 1]),
                            padding=pads[:2], dilation=a.get("dilations", [1, 1]), groups=a.get("group", 1))
        if op == "BatchNormalization":
            return F.batch_norm(i[0], i[3], i[4], i[1], i[2], training=False, eps=a.get("epsilon", 1e-5))
        if op == "Relu":
            return F.relu(i[0])
        if op == "Clip":
            lo = i[1].item() if len(i) > 1 and i[1] is not None else a.get("min", float("-inf"))
            hi = i[2].item() if len(i) > 2 and i[2] is not None else a.get("max", float("inf"))
            return torch.clamp(i[0], lo, hi)
        if op == "Add":
            return i[0] + i[1]
        if op == "Mul":
            return i[0] * i[1]
        if op == "Identity":
            return i[0]
        if op == "GlobalAveragePool":
            return F.adaptive_avg_pool2d(i[0], 1)
        if op == "Flatten":
            return torch.flatten(i[0], a.get("axis", 1))
        if op == "Reshape":
            return torch.reshape(i[0], [int(v) for v in i[1].tolist()])
        if op == "Gemm":
            b = i[1].t() if a.get("transB", 0) else i[1]
            y = a.get("alpha", 1.0) * (i[0] @ b)
            if len(i) > 2 and i[2] is not None:
                y = y + a.get("beta", 1.0) * i[2]
            return y
        if op == "MaxPool":
            pads = a.get("pads", [0, 0, 0, 0])
            return F.max_pool2d(i[0], a["kernel_shape"], a.get("strides", a["kernel_shape"]), pads[:2])
        raise NotImplementedError(f"op {op} is not needed by the test assets")


def main():
    p = argparse.ArgumentParser()
    p.add_argument("model")
    p.add_argument("--batch", type=int, default=64)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--reps", type=int, default=30)
    p.add_argument("--warmup", type=int, default=5)
    args = p.parse_args()

    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    net = OnnxAsTorch(args.model)
    shape = [d.dim_value for d in net.graph.input[0].type.tensor_type.shape.dim][1:]
    x = torch.randn([args.batch] + shape, requires_grad=True)
    times, cpu = [], []
    for r in range(args.warmup + args.reps):
        t0, c0 = time.perf_counter(), time.process_time()
        x.grad = None
        net(x).sum().backward()
        t1, c1 = time.perf_counter(), time.process_time()
        if r >= args.warmup:
            times.append((t1 - t0) * 1000.0)
            cpu.append((c1 - c0) * 1000.0)
    print(json.dumps({"model": args.model, "batch": args.batch, "threads": torch.get_num_threads(),
                      "torch": torch.__version__, "reps": args.reps,
                      "median_ms": round(statistics.median(times), 3),
                      "median_cpu_ms": round(statistics.median(cpu), 3),
                      "all_ms": [round(t, 3) for t in times]}))


if __name__ == "__main__":
    main()
