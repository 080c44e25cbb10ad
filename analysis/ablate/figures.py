"""The report's figures (matplotlib, Agg backend: no display needed). Each function draws one PNG."""

from __future__ import annotations

import math

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402  (the backend must be chosen first)
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from matplotlib.lines import Line2D  # noqa: E402
from matplotlib.ticker import FuncFormatter, LogLocator, MaxNLocator, NullFormatter  # noqa: E402

from ablate.fashion_mnist import kClassNames  # noqa: E402
from ablate.grouping import Setting  # noqa: E402
from ablate.tables import done_points, setting_summary  # noqa: E402

kDpi = 110
kChanceAccuracy = 0.1  # ten balanced classes
# Comparisons with more settings than this get no curve figure: the lines would be unreadable.
kMaxCurveSettings = 10
kMaxMarkedEpochs = 20


def _log_x(ax):
    """A log x axis labelled at 1, 2, 5 x 10^k in plain numbers (0.002, not 2x10^-3)."""
    ax.set_xscale("log")
    ax.xaxis.set_major_locator(LogLocator(base=10, subs=(1.0, 2.0, 5.0)))
    ax.xaxis.set_major_formatter(FuncFormatter(lambda value, _: f"{value:g}"))
    ax.xaxis.set_minor_formatter(NullFormatter())


def _spread_text(counts, what: str) -> str:
    """Subtitle: what the bands/bars mean, or that there is one seed and so no spread."""
    return f"mean over seeds, {what} = ±1 std" if max(counts, default=1) > 1 else "one seed: no spread shown"


def _colors(n: int) -> list:
    cmap = plt.get_cmap("tab10" if n <= 10 else "tab20")
    return [cmap(i % cmap.N) for i in range(n)]


def _save(fig, path: str):
    fig.savefig(path, dpi=kDpi, bbox_inches="tight")
    plt.close(fig)


def mean_curve(curves: list[pd.DataFrame], column: str) -> pd.DataFrame:
    """Per epoch: mean, std, min and count of `column` over the seeds' curves (a seed lacking an epoch is
    left out of that epoch)."""
    frames = [c[["epoch", column]] for c in curves if len(c)]
    if not frames:
        return pd.DataFrame(columns=["epoch", "mean", "std", "min", "n"])
    grouped = pd.concat(frames).groupby("epoch")[column]
    return pd.DataFrame({"mean": grouped.mean(), "std": grouped.std(ddof=1), "min": grouped.min(),
                         "n": grouped.count()}).reset_index()


def _band(ax, curve: pd.DataFrame, color, style: str, label=None, log_scale: bool = False):
    """The mean line and a +/- 1 std band where at least two seeds reached the epoch. On a log axis the band
    stops at the lowest seed instead of going to or below zero."""
    # Markers keep a one-epoch curve visible and show where the measurements are.
    ax.plot(curve["epoch"], curve["mean"], style, color=color, label=label, linewidth=1.6,
            marker="o" if len(curve) <= kMaxMarkedEpochs else None, markersize=4,
            markerfacecolor="white" if style == "--" else color)
    spread = curve[curve["n"] >= 2]
    if len(spread):
        low = spread["mean"] - spread["std"]
        if log_scale:
            low = np.maximum(low, spread["min"])
        ax.fill_between(spread["epoch"], low, spread["mean"] + spread["std"], color=color, alpha=0.18, linewidth=0)


def _setting_curves(setting: Setting, curves_by_id: dict) -> list[pd.DataFrame]:
    return [curves_by_id[i] for i in done_points(setting)["id"] if i in curves_by_id]


def _integer_epochs(ax, max_epoch: int):
    """Epoch axis from 1 to the last epoch, whole numbers only; a little room so end markers show."""
    pad = 0.25 if max_epoch <= 3 else 0.01 * max_epoch
    ax.set_xlim(1 - pad, max_epoch + pad)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True, min_n_ticks=1))


def learning_curves(settings: list[tuple[str, Setting]], curves_by_id: dict, title: str, path: str) -> bool:
    """Accuracy and loss per epoch of (label, setting) pairs: train dashed, validation solid, mean over seeds
    with a +/- 1 std band. False (nothing drawn) when no setting has a finished point."""
    drawn = [(label, _setting_curves(s, curves_by_id)) for label, s in settings]
    unfinished = [label for label, c in drawn if not c]
    drawn = [(label, c) for label, c in drawn if c]
    if not drawn:
        return False
    means = {(label, split, metric): mean_curve(curves, f"{split}_{metric}")
             for label, curves in drawn for split in ("train", "val") for metric in ("acc", "loss")}
    losses = [v for (_, _, metric), curve in means.items() if metric == "loss" for v in curve["mean"]
              if np.isfinite(v) and v > 0]
    log_loss = bool(losses) and max(losses) / min(losses) > 30
    fig, (acc_ax, loss_ax) = plt.subplots(1, 2, figsize=(12, 4.6))
    max_epoch = 1
    for (label, curves), color in zip(drawn, _colors(len(drawn))):
        for ax, metric in ((acc_ax, "acc"), (loss_ax, "loss")):
            log_scale = metric == "loss" and log_loss
            _band(ax, means[(label, "val", metric)], color, "-",
                  f"{label} (n={len(curves)})" if ax is acc_ax else None, log_scale)
            _band(ax, means[(label, "train", metric)], color, "--", None, log_scale)
        max_epoch = max(max_epoch, int(means[(label, "val", "acc")]["epoch"].max()))
    if log_loss:
        loss_ax.set_yscale("log")
    acc_ax.set_ylabel("accuracy")
    acc_ax.set_title("accuracy per epoch")
    loss_ax.set_ylabel("cross-entropy loss" + (" (log scale)" if log_loss else ""))
    loss_ax.set_title("loss per epoch")
    for ax in (acc_ax, loss_ax):
        ax.set_xlabel("epoch")
        ax.grid(alpha=0.3)
        _integer_epochs(ax, max_epoch)
    styles = [Line2D([], [], color="black", linestyle="-", marker="o", markersize=4, label="validation"),
              Line2D([], [], color="black", linestyle="--", marker="o", markersize=4, markerfacecolor="white",
                     label="train (running, during the epoch)")]
    loss_ax.legend(handles=styles, loc="upper right", fontsize=8)
    handles, labels = acc_ax.get_legend_handles_labels()
    for label in unfinished:  # say so, rather than leave the reader looking for a missing line
        handles.append(Line2D([], [], linestyle="", marker="x", color="gray"))
        labels.append(f"{label}: no finished seed")
    rows = math.ceil(len(handles) / 4)
    fig.legend(handles, labels, loc="lower center", ncol=min(4, len(handles)), fontsize=8,
               bbox_to_anchor=(0.5, -0.02 - 0.035 * rows))
    fig.suptitle(f"{title}\n{_spread_text([len(c) for _, c in drawn], 'band')}", fontsize=10)
    fig.tight_layout()
    _save(fig, path)
    return True


def _has_clean_train(curve: pd.DataFrame) -> bool:
    """Whether a curve has the clean train accuracy in every row (files before it lack the column)."""
    return "train_eval_acc" in curve.columns and bool(np.isfinite(curve["train_eval_acc"]).all())


def generalization_gap(settings: list[tuple[str, Setting]], curves_by_id: dict, title: str, path: str) -> bool:
    """Left: final train vs test accuracy of (label, setting) pairs; right: train - validation accuracy per
    epoch. Means over seeds, bars and bands +/- 1 std. Train is the clean train accuracy (train_eval_acc) where
    every drawn point has it, else the running one (files written before it), and the axes say which."""
    labelled = [(label, s) for label, s in settings if len(done_points(s))]
    drawn = [s for _, s in labelled]
    if not drawn:
        return False
    all_curves = [c for s in drawn for c in _setting_curves(s, curves_by_id)]
    clean = bool(all_curves) and all(_has_clean_train(c) for c in all_curves)
    train_metric, train_column = ("final_train_eval_acc", "train_eval_acc") if clean else ("final_train_acc", "train_acc")
    train_label = "train, clean (eval mode)" if clean else "train, running (during the epoch)"
    fig, (bar_ax, gap_ax) = plt.subplots(1, 2, figsize=(12, 4.6), gridspec_kw={"width_ratios": [1.1, 1]})
    x = np.arange(len(drawn))
    width = 0.38
    for offset, metric, label, color in ((-width / 2, train_metric, f"{train_label}, last epoch", "#4c72b0"),
                                         (width / 2, "final_test_acc", "test (last epoch)", "#dd8452")):
        summaries = [setting_summary(s, metric) for s in drawn]
        means = np.array([s.mean for s in summaries])
        bar_ax.bar(x + offset, means, width, yerr=[_std(s) for s in summaries], capsize=3, color=color, label=label,
                   error_kw={"elinewidth": 1, "ecolor": "#333333"})
    gaps = [setting_summary(s, "train_test_gap") for s in drawn]
    tops = [max(setting_summary(s, m).mean + _std(setting_summary(s, m)) for m in (train_metric, "final_test_acc"))
            for s in drawn]
    for xi, gap, top in zip(x, gaps, tops):
        bar_ax.annotate(f"gap {100 * gap.mean:+.1f}", (xi, top), textcoords="offset points", xytext=(0, 6),
                        ha="center", fontsize=8)
    lows = [setting_summary(s, "final_test_acc").mean for s in drawn] + \
           [setting_summary(s, train_metric).mean for s in drawn]
    bar_ax.set_ylim(max(0.0, min(lows) - 0.05), min(1.02, max(tops) + 0.04))
    bar_ax.set_xticks(x, [label for label, _ in labelled], rotation=30, ha="right", fontsize=8)
    bar_ax.set_ylabel("accuracy")
    counts = [setting_summary(s, "final_test_acc").n for s in drawn]
    bar_ax.set_title(f"final train vs test accuracy\n{_spread_text(counts, 'bars')}", fontsize=10)
    bar_ax.legend(fontsize=8, loc="lower right")
    bar_ax.grid(axis="y", alpha=0.3)
    max_epoch = 1
    for (label, setting), color in zip(labelled, _colors(len(drawn))):
        curves = _setting_curves(setting, curves_by_id)
        gap_curves = [pd.DataFrame({"epoch": c["epoch"], "gap": c[train_column] - c["val_acc"]}) for c in curves]
        gap = mean_curve(gap_curves, "gap")
        if len(gap):
            _band(gap_ax, gap, color, "-", label)
            max_epoch = max(max_epoch, int(gap["epoch"].max()))
    gap_ax.axhline(0, color="black", linewidth=0.8)
    gap_ax.set_xlabel("epoch")
    gap_ax.set_ylabel(f"train acc ({'clean' if clean else 'running'}) − validation acc")
    gap_ax.set_title(f"generalisation gap per epoch\n{_spread_text(counts, 'band')}", fontsize=10)
    _integer_epochs(gap_ax, max_epoch)
    gap_ax.grid(alpha=0.3)
    gap_ax.legend(fontsize=8)
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    _save(fig, path)
    return True


def _std(summary) -> float:
    """Error bar half-length: one standard deviation over seeds (0 for a single seed)."""
    return summary.std if summary.has_spread else 0.0


def accuracy_vs_time(settings: list[tuple[str, Setting]], metric: str, title: str, path: str) -> bool:
    """Mean training time against mean test accuracy per setting, bars +/- 1 std over seeds."""
    drawn = [(label, s) for label, s in settings if len(done_points(s))]
    if not drawn:
        return False
    fig, ax = plt.subplots(figsize=(7.5, 5))
    for (label, setting), color in zip(drawn, _colors(len(drawn))):
        time, accuracy = setting_summary(setting, "point_seconds"), setting_summary(setting, metric)
        ax.errorbar(time.mean, accuracy.mean, xerr=_std(time), yerr=_std(accuracy), fmt="o", color=color, capsize=3,
                    markersize=7, label=f"{label} (n={accuracy.n})")
    ax.set_xlabel("training time per run (s, evaluation included)")
    ax.set_ylabel("test accuracy at the best-validation epoch")
    counts = [setting_summary(s, metric).n for _, s in drawn]
    ax.set_title(f"{title}\n{_spread_text(counts, 'bars')}", fontsize=10)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="best")
    ax.margins(x=0.15, y=0.15)
    fig.tight_layout()
    _save(fig, path)
    return True


def accuracy_vs_lr(settings: list[Setting], metric: str, title: str, path: str) -> bool:
    """Test accuracy against learning rate (log axis), one line per normalize mode; settings whose seeds all
    failed are marked with an x at chance level."""
    modes = list(dict.fromkeys(s.value("normalize") for s in settings))
    fig, ax = plt.subplots(figsize=(7.5, 5))
    marked_failure = False
    for mode, color in zip(modes, _colors(len(modes))):
        members = sorted((s for s in settings if s.value("normalize") == mode), key=lambda s: s.value("lr"))
        points = [(s.value("lr"), setting_summary(s, metric)) for s in members]
        finished = [(lr, summary) for lr, summary in points if summary.n]
        if finished:
            ax.errorbar([lr for lr, _ in finished], [s.mean for _, s in finished],
                        yerr=[_std(s) for _, s in finished], fmt="-o", color=color, capsize=3,
                        label=f"normalize = {mode}")
        failed = [lr for lr, summary in points if summary.n == 0]
        if failed:
            ax.plot(failed, [kChanceAccuracy] * len(failed), "x", color=color, markersize=11, markeredgewidth=2.5,
                    label=None if finished else f"normalize = {mode}")
            marked_failure = True
    ax.axhline(kChanceAccuracy, color="gray", linewidth=0.8, linestyle=":")
    _log_x(ax)
    ax.set_xlabel("learning rate (log scale)")
    ax.set_ylabel("test accuracy at the best-validation epoch")
    handles, labels = ax.get_legend_handles_labels()
    if marked_failure:
        handles.append(Line2D([], [], color="black", marker="x", linestyle="", markersize=9, markeredgewidth=2))
        labels.append("no seed finished (failed)")
    handles.append(Line2D([], [], color="gray", linestyle=":"))
    labels.append("chance (10%)")
    ax.legend(handles, labels, fontsize=8, loc="best")
    counts = [setting_summary(s, metric).n for s in settings]
    ax.set_title(f"{title}\n{_spread_text(counts, 'bars')}", fontsize=10)
    ax.grid(alpha=0.3, which="both")
    fig.tight_layout()
    _save(fig, path)
    return True


def search_sensitivity(structure_settings: list[Setting], keys: list, best: Setting, path: str) -> bool:
    """Per searched key: every seed's validation accuracy (small dots) and each setting's mean (large
    dots), the setting chosen on validation starred."""
    drawn = [s for s in structure_settings if len(done_points(s))]
    if not drawn or not keys:
        return False
    fig, axes = plt.subplots(1, len(keys), figsize=(4.6 * len(keys), 4.2), squeeze=False)
    for ax, search_key in zip(axes[0], keys):
        for setting in drawn:
            value = setting.value(search_key.key)
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                continue
            seeds = done_points(setting)["best_val_acc"]
            ax.plot([value] * len(seeds), seeds, ".", color="gray", alpha=0.6, markersize=5)
            mean = setting_summary(setting, "best_val_acc").mean
            is_best = setting is best
            ax.plot(value, mean, "*" if is_best else "o", color="#c44e52" if is_best else "#4c72b0",
                    markersize=15 if is_best else 7, zorder=3)
        if search_key.log_scale:
            _log_x(ax)
        ax.set_xlabel(search_key.key + (" (log scale)" if search_key.log_scale else ""))
        ax.set_ylabel("best validation accuracy")
        ax.grid(alpha=0.3, which="both")
    legend = [Line2D([], [], color="gray", marker=".", linestyle="", label="one seed"),
              Line2D([], [], color="#4c72b0", marker="o", linestyle="", label="mean over seeds"),
              Line2D([], [], color="#c44e52", marker="*", markersize=12, linestyle="", label="chosen on validation")]
    axes[0][-1].legend(handles=legend, fontsize=8, loc="best")
    fig.suptitle("Random search: validation accuracy against each searched hyperparameter", fontsize=10)
    fig.tight_layout()
    _save(fig, path)
    return True


def confusion_heatmap(confusion: np.ndarray, title: str, path: str):
    """Row-normalised confusion (% of each true class). Off-diagonal cells are coloured on their own scale so
    the mistakes stay visible next to the large diagonal, which is grey and annotated."""
    confusion = np.asarray(confusion, dtype=float)
    rates = 100.0 * confusion / np.maximum(confusion.sum(axis=1, keepdims=True), 1)
    off = rates.copy()
    np.fill_diagonal(off, np.nan)
    fig, ax = plt.subplots(figsize=(8.4, 7.2))
    vmax = max(1.0, float(np.nanmax(off)))
    image = ax.imshow(off, cmap="Reds", vmin=0, vmax=vmax)
    n = rates.shape[0]
    for i in range(n):
        ax.add_patch(plt.Rectangle((i - 0.5, i - 0.5), 1, 1, color="#d9d9d9"))
        for j in range(n):
            value = rates[i, j]
            if i != j and value < 0.05:
                continue
            dark = i != j and value > 0.6 * vmax
            ax.text(j, i, f"{value:.1f}", ha="center", va="center", fontsize=7.5,
                    color="white" if dark else "black", fontweight="bold" if i == j else "normal")
    names = list(kClassNames[:n])
    ax.set_xticks(range(n), names, rotation=40, ha="right", fontsize=8)
    ax.set_yticks(range(n), names, fontsize=8)
    ax.set_xlabel("predicted class")
    ax.set_ylabel("true class")
    colorbar = fig.colorbar(image, ax=ax, fraction=0.046, pad=0.04)
    colorbar.set_label("% of the true class predicted as this class (off-diagonal)")
    ax.set_title(title + "\n(diagonal, grey: per-class accuracy in %)", fontsize=10)
    fig.tight_layout()
    _save(fig, path)


def image_strips(rows: list[tuple[str, np.ndarray]], columns: int, title: str, path: str):
    """One strip of test images per row, the row's caption above it; empty cells when a row has fewer images.
    The layout is fixed by hand: captions wider than one image must not shrink the images."""
    cell, caption_room, title_room = 1.1, 0.3, 0.5  # inches
    width = cell * columns
    height = title_room + len(rows) * (cell + caption_room)
    fig = plt.figure(figsize=(width, height))
    for row, (caption, images) in enumerate(rows):
        top = height - title_room - row * (cell + caption_room)
        fig.text(0.01, (top - 0.05) / height, caption if len(images) else caption + ": none", fontsize=9,
                 ha="left", va="top")
        for i in range(columns):
            ax = fig.add_axes([(i * cell + 0.05) / width, (top - caption_room - cell + 0.05) / height,
                               (cell - 0.1) / width, (cell - 0.1) / height])
            ax.axis("off")
            if i < len(images):
                ax.imshow(images[i], cmap="gray_r", vmin=0, vmax=255)
    fig.suptitle(title, fontsize=10, y=1 - 0.15 / height)
    fig.savefig(path, dpi=kDpi)
    plt.close(fig)
