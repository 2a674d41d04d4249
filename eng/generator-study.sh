#!/usr/bin/env bash
# The generator-defaults study (issue 16): W4A4 top-1 of the evaluation family's nets calibrated with samples made
# under one changed generator setting at a time, both recipes, against real, gaussian and zeroq calibration.
# Usage: eng/generator-study.sh [--family tune | --nets a,b] [--seeds 0] [--samples 64] [--iterations 200]
#                               [--test-images 10000] [VARIANT...]
#   VARIANT is name=Key=Value[;Key=Value] (GenerationOptions properties); default: the list below.
# Each net's cells under each variant go to artifacts/study/<net>-<variant>-n<samples>-i<iterations>-s<seeds>-t<test>.json
# (a finished one is not run again); eng/summarize-study.py renders them. Long: run it in the background.
set -euo pipefail
cd "$(dirname "$0")/.."
family=tune nets="" seeds=0 samples=64 iterations=200 test=10000
while [[ $# -gt 0 && $1 == --* ]]; do
  case $1 in
    --family) family=$2 ;; --nets) nets=$2 ;; --seeds) seeds=$2 ;; --samples) samples=$2 ;; --iterations) iterations=$2 ;; --test-images) test=$2 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
  shift 2
done
variants=("$@")
if [[ ${#variants[@]} -eq 0 ]]; then
  variants=(base= ce1=CrossEntropyWeight=1 lr1=LearningRate=1 eps0.5=MarginQuantile=0.5 nolse=UseLayerwiseEnhancement=false
    nosci=UseCorrelationInhibition=false noinput=UseInputStatistics=false)
fi
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
source eng/native-allocator.sh
dotnet build eng/results/Results.csproj -c Release -warnaserror -nologo -v q
mkdir -p artifacts/study
tag="n${samples}-i${iterations}-s${seeds//,/_}-t${test}"
if [[ -z $nets ]]; then
  nets=$(/usr/bin/python3 -c "import json,sys; m=json.load(open('testassets/family/manifest.json')); print(','.join(n for n in m if m[n]['split']==sys.argv[1]))" "$family")
fi
run() { # net, name, methods, generator settings
  local out="artifacts/study/$1-$2-${tag}.json"
  [[ -f $out ]] && { echo "$out exists, skipped"; return; }
  dotnet eng/results/bin/Release/net10.0/Results.dll --models "$1" --methods "$3" --precisions W4A4 --test-images "$test" \
    --seeds "$seeds" --samples "$samples" --iterations "$iterations" --generator "${4//;/,}" \
    --out "artifacts/study/$1-$2-${tag}.md" --json "$out"
}
for net in ${nets//,/ }; do
  run "$net" baselines real,gaussian,zeroq ""
  for v in "${variants[@]}"; do
    run "$net" "${v%%=*}" dsg "${v#*=}"
  done
done
