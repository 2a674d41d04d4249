#!/usr/bin/env bash
# A/B of the generation step between a commit and the working tree (docs/performance.md): builds Dsg.Bench at COMMIT in a
# temporary worktree and here, then runs `Dsg.Bench iteration` of each MODEL with the two builds taking turns, ROUNDS
# rounds of REPS repetitions, and prints the medians over all rounds of each side with (c)/(a) and (d)/(a).
#   eng/bench/ab-iteration.sh COMMIT ROUNDS REPS BATCH MODEL.onnx...
#   e.g. eng/bench/ab-iteration.sh ba51b93 3 3 32 artifacts/imagenet-assets/resnet18.onnx artifacts/imagenet-assets/mobilenet_v2.onnx
# Long (minutes per round at 224): run it on an idle machine.
set -euo pipefail
cd "$(dirname "$0")/../.."
[ $# -ge 5 ] || { sed -n 2,7p "$0" >&2; exit 2; }
commit=$1 rounds=$2 reps=$3 batch=$4
shift 4
old="$(mktemp -d)"
raw="$(mktemp)"
trap 'git worktree remove --force "$old" >/dev/null 2>&1 || rm -rf "$old"; rm -f "$raw"' EXIT
git worktree add -q --detach "$old" "$commit"
dotnet build "$old/eng/bench/Dsg.Bench" -c Release -warnaserror -nologo -v q >&2
dotnet build eng/bench/Dsg.Bench -c Release -warnaserror -nologo -v q >&2
source eng/native-allocator.sh
for round in $(seq "$rounds"); do
  for side in before after; do
    dll=eng/bench/Dsg.Bench/bin/Release/net10.0/Dsg.Bench.dll
    [ "$side" = before ] && dll="$old/$dll"
    for model in "$@"; do
      dotnet "$dll" iteration "$model" --batch "$batch" --threads 2 --reps "$reps" --warmup 1 | sed "s/^{/{\"side\":\"$side\",/" | tee -a "$raw" >&2
    done
  done
done
/usr/bin/python3 - "$raw" <<'PY'
import collections, json, statistics, sys
runs = collections.defaultdict(list)
for line in open(sys.argv[1]):
    if line.startswith("{"):
        r = json.loads(line)
        runs[(r["model"], r["side"], r["measure"])] += r["all_ms"]
measures = ["bare_forward_backward", "forward_backward_bn_capture", "dsg_iteration", "zeroq_iteration"]
print("| model | side | (a) bare fwd+bwd | (a') with BN capture | (c) DSG iteration | (d) ZeroQ iteration | (c) / (a) | (d) / (a) |")
print("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |")
for model in dict.fromkeys(k[0] for k in runs):
    for side in ("before", "after"):
        m = [statistics.median(runs[(model, side, name)]) for name in measures]
        print(f"| {model.removesuffix('.onnx')} | {side} | " + " | ".join(f"{v:,.0f}" for v in m) + f" | {m[2] / m[0]:.2f} | {m[3] / m[0]:.2f} |")
PY
