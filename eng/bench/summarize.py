#!/usr/bin/python3
"""Summarises eng/bench/performance.sh's JSON lines: per model, the median over every round of each measure and
the ratios the generation issue asks for, as a Markdown table.

    /usr/bin/python3 eng/bench/summarize.py RAW.jsonl
"""

import json
import os
import statistics
import sys
from collections import defaultdict

COLUMNS = [
    ("bare_forward_backward", "(a) bare fwd+bwd"),
    ("forward_backward_bn_capture", "(a') with BN capture"),
    ("dsg_iteration", "DSG iteration"),
    ("zeroq_iteration", "ZeroQ iteration"),
    ("pytorch_forward_backward", "(b) PyTorch fwd+bwd"),
]


def main(path):
    samples = defaultdict(lambda: defaultdict(list))
    rounds = defaultdict(int)
    with open(path) as f:
        for line in f:
            line = line.strip()
            if not line.startswith("{"):
                continue
            row = json.loads(line)
            model = os.path.basename(row["model"]).removesuffix(".onnx")
            measure = row.get("measure", "pytorch_forward_backward")
            samples[model][measure].extend(row["all_ms"])
            if measure == "pytorch_forward_backward":
                rounds[model] += 1

    header = ["model", "rounds × reps"] + [title for _, title in COLUMNS] + ["DSG / (a)", "DSG / (b)", "(a) / (b)"]
    print("| " + " | ".join(header) + " |")
    print("| --- | --- | " + " | ".join("---:" for _ in header[2:]) + " |")
    for model, measures in samples.items():
        missing = [key for key, _ in COLUMNS if not measures[key]]
        if missing:
            sys.exit(f"{model}: no samples for {', '.join(missing)}")
        median = {key: statistics.median(measures[key]) for key, _ in COLUMNS}
        reps = len(measures["dsg_iteration"]) // max(rounds[model], 1)
        cells = [model, f"{rounds[model]} × {reps}"] + [f"{median[key]:.1f}" for key, _ in COLUMNS]
        cells += [
            f"{median['dsg_iteration'] / median['bare_forward_backward']:.2f}",
            f"{median['dsg_iteration'] / median['pytorch_forward_backward']:.2f}",
            f"{median['bare_forward_backward'] / median['pytorch_forward_backward']:.2f}",
        ]
        print("| " + " | ".join(cells) + " |")


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: summarize.py RAW.jsonl")
    main(sys.argv[1])
