#!/usr/bin/env bash
# A/B of one refinement's time and peak memory between a commit and the working tree (docs/performance.md): builds the
# tool at COMMIT in a temporary worktree and here, then quantizes each MODEL on its cached samples with `--refine
# REFINE`, W4A4, the paper recipe, one thread, the two builds taking turns for ROUNDS rounds, and prints the median
# wall time and peak RSS of each side and their ratio.
#   eng/bench/ab-refine.sh COMMIT ROUNDS REFINE MODEL.onnx=SAMPLES.npy...
#   e.g. eng/bench/ab-refine.sh 95037b9 3 qat testassets/models/resnet_fmnist.onnx=eng/results/cache/resnet_fmnist_dsg_s0_n128_i200.npy
# The samples come from `eng/results.sh` (its cache) or `dotnet dsg generate`. Run it on an idle machine.
set -euo pipefail
cd "$(dirname "$0")/../.."
[ $# -ge 4 ] || { sed -n 2,8p "$0" >&2; exit 2; }
commit=$1 rounds=$2 refine=$3
shift 3
for pair in "$@"; do
  [ -f "${pair%%=*}" ] && [ -f "${pair#*=}" ] || { echo "ab-refine: '$pair' is not MODEL.onnx=SAMPLES.npy with both files present" >&2; exit 2; }
done
old="$(mktemp -d)"
raw="$(mktemp)"
out="$(mktemp -d)"
trap 'git worktree remove --force "$old" >/dev/null 2>&1 || rm -rf "$old"; rm -rf "$raw" "$out"' EXIT
git worktree add -q --detach "$old" "$commit"
dotnet build "$old/src/Dsg.Tool" -c Release -nologo -v q >&2
dotnet build src/Dsg.Tool -c Release -warnaserror -nologo -v q >&2
source eng/native-allocator.sh
for round in $(seq "$rounds"); do
  for side in before after; do
    dll=src/Dsg.Tool/bin/Release/net10.0/dotnet-dsg.dll
    [ "$side" = before ] && dll="$old/$dll"
    for pair in "$@"; do
      model=${pair%%=*} samples=${pair#*=}
      /usr/bin/time -f "%e %M" -o "$out/time" dotnet "$dll" quantize "$model" --out "$out/q.onnx" --precision W4A4 --recipe paper \
        --refine "$refine" --calibration-data "$samples" --no-cache --threads 1 > /dev/null
      echo "$(basename "$model" .onnx) $side $(cat "$out/time")" | tee -a "$raw" >&2
    done
  done
done
/usr/bin/python3 - "$raw" "$refine" <<'PY'
import collections, statistics, sys
runs = collections.defaultdict(list)
for line in open(sys.argv[1]):
    model, side, seconds, kb = line.split()
    runs[(model, side)].append((float(seconds), int(kb)))
print(f"| model | before: time, peak RSS | after: time, peak RSS | time after / before |")
print("| --- | ---: | ---: | ---: |")
for model in dict.fromkeys(k[0] for k in runs):
    b = runs[(model, "before")]; a = runs[(model, "after")]
    tb = statistics.median(s for s, _ in b); ta = statistics.median(s for s, _ in a)
    mb = statistics.median(k for _, k in b) / 1024; ma = statistics.median(k for _, k in a) / 1024
    print(f"| {model} (--refine {sys.argv[2]}, {len(b)} runs a side) | {tb:.1f} s, {mb:.0f} MB | {ta:.1f} s, {ma:.0f} MB | {ta / tb:.2f} |")
PY
