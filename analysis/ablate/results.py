"""Reading an ablate results file (docs/results-format.md) into pandas and numpy."""

from __future__ import annotations

import json
import math
import os
import time

import h5py
import numpy as np
import pandas as pd

kFormat = "ablate-results"
# 2: /index holds config_json, hp.* only for swept keys; 3: early stopping (statuses paused and stopped,
# epochs_trained, until, /points/<id>/rungs), read like 2: new columns and datasets are picked up by name.
# 4: no /points groups; every point is a row of /index and of the per-point tables, its curve the rows of
# /curves whose `point` is its /index row (docs/results-format.md).
kNewestFormatVersion = 4
kFirstTableFormatVersion = 4
# A writer updating the file in place holds HDF5's lock on it (h5py then fails to open it) and marks it
# with journal_bytes = -1; a reader tries again for this long.
kSettleSeconds = 10.0
kStatuses = ("pending", "running", "done", "failed")  # the statuses every ablate writes; newer ones may follow
# Statuses whose point has a result (curves, best-on-validation numbers, confusion matrices): done, and stopped
# (ended early by the scheduling policy, its curves and best-on-validation numbers kept). Every other status,
# including any this version does not know, counts as "no result".
kResultStatuses = ("done", "stopped")
# Statuses of a point that may still change: a sweep writing the file has not finished it.
kUnfinishedStatuses = ("pending", "running", "paused")
# train_eval_loss and train_eval_acc (the clean train accuracy) are missing from files written before them,
# pack_members (the points trained together in the epoch, 1 alone) from files before journal version 5.
kCurveColumns = ("epoch", "train_loss", "train_acc", "val_loss", "val_acc", "test_loss", "test_acc",
                 "lr", "epoch_seconds", "images_per_second", "train_eval_loss", "train_eval_acc", "pack_members")
# Columns of /index that describe a point rather than a hyperparameter.
kIndexColumns = ("id", "case", "status", "seed", "trial", "suggested_by", "best_val_acc", "final_test_acc", "test_acc_at_best_val",
                 "train_seconds", "parameter_count", "best_epoch", "epochs_done")
# Point attributes copied into the table next to the index (the rest are in the index already).
kPointAttributes = ("error", "attempts", "host", "device", "started", "finished")


def has_result(status: str) -> bool:
    """Whether a point with this status has curves and best-on-validation numbers (see kResultStatuses)."""
    return status in kResultStatuses


def _with_point_seconds(table: pd.DataFrame) -> pd.DataFrame:
    """point_seconds: a point's own training time. A packed point (docs/packing.md) trained with others, and its
    train_seconds is its pack's wall time: its own is that over pack_members (the /index column: the points its
    epochs were shared with, on average). Alone, or in a file that does not say (pack_members NaN or missing),
    point_seconds is train_seconds."""
    if "pack_members" not in table.columns:
        table["pack_members"] = np.nan
    if "train_seconds" in table.columns:
        shared = table["pack_members"].where(table["pack_members"] > 0, 1.0)
        table["point_seconds"] = table["train_seconds"] / shared
    return table


class ResultsFormatError(ValueError):
    """The file is not an ablate results file this version can read; the message says why and what to do."""


def _text(value) -> str:
    if isinstance(value, bytes):
        return value.decode("utf-8")
    return str(value)


def _hashable(value):
    """Config values as table cells: lists become tuples so that pandas can group by them."""
    if isinstance(value, list):
        return tuple(_hashable(v) for v in value)
    if isinstance(value, dict):
        return json.dumps(value, sort_keys=True)
    return value


class ResultsFile:
    """A results file opened read-only. Use as a context manager and keep it open only while reading: a
    sweep that is still running cannot update the file while it is open (it waits, then replaces the file,
    and an open handle keeps seeing the old version)."""

    def __init__(self, path: str | os.PathLike):
        self.path = os.fspath(path)
        if not os.path.exists(self.path):
            raise FileNotFoundError(f"{self.path}: no such results file (pass the .h5 that `ablate run -o` wrote)")
        self._file = self._open_settled()
        attrs = self._file.attrs
        if _text(attrs.get("format", "")) != kFormat:
            self._file.close()
            raise ResultsFormatError(f"{self.path}: an HDF5 file but not an ablate results file "
                                     f"(its root attribute 'format' is not \"{kFormat}\")")
        version = int(attrs.get("format_version", 0))
        if version > kNewestFormatVersion:
            self._file.close()
            raise ResultsFormatError(f"{self.path}: format_version {version} is newer than this analysis reads "
                                     f"({kNewestFormatVersion}); update the ablate Python package to the ablate that wrote it")
        self.format_version = version
        self._tables = version >= kFirstTableFormatVersion
        self._positions: dict[str, int] | None = None
        self._curve_rows: dict[int, np.ndarray] | None = None
        self._index_raw: np.ndarray | None = None

    def _open_settled(self):
        """Opens the file read-only, waiting while a running sweep updates it in place (the writer holds
        HDF5's lock for the few milliseconds of an update, and marks the file with journal_bytes = -1)."""
        give_up = time.monotonic() + kSettleSeconds
        while True:
            try:
                handle = h5py.File(self.path, "r")
            except OSError as error:
                if "lock" in str(error).lower() and time.monotonic() < give_up:
                    time.sleep(0.02)
                    continue
                raise ResultsFormatError(f"{self.path}: not readable as HDF5 ({error}); is it an ablate results file?")
            if int(handle.attrs.get("journal_bytes", 0)) != -1:
                return handle
            handle.close()
            if time.monotonic() >= give_up:
                raise ResultsFormatError(
                    f"{self.path}: the sweep writing it stopped in the middle of an update (journal_bytes = -1), so "
                    f"it may be incomplete: resume the sweep (`ablate run` with the same spec and -o) and it is "
                    f"rebuilt from its journal")
            time.sleep(0.02)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def close(self):
        self._file.close()

    # --- the sweep -------------------------------------------------------------------------------
    def sweep_info(self) -> dict:
        """Root attributes (sweep name, spec text, versions, times) as plain Python values."""
        out = {}
        for key, value in self._file.attrs.items():
            out[key] = int(value) if isinstance(value, (np.integer,)) else _text(value)
        return out

    # --- the index -------------------------------------------------------------------------------
    def index(self) -> pd.DataFrame:
        """/index with strings decoded, plus every config key as a column (lists as tuples), the point
        attributes in kPointAttributes, and the final epoch's train/val accuracy and the train-test gap."""
        if "index" not in self._file:
            raise ResultsFormatError(f"{self.path}: has no /index table; was it written by ablate?")
        raw = self._index()
        table = pd.DataFrame({name: raw[name] for name in raw.dtype.names})
        for column in table.columns:
            if table[column].dtype == object:
                table[column] = [_text(v) for v in table[column]]
        if self._tables:
            return _with_point_seconds(self._table_index(table))
        config_keys: list[str] = []
        rows = []
        points = self._file.get("points")
        # Format 2 keeps every point's config in /index (a point never started has no group);
        # format 1 kept it only in the group.
        index_configs = table["config_json"] if "config_json" in table.columns else None
        for position, point_id in enumerate(table["id"]):
            group = points[point_id] if points is not None and point_id in points else None
            row = {}
            config_text = index_configs.iloc[position] if index_configs is not None else (
                _text(group.attrs["config_json"]) if group is not None else None)
            if config_text is not None:
                for key, value in json.loads(config_text).items():
                    if key not in config_keys:
                        config_keys.append(key)
                    row[key] = _hashable(value)
            if group is None:  # never started: what its group would say
                row.update({name: 0 if name == "attempts" else "" for name in kPointAttributes})
            else:
                for name in kPointAttributes:
                    if name in group.attrs:
                        value = group.attrs[name]
                        row[name] = int(value) if isinstance(value, np.integer) else _text(value)
                row.update(self._final_epoch(group))
            rows.append(row)
        extra = pd.DataFrame(rows, index=table.index)
        for column in extra.columns:
            if column in table.columns:  # "seed" is both a point column and a config key: keep the index's
                continue
            table[column] = extra[column]
        for column in ("final_train_acc", "final_train_eval_acc", "final_val_acc", "train_test_gap"):
            if column not in table.columns:
                table[column] = np.nan
        table.attrs["config_keys"] = sorted(config_keys)
        table.attrs["path"] = self.path
        return _with_point_seconds(table)

    def _index(self) -> np.ndarray:
        if self._index_raw is None:
            self._index_raw = self._file["index"][:]
        return self._index_raw

    def _table_index(self, table: pd.DataFrame) -> pd.DataFrame:
        """Format 4: the point's columns are in /index already; the final epoch comes from /curves."""
        config_keys: list[str] = []
        rows = []
        curves = self._curves_by_point()
        for position, config_text in enumerate(table["config_json"]):
            row = {}
            for key, value in json.loads(config_text).items():
                if key not in config_keys:
                    config_keys.append(key)
                row[key] = _hashable(value)
            if table["status"].iloc[position] in kResultStatuses and position in curves:
                row.update(self._final_row(curves[position][-1], float(table["final_test_acc"].iloc[position])))
            rows.append(row)
        extra = pd.DataFrame(rows, index=table.index)
        for column in extra.columns:
            if column not in table.columns:  # "seed" is both a point column and a config key: keep the index's
                table[column] = extra[column]
        for column in ("final_train_acc", "final_train_eval_acc", "final_val_acc", "train_test_gap"):
            if column not in table.columns:
                table[column] = np.nan
        table.attrs["config_keys"] = sorted(config_keys)
        table.attrs["path"] = self.path
        return table

    def _curves_by_point(self) -> dict[int, np.ndarray]:
        """Format 4: /curves rows of every point (rows with point = -1 no longer count), each by epoch."""
        if self._curve_rows is None:
            raw = self._file["curves"][:]
            raw = raw[raw["point"] >= 0]
            order = np.lexsort((raw["epoch"], raw["point"]))
            raw = raw[order]
            points, starts = np.unique(raw["point"], return_index=True)
            ends = list(starts[1:]) + [len(raw)]
            self._curve_rows = {int(p): raw[a:b] for p, a, b in zip(points, starts, ends)}
        return self._curve_rows

    def _position(self, point_id: str) -> int:
        if self._positions is None:
            self._positions = {_text(known): i for i, known in enumerate(self._index()["id"])}
        if point_id not in self._positions:
            raise KeyError(f"{self.path}: no point '{point_id}' (IDs are the 16-hex-digit `id` column of "
                           f"ablate.load())")
        return self._positions[point_id]

    @staticmethod
    def _final_row(last, test: float) -> dict:
        train = float(last["train_acc"])
        clean = float(last["train_eval_acc"]) if "train_eval_acc" in last.dtype.names else np.nan
        gap_train = clean if math.isfinite(clean) else train
        return {"final_train_acc": train, "final_train_eval_acc": clean, "final_val_acc": float(last["val_acc"]),
                "train_test_gap": gap_train - test if math.isfinite(test) else np.nan}

    @staticmethod
    def _final_epoch(group) -> dict:
        """The last curve row of a point with a result: what the train-test gap is measured on. The gap uses
        the clean train accuracy (train_eval_acc) where the file has it, else the running one (train_acc)."""
        if _text(group.attrs.get("status", "")) not in kResultStatuses or "curves" not in group or group["curves"].shape[0] == 0:
            return {}
        return ResultsFile._final_row(group["curves"][-1], float(group.attrs.get("final_test_acc", np.nan)))

    # --- one point -------------------------------------------------------------------------------
    def _point(self, point_id: str):
        """The point's group, or None for a point that was planned but never started (it has a row in
        /index and nothing else)."""
        points = self._file.get("points")
        if points is not None and point_id in points:
            return points[point_id]
        ids = self._file["index"]["id"] if "index" in self._file else []
        if any(_text(known) == point_id for known in ids):
            return None
        raise KeyError(f"{self.path}: no point '{point_id}' (IDs are the 16-hex-digit `id` column of "
                       f"ablate.load())")

    def curves(self, point_id: str) -> pd.DataFrame:
        """One row per finished epoch (possibly none), columns as in kCurveColumns (and any added later)."""
        if self._tables:
            rows = self._curves_by_point().get(self._position(point_id))
            names = [n for n in self._file["curves"].dtype.names if n != "point"]
            if rows is None:
                return pd.DataFrame({name: pd.Series(dtype=int if name == "epoch" else float) for name in names})
            return pd.DataFrame({name: rows[name] for name in names})
        group = self._point(point_id)
        if group is None or "curves" not in group:
            return pd.DataFrame({name: pd.Series(dtype=float) for name in kCurveColumns})
        raw = group["curves"][:]
        return pd.DataFrame({name: raw[name] for name in raw.dtype.names})

    def confusion(self, point_id: str, split: str = "test") -> np.ndarray | None:
        """confusion[true, predicted] after the last epoch; None unless the point is done."""
        if split not in ("test", "val"):
            raise ValueError(f"split must be 'test' or 'val', not {split!r}")
        if self._tables:
            position = self._position(point_id)
            if not self._index()["has_result"][position]:
                return None
            return self._file[f"confusion_{split}"][position].astype(np.int64)
        group = self._point(point_id)
        name = f"confusion_{split}"
        return group[name][:].astype(np.int64) if group is not None and name in group else None

    def test_predictions(self, point_id: str) -> np.ndarray | None:
        """Predicted class of every test image (test-set order), when the file stores them."""
        if self._tables:
            row = self._index()[self._position(point_id)]
            start, count = int(row["predictions_start"]), int(row["predictions_count"])
            if count == 0:
                return None
            return self._file["test_predictions"][start:start + count].astype(np.int64)
        group = self._point(point_id)
        if group is None or "test_predictions" not in group:
            return None
        return group["test_predictions"][:].astype(np.int64)


def load(path: str | os.PathLike) -> pd.DataFrame:
    """The whole sweep as one table: /index (one row per point, plan order) with strings decoded, every
    hyperparameter of config_json as a column named by its key (lists as tuples, so any of them can be
    grouped by), the point's error/attempts/host/device/started/finished, and for points with a result
    (done, stopped)
    final_train_acc (running), final_train_eval_acc (clean; NaN in files written before it), final_val_acc
    and train_test_gap (final train_eval_acc - final_test_acc, or train_acc - final_test_acc without it).
    df.attrs["config_keys"] lists the hyperparameter columns."""
    with ResultsFile(path) as results:
        return results.index()


def curves(path: str | os.PathLike, point_id: str) -> pd.DataFrame:
    """A point's learning curve: one row per finished epoch (epoch, train/val/test loss and accuracy, lr,
    epoch_seconds, images_per_second)."""
    with ResultsFile(path) as results:
        return results.curves(point_id)
