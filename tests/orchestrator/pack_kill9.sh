#!/usr/bin/env bash
# Packed training survives kill -9: a sweep of real (tiny) trainings, run with
# --pack 4 under mpirun (2 workers, a pack of 4 points each), is killed ROUNDS
# times at random moments (rank 0, a worker, the whole job, in turn) and resumed
# each time with --pack 4; then check_pack_kill9.py compares it with an
# uninterrupted run without packs: every point done once, every epoch recorded
# again after a kill carries the epoch time of the attempt that trained it (the
# member resumed from its checkpoint), and the curves match the unpacked run's.
# Usage: pack_kill9.sh ABLATE [ROUNDS=6]
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
ablate=$1
rounds=${2:-6}
python=${PYTHON:-$root/.venv/bin/python}
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
mpi=(mpirun --oversubscribe --bind-to none -np 3)
work=$(mktemp -d "${TMPDIR:-/tmp}/ablate-pack-kill9-XXXXXX")
[ "${KEEP:-0}" = 1 ] || trap 'rm -rf "$work"' EXIT
spec=$here/data/pack_kill9.toml
RANDOM=${SEED:-11}

"$ablate" run "$spec" -o "$work/reference.h5" --threads 1 --progress quiet > "$work/reference.log" 2>&1 \
  || { echo "the reference run failed"; cat "$work/reference.log"; exit 1; }

results=$work/killed.h5
kill9_args=(--pack 4)
kill9_wait_epoch=1
# shellcheck source=kill9_rounds.sh
source "$here/kill9_rounds.sh"
kill9_rounds "$rounds" "$spec" "$results" "$work" 1

"${mpi[@]}" "$ablate" run "$spec" -o "$results" --threads 1 --progress lines --pack 4 > "$work/final.log" 2>&1 \
  || { echo "the final run failed"; tail -20 "$work/final.log"; exit 1; }
grep -q "packs: up to 4 points of one shape per worker (--pack 4)" "$work/final.log" "$work/killed.log" \
  || { echo "no run said it packs"; tail -20 "$work/final.log"; exit 1; }
"$python" "$here/check_pack_kill9.py" "$work/reference.h5" "$results"
