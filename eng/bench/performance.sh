#!/usr/bin/env bash
# Generation performance on both test assets (docs/performance.md): ms per iteration at batch 64 against a bare
# forward+backward of the same TorchGraph and against PyTorch (Debian python3-torch) at the same thread count,
# then resident memory after each of 20 consecutive batches. Prints JSON lines; run on an otherwise idle machine.
#   eng/bench/performance.sh [THREADS]
set -euo pipefail
cd "$(dirname "$0")/../.."
threads="${1:-2}"
dotnet build eng/bench/Dsg.Bench -c Release -warnaserror -nologo -v q >/dev/null
bench=(dotnet eng/bench/Dsg.Bench/bin/Release/net10.0/Dsg.Bench.dll)
for model in resnet_fmnist mobilenetv2_fmnist; do
  path="testassets/models/$model.onnx"
  "${bench[@]}" iteration "$path" --batch 64 --threads "$threads" --reps 30 --warmup 5
  /usr/bin/python3 eng/bench/torch_baseline.py "$path" --batch 64 --threads "$threads"
done
for model in resnet_fmnist mobilenetv2_fmnist; do
  "${bench[@]}" memory "testassets/models/$model.onnx" --batch 64 --batches 20 --iterations 10 --threads "$threads"
done
