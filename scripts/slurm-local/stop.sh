#!/usr/bin/env bash
# stop.sh: stops the private Slurm that start.sh started (by its pid files only) and, unless
# ABLATE_SLURM_KEEP=1, removes its state directory.
set -uo pipefail

state_dir=${ABLATE_SLURM_DIR:-/tmp/ablate-slurm}
say() { echo "slurm-local: $*" >&2; }

if [[ ! -d $state_dir ]]; then
  say "nothing to stop ($state_dir does not exist)"
  exit 0
fi
if [[ -s $state_dir/slurm.conf ]]; then
  export SLURM_CONF=$state_dir/slurm.conf
  # Jobs first, while slurmctld can still clean up after them.
  scancel --full --quiet --signal=KILL --partition="${ABLATE_SLURM_PARTITION:-debug}" >/dev/null 2>&1 || true
fi

# stop_daemon PIDFILE NAME: TERM, then KILL after 10 s; only if the pid is still that daemon.
stop_daemon() {
  local pid
  [[ -s $1 ]] || return 0
  pid=$(<"$1")
  if [[ ! $pid =~ ^[0-9]+$ ]] || [[ ! -r /proc/$pid/comm ]] || [[ $(</proc/"$pid"/comm) != "$2" ]]; then
    rm -f "$1"
    return 0
  fi
  kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 100); do
    [[ -d /proc/$pid ]] || break
    sleep 0.1
  done
  if [[ -d /proc/$pid ]]; then
    say "$2 (pid $pid) ignored TERM; killing it"
    kill -KILL "$pid" 2>/dev/null || true
  fi
  rm -f "$1"
  say "stopped $2 (pid $pid)"
}

stop_daemon "$state_dir/slurmd.pid" slurmd
stop_daemon "$state_dir/slurmctld.pid" slurmctld
stop_daemon "$state_dir/munge/munged.pid" munged

# slurmstepd processes of our jobs outlive slurmd when a job was still running; they carry
# our spool directory on their command line, which no other Slurm's have.
for proc in /proc/[0-9]*; do
  [[ -r $proc/comm && $(<"$proc"/comm) == slurmstepd ]] || continue
  if tr '\0' '\n' <"$proc/environ" 2>/dev/null | grep -qxF "SLURM_CONF=$state_dir/slurm.conf"; then
    kill -KILL "${proc#/proc/}" 2>/dev/null || true
  fi
done

if [[ ${ABLATE_SLURM_KEEP:-0} != 1 ]]; then
  rm -rf "$state_dir"
fi
exit 0
