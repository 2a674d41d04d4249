#!/bin/sh
# Regenerate testassets/models/** and testassets/data/** (see eng/make-testassets.py).
# Needs Debian packages: python3-torch python3-onnx python3-numpy dataset-fashion-mnist.
# Uses the Debian interpreter on purpose (a pyenv/venv python has no torch).
set -eu
cd "$(dirname "$0")/.."
exec /usr/bin/python3 eng/make-testassets.py "$@"
