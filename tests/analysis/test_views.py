"""analysis/ablate/views.py: selection on validation, the searched keys, lr x normalize panels, confused pairs."""

import h5py
import numpy as np
import pytest

import ablate
from ablate.grouping import SweepStructure
from ablate.views import best_point, confused_pairs, lr_normalization_panels, lr_normalization_pivot, \
    random_search_keys, ranking


def test_search_best_is_chosen_on_mean_validation_accuracy(search_h5):
    structure = SweepStructure(ablate.load(search_h5))
    with h5py.File(search_h5, "r") as f:
        index = f["index"][:]
        info = {k: v for k, v in f.attrs.items()}
    # By hand: mean best_val_acc over the seeds of each (lr, dropout).
    means = {}
    for row in index:
        means.setdefault((row["hp.lr"], row["hp.dropout"]), []).append(row["best_val_acc"])
    (best_lr, best_dropout), values = max(means.items(), key=lambda item: np.mean(item[1]))
    ranked = ranking(structure)
    assert len(ranked) == 3
    best = ranked.iloc[0]["setting"]
    assert (best.value("lr"), best.value("dropout")) == (best_lr, best_dropout)
    assert ranked.iloc[0]["val_mean"] == pytest.approx(np.mean(values))
    assert list(ranked["val_mean"]) == sorted(ranked["val_mean"], reverse=True)
    keys = random_search_keys(info, structure)
    assert [(k.key, k.log_scale) for k in keys] == [("lr", True), ("dropout", False)]
    # The best model is the seed of that setting with the highest validation accuracy.
    chosen = best_point(best)
    seeds = index[(index["hp.lr"] == best_lr) & (index["hp.dropout"] == best_dropout)]
    assert chosen["best_val_acc"] == seeds["best_val_acc"].max()


def test_ranking_leaves_out_settings_without_a_finished_seed(cases_h5):
    ranked = ranking(SweepStructure(ablate.load(cases_h5)))
    assert "diverge" not in list(ranked["label"]) and len(ranked) == 4


def test_lr_normalization_panel(grid_h5):
    structure = SweepStructure(ablate.load(grid_h5))
    (panel,) = lr_normalization_panels(structure)
    assert len(panel.settings) == 4 and panel.fixed == {}
    pivot = lr_normalization_pivot(panel)
    assert list(pivot.index) == ["none", "standard"] and list(pivot.columns) == [0.01, 0.1]
    with h5py.File(grid_h5, "r") as f:
        index = f["index"][:]
    rows = index[(index["hp.normalize"] == b"standard") & (index["hp.lr"] == 0.1)]
    assert pivot.loc["standard", 0.1].mean == pytest.approx(rows["test_acc_at_best_val"].mean())
    assert pivot.loc["standard", 0.1].n == 2


def test_no_lr_panel_without_both_keys(cases_h5, search_h5):
    # tiny_cases varies lr and normalize only together (the diverge case): no setting pair isolates them.
    assert lr_normalization_panels(SweepStructure(ablate.load(cases_h5))) == []
    assert lr_normalization_panels(SweepStructure(ablate.load(search_h5))) == []


def test_confused_pairs_by_hand():
    confusion = np.diag([100] * 10)
    confusion[6, 0], confusion[0, 6] = 30, 10   # Shirt -> T-shirt 30 of 130, T-shirt -> Shirt 10 of 110
    confusion[4, 2], confusion[2, 4] = 5, 25    # Coat <-> Pullover: 30 in all, ranked after (0, 6) = 40
    confusion[9, 7] = 3
    pairs = confused_pairs(confusion, top=2)
    assert [(p.a, p.b) for p in pairs] == [(0, 6), (2, 4)]
    first = pairs[0]
    assert (first.a_as_b, first.b_as_a, first.total) == (10, 30, 40)
    assert first.a_as_b_rate == pytest.approx(10 / 110) and first.b_as_a_rate == pytest.approx(30 / 130)
    assert len(confused_pairs(confusion, top=10)) == 3
    assert confused_pairs(np.diag([5] * 10), top=3) == []
