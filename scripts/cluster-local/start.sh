#!/usr/bin/env bash
# start.sh: starts a real two-node Slurm cluster on this one machine, for tests.
#
# Three "machines", each a holder process in its own network, UTS (hostname) and mount
# namespaces: ablate-head (munged, slurmctld and the bridge br0) and ablate-node1 and
# ablate-node2 (one slurmd each), joined by veth pairs to the bridge on a private /24 (default
# 10.217.0.0/24, ABLATE_CLUSTER_SUBNET). Each sees its own /etc/hosts naming the three. No link,
# address or listening socket is added to the machine's own network namespace: the cluster's
# traffic stays on the bridge, the veth pairs and the namespaces' loopbacks, and it cannot
# clash with scripts/slurm-local (or any Slurm) on this host. It has its own cluster name
# (ablate-cluster), state directory (default /tmp/ablate-cluster, ABLATE_CLUSTER_DIR), munge key
# and socket, and ports. The file system is shared, as on a cluster with a shared home.
#
# Commands run on a node through on.sh (sbatch, squeue and scontrol on ablate-head); Open MPI
# outside Slurm starts ranks on the other node through rsh.sh (env.sh sets it as the rsh agent);
# inside a job, srun and mpirun start ranks on both nodes through the slurmds. node.sh kills
# everything on a node (a node lost) and brings it back.
#
# Needs root, unshare/nsenter/ip (util-linux, iproute2), veth and bridge support, and Debian's
# slurmctld, slurmd, slurm-client and munge. Installs nothing.
#
# Usage:  scripts/cluster-local/start.sh            # prints the line to source when ready
#         source /tmp/ablate-cluster/env.sh         # SLURM_CONF, the Open MPI rsh agent
#         scripts/cluster-local/on.sh ablate-head sinfo
#         scripts/cluster-local/stop.sh
# Exit codes: 0 started (or already running), 1 failed (logs named), 2 cannot run here (not
# root, a missing package, namespaces or veth/bridge links not allowed).
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
source "$here/common.sh"
start_timeout_s=${ABLATE_CLUSTER_START_TIMEOUT:-60}

die() { cluster_say "error: $*"; exit 1; }
cannot_run() { cluster_say "cannot run here: $*"; exit 2; }

[[ $(id -u) -eq 0 ]] || cannot_run "must run as root (it makes namespaces and network links, and runs slurmd); re-run with sudo"
missing=()
for tool in munged slurmctld slurmd sinfo sbatch scontrol unshare nsenter ip; do
  command -v "$tool" >/dev/null 2>&1 || missing+=("$tool")
done
((${#missing[@]} == 0)) ||
  cannot_run "missing ${missing[*]}; install: apt-get install slurmctld slurmd slurm-client munge util-linux iproute2"

mkdir -p "$cluster_state_dir"
cluster_state_dir=$(cd "$cluster_state_dir" && pwd -P)
conf=$cluster_state_dir/slurm.conf
munge_dir=$cluster_state_dir/munge
munge_socket=$munge_dir/munge.socket
export SLURM_CONF=$conf

running() {
  local node
  cluster_holder "$cluster_head" >/dev/null || return 1
  cluster_pid_alive "$munge_dir/munged.pid" munged || return 1
  cluster_pid_alive "$cluster_state_dir/slurmctld.pid" slurmctld || return 1
  for node in "${cluster_nodes[@]}"; do
    cluster_holder "$node" >/dev/null || return 1
    cluster_pid_alive "$cluster_state_dir/slurmd-$node.pid" slurmd || return 1
  done
}
if running; then
  cluster_say "already running (state in $cluster_state_dir)"
  echo "source $cluster_state_dir/env.sh"
  exit 0
fi
# A half-started or crashed previous instance: stop what is left of it, then start afresh.
"$here/stop.sh" >/dev/null 2>&1 || true
mkdir -p "$cluster_state_dir/ns" "$munge_dir" "$cluster_state_dir/state" "$cluster_state_dir/spool"
chmod 0700 "$munge_dir"

# One hosts file for every node: the names resolve the same everywhere, as on a cluster.
{
  echo "127.0.0.1 localhost"
  echo "$(cluster_address "$cluster_head") $cluster_head"
  for node in "${cluster_nodes[@]}"; do echo "$(cluster_address "$node") $node"; done
} >"$cluster_state_dir/hosts"

# start_holder NAME: a process in new network, UTS and mount namespaces that only holds them;
# it names the host, shows it the cluster's hosts file and brings its loopback up. Detached
# (setsid, no inherited output), so that no caller waits on its pipes.
start_holder() {
  local name=$1 pid_file=$cluster_state_dir/ns/$1.pid pid
  rm -f "$pid_file"
  setsid unshare --net --uts --mount --propagation slave -- /bin/bash -c '
    set -e
    mount --bind "$2" /etc/hosts
    hostname "$3"
    ip link set lo up
    echo $$ >"$1"
    exec sleep infinity' holder "$pid_file" "$cluster_state_dir/hosts" "$name" \
    </dev/null >"$cluster_state_dir/ns/$name.log" 2>&1 &
  for _ in $(seq 100); do
    [[ -s $pid_file ]] && break
    sleep 0.05
  done
  if [[ ! -s $pid_file ]]; then
    cluster_say "could not make the namespaces of $name: $(tr '\n' ' ' <"$cluster_state_dir/ns/$name.log")"
    "$here/stop.sh" >/dev/null 2>&1 || true
    exit 2
  fi
  pid=$(<"$pid_file")
  readlink "/proc/$pid/ns/net" >"$cluster_state_dir/ns/$name.net"
}
in_ns() {  # in_ns NAME COMMAND...: COMMAND in the node's namespaces
  local holder
  holder=$(cluster_holder "$1") || die "the holder of $1 died; see $cluster_state_dir/ns/$1.log"
  shift
  nsenter --target "$holder" --net --uts --mount -- "$@"
}

start_holder "$cluster_head"
for node in "${cluster_nodes[@]}"; do start_holder "$node"; done

# The network: a bridge in the head's namespace, and per node a veth pair made there with its
# other end moved straight into the node (it never appears in this host's namespace).
links_failed() {
  cluster_say "cannot make the cluster's network links ($1): this kernel or container does not allow veth or bridge links"
  "$here/stop.sh" >/dev/null 2>&1 || true
  exit 2
}
head_address=$(cluster_address "$cluster_head")
in_ns "$cluster_head" ip link add br0 type bridge 2>/dev/null || links_failed "bridge"
in_ns "$cluster_head" ip addr add "$head_address/24" dev br0
in_ns "$cluster_head" ip link set br0 up
for node in "${cluster_nodes[@]}"; do
  holder=$(cluster_holder "$node")
  in_ns "$cluster_head" ip link add "$node" type veth peer name eth0 netns "$holder" 2>/dev/null || links_failed "veth"
  in_ns "$cluster_head" ip link set "$node" master br0 up
  in_ns "$node" ip addr add "$(cluster_address "$node")/24" dev eth0
  in_ns "$node" ip link set eth0 up
done

# munge: a private key and socket (a socket file, which every namespace reaches through the
# shared file system); the daemon refuses a key readable by others.
if command -v mungekey >/dev/null 2>&1; then
  mungekey --create --keyfile="$munge_dir/munge.key" --force
else
  dd if=/dev/urandom of="$munge_dir/munge.key" bs=1024 count=1 status=none
fi
chmod 0400 "$munge_dir/munge.key"
in_ns "$cluster_head" munged --force --socket="$munge_socket" --key-file="$munge_dir/munge.key" \
  --pid-file="$munge_dir/munged.pid" --log-file="$munge_dir/munged.log" --seed-file="$munge_dir/munged.seed" ||
  die "munged did not start; see $munge_dir/munged.log"

mpi_default=none
if [[ -n $(find /usr/lib/x86_64-linux-gnu/slurm-wlm /usr/lib/slurm-wlm /usr/lib64/slurm \
  -name 'mpi_pmix*.so' 2>/dev/null | head -n 1) ]]; then
  mpi_default=pmix
fi

node_lines=
for node in "${cluster_nodes[@]}"; do
  node_lines+="NodeName=$node NodeAddr=$(cluster_address "$node") CPUs=4 Boards=1 SocketsPerBoard=1 CoresPerSocket=4 ThreadsPerCore=1 RealMemory=2000 State=UNKNOWN"$'\n'
done
first=${cluster_nodes[0]}
last=${cluster_nodes[-1]}
cat >"$conf" <<CONF
# Generated by scripts/cluster-local/start.sh: a private two-node Slurm for ablate's tests.
ClusterName=ablate-cluster
SlurmctldHost=$cluster_head($head_address)
SlurmctldPort=$cluster_ctld_port
SlurmdPort=$cluster_slurmd_port
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$munge_socket
StateSaveLocation=$cluster_state_dir/state
# Both slurmds read this file: what is per node carries the node's name (%n).
SlurmdSpoolDir=$cluster_state_dir/spool/%n
SlurmctldPidFile=$cluster_state_dir/slurmctld.pid
SlurmdPidFile=$cluster_state_dir/slurmd-%n.pid
SlurmctldLogFile=$cluster_state_dir/slurmctld.log
SlurmdLogFile=$cluster_state_dir/slurmd-%n.log
# Slurm's PMIx makes per-job directories under TmpFS, named by job and step only: the two
# nodes, which share /tmp, would take each other's (and a one-node test Slurm's) directories.
TmpFS=$cluster_state_dir/tmp/%n
SlurmctldDebug=info
SlurmdDebug=info
# No cgroups: this may run in a container without a writable cgroup tree.
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
SwitchType=switch/none
MpiDefault=$mpi_default
SchedulerType=sched/builtin
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
# The two nodes share this machine's cores: each is declared with 4 CPUs, whatever the
# machine has, so that jobs of a few ranks per node fit on a small CI machine.
SlurmdParameters=config_overrides
# Tests requeue jobs, lose a node and read jobs' states back after they end: a node that
# stops answering is DOWN after SlurmdTimeout, its jobs are requeued, and it comes back
# by itself once its slurmd registers again.
JobRequeue=1
MinJobAge=600
ReturnToService=2
KillWait=10
InactiveLimit=0
SlurmctldTimeout=30
SlurmdTimeout=10
MessageTimeout=5
${node_lines}PartitionName=$cluster_partition Nodes=$first,$last Default=YES MaxTime=INFINITE State=UP OverSubscribe=NO
CONF

# -c: a clean start, no jobs from an earlier instance's saved state.
in_ns "$cluster_head" slurmctld -c -f "$conf" || die "slurmctld did not start; see $cluster_state_dir/slurmctld.log"
for node in "${cluster_nodes[@]}"; do
  mkdir -p "$cluster_state_dir/spool/$node" "$cluster_state_dir/tmp/$node"
  in_ns "$node" slurmd -f "$conf" -N "$node" || die "slurmd did not start on $node; see $cluster_state_dir/slurmd-$node.log"
done

cat >"$cluster_state_dir/env.sh" <<ENV
# Source this to use the two-node cluster started by scripts/cluster-local/start.sh. Slurm's
# commands reach slurmctld only from a node: run them through $here/on.sh.
export SLURM_CONF='$conf'
export ABLATE_CLUSTER_DIR='$cluster_state_dir'
# Open MPI outside Slurm (mpirun --host ablate-node1,ablate-node2) starts remote ranks with this.
export OMPI_MCA_plm_rsh_agent='$here/rsh.sh'
ENV

nodes_idle() {
  local states
  states=$(in_ns "$cluster_head" sinfo --noheader --node="$first,$last" --format='%n %T' 2>/dev/null || true)
  [[ $(grep -c ' idle$' <<<"$states") -eq ${#cluster_nodes[@]} ]]
}
deadline=$((SECONDS + start_timeout_s))
until nodes_idle; do
  if ((SECONDS >= deadline)); then
    cluster_say "the nodes are not idle after ${start_timeout_s}s:" \
      "$(in_ns "$cluster_head" sinfo --noheader --Node --format='%n %T %E' 2>&1 | tr '\n' ';');" \
      "see $cluster_state_dir/slurmctld.log and $cluster_state_dir/slurmd-*.log"
    ABLATE_CLUSTER_KEEP=1 "$here/stop.sh" >/dev/null 2>&1 || true
    exit 1
  fi
  sleep 0.5
done
cluster_say "the cluster is up: ${cluster_nodes[*]} idle in partition $cluster_partition," \
  "slurmctld on $cluster_head ($head_address:$cluster_ctld_port), state in $cluster_state_dir"
echo "source $cluster_state_dir/env.sh"
