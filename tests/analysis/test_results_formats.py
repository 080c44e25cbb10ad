"""The reader (analysis/ablate/results.py) on both layouts of a results file: format 3 (a /points/<id> group
per started point) and format 4 (tables only: /index, /curves, /confusion_test, ...), each written here by
hand from the same three points, following docs/results-format.md; and the reader's patience with a file a
running sweep is updating (HDF5's lock, journal_bytes = -1)."""

from __future__ import annotations

import fcntl
import json
import threading
import time

import h5py
import numpy as np
import pytest

import ablate
import ablate.results

kCurveNames = ("train_loss", "train_acc", "val_loss", "val_acc", "test_loss", "test_acc", "lr", "epoch_seconds",
               "images_per_second")
kStr = h5py.string_dtype("utf-8")


def _epoch(k: int, e: int) -> tuple:
    """A curve row whose every number differs per point k and epoch e, so a swapped column shows."""
    return (e, 2.0 / e + k, 0.5 + 0.01 * e, 1.5 / e, 0.4 + 0.1 * e + 0.001 * k, 1.25 / e, 0.45 + 0.1 * e,
            0.1 / e, 3.5 + e, 1000.0 * e + k)


# Three points: a done one (3 epochs, a result), a failed one (2 epochs), one never started.
kPoints = [
    {"id": "a000000000000000", "case": "even", "status": "done", "seed": 0, "config": {"lr": 0.1, "hidden": [256]},
     "epochs": 3, "error": "", "attempts": 1, "host": "node01", "device": "cpu"},
    {"id": "b000000000000000", "case": "odd", "status": "failed", "seed": 1, "config": {"lr": 0.05, "hidden": [128]},
     "epochs": 2, "error": "loss is NaN", "attempts": 2, "host": "node02", "device": "cuda:1"},
    {"id": "c000000000000000", "case": "even", "status": "pending", "seed": 2, "config": {"lr": 0.01, "hidden": [128]},
     "epochs": 0, "error": "", "attempts": 0, "host": "", "device": ""},
]
kConfusion = np.arange(100, dtype=np.int64).reshape(10, 10)
kPredictions = np.array([(i * 7) % 10 for i in range(25)], dtype=np.int8)
kResult = {"best_val_acc": _epoch(0, 3)[4], "final_test_acc": _epoch(0, 3)[6], "test_acc_at_best_val": _epoch(0, 3)[6],
           "train_seconds": 12.5, "parameter_count": 1000, "best_epoch": 3, "epochs_trained": 3}


def _root(f: h5py.File, version: int, journal_bytes: int = 1234) -> None:
    f.attrs["format"] = "ablate-results"
    f.attrs["format_version"] = np.int64(version)
    for key in ("ablate_version", "git_commit", "created", "updated", "sweep_name", "sweep_path", "sweep_spec",
                "ledger_id"):
        f.attrs[key] = "x"
    f.attrs["sweep_history"] = "[]"
    f.attrs["journal_bytes"] = np.int64(journal_bytes)


def _index_fields() -> list:
    return [("id", kStr), ("case", kStr), ("status", kStr), ("seed", "<i4"), ("config_json", kStr),
            ("trial", "<i4"), ("suggested_by", kStr), ("hp.hidden", kStr), ("hp.lr", "<f8"),
            ("best_val_acc", "<f8"), ("final_test_acc", "<f8"), ("test_acc_at_best_val", "<f8"),
            ("train_seconds", "<f8"), ("parameter_count", "<i8"), ("best_epoch", "<i4"), ("epochs_trained", "<i4"),
            ("epochs_done", "<i4")]


def _index_row(p: dict) -> list:
    done = p["status"] == "done"
    r = kResult if done else {k: (np.nan if isinstance(v, float) else 0) for k, v in kResult.items()}
    return [p["id"], p["case"], p["status"], p["seed"], json.dumps(p["config"], separators=(",", ":")), -1, "",
            json.dumps(p["config"]["hidden"], separators=(",", ":")), p["config"]["lr"], r["best_val_acc"],
            r["final_test_acc"], r["test_acc_at_best_val"], r["train_seconds"], r["parameter_count"], r["best_epoch"],
            r["epochs_trained"], p["epochs"]]


def _curve_dtype(with_point: bool) -> np.dtype:
    return np.dtype(([("point", "<i4")] if with_point else []) + [("epoch", "<i4")] +
                    [(name, "<f8") for name in kCurveNames])


def write_format3(path) -> None:
    with h5py.File(path, "w") as f:
        _root(f, 3)
        f.create_dataset("index", data=np.array([tuple(_index_row(p)) for p in kPoints], dtype=_index_fields()))
        points = f.create_group("points")
        for k, p in enumerate(kPoints):
            if p["attempts"] == 0:
                continue  # never started: no group
            g = points.create_group(p["id"])
            for key in ("case", "status", "error", "host", "device"):
                g.attrs[key] = p[key]
            g.attrs["config_json"] = json.dumps(p["config"], separators=(",", ":"))
            g.attrs["attempts"] = np.int64(p["attempts"])
            g.attrs["started"] = g.attrs["finished"] = "2026-11-30T00:00:00Z"
            for key, value in kResult.items():
                g.attrs[key] = value if p["status"] == "done" else (np.nan if isinstance(value, float) else 0)
            g.create_dataset("curves", data=np.array([_epoch(k, e) for e in range(1, p["epochs"] + 1)],
                                                     dtype=_curve_dtype(False)))
            if p["status"] == "done":
                g.create_dataset("confusion_test", data=kConfusion)
                g.create_dataset("confusion_val", data=kConfusion.T.copy())
                g.create_dataset("per_class_acc", data=np.linspace(0.8, 0.89, 10))
                g.create_dataset("test_predictions", data=kPredictions)


def write_format4(path, journal_bytes: int = 1234) -> None:
    """Format 4 as an ablate that updated it in place leaves it: the failed point's first attempt left one
    curve row marked as no longer counting (point = -1), and rows are not in point order."""
    with h5py.File(path, "w") as f:
        _root(f, 4, journal_bytes)
        # status, started and finished are fixed-length (null-padded) strings in format 4
        fields = [("status", "S8") if name == "status" else (name, kind) for name, kind in _index_fields()]
        fields += [("error", kStr), ("attempts", "<i4"), ("host", kStr), ("device", kStr),
                                    ("torch_version", kStr), ("started", "S20"), ("finished", "S20"),
                                    ("until", "<i4"), ("has_result", "i1"), ("predictions_start", "<i8"),
                                    ("predictions_count", "<i8")]
        rows = []
        for p in kPoints:
            done = p["status"] == "done"
            stamp = b"2026-11-30T00:00:00Z" if p["attempts"] else b""
            row = _index_row(p)
            row[2] = row[2].encode()
            rows.append(tuple(row + [p["error"], p["attempts"], p["host"], p["device"], "2.11", stamp,
                                               stamp, 0, 1 if done else 0, 5 if done else 0,
                                               len(kPredictions) if done else 0]))
        f.create_dataset("index", data=np.array(rows, dtype=fields), maxshape=(None,), chunks=(256,))
        curve_rows = [(-1,) + _epoch(9, 1),  # the failed point's first attempt: no longer counts
                      (0,) + _epoch(0, 1), (1,) + _epoch(1, 1), (0,) + _epoch(0, 2), (1,) + _epoch(1, 2),
                       (0,) + _epoch(0, 3)]
        f.create_dataset("curves", data=np.array(curve_rows, dtype=_curve_dtype(True)), maxshape=(None,), chunks=(1024,))
        f.create_dataset("rungs", data=np.zeros(0, dtype=[("point", "<i4"), ("epoch", "<i4"), ("value", "<f8")]),
                         maxshape=(None,), chunks=(1024,))
        # One element per point, each an array: h5py reads [3] of int64[10][10] as a (3, 10, 10) array.
        for name, matrix in (("confusion_test", kConfusion), ("confusion_val", kConfusion.T)):
            dataset = f.create_dataset(name, shape=(3,), dtype=np.dtype(("<i8", (10, 10))), maxshape=(None,),
                                       chunks=(64,))
            dataset[0] = matrix
        accuracy = f.create_dataset("per_class_acc", shape=(3,), dtype=np.dtype(("<f8", (10,))), maxshape=(None,),
                                    chunks=(512,))
        accuracy[0], accuracy[1], accuracy[2] = np.linspace(0.8, 0.89, 10), np.full(10, np.nan), np.full(10, np.nan)
        f.create_dataset("test_predictions", data=np.concatenate([np.zeros(5, np.int8), kPredictions]))


@pytest.fixture(params=[3, 4])
def results_path(request, tmp_path):
    path = tmp_path / f"format{request.param}.h5"
    (write_format3 if request.param == 3 else write_format4)(path)
    return path


def test_both_formats_read_the_same(results_path):
    table = ablate.load(results_path)
    assert list(table["id"]) == [p["id"] for p in kPoints]
    assert list(table["status"]) == ["done", "failed", "pending"]
    assert list(table["error"]) == ["", "loss is NaN", ""]
    assert list(table["attempts"]) == [1, 2, 0]
    assert list(table["host"]) == ["node01", "node02", ""]
    assert list(table["lr"]) == [0.1, 0.05, 0.01]
    assert list(table["hidden"]) == [(256,), (128,), (128,)]
    assert table["best_val_acc"][0] == kResult["best_val_acc"] and np.isnan(table["best_val_acc"][1])
    # the final epoch of the done point: train accuracy and the train-test gap
    assert table["final_train_acc"][0] == _epoch(0, 3)[2]
    assert table["train_test_gap"][0] == pytest.approx(_epoch(0, 3)[2] - _epoch(0, 3)[6])
    assert np.isnan(table["final_train_acc"][1])

    curve = ablate.curves(results_path, kPoints[0]["id"])
    assert list(curve["epoch"]) == [1, 2, 3]
    assert list(curve["images_per_second"]) == [1000.0, 2000.0, 3000.0]
    assert "point" not in curve.columns
    failed = ablate.curves(results_path, kPoints[1]["id"])
    assert list(failed["epoch"]) == [1, 2] and failed["train_loss"][0] == _epoch(1, 1)[1]  # not the dead row
    assert len(ablate.curves(results_path, kPoints[2]["id"])) == 0

    with ablate.ResultsFile(results_path) as results:
        assert (results.confusion(kPoints[0]["id"]) == kConfusion).all()
        assert (results.confusion(kPoints[0]["id"], "val") == kConfusion.T).all()
        assert results.confusion(kPoints[1]["id"]) is None
        assert results.confusion(kPoints[2]["id"]) is None
        assert (results.test_predictions(kPoints[0]["id"]) == kPredictions).all()
        assert results.test_predictions(kPoints[1]["id"]) is None
        with pytest.raises(KeyError, match="no point 'nope'"):
            results.curves("nope")


def test_a_file_left_mid_update_is_refused_with_the_fix(tmp_path, monkeypatch):
    monkeypatch.setattr(ablate.results, "kSettleSeconds", 0.2)
    path = tmp_path / "killed.h5"
    write_format4(path, journal_bytes=-1)
    with pytest.raises(ablate.ResultsFormatError, match="resume the sweep"):
        ablate.load(path)


def test_a_reader_waits_while_the_writer_holds_the_file(tmp_path):
    """An update in place holds HDF5's exclusive lock for its few milliseconds (flock, as HDF5 takes it);
    the reader opens the file once it is released instead of failing."""
    path = tmp_path / "busy.h5"
    write_format4(path)
    holder = open(path, "rb")
    fcntl.flock(holder, fcntl.LOCK_EX)
    with pytest.raises(OSError, match="lock"):  # what a plain h5py reader meets meanwhile
        h5py.File(path, "r")
    release = threading.Timer(0.3, lambda: (fcntl.flock(holder, fcntl.LOCK_UN), holder.close()))
    began = time.monotonic()
    release.start()
    table = ablate.load(path)
    release.join()
    assert time.monotonic() - began >= 0.25
    assert list(table["status"]) == ["done", "failed", "pending"]
