#!/usr/bin/env bash
# The long fuzz run of issue 14: the suite's fuzz test (tests/Dsg.Tool.Tests/Fuzz) over many more mutated models.
# Every case goes through inspect, every eighth case and every case inspect calls ready through a tiny gaussian
# quantize; each must end in success or a DSG code (never exit 2, an exception or a hang), a model whose external data
# leaves its folder must be refused, a model inspect calls ready must quantize, and a refused quantize must leave no
# --out folder. Prints the counts per outcome and writes them, with every case's outcome, to the report.
# Usage: eng/fuzz.sh [CASES] [SEED]          (defaults: 3000 cases, seed 1413)
#   DSG_FUZZ_FIRST=N      start at case N (a failing case is made again from its number and seed alone)
#   DSG_FUZZ_KEEP=DIR     keep every case's files under DIR
#   DSG_FUZZ_REPORT=FILE  where the report goes (default artifacts/fuzz/fuzz-SEED-CASES.txt)
set -euo pipefail
cd "$(dirname "$0")/.."
cases="${1:-3000}"
seed="${2:-1413}"
report="${DSG_FUZZ_REPORT:-artifacts/fuzz/fuzz-$seed-$cases.txt}"
mkdir -p "$(dirname "$report")"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
dotnet build tests/Dsg.Tool.Tests/Dsg.Tool.Tests.csproj -warnaserror -c Debug -nologo -v q
start=$(date +%s)
status=0
DSG_FUZZ_CASES="$cases" DSG_FUZZ_SEED="$seed" DSG_FUZZ_REPORT="$(realpath "$report")" \
  dotnet test tests/Dsg.Tool.Tests/Dsg.Tool.Tests.csproj --no-build -c Debug --filter "FullyQualifiedName~ModelFuzzTests" \
  --logger "console;verbosity=minimal" || status=$?
echo "wall time: $(( $(date +%s) - start )) s (seed $seed, $cases cases)"
sed -n '/^case\t/q;p' "$report"
exit "$status"
