#!/usr/bin/env bash
# test_cluster_live.sh: ablate on a real two-node Slurm cluster made on this machine by
# scripts/cluster-local (two network/UTS namespaces, a bridge, a slurmd in each), started for
# the test and stopped after. Checks, each printed as ok/FAILED:
#   0. the cluster itself: two nodes with their own hostnames and addresses, nothing added to
#      this machine's network, srun and mpirun (Open MPI's rsh agent) start ranks on both;
#      stop.sh leaves nothing behind and is safe twice (at the end);
#   1. `ablate slurm --nodes 2 --submit` with srun, then with mpirun, as the launcher: the ranks
#      run on both nodes (seen from outside: each rank's network namespace; and rank 0's log
#      line "ranks by host", from each rank's own hostname, agrees), points were trained on both
#      (each point records its host), every point is done once, and the results equal a one-node
#      run's bit for bit;
#   2. `--ranks-per-point 2` with the group's two ranks on different nodes: data-parallel
#      training over MPI across the bridge, equal to the one-node run to rounding;
#   3. node loss: everything on a node (slurmd, slurmstepd, ranks) is killed mid-sweep, first
#      ablate-node2 (two workers), then ablate-node1 (the batch script, rank 0 and a worker);
#      the job ends or is requeued by Slurm; the rerun (the requeued job, once the node is back)
#      completes every point once, equal to a one-node run, and the points that were training
#      on the lost node go on from the checkpoints they left on the shared results path.
# The trainings are tiny (tests/cluster/make_tiny_data.py writes the data; no data set needed).
# Needs a Python with h5py, numpy and torch (the venv; torch reads the checkpoints).
# Exit codes: 0 all passed, 1 a check failed, 77 skipped (not root, Slurm or munge missing,
# namespaces or veth/bridge links not allowed here).
#
# Usage: test_cluster_live.sh --ablate PATH [--python PATH] [--require-ablate]
#   --ablate          the real ablate (with `run`); $ABLATE_BIN wins over it
#   --python          a Python with h5py, numpy and torch (default: .venv/bin/python of the source tree)
#   --require-ablate  fail, not skip parts 1-3, when the ablate has no `run` (the torch build)
set -uo pipefail

# One brace group, read whole before it runs: editing this file cannot change a running test.
{

source_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cluster_scripts=$source_dir/scripts/cluster-local
here=$source_dir/tests/cluster
ablate=
python=$source_dir/.venv/bin/python
require_ablate=0
while (($#)); do
  case $1 in
    --ablate) ablate=$2; shift 2 ;;
    --python) python=$2; shift 2 ;;
    --require-ablate) require_ablate=1; shift ;;
    *) echo "usage: $0 --ablate PATH [--python PATH] [--require-ablate]" >&2; exit 2 ;;
  esac
done
ablate=${ABLATE_BIN:-$ablate}
[[ -n $ablate && -e $ablate ]] && ablate=$(realpath "$ablate")
source "$cluster_scripts/common.sh"  # cluster_running

export PATH=$PATH:/usr/sbin:/sbin
skip() {
  echo "SKIPPED: two-node cluster tests: $*"
  exit 77
}
[[ $(id -u) -eq 0 ]] || skip "they need root (they make namespaces and links, and start slurmd); CI runs them as root"

work=$(mktemp -d /tmp/ablate-cluster-live.XXXXXX)
chmod 0755 "$work"
export ABLATE_CLUSTER_DIR=$work/cluster
# mpirun refuses root without these; sbatch passes the environment on to the job.
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
unset SLURM_JOB_ID SLURM_CONF  # not a job of some other Slurm
cleanup() {
  "$cluster_scripts/stop.sh" >/dev/null 2>&1
  if [[ ${ABLATE_CLUSTER_KEEP:-0} == 1 ]]; then echo "kept $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT

links_before=$(ip -o link show | awk -F': ' '{print $2}' | sort)
"$cluster_scripts/start.sh" >"$work/start.log" 2>&1
status=$?
if ((status == 2)); then
  skip "$(tail -n 1 "$work/start.log")"
elif ((status != 0)); then
  echo "FAILED: could not start the two-node cluster:"
  sed 's/^/  | /' "$work/start.log"
  tail -n 20 "$ABLATE_CLUSTER_DIR"/*.log 2>/dev/null
  exit 1
fi
on() { "$cluster_scripts/on.sh" "$@"; }
head_node=ablate-head node1=ablate-node1 node2=ablate-node2
cd "$work" || exit 1

passed=0
failed=0
failed_before=0
section() {
  echo "== $*"
  failed_before=$failed
}
section_failed() { ((failed > failed_before)); }
check() {  # check DESCRIPTION COMMAND...
  local what=$1
  shift
  if "$@"; then
    echo "ok: $what"
    ((passed++))
  else
    echo "FAILED: $what"
    ((failed++))
  fi
}
note() { echo "  $*"; }
wait_until() {  # wait_until SECONDS COMMAND...: polls COMMAND every half second; false on timeout
  local deadline=$((SECONDS + $1))
  shift
  until "$@"; do
    ((SECONDS < deadline)) || return 1
    sleep 0.5
  done
}
job_state() { on "$head_node" squeue --noheader --states=all --jobs="$1" --format=%T 2>/dev/null | head -n 1; }
job_field() {  # job_field JOB FIELD: FIELD=value from scontrol (values without spaces only)
  on "$head_node" scontrol --oneliner show job "$1" 2>/dev/null | tr ' ' '\n' | sed -n "s/^$2=//p" | head -n 1
}
job_ended() { [[ $(job_state "$1") =~ ^(COMPLETED|FAILED|CANCELLED|TIMEOUT|NODE_FAIL|OUT_OF_MEMORY|BOOT_FAIL|DEADLINE|PREEMPTED)$ ]]; }
job_requeued() { [[ $(job_state "$1") == PENDING && $(job_field "$1" Restarts) -ge 1 ]]; }
job_ended_or_requeued() { job_ended "$1" || job_requeued "$1"; }
node_state() { on "$head_node" sinfo --noheader --nodes="$1" --format=%T 2>/dev/null | head -n 1; }
node_idle() { [[ $(node_state "$1") == idle ]]; }
is_job_id() { [[ $1 =~ ^[0-9]+$ ]]; }
show_log() { note "log $1:"; sed 's/^/    | /' "$1" 2>/dev/null | tail -n 30; }
job_summary() {
  on "$head_node" scontrol --oneliner show job "$1" 2>&1 | tr ' ' '\n' |
    grep -E '^(JobState|Reason|Restarts|ExitCode|NodeList)=' | tr '\n' ' '
}

section "0. the cluster: two nodes of their own on a private bridge"
check "two hostnames" [ "$(on "$node1" hostname) $(on "$node2" hostname)" == "$node1 $node2" ]
check "each node has its address on the bridge" \
  on "$node2" sh -c "ip -o -4 addr show eth0 | grep -q ' ${ABLATE_CLUSTER_SUBNET:-10.217.0}.12/24 '"
check "nothing was added to this machine's network links" \
  [ "$(ip -o link show | awk -F': ' '{print $2}' | sort)" == "$links_before" ]
check "slurmctld listens in the head node's namespace, not this machine's" \
  on "$head_node" sh -c "ss -Hltn | grep -q ':${ABLATE_CLUSTER_CTLD_PORT:-26817} '"
check "... and not in this machine's" \
  [ -z "$(ss -Hltn "sport = :${ABLATE_CLUSTER_CTLD_PORT:-26817}" 2>/dev/null)" ]
check "both nodes idle in Slurm" [ "$(node_state "$node1") $(node_state "$node2")" == "idle idle" ]
srun_hosts=$(on "$head_node" timeout 60 srun --nodes 2 --ntasks-per-node 1 hostname 2>&1 | sort | tr '\n' ' ')
check "srun runs a task on each node (got: $srun_hosts)" [ "$srun_hosts" == "$node1 $node2 " ]
# The ranks' lines only: Open MPI may warn on stderr (seen: "plm:rsh: Warning: setpgid(...)
# failed ... Permission denied", when the started child has already exec'd); shown on failure.
# shellcheck source=/dev/null
mpi_hosts=$(source "$ABLATE_CLUSTER_DIR/env.sh" && on "$node1" timeout 60 mpirun --host "$node1,$node2" -np 2 \
  --oversubscribe sh -c 'echo "$(hostname) $OMPI_COMM_WORLD_RANK"' 2>"$work/mpirun-rsh.err" | sort | tr '\n' ' ')
check "mpirun outside Slurm starts a rank on the other node through rsh.sh (got: $mpi_hosts; stderr: \
$(tr '\n' ' ' < "$work/mpirun-rsh.err"))" [ "$mpi_hosts" == "$node1 0 $node2 1 " ]
check "start.sh again: already running, nothing restarted" \
  sh -c "'$cluster_scripts/start.sh' 2>&1 | grep -q 'already running'"

# `ablate X --help` exits 0 even for an unknown X, so commands are looked up in the help text.
has_command() { "$ablate" --help 2>/dev/null | sed -n '/^Subcommands:/,$p' | grep -qE "^  $1 "; }
if [[ -z $ablate || ! -x $ablate ]] || ! has_command run || ! has_command slurm; then
  if ((require_ablate)); then
    echo "FAILED (1-3): no ablate with 'run' and 'slurm' at '${ablate:-<none>}'"
    ((failed++))
  else
    echo "SKIPPED (1-3): no ablate with 'run' and 'slurm' at '${ablate:-<none>}' (build with ABLATE_WITH_TORCH=ON or set ABLATE_BIN)"
  fi
elif ! "$python" -c "import h5py, numpy, torch" 2>/dev/null; then
  echo "FAILED (1-3): '$python' cannot import h5py, numpy and torch (run scripts/setup.sh, or pass --python)"
  ((failed++))
else
  # One ablate for the whole test, even if the build directory's is rebuilt meanwhile (its
  # libraries are found by absolute RUNPATH): the references and the jobs must run the same.
  cp "$ablate" "$work/ablate"
  ablate=$work/ablate
  data=$work/data
  "$python" "$here/make_tiny_data.py" "$data"
  run_flags=(--data "$data" --threads 1 --device cpu --progress lines)
  # The one-node references: one process, one thread, as every rank below.
  for spec in two_nodes node_loss; do
    "$ablate" run "$here/$spec.toml" -o "$work/$spec-reference.h5" "${run_flags[@]}" >"$work/$spec-reference.log" 2>&1 ||
      { echo "FAILED: the one-node reference run of $spec.toml:"; show_log "$work/$spec-reference.log"; exit 1; }
  done

  # submit NAME SPEC [ablate slurm options...] [-- ablate run options...]: ablate slurm --submit
  # from the head node; sets job and results.
  submit() {
    local name=$1 spec=$2
    shift 2
    results=$work/$name.h5
    job=$(on "$head_node" "$ablate" slurm "$here/$spec.toml" -o "$results" --nodes 2 --time 00:15:00 "$@" 2>"$work/$name.submit.log")
    if ! is_job_id "$job"; then
      note "ablate slurm --submit printed '$job':"
      show_log "$work/$name.submit.log"
    fi
  }
  # watch_ranks N: records, in the background, which node each of the job's N ranks runs on.
  watch_ranks() {
    "$python" "$here/check_cluster.py" ranks "$ABLATE_CLUSTER_DIR" "$results" "$1" 180 "$results.ranks" \
      >"$results.ranks.log" 2>&1 &
    watcher=$!
  }
  ranks_on_both_nodes() {
    wait "$watcher" || { cat "$results.ranks.log"; return 1; }
    note "$(cat "$results.ranks.log")"
    grep -q " $node1\$" "$results.ranks" && grep -q " $node2\$" "$results.ranks"
  }
  node_of_rank() { sed -n "s/^$1 //p" "$results.ranks"; }

  for launcher in srun mpirun; do
    section "1. ablate slurm --nodes 2 --launcher $launcher --submit"
    submit "two-nodes-$launcher" two_nodes --tasks-per-node 2 --launcher "$launcher" --submit -- "${run_flags[@]}"
    check "ablate slurm --submit prints the job ID" is_job_id "$job"
    watch_ranks 4
    wait_until 300 job_ended "$job" || note "job $job did not end: $(job_summary "$job")"
    check "the job completed" [ "$(job_state "$job")" == COMPLETED ]
    check "its 4 ranks ran on both nodes" ranks_on_both_nodes
    check "rank 0's log names each rank's node as seen from outside" \
      "$python" "$here/check_cluster.py" ranklog "$results.slurm-$job.out" "$results.ranks"
    check "points were trained on both nodes (the host each point records)" \
      "$python" "$here/check_cluster.py" hosts "$results" "$node1" "$node2"
    check "4 points, each done exactly once" "$python" "$source_dir/tests/slurm/check_results.py" "$results" 4
    check "the results equal the one-node run's bit for bit" \
      "$python" "$here/check_cluster.py" same "$work/two_nodes-reference.h5" "$results"
    section_failed && show_log "$results.slurm-$job.out"
  done

  section "2. --ranks-per-point 2: one data-parallel group across the two nodes"
  # 3 tasks over 2 nodes, in blocks: ranks 0 and 1 on the first node, rank 2 on the second;
  # rank 0 schedules, ranks 1 and 2 train each point together.
  submit two-nodes-group two_nodes --tasks-per-node 2 --sbatch-line '#SBATCH --ntasks=3' --submit -- \
    "${run_flags[@]}" --ranks-per-point 2
  check "ablate slurm --submit prints the job ID" is_job_id "$job"
  watch_ranks 3
  wait_until 300 job_ended "$job" || note "job $job did not end: $(job_summary "$job")"
  check "the job completed" [ "$(job_state "$job")" == COMPLETED ]
  check "its 3 ranks ran on both nodes" ranks_on_both_nodes
  check "rank 0's log names each rank's node as seen from outside (group members included)" \
    "$python" "$here/check_cluster.py" ranklog "$results.slurm-$job.out" "$results.ranks"
  check "the group's ranks 1 and 2 ran on different nodes ($(node_of_rank 1), $(node_of_rank 2))" \
    [ -n "$(node_of_rank 1)" -a -n "$(node_of_rank 2)" -a "$(node_of_rank 1)" != "$(node_of_rank 2)" ]
  check "the log says it trains in groups of 2" grep -q "group of 2 ranks (data-parallel)" "$results.slurm-$job.out"
  check "4 points, each done exactly once" "$python" "$source_dir/tests/slurm/check_results.py" "$results" 4
  # Two ranks sum gradients in another order: the same model to rounding (as under mpirun -np 3
  # on one node, tests/orchestrator/mpi_same_results.sh), a prediction or two flipped.
  check "the results equal the one-node run's to rounding (0.004)" \
    "$python" "$here/check_cluster.py" same "$work/two_nodes-reference.h5" "$results" 0.004
  section_failed && show_log "$results.slurm-$job.out"

  # Each node in turn: ablate-node2 holds two workers; ablate-node1 the batch script, rank 0
  # (the results file's only writer) and a worker.
  for lost in "$node2" "$node1"; do
    section "3. node loss: everything on $lost killed mid-sweep, the rerun resumes"
    submit "node-loss-$lost" node_loss --tasks-per-node 2 --submit -- "${run_flags[@]}"
    check "ablate slurm --submit prints the job ID" is_job_id "$job"
    watch_ranks 4
    wait "$watcher" || note "not every rank was seen: $(cat "$results.ranks.log")"
    # Lose the node once a point training there has checkpointed two epochs on the shared path
    # and has six or more of its 16 left (time enough for the kill to find it still training).
    training_on_lost() {
      "$python" "$here/check_cluster.py" training "$results.slurm-$job.out" "$results.ranks" "$lost" 2 10 >/dev/null
    }
    if wait_until 240 training_on_lost; then
      "$cluster_scripts/node.sh" down "$lost" 2>&1 | sed 's/^/  /'
      lost_at=$SECONDS
      check "the job ends or Slurm requeues it after the node loss" wait_until 180 job_ended_or_requeued "$job"
      note "$((SECONDS - lost_at)) s after the loss: $(job_summary "$job"); nodes: $(node_state "$node1"), $(node_state "$node2")"
      # What the rerun starts from: the checkpoints on the shared path, and who trained what.
      cp -a "$results.checkpoints" "$work/at-loss-$lost.checkpoints" 2>/dev/null || mkdir -p "$work/at-loss-$lost.checkpoints"
      cp "$results.slurm-$job.out" "$work/at-loss-$lost.log"
      note "checkpoints on the shared path: $(ls "$work/at-loss-$lost.checkpoints" | tr '\n' ' ')"
      "$cluster_scripts/node.sh" up "$lost" 2>&1 | sed 's/^/  /'
      check "the node comes back to service" wait_until 60 node_idle "$lost"
      # slurmd refuses a credential issued in the second it revoked the last one: a new second.
      sleep 2
      if job_requeued "$job"; then
        note "Slurm requeued job $job: it runs again now (not after its two-minute hold)"
        on "$head_node" scontrol update JobId="$job" StartTime=now
      else
        note "job $job ended ($(job_state "$job")): resubmitting its script"
        job=$(on "$head_node" sbatch --parsable "$results.sbatch")
      fi
      wait_until 300 job_ended "$job" || note "job $job did not end: $(job_summary "$job")"
      note "job $job: $(job_summary "$job")"
      check "the rerun completed" [ "$(job_state "$job")" == COMPLETED ]
      check "6 points, each done exactly once" "$python" "$source_dir/tests/slurm/check_results.py" "$results" 6
      check "the interrupted points went on from their checkpoints, $lost's among them" \
        "$python" "$here/check_cluster.py" resumed "$work/at-loss-$lost.checkpoints" "$results" \
        "$work/at-loss-$lost.log" "$results.ranks" "$lost"
      check "the results equal the one-node run's bit for bit" \
        "$python" "$here/check_cluster.py" same "$work/node_loss-reference.h5" "$results"
    else
      check "a point trained on $lost (the sweep got going)" false
      note "job $job: $(job_summary "$job")"
    fi
    section_failed && show_log "$results.slurm-$job.out"
  done
fi

section "4. stop.sh removes everything, and is safe twice"
holders=$(cat "$ABLATE_CLUSTER_DIR"/ns/*.pid 2>/dev/null | tr '\n' ' ')
daemons=$(cat "$ABLATE_CLUSTER_DIR"/*.pid "$ABLATE_CLUSTER_DIR"/munge/*.pid 2>/dev/null | tr '\n' ' ')
namespaces=$(cat "$ABLATE_CLUSTER_DIR"/ns/*.net 2>/dev/null)
"$cluster_scripts/stop.sh" >"$work/stop.log" 2>&1
check "stop.sh exits 0" [ $? -eq 0 ]
left=
for pid in $holders $daemons; do cluster_running "$pid" && left+="$pid "; done
check "no holder or daemon is left (pids $holders$daemons)" [ -z "$left" ]
in_namespaces=0
for proc in /proc/[0-9]*; do
  net=$(readlink "$proc/ns/net" 2>/dev/null) || continue
  grep -qxF "$net" <<<"$namespaces" && cluster_running "${proc#/proc/}" && ((in_namespaces++))
done
check "no process is left in the cluster's namespaces" [ "$in_namespaces" -eq 0 ]
check "the state directory is gone" [ ! -e "$ABLATE_CLUSTER_DIR" ]
check "stop.sh a second time exits 0" "$cluster_scripts/stop.sh"

echo "cluster_live: $passed passed, $failed failed"
if ((failed == 0)); then exit 0; fi
exit 1
}
