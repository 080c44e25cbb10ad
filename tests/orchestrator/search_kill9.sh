#!/usr/bin/env bash
# A TPE search survives kill -9: a sweep of real (tiny) trainings under
# mpirun -np 4 is killed ROUNDS times at random moments (rank 0, a worker, the
# whole job, in turn) and resumed each time; check_search.py then checks the
# journal: nothing suggested or observed before a kill is lost or redone, no
# configuration is suggested twice, every observation is made once, every point
# is done once, and the trial count ends at `trials`.
# Usage: search_kill9.sh ABLATE [ROUNDS=6]
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
ablate=$1
rounds=${2:-6}
python=${PYTHON:-$root/.venv/bin/python}
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
mpi=(mpirun --oversubscribe --bind-to none -np 4)
work=$(mktemp -d "${TMPDIR:-/tmp}/ablate-search-kill9-XXXXXX")
[ "${KEEP:-0}" = 1 ] || trap 'rm -rf "$work"' EXIT
cp "$here/data/search_kill9.toml" "$work/search.toml"
RANDOM=${SEED:-7}

results=$work/killed.h5
# shellcheck source=kill9_rounds.sh
source "$here/kill9_rounds.sh"
kill9_rounds "$rounds" "$work/search.toml" "$results" "$work" 0

"${mpi[@]}" "$ablate" run "$work/search.toml" -o "$results" --threads 1 --progress lines > "$work/final.log" 2>&1 \
  || { echo "the final run failed"; tail -20 "$work/final.log"; exit 1; }
"$python" "$here/check_search.py" "$results.journal" 10 2 "$work"/journal.round*
