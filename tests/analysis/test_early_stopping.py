"""analysis/ablate/early_stopping.py and the report of a real ASHA sweep."""

import h5py

import ablate
from ablate import early_stopping

from test_report import assert_figures_written, read_report, section


def test_settings_and_rungs_follow_the_spec():
    es = early_stopping.settings('[base]\nepochs = 27\n[early_stopping]\nmethod = "asha"\nmetric = "val_loss"\n')
    assert es["method"] == "asha" and es["min_epochs"] == 1 and es["reduction_factor"] == 3
    assert es["maximize"] is False  # a loss is minimised
    assert early_stopping.rung_epochs(es, 27) == [1, 3, 9, 27]
    assert early_stopping.rung_epochs({**es, "min_epochs": 2}, 12) == [2, 6, 12]
    assert early_stopping.settings("[base]\nepochs = 3\n") is None


def test_a_real_asha_sweep_stops_points_and_the_file_says_where(asha_h5):
    table = ablate.load(asha_h5)
    statuses = set(table["status"])
    assert statuses <= {"done", "stopped"} and "stopped" in statuses and "done" in statuses
    # Format 4 (docs/results-format.md): a point is its /index row; its curve is the /curves rows whose
    # `point` is that row, its rungs the /rungs rows likewise (in decision order).
    with h5py.File(asha_h5, "r") as f:
        index = f["index"][:]
        curves = f["curves"][:]
        rungs = f["rungs"][:]
    assert len(index) == len(table)
    for row, point in enumerate(index):
        trained = int(point["epochs_trained"])
        epochs = sorted(int(e) for e in curves["epoch"][curves["point"] == row])
        assert epochs == list(range(1, trained + 1))  # one curve row per epoch trained
        assert int(point["epochs_done"]) == trained
        if point["status"] == b"stopped":
            assert trained in (1, 3)  # at a rung
            assert rungs["epoch"][rungs["point"] == row][-1] == trained
        else:
            assert trained == 9
    trained, full = early_stopping.compute(table, 9)
    assert trained == int(table["epochs_done"].sum()) and full == 81 and trained < full / 2


def test_report_of_an_asha_sweep_has_the_early_stopping_section(asha_h5, report_of):
    report_dir = report_of(asha_h5)
    text = read_report(report_dir)
    es = section(text, "Early stopping")
    assert "Method **asha** on `val_acc`" in es and "rungs at epochs 1, 3, 9" in es
    table = ablate.load(asha_h5)
    trained = int(table["epochs_done"].sum())
    assert f"trained **{trained} epochs** of the 81" in es
    # Points per rung: all 9 trained to epoch 1; the rows add up.
    assert "| 1 | 9 |" in es
    best = table[table["status"] == "done"].sort_values("best_val_acc", ascending=False).iloc[0]
    assert f"`{best['id']}`" in es
    assert_figures_written(report_dir, 1)
    assert "early-stopping-curves" in es


def test_pareto_front_keeps_the_points_nothing_beats_on_both():
    import pandas as pd
    from ablate import pareto
    table = pd.DataFrame({"id": list("abcde"), "status": ["done", "done", "done", "stopped", "done"],
                          "best_val_acc": [0.80, 0.85, 0.84, 0.99, 0.90],
                          "train_seconds": [1.0, 2.0, 3.0, 0.5, 10.0], "parameter_count": [10, 20, 5, 1, 40]})
    assert list(pareto.front(table, "train_seconds")["id"]) == ["a", "b", "e"]  # c is beaten by b; d stopped
    assert list(pareto.front(table, "parameter_count")["id"]) == ["c", "b", "e"]  # a is beaten by c


def test_report_has_the_pareto_fronts(cases_h5, report_of):
    from ablate import pareto
    text = section(read_report(report_of(cases_h5)), "Accuracy against cost")
    assert "pareto-fronts" in text
    table = ablate.load(cases_h5)
    done = table[table["status"] == "done"]
    cheapest = done.sort_values(["point_seconds", "best_val_acc"], ascending=[True, False]).iloc[0]
    assert f"`{cheapest['id']}`" in text  # the cheapest point is always on the time front
    # The front ends at the most accurate point (the cheapest of them on a tie).
    assert pareto.front(table, "point_seconds")["best_val_acc"].iloc[-1] == done["best_val_acc"].max()
