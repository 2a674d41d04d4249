#!/usr/bin/env bash
# Regenerates docs/results.md: Fashion-MNIST test accuracy of the test-asset models quantized by Dsg
# (fp32, real-data, gaussian, zeroq and dsg calibration; W8A8, W6A6, W4A8, W4A4; default and paper recipes).
# Usage: eng/results.sh [--samples 256] [--iterations 500] [--seeds 0,1,2] [--methods real,gaussian,zeroq,dsg]
#                       [--models resnet_fmnist,mobilenetv2_fmnist] [--observer-study docs/observers.md]
#                       [--refines none,adaround] [--refine-iterations 200]   (a column per method and refinement)
#                       [--refine-augment true|false] [--refine-statistics-weight 0]   (QAT's shifts and flips and BRECQ's mirror images; QAT's BatchNorm-statistics term)
# Generated samples are cached in eng/results/cache (delete it to regenerate). Long: run it in the background.
set -euo pipefail
cd "$(dirname "$0")/.."
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
source eng/native-allocator.sh
dotnet build eng/results/Results.csproj -c Release -warnaserror -nologo -v q
dotnet eng/results/bin/Release/net10.0/Results.dll "$@"
