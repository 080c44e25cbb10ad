#!/usr/bin/env bash
# Writes gpu-bundle/: everything a bare GPU machine lacks to run gpu-check.sh.
#
#   scripts/gpu-bundle.sh            # builds (Release, the CUDA torch of .venv) and bundles
#   gpu-bundle/gpu-check.sh          # then, on the GPU machine (or --dry-run here)
#
# The bundle holds the ablate executable, the test and benchmark programs the
# check runs, every shared library they load that is not torch, CUDA, NCCL or
# the C library (found with ldd, not a hand-kept list), Open MPI's plugins and
# help files (relocated through OPAL_PREFIX), Fashion-MNIST and the check itself.
# Torch comes from the GPU machine's own PyTorch (python3 -c 'import torch').
# Layout: gpu-check.sh, MANIFEST, data/, bench/ and sweeps/ as files; the programs
# and libraries in payload.tar.gz (bin/ wrappers, libexec/, lib/, mpi/, pmix/),
# which gpu-check.sh unpacks into a scratch folder. It must fit in 64 MiB: the
# script fails loudly when it does not.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
BUILD_DIR=${ABLATE_BUILD_DIR:-build}
BUNDLE=${ABLATE_GPU_BUNDLE:-$ROOT/gpu-bundle}
DATA=${ABLATE_DATA:-/usr/share/datasets/fashion-mnist}
LIMIT_MIB=64
PROGRAMS=(orchestrator/ablate tests/trainer/test_cuda bench/throughput/throughput_bench bench/packing/packing_bench)

say() { echo "gpu-bundle: $*"; }
die() { echo "gpu-bundle: error: $*" >&2; exit 1; }

# 1. Build: the normal configure (scripts/setup.sh's), only the targets the check needs.
if [[ ! -f $BUILD_DIR/build.ninja ]]; then
  cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
fi
build_type=$(sed -n 's/^CMAKE_BUILD_TYPE:[A-Z]*=//p' "$BUILD_DIR/CMakeCache.txt")
[[ $build_type == Release ]] || die "$BUILD_DIR is a '$build_type' build; the bundle is Release (set ABLATE_BUILD_DIR to a Release build)"
targets=()
for program in "${PROGRAMS[@]}"; do targets+=("$(basename "$program")"); done
cmake --build "$BUILD_DIR" --target "${targets[@]}"
grep -q '^ABLATE_NCCL_LIBRARY:.*nccl' "$BUILD_DIR/CMakeCache.txt" ||
  die "$BUILD_DIR was configured without NCCL (or against a CPU-only torch): the check needs the CUDA torch of .venv"

# 2. A fresh folder: the programs, stripped (symbols are most of their size), in
# libexec/; bin/ holds a wrapper for each that gives it the bundle's libraries
# and the machine's torch ($ABLATE_BUNDLE_LIBS, set by gpu-check.sh), so that
# nothing else the check runs (python3, the PyTorch peer) sees them.
rm -rf "$BUNDLE"
STAGE=$BUNDLE/payload  # becomes payload.tar.gz: libraries compress to about a third
mkdir -p "$STAGE"/{bin,libexec,lib} "$BUNDLE"/{data/fashion-mnist,bench,sweeps}
write_wrapper() {  # NAME TARGET (relative to the bundle)
  {
    echo '#!/bin/sh'
    echo "# Runs the bundle's $1 with its libraries and the machine's torch (gpu-check.sh sets ABLATE_BUNDLE_LIBS)."
    echo 'exec env LD_LIBRARY_PATH="${ABLATE_BUNDLE_LIBS:?run this through gpu-check.sh, which sets it}" \'
    echo "  \"\$(dirname \"\$0\")/../$2\" \"\$@\""
  } >"$STAGE/bin/$1"
  chmod +x "$STAGE/bin/$1"
}
for program in "${PROGRAMS[@]}"; do
  name=$(basename "$program")
  strip --strip-unneeded -o "$STAGE/libexec/$name" "$BUILD_DIR/$program"
  write_wrapper "$name" "libexec/$name"
done

# What the GPU machine brings (torch and its CUDA/NCCL wheels, the driver) or
# every Linux has (the C library and its loader) is left out; the rest goes in.
provided_by_machine() {
  case $(basename "$1") in
    libtorch*|libc10*|libcaffe2*|libshm*|libgomp*|libnccl*|libnv*) return 0 ;;
    libcuda.so*|libcudart*|libcublas*|libcufft*|libcufile*|libcurand*|libcusparse*|libcusolver*|libcudnn*|libcupti*) return 0 ;;
    libc.so*|libm.so*|libdl.so*|libpthread.so*|librt.so*|libutil.so*|libresolv.so*|ld-linux*|linux-vdso*) return 0 ;;
  esac
  [[ $1 == */site-packages/* ]]
}

# Every library an ELF file needs, as ldd resolves it here; fails on "not found".
needed_libraries() {
  local out
  out=$(ldd "$1") || die "ldd $1 failed"
  if grep -q "not found" <<<"$out"; then die "$1 needs libraries ldd cannot find here:
$(grep 'not found' <<<"$out")"; fi
  awk '/=> \// {print $3}' <<<"$out"
}

copy_needed() {
  local lib
  for lib in $(needed_libraries "$1"); do
    provided_by_machine "$lib" && continue
    [[ -e $STAGE/lib/$(basename "$lib") ]] && continue
    cp -L "$lib" "$STAGE/lib/"
  done
}

# 3. Open MPI, relocated: gpu-check.sh sets OPAL_PREFIX=$BUNDLE/mpi, under which
# Open MPI looks for its plugins (lib/x86_64-linux-gnu/openmpi/lib/openmpi3 on
# Debian), help texts (share/openmpi) and mpirun (bin). PMIx's few plugins go to
# pmix/ (PMIX_MCA_mca_base_component_path). Both come from where this machine's
# Open MPI says they are.
mpi_pkglibdir=$(ompi_info --path pkglibdir --parsable | sed -n 's/^path:pkglibdir://p')
mpi_pkgdatadir=$(ompi_info --path pkgdatadir --parsable | sed -n 's/^path:pkgdatadir://p')
mpi_prefix=$(ompi_info --path prefix --parsable | sed -n 's/^path:prefix://p')
mpi_sysconfdir=$(ompi_info --path sysconfdir --parsable | sed -n 's/^path:sysconfdir://p')
[[ -d $mpi_pkglibdir && -d $mpi_pkgdatadir ]] || die "ompi_info names no plugin or help folder (is Open MPI installed?)"
[[ $mpi_pkglibdir == "$mpi_prefix"/* ]] || die "Open MPI's plugins ($mpi_pkglibdir) are not under its prefix ($mpi_prefix): not relocatable"
mpi_root=$STAGE/mpi
mkdir -p "$mpi_root/bin" "$mpi_root/${mpi_pkglibdir#"$mpi_prefix"/}" "$mpi_root/share/openmpi" "$mpi_root/etc"
mpirun_path=$(readlink -f "$(command -v mpirun)")
cp "$mpirun_path" "$mpi_root/bin/mpirun"
# orted: what a process that calls MPI_Init without mpirun (a singleton) starts.
cp "$(dirname "$mpirun_path")/orted" "$mpi_root/bin/orted"
write_wrapper mpirun mpi/bin/mpirun
cp "$mpi_pkglibdir"/*.so "$mpi_root/${mpi_pkglibdir#"$mpi_prefix"/}/"
cp -r "$mpi_pkgdatadir"/. "$mpi_root/share/openmpi/"
cp "$mpi_sysconfdir"/openmpi-mca-params.conf "$mpi_root/etc/" 2>/dev/null || : >"$mpi_root/etc/openmpi-mca-params.conf"
# PMIx (Open MPI's launcher interface) relocates through PMIX_PREFIX: its
# plugins are PREFIX/lib/pmix, its help texts PREFIX/share/pmix.
libpmix=$(readlink -f "$(ldconfig -p | awk '/libpmix.so.2 / {print $NF; exit}')" || true)
pmix_plugin=$(find "$(dirname "${libpmix:-/nonexistent}")" -maxdepth 4 -name 'pmix_mca_*.so' -print -quit 2>/dev/null || true)
if [[ -n $pmix_plugin ]]; then
  pmix_prefix=$(dirname "$(dirname "$(dirname "$pmix_plugin")")")
  mkdir -p "$STAGE/pmix/lib" "$STAGE/pmix/share"
  cp -r "$pmix_prefix/lib/pmix" "$STAGE/pmix/lib/"
  [[ -d $pmix_prefix/share/pmix ]] && cp -r "$pmix_prefix/share/pmix" "$STAGE/pmix/share/"
fi

for elf in "$STAGE"/libexec/* "$mpi_root"/bin/* "$mpi_root"/lib/*/openmpi/lib/openmpi3/*.so "$STAGE"/pmix/lib/pmix/*.so; do
  [[ -f $elf ]] && copy_needed "$elf"
done
# The copied libraries' own needs, until nothing new appears.
while true; do
  before=$(ls "$STAGE/lib" | wc -l)
  for lib in "$STAGE"/lib/*; do copy_needed "$lib"; done
  [[ $(ls "$STAGE/lib" | wc -l) == "$before" ]] && break
done

# 4. Data, the check, the benchmark driver and its PyTorch peer, the study.
cp "$DATA"/{train,t10k}-{images-idx3,labels-idx1}-ubyte.gz "$BUNDLE/data/fashion-mnist/"
cp scripts/gpu-check.sh "$BUNDLE/gpu-check.sh"
cp bench/throughput/run.py bench/throughput/pytorch_peer.py "$BUNDLE/bench/"
cp sweeps/seed_study.toml "$BUNDLE/sweeps/"

# 5. What was built, from what: the GPU machine needs a C library at least as new
# as the newest symbol version the bundle uses, and a PyTorch of the same version.
glibc_needed=$(for f in "$STAGE"/libexec/* "$STAGE"/lib/*; do objdump -T "$f" 2>/dev/null; done |
  grep -o 'GLIBC_[0-9.]*' | sed 's/GLIBC_//' | sort -uV | tail -1)
torch_version=$(.venv/bin/python -c 'import torch; print(torch.__version__)')
{
  echo "commit=$(git rev-parse --short HEAD)$(git diff --quiet HEAD -- . ':!gpu-bundle' 2>/dev/null || echo '+dirty')"
  echo "built=$(date -u +%Y-%m-%dT%H:%M:%SZ)"
  echo "torch=$torch_version"
  echo "glibc_needed=$glibc_needed"
  echo "mpi_plugins=${mpi_pkglibdir#"$mpi_prefix"/}"
} >"$BUNDLE/MANIFEST"
chmod +x "$BUNDLE/gpu-check.sh"
library_count=$(ls "$STAGE/lib" | wc -l)
tar -czf "$BUNDLE/payload.tar.gz" -C "$STAGE" .
rm -rf "$STAGE"

size_kib=$(du -sk "$BUNDLE" | cut -f1)
size_mib=$(awk -v k="$size_kib" 'BEGIN {printf "%.1f", k / 1024}')
if ((size_kib > LIMIT_MIB * 1024)); then
  du -sk "$BUNDLE"/* | sort -n >&2
  die "the bundle is $size_mib MiB, over the $LIMIT_MIB MiB a GPU machine's transfer allows"
fi
say "$BUNDLE: $size_mib MiB (limit $LIMIT_MIB), $library_count libraries, glibc >= $glibc_needed, torch $torch_version"
