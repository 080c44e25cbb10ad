# The README's commands. Everything real happens in scripts/.
.PHONY: quickstart test build install

PREFIX ?= $(HOME)/.local

build:
	scripts/setup.sh

# Installs, builds, and runs the quickstart study on the real Fashion-MNIST (local mode).
quickstart: build
	scripts/quickstart.sh

# Installs, builds, and runs every test: ctest (C++, MPI, Slurm) and pytest (analysis).
test: build
	scripts/test.sh

# Builds, then installs ablate into PREFIX/bin (default ~/.local/bin), with the sweeps and the
# Python package's sources in PREFIX/share/ablate. make install PREFIX=/opt/ablate
install: build
	cmake --install $${ABLATE_BUILD_DIR:-build} --prefix "$(PREFIX)"
