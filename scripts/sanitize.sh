#!/usr/bin/env bash
# The torch-free test suite under AddressSanitizer, LeakSanitizer and UndefinedBehaviorSanitizer:
# configures a build with ABLATE_SANITIZE=ON and ABLATE_WITH_TORCH=OFF, builds it, runs ctest
# (unit, MPI and Slurm tests; the trainer needs torch and is not built), then a short sweep over
# MPI ranks (bench_scheduler: `ablate run` with points that train nothing, the real ledger).
# Any sanitizer report fails: ASan and LSan stop the process with an error, UBSan code is built
# with -fno-sanitize-recover=all, and _GLIBCXX_ASSERTIONS adds bounds checks to std containers.
# Leaks inside Open MPI, hwloc and libevent (allocations that live until exit by design) are
# suppressed by scripts/lsan.supp; nothing of ablate's own code may be listed there.
#
# Usage: scripts/sanitize.sh [CTEST_ARGS...]         (e.g. scripts/sanitize.sh -R test_sweeps)
# Env:   ABLATE_ASAN_BUILD_DIR (default build-asan), ABLATE_ASAN_JOBS (build jobs, default 2)
# Exit status: 0 when every test and the sweep passed without a sanitizer report.
set -euo pipefail
cd "$(dirname "$0")/.."
repo="$PWD"
build="${ABLATE_ASAN_BUILD_DIR:-build-asan}"
jobs="${ABLATE_ASAN_JOBS:-2}"

# RelWithDebInfo: -O2 keeps the 2,000-point ledger test and the MPI tests within their time
# limits, -g gives file:line in every report.
cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DABLATE_SANITIZE=ON \
  -DABLATE_WITH_TORCH=OFF -DABLATE_BUILD_BENCH=ON \
  -DCMAKE_CXX_FLAGS="-fno-sanitize-recover=all -D_GLIBCXX_ASSERTIONS" \
  -DCMAKE_C_FLAGS="-fno-sanitize-recover=all"
cmake --build "$build" -j "$jobs"

asan_options="halt_on_error=1:detect_leaks=1:detect_stack_use_after_return=1:check_initialization_order=1:strict_init_order=1"
export ASAN_OPTIONS="$asan_options"
export LSAN_OPTIONS="suppressions=$repo/scripts/lsan.supp:print_suppressions=0"
export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1"
# The MPI tests launch ranks as root in containers.
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
# Open MPI's libraries have no frame pointers: only the full unwinder sees the Open MPI frames
# that lsan.supp matches (slower, so only for the MPI processes).
mpi_asan_options="$asan_options:fast_unwind_on_malloc=0"

start=$(date +%s)
status=0
ctest --test-dir "$build" --output-on-failure -j1 -LE mpi "$@" || status=$?
ASAN_OPTIONS="$mpi_asan_options" ctest --test-dir "$build" --output-on-failure -j1 -L mpi "$@" || status=$?
echo "sanitize.sh: ctest under ASan/LSan/UBSan took $(($(date +%s) - start)) s, exit $status" >&2

# A short sweep, 1 scheduler + 2 worker ranks, each rank checked for leaks at exit.
bench="$build/bench/scheduler/bench_scheduler"
if [ "$#" -eq 0 ] && [ -x "$bench" ]; then
  scratch="$(mktemp -d)"
  sweep_status=0
  ASAN_OPTIONS="$mpi_asan_options" mpiexec -np 3 --oversubscribe "$bench" --points 300 --warmup 20 \
    --dir "$scratch" || sweep_status=$?
  rm -rf "$scratch"
  echo "sanitize.sh: a 300-point sweep over 3 MPI ranks under ASan/LSan/UBSan: exit $sweep_status" >&2
  [ "$sweep_status" -eq 0 ] || status=1
fi
exit "$status"
