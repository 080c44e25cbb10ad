#!/usr/bin/env bash
# on.sh NODE COMMAND [ARGS...]: runs COMMAND on a node of the local two-node cluster (see
# start.sh): in that node's network, hostname and mount namespaces, in the current directory,
# with SLURM_CONF pointing at the cluster's configuration. NODE is ablate-head (slurmctld; the
# place to run sbatch, squeue, scontrol), ablate-node1 or ablate-node2.
# Example: scripts/cluster-local/on.sh ablate-head sinfo
# Exit codes: COMMAND's, or 2 when the node is not running.
set -uo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

if (($# < 2)); then
  echo "usage: $0 NODE COMMAND [ARGS...]   (NODE: $cluster_head ${cluster_nodes[*]})" >&2
  exit 2
fi
node=$1
shift
if ! holder=$(cluster_holder "$node"); then
  cluster_say "node '$node' is not running (state in $cluster_state_dir); start it with $(dirname "$0")/start.sh"
  exit 2
fi
export SLURM_CONF=$cluster_state_dir/slurm.conf
exec nsenter --target "$holder" --net --uts --mount --wd="$PWD" -- "$@"
