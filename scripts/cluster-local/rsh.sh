#!/usr/bin/env bash
# rsh.sh HOST WORDS...: Open MPI's remote-shell agent for the local two-node cluster
# (OMPI_MCA_plm_rsh_agent, set by the cluster's env.sh): runs the command line Open MPI would
# give ssh, `sh -c "WORDS..."`, on HOST (a node name of start.sh). Inside a Slurm job Open MPI
# starts its daemons with srun instead, and this is not used.
set -uo pipefail
host=$1
shift
exec "$(dirname "${BASH_SOURCE[0]}")/on.sh" "$host" /bin/sh -c "$*"
