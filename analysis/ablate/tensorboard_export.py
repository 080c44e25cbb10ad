"""`python -m ablate tensorboard`: a results file as TensorBoard runs, for the Scalars and HParams dashboards.

One run per point (the directory LOGDIR/<point id>): every curve column as a scalar per epoch, the point's
hyperparameters (the swept keys, and its case) as the HParams plugin's session start, best_val_acc and
test_acc_at_best_val as the metrics, and its outcome as the session end. The experiment (which hyperparameters
and metrics there are) goes into LOGDIR itself. Written with tensorboard's own event writer and its hparams plugin
metadata, so tensorboard reads it as it reads what it writes. With follow=True the file is polled and new epochs
are written as a running sweep records them.
"""

from __future__ import annotations

import glob
import json
import math
import os
import time
from dataclasses import dataclass, field

from ablate.results import ResultsFile, ResultsFormatError, kResultStatuses, kUnfinishedStatuses

# The HParams metrics: columns of /index, written as scalars with these tags once a point has a result.
kMetrics = ("best_val_acc", "test_acc_at_best_val")
kEventFilePattern = "events.out.tfevents.*"


def _tensorboard():
    """tensorboard's writer and protos, imported only when exporting (the rest of the package does not need it)."""
    try:
        from tensorboard.compat.proto import summary_pb2
        from tensorboard.compat.proto.event_pb2 import Event
        from tensorboard.plugins.hparams import api_pb2, metadata, plugin_data_pb2
        from tensorboard.summary.writer.event_file_writer import EventFileWriter
    except ImportError as error:
        raise ImportError(f"the TensorBoard export needs the tensorboard package ({error}): "
                          f"pip install tensorboard (or pip install './analysis[tensorboard]')") from error
    return summary_pb2, Event, api_pb2, metadata, plugin_data_pb2, EventFileWriter


def _hparam_value(value):
    """A config value as the HParams plugin takes it: a bool, a number or a string (lists as their JSON text)."""
    if isinstance(value, (bool, int, float, str)):
        return value
    if hasattr(value, "item"):  # numpy scalars
        return value.item()
    if isinstance(value, tuple):
        return json.dumps(list(value), separators=(",", ":"))
    return json.dumps(value, separators=(",", ":")) if value is not None else ""


def swept_hparams(table) -> list[str]:
    """The keys whose value differs between points (sorted), and "case" when the sweep has cases."""
    keys = []
    for key in table.attrs.get("config_keys", []):
        if key in table.columns and table[key].map(_hparam_value).nunique(dropna=False) > 1:
            keys.append(key)
    if "case" in table.columns and (table["case"] != "").any():
        keys.insert(0, "case")
    return keys


@dataclass
class _Run:
    writer: object
    last_epoch: int = 0
    metrics_written: bool = False
    ended: bool = False


@dataclass
class ExportSummary:
    runs: int = 0                # points with a run directory
    scalars: int = 0             # scalar values written
    finished: bool = False       # every point has a final status (none pending/running/paused)
    statuses: dict = field(default_factory=dict)


class TensorBoardExport:
    """Writes (and, called again, brings up to date) the runs of one results file under one log directory."""

    def __init__(self, results_path: str | os.PathLike, logdir: str | os.PathLike):
        (self._summary_pb2, self._Event, self._api_pb2, self._metadata, self._plugin_data_pb2,
         self._EventFileWriter) = _tensorboard()
        self.results_path = os.fspath(results_path)
        self.logdir = os.fspath(logdir)
        self._runs: dict[str, _Run] = {}
        self._experiment_keys: list[str] | None = None
        self._experiment_writer = None
        self.summary = ExportSummary()
        os.makedirs(self.logdir, exist_ok=True)

    # --- writing ---------------------------------------------------------------------------------
    def _event(self, writer, summary, step: int = 0):
        writer.add_event(self._Event(wall_time=time.time(), step=step, summary=summary))

    def _scalar(self, writer, tag: str, value: float, step: int):
        summary = self._summary_pb2.Summary(value=[self._summary_pb2.Summary.Value(tag=tag, simple_value=value)])
        self._event(writer, summary, step)
        self.summary.scalars += 1

    def _hparams_summary(self, tag: str, plugin_data):
        metadata = self._metadata.create_summary_metadata(plugin_data)
        value = self._summary_pb2.Summary.Value(tag=tag, metadata=metadata, tensor=self._metadata.NULL_TENSOR)
        return self._summary_pb2.Summary(value=[value])

    def _fresh_writer(self, directory: str):
        """A writer in `directory`, after removing the event files an earlier export left there."""
        for old in glob.glob(os.path.join(glob.escape(directory), kEventFilePattern)):
            os.remove(old)
        return self._EventFileWriter(directory, flush_secs=1)

    def _write_experiment(self, keys: list[str], table):
        api = self._api_pb2
        infos = []
        for key in keys:
            values = {_hparam_value(v) for v in table[key]}
            if all(isinstance(v, bool) for v in values):
                kind = api.DATA_TYPE_BOOL
            elif all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values):
                kind = api.DATA_TYPE_FLOAT64
            else:
                kind = api.DATA_TYPE_STRING
            infos.append(api.HParamInfo(name=key, type=kind))
        metrics = [api.MetricInfo(name=api.MetricName(tag=m), display_name=m) for m in kMetrics]
        experiment = api.Experiment(hparam_infos=infos, metric_infos=metrics, time_created_secs=time.time())
        data = self._plugin_data_pb2.HParamsPluginData(experiment=experiment,
                                                       version=self._metadata.PLUGIN_DATA_VERSION)
        if self._experiment_writer is None:
            self._experiment_writer = self._fresh_writer(self.logdir)
        self._event(self._experiment_writer, self._hparams_summary(self._metadata.EXPERIMENT_TAG, data))
        self._experiment_writer.flush()
        self._experiment_keys = keys

    def _start_run(self, row, keys: list[str]) -> _Run:
        run = _Run(self._fresh_writer(os.path.join(self.logdir, row["id"])))
        start = self._plugin_data_pb2.SessionStartInfo(start_time_secs=time.time())
        for key in keys:
            value = _hparam_value(row[key])
            if isinstance(value, bool):
                start.hparams[key].bool_value = value
            elif isinstance(value, (int, float)):
                start.hparams[key].number_value = float(value)
            else:
                start.hparams[key].string_value = str(value)
        data = self._plugin_data_pb2.HParamsPluginData(session_start_info=start,
                                                       version=self._metadata.PLUGIN_DATA_VERSION)
        self._event(run.writer, self._hparams_summary(self._metadata.SESSION_START_INFO_TAG, data))
        return run

    def _end_run(self, run: _Run, status: str):
        api = self._api_pb2
        outcome = {"done": api.STATUS_SUCCESS, "stopped": api.STATUS_SUCCESS, "failed": api.STATUS_FAILURE}
        end = self._plugin_data_pb2.SessionEndInfo(status=outcome.get(status, api.STATUS_UNKNOWN),
                                                   end_time_secs=time.time())
        data = self._plugin_data_pb2.HParamsPluginData(session_end_info=end,
                                                       version=self._metadata.PLUGIN_DATA_VERSION)
        self._event(run.writer, self._hparams_summary(self._metadata.SESSION_END_INFO_TAG, data))
        run.ended = True

    # --- one pass over the file ------------------------------------------------------------------
    def update(self) -> ExportSummary:
        """Reads the results file once and writes what is new since the last call. Returns the running totals."""
        with ResultsFile(self.results_path) as results:
            table = results.index()
            keys = swept_hparams(table)
            if keys != self._experiment_keys:
                self._write_experiment(keys, table)
            statuses: dict[str, int] = {}
            for _, row in table.iterrows():
                status = row["status"]
                statuses[status] = statuses.get(status, 0) + 1
                point_id = row["id"]
                run = self._runs.get(point_id)
                if run is not None and run.ended:
                    continue
                epochs = int(row["epochs_done"])
                if run is None:
                    if epochs == 0 and status in kUnfinishedStatuses:
                        continue  # not started: no run yet
                    run = self._runs[point_id] = self._start_run(row, keys)
                if epochs > run.last_epoch:
                    curve = results.curves(point_id)
                    for _, epoch_row in curve[curve["epoch"] > run.last_epoch].iterrows():
                        step = int(epoch_row["epoch"])
                        for column in curve.columns:
                            if column != "epoch":
                                self._scalar(run.writer, column, float(epoch_row[column]), step)
                        run.last_epoch = max(run.last_epoch, step)
                if status in kResultStatuses and not run.metrics_written:
                    step = int(row["best_epoch"]) if int(row.get("best_epoch", 0) or 0) > 0 else run.last_epoch
                    for metric in kMetrics:
                        value = float(row[metric])
                        if math.isfinite(value):
                            self._scalar(run.writer, metric, value, step)
                    run.metrics_written = True
                if status not in kUnfinishedStatuses:
                    self._end_run(run, status)
                run.writer.flush()
        self.summary.runs = len(self._runs)
        self.summary.statuses = statuses
        self.summary.finished = bool(len(table)) and not any(s in kUnfinishedStatuses for s in statuses)
        return self.summary

    def close(self):
        for run in self._runs.values():
            run.writer.close()
        if self._experiment_writer is not None:
            self._experiment_writer.close()


def export_tensorboard(results_path: str | os.PathLike, logdir: str | os.PathLike, follow: bool = False,
                       poll_seconds: float = 5.0, timeout_seconds: float | None = None,
                       progress=None) -> ExportSummary:
    """Writes LOGDIR/<point id>/ for every started point of the results file (event files of an earlier export
    there are replaced). follow=True polls the file every poll_seconds and writes new epochs until every point
    has a final status (done, stopped, failed, ...: anything but pending/running/paused) or timeout_seconds
    have passed. progress(text), when given, hears about each pass that wrote something."""
    deadline = None if timeout_seconds is None else time.monotonic() + timeout_seconds
    while follow and not os.path.exists(results_path):  # a sweep about to start
        if deadline is not None and time.monotonic() >= deadline:
            raise FileNotFoundError(f"{results_path}: no such results file (waited {timeout_seconds:g} s for it)")
        time.sleep(poll_seconds)
    export = TensorBoardExport(results_path, logdir)
    try:
        written = -1
        while True:
            try:
                summary = export.update()
            except (OSError, ResultsFormatError, KeyError):
                if not follow:
                    raise
                summary = export.summary  # caught the file mid-replacement: read it at the next poll
            if progress is not None and summary.scalars != written:
                counts = ", ".join(f"{n} {s}" for s, n in sorted(summary.statuses.items()))
                progress(f"{summary.runs} runs, {summary.scalars} scalars written ({counts})")
                written = summary.scalars
            if not follow or summary.finished:
                return summary
            if deadline is not None and time.monotonic() >= deadline:
                return summary
            time.sleep(poll_seconds if deadline is None else max(0.0, min(poll_seconds,
                                                                          deadline - time.monotonic())))
    finally:
        export.close()
