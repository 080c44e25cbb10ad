"""analysis/ablate/tensorboard_export.py and `python -m ablate tensorboard`: every point's scalars and hparams read
back with TensorBoard's own reader (EventAccumulator), compared with the results file."""

from __future__ import annotations

import json
import math
import shutil
import subprocess
import sys
import time
from pathlib import Path

import h5py
import numpy as np
import pytest

import ablate
from ablate.tensorboard_export import export_tensorboard, kMetrics, swept_hparams

event_accumulator = pytest.importorskip("tensorboard.backend.event_processing.event_accumulator")
from tensorboard.plugins.hparams import api_pb2, metadata  # noqa: E402

kSweeps = Path(__file__).resolve().parent / "sweeps"


def read_run(directory):
    accumulator = event_accumulator.EventAccumulator(str(directory), size_guidance={event_accumulator.SCALARS: 0})
    accumulator.Reload()
    return accumulator


def scalar_series(accumulator, tag):
    """(step, value) of every event of the tag; none when the run has no such tag."""
    if tag not in accumulator.Tags()["scalars"]:
        return []
    return [(event.step, event.value) for event in accumulator.Scalars(tag)]


def hparams_content(accumulator):
    return accumulator.PluginTagToContent(metadata.PLUGIN_NAME)


def expected_hparam(value):
    """What the export writes for a config value: bools and numbers as they are, lists as compact JSON."""
    if isinstance(value, tuple):
        return "[" + ",".join(str(v) for v in value) + "]"
    return value.item() if hasattr(value, "item") else value


def session_hparams(start_info):
    out = {}
    for key, value in start_info.hparams.items():
        kind = value.WhichOneof("kind")
        out[key] = {"number_value": value.number_value, "string_value": value.string_value,
                    "bool_value": value.bool_value}[kind]
    return out


def check_export(results_h5, logdir):
    """Every started point: curves as scalars (float32 of the file's values, steps = epochs), its swept
    hyperparameters in the session start, its metrics, its session end; the experiment at the root."""
    table = ablate.load(results_h5)
    keys = swept_hparams(table)
    assert keys, "the fixture sweeps vary something"

    experiment = metadata.parse_experiment_plugin_data(hparams_content(read_run(logdir))[metadata.EXPERIMENT_TAG])
    assert [info.name for info in experiment.hparam_infos] == keys
    assert [info.name.tag for info in experiment.metric_infos] == list(kMetrics)

    started = 0
    for _, row in table.iterrows():
        run_dir = logdir / row["id"]
        if row["epochs_done"] == 0 and row["status"] in ablate.kUnfinishedStatuses:
            assert not run_dir.exists()
            continue
        started += 1
        run = read_run(run_dir)
        curve = ablate.curves(results_h5, row["id"])
        for column in curve.columns:
            if column == "epoch":
                continue
            series = scalar_series(run, column)
            assert [step for step, _ in series] == curve["epoch"].astype(int).tolist(), column
            np.testing.assert_allclose([value for _, value in series], curve[column].to_numpy(dtype=np.float32),
                                       rtol=1e-6, equal_nan=True, err_msg=f"{row['id']} {column}")
        content = hparams_content(run)
        start = metadata.parse_session_start_info_plugin_data(content[metadata.SESSION_START_INFO_TAG])
        written = session_hparams(start)
        assert sorted(written) == sorted(keys)
        for key in keys:
            want = expected_hparam(row[key])
            if isinstance(want, float):
                assert math.isclose(written[key], want, rel_tol=1e-12), key
            else:
                assert written[key] == want, (key, written[key], want)
        if row["status"] in ablate.kUnfinishedStatuses:  # may go on: no session end yet
            assert metadata.SESSION_END_INFO_TAG not in content
        else:
            end = metadata.parse_session_end_info_plugin_data(content[metadata.SESSION_END_INFO_TAG])
        if ablate.has_result(row["status"]):
            assert end.status == api_pb2.STATUS_SUCCESS
            for metric in kMetrics:
                series = scalar_series(run, metric)
                assert len(series) == 1
                assert series[0][0] == int(row["best_epoch"])
                assert series[0][1] == pytest.approx(row[metric], rel=1e-6)
        else:
            if row["status"] not in ablate.kUnfinishedStatuses:
                assert end.status == (api_pb2.STATUS_FAILURE if row["status"] == "failed" else api_pb2.STATUS_UNKNOWN)
            assert all(metric not in run.Tags()["scalars"] for metric in kMetrics)
    return started


def test_grid_round_trip(grid_h5, tmp_path):
    logdir = tmp_path / "runs"
    summary = export_tensorboard(grid_h5, logdir)
    assert summary.finished
    assert check_export(grid_h5, logdir) == summary.runs == len(ablate.load(grid_h5))
    # An export into the same log directory replaces what the first one wrote: no doubled epochs.
    export_tensorboard(grid_h5, logdir)
    assert check_export(grid_h5, logdir) == summary.runs


def test_cases_with_failures_and_newer_statuses(cases_h5, tmp_path):
    """A failed point ends as a failure without metrics; "stopped" (early stopping) counts as a result and
    "paused" as unfinished, although this file was written before either existed."""
    copy = tmp_path / "statuses.h5"
    shutil.copyfile(cases_h5, copy)
    with h5py.File(copy, "r+") as f:
        index = f["index"][:]
        statuses = [s.decode() for s in index["status"]]
        done = [i for i, s in enumerate(statuses) if s == "done"]
        assert len(done) >= 2 and "failed" in statuses
        for position, status in ((done[0], "stopped"), (done[1], "paused")):
            index["status"][position] = status.encode()  # format 4: the status is an /index column only
        f["index"][...] = index
    table = ablate.load(copy)
    assert set(table["status"]) >= {"stopped", "paused", "failed", "done"}
    logdir = tmp_path / "runs"
    summary = export_tensorboard(copy, logdir)
    assert not summary.finished  # a paused point may go on
    assert summary.statuses["stopped"] == 1 and summary.statuses["paused"] == 1
    check_export(copy, logdir)
    paused_id = table.loc[table["status"] == "paused", "id"].item()
    assert metadata.SESSION_END_INFO_TAG not in hparams_content(read_run(logdir / paused_id))
    stopped_id = table.loc[table["status"] == "stopped", "id"].item()
    assert "best_val_acc" in read_run(logdir / stopped_id).Tags()["scalars"]


def test_cli_follows_a_running_sweep(ablate_bin, tmp_path):
    """`python -m ablate tensorboard --follow`, started before the sweep writes its file, ends by itself once
    every point is done, having written every epoch."""
    results = tmp_path / "followed.h5"
    logdir = tmp_path / "runs"
    follow = subprocess.Popen([sys.executable, "-m", "ablate", "tensorboard", str(results), "--logdir", str(logdir),
                               "--follow", "--poll", "0.2", "--timeout", "600"],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=tmp_path)
    time.sleep(0.5)
    sweep = subprocess.run([ablate_bin, "run", str(kSweeps / "tiny_grid.toml"), "-o", str(results), "--threads", "1"],
                           capture_output=True, text=True, timeout=600)
    assert sweep.returncode == 0, sweep.stderr
    out, err = follow.communicate(timeout=120)
    assert follow.returncode == 0, err
    assert "every point finished" in out
    assert check_export(results, logdir) == len(ablate.load(results))


def test_cli_errors(tmp_path):
    missing = tmp_path / "missing.h5"
    process = subprocess.run([sys.executable, "-m", "ablate", "tensorboard", str(missing), "--logdir",
                              str(tmp_path / "runs")], capture_output=True, text=True, cwd=tmp_path)
    assert process.returncode == 1
    assert f"ablate: {missing}: no such results file" in process.stderr
    not_hdf5 = tmp_path / "notes.h5"
    not_hdf5.write_text("not a results file")
    process = subprocess.run([sys.executable, "-m", "ablate", "tensorboard", str(not_hdf5), "--logdir",
                              str(tmp_path / "runs")], capture_output=True, text=True, cwd=tmp_path)
    assert process.returncode == 1 and "not readable as HDF5" in process.stderr


def test_early_stopped_sweep_round_trip(asha_h5, ablate_bin, tmp_path):
    """A real ASHA sweep: stopped points export like done ones (metrics, a successful session end); `ablate
    status --json` counts them under their own name and ranks them with the done ones."""
    table = ablate.load(asha_h5)
    statuses = set(table["status"])
    assert "stopped" in statuses and "done" in statuses, statuses
    logdir = tmp_path / "runs"
    summary = export_tensorboard(asha_h5, logdir)
    assert summary.finished and summary.statuses["stopped"] == int((table["status"] == "stopped").sum())
    assert check_export(asha_h5, logdir) == len(table)

    status = json.loads(subprocess.run([ablate_bin, "status", str(asha_h5), "--json", "--top", "100"],
                                       capture_output=True, text=True, check=True).stdout)
    assert status["counts"] == {**{s: 0 for s in ("done", "running", "pending", "failed")},
                                **table["status"].value_counts().to_dict()}
    with_result = table[table["status"].isin(ablate.kResultStatuses)]
    assert sorted(p["id"] for p in status["best"]) == sorted(with_result["id"])
    assert [p["best_val_acc"] for p in status["best"]] == sorted(with_result["best_val_acc"], reverse=True)
