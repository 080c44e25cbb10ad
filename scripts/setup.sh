#!/usr/bin/env bash
# Installs what ablate needs on a fresh Debian 12 machine (Debian packages when
# root, the Python side and LibTorch into .venv) and builds it in Release.
# Idempotent: a second run only rebuilds what changed.
set -euo pipefail
cd "$(dirname "$0")/.."

BUILD_DIR=${ABLATE_BUILD_DIR:-build}
DEBIAN_PACKAGES=(
  build-essential cmake ninja-build git pkg-config python3 python3-venv python3-pip
  libopenmpi-dev openmpi-bin libhdf5-dev hdf5-tools catch2 libtomlplusplus-dev nlohmann-json3-dev
  libcli11-dev libfmt-dev zlib1g-dev dataset-fashion-mnist
  clang libclang-rt-14-dev
  slurmctld slurmd slurm-client munge iproute2
)

missing=()
for package in "${DEBIAN_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done
if ((${#missing[@]})); then
  if [[ $(id -u) -eq 0 ]]; then
    echo "setup: installing Debian packages: ${missing[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  else
    echo "setup: these Debian packages are missing; install them (as root) and rerun:" >&2
    echo "  sudo apt-get install -y ${missing[*]}" >&2
    exit 1
  fi
fi

# The Python side and LibTorch (the torch wheel carries it) live in .venv, with
# the ablate package (analysis/) installed in editable mode; the hash of
# requirements.txt and analysis/pyproject.toml says whether it is up to date.
want=$(cat requirements.txt analysis/pyproject.toml | sha256sum | cut -d' ' -f1)
if [[ ! -x .venv/bin/python || "$(cat .venv/.requirements-sha256 2>/dev/null)" != "$want" ]] ||
   ! .venv/bin/python -c "import ablate" 2>/dev/null; then
  echo "setup: installing Python packages into .venv (torch is large: a few minutes the first time)"
  [[ -x .venv/bin/python ]] || python3 -m venv .venv
  .venv/bin/python -m pip install -q --upgrade pip
  .venv/bin/python -m pip install -q -r requirements.txt
  # Editable: the repository's analysis/ is what `import ablate` finds, edits included.
  .venv/bin/python -m pip install -q --no-deps --no-build-isolation -e ./analysis
  echo "$want" > .venv/.requirements-sha256
fi

cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$BUILD_DIR" -j"$(nproc)"
echo "setup: built $BUILD_DIR/orchestrator/ablate"
