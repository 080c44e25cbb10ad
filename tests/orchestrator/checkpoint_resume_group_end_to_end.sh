#!/usr/bin/env bash
# A point trained by a data-parallel group (mpirun -np 3 --ranks-per-point 2)
# and stopped by SIGTERM in the middle goes on from its per-rank checkpoints
# when the sweep is rerun, and ends exactly as an uninterrupted group run ends.
# Usage: checkpoint_resume_group_end_to_end.sh ABLATE SWEEP PYTHON CHECKER MPIEXEC [launcher flags...]
set -euo pipefail
ablate=$1 sweep=$2 python=$3 checker=$4 mpiexec=$5
shift 5
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
flags=(--threads 1 --device cpu --progress lines --ranks-per-point 2)

"$mpiexec" -np 3 "$@" "$ablate" run "$sweep" "${flags[@]}" -o "$work/whole.h5" > "$work/whole.log" 2>&1

# Stop once epoch 2 is reported; mpirun passes SIGTERM on, rank 0 stops the
# group at the end of the epoch in progress.
"$mpiexec" -np 3 "$@" "$ablate" run "$sweep" "${flags[@]}" -o "$work/stopped.h5" > "$work/stopped.log" 2>&1 &
pid=$!
for _ in $(seq 1200); do
  grep -q ' 2/8:' "$work/stopped.log" && break
  sleep 0.05
done
kill -TERM "$pid"
status=0
wait "$pid" || status=$?
# mpirun reports its own status (1), not ablate's 4: the log says what happened.
if [ "$status" -eq 0 ] || ! grep -q '^incomplete' "$work/stopped.log"; then
  echo "the stopped run exited with $status and did not say it was incomplete:"; cat "$work/stopped.log"; exit 1
fi
for rank in 0 1; do
  ls "$work/stopped.h5.checkpoints/"*.pt.rank$rank > /dev/null || {
    echo "no checkpoint of group rank $rank was left:"; ls -la "$work/stopped.h5.checkpoints" || true; exit 1; }
done
cp "$work/stopped.h5" "$work/at_stop.h5"

"$mpiexec" -np 3 "$@" "$ablate" run "$sweep" "${flags[@]}" -o "$work/stopped.h5" > "$work/resumed.log" 2>&1
if grep -q 'ignoring the checkpoint' "$work/resumed.log"; then
  echo "a rank ignored its checkpoint:"; cat "$work/resumed.log"; exit 1
fi
if [ -e "$work/stopped.h5.checkpoints" ]; then
  echo "the per-rank checkpoints outlived the finished sweep:"; ls -la "$work/stopped.h5.checkpoints"; exit 1
fi
"$python" "$checker" "$work/whole.h5" "$work/at_stop.h5" "$work/stopped.h5"
echo "group checkpoint resume end to end: ok"
