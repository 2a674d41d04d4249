#!/usr/bin/env bash
# Installs the Debian packages the tests and asset scripts need. Safe to run repeatedly.
#   dataset-fashion-mnist  real images for accuracy tests (/usr/share/datasets/fashion-mnist)
#   libonnx-testdata       the ONNX backend node tests, for executor conformance
#   patchelf               inspecting native libraries (diagnostics)
#   nginx-light            a real WebDAV server (its dav module: GET, PUT, MOVE) for the remote-cache tests, which
#   libnginx-mod-http-dav-ext  start it on a loopback port themselves; dav-ext adds PROPFIND (cache list --remote)
set -euo pipefail
packages=(dataset-fashion-mnist libonnx-testdata nginx-light libnginx-mod-http-dav-ext)
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
  # Installing nginx would start the system's nginx service on port 80; the tests run their own, so keep services
  # from starting during the install (policy-rc.d, the Debian mechanism), unless the machine already has a policy.
  policy=/usr/sbin/policy-rc.d
  added_policy=""
  if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\n# added by dsg eng/install-deps.sh for the duration of apt-get install\nexit 101\n' | $sudo_cmd tee "$policy" >/dev/null
    $sudo_cmd chmod 755 "$policy"
    added_policy=yes
  fi
  status=0
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq "${missing[@]}" >/dev/null || status=$?
  if [ -n "$added_policy" ]; then
    $sudo_cmd rm -f "$policy"
  fi
  exit $status
fi
