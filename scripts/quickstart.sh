#!/usr/bin/env bash
# The quickstart: a 2x256 MLP on the real Fashion-MNIST, a few epochs, on this machine.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR=${ABLATE_BUILD_DIR:-build}
exec "$BUILD_DIR/orchestrator/ablate" train model=mlp hidden=256,256 epochs=3
