#!/usr/bin/env bash
# Early stopping survives kill -9: a successive-halving sweep of real (tiny)
# trainings under mpirun is killed ROUNDS times at random moments (rank 0, a
# worker, the whole job, in turn) and resumed each time; then
# check_early_stopping.py compares it with an uninterrupted run: every decision
# recorded before a kill stands, no point trained past its last `until`, every
# replayed epoch (a promotion or a resume from a checkpoint) carries the epoch
# time of the attempt that trained it, and the outcome equals the uninterrupted one.
# Usage: early_stopping_kill9.sh ABLATE [ROUNDS=6] [METHOD=successive_halving]
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
ablate=$1
rounds=${2:-6}
method=${3:-successive_halving}
python=${PYTHON:-$root/.venv/bin/python}
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
mpi=(mpirun --oversubscribe --bind-to none -np 3)
work=$(mktemp -d "${TMPDIR:-/tmp}/ablate-es-kill9-XXXXXX")
[ "${KEEP:-0}" = 1 ] || trap 'rm -rf "$work"' EXIT
sed "s/^method = .*/method = \"$method\"/" "$here/data/es_kill9.toml" > "$work/es.toml"
RANDOM=${SEED:-7}

"$ablate" run "$work/es.toml" -o "$work/reference.h5" --threads 1 --progress quiet > "$work/reference.log" 2>&1 \
  || { echo "the reference run failed"; cat "$work/reference.log"; exit 1; }

results=$work/killed.h5
# shellcheck source=kill9_rounds.sh
source "$here/kill9_rounds.sh"
kill9_rounds "$rounds" "$work/es.toml" "$results" "$work" 1

"${mpi[@]}" "$ablate" run "$work/es.toml" -o "$results" --threads 1 --progress lines > "$work/final.log" 2>&1 \
  || { echo "the final run failed"; tail -20 "$work/final.log"; exit 1; }
"$python" "$here/check_early_stopping.py" "$work/reference.h5" "$results" "$work"/journal.round* \
  --same-outcome "$([ "$method" = successive_halving ] && echo 1 || echo 0)"
