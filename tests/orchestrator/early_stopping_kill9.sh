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
for round in $(seq 1 "$rounds"); do
  setsid "${mpi[@]}" "$ablate" run "$work/es.toml" -o "$results" --threads 1 --progress lines >> "$work/killed.log" 2>&1 &
  job=$!
  # Kill once this attempt is training (its journal grows), at a random moment after.
  size=$(stat -c %s "$results.journal" 2>/dev/null || echo 0)
  for _ in $(seq 600); do
    [ "$(stat -c %s "$results.journal" 2>/dev/null || echo 0)" -gt "$size" ] && break
    kill -0 "$job" 2>/dev/null || break
    sleep 0.1
  done
  sleep "$((RANDOM % 2)).$(printf '%03d' $((RANDOM % 1000)))"
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

"${mpi[@]}" "$ablate" run "$work/es.toml" -o "$results" --threads 1 --progress lines > "$work/final.log" 2>&1 \
  || { echo "the final run failed"; tail -20 "$work/final.log"; exit 1; }
"$python" "$here/check_early_stopping.py" "$work/reference.h5" "$results" "$work"/journal.round* \
  --same-outcome "$([ "$method" = successive_halving ] && echo 1 || echo 0)"
