#!/usr/bin/env bash
# Runs the ONNX backend node tests (Debian libonnx-testdata) through the TorchSharp executor and rewrites
# docs/operators.md from the results. Usage: eng/operator-conformance.sh
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -d /usr/share/libonnx-testdata/data/node ]; then
  echo "libonnx-testdata is not installed (eng/install-deps.sh installs it)" >&2
  exit 1
fi
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
DSG_WRITE_OPERATORS_DOC=1 dotnet test tests/Dsg.Core.Tests --filter "FullyQualifiedName~OnnxNodeConformanceTests"
echo "docs/operators.md written"
