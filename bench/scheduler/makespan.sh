#!/bin/sh
# makespan.sh [ABLATE] [SWEEP]: wall time of `ablate run SWEEP` in one process
# (local mode), and under mpirun with 1 and 2 worker ranks (-np 2, -np 3), each
# into a fresh results file. Every worker uses THREADS LibTorch threads (default
# 1), so the runs differ only in how many points train at once: what the
# scheduler adds, not LibTorch's intra-op scaling (which on a small or shared
# machine is noisy). --bind-to none keeps mpirun from pinning ranks to cores.
# Prints one machine-readable line per run, then the speed-ups:
#   bench=makespan sweep=quickstart mode=mpi ranks=3 workers=2 seconds=... exit=0
set -eu
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
ablate=${1:-$root/build/orchestrator/ablate}
sweep=${2:-$root/sweeps/quickstart.toml}
mpiexec=${MPIEXEC:-mpirun}
flags=${MPIEXEC_FLAGS:---oversubscribe --allow-run-as-root --bind-to none}
threads=${THREADS:-1}
name=$(basename "$sweep" .toml)
dir=$(mktemp -d "${TMPDIR:-/tmp}/ablate-makespan-XXXXXX")
trap 'rm -rf "$dir"' EXIT

now() { date +%s.%N; }

# run MODE RANKS WORKERS COMMAND...: times one sweep, prints its line, returns its seconds in $seconds.
run() {
  mode=$1 ranks=$2 workers=$3
  shift 3
  start=$(now)
  set +e
  "$@" > "$dir/$mode-$ranks.log" 2>&1
  code=$?
  set -e
  seconds=$(awk -v a="$(now)" -v b="$start" 'BEGIN { printf "%.2f", a - b }')
  echo "bench=makespan sweep=$name mode=$mode ranks=$ranks workers=$workers threads=$threads seconds=$seconds exit=$code"
  if [ "$code" -ne 0 ]; then
    echo "makespan.sh: the $mode run failed; its log:" >&2
    cat "$dir/$mode-$ranks.log" >&2
    exit 1
  fi
}

run local 1 1 "$ablate" run "$sweep" -o "$dir/local.h5" --progress lines --threads "$threads"
local_seconds=$seconds
# shellcheck disable=SC2086 # $flags is a list of flags
run mpi 2 1 $mpiexec -np 2 $flags "$ablate" run "$sweep" -o "$dir/mpi2.h5" --progress lines --threads "$threads"
one_worker=$seconds
# shellcheck disable=SC2086
run mpi 3 2 $mpiexec -np 3 $flags "$ablate" run "$sweep" -o "$dir/mpi3.h5" --progress lines --threads "$threads"
two_workers=$seconds
awk -v n="$name" -v l="$local_seconds" -v one="$one_worker" -v two="$two_workers" 'BEGIN {
  printf "bench=makespan sweep=%s speedup_2_workers_vs_1=%.2f speedup_2_workers_vs_local=%.2f\n", n, one / two, l / two }'
