#!/usr/bin/env bash
# readme_usage.sh ABLATE SOURCE_DIR SPEC PYTHON
# Runs the README's usage block (the ```sh block under "## Using it") as written, with
# the ablate under test first on the PATH, in a scratch directory whose sweeps/*.toml
# are all the tiny SPEC (4 points, one epoch on 2,000 images). The only changes, so
# that it takes a minute: `ablate train` gets epochs=1 and a 1,000-image training
# set, and `.venv/bin/python` is SOURCE_DIR's. mpirun may oversubscribe and run as
# root (through Open MPI's environment, not the command line). Then checks what the
# commands wrote. Exit 77 (skipped) without Fashion-MNIST.
set -euo pipefail
ablate=$1 source_dir=$2 spec=$3 python=$4

if [[ -z "${ABLATE_DATA:-}" && ! -d /usr/share/datasets/fashion-mnist ]]; then
  echo "skipped: no Fashion-MNIST (set ABLATE_DATA or install dataset-fashion-mnist)"
  exit 77
fi
work=$(mktemp -d "${TMPDIR:-/tmp}/ablate-readme-XXXXXX")
trap 'rm -rf "$work"' EXIT
fail() { echo "README usage: FAILED: $*" >&2; exit 1; }

# The block, one command per line, comments removed.
awk '/^## Using it/ {section = 1} section && /^```sh/ {inside = 1; next} inside && /^```/ {exit} inside' \
  "$source_dir/README.md" | sed -E 's/[[:space:]]+#.*$//; /^[[:space:]]*$/d' > "$work/commands"
cat "$work/commands"
for expected in "ablate --version" "ablate train " "ablate train --help" "ablate plan " "ablate run " "mpirun " \
                "ablate status " "ablate report "; do
  grep -q "^$expected\|^mpirun .* $expected" "$work/commands" || fail "the usage block has no '$expected' line"
done

mkdir "$work/sweeps"
for sweep in $(grep -o 'sweeps/[A-Za-z0-9_]*\.toml' "$work/commands" | sort -u); do
  cp "$spec" "$work/$sweep"
done
export PATH="$(dirname "$ablate"):$PATH"
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_rmaps_base_oversubscribe=1
cd "$work"
number=0 help_out=/dev/null
while IFS= read -r command; do
  number=$((number + 1))
  if [[ $command == "ablate train "* && $command != *--help* ]]; then
    command="$(sed -E 's/epochs=[0-9]+/epochs=1/' <<< "$command") train_limit=1000 val_size=200"
  fi
  command=${command//.venv\/bin\/python/$source_dir\/.venv\/bin\/python}
  echo "README usage: \$ $command"
  bash -c "$command" > "out.$number" 2>&1 < /dev/null || { tail -40 "out.$number"; fail "line $number: $command"; }
  [[ $command == *"train --help"* ]] && help_out=out.$number
  [[ $command == *"status "*"--json"* ]] && json_out=out.$number
done < "$work/commands"

# What the commands wrote: each results file with every point done, the report, the TensorBoard runs.
for results in $(grep -o -- '-o [^ ]*\.h5' commands | cut -c4- | sort -u); do
  "$python" - "$results" <<'EOF'
import sys, h5py
with h5py.File(sys.argv[1], "r") as f:
    statuses = {s.decode() for s in f["index"]["status"]}
assert statuses == {"done"}, (sys.argv[1], statuses)
EOF
done
grep -q "linear | mlp | cnn | resnet; default mlp" "$help_out" || fail "ablate train --help shows no choices or default"
"$python" -c "import json, sys; assert json.load(open(sys.argv[1]))['counts']['done'] == 4" "${json_out:?no status --json line}"
[[ -f report/index.md ]] || fail "ablate report wrote no report/index.md"
compgen -G "runs/*/events.out.tfevents.*" > /dev/null || fail "no TensorBoard runs written"
echo "README usage: ok ($number commands)"
