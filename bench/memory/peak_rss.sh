#!/usr/bin/env bash
# peak_rss.sh: peak resident memory (VmHWM, via /usr/bin/time) of every rank of
# `mpirun -np 3 ablate run` on a CNN sweep (rank 0 schedules, two workers each
# train one CNN point on the full data), and of `ablate train` of the same point
# in one process. One line per process:
#   bench=peak_rss mode=mpi rank=1 role=worker model=cnn maxrss_mib=...
# Usage: bench/memory/peak_rss.sh [ABLATE=build/orchestrator/ablate]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
ablate=${1:-$root/build/orchestrator/ablate}
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
work=$(mktemp -d "${TMPDIR:-/tmp}/ablate-rss-XXXXXX")
trap 'rm -rf "$work"' EXIT

mpirun --oversubscribe --bind-to none -np 3 sh -c \
  'exec /usr/bin/time -o "$0/rank$OMPI_COMM_WORLD_RANK.rss" -f "%M" "$@"' "$work" \
  "$ablate" run "$here/cnn_point.toml" -o "$work/cnn.h5" --threads 1 --progress quiet > "$work/mpi.log" 2>&1 \
  || { cat "$work/mpi.log"; exit 1; }
for rank in 0 1 2; do
  role=worker; [ "$rank" = 0 ] && role=scheduler
  kb=$(tail -n 1 "$work/rank$rank.rss")
  echo "bench=peak_rss mode=mpi rank=$rank role=$role model=cnn maxrss_mib=$((kb / 1024))"
done

/usr/bin/time -o "$work/local.rss" -f "%M" "$ablate" train model=cnn channels=32,64 fc_width=128 epochs=1 \
  --threads 1 > "$work/local.log" 2>&1 || { cat "$work/local.log"; exit 1; }
echo "bench=peak_rss mode=train rank=0 role=local model=cnn maxrss_mib=$(( $(tail -n 1 "$work/local.rss") / 1024 ))"
