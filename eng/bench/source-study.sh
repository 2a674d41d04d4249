#!/usr/bin/env bash
# What a sample source does to W8A8 calibration (docs/performance.md, "Why DSG's samples fall short at 224x224"): for
# each generator configuration, SAMPLES samples × ITERATIONS steps in one batch (Dsg.Bench quality, --set Key=Value,...
# over the generator's defaults), then `dotnet dsg quantize --precision W8A8 --calibration-data` from them (SAMPLES − 4
# calibration + 4 held out), `dotnet dsg eval` against fp32 on the held-out real images, and the quantized model's
# activation ranges against real-image calibration of the same size (eng/bench/qdq-ranges.py).
#   eng/bench/source-study.sh MODEL SAMPLES ITERATIONS CONFIG...      e.g. CONFIG = Method=Dsg, Method=ZeroQ, UseSlack=false
# MODEL is an asset of /usr/bin/python3 eng/make-imagenet-assets.py (its folder holds heldout_224.npy and
# real_calibration_224.npy), or any model with REAL=calibration.npy HELDOUT=images.npy in the environment (the 28x28 nets:
# /usr/bin/python3 eng/bench/fmnist-npy.py DIR writes both). PRECISION (default W8A8) is passed to quantize.
# Prints a Markdown table. Long (minutes per configuration at 224): run it on an idle machine.
set -euo pipefail
cd "$(dirname "$0")/../.."
[ $# -ge 4 ] || { sed -n 2,11p "$0" >&2; exit 2; }
model=$1 samples=$2 iterations=$3
shift 3
assets="$(dirname "$model")"
real="${REAL:-$assets/real_calibration_224.npy}" heldout="${HELDOUT:-$assets/heldout_224.npy}" precision="${PRECISION:-W8A8}"
for f in "$model" "$heldout" "$real"; do
  [ -f "$f" ] || { echo "missing $f: run /usr/bin/python3 eng/make-imagenet-assets.py (or set REAL and HELDOUT) first" >&2; exit 1; }
done
source eng/native-allocator.sh
dotnet build src/Dsg.Tool -c Release -warnaserror -nologo -v q >&2
dotnet build eng/bench/Dsg.Bench -c Release -warnaserror -nologo -v q >&2
tool=(dotnet src/Dsg.Tool/bin/Release/net10.0/dotnet-dsg.dll)
bench=(dotnet eng/bench/Dsg.Bench/bin/Release/net10.0/Dsg.Bench.dll)
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
calibration=$((samples - 4))
quantize() { # samples.npy out.onnx
  "${tool[@]}" quantize "$model" --precision "$precision" --no-cache --threads 2 --calibration-data "$1" --samples "$calibration" \
    --held-out-samples 4 --out "$2" >"$work/q.log" 2>&1 || { cat "$work/q.log" >&2; exit 1; }
}
measure() { # out.onnx -> "SQNR agreement"
  "${tool[@]}" eval "$model" "$1" --data "$heldout" --threads 2 --json 2>/dev/null | /usr/bin/python3 -c 'import json,sys
for line in sys.stdin:
    if line.startswith("{") and "\"eval\"" in line:
        r = json.loads(line); print("%.2f %.1f" % (r["outputSqnrDb"], r["agreement"] * 100))'
}
quantize "$real" "$work/real.onnx"
read -r sqnr agreement < <(measure "$work/real.onnx")
echo "| source | samples × iterations | output SQNR (dB) | top-1 agreement | activation scale / real's, median of first / middle / last third |"
echo "|---|---|---:|---:|---|"
printf '| real | %d (+4) | %s | %s %% | 1 / 1 / 1 |\n' "$calibration" "$sqnr" "$agreement"
for config in "$@"; do
  rm -rf "$work/gen"
  "${bench[@]}" quality "$model" --samples "$samples" --batch "$samples" --iterations "$iterations" --threads 2 \
    --set "$config" --out "$work/gen" >"$work/gen.log" 2>&1 || { cat "$work/gen.log" >&2; exit 1; }
  quantize "$(echo "$work"/gen/*/samples.npy)" "$work/q.onnx"
  read -r sqnr agreement < <(measure "$work/q.onnx")
  ratios=$(/usr/bin/python3 eng/bench/qdq-ranges.py "$work/real.onnx" "$work/q.onnx" | sed 's/.*third: //')
  printf '| %s | %d (+4) × %d | %s | %s %% | %s |\n' "$config" "$calibration" "$iterations" "$sqnr" "$agreement" "$ratios"
done
