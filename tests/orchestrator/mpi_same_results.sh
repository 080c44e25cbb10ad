#!/bin/sh
# mpi_same_results.sh ABLATE COMPARE SPEC MPIEXEC [launcher flags...]
# Runs the tiny real-data sweep with `ablate run` in one process and under
# `mpirun -np 3` (one thread per worker both times), then checks that both
# results files hold the same metrics. Exit 77 (skipped) without Fashion-MNIST.
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
