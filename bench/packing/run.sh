#!/usr/bin/env bash
# Points per hour of packed training (K = 2, 4, 8, 16) against one point per
# worker, for the seed study's linear, 2x256 MLP and CNN settings, on this
# machine's cores (two workers of one LibTorch thread each by default). One
# JSON line per measurement; "ratio" is packed / lone points per hour, both
# measured back to back in the same run. Record the output in docs/benchmarks.md.
#   bench/packing/run.sh [build dir] [extra packing_bench options]
set -euo pipefail
cd "$(dirname "$0")/../.."
BUILD_DIR=${1:-build}
shift || true
BENCH="$BUILD_DIR/bench/packing/packing_bench"
[[ -x "$BENCH" ]] || { echo "bench/packing/run.sh: $BENCH is missing: cmake --build $BUILD_DIR --target packing_bench" >&2; exit 1; }
for family in linear mlp cnn; do
  case $family in
    cnn) extra=(--train-limit 2000 --packs 2 4 8) ;;  # a CNN epoch is ~20x an MLP's on the CPU
    *) extra=(--train-limit 10000 --packs 2 4 8 16) ;;
  esac
  "$BENCH" --family "$family" --points 32 "${extra[@]}" "$@"
done
