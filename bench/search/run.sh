#!/usr/bin/env bash
# Random search vs TPE on the real data, at the same budget: sweeps/hparam_search_tpe.toml
# (2x256 MLP, AdamW lr, weight decay and dropout) with one training seed per trial, run with
# method = "random" and method = "tpe" for each of SEARCH_SEEDS search seeds, each under
# mpirun with WORKERS workers of one thread. Prints per run, then per method:
#   bench=search method=M search_seed=S trials=T best_val=... test_at_best=... trials_to_within_0.2=N
#   bench=search method=M runs=R mean_test_at_best=... mean_trials_to_within_0.2=...
# Usage: bench/search/run.sh [WORKDIR]; env TRIALS (20), STARTUP (6), EPOCHS (8),
# TRAIN_LIMIT (10000), SEARCH_SEEDS ("0 1 2"), WORKERS (2), ABLATE, PYTHON.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
work=${1:-$(mktemp -d "${TMPDIR:-/tmp}/ablate-search-bench-XXXXXX")}
mkdir -p "$work"
ablate=${ABLATE:-$root/build/orchestrator/ablate}
python=${PYTHON:-$root/.venv/bin/python}
workers=${WORKERS:-2}
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
echo "search bench: work dir $work; load $(cut -d' ' -f1-3 /proc/loadavg)"
for method in random tpe; do
  for seed in ${SEARCH_SEEDS:-0 1 2}; do
    spec=$work/$method-$seed.toml
    sed -e "s/^seeds = .*/seeds = [0]/" -e "s/^method = .*/method = \"$method\"/" \
        -e "s/^trials = .*/trials = ${TRIALS:-20}/" -e "s/^startup_trials = .*/startup_trials = ${STARTUP:-6}/" \
        -e "s/^seed = 0$/seed = $seed/" -e "s/^name = .*/name = \"search-$method-$seed\"/" \
        "$root/sweeps/hparam_search_tpe.toml" > "$spec"
    mpirun --oversubscribe --bind-to none -np $((workers + 1)) "$ablate" run "$spec" -o "$work/$method-$seed.h5" \
      --threads 1 --set "epochs=${EPOCHS:-8}" --set "train_limit=${TRAIN_LIMIT:-10000}" --progress quiet \
      > "$work/$method-$seed.log" 2>&1
  done
done
"$python" "$root/bench/search/summarise.py" "$work"/*.h5
