#!/usr/bin/python3
"""Render the generator study (eng/generator-study.sh) as Markdown tables: W4A4 top-1 per net and recipe for each
variant, the mean over nets, and the mean difference to the unchanged defaults (`base`).

Usage: eng/summarize-study.py [--family tune] [--tag n64-i200-s0] > table.md
"""
import argparse
import json
import statistics
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--family", default="tune")
    parser.add_argument("--tag", default="n64-i200-s0")
    args = parser.parse_args()
    manifest = json.loads((ROOT / "testassets" / "family" / "manifest.json").read_text())
    members = [n for n in manifest if manifest[n]["split"] == args.family]
    rows = {}  # row name -> {(model, recipe): [accuracies]}
    nets = []
    for path in sorted((ROOT / "artifacts" / "study").glob(f"*-{args.tag}.json")):
        stem = path.name[:-len(args.tag) - 6]
        net = next((n for n in members if stem.startswith(n + "-")), None)
        if net is None:
            continue
        variant = stem[len(net) + 1:]
        data = json.loads(path.read_text())
        for cell in data["cells"]:
            if cell["precision"] != "W4A4":
                continue
            name = cell["method"] if variant == "baselines" else f"dsg {variant}"
            rows.setdefault(name, {})[(cell["model"], cell["recipe"])] = [a * 100 for a in cell["accuracy"]]
            rows.setdefault("fp32", {})[(cell["model"], cell["recipe"])] = [cell["fp32"] * 100]
            if cell["model"] not in nets:
                nets.append(cell["model"])
    nets.sort(key=members.index)
    order = ["fp32", "real", "gaussian", "zeroq", "dsg base"]
    names = [n for n in order if n in rows] + sorted(n for n in rows if n not in order)
    for recipe in ("default", "paper"):
        print(f"\n### W4A4, recipe `{recipe}` ({args.tag})\n")
        print("| calibration | " + " | ".join(nets) + " | mean | vs dsg base |")
        print("| --- | " + " | ".join("---:" for _ in nets) + " | ---: | ---: |")
        base = rows.get("dsg base", {})
        for name in names:
            cells, means, deltas = [], [], []
            for net in nets:
                values = rows[name].get((net, recipe))
                if values is None:
                    cells.append("n/a")
                    continue
                mean = statistics.mean(values)
                means.append(mean)
                cells.append(f"{mean:.2f}" + (f" ± {statistics.stdev(values):.2f}" if len(values) > 1 else ""))
                if (net, recipe) in base:
                    deltas.append(mean - statistics.mean(base[(net, recipe)]))
            complete = len(means) == len(nets)
            overall = f"{statistics.mean(means):.2f}" if complete else "n/a"
            delta = f"{statistics.mean(deltas):+.2f}" if complete and len(deltas) == len(nets) and name != "fp32" else ""
            print(f"| {name} | " + " | ".join(cells) + f" | {overall} | {delta} |")


if __name__ == "__main__":
    main()
