#!/usr/bin/env bash
# A point stopped by SIGTERM in the middle goes on from its checkpoint when the
# sweep is rerun, and ends exactly as an uninterrupted run of it ends. Local mode,
# or, given K and a launcher, a data-parallel group of K ranks under
# `MPIEXEC -np K+1` (one checkpoint per group rank).
# Usage: checkpoint_resume_end_to_end.sh ABLATE SWEEP PYTHON CHECKER [K MPIEXEC [launcher flags...]]
set -euo pipefail
ablate=$1 sweep=$2 python=$3 checker=$4
shift 4
group=${1:-0}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
flags=(--threads 1 --device cpu --progress lines)
if [ "$group" -gt 0 ]; then
  mpiexec=$2
  shift 2
  launch=("$mpiexec" -np $((group + 1)) "$@")
  flags+=(--ranks-per-point "$group")
  checkpoint_names=()
  for ((rank = 0; rank < group; rank++)); do checkpoint_names+=("*.pt.rank$rank"); done
else
  launch=()
  checkpoint_names=("*.pt")
fi
run() { "${launch[@]}" "$ablate" run "$sweep" "${flags[@]}" "$@"; }

run -o "$work/whole.h5" > "$work/whole.log" 2>&1

# Stop the run once epoch 2 is reported; it stops at the end of the epoch in
# progress (mpirun passes SIGTERM on to rank 0, which stops the group). Started
# directly, not through run: the function's subshell would get the signal.
"${launch[@]}" "$ablate" run "$sweep" "${flags[@]}" -o "$work/stopped.h5" > "$work/stopped.log" 2>&1 &
pid=$!
for _ in $(seq 1200); do
  grep -qE ' 2/[0-9]+:' "$work/stopped.log" && break
  sleep 0.05
done
kill -TERM "$pid"
status=0
wait "$pid" || status=$?
# Local mode exits 4 (incomplete); mpirun reports its own status, so the log says what happened.
if [ "$status" -eq 0 ] || { [ "$group" -eq 0 ] && [ "$status" -ne 4 ]; } || ! grep -q '^incomplete' "$work/stopped.log"; then
  echo "the stopped run exited with $status and did not say it was incomplete:"; cat "$work/stopped.log"; exit 1
fi
for name in "${checkpoint_names[@]}"; do
  compgen -G "$work/stopped.h5.checkpoints/$name" > /dev/null || {
    echo "no checkpoint $name was left for the unfinished point:"; ls -la "$work/stopped.h5.checkpoints" || true; exit 1; }
done
cp "$work/stopped.h5" "$work/at_stop.h5"

run -o "$work/stopped.h5" > "$work/resumed.log" 2>&1
if grep -q 'ignoring the checkpoint' "$work/resumed.log"; then
  echo "the rerun ignored a checkpoint:"; cat "$work/resumed.log"; exit 1
fi
if [ -e "$work/stopped.h5.checkpoints" ]; then
  echo "the checkpoint directory outlived the finished sweep:"; ls -la "$work/stopped.h5.checkpoints"; exit 1
fi
"$python" "$checker" "$work/whole.h5" "$work/at_stop.h5" "$work/stopped.h5" "$(( group > 0 ? group : 1 ))"
echo "checkpoint resume end to end (group of $group; 0 = local mode): ok"
