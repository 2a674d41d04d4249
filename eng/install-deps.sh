#!/usr/bin/env bash
# Installs the Debian packages the tests and asset scripts need. Safe to run repeatedly.
#   dataset-fashion-mnist  real images for accuracy tests (/usr/share/datasets/fashion-mnist)
#   libonnx-testdata       the ONNX backend node tests, for executor conformance
#   patchelf               inspecting native libraries (diagnostics)
set -euo pipefail
packages=(dataset-fashion-mnist libonnx-testdata)
if [ "${1:-}" = "--assets" ]; then
  packages+=(python3-torch python3-torchvision python3-onnx python3-numpy)
fi
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  sudo_cmd=""
  [ "$(id -u)" -ne 0 ] && sudo_cmd="sudo"
  echo "Installing: ${missing[*]}"
  $sudo_cmd apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq "${missing[@]}" >/dev/null
fi
