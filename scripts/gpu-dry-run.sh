#!/usr/bin/env bash
# The GPU bundle's proof without a GPU (run by scripts/test.sh, hence CI): builds
# gpu-bundle/ and runs gpu-bundle/gpu-check.sh --dry-run in a clean environment
# (env -i: no variable of this shell leaks in; the bundle's programs see only its
# libraries and the torch of .venv). Where a private mount namespace is allowed
# (root and unshare), this machine's own copies of what the bundle carries are
# hidden as well: Open MPI's and PMIx's plugins and help files, the data set, and
# every bundled library that the check's own tools (bash, python3, coreutils) do
# not need. A library or plugin missing from the bundle then fails the run
# instead of being found here. The check's results go to build/gpu-dry-run/.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
OUT_DIR=${OUT:-$ROOT/${ABLATE_BUILD_DIR:-build}/gpu-dry-run}
start=$(date +%s)

scripts/gpu-bundle.sh
rm -rf "$OUT_DIR"
mkdir -p "$OUT_DIR"
check=(env -i HOME="$OUT_DIR" PATH=/usr/bin:/bin LANG=C.UTF-8 TMPDIR=/tmp OUT="$OUT_DIR"
       PYTHON="$ROOT/.venv/bin/python" "$ROOT/gpu-bundle/gpu-check.sh" --dry-run)

# What the check's own tools load: never hidden (they run outside the bundle).
python_real=$(readlink -f "$ROOT/.venv/bin/python")
tool_files=("$python_real" "$(command -v bash)")
for tool in env sh timeout date find sort awk sed grep getconf nproc mktemp tr cat head tail du cut wc ldd ls rm mkdir \
            dirname cp tee; do
  tool_files+=("$(readlink -f "$(command -v "$tool")")")
done
tool_files+=(/usr/lib/python3*/lib-dynload/*.so "$ROOT"/.venv/lib/python3*/site-packages/torch/_C*.so
             "$ROOT"/.venv/lib/python3*/site-packages/torch/lib/*.so*
             "$ROOT"/.venv/lib/python3*/site-packages/numpy/_core/*.so)
tool_libs=$(for f in "${tool_files[@]}"; do ldd "$f" 2>/dev/null | awk '/=> \// {print $1}'; done | sort -u)

hide=()
for name in $(tar -tzf gpu-bundle/payload.tar.gz | sed -n 's#^\./lib/\(..*\)#\1#p'); do
  grep -qxF "$name" <<<"$tool_libs" && continue
  for dir in /lib/x86_64-linux-gnu /usr/lib/x86_64-linux-gnu /lib64 /usr/lib64; do
    [[ -e $dir/$name ]] && hide+=("$(readlink -f "$dir/$name")")
  done
done
for path in $(ompi_info --path pkglibdir --parsable | sed -n 's/^path:pkglibdir://p') \
            $(ompi_info --path pkgdatadir --parsable | sed -n 's/^path:pkgdatadir://p') \
            "$(command -v orted || true)" /etc/openmpi /usr/share/datasets/fashion-mnist; do
  [[ -n $path && -e $path ]] && hide+=("$(readlink -f "$path")")
done
if [[ -d /usr/lib/x86_64-linux-gnu/pmix2 ]]; then hide+=(/usr/lib/x86_64-linux-gnu/pmix2); fi
mapfile -t hide < <(printf '%s\n' "${hide[@]}" | sort -u)

# Can this machine mount in a private namespace? (A container may allow the
# namespace and still refuse the mount.)
probe=$(mktemp)
can_hide=0
if [[ $(id -u) == 0 ]] && unshare -m --propagation private mount --bind /dev/null "$probe" 2>/dev/null; then can_hide=1; fi
rm -f "$probe"
if ((can_hide)); then
  echo "gpu-dry-run: hiding ${#hide[@]} system copies of what the bundle carries (private mount namespace)"
  # /dev/null over a file, an empty read-only folder over a folder: both only in
  # this namespace, gone when it ends.
  empty=$(mktemp -d)
  status=0
  unshare -m --propagation private bash -c '
    empty=$1; shift
    folders=()
    while [[ $1 != -- ]]; do  # files first: a hidden folder would take the files inside it along
      if [[ -d $1 ]]; then folders+=("$1"); else mount --bind /dev/null "$1" || exit 1; fi
      shift
    done
    shift
    for folder in "${folders[@]}"; do mount --bind -o ro "$empty" "$folder" || exit 1; done
    exec "$@"' _ "$empty" "${hide[@]}" -- "${check[@]}" || status=$?
  rmdir "$empty"
else
  echo "gpu-dry-run: no private mount namespace here (needs root and unshare): this machine's copies stay" \
       "visible; the check's library audit still runs"
  status=0
  "${check[@]}" || status=$?
fi
echo "gpu-dry-run: $(($(date +%s) - start)) s, exit $status; results in $OUT_DIR"
exit $status
