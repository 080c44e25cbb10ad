"""Fixtures of the analysis tests: results files made by the real `ablate run` on tiny sweeps
(tests/analysis/sweeps/*.toml, seconds each on a CPU), and the reports written from them."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import h5py
import pytest

kRepo = Path(__file__).resolve().parents[2]
kSweeps = Path(__file__).resolve().parent / "sweeps"
kRunTimeoutSeconds = 600

try:  # the installed package (scripts/setup.sh installs analysis/ into .venv in editable mode), not a path hack
    import ablate  # noqa: F401
except ImportError as error:
    pytest.exit(f"the ablate Python package is not importable ({error}): run scripts/setup.sh, or "
                f"pip install -e {kRepo / 'analysis'}", returncode=4)


@pytest.fixture(scope="session")
def ablate_bin() -> str:
    """$ABLATE_BIN, else build/orchestrator/ablate. Missing is a failure, not a skip: CI builds it first."""
    path = os.environ.get("ABLATE_BIN") or str(kRepo / "build" / "orchestrator" / "ablate")
    if not (os.path.isfile(path) and os.access(path, os.X_OK)):
        pytest.fail(f"the ablate binary is missing: {path} is not an executable file. Build it first "
                    f"(scripts/setup.sh, or cmake --build build) or point ABLATE_BIN at it.", pytrace=False)
    return path


def _run_sweep(ablate: str, sweep: str, out_dir: Path, results_name: str = "", extra: tuple = ()) -> Path:
    results = out_dir / (results_name or Path(sweep).stem + ".h5")
    command = [ablate, "run", str(kSweeps / sweep), "-o", str(results), "--threads", "1", *extra]
    process = subprocess.run(command, capture_output=True, text=True, timeout=kRunTimeoutSeconds)
    if not results.is_file():
        pytest.fail(f"`{' '.join(command)}` wrote no results file (exit code {process.returncode}).\n"
                    f"stdout:\n{process.stdout[-3000:]}\nstderr:\n{process.stderr[-3000:]}", pytrace=False)
    # A sweep with a failing point may exit non-zero; everything must still have been tried.
    # Through the package, which reads every results format (4: errors are an /index column).
    from ablate.results import load as load_results  # `ablate` here is the binary's path
    table = load_results(results)
    statuses = list(table["status"])
    errors = sorted(set(table["error"]) - {""}) if "error" in table else []
    if not set(statuses) <= {"done", "failed", "stopped"} or "done" not in statuses:
        pytest.fail(f"`{' '.join(command)}` (exit code {process.returncode}) left the statuses "
                    f"{sorted(set(statuses))}; every tiny sweep finishes all points and most succeed.\n"
                    f"point errors: {errors[:3]}\nstderr:\n{process.stderr[-3000:]}", pytrace=False)
    return results


@pytest.fixture(scope="session")
def sweeps_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("sweeps")


@pytest.fixture(scope="session")
def cases_h5(ablate_bin, sweeps_dir) -> Path:
    """5 cases x 2 seeds; the "diverge" case fails on both seeds."""
    return _run_sweep(ablate_bin, "tiny_cases.toml", sweeps_dir)


@pytest.fixture(scope="session")
def grid_h5(ablate_bin, sweeps_dir) -> Path:
    """normalize [none, standard] x lr [0.01, 0.1] x 2 seeds."""
    return _run_sweep(ablate_bin, "tiny_grid.toml", sweeps_dir)


@pytest.fixture(scope="session")
def packed_grid_h5(ablate_bin, sweeps_dir) -> Path:
    """tiny_grid.toml with --pack 4: its 8 points of one shape train as packs of up to 4."""
    return _run_sweep(ablate_bin, "tiny_grid.toml", sweeps_dir, "packed_grid.h5", ("--pack", "4"))


@pytest.fixture(scope="session")
def augment_h5(ablate_bin, sweeps_dir) -> Path:
    """3 augmentation cases, one seed."""
    return _run_sweep(ablate_bin, "tiny_augment.toml", sweeps_dir)


@pytest.fixture(scope="session")
def search_h5(ablate_bin, sweeps_dir) -> Path:
    """A random search: 3 samples of (lr, dropout) x 2 seeds."""
    return _run_sweep(ablate_bin, "tiny_search.toml", sweeps_dir)


@pytest.fixture(scope="session")
def tpe_h5(ablate_bin, sweeps_dir) -> Path:
    """A TPE search: 6 trials (3 random first) of (lr, dropout) x 2 seeds, suggested while it runs."""
    return _run_sweep(ablate_bin, "tiny_tpe.toml", sweeps_dir)


@pytest.fixture(scope="session")
def asha_h5(ablate_bin, sweeps_dir) -> Path:
    """Early stopping: ASHA over 9 learning rates, up to 9 epochs (rungs 1, 3, 9)."""
    return _run_sweep(ablate_bin, "tiny_asha.toml", sweeps_dir)


@pytest.fixture(scope="session")
def interrupted_h5(ablate_bin, sweeps_dir) -> Path:
    """A sweep killed (SIGKILL) part-way, as a crash leaves it: tiny_interrupted_part1.toml run to the end
    ("quick" done), then tiny_interrupted.toml on the same file, killed as soon as its plan is in the HDF5
    file ("slow" and "later" unfinished). Two runs, because `ablate run` trains the costliest point first."""
    results = _run_sweep(ablate_bin, "tiny_interrupted_part1.toml", sweeps_dir, "tiny_interrupted.h5")
    command = [ablate_bin, "run", str(kSweeps / "tiny_interrupted.toml"), "-o", str(results), "--threads", "1",
               "--allow-different-sweep"]
    log_path = sweeps_dir / "tiny_interrupted.log"
    with open(log_path, "w") as log:
        process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + kRunTimeoutSeconds
        try:
            while _planned_points(results) < 3:
                if process.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"`{' '.join(command)}` did not plan its 3 points before it exited or timed out "
                                f"(exit code {process.returncode}).\n{log_path.read_text()[-3000:]}", pytrace=False)
                time.sleep(0.02)
        finally:
            if process.poll() is None:
                process.send_signal(signal.SIGKILL)
            process.wait()
    return results


def _planned_points(results: Path) -> int:
    """Rows of /index in the results file (0 while it cannot be read); ablate replaces the file atomically."""
    try:
        with h5py.File(results, "r") as f:
            return f["index"].shape[0]
    except (OSError, KeyError):
        return 0


def _write_report(results: Path, out_dir: Path, *extra: str) -> Path:
    command = [sys.executable, "-m", "ablate", "report", str(results), "-o", str(out_dir), *extra]
    process = subprocess.run(command, capture_output=True, text=True, cwd=kRepo, timeout=kRunTimeoutSeconds)
    assert process.returncode == 0, f"{' '.join(command)} failed:\n{process.stdout}\n{process.stderr}"
    return out_dir


@pytest.fixture(scope="session")
def report_of(tmp_path_factory):
    """report_of(results_h5) -> directory of its report, written once per file by `python -m ablate report`."""
    written: dict[Path, Path] = {}

    def write(results: Path) -> Path:
        if results not in written:
            written[results] = _write_report(results, tmp_path_factory.mktemp(results.stem + "-report"))
        return written[results]
    return write
