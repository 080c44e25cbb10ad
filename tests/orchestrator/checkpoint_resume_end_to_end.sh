#!/usr/bin/env bash
# A point stopped by SIGTERM in the middle goes on from its checkpoint when the
# sweep is rerun, and ends exactly as an uninterrupted run of it ends.
# Usage: checkpoint_resume_end_to_end.sh ABLATE SWEEP PYTHON CHECKER
set -euo pipefail
ablate=$1 sweep=$2 python=$3 checker=$4
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
run() { "$ablate" run "$sweep" --threads 1 --progress lines "$@"; }

run -o "$work/whole.h5" > "$work/whole.log"

# Stop the run once epoch 2 is reported; it stops at the end of the epoch in progress.
# ablate itself in the background (not the run function: its subshell would get the signal).
"$ablate" run "$sweep" --threads 1 --progress lines -o "$work/stopped.h5" > "$work/stopped.log" 2>&1 &
pid=$!
for _ in $(seq 600); do
  grep -q ' 2/8:' "$work/stopped.log" && break
  sleep 0.05
done
kill -TERM "$pid"
status=0
wait "$pid" || status=$?
if [ "$status" -ne 4 ]; then
  echo "the stopped run exited with $status, expected 4 (incomplete):"; cat "$work/stopped.log"; exit 1
fi
ls "$work/stopped.h5.checkpoints/"*.pt > /dev/null || {
  echo "no checkpoint was left for the unfinished point:"; ls -la "$work"; exit 1; }
cp "$work/stopped.h5" "$work/at_stop.h5"

run -o "$work/stopped.h5" > "$work/resumed.log"
if [ -e "$work/stopped.h5.checkpoints" ]; then
  echo "the checkpoint directory outlived the finished sweep:"; ls -la "$work/stopped.h5.checkpoints"; exit 1
fi
"$python" "$checker" "$work/whole.h5" "$work/at_stop.h5" "$work/stopped.h5"
echo "checkpoint resume end to end: ok"
