#!/usr/bin/env bash
# Generation performance on both test assets (docs/performance.md): ms per iteration at batch 64 against a bare
# forward+backward of the same TorchGraph and against PyTorch (Debian python3-torch) at the same thread count,
# then resident memory after each of 20 consecutive batches.
#   eng/bench/performance.sh [THREADS] [ROUNDS] [BATCH] [REPS] [MODEL.onnx...]
# The timings run in ROUNDS rounds (default 6) of REPS repetitions (default 10) per measure, the measures taking
# turns, so that a slow spell of a shared machine lands on every measure instead of on one; the summary's medians are
# over all rounds. Prints the raw JSON lines to stderr and a Markdown table of medians and ratios to stdout.
# Without models: both test assets at batch 64, then the memory check. The ImageNet-size table (docs/performance.md):
#   eng/bench/performance.sh 2 3 32 3 artifacts/imagenet-assets/resnet18.onnx artifacts/imagenet-assets/mobilenet_v2.onnx
set -euo pipefail
cd "$(dirname "$0")/../.."
threads="${1:-2}"
rounds="${2:-6}"
batch="${3:-64}"
reps="${4:-10}"
shift $(( $# < 4 ? $# : 4 ))
models=("$@")
memory=0
if [ ${#models[@]} -eq 0 ]; then
  models=(testassets/models/resnet_fmnist.onnx testassets/models/mobilenetv2_fmnist.onnx)
  memory=1
fi
warmup=$(( reps < 3 ? 1 : 3 ))
dotnet build eng/bench/Dsg.Bench -c Release -warnaserror -nologo -v q >&2
source eng/native-allocator.sh
bench=(dotnet eng/bench/Dsg.Bench/bin/Release/net10.0/Dsg.Bench.dll)
raw="$(mktemp)"
trap 'rm -f "$raw"' EXIT
for round in $(seq "$rounds"); do
  for path in "${models[@]}"; do
    "${bench[@]}" iteration "$path" --batch "$batch" --threads "$threads" --reps "$reps" --warmup "$warmup" | tee -a "$raw" >&2
    /usr/bin/python3 eng/bench/torch_baseline.py "$path" --batch "$batch" --threads "$threads" --reps "$reps" --warmup "$warmup" | tee -a "$raw" >&2
  done
done
/usr/bin/python3 eng/bench/summarize.py "$raw"
if [ "$memory" = 1 ]; then
  for path in "${models[@]}"; do
    "${bench[@]}" memory "$path" --batch 64 --batches 20 --iterations 10 --threads "$threads"
  done
fi
