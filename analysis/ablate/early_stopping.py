"""What early stopping did in a sweep: rungs, points per rung, compute saved, and a figure
of every point's curve with the stopped ones drawn apart. Read from the results file alone
(the spec's [early_stopping] section is in its root attribute sweep_spec)."""

from __future__ import annotations

import tomllib

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402


def settings(spec_text: str) -> dict | None:
    """The spec's [early_stopping] table with its defaults filled in, or None (no early stopping)."""
    try:
        table = tomllib.loads(spec_text).get("early_stopping")
    except tomllib.TOMLDecodeError:
        return None
    if not table:
        return None
    out = {"metric": "val_acc", "min_epochs": 1, "reduction_factor": 3, **table}
    out["maximize"] = not out["metric"].endswith("_loss")
    return out


def rung_epochs(es: dict, budget: int) -> list[int]:
    """min_epochs * eta^k below the budget, then the budget (as the scheduler's policies compute them)."""
    rungs, rung = [], es["min_epochs"]
    while rung < budget:
        rungs.append(rung)
        rung *= es["reduction_factor"]
    return rungs + [budget]


def rung_table(table: pd.DataFrame, rungs: list[int]) -> list[list]:
    """Per rung: the points that trained to it, those that ended there (stopped, or done at the top), and those
    that went on."""
    trained = table["epochs_done"].astype(int)
    rows = []
    for rung in rungs:
        reached = int((trained >= rung).sum())
        ended = int(((trained == rung) & table["status"].isin(["stopped", "done"])).sum())
        rows.append([rung, reached, ended, reached - ended])
    return rows


def compute(table: pd.DataFrame, budget: int) -> tuple[int, int]:
    """(epochs trained, epochs a sweep without early stopping trains) over the points with a result."""
    finished = table[table["status"].isin(["done", "stopped"])]
    return int(finished["epochs_done"].sum()), int(len(finished) * budget)


def curves_figure(curves_by_id: dict, statuses: dict, metric: str, rungs: list[int], title: str, path: str) -> bool:
    """Every point's `metric` curve: points that trained every epoch in colour, stopped ones thin and grey,
    ending at their rung; the rungs as dotted lines."""
    if not curves_by_id:
        return False
    fig, ax = plt.subplots(figsize=(8, 5))
    stopped_label = done_label = False
    for point_id, curve in curves_by_id.items():
        if curve.empty or metric not in curve:
            continue
        if statuses.get(point_id) == "stopped":
            ax.plot(curve["epoch"], curve[metric] * 100 if metric.endswith("acc") else curve[metric],
                    color="0.55", linewidth=0.8, alpha=0.7, marker="o", markersize=3, markevery=[-1],
                    label=None if stopped_label else "stopped early")
            stopped_label = True
        else:
            ax.plot(curve["epoch"], curve[metric] * 100 if metric.endswith("acc") else curve[metric],
                    linewidth=1.8, label=None if done_label else "trained every epoch")
            done_label = True
    for rung in rungs[:-1]:
        ax.axvline(rung, color="0.4", linestyle=":", linewidth=0.8)
    ax.set_xlabel("epoch")
    ax.set_ylabel(f"{metric} (%)" if metric.endswith("acc") else metric)
    ax.set_title(title)
    if len(rungs) > 2 and rungs[1] / rungs[0] >= 3:
        ax.set_xscale("log")
        ax.set_xticks(rungs)
        ax.set_xticklabels([str(r) for r in rungs])
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return True
