"""Fixtures of the analysis tests: results files made by the real `ablate run` on tiny sweeps
(tests/analysis/sweeps/*.toml, seconds each on a CPU), and the reports written from them."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

kRepo = Path(__file__).resolve().parents[2]
kSweeps = Path(__file__).resolve().parent / "sweeps"
kRunTimeoutSeconds = 600

if str(kRepo) not in sys.path:  # `pytest tests/analysis` from the repo root imports analysis/ from here
    sys.path.insert(0, str(kRepo))


@pytest.fixture(scope="session")
def ablate_bin() -> str:
    """$ABLATE_BIN, else build/orchestrator/ablate. Missing is a failure, not a skip: CI builds it first."""
    path = os.environ.get("ABLATE_BIN") or str(kRepo / "build" / "orchestrator" / "ablate")
    if not (os.path.isfile(path) and os.access(path, os.X_OK)):
        pytest.fail(f"the ablate binary is missing: {path} is not an executable file. Build it first "
                    f"(scripts/setup.sh, or cmake --build build) or point ABLATE_BIN at it.", pytrace=False)
    return path


def _run_sweep(ablate: str, sweep: str, out_dir: Path) -> Path:
    results = out_dir / (Path(sweep).stem + ".h5")
    command = [ablate, "run", str(kSweeps / sweep), "-o", str(results), "--threads", "1"]
    process = subprocess.run(command, capture_output=True, text=True, timeout=kRunTimeoutSeconds)
    if not results.is_file():
        pytest.fail(f"`{' '.join(command)}` wrote no results file (exit code {process.returncode}).\n"
                    f"stdout:\n{process.stdout[-3000:]}\nstderr:\n{process.stderr[-3000:]}", pytrace=False)
    # A sweep with a failing point may exit non-zero; everything must still have been tried.
    import h5py
    with h5py.File(results, "r") as f:
        statuses = {s.decode() for s in f["index"]["status"]}
    if not statuses <= {"done", "failed"}:
        pytest.fail(f"`{' '.join(command)}` left points {statuses - {'done', 'failed'}} (exit code "
                    f"{process.returncode}).\nstderr:\n{process.stderr[-3000:]}", pytrace=False)
    return results


def _journal_has(journal: Path, record_type: str) -> bool:
    """Whether the journal (docs/results-format.md: '<crc32> <json>' per line) holds a record of this type."""
    if not journal.is_file():
        return False
    for line in journal.read_text(errors="replace").splitlines():
        _, _, text = line.partition(" ")
        try:
            if json.loads(text).get("t") == record_type:
                return True
        except (json.JSONDecodeError, AttributeError):
            continue
    return False


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
def augment_h5(ablate_bin, sweeps_dir) -> Path:
    """3 augmentation cases, one seed."""
    return _run_sweep(ablate_bin, "tiny_augment.toml", sweeps_dir)


@pytest.fixture(scope="session")
def search_h5(ablate_bin, sweeps_dir) -> Path:
    """A random search: 3 samples of (lr, dropout) x 2 seeds."""
    return _run_sweep(ablate_bin, "tiny_search.toml", sweeps_dir)


@pytest.fixture(scope="session")
def interrupted_h5(ablate_bin, sweeps_dir) -> Path:
    """`ablate run` killed (SIGKILL) once the first point is durably done and the second one trains: a
    results file with unfinished (pending or running) points, as a crash leaves it."""
    results = sweeps_dir / "tiny_interrupted.h5"
    journal = Path(str(results) + ".journal")
    command = [ablate_bin, "run", str(kSweeps / "tiny_interrupted.toml"), "-o", str(results), "--threads", "1"]
    log_path = sweeps_dir / "tiny_interrupted.log"
    with open(log_path, "w") as log:
        process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + kRunTimeoutSeconds
        try:
            while not _journal_has(journal, "done"):
                if process.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"`{' '.join(command)}` finished no point before it exited or timed out (exit "
                                f"code {process.returncode}).\n{log_path.read_text()[-3000:]}", pytrace=False)
                time.sleep(0.05)
        finally:
            if process.poll() is None:
                process.send_signal(signal.SIGKILL)
            process.wait()
    if not results.is_file():
        pytest.fail(f"`{' '.join(command)}` left no results file before it was killed", pytrace=False)
    return results


def _write_report(results: Path, out_dir: Path, *extra: str) -> Path:
    command = [sys.executable, "-m", "analysis", "report", str(results), "-o", str(out_dir), *extra]
    process = subprocess.run(command, capture_output=True, text=True, cwd=kRepo, timeout=kRunTimeoutSeconds)
    assert process.returncode == 0, f"{' '.join(command)} failed:\n{process.stdout}\n{process.stderr}"
    return out_dir


@pytest.fixture(scope="session")
def report_of(tmp_path_factory):
    """report_of(results_h5) -> directory of its report, written once per file by `python -m analysis report`."""
    written: dict[Path, Path] = {}

    def write(results: Path) -> Path:
        if results not in written:
            written[results] = _write_report(results, tmp_path_factory.mktemp(results.stem + "-report"))
        return written[results]
    return write
