#!/usr/bin/env bash
# stop.sh: stops the two-node cluster that start.sh started and removes what it made: its jobs,
# the daemons (by their pid files), every other process left in its namespaces (slurmstepd,
# ranks; found by namespace, killed by pid), then the namespace holders, which takes the
# namespaces, the bridge and the veth pairs with them; and, unless ABLATE_CLUSTER_KEEP=1, the
# state directory. Safe to run twice, and on a half-started cluster.
set -uo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
source "$here/common.sh"

if [[ ! -d $cluster_state_dir ]]; then
  cluster_say "nothing to stop ($cluster_state_dir does not exist)"
  exit 0
fi

# Jobs first, while slurmctld can still clean up after them.
if [[ -s $cluster_state_dir/slurm.conf ]] && cluster_holder "$cluster_head" >/dev/null; then
  timeout 20 "$here/on.sh" "$cluster_head" scancel --full --quiet --signal=KILL \
    --partition="$cluster_partition" >/dev/null 2>&1 || true
fi

# stop_daemon PIDFILE NAME: TERM, then KILL after 10 s; only if the pid is still that daemon.
stop_daemon() {
  local pid
  [[ -s $1 ]] || return 0
  pid=$(<"$1")
  if ! cluster_pid_alive "$1" "$2"; then
    rm -f "$1"
    return 0
  fi
  kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 100); do
    cluster_running "$pid" || break
    sleep 0.1
  done
  if cluster_running "$pid"; then
    cluster_say "$2 (pid $pid) ignored TERM; killing it"
    kill -KILL "$pid" 2>/dev/null || true
  fi
  rm -f "$1"
  cluster_say "stopped $2 (pid $pid)"
}
for node in "${cluster_nodes[@]}"; do stop_daemon "$cluster_state_dir/slurmd-$node.pid" slurmd; done
stop_daemon "$cluster_state_dir/slurmctld.pid" slurmctld
stop_daemon "$cluster_state_dir/munge/munged.pid" munged

# Whatever else runs in the cluster's namespaces was started by it; then the holders.
for node in "$cluster_head" "${cluster_nodes[@]}"; do
  for pid in $(cluster_processes_in "$node"); do kill -KILL "$pid" 2>/dev/null || true; done
  if holder=$(cluster_holder "$node"); then
    kill -KILL "$holder" 2>/dev/null || true
    cluster_say "removed node $node (holder pid $holder)"
  fi
done
for node in "$cluster_head" "${cluster_nodes[@]}"; do
  if holder=$(cluster_holder "$node"); then
    for _ in $(seq 50); do
      cluster_running "$holder" || break
      sleep 0.1
    done
  fi
done

if [[ ${ABLATE_CLUSTER_KEEP:-0} != 1 ]]; then
  rm -rf "$cluster_state_dir"
fi
exit 0
