#!/usr/bin/env bash
# Early stopping on the real data: the same 81-configuration AdamW search run with
# ASHA (sweeps/hparam_search_asha.toml) and without early stopping (the same file
# minus its [early_stopping] section), each under mpirun with WORKERS workers of
# one thread. Prints, per run and as ratios measured in this invocation:
#   bench=early_stopping mode=asha|full epochs=N wall_s=S best_id=... best_val=... best_test=...
#   bench=early_stopping ratio_epochs=R ratio_wall=W test_gap_points=G
# Usage: bench/early_stopping/run.sh [WORKDIR] ; env TRAIN_LIMIT (default 20000;
# 0 = all 55,000 images), SAMPLES (configurations, default 81), WORKERS (2),
# ABLATE (build/orchestrator/ablate), PYTHON (.venv/bin/python).
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
work=${1:-$(mktemp -d "${TMPDIR:-/tmp}/ablate-es-bench-XXXXXX")}
mkdir -p "$work"
ablate=${ABLATE:-$root/build/orchestrator/ablate}
python=${PYTHON:-$root/.venv/bin/python}
workers=${WORKERS:-2}
train_limit=${TRAIN_LIMIT:-20000}
samples=${SAMPLES:-81}
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
sed "s/^samples = 81$/samples = $samples/" "$root/sweeps/hparam_search_asha.toml" > "$work/hparam_search_asha.toml"
spec=$work/hparam_search_asha.toml
# The full sweep: the same points (same IDs: early stopping is no training key), no [early_stopping].
sed -e '/^\[early_stopping\]/,$d' -e 's/^name = "hparam_search_asha"/name = "hparam_search_full"/' "$spec" \
  > "$work/hparam_search_full.toml"

run() {  # run MODE SPEC
  local start end
  start=$(date +%s.%N)
  mpirun --oversubscribe --bind-to none -np $((workers + 1)) "$ablate" run "$2" -o "$work/$1.h5" --threads 1 \
    --set "train_limit=$train_limit" --progress quiet > "$work/$1.log" 2>&1
  end=$(date +%s.%N)
  echo "$1 $(echo "$end - $start" | bc)" >> "$work/walls.txt"
}
: > "$work/walls.txt"
echo "early stopping bench: work dir $work, $samples configurations, train_limit $train_limit, $workers workers;" \
  "load $(cut -d' ' -f1-3 /proc/loadavg)"
run asha "$spec"
run full "$work/hparam_search_full.toml"
"$python" "$root/bench/early_stopping/summarise.py" "$work/asha.h5" "$work/full.h5" "$work/walls.txt"
