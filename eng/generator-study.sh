#!/usr/bin/env bash
# The generator-defaults study (issue 16): W4A4 top-1 of the evaluation family's nets calibrated with samples made
# under one changed generator setting at a time, both recipes, against real, gaussian and zeroq calibration.
# Usage: eng/generator-study.sh [--family tune] [--seeds 0] [--samples 128] [--iterations 200] [VARIANT...]
#   VARIANT is name=Key=Value[;Key=Value] (GenerationOptions properties); default: the list below.
# Each variant's cells go to artifacts/study/<family>-<name>-n<samples>-i<iterations>-s<seeds>.json (a finished
# variant is not run again); eng/summarize-study.py renders them. Long: run it in the background.
set -euo pipefail
cd "$(dirname "$0")/.."
family=tune seeds=0 samples=128 iterations=200
while [[ $# -gt 0 && $1 == --* ]]; do
  case $1 in
    --family) family=$2 ;; --seeds) seeds=$2 ;; --samples) samples=$2 ;; --iterations) iterations=$2 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
  shift 2
done
variants=("$@")
if [[ ${#variants[@]} -eq 0 ]]; then
  variants=(base= lr0.1=LearningRate=0.1 lr1=LearningRate=1 radam=Optimizer=RAdam flip=RandomFlip=true
    ce1=CrossEntropyWeight=1 noce=UseCrossEntropy=false eps0.5=MarginQuantile=0.5 noslack=UseSlack=false
    nolse=UseLayerwiseEnhancement=false nosci=UseCorrelationInhibition=false noinput=UseInputStatistics=false)
fi
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
dotnet build eng/results/Results.csproj -c Release -warnaserror -nologo -v q
mkdir -p artifacts/study
tag="n${samples}-i${iterations}-s${seeds//,/_}"
run() { # name, methods, generator settings
  local out="artifacts/study/${family}-$1-${tag}.json"
  [[ -f $out ]] && { echo "$out exists, skipped"; return; }
  dotnet eng/results/bin/Release/net10.0/Results.dll --family "$family" --methods "$2" --precisions W4A4 \
    --seeds "$seeds" --samples "$samples" --iterations "$iterations" --generator "${3//;/,}" \
    --out "artifacts/study/${family}-$1-${tag}.md" --json "$out"
}
run baselines real,gaussian,zeroq ""
for v in "${variants[@]}"; do
  run "${v%%=*}" dsg "${v#*=}"
done
