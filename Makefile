# The README's two commands. Everything real happens in scripts/.
.PHONY: quickstart test build

build:
	scripts/setup.sh

# Installs, builds, and runs the quickstart study on the real Fashion-MNIST (local mode).
quickstart: build
	scripts/quickstart.sh

# Installs, builds, and runs every test: ctest (C++, MPI, Slurm) and pytest (analysis).
test: build
	scripts/test.sh
