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
for round in $(seq 1 "$rounds"); do
  setsid "${mpi[@]}" "$ablate" run "$work/search.toml" -o "$results" --threads 1 --progress lines >> "$work/killed.log" 2>&1 &
  job=$!
  # Kill once this attempt is training (its journal grows), at a random moment after.
  size=$(stat -c %s "$results.journal" 2>/dev/null || echo 0)
  for _ in $(seq 600); do
    [ "$(stat -c %s "$results.journal" 2>/dev/null || echo 0)" -gt "$size" ] && break
    kill -0 "$job" 2>/dev/null || break
    sleep 0.1
  done
  sleep "0.$(printf '%03d' $((RANDOM % 1000)))"
  if kill -0 "$job" 2>/dev/null; then
    case $((round % 3)) in
      0) victim=$(pgrep -P "$job" | head -n 1); what="rank 0 or a worker (first child)" ;;
      1) victim=$(pgrep -P "$job" | tail -n 1); what="a rank (last child)" ;;
      2) victim=""; what="the whole job" ;;
    esac
    if [ -n "$victim" ]; then kill -9 "$victim" 2>/dev/null; else kill -9 -- "-$job" 2>/dev/null; fi
    echo "round $round: kill -9 $what"
  else
    echo "round $round: the sweep ended before the kill"
  fi
  for _ in $(seq 100); do kill -0 "$job" 2>/dev/null || break; sleep 0.1; done
  kill -9 -- "-$job" 2>/dev/null
  wait "$job" 2>/dev/null
  [ -f "$results.journal" ] && cp "$results.journal" "$work/journal.round$round"
done

"${mpi[@]}" "$ablate" run "$work/search.toml" -o "$results" --threads 1 --progress lines > "$work/final.log" 2>&1 \
  || { echo "the final run failed"; tail -20 "$work/final.log"; exit 1; }
"$python" "$here/check_search.py" "$results.journal" 10 2 "$work"/journal.round*
