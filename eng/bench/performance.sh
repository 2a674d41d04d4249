#!/usr/bin/env bash
# Generation performance on both test assets (docs/performance.md): ms per iteration at batch 64 against a bare
# forward+backward of the same TorchGraph and against PyTorch (Debian python3-torch) at the same thread count,
# then resident memory after each of 20 consecutive batches.
#   eng/bench/performance.sh [THREADS] [ROUNDS]
# The timings run in ROUNDS rounds (default 6) of 10 repetitions per measure, the measures taking turns, so that
# a slow spell of a shared machine lands on every measure instead of on one; the summary's medians are over all
# rounds. Prints the raw JSON lines to stderr and a Markdown table of medians and ratios to stdout.
set -euo pipefail
cd "$(dirname "$0")/../.."
threads="${1:-2}"
rounds="${2:-6}"
dotnet build eng/bench/Dsg.Bench -c Release -warnaserror -nologo -v q >/dev/null
bench=(dotnet eng/bench/Dsg.Bench/bin/Release/net10.0/Dsg.Bench.dll)
raw="$(mktemp)"
trap 'rm -f "$raw"' EXIT
for round in $(seq "$rounds"); do
  for model in resnet_fmnist mobilenetv2_fmnist; do
    path="testassets/models/$model.onnx"
    "${bench[@]}" iteration "$path" --batch 64 --threads "$threads" --reps 10 --warmup 3 | tee -a "$raw" >&2
    /usr/bin/python3 eng/bench/torch_baseline.py "$path" --batch 64 --threads "$threads" --reps 10 --warmup 3 | tee -a "$raw" >&2
  done
done
/usr/bin/python3 eng/bench/summarize.py "$raw"
for model in resnet_fmnist mobilenetv2_fmnist; do
  "${bench[@]}" memory "testassets/models/$model.onnx" --batch 64 --batches 20 --iterations 10 --threads "$threads"
done
