#!/usr/bin/env bash
# gpu-check.sh: everything ablate can measure on a GPU machine, in one command,
# from inside the bundle that scripts/gpu-bundle.sh writes:
#
#   gpu-bundle/gpu-check.sh              # on the GPU machine: at most ~9 minutes
#   gpu-bundle/gpu-check.sh --dry-run    # anywhere: the same steps on the CPU, tiny budgets
#
# Steps: 1. ablate --version; 2. the [cuda] tests (one and two ranks);
# 3. throughput against the PyTorch peer, each model; 4. the seed study on all
# 55,000 images under mpirun with several workers per GPU: makespan and GPU
# utilisation; 5. packed training against one point at a time (packing_bench).
# Writes $OUT (default ./gpu-results/): results.jsonl (one JSON object per line:
# step, status ok|fail|skip|timeout|not_built, seconds, the step's figures),
# summary.md (the same as a table) and each step's raw output.
# Needs only python3 with torch (the machine's PyTorch 2.11, or $PYTHON), and
# nvidia-smi for the utilisation samples. Exit status: 0 when no step failed.
set -uo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
DRY_RUN=0
for arg in "$@"; do
  case $arg in
    --dry-run) DRY_RUN=1 ;;
    -h|--help) sed -n '2,17p' "$0"; exit 0 ;;
    *) echo "gpu-check: unknown argument '$arg' (use --dry-run or nothing)" >&2; exit 2 ;;
  esac
done
OUT=${OUT:-$PWD/gpu-results}
PYTHON=${PYTHON:-python3}
BUDGET_S=${GPU_CHECK_BUDGET_S:-530}   # the whole check; each step gets at most what is left
START_S=$(date +%s)
mkdir -p "$OUT"
: >"$OUT/results.jsonl"
SCRATCH=$(mktemp -d "${TMPDIR:-/tmp}/gpu-check.XXXXXX")
trap 'rm -rf "$SCRATCH"' EXIT
# The programs and libraries (payload.tar.gz, see gpu-bundle.sh), unpacked here.
RUN=$SCRATCH/bundle
mkdir -p "$RUN"
tar -xzf "$HERE/payload.tar.gz" -C "$RUN" || { echo "gpu-check: error: cannot unpack $HERE/payload.tar.gz" >&2; exit 1; }

say() { echo "gpu-check: $*"; }
die() { echo "gpu-check: error: $*" >&2; exit 1; }
elapsed() { echo $(($(date +%s) - START_S)); }
left() { echo $((BUDGET_S - $(elapsed))); }

# --- The environment: the bundle's libraries and the machine's torch for the
# bundle's programs only (bin/ wraps each), Open MPI relocated into the bundle.
torch_lib=$("$PYTHON" -c 'import os, torch; print(os.path.join(os.path.dirname(torch.__file__), "lib"))') ||
  die "no torch in '$PYTHON': install PyTorch 2.11 or set PYTHON to a python3 that has it"
site_packages=$(dirname "$(dirname "$torch_lib")")
# The CUDA and NCCL wheels of that torch (libtorch finds them itself; ablate links NCCL directly).
wheel_libs=$(find "$site_packages/nvidia" -mindepth 2 -maxdepth 3 -type d -name lib 2>/dev/null | sort | tr '\n' ':')
export ABLATE_BUNDLE_LIBS="$RUN/lib:$torch_lib:${wheel_libs%:}"
export OPAL_PREFIX=$RUN/mpi PMIX_PREFIX=$RUN/pmix
export OMPI_MCA_mca_base_param_files=$RUN/mpi/etc/openmpi-mca-params.conf
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
export ABLATE_DATA=$HERE/data/fashion-mnist
export PATH=$RUN/bin:$PATH
MPIRUN=("$RUN/bin/mpirun" --oversubscribe --bind-to none)
PACKING_S=${GPU_CHECK_PACKING_S:-100}  # kept from step 4's budget for step 5
CORES=$(nproc)

if ((DRY_RUN)); then
  DEVICE=cpu
  GPUS=1
  WORKERS_PER_GPU=2
else
  DEVICE=cuda
  GPUS=$(nvidia-smi -L 2>/dev/null | grep -c '^GPU' || true)
  ((GPUS > 0)) || say "nvidia-smi lists no GPU: the CUDA steps will fail or skip"
  ((GPUS > 0)) || GPUS=1
  WORKERS_PER_GPU=${WORKERS_PER_GPU:-4}
fi

# One JSON line: record STEP STATUS SECONDS [KEY=JSON-or-text ...].
record() {
  "$PYTHON" - "$OUT/results.jsonl" "$@" <<'PY'
import json, sys
path, step, status, seconds, *pairs = sys.argv[1:]
row = {"step": step, "status": status, "seconds": round(float(seconds), 2)}
for pair in pairs:
    key, _, value = pair.partition("=")
    try:
        row[key] = json.loads(value)
    except ValueError:
        row[key] = value
with open(path, "a") as f:
    f.write(json.dumps(row) + "\n")
PY
}

# Runs a command for at most LIMIT seconds (SIGTERM, then SIGKILL 20 s later);
# its status is the command's, 124 on the time limit.
limited() {
  local limit=$1
  shift
  ((limit < 5)) && limit=5
  timeout -s TERM -k 20 "$limit" "$@"
}

# --- 0. Can this machine run the bundle at all?
glibc_needed=$(sed -n 's/^glibc_needed=//p' "$HERE/MANIFEST")
glibc_here=$(getconf GNU_LIBC_VERSION | awk '{print $2}')
if [[ -n $glibc_needed && $(printf '%s\n%s\n' "$glibc_needed" "$glibc_here" | sort -V | head -1) != "$glibc_needed" ]]; then
  record environment fail 0 "reason=the C library here is $glibc_here; the bundle needs $glibc_needed or later"
  die "glibc $glibc_here is older than the $glibc_needed the bundle was built against"
fi
# Every library of every bundled program and plugin resolves, to the bundle or
# to what the machine brings (torch and its CUDA wheels, the C library).
unresolved=$(
  for elf in "$RUN"/libexec/* "$RUN"/mpi/bin/* "$RUN"/lib/*.so* "$RUN"/mpi/lib/*/openmpi/lib/openmpi3/*.so \
    "$RUN"/pmix/lib/pmix/*.so; do
    [[ -f $elf ]] || continue
    LD_LIBRARY_PATH=$ABLATE_BUNDLE_LIBS ldd "$elf" 2>&1 | awk -v elf="${elf#"$RUN"/}" '
      /not found/ {print elf ": " $1 " not found"; next}
      /=> \// && $3 !~ /^\/(lib|lib64|usr\/lib|usr\/lib64)\/(x86_64-linux-gnu\/)?(libc|libm|libdl|libpthread|librt|libutil|libresolv)\.so/ &&
        $3 !~ /^\/(lib|lib64|usr\/lib|usr\/lib64)\/(x86_64-linux-gnu\/)?ld-linux/ {print elf "\t" $3}'
  done | awk -F'\t' -v here="$RUN/" -v torch="$site_packages/" \
    'NF == 1 || (index($2, here) != 1 && index($2, torch) != 1 && $2 !~ /libcuda\.so|libnvidia/) {print}' | sort -u
)
if [[ -n $unresolved ]]; then
  echo "$unresolved" >"$OUT/unresolved_libraries.txt"
  record environment fail 0 "reason=$(wc -l <"$OUT/unresolved_libraries.txt") libraries resolve outside the bundle or not at all: see unresolved_libraries.txt"
  die "the bundle is incomplete:
$unresolved"
fi
torch_here=$("$PYTHON" -c 'import torch; print(torch.__version__)')
torch_built=$(sed -n 's/^torch=//p' "$HERE/MANIFEST")
[[ ${torch_here%%+*} == "${torch_built%%+*}" ]] ||
  say "warning: torch $torch_here here, the bundle was built against $torch_built (LibTorch's ABI may differ)"
record environment ok 0 "dry_run=$((DRY_RUN ? 1 : 0))" "device=$DEVICE" "gpus=$GPUS" "cores=$CORES" \
  "glibc=\"$glibc_here\"" "torch=$torch_here" "bundle=$(tr '\n' ' ' <"$HERE/MANIFEST")"

# --- 1. ablate --version, and the GPU as nvidia-smi sees it.
step_version() {
  local t0=$SECONDS status=ok
  ablate --version >"$OUT/version.txt" 2>&1 || status=fail
  cat "$OUT/version.txt"
  local gpu_name=""
  if ((!DRY_RUN)); then
    nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader >"$OUT/nvidia-smi.txt" 2>&1 || true
    gpu_name=$(head -1 "$OUT/nvidia-smi.txt")
  fi
  record version "$status" $((SECONDS - t0)) "text=$(tr '\n' ';' <"$OUT/version.txt")" "gpu=$gpu_name" \
    "cuda=$(grep -o 'CUDA available: [^;]*' "$OUT/version.txt" | cut -d' ' -f3-)" \
    "nccl=\"$(sed -n 's/^NCCL[^:]*: //p' "$OUT/version.txt")\""
}

# --- 2. The [cuda] tests: a Catch2 XML report per run, one JSON line per test.
record_tests() {  # XML... : pass / fail / skip ("SKIPPED: why" in the test's output) per test
  "$PYTHON" - "$OUT/results.jsonl" "$@" <<'PY'
import json, sys
import xml.etree.ElementTree as ET
path, *reports = sys.argv[1:]
with open(path, "a") as out:
    for report in reports:
        try:
            root = ET.parse(report).getroot()
        except (OSError, ET.ParseError) as e:
            out.write(json.dumps({"step": "tests", "test": report, "status": "fail", "seconds": 0,
                                  "reason": f"no readable report: {e}"}) + "\n")
            continue
        for case in root.iter("TestCase"):
            result = case.find("OverallResult")
            text = "".join(node.text or "" for node in case.iter("StdOut"))
            skipped = [line for line in text.splitlines() if line.startswith("SKIPPED:")]
            ok = result is not None and result.get("success") == "true"
            row = {"step": "tests", "test": case.get("name"), "status": "skip" if ok and skipped else ("ok" if ok else "fail"),
                   "seconds": float(result.get("durationInSeconds", 0)) if result is not None else 0,
                   "report": report.rsplit("/", 1)[-1]}
            if skipped:
                row["reason"] = skipped[0][len("SKIPPED:"):].strip()
            out.write(json.dumps(row) + "\n")
PY
}

step_tests() {
  local t0=$SECONDS
  say "tests: one rank (every [cuda] test but the two-rank one)"
  limited $(($(left) - 300)) "${MPIRUN[@]}" -np 1 test_cuda "~[nccl2]" -d yes -r xml -o "$OUT/tests.xml" \
    >"$OUT/tests.log" 2>&1
  local single=$?
  say "tests: two ranks on one GPU ([nccl2], NCCL_MULTI_RANK_GPU_ENABLE=1)"
  NCCL_MULTI_RANK_GPU_ENABLE=1 limited 120 "${MPIRUN[@]}" -np 2 -x NCCL_MULTI_RANK_GPU_ENABLE \
    bash -c 'exec test_cuda "[nccl2]" -r xml -o "$0/tests_nccl2.rank${OMPI_COMM_WORLD_RANK}.xml"' "$OUT" \
    >"$OUT/tests_nccl2.log" 2>&1
  local pair=$?
  record_tests "$OUT/tests.xml" "$OUT"/tests_nccl2.rank*.xml
  local status=ok
  ((single == 0 && pair == 0)) || status=fail
  ((single == 124 || pair == 124)) && status=timeout
  record tests_total "$status" $((SECONDS - t0)) "exit_single=$single" "exit_two_ranks=$pair"
}

# --- 3. Throughput against the PyTorch peer (bench/run.py), each model, the same run.
step_throughput() {
  local t0=$SECONDS status=ok
  local -a args=(--bin "$RUN/bin/throughput_bench" --device "$DEVICE")
  if ((DRY_RUN)); then
    args+=(--models linear --images 256 --timed-epochs 1 --threads 2)
  else
    args+=(--conv-images 0 --timed-epochs 2 --threads "$CORES" "${GRAPH_KEYS[@]}")
  fi
  say "throughput: ablate vs PyTorch, ${args[*]}"
  limited $(($(left) - 240)) "$PYTHON" "$HERE/bench/run.py" "${args[@]}" >"$OUT/throughput.jsonl" 2>"$OUT/throughput.log"
  local rc=$?
  ((rc == 0)) || status=fail
  ((rc == 124)) && status=timeout
  cat "$OUT/throughput.jsonl"
  "$PYTHON" - "$OUT/results.jsonl" "$OUT/throughput.jsonl" <<'PY'
import json, sys
with open(sys.argv[1], "a") as out, open(sys.argv[2]) as lines:
    for line in lines:
        row = json.loads(line)
        out.write(json.dumps({"step": "throughput", "status": "ok", "seconds": 0, **row}) + "\n")
PY
  record throughput_total "$status" $((SECONDS - t0)) "exit=$rc"
  # Variants, while time allows: the step eagerly (no CUDA graph) and in bf16.
  if ((!DRY_RUN)); then
    local variant
    for variant in cuda_graphs=false precision=bf16 precision=tf32; do
      (($(left) > 260)) || { record "throughput_$variant" skip 0 "reason=no time left in the check's budget"; continue; }
      t0=$SECONDS
      limited $(($(left) - 240)) "$PYTHON" "$HERE/bench/run.py" "${args[@]}" --models mlp_2x256,cnn --set "$variant" \
        >"$OUT/throughput_$variant.jsonl" 2>>"$OUT/throughput.log"
      rc=$?
      "$PYTHON" - "$OUT/results.jsonl" "$OUT/throughput_$variant.jsonl" <<'PY'
import json, sys
with open(sys.argv[1], "a") as out, open(sys.argv[2]) as lines:
    for line in lines:
        out.write(json.dumps({"step": "throughput", "status": "ok", "seconds": 0, **json.loads(line)}) + "\n")
PY
      record "throughput_$variant" "$([[ $rc == 0 ]] && echo ok || echo fail)" $((SECONDS - t0)) "exit=$rc"
    done
  fi
}

# --- 4. The seed study under mpirun, several workers per GPU; makespan and utilisation.
step_study() {
  local spec="$HERE/sweeps/seed_study.toml"
  local -a extra=()
  if ((DRY_RUN)); then
    spec=$SCRATCH/dry_run_study.toml
    cat >"$spec" <<'TOML'
name = "gpu_check_dry_run"
description = "gpu-check --dry-run: four tiny points"
seeds = [0, 1]
[base]
epochs = 1
train_limit = 256
val_size = 256
[[cases]]
name = "mlp"
[[cases]]
name = "cnn"
model = "cnn"
channels = [8, 16]
fc_width = 32
TOML
    extra=(--threads 1)
    # Local mode too: one process whose MPI_Init runs without mpirun (a singleton,
    # which starts the bundle's orted), as the one-rank NCCL test would without mpirun.
    local t0=$SECONDS
    limited 120 ablate run "$spec" -o "$SCRATCH/local.h5" --device cpu --threads 1 --progress quiet \
      >"$OUT/study_local.log" 2>&1
    local rc=$?
    record study_local_mode "$([[ $rc == 0 ]] && echo ok || echo fail)" $((SECONDS - t0)) "exit=$rc"
  fi
  local ranks=$((1 + GPUS * WORKERS_PER_GPU))
  local results=$SCRATCH/seed_study.h5
  local limit=$(($(left) - 25 - PACKING_S))
  say "study: mpirun -np $ranks ($GPUS GPU x $WORKERS_PER_GPU workers), at most ${limit}s"
  local sampler=""
  if ((!DRY_RUN)) && command -v nvidia-smi >/dev/null; then
    nvidia-smi --query-gpu=index,utilization.gpu,memory.used --format=csv,noheader,nounits -lms 500 \
      >"$OUT/gpu_utilisation.csv" 2>/dev/null &
    sampler=$!
  fi
  local t0
  t0=$(date +%s.%N)
  limited "$limit" "${MPIRUN[@]}" -np "$ranks" ablate run "$spec" -o "$results" --device "$DEVICE" "${GRAPH_KEYS[@]}" \
    --workers-per-gpu "$WORKERS_PER_GPU" --progress lines "${extra[@]}" >"$OUT/study.log" 2>&1
  local rc=$?
  local makespan
  makespan=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN {printf "%.2f", b - a}')
  [[ -n $sampler ]] && kill "$sampler" 2>/dev/null
  ablate status "$results" >"$OUT/study_status.txt" 2>&1
  tail -5 "$OUT/study.log"
  cat "$OUT/study_status.txt"
  local status=ok
  ((rc == 0)) || status=fail
  ((rc == 124 || rc == 4)) && status=timeout  # 4: stopped by the SIGTERM at the limit, finished points kept
  local size_kib
  size_kib=$(du -k "$results" 2>/dev/null | cut -f1)
  ((${size_kib:-0} < 16384)) && cp "$results" "$OUT/" 2>/dev/null
  "$PYTHON" - "$OUT/results.jsonl" "$status" "$makespan" "$ranks" "$WORKERS_PER_GPU" "$rc" \
    "$OUT/study_status.txt" "$OUT/gpu_utilisation.csv" <<'PY'
import json, os, re, sys
path, status, makespan, ranks, per_gpu, rc, status_file, samples = sys.argv[1:]
row = {"step": "seed_study", "status": status, "seconds": round(float(makespan), 2),
       "makespan_s": round(float(makespan), 2), "ranks": int(ranks), "workers_per_gpu": int(per_gpu), "exit": int(rc)}
text = open(status_file).read() if os.path.exists(status_file) else ""
for word in ("done", "failed", "pending", "running", "paused", "stopped"):
    m = re.search(rf"(\d+)\s+{word}\b|\b{word}\D{{0,3}}(\d+)", text)
    if m:
        row[word] = int(m.group(1) or m.group(2))
if os.path.exists(samples):
    util, memory = [], []
    for line in open(samples):
        parts = [p.strip() for p in line.split(",")]
        if len(parts) == 3 and parts[1].isdigit():
            util.append(int(parts[1]))
            memory.append(int(parts[2]))
    if util:
        row.update(gpu_util_mean=round(sum(util) / len(util), 1), gpu_util_max=max(util),
                   gpu_memory_max_mib=max(memory), samples=len(util))
with open(path, "a") as f:
    f.write(json.dumps(row) + "\n")
PY
}

# --- 5. Packed training against one point per GPU (issue: K = 32 2x256 MLPs
# >= 10x the points per hour of one point at a time, CNN >= 3x): packing_bench,
# one worker, one-epoch points on 10,000 images, each ratio measured back to
# back in the same run. Budget: what step 4 left it (PACKING_S).
step_packing() {
  local runs
  if ((DRY_RUN)); then
    runs=("mlp --points 4 --packs 2 --train-limit 500" "cnn --points 2 --packs 2 --train-limit 200")
  else
    runs=("mlp --points 32 --packs 8 32 --train-limit 10000" "cnn --points 16 --packs 16 --train-limit 10000")
  fi
  local run
  for run in "${runs[@]}"; do
    local family=${run%% *}
    local limit=$(($(left) - 5))
    if ((limit < 15)); then
      record "packing_$family" timeout 0 "reason=no time left"
      continue
    fi
    say "packing: $family ($run), at most ${limit}s"
    local t0=$SECONDS
    # shellcheck disable=SC2086 # the run's words are options
    limited "$limit" packing_bench --device "$DEVICE" --workers 1 --family $run \
      >"$OUT/packing_$family.jsonl" 2>"$OUT/packing_$family.log"
    local rc=$?
    local status=ok
    ((rc == 0)) || status=fail
    ((rc == 124)) && status=timeout
    cat "$OUT/packing_$family.jsonl"
    # Each measurement as its own row of results.jsonl.
    "$PYTHON" - "$OUT/results.jsonl" "$OUT/packing_$family.jsonl" "$family" "$status" $((SECONDS - t0)) "$rc" <<'PY'
import json, sys
path, lines, family, status, seconds, rc = sys.argv[1:]
rows = []
for line in open(lines):
    line = line.strip()
    if line.startswith("{"):
        m = json.loads(line)
        rows.append({"step": f"packing_{family}_k{m['pack']}", "status": "ok", "seconds": 0, **m})
if not rows or status != "ok":
    rows.append({"step": f"packing_{family}", "status": status, "seconds": float(seconds), "exit": int(rc)})
with open(path, "a") as f:
    for row in rows:
        f.write(json.dumps(row) + "\n")
PY
  done
}

# CUDA graphs are on by default, and a capture that crashes would take every point of
# the study with it: unless their two tests passed, the steps after them turn them off.
decide_graphs() {
  GRAPH_KEYS=()
  ((DRY_RUN)) && return
  local passed
  passed=$(grep -c '"test": "\(a captured step graph\|CUDA graphs train\)[^"]*", "status": "ok"' "$OUT/results.jsonl")
  if ((passed < 2)); then
    GRAPH_KEYS=(--set cuda_graphs=false)
    say "CUDA graph tests did not both pass: throughput and the study run with cuda_graphs=false"
    record cuda_graphs fail 0 "reason=the CUDA graph tests did not both pass; later steps use cuda_graphs=false"
  fi
}

step_version
step_tests
decide_graphs
step_throughput
step_study
step_packing

# --- The table.
"$PYTHON" - "$OUT/results.jsonl" "$OUT/summary.md" "$DRY_RUN" "$(elapsed)" <<'PY'
import json, sys
path, summary, dry_run, total = sys.argv[1:]
rows = [json.loads(line) for line in open(path)]
common = {"step", "status", "seconds"}
def figures(row):
    keep = {k: v for k, v in row.items() if k not in common and k not in ("text", "bundle", "canonical")}
    return ", ".join(f"{k}={v}" for k, v in keep.items()).replace("|", "/")
lines = [f"# gpu-check{' --dry-run (CPU, tiny budgets)' if dry_run == '1' else ''}: {total} s", "",
         "| step | status | seconds | figures |", "|---|---|---|---|"]
lines += [f"| {r['step']} | {r['status']} | {r['seconds']} | {figures(r)} |" for r in rows]
failed = [r for r in rows if r["status"] in ("fail", "timeout")]
lines += ["", f"{len(failed)} step(s) failed or ran out of time." if failed else "No step failed."]
open(summary, "w").write("\n".join(lines) + "\n")
print("\n".join(lines))
PY
if grep -q '"status": "\(fail\|timeout\)"' "$OUT/results.jsonl"; then
  say "FAILED: see $OUT/summary.md"
  exit 1
fi
say "done in $(elapsed) s: $OUT/summary.md, $OUT/results.jsonl"
