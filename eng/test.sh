#!/usr/bin/env bash
# Runs every test in DsgBuild.sln after installing what the tests need, then prints one summary line:
#   N passed, N failed, N skipped
# Usage: eng/test.sh [--fast]   (--fast skips tests marked [Trait("Category", "Slow")])
set -uo pipefail
cd "$(dirname "$0")/.."
eng/install-deps.sh || { echo "dependency installation failed"; echo "0 passed, 1 failed"; exit 1; }
filter=()
if [ "${1:-}" = "--fast" ]; then
  filter=(--filter "Category!=Slow")
fi
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
source eng/native-allocator.sh
dotnet build DsgBuild.sln -warnaserror -c Debug || { echo "0 passed, 1 failed"; exit 1; }
# The eng/ harnesses (benchmarks, the results grid) are not in the solution; they must still compile against it.
for project in eng/bench/Dsg.Bench/Dsg.Bench.csproj eng/results/Results.csproj; do
  dotnet build "$project" -warnaserror -c Debug -nologo -v q || { echo "$project does not build"; echo "0 passed, 1 failed"; exit 1; }
done
log=$(mktemp)
dotnet test DsgBuild.sln --no-build -c Debug "${filter[@]}" --logger "console;verbosity=normal" 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
# vstest prints, per test project, a block "Total tests: N / Passed: N / Failed: N / Skipped: N".
read -r passed failed skipped < <(awk '
  /^[[:space:]]+Passed: *[0-9]+$/  { p += $2 }
  /^[[:space:]]+Failed: *[0-9]+$/  { f += $2 }
  /^[[:space:]]+Skipped: *[0-9]+$/ { s += $2 }
  END { print p + 0, f + 0, s + 0 }' "$log")
rm -f "$log"
if [ "$status" -ne 0 ] && [ "$failed" -eq 0 ]; then
  failed=1
fi
echo "${passed} passed, ${failed} failed, ${skipped} skipped"
[ "$status" -eq 0 ] && [ "$failed" -eq 0 ]
