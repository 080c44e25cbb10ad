"""A [search] sweep's trials in the order they were suggested: each trial's objective (the mean best
validation accuracy over its seeds, as the points ended) and the running best, for TPE and random search
alike (the points' `trial` and `suggested_by`, results format journal version 3)."""

from __future__ import annotations

import math

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402

from ablate.results import has_result  # noqa: E402


def trial_objectives(table: pd.DataFrame) -> pd.DataFrame | None:
    """One row per trial, in trial order: suggested_by, seeds, objective (NaN unless every seed has a result)
    and running_best (the best objective so far). None when the table has no search trials."""
    if "trial" not in table.columns:
        return None
    trials = table[table["trial"].astype(int) >= 0]
    if trials.empty:
        return None
    rows = []
    for trial, points in trials.groupby(trials["trial"].astype(int), sort=True):
        complete = all(has_result(status) for status in points["status"])
        objective = float(points["best_val_acc"].mean()) if complete else math.nan
        rows.append({"trial": trial, "suggested_by": points["suggested_by"].iloc[0], "seeds": len(points),
                     "objective": objective})
    out = pd.DataFrame(rows).set_index("trial")
    best, running = -math.inf, []
    for value in out["objective"]:
        if not math.isnan(value):
            best = max(best, value)
        running.append(best if best > -math.inf else math.nan)
    out["running_best"] = running
    return out


def trials_figure(objectives: pd.DataFrame, title: str, path: str) -> bool:
    """Objective per trial (dots) and the running best (a step line). False when no trial has an objective."""
    known = objectives.dropna(subset=["objective"])
    if known.empty:
        return False
    fig, ax = plt.subplots(figsize=(7, 4))
    for method, rows in known.groupby("suggested_by"):
        ax.plot(rows.index, rows["objective"] * 100, "o", alpha=0.7, label=f"trial ({method})")
    ax.step(objectives.index, objectives["running_best"] * 100, where="post", color="black", label="best so far")
    ax.set_xlabel("trial")
    ax.set_ylabel("mean best validation accuracy (%)")
    ax.set_title(title)
    ax.legend(loc="lower right")
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return True
