"""Pareto fronts of a sweep: the points no other point beats on both validation accuracy and a
cost (training time, parameter count), the same rule as `ablate status --pareto`."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402

# point_seconds: train_seconds, or a packed point's share of its pack's (ablate.results._with_point_seconds).
kCosts = (("point_seconds", "training time (s)"), ("parameter_count", "parameters"))


def front(table: pd.DataFrame, cost: str, metric: str = "best_val_acc") -> pd.DataFrame:
    """The non-dominated rows of the points trained to the end (lower cost, higher metric), cheapest first."""
    rows = table[(table["status"] == "done") & table[metric].notna() & table[cost].notna()]
    rows = rows.sort_values([cost, metric], ascending=[True, False])
    best, keep = float("-inf"), []
    for index, row in rows.iterrows():
        if row[metric] > best:
            keep.append(index)
            best = row[metric]
    return rows.loc[keep]


def figure(table: pd.DataFrame, title: str, path: str, metric: str = "best_val_acc") -> bool:
    """Accuracy against each cost, every point grey, the front in colour and joined."""
    done = table[table["status"] == "done"]
    if len(done) < 3:
        return False
    fig, axes = plt.subplots(1, len(kCosts), figsize=(11, 4.2))
    for ax, (cost, label) in zip(axes, kCosts):
        ax.scatter(done[cost], done[metric] * 100, color="0.7", s=14, label="points")
        edge = front(table, cost, metric)
        ax.plot(edge[cost], edge[metric] * 100, "o-", color="tab:red", markersize=5, label="Pareto front")
        if done[cost].min() > 0 and done[cost].max() / done[cost].min() > 10:  # a wide range: log scale
            ax.set_xscale("log")
        ax.set_xlabel(label)
        ax.set_ylabel(f"{metric} (%)")
        ax.legend(loc="lower right")
    fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return True
