#!/usr/bin/env bash
# The whole test suite: ctest (unit, MPI, real-data, Slurm tests) then pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR=${ABLATE_BUILD_DIR:-build}
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
status=0
ctest --test-dir "$BUILD_DIR" --output-on-failure -j1 || status=1
if compgen -G "tests/analysis/test_*.py" >/dev/null || compgen -G "tests/*/test_*.py" >/dev/null; then
  ABLATE_BIN="$PWD/$BUILD_DIR/orchestrator/ablate" .venv/bin/python -m pytest -q tests || status=1
fi
# The GPU bundle, built and run with --dry-run (CPU, tiny budgets) in a clean
# environment: it is complete and gpu-check.sh works (scripts/gpu-dry-run.sh).
if [[ -x "$BUILD_DIR/orchestrator/ablate" ]]; then
  ABLATE_BUILD_DIR=$BUILD_DIR scripts/gpu-dry-run.sh || status=1
fi
exit $status
