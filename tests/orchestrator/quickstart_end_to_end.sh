#!/usr/bin/env bash
# The README's quickstart study, end to end on the real data: ablate run, then a
# rerun that must resume with nothing to do, then ablate status and h5dump.
set -euo pipefail
ablate=$1 sweep=$2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
"$ablate" run "$sweep" -o "$work/quickstart.h5" --progress lines
"$ablate" run "$sweep" -o "$work/quickstart.h5" --progress lines | tee "$work/rerun.log"
grep -q "3 done, 0 failed, 0 unfinished of 3 points (0 trained" "$work/rerun.log" || {
  echo "the rerun did not find the finished sweep:"; cat "$work/rerun.log"; exit 1; }
"$ablate" status "$work/quickstart.h5" | tee "$work/status.log"
grep -q "done" "$work/status.log"
h5dump -H "$work/quickstart.h5" > /dev/null
echo "quickstart end to end: ok"
