"""analysis/ablate/results.py: load() and curves() against the raw HDF5 written by `ablate run`."""

import json

import h5py
import numpy as np
import pytest

import ablate
from ablate.results import ResultsFile, ResultsFormatError, kNewestFormatVersion


def raw_index(path):
    with h5py.File(path, "r") as f:
        return f["index"][:]


def raw_curve(path, point_id):
    """A point's rows of /curves, by epoch, read with h5py alone (format 4: the rows whose `point` is the
    point's /index row; -1 marks rows that no longer count)."""
    with h5py.File(path, "r") as f:
        row = [v.decode() for v in f["index"]["id"]].index(point_id)
        curves = f["curves"][:]
    rows = curves[curves["point"] == row]
    return rows[np.argsort(rows["epoch"], kind="stable")]


def test_load_has_one_row_per_point_in_plan_order(cases_h5):
    table = ablate.load(cases_h5)
    raw = raw_index(cases_h5)
    assert list(table["id"]) == [v.decode() for v in raw["id"]]
    assert len(table) == 10  # 5 cases x 2 seeds
    assert list(table["case"]) == [c for c in ("linear", "mlp32", "dropout", "l2", "diverge") for _ in (0, 1)]
    assert list(table["seed"]) == [0, 1] * 5
    assert all(isinstance(v, str) for v in table["status"])
    assert table["status"].value_counts().to_dict() == {"done": 8, "failed": 2}
    assert set(table.loc[table["status"] == "failed", "case"]) == {"diverge"}


def test_load_parses_every_hyperparameter_into_a_column(cases_h5):
    table = ablate.load(cases_h5)
    raw = raw_index(cases_h5)
    configs = {point_id.decode(): text.decode() for point_id, text in zip(raw["id"], raw["config_json"])}
    assert set(configs) == set(table["id"])
    for _, row in table.iterrows():
        config = json.loads(configs[row["id"]])
        for key, value in config.items():
            expected = tuple(value) if isinstance(value, list) else value
            assert row[key] == expected, (row["id"], key)
    assert set(table.attrs["config_keys"]) == set(config)
    assert table.loc[table["case"] == "linear", "hidden"].tolist() == [(), ()]
    assert table.loc[table["case"] == "mlp32", "hidden"].tolist() == [(32,), (32,)]
    # Grouping by any hyperparameter works, lists included.
    assert table.groupby("hidden").size().to_dict() == {(): 2, (32,): 8}
    assert table.groupby("lr").size().to_dict() == {0.05: 8, 100.0: 2}


def test_load_adds_the_final_epoch_and_the_train_test_gap(cases_h5):
    table = ablate.load(cases_h5)
    raw = raw_index(cases_h5)
    final_test = {point_id.decode(): value for point_id, value in zip(raw["id"], raw["final_test_acc"])}
    for _, row in table[table["status"] == "done"].iterrows():
        last = raw_curve(cases_h5, row["id"])[-1]
        assert row["final_train_acc"] == last["train_acc"]
        assert row["final_train_eval_acc"] == last["train_eval_acc"]
        assert row["final_val_acc"] == last["val_acc"]
        # The gap is measured on the clean train accuracy (eval mode, fixed training subset).
        assert row["train_test_gap"] == pytest.approx(last["train_eval_acc"] - final_test[row["id"]])
    failed = table[table["status"] == "failed"]
    assert failed["train_test_gap"].isna().all() and failed["final_test_acc"].isna().all()
    assert all("diverged" in error for error in failed["error"])


def test_curves_returns_every_epoch(cases_h5):
    table = ablate.load(cases_h5)
    point_id = table.loc[table["case"] == "dropout", "id"].iloc[0]
    curve = ablate.curves(cases_h5, point_id)
    raw = raw_curve(cases_h5, point_id)
    assert list(curve["epoch"]) == [1, 2]
    assert list(curve.columns[:7]) == ["epoch", "train_loss", "train_acc", "val_loss", "val_acc", "test_loss",
                                       "test_acc"]
    np.testing.assert_array_equal(curve["val_acc"].to_numpy(), raw["val_acc"])
    assert curve["test_acc"].iloc[-1] == table.loc[table["id"] == point_id, "final_test_acc"].iloc[0]


def test_a_failed_point_has_an_empty_curve_with_the_columns(cases_h5):
    table = ablate.load(cases_h5)
    failed_id = table.loc[table["status"] == "failed", "id"].iloc[0]
    curve = ablate.curves(cases_h5, failed_id)
    assert curve.empty and "val_acc" in curve.columns


def test_confusion_and_predictions(cases_h5):
    table = ablate.load(cases_h5)
    done = table[table["status"] == "done"].iloc[0]
    with ResultsFile(cases_h5) as results:
        confusion = results.confusion(done["id"])
        assert confusion.shape == (10, 10) and confusion.sum() == 10000  # the whole test set
        assert np.trace(confusion) / confusion.sum() == pytest.approx(done["final_test_acc"])
        assert results.confusion(table.loc[table["status"] == "failed", "id"].iloc[0]) is None
        with pytest.raises(ValueError):
            results.confusion(done["id"], split="train")


def test_unknown_point_names_the_file(cases_h5):
    with pytest.raises(KeyError, match="no point 'ffffffffffffffff'"):
        ablate.curves(cases_h5, "ffffffffffffffff")


def test_refuses_what_is_not_a_results_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="no such results file"):
        ablate.load(tmp_path / "missing.h5")
    foreign = tmp_path / "foreign.h5"
    with h5py.File(foreign, "w") as f:
        f["x"] = [1, 2, 3]
    with pytest.raises(ResultsFormatError, match="not an ablate results file"):
        ablate.load(foreign)
    text = tmp_path / "text.h5"
    text.write_text("hello")
    with pytest.raises(ResultsFormatError, match="not readable as HDF5"):
        ablate.load(text)


def test_refuses_a_newer_format(tmp_path, cases_h5):
    newer = tmp_path / "newer.h5"
    newer.write_bytes(cases_h5.read_bytes())
    with h5py.File(newer, "r+") as f:
        f.attrs["format_version"] = np.int64(kNewestFormatVersion + 1)
    with pytest.raises(ResultsFormatError, match=f"format_version {kNewestFormatVersion + 1} is newer"):
        ablate.load(newer)



def test_a_point_never_started_has_a_row_and_its_config_but_nothing_else(interrupted_h5):
    # The run was killed as soon as its plan was in the file: "later" never started.
    table = ablate.load(interrupted_h5)
    # Format 4 has no group per point: a point never started is an /index row with no attempt, no curve
    # rows and no result.
    with h5py.File(interrupted_h5, "r") as f:
        raw = f["index"][:]
        curve_points = f["curves"]["point"]
    assert [v.decode() for v in raw["id"]] == list(table["id"])
    never_started = [point["id"].decode() for point in raw if point["attempts"] == 0]
    for row, point in enumerate(raw):
        if point["attempts"] == 0:
            assert point["started"] == b"" and point["epochs_done"] == 0 and point["has_result"] == 0
            assert point["predictions_count"] == 0 and not (curve_points == row).any()
            # Its text columns are left at the fill value (no string written): they read as empty.
            assert [point[c] for c in ("error", "host", "device", "torch_version")] == [b""] * 4
    assert "later" in set(table.loc[table["id"].isin(never_started), "case"])
    for point_id in never_started:
        row = table[table["id"] == point_id].iloc[0]
        assert row["status"] == "pending"
        assert (row["error"], row["host"], row["device"]) == ("", "", "")
        for key, value in json.loads(row["config_json"]).items():
            assert row[key] == (tuple(value) if isinstance(value, list) else value), key
        with ResultsFile(interrupted_h5) as results:
            assert results.curves(point_id).empty and results.confusion(point_id) is None
            assert results.test_predictions(point_id) is None


def test_a_points_own_time_is_its_share_of_its_packs(packed_grid_h5, grid_h5):
    """pack_members: per epoch in /curves, its mean per point in /index; point_seconds = train_seconds over it."""
    for path, packed in ((packed_grid_h5, True), (grid_h5, False)):
        table = ablate.load(path)
        raw = raw_index(path)
        done = table[table["status"] == "done"]
        assert len(done) >= 4
        for _, point in done.iterrows():
            members = raw_curve(path, point["id"])["pack_members"]
            assert np.all((members >= 1) & (members <= 4)) and (packed or np.all(members == 1))
            assert point["pack_members"] == pytest.approx(members.mean())
            assert point["point_seconds"] == pytest.approx(point["train_seconds"] / members.mean())
            assert point["threads"] == 1 and point["ranks"] == 1  # --threads 1, local mode
        if packed:  # the first pack starts full: its members' first epoch was shared by 4
            assert (done["pack_members"] > 1).any()
            assert (done["point_seconds"] < done["train_seconds"]).any()
        else:
            assert list(done["point_seconds"]) == list(done["train_seconds"])
