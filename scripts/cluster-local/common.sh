# shellcheck shell=bash disable=SC2034  # sourced: the variables are used by the scripts that source it
# common.sh: what start.sh, stop.sh, on.sh and node.sh share (sourced, not run): the state
# directory, the node names and addresses, and how a node's namespaces are found again.
#
# A node is a long-lived holder process (`sleep infinity`) in its own network, UTS (hostname)
# and mount namespaces; everything "on" the node runs in those namespaces, entered with
# nsenter. The holder's pid and its network namespace's inode are kept in STATE/ns/NAME.pid and
# STATE/ns/NAME.net, so a recycled pid is never taken for the node.

cluster_state_dir=${ABLATE_CLUSTER_DIR:-/tmp/ablate-cluster}
cluster_ctld_port=${ABLATE_CLUSTER_CTLD_PORT:-26817}
cluster_slurmd_port=${ABLATE_CLUSTER_SLURMD_PORT:-26818}
# A /24 of private addresses: the head (slurmctld, munge, the bridge) is .1, node k is .(10+k).
cluster_subnet=${ABLATE_CLUSTER_SUBNET:-10.217.0}
cluster_partition=cluster
cluster_head=ablate-head
cluster_nodes=(ablate-node1 ablate-node2)

export PATH=$PATH:/usr/sbin:/sbin  # slurmctld, slurmd, munged, ip

cluster_say() { echo "cluster-local: $*" >&2; }

# cluster_address NAME: the node's address on the bridge.
cluster_address() {
  case $1 in
    "$cluster_head") echo "$cluster_subnet.1" ;;
    ablate-node*) echo "$cluster_subnet.$((10 + ${1#ablate-node}))" ;;
    *) return 1 ;;
  esac
}

# cluster_holder NAME: prints the pid of the node's holder when it is alive and still holds the
# namespace it was started with; fails otherwise.
cluster_holder() {
  local pid_file=$cluster_state_dir/ns/$1.pid net_file=$cluster_state_dir/ns/$1.net pid
  [[ -s $pid_file && -s $net_file ]] || return 1
  pid=$(<"$pid_file")
  [[ $pid =~ ^[0-9]+$ ]] || return 1
  [[ $(readlink "/proc/$pid/ns/net" 2>/dev/null) == "$(<"$net_file")" ]] || return 1
  echo "$pid"
}

# cluster_processes_in NAME: pids of every process in the node's network namespace but its holder.
cluster_processes_in() {
  local net_file=$cluster_state_dir/ns/$1.net holder proc net
  [[ -s $net_file ]] || return 0
  net=$(<"$net_file")
  holder=$(cluster_holder "$1") || holder=
  for proc in /proc/[0-9]*; do
    [[ ${proc#/proc/} == "$holder" ]] && continue
    [[ $(readlink "$proc/ns/net" 2>/dev/null) == "$net" ]] && echo "${proc#/proc/}"
  done
  return 0
}

# cluster_running PID: the process exists and is not a zombie (ended, not yet reaped: a
# container's init may take its time).
cluster_running() {
  local state
  state=$(sed -n 's/^State:[[:space:]]*\([A-Z]\).*/\1/p' "/proc/$1/status" 2>/dev/null) || return 1
  [[ -n $state && $state != Z ]]
}

# cluster_pid_alive PIDFILE NAME: the pid file's process is alive and is that program.
cluster_pid_alive() {
  local pid
  [[ -s $1 ]] || return 1
  pid=$(<"$1")
  [[ $pid =~ ^[0-9]+$ ]] && [[ -r /proc/$pid/comm ]] && [[ $(</proc/"$pid"/comm) == "$2" ]] && cluster_running "$pid"
}
