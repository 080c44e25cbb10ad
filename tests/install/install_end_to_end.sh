#!/usr/bin/env bash
# install_end_to_end.sh CMAKE BUILD_DIR SPEC VENV_PYTHON
# Installs the build into a temporary prefix and uses it as a new user would, from
# another directory with a clean environment (PATH = the prefix's bin + /usr/bin:/bin,
# no LD_LIBRARY_PATH): ablate --version, train --help, a tiny ablate run, status
# --json, status on a file that is not HDF5, then the Python package pip-installed
# from the prefix into a fresh virtual environment (--no-deps --no-index: numpy, h5py,
# pandas, matplotlib come from VENV_PYTHON's site-packages), imported from outside the
# repository, and ablate report through it and without it.
# Exit 77 (skipped) without Fashion-MNIST.
set -euo pipefail
cmake=$1 build=$2 spec=$3 venv_python=$4

if [[ -z "${ABLATE_DATA:-}" && ! -d /usr/share/datasets/fashion-mnist ]]; then
  echo "skipped: no Fashion-MNIST (set ABLATE_DATA or install dataset-fashion-mnist)"
  exit 77
fi
work=$(mktemp -d "${TMPDIR:-/tmp}/ablate-install-XXXXXX")
trap 'rm -rf "$work"' EXIT
prefix=$work/prefix
fail() { echo "install end to end: FAILED: $*" >&2; exit 1; }

"$cmake" --install "$build" --prefix "$prefix" > "$work/install.log"
[[ -x $prefix/bin/ablate ]] || fail "no $prefix/bin/ablate after cmake --install"
[[ -f $prefix/share/ablate/sweeps/quickstart.toml ]] || fail "the sweeps were not installed"
[[ -f $prefix/share/ablate/analysis/pyproject.toml && -f $prefix/share/ablate/analysis/ablate/results.py ]] ||
  fail "the Python package's sources were not installed"

mkdir "$work/elsewhere"
cd "$work/elsewhere"
cp "$spec" tiny.toml
# A new user's shell: the prefix on the PATH, nothing else of the build.
user() { env -i HOME="$work" PATH="$prefix/bin:/usr/bin:/bin" ${ABLATE_DATA:+ABLATE_DATA="$ABLATE_DATA"} "$@"; }

user ablate --version | tee version.log
torch_library=$(sed -n 's/^LibTorch .* (loaded from \(.*\))$/\1/p' version.log)
[[ -n $torch_library && -f $torch_library ]] || fail "ablate --version does not name the libtorch it loaded"
if user ldd "$prefix/bin/ablate" | grep "not found"; then fail "the installed ablate misses libraries"; fi

user ablate train --help > help.log
grep -q "linear | mlp | cnn | resnet; default mlp" help.log || fail "train --help lists no model families"
grep -q "number 1e-08..100; default 0.05" help.log || fail "train --help gives no range and default for lr"

user ablate run tiny.toml -o tiny.h5 --threads 1 --progress lines > run.log 2>&1 || { cat run.log; fail "ablate run"; }
user ablate status tiny.h5 --json > status.json
"$venv_python" - status.json <<'EOF'
import json, sys
status = json.load(open(sys.argv[1]))
assert status["total"] == 4 and status["counts"]["done"] == 4, status["counts"]
assert [p["status"] for p in status["points"]] == ["done"] * 4, status["points"]
best = status["best"][0]
assert best["rank"] == 1 and 0 < best["best_val_acc"] <= 1 and best["hyperparameters"], best
assert best["best_val_acc"] == max(p["best_val_acc"] for p in status["points"])
EOF

echo "my thesis notes" > notes.h5
if user ablate status notes.h5 2> status-error.log; then fail "ablate status accepted a text file"; fi
grep -qx "ablate: 'notes.h5' is not an ablate results file: it is not an HDF5 file. Give the .h5 file that \`ablate run -o\` wrote" \
  status-error.log || { cat status-error.log; fail "status on a text file: not the sentence expected"; }

# The Python package from the prefix, into a fresh environment that reuses the project's packages.
python3 -m venv "$work/venv"
site=$("$work/venv/bin/python" -c "import sysconfig; print(sysconfig.get_paths()['purelib'])")
"$venv_python" -c "import sysconfig; print(sysconfig.get_paths()['purelib'])" > "$site/project-venv.pth"
"$work/venv/bin/python" -m pip install -q --no-deps --no-index --no-build-isolation "$prefix/share/ablate/analysis" \
  > pip.log 2>&1 || { cat pip.log; fail "pip install of the package"; }
user "$work/venv/bin/python" -c "
import ablate
assert ablate.__file__.startswith('$work/venv/'), ablate.__file__
table = ablate.load('tiny.h5')
assert len(table) == 4 and set(table.status) == {'done'}
print('imported', ablate.__file__)"

user env ABLATE_PYTHON="$work/venv/bin/python" ablate report tiny.h5 -o report > report.log 2>&1 ||
  { cat report.log; fail "ablate report"; }
grep -q "^# Sweep \`tiny\`: report" report/index.md || fail "ablate report wrote no report"

python3 -m venv --without-pip "$work/bare"
if user env ABLATE_PYTHON="$work/bare/bin/python" ablate report tiny.h5 -o report2 2> report-error.log; then
  fail "ablate report ran without the package"
fi
cat report-error.log
grep -qF "$work/bare/bin/python -m pip install '$prefix/share/ablate/analysis'" report-error.log ||
  fail "ablate report without the package does not say how to install it"
echo "install end to end: ok"
