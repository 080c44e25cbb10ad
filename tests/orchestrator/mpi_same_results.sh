#!/bin/sh
# mpi_same_results.sh ABLATE COMPARE SPEC MPIEXEC [launcher flags...]
# Runs the tiny real-data sweep with `ablate run` in one process and under
# `mpirun -np 3` (one thread per worker both times), then checks that both
# results files hold the same metrics; then under `mpirun -np 3 --ranks-per-point 2`
# (each point trained data-parallel by two ranks), whose metrics must match to
# rounding (accuracies within 0.4 points: two of the 500 validation images). Exit 77 (skipped) without Fashion-MNIST.
set -eu
ablate=$1 compare=$2 spec=$3 mpiexec=$4
shift 4

if [ -z "${ABLATE_DATA:-}" ] && [ ! -d /usr/share/datasets/fashion-mnist ] && [ ! -d ./data/fashion-mnist ]; then
  echo "skipped: no Fashion-MNIST (set ABLATE_DATA or install dataset-fashion-mnist)"
  exit 77
fi
dir=$(mktemp -d "${TMPDIR:-/tmp}/ablate-mpi-same-XXXXXX")
trap 'rm -rf "$dir"' EXIT

"$ablate" run "$spec" -o "$dir/one.h5" --threads 1 --device cpu --progress lines
"$mpiexec" -np 3 "$@" "$ablate" run "$spec" -o "$dir/three.h5" --threads 1 --device cpu --progress lines
"$compare" "$dir/one.h5" "$dir/three.h5"
"$mpiexec" -np 3 "$@" "$ablate" run "$spec" -o "$dir/pairs.h5" --ranks-per-point 2 --threads 1 --device cpu \
  --progress lines
"$compare" "$dir/one.h5" "$dir/pairs.h5" 0.004
