#!/usr/bin/env bash
# fake_ablate.sh: stands in for `ablate run SWEEP -o RESULTS` in the live Slurm tests, so the
# job script's signal, requeue and resume logic is tested without torch. SWEEP lists one point
# name a line; RESULTS gets "done NAME" per finished point (a point in progress when TERM comes
# is dropped, as ablate leaves it pending); RESULTS.runs logs each start and stop.
# Exit codes as ablate's: 0 every point done, 4 stopped by TERM before the end.
set -u
if [[ ${1:-} != run || ${3:-} != -o || $# -lt 4 ]]; then
  echo "fake ablate: usage: fake_ablate.sh run SWEEP -o RESULTS [--point-seconds S]" >&2
  exit 2
fi
sweep=$2
results=$4
shift 4
point_seconds=1
while (($#)); do
  case $1 in
    --point-seconds) point_seconds=$2; shift 2 ;;
    *) echo "fake ablate: unknown option $1" >&2; exit 2 ;;
  esac
done

stop=0
trap 'stop=1' TERM
touch "$results"
echo "start restart=${SLURM_RESTART_COUNT:-0}" >>"$results.runs"
while IFS= read -r point; do
  [[ -z $point ]] && continue
  grep -qxF "done $point" "$results" && continue
  # "Train" in small steps, so that TERM is answered within a tenth of a second.
  for ((step = 0; step < point_seconds * 10; step++)); do
    if ((stop)); then
      echo "stopped" >>"$results.runs"
      exit 4
    fi
    sleep 0.1
  done
  echo "done $point" >>"$results"
done <"$sweep"
echo "complete" >>"$results.runs"
exit 0
