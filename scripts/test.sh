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
exit $status
