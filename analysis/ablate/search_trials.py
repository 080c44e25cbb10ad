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


def trial_objectives(table: pd.DataFrame, method: str | None = None) -> pd.DataFrame | None:
    """One row per trial of one search method (`method`, or the only one in the table), in trial order:
    suggested_by, seeds, objective (NaN unless every seed has a result) and running_best (the best objective
    so far). None when the table has no search trials (of that method)."""
    if "trial" not in table.columns:
        return None
    trials = table[table["trial"].astype(int) >= 0]
    if method is not None:
        trials = trials[trials["suggested_by"] == method]
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


def objectives_by_method(table: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """trial_objectives of each search method in the table (a file that several sweeps wrote, e.g. random
    search and TPE with --allow-different-sweep, holds more than one: their trial numbers overlap)."""
    if "trial" not in table.columns or "suggested_by" not in table.columns:
        return {}
    methods = sorted(set(table.loc[table["trial"].astype(int) >= 0, "suggested_by"]))
    return {method: trial_objectives(table, method) for method in methods}


def trials_figure(objectives: pd.DataFrame | dict, title: str, path: str) -> bool:
    """Objective per trial (dots) and the running best (a step line), one colour per search method when given
    {method: objectives} (random and TPE side by side). False when no trial has an objective."""
    by_method = objectives if isinstance(objectives, dict) else {None: objectives}
    if all(o.dropna(subset=["objective"]).empty for o in by_method.values()):
        return False
    fig, ax = plt.subplots(figsize=(7, 4))
    for number, (method, rows) in enumerate(by_method.items()):
        color = f"C{number}"
        name = method or ", ".join(sorted(set(rows["suggested_by"])))
        known = rows.dropna(subset=["objective"])
        ax.plot(known.index, known["objective"] * 100, "o", alpha=0.7, color=color, label=f"trial ({name})")
        ax.step(rows.index, rows["running_best"] * 100, where="post", color=color,
                label=f"best so far ({name})" if len(by_method) > 1 else "best so far")
    ax.set_xlabel("trial")
    ax.set_ylabel("mean best validation accuracy (%)")
    ax.set_title(title)
    ax.legend(loc="lower right")
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return True
