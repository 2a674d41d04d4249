#!/usr/bin/env bash
# Quantizes every model of testassets/models/wild at W8A8 (DSG, small budget, and real images) through the tool's
# WildCorpusTests and prints the results as the Markdown table of docs/models.md.
# Usage: eng/wild-corpus.sh            (builds first; about 5 minutes on 2 cores)
set -euo pipefail
cd "$(dirname "$0")/.."
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
dotnet build tests/Dsg.Tool.Tests -c Debug -warnaserror >/dev/null
table=$(mktemp)
trap 'rm -f "$table"' EXIT
DSG_CORPUS_TABLE="$table" dotnet test tests/Dsg.Tool.Tests --no-build -c Debug \
  --filter "FullyQualifiedName~WildCorpusTests" >/dev/null || echo "(some corpus models missed their target: see the table)" >&2
echo "| model | opset | input | output kind | input convention | fp32 top-1 % | DSG W8A8 top-1 % | real W8A8 top-1 % | DSG output SQNR dB | real output SQNR dB |"
echo "|---|---:|---|---|---|---:|---:|---:|---:|---:|"
sort "$table"
