"""analysis/ablate/search_trials.py on a hand-made table of a [search] sweep's points."""

import math
import os

import pandas as pd

import ablate
from ablate import search_trials

from test_report import read_report, section


def _table():
    rows = [  # trial, seed, status, best_val_acc
        (0, 0, "done", 0.80), (0, 1, "done", 0.82),
        (1, 0, "done", 0.70), (1, 1, "stopped", 0.72),
        (2, 0, "done", 0.90), (2, 1, "failed", math.nan),
        (3, 0, "done", 0.86), (3, 1, "done", 0.88),
    ]
    return pd.DataFrame([{"id": f"p{t}{s}", "trial": t, "seed": s, "status": st, "best_val_acc": acc,
                          "suggested_by": "tpe"} for t, s, st, acc in rows])


def test_objective_per_trial_and_the_running_best():
    out = search_trials.trial_objectives(_table())
    assert list(out.index) == [0, 1, 2, 3]
    assert out.loc[0, "objective"] == 0.81 and abs(out.loc[1, "objective"] - 0.71) < 1e-12
    assert math.isnan(out.loc[2, "objective"])  # a failed seed: no objective
    assert abs(out.loc[3, "objective"] - 0.87) < 1e-12
    assert list(out["running_best"].round(6)) == [0.81, 0.81, 0.81, 0.87]
    assert list(out["seeds"]) == [2, 2, 2, 2]


def test_no_trials_no_table_and_the_figure_is_written(tmp_path):
    plain = _table().drop(columns=["trial"])
    assert search_trials.trial_objectives(plain) is None
    assert search_trials.trial_objectives(_table().assign(trial=-1)) is None
    path = os.path.join(tmp_path, "trials.png")
    assert search_trials.trials_figure(search_trials.trial_objectives(_table()), "tpe", path)
    assert os.path.getsize(path) > 1000


def test_a_real_tpe_sweep_has_its_trials_in_the_file_and_the_report(tpe_h5, report_of):
    table = ablate.load(tpe_h5)
    assert sorted(table["trial"].astype(int)) == [0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5]
    assert set(table["suggested_by"]) == {"tpe"}
    out = search_trials.trial_objectives(table)
    assert len(out) == 6 and out["objective"].notna().all()
    assert out["running_best"].is_monotonic_increasing
    text = section(read_report(report_of(tpe_h5)), "Search trials")
    assert "6 trials suggested (tpe), 6 with every seed's result" in text and "search-trials" in text


def test_random_and_tpe_in_one_file_are_kept_apart_and_drawn_side_by_side(tmp_path):
    tpe = _table()
    random = _table().assign(suggested_by="random", id=lambda t: "r" + t["id"],
                             best_val_acc=lambda t: t["best_val_acc"] - 0.05)
    both = pd.concat([tpe, random], ignore_index=True)
    by_method = search_trials.objectives_by_method(both)
    assert sorted(by_method) == ["random", "tpe"]
    # The same trial numbers, each method its own objectives and running best.
    assert list(by_method["tpe"].index) == list(by_method["random"].index) == [0, 1, 2, 3]
    assert list(by_method["tpe"]["running_best"].round(6)) == [0.81, 0.81, 0.81, 0.87]
    assert list(by_method["random"]["running_best"].round(6)) == [0.76, 0.76, 0.76, 0.82]
    path = os.path.join(tmp_path, "both.png")
    assert search_trials.trials_figure(by_method, "random vs tpe", path)
    assert os.path.getsize(path) > 1000
