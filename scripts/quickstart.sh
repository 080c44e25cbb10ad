#!/usr/bin/env bash
# The quickstart: sweeps/quickstart.toml (linear vs 1x256 vs 2x256 MLP) on the real
# Fashion-MNIST in local mode, then its status and report. Rerunning resumes.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR=${ABLATE_BUILD_DIR:-build}
mkdir -p results
"$BUILD_DIR/orchestrator/ablate" run sweeps/quickstart.toml -o results/quickstart.h5
"$BUILD_DIR/orchestrator/ablate" status results/quickstart.h5
"$BUILD_DIR/orchestrator/ablate" report results/quickstart.h5 -o results/quickstart-report
echo "quickstart: results in results/quickstart.h5, report in results/quickstart-report/index.md"
echo "quickstart: to run ablate from anywhere: make install PREFIX=~/.local (then ~/.local/bin/ablate is on the PATH)"
