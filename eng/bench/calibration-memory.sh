#!/usr/bin/env bash
# Peak resident memory of W8A8 calibration against the number of calibration samples (docs/performance.md).
# Runs `dotnet dsg quantize MODEL --method gaussian` (noise samples, so generation costs nothing and calibration,
# writing and verification are what is measured) once per sample count, without the cache, under /usr/bin/time -v,
# and prints a Markdown table of peak RSS per count.
#   eng/bench/calibration-memory.sh [MODEL] [COUNTS...]
#   MODEL defaults to artifacts/imagenet-assets/resnet18.onnx (make it with /usr/bin/python3 eng/make-imagenet-assets.py);
#   COUNTS default to 128 256 512 1024.
set -euo pipefail
cd "$(dirname "$0")/../.."
model="${1:-artifacts/imagenet-assets/resnet18.onnx}"
shift || true
counts=("$@")
[ ${#counts[@]} -gt 0 ] || counts=(128 256 512 1024)
[ -f "$model" ] || { echo "missing $model: run /usr/bin/python3 eng/make-imagenet-assets.py first" >&2; exit 1; }
dotnet build src/Dsg.Tool -c Release -warnaserror -nologo -v q >&2
tool=(dotnet src/Dsg.Tool/bin/Release/net10.0/dotnet-dsg.dll)
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
echo "| calibration samples | peak RSS (MiB) | wall (s) |"
echo "|---:|---:|---:|"
for n in "${counts[@]}"; do
  /usr/bin/time -v -o "$work/time.txt" "${tool[@]}" quantize "$model" --method gaussian --samples "$n" --precision W8A8 \
    --no-cache --threads 2 --out "$work/q$n.onnx" >"$work/log.txt" 2>&1 || { cat "$work/log.txt" >&2; exit 1; }
  rss_kb=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$work/time.txt")
  wall=$(awk -F': ' '/Elapsed \(wall clock\)/ {print $2}' "$work/time.txt")
  printf '| %d | %d | %s |\n' "$n" $((rss_kb / 1024)) "$wall"
done
