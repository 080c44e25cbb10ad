#!/usr/bin/env bash
# Builds every libFuzzer target bench/fuzz/fuzz_<name>.cpp with ASan + UBSan, runs each for N
# seconds from its seed corpus bench/fuzz/corpus/<name>/, and prints one summary line per target.
#
# Usage: bench/fuzz.sh [SECONDS_PER_TARGET=60] [NAME...]      (e.g. bench/fuzz.sh 60 idx)
# Env:   FUZZ_CXX (default clang++-14, else clang++), FUZZ_BUILD_DIR (default build-fuzz)
#
# A target names what it links in two comment lines, so adding a target needs no change here:
#   // fuzz-sources: trainer/idx.cpp          (paths relative to the repository root)
#   // fuzz-libs: -lfmt -lz
#   // fuzz-flags: -DNAME=VALUE           (optional: extra compiler flags)
# Optional: bench/fuzz/<name>.dict, a libFuzzer dictionary.
# New inputs go to $FUZZ_BUILD_DIR/corpus/<name>/ (the committed seeds stay untouched); crashes,
# leaks, timeouts and OOMs go to $FUZZ_BUILD_DIR/artifacts/<name>/. Reproduce one with
#   $FUZZ_BUILD_DIR/fuzz_<name> $FUZZ_BUILD_DIR/artifacts/<name>/crash-...
# Exit status: 0 when no target found anything, 1 when one did, 2 on a build or usage error.
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
seconds="${1:-60}"
shift || true
if ! [[ "$seconds" =~ ^[0-9]+$ ]] || [ "$seconds" -lt 1 ]; then
  echo "fuzz.sh: SECONDS_PER_TARGET must be a positive integer, got '$seconds'" >&2
  exit 2
fi

cxx="${FUZZ_CXX:-}"
if [ -z "$cxx" ]; then
  for candidate in clang++-14 clang++; do
    if command -v "$candidate" >/dev/null; then cxx="$candidate"; break; fi
  done
fi
if [ -z "$cxx" ]; then
  echo "fuzz.sh: no clang++ found; install clang and libclang-rt-14-dev, or set FUZZ_CXX" >&2
  exit 2
fi

build="${FUZZ_BUILD_DIR:-$repo/build-fuzz}"
mkdir -p "$build"

if [ "$#" -gt 0 ]; then
  names=("$@")
else
  names=()
  for source in "$repo"/bench/fuzz/fuzz_*.cpp; do
    name="$(basename "$source" .cpp)"
    names+=("${name#fuzz_}")
  done
fi
if [ "${#names[@]}" -eq 0 ]; then
  echo "fuzz.sh: no targets in $repo/bench/fuzz/" >&2
  exit 2
fi

# The value of a "// fuzz-<key>:" line in a target's source.
declared() {
  sed -n "s|^// fuzz-$1:[[:space:]]*||p" "$2" | head -n 1
}

total_findings=0
for name in "${names[@]}"; do
  source="$repo/bench/fuzz/fuzz_$name.cpp"
  if [ ! -f "$source" ]; then
    echo "fuzz.sh: no target $source" >&2
    exit 2
  fi
  binary="$build/fuzz_$name"
  sources=("$source")
  for extra in $(declared sources "$source"); do sources+=("$repo/$extra"); done
  read -r -a libs <<<"$(declared libs "$source")"
  read -r -a flags <<<"$(declared flags "$source")"

  echo "== building fuzz_$name with $cxx" >&2
  "$cxx" -std=c++20 -g -O1 -fno-omit-frame-pointer -Wall -Wextra \
    -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all ${flags[@]+"${flags[@]}"} \
    -I "$repo" "${sources[@]}" "${libs[@]}" -o "$binary" || exit 2

  corpus="$build/corpus/$name"
  seeds="$repo/bench/fuzz/corpus/$name"
  artifacts="$build/artifacts/$name"
  log="$build/fuzz_$name.log"
  mkdir -p "$corpus" "$artifacts"
  rm -f "$artifacts"/*
  options=(-max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len=8192
           -print_final_stats=1 -artifact_prefix="$artifacts/")
  dict="$repo/bench/fuzz/$name.dict"
  [ -f "$dict" ] && options+=(-dict="$dict")
  [ -d "$seeds" ] || seeds=""

  echo "== running fuzz_$name for ${seconds}s (log: $log)" >&2
  status=0
  # ASan/UBSan reports go to the log; libFuzzer exits non-zero on a finding.
  "$binary" "${options[@]}" "$corpus" ${seeds:+"$seeds"} >"$log" 2>&1 || status=$?

  executions="$(sed -n 's/^stat::number_of_executed_units:[[:space:]]*//p' "$log" | tail -n 1)"
  if [ -z "$executions" ]; then  # killed before the final stats: take the last progress line
    executions="$(grep -oE '^#[0-9]+' "$log" | tail -n 1 | tr -d '#')"
  fi
  rate="$(sed -n 's/^stat::average_exec_per_sec:[[:space:]]*//p' "$log" | tail -n 1)"
  coverage="$(grep -oE 'cov: [0-9]+' "$log" | tail -n 1 | grep -oE '[0-9]+' || true)"
  corpus_size="$(find "$corpus" -type f | wc -l)"
  findings="$(find "$artifacts" -type f | wc -l)"
  if [ "$status" -ne 0 ] && [ "$findings" -eq 0 ]; then findings=1; fi  # died without an artifact
  total_findings=$((total_findings + findings))

  echo "fuzz target=$name seconds=$seconds executions=${executions:-0} exec_per_s=${rate:-?}" \
    "coverage=${coverage:-?} corpus=$corpus_size findings=$findings exit=$status"
  if [ "$findings" -gt 0 ]; then
    echo "   findings in $artifacts/ (details: $log):" >&2
    grep -E 'ERROR: (AddressSanitizer|libFuzzer|LeakSanitizer)|runtime error|invariant violated' \
      "$log" | head -n 5 >&2 || true
  fi
done

[ "$total_findings" -eq 0 ]
