#!/usr/bin/env bash
# node.sh down NODE | up NODE: loses a node of the local two-node cluster, or brings it back.
#   down: SIGKILL to every process on the node (its slurmd, the slurmstepds, the job's ranks),
#         found by its network namespace, by pid: what a power cut leaves. The namespaces stay,
#         so slurmctld sees a node that stopped answering (DOWN after SlurmdTimeout).
#   up:   boots the node afresh: empties its spool and TmpFS directories (the killed
#         slurmstepds left sockets and PMIx directories named by job and step there, which a
#         requeued job's step, same names, then fails to create: "File exists") and starts its
#         slurmd; it registers and Slurm returns the node to service.
# Exit codes: 0 done, 1 failed, 2 usage or the cluster is not running.
set -uo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
source "$here/common.sh"

if (($# != 2)) || [[ $1 != down && $1 != up ]] || [[ " ${cluster_nodes[*]} " != *" $2 "* ]]; then
  echo "usage: $0 down|up NODE   (NODE: ${cluster_nodes[*]})" >&2
  exit 2
fi
action=$1 node=$2
cluster_holder "$node" >/dev/null || { cluster_say "node $node is not running; start the cluster first"; exit 2; }

if [[ $action == down ]]; then
  # Twice: a process forked between the listing and the kill is caught by the second pass.
  killed=0
  for _ in 1 2; do
    for pid in $(cluster_processes_in "$node"); do
      kill -KILL "$pid" 2>/dev/null && ((killed++))
    done
    sleep 0.2
  done
  rm -f "$cluster_state_dir/slurmd-$node.pid"
  cluster_say "node $node is down: killed $killed processes"
  exit 0
fi

if cluster_pid_alive "$cluster_state_dir/slurmd-$node.pid" slurmd; then
  cluster_say "slurmd already runs on $node"
  exit 0
fi
rm -rf "${cluster_state_dir:?}/tmp/$node" "${cluster_state_dir:?}/spool/$node"
mkdir -p "$cluster_state_dir/tmp/$node" "$cluster_state_dir/spool/$node"
"$here/on.sh" "$node" slurmd -f "$cluster_state_dir/slurm.conf" -N "$node" ||
  { cluster_say "slurmd did not start on $node; see $cluster_state_dir/slurmd-$node.log"; exit 1; }
cluster_say "slurmd runs again on $node"
