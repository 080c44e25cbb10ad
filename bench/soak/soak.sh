#!/usr/bin/env bash
# soak.sh: kill -9 an `ablate run` under mpirun at random moments, many times,
# resuming each time, and check that nothing finished is ever lost.
#
# Usage: bench/soak/soak.sh [KILLS=20] [ABLATE=build/orchestrator/ablate]
# Env:   RANKS (default 3: rank 0 schedules, 2 workers), SEED (the kill schedule's
#        random seed, default 1), PYTHON (default .venv/bin/python), KEEP=1 keeps the work dir.
#
# Each round starts the sweep (resuming the results file), waits a random 1-8 s,
# then SIGKILLs, in turn, rank 0, a worker, or the whole job (mpirun and every rank).
# After the last round a clean run finishes the sweep. Then check_soak.py compares
# the file with an uninterrupted run of the same sweep: every point done exactly
# once (one done record in the journal), curves and metrics identical (CPU, same
# thread count: training is deterministic, and killed points resume from their
# checkpoints), the file readable by h5py and h5dump, no checkpoint left behind,
# and no point that was done before a kill missing after it. Prints
#   bench=soak kills=N rounds_killed=K points=P points_lost=0 ... ok=1
# Exit status 0 only when ok=1.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
kills=${1:-20}
ablate=${2:-$root/build/orchestrator/ablate}
ranks=${RANKS:-3}
python=${PYTHON:-$root/.venv/bin/python}
sweep=$here/soak.toml
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
mpi=(mpirun --oversubscribe --bind-to none -np "$ranks")
work=$(mktemp -d "${TMPDIR:-/tmp}/ablate-soak-XXXXXX")
[ "${KEEP:-0}" = 1 ] || trap 'rm -rf "$work"' EXIT
RANDOM=${SEED:-1}

run_sweep() {  # run_sweep RESULTS LOG: in the foreground, to the end
  "${mpi[@]}" "$ablate" run "$sweep" -o "$1" --threads 1 --progress lines > "$2" 2>&1
}

# The ranks of the job started by mpirun $1, with their world rank: "pid rank" lines.
ranks_of() {
  for pid in $(pgrep -P "$1"); do
    rank=$(tr '\0' '\n' < "/proc/$pid/environ" 2>/dev/null | sed -n 's/^OMPI_COMM_WORLD_RANK=//p')
    [ -n "$rank" ] && echo "$pid $rank"
  done
}

echo "soak: work dir $work"
run_sweep "$work/reference.h5" "$work/reference.log" || { echo "the reference run failed"; cat "$work/reference.log"; exit 1; }

results=$work/soaked.h5
killed=0
for round in $(seq 1 "$kills"); do
  # setsid: mpirun and its ranks in a process group of their own, so "the whole job" is one kill.
  setsid "${mpi[@]}" "$ablate" run "$sweep" -o "$results" --threads 1 --progress lines \
    >> "$work/soaked.log" 2>&1 &
  job=$!
  sleep "$((1 + RANDOM % 7)).$(printf '%03d' $((RANDOM % 1000)))"
  target=$((round % 3))
  if ! kill -0 "$job" 2>/dev/null; then
    echo "round $round: the sweep finished before the kill"
  else
    case $target in
      0) victim=$(ranks_of "$job" | awk '$2 == 0 {print $1}'); what="rank 0" ;;
      1) victim=$(ranks_of "$job" | awk '$2 != 0 {print $1}' | head -n 1); what="a worker" ;;
      2) victim=""; what="the whole job" ;;
    esac
    if [ "$target" = 2 ]; then
      kill -9 -- "-$job" 2>/dev/null
    elif [ -n "$victim" ]; then
      kill -9 "$victim" 2>/dev/null
    else
      kill -9 -- "-$job" 2>/dev/null; what="the whole job (ranks not up yet)"
    fi
    killed=$((killed + 1))
    echo "round $round: kill -9 $what"
  fi
  # mpirun takes the job down after a rank dies; make sure nothing outlives the round.
  for _ in $(seq 100); do kill -0 "$job" 2>/dev/null || break; sleep 0.1; done
  kill -9 -- "-$job" 2>/dev/null
  wait "$job" 2>/dev/null
  # What the file says is done now must still be done at the end.
  "$python" "$here/check_soak.py" snapshot "$results" "$work/done_before_kills.txt"
done

run_sweep "$results" "$work/final.log" || { echo "the final run failed"; tail -20 "$work/final.log"; exit 1; }
"$python" "$here/check_soak.py" verify "$work/reference.h5" "$results" "$work/done_before_kills.txt" \
  --kills "$killed" --rounds "$kills"
