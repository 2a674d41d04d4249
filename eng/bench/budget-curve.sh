#!/usr/bin/env bash
# Fidelity against wall time for W8A8 of an ImageNet-size model (docs/performance.md, "A budget that fits"):
# one `dotnet dsg quantize` per point (no cache, 2 threads), then `dotnet dsg eval` of the result against the fp32
# model on held-out real images: output SQNR and top-1 agreement. Real-image calibration of the same size is the
# reference a synthetic point is compared with.
#   eng/bench/budget-curve.sh [MODEL] [POINT...]
#   MODEL defaults to artifacts/imagenet-assets/resnet18.onnx (make it with /usr/bin/python3 eng/make-imagenet-assets.py)
#   POINT is real:SAMPLES, gaussian:SAMPLES, METHOD:SAMPLES:ITERATIONS (dsg or zeroq) or budget:LEVEL (the level's
#   own choice for the model); default: real:32 real:64 gaussian:32 dsg:32:25 dsg:32:50 dsg:32:100 budget:fast budget:default
# Prints a Markdown table: point, samples × iterations, wall seconds of the quantize, output SQNR (dB), top-1 agreement.
set -euo pipefail
cd "$(dirname "$0")/../.."
model="${1:-artifacts/imagenet-assets/resnet18.onnx}"
shift || true
points=("$@")
[ ${#points[@]} -gt 0 ] || points=(real:32 real:64 gaussian:32 dsg:32:25 dsg:32:50 dsg:32:100 budget:fast budget:default)
assets="$(dirname "$model")"
for f in "$model" "$assets/heldout_224.npy" "$assets/real_calibration_224.npy"; do
  [ -f "$f" ] || { echo "missing $f: run /usr/bin/python3 eng/make-imagenet-assets.py first" >&2; exit 1; }
done
dotnet build src/Dsg.Tool -c Release -warnaserror -nologo -v q >&2
tool=(dotnet src/Dsg.Tool/bin/Release/net10.0/dotnet-dsg.dll)
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
echo "| point | samples × iterations | quantize wall (s) | output SQNR (dB) | top-1 agreement | peak RSS (MiB) |"
echo "|---|---|---:|---:|---:|---:|"
for point in "${points[@]}"; do
  IFS=: read -r kind a b <<<"$point"
  case "$kind" in
    real) args=(--calibration-data "$assets/real_calibration_224.npy" --samples "$a") ;;
    gaussian) args=(--method gaussian --samples "$a") ;;
    dsg|zeroq) args=(--method "$kind" --samples "$a" --iterations "$b") ;;
    budget) args=(--budget "$a") ;;
    *) echo "unknown point $point" >&2; exit 1 ;;
  esac
  out="$work/q.onnx"
  /usr/bin/time -v -o "$work/time.txt" "${tool[@]}" quantize "$model" --precision W8A8 --no-cache --threads 2 \
    --out "$out" --json "${args[@]}" >"$work/log.txt" 2>&1 || { cat "$work/log.txt" >&2; exit 1; }
  wall=$(awk -F': ' '/Elapsed \(wall clock\)/ {print $2}' "$work/time.txt" | awk -F: '{ if (NF==3) print $1*3600+$2*60+$3; else print $1*60+$2 }')
  rss_kb=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$work/time.txt")
  used=$(/usr/bin/python3 -c 'import json,re,sys
r = json.load(open(sys.argv[1])); m = re.search(r"(\d+) iterations", r["sourceDescription"])
print("%d (+%d held out) x %s" % (r["calibrationSamples"], r["heldOutSamples"], m.group(1) if m else "0"))' "$work/q.report.json")
  "${tool[@]}" eval "$model" "$out" --data "$assets/heldout_224.npy" --threads 2 --json >"$work/eval.txt" 2>&1 || { cat "$work/eval.txt" >&2; exit 1; }
  read -r sqnr agreement < <(/usr/bin/python3 -c 'import json,sys
for line in open(sys.argv[1]):
    if line.startswith("{") and "\"eval\"" in line:
        r = json.loads(line); print("%.2f %.1f" % (r["outputSqnrDb"], r["agreement"] * 100))' "$work/eval.txt")
  printf '| %s | %s | %.0f | %s | %s %% | %d |\n' "$point" "$used" "$wall" "$sqnr" "$agreement" $((rss_kb / 1024))
done
