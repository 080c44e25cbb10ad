#!/usr/bin/env bash
# test_slurm_live.sh: `ablate slurm` against a real one-node Slurm, started for the test by
# scripts/slurm-local/start.sh and stopped after. Checks, each printed as ok/FAILED:
#   1. a generated script for a tiny sweep runs to the end under `sbatch --wait`, with a job
#      name and paths full of spaces, quotes, $, backticks and % coming through exactly;
#   2. TERM to a running job (what --signal=B:TERM sends before the time limit) stops the
#      sweep, the job requeues itself and the requeued run completes every point exactly
#      once; with srun and with mpirun as the launcher; and the same after `scontrol requeue`
#      from outside (Slurm signals every process and requeues the job itself);
#   3. the same with the real `ablate run` and its HDF5 results file (sbatch --wait; TERM;
#      scontrol requeue), and an early-stopping sweep TERMed, requeued and resumed (3d).
# 1 and 2 use tests/slurm/fake_ablate.sh in place of ablate; 3 needs an ablate with `run`
# (--ablate PATH, or $ABLATE_BIN) and is skipped, saying so, without one.
# Exit codes: 0 all passed, 1 a check failed, 77 skipped (not root, or Slurm not installed).
#
# Usage: test_slurm_live.sh --driver PATH [--ablate PATH] [--python PATH]
#   --driver  tests/slurm/slurm_command_driver (`ablate slurm` without torch)
#   --ablate  the real ablate; $ABLATE_BIN wins over it
#   --python  a Python with h5py (default: .venv/bin/python of the source tree)
set -uo pipefail

# The whole test is one brace group, which bash reads to its end before running any of it:
# editing this file while a test runs cannot change what the running test does.
{

source_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
driver=
ablate=
python=$source_dir/.venv/bin/python
while (($#)); do
  case $1 in
    --driver) driver=$2; shift 2 ;;
    --ablate) ablate=$2; shift 2 ;;
    --python) python=$2; shift 2 ;;
    *) echo "usage: $0 --driver PATH [--ablate PATH] [--python PATH]" >&2; exit 2 ;;
  esac
done
ablate=${ABLATE_BIN:-$ablate}
if [[ -z $driver || ! -x $driver ]]; then
  echo "test_slurm_live: --driver '$driver' is not an executable (build slurm_command_driver)" >&2
  exit 2
fi

export PATH=$PATH:/usr/sbin:/sbin  # slurmctld, slurmd, munged
skip() {
  echo "SKIPPED: live Slurm tests: $*"
  exit 77
}
[[ $(id -u) -eq 0 ]] || skip "they need root (they start slurmctld and slurmd); CI runs them as root"
for tool in slurmctld slurmd sbatch scontrol munged; do
  command -v "$tool" >/dev/null 2>&1 ||
    skip "$tool is missing; install: apt-get install slurmctld slurmd slurm-client munge"
done

work=$(mktemp -d /tmp/ablate-slurm-live.XXXXXX)
export ABLATE_SLURM_DIR=$work/slurm
# Two free ports of its own, so neither a Slurm started by hand nor a second run of this test
# (another build directory) answers in its place.
read -r -a free_ports < <(python3 -c '
import socket
sockets = [socket.socket() for _ in range(2)]
for s in sockets:
    s.bind(("127.0.0.1", 0))
print(*(s.getsockname()[1] for s in sockets))')
export ABLATE_SLURM_CTLD_PORT=${ABLATE_SLURM_CTLD_PORT:-${free_ports[0]}}
export ABLATE_SLURM_SLURMD_PORT=${ABLATE_SLURM_SLURMD_PORT:-${free_ports[1]}}
# mpirun refuses root without these; sbatch passes the environment on to the job.
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
cleanup() {
  "$source_dir/scripts/slurm-local/stop.sh" >/dev/null 2>&1
  if [[ ${ABLATE_SLURM_KEEP:-0} == 1 ]]; then echo "kept $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT

"$source_dir/scripts/slurm-local/start.sh" >/dev/null || {
  echo "FAILED: could not start the local Slurm; its logs:"
  tail -n 20 "$ABLATE_SLURM_DIR"/*.log "$ABLATE_SLURM_DIR"/munge/*.log 2>/dev/null
  exit 1
}
# shellcheck source=/dev/null
source "$ABLATE_SLURM_DIR/env.sh"
cd "$work" || exit 1

passed=0
failed=0
failed_before=0  # `failed` when the current section began
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

# wait_until SECONDS COMMAND...: polls COMMAND every half second; false on timeout.
wait_until() {
  local deadline=$((SECONDS + $1))
  shift
  until "$@"; do
    ((SECONDS < deadline)) || return 1
    sleep 0.5
  done
}
job_state() { squeue --noheader --states=all --jobs="$1" --format=%T 2>/dev/null | head -n 1; }
job_field() {  # job_field JOB FIELD: FIELD=value from scontrol (values without spaces only)
  scontrol --oneliner show job "$1" 2>/dev/null | tr ' ' '\n' | sed -n "s/^$2=//p" | head -n 1
}
job_ended() { [[ $(job_state "$1") =~ ^(COMPLETED|FAILED|CANCELLED|TIMEOUT|NODE_FAIL|OUT_OF_MEMORY|BOOT_FAIL|DEADLINE|PREEMPTED)$ ]]; }
node_idle() { [[ $(sinfo --noheader --format=%T 2>/dev/null | head -n 1) == idle ]]; }
job_requeued() { [[ $(job_state "$1") == PENDING && $(job_field "$1" Restarts) -ge 1 ]]; }
fake_done_count() {
  local count
  count=$(grep -c '^done ' "$1" 2>/dev/null)
  echo "${count:-0}"
}
fake_done_at_least() { (($(fake_done_count "$1") >= $2)); }
# every point of the fake sweep appears exactly once as done
fake_each_done_once() {  # RESULTS SWEEP
  diff <(sed -n 's/^done //p' "$1" | sort) <(sort "$2") >/dev/null
}
is_job_id() { [[ $1 =~ ^[0-9]+$ ]]; }
stopped_early() { [[ -n $done_at_stop ]] && ((done_at_stop < $1)); }
show_log() { note "log $1:"; sed 's/^/    | /' "$1" 2>/dev/null | tail -n 25; }

# Interrupts JOB once the function READY holds, lets the requeued job run at once and waits
# for its end. HOW: "term" sends TERM to the batch script alone, as --signal=B:TERM does
# before the time limit, and the script requeues the job; "requeue" is `scontrol requeue`,
# as an admin or preemption does: Slurm signals every process and requeues the job itself.
# Sets done_at_stop to what the function COUNT printed when the job was pending again.
interrupt_and_resume() {  # JOB READY COUNT HOW
  local job=$1 ready=$2 count=$3 how=$4
  done_at_stop=
  if ! wait_until 180 "$ready"; then
    note "job $job never got far enough to be interrupted (state $(job_state "$job"))"
    return 1
  fi
  if [[ $how == term ]]; then
    scancel --batch --signal=TERM "$job"
  else
    scontrol requeue "$job"
  fi
  if ! wait_until 120 job_requeued "$job"; then
    note "job $job was not requeued after '$how' (state $(job_state "$job"))"
    return 1
  fi
  done_at_stop=$("$count")
  # Slurm holds a requeued job for two minutes, so that the node has cleaned up after its last
  # run before the next starts. Here that needs the node idle again, and a new second on the
  # clock: slurmd refuses a job credential issued in the same second as it revoked the last
  # one ("Job credential revoked"), and the job would fail at once.
  wait_until 120 node_idle || note "the node is still busy: $(sinfo --noheader --format='%T %E')"
  sleep 2
  scontrol update JobId="$job" StartTime=now
  wait_until 300 job_ended "$job" || note "job $job did not end (state $(job_state "$job"))"
  note "job $job: $(scontrol --oneliner show job "$job" 2>&1 |
    grep -oE '(JobState|Reason|Restarts|ExitCode|RunTime)=[^ ]*' | tr '\n' ' ')"
}

# A directory and names that need every kind of quoting.
hostile_dir="$work/runs/dir with space, it's \$HOME \`id\` and 100%p"
mkdir -p "$hostile_dir"
fake="$hostile_dir/ablate \$(touch pwned)"
cp "$source_dir/tests/slurm/fake_ablate.sh" "$fake"
chmod +x "$fake"

section "1. sbatch --wait runs a generated script to the end (stand-in ablate, hostile names)"
job_name="live \"quoted\" \$x \`y\` #z 'q' 50%"
sweep1="$hostile_dir/points one.txt"
printf 'p%d\n' 1 2 3 >"$sweep1"
results1="$hostile_dir/results 'one'.txt"
script1=$("$driver" slurm "$sweep1" -o "$results1" --time 00:05:00 --job-name "$job_name" \
  --ablate-binary "$fake" -- --point-seconds 0)
check "ablate slurm writes the script next to the results file" [ "$script1" == "$results1.sbatch" ]
submitted=$(sbatch --wait "$script1")
status=$?
job1=$(sed -n 's/^Submitted batch job \([0-9]*\).*/\1/p' <<<"$submitted")
check "sbatch --wait: the job exits 0" [ "$status" -eq 0 ]
check "every point done exactly once" fake_each_done_once "$results1" "$sweep1"
check "the job name reaches Slurm unchanged" [ "$(squeue --noheader --states=all --jobs="$job1" --format=%j)" == "$job_name" ]
check "the log is at the literal results path + .slurm-JOB.out" [ -s "$results1.slurm-$job1.out" ]
check "no quoted string was run as a command" [ ! -e "$work/pwned" ]
check "the log says the sweep is complete" grep -q "sweep complete" "$results1.slurm-$job1.out"
section_failed && show_log "$results1.slurm-$job1.out"

for launcher in srun mpirun; do
  section "2. TERM, requeue, resume with $launcher (stand-in ablate)"
  sweep2="$hostile_dir/points two.txt"
  printf 'q%d\n' 1 2 3 4 5 6 >"$sweep2"
  results2="$hostile_dir/results two $launcher.txt"
  job2=$("$driver" slurm "$sweep2" -o "$results2" --time 00:10:00 --launcher "$launcher" \
    --ablate-binary "$fake" --submit -- --point-seconds 1)
  check "ablate slurm --submit prints the job ID" is_job_id "$job2"
  fake_two_done() { fake_done_at_least "$results2" 2; }
  fake_count() { fake_done_count "$results2"; }
  interrupt_and_resume "$job2" fake_two_done fake_count term
  note "points done when the job was requeued: ${done_at_stop:-?} of 6"
  check "TERM stopped the sweep before its end" stopped_early 6
  check "the requeued job completed (exit 0)" [ "$(job_state "$job2")" == COMPLETED ]
  check "it was requeued exactly once" [ "$(job_field "$job2" Restarts)" == 1 ]
  check "every point done exactly once" fake_each_done_once "$results2" "$sweep2"
  # mpirun may kill its ranks before they can say so (its kill timeout is short): "stopped" is
  # then missing, but the run must still have been cut short and resumed.
  runs=$(tr '\n' ' ' <"$results2.runs")
  if [[ $launcher == mpirun && $runs == "start restart=0 start restart=1 complete " ]]; then
    note "mpirun ended the stand-in before it could log its stop"
    runs="start restart=0 stopped start restart=1 complete "
  fi
  check "the first run stopped on TERM, the second resumed and completed" \
    [ "$runs" == "start restart=0 stopped start restart=1 complete " ]
  check "the log tells the story" grep -q "requeueing job $job2" "$results2.slurm-$job2.out"
  section_failed && show_log "$results2.slurm-$job2.out"
done

section "2b. scontrol requeue from outside (preemption, an admin): resume (stand-in ablate)"
results2b="$hostile_dir/results requeued.txt"
job2b=$("$driver" slurm "$sweep2" -o "$results2b" --time 00:10:00 --ablate-binary "$fake" --submit -- --point-seconds 1)
fake_two_done() { fake_done_at_least "$results2b" 2; }
fake_count() { fake_done_count "$results2b"; }
interrupt_and_resume "$job2b" fake_two_done fake_count requeue
note "points done when the job was requeued: ${done_at_stop:-?} of 6"
check "the requeue interrupted the sweep before its end" stopped_early 6
check "the requeued job completed (exit 0)" [ "$(job_state "$job2b")" == COMPLETED ]
check "it was requeued exactly once" [ "$(job_field "$job2b" Restarts)" == 1 ]
check "every point done exactly once" fake_each_done_once "$results2b" "$sweep2"
section_failed && show_log "$results2b.slurm-$job2b.out"

section "3. the real ablate run: sbatch --wait"
# `ablate X --help` exits 0 even for an unknown X, so commands are looked up in the help text.
has_command() { "$ablate" --help 2>/dev/null | sed -n '/^Subcommands:/,$p' | grep -qE "^  $1 "; }
if [[ -z $ablate || ! -x $ablate ]] || ! has_command run; then
  echo "SKIPPED (3, 3b, 3c, 3d): no ablate with a 'run' command at '${ablate:-<none>}' (build with ABLATE_WITH_TORCH=ON or set ABLATE_BIN)"
elif ! "$python" -c "import h5py" 2>/dev/null; then
  echo "FAILED (3): '$python' cannot import h5py (run scripts/setup.sh, or pass --python)"
  ((failed++))
else
  # The ablate under test renders its own script when it has `slurm`; else the driver does.
  if has_command slurm; then
    slurm_command=("$ablate" slurm)
  else
    note "$ablate has no 'slurm' command yet: rendering with the driver"
    slurm_command=("$driver" slurm --ablate-binary "$ablate")
  fi
  cat >"$hostile_dir/tiny.toml" <<'TOML'
name = "slurm-live-tiny"
seeds = [0, 1]
[base]
model = "mlp"
hidden = []
epochs = 2
train_limit = 2000
val_size = 1000
[[cases]]
name = "lr_small"
lr = 0.02
[[cases]]
name = "lr_large"
lr = 0.1
TOML
  results3="$hostile_dir/tiny results.h5"
  script3=$("${slurm_command[@]}" "$hostile_dir/tiny.toml" -o "$results3" --tasks-per-node 2 --time 00:10:00)
  submitted=$(sbatch --wait "$script3")
  status=$?
  job3=$(sed -n 's/^Submitted batch job \([0-9]*\).*/\1/p' <<<"$submitted")
  check "real ablate: sbatch --wait exits 0" [ "$status" -eq 0 ]
  check "real ablate: 4 points, each done exactly once" "$python" "$source_dir/tests/slurm/check_results.py" "$results3" 4
  section_failed && show_log "$results3.slurm-$job3.out"

  cat >"$hostile_dir/longer.toml" <<'TOML'
name = "slurm-live-longer"
seeds = [0, 1, 2]
[base]
model = "mlp"
hidden = [128]
epochs = 3
train_limit = 10000
val_size = 2000
[[cases]]
name = "lr_small"
lr = 0.02
[[cases]]
name = "lr_large"
lr = 0.1
TOML
  section "3b. the real ablate: TERM, requeue, resume"
  results4="$hostile_dir/longer results.h5"
  script4=$("${slurm_command[@]}" "$hostile_dir/longer.toml" -o "$results4" --tasks-per-node 2 --time 00:15:00)
  submitted=$(sbatch "$script4")
  job4=$(sed -n 's/^Submitted batch job \([0-9]*\).*/\1/p' <<<"$submitted")
  real_done_count() { "$python" "$source_dir/tests/slurm/count_done.py" "$results4.journal"; }
  real_done_at_least_one() { (($(real_done_count) >= 1)); }
  interrupt_and_resume "$job4" real_done_at_least_one real_done_count term
  note "points done when the job was requeued: ${done_at_stop:-?} of 6"
  check "real ablate: TERM stopped the sweep before its end" stopped_early 6
  check "real ablate: the requeued job completed (exit 0)" [ "$(job_state "$job4")" == COMPLETED ]
  check "real ablate: requeued exactly once" [ "$(job_field "$job4" Restarts)" == 1 ]
  check "real ablate: 6 points, each done exactly once" "$python" "$source_dir/tests/slurm/check_results.py" "$results4" 6
  check "real ablate: the log tells the story" grep -q "requeueing job $job4" "$results4.slurm-$job4.out"
  section_failed && show_log "$results4.slurm-$job4.out"

  section "3c. the real ablate: scontrol requeue from outside"
  # Slurm signals every process here, srun included, which ends the tasks at once: the journal
  # must still hold each point exactly once after the rerun.
  results4="$hostile_dir/longer requeued.h5"
  script4=$("${slurm_command[@]}" "$hostile_dir/longer.toml" -o "$results4" --tasks-per-node 2 --time 00:15:00)
  submitted=$(sbatch "$script4")
  job4=$(sed -n 's/^Submitted batch job \([0-9]*\).*/\1/p' <<<"$submitted")
  interrupt_and_resume "$job4" real_done_at_least_one real_done_count requeue
  note "points done when the job was requeued: ${done_at_stop:-?} of 6"
  check "real ablate, scontrol requeue: stopped before its end" stopped_early 6
  check "real ablate, scontrol requeue: the requeued job completed (exit 0)" [ "$(job_state "$job4")" == COMPLETED ]
  check "real ablate, scontrol requeue: 6 points, each done exactly once" \
    "$python" "$source_dir/tests/slurm/check_results.py" "$results4" 6
  section_failed && show_log "$results4.slurm-$job4.out"

  section "3d. the real ablate: early stopping, TERM, requeue, resume"
  # Successive halving is a pure function of the sweep: the requeued job must end exactly as
  # an uninterrupted local run, with the decisions made before the TERM standing.
  es_spec="$source_dir/tests/orchestrator/data/es_kill9.toml"
  es_reference="$hostile_dir/es reference.h5"
  "$ablate" run "$es_spec" -o "$es_reference" --threads 1 --progress quiet >/dev/null 2>&1
  results5="$hostile_dir/es results.h5"
  # One LibTorch thread, as the reference: the losses then agree to the last bit.
  script5=$("${slurm_command[@]}" "$es_spec" -o "$results5" --tasks-per-node 2 --time 00:15:00 -- --threads 1)
  submitted=$(sbatch "$script5")
  job5=$(sed -n 's/^Submitted batch job \([0-9]*\).*/\1/p' <<<"$submitted")
  es_pauses() { local n; n=$(grep -c '"t":"pause"' "$results5.journal" 2>/dev/null); echo "${n:-0}"; }
  es_paused_some() { (($(es_pauses) >= 3)); }
  interrupt_and_resume "$job5" es_paused_some es_pauses term
  note "pauses recorded when the job was requeued: ${done_at_stop:-?}"
  check "early stopping: the requeued job completed (exit 0)" [ "$(job_state "$job5")" == COMPLETED ]
  check "early stopping: requeued exactly once" [ "$(job_field "$job5" Restarts)" == 1 ]
  check "early stopping: decisions stand and the outcome equals the uninterrupted run" \
    "$python" "$source_dir/tests/orchestrator/check_early_stopping.py" "$es_reference" "$results5" --same-outcome 1
  section_failed && show_log "$results5.slurm-$job5.out"
fi

echo "slurm_live: $passed passed, $failed failed"
if ((failed == 0)); then exit 0; fi
exit 1
}
