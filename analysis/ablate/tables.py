"""Per-setting statistics over seeds and the tables of the report (as DataFrames and as Markdown)."""

from __future__ import annotations

import math

import pandas as pd

from ablate.grouping import Comparison, Setting, format_value
from ablate.results import kResultStatuses
from ablate.stats import Summary, WelchTest, summarize, welch_test

# (column of the index table, heading, scale for display, unit)
kMetrics = (
    ("final_test_acc", "final test acc (%)", 100.0),
    ("test_acc_at_best_val", "test acc at best-val epoch (%)", 100.0),
    ("best_val_acc", "best val acc (%)", 100.0),
    ("train_test_gap", "train − test gap (pp)", 100.0),
    ("point_seconds", "train time (s)", 1.0),  # a packed point's share of its pack's
    ("parameter_count", "parameters", 1.0),
)
# Columns listed one by one in a comparison table; more varying keys than this go into one column.
kMaxKeyColumns = 3
# The metric a comparison tests each setting on against its reference (the comparison's first setting in plan
# order: the spec lists the baseline first): the test accuracy reported for a setting.
kTestedMetric = "test_acc_at_best_val"
kTestedHeading = "Δ test at best-val vs first (pp), Welch p"


def done_points(setting: Setting) -> pd.DataFrame:
    """The seeds of a setting that have a result (done, or stopped early with its best-on-validation numbers)."""
    return setting.points[setting.points["status"].isin(kResultStatuses)]


def setting_summary(setting: Setting, metric: str) -> Summary:
    return summarize(done_points(setting)[metric].tolist())


def seed_counts(setting: Setting) -> str:
    """"3/3", or "1/3 (2 failed)" when some seeds did not finish."""
    statuses = setting.points["status"]
    done, total = int(statuses.isin(kResultStatuses).sum()), len(statuses)
    text = f"{done}/{total}"
    failed = int((statuses == "failed").sum())
    unfinished = total - done - failed
    notes = ([f"{failed} failed"] if failed else []) + ([f"{unfinished} unfinished"] if unfinished else [])
    return text + (f" ({', '.join(notes)})" if notes else "")


def difference_test(setting: Setting, reference: Setting, metric: str = kTestedMetric) -> WelchTest:
    """Welch's t-test of a setting's metric against a reference setting's, over their seeds with a result."""
    return welch_test(done_points(setting)[metric].tolist(), done_points(reference)[metric].tolist())


def format_test(test: WelchTest, scale: float = 100.0) -> str:
    """"+0.52 (p = 0.031) *" for a difference significant at 5%, "−0.10 (p = 0.62)", "+0.52 (p —)" when it
    cannot be tested (one seed, or no spread); "—" without a mean on either side."""
    if not math.isfinite(test.difference):
        return "—"
    text = f"{test.difference * scale:+.2f}".replace("-", "−")
    if not test.defined:
        return text + " (p —)"
    p = f"p = {test.p:.2g}" if test.p >= 0.001 else "p < 0.001"
    return f"{text} ({p})" + (" *" if test.significant else "")


def comparison_table(comparison: Comparison) -> pd.DataFrame:
    """One row per setting: label, the varying keys, seed counts, and for each metric n, mean, std, ci_low,
    ci_high (raw units: accuracies as fractions, seconds, parameters); then Welch's test of kTestedMetric
    against the first setting: vs_first.difference, vs_first.t, vs_first.dof, vs_first.p (NaN for the first
    setting itself and where the test is undefined)."""
    rows = []
    reference = comparison.settings[0]
    for setting in comparison.settings:
        row = {"setting": setting.label, "case": setting.case}
        for key in comparison.keys:
            row[key] = setting.value(key)
        row["seeds"] = seed_counts(setting)
        for metric, _, _ in kMetrics:
            summary = setting_summary(setting, metric)
            row[f"{metric}.n"] = summary.n
            row[f"{metric}.mean"] = summary.mean
            row[f"{metric}.std"] = summary.std
            row[f"{metric}.ci_low"] = summary.ci_low
            row[f"{metric}.ci_high"] = summary.ci_high
        test = difference_test(setting, reference) if setting is not reference else None
        for name in ("difference", "t", "dof", "p"):
            row[f"vs_first.{name}"] = getattr(test, name) if test is not None else math.nan
        rows.append(row)
    return pd.DataFrame(rows)


def format_summary(summary: Summary, scale: float, digits: int = 2, integer: bool = False) -> str:
    """"85.12 ± 0.31 [84.35, 85.89]" (mean ± std [95% CI]); just the mean for one seed; "—" for none."""
    if summary.n == 0:
        return "—"
    if integer:
        mean = f"{summary.mean * scale:,.0f}"
        return mean if not summary.has_spread or summary.std == 0 else f"{mean} ± {summary.std * scale:,.0f}"
    text = f"{summary.mean * scale:.{digits}f}"
    if summary.has_spread:
        text += (f" ± {summary.std * scale:.{digits}f} "
                 f"[{summary.ci_low * scale:.{digits}f}, {summary.ci_high * scale:.{digits}f}]")
    return text


def format_metric(table_row, metric: str, scale: float) -> str:
    summary = Summary(int(table_row[f"{metric}.n"]), table_row[f"{metric}.mean"], table_row[f"{metric}.std"],
                      table_row[f"{metric}.ci_low"], table_row[f"{metric}.ci_high"])
    if metric == "parameter_count":
        return format_summary(summary, scale, integer=True)
    if metric == "point_seconds":
        return format_summary(summary, scale, digits=seconds_digits(summary.mean))
    return format_summary(summary, scale)


def seconds_digits(seconds: float) -> int:
    """Decimals that keep about three significant digits of a duration."""
    if not math.isfinite(seconds) or seconds >= 100:
        return 0
    return 1 if seconds >= 10 else 2 if seconds >= 1 else 3


def key_columns(comparison: Comparison, has_cases: bool) -> tuple[list[str], list]:
    """Headings and per-setting cells that say how the settings differ."""
    keys = comparison.keys
    if len(keys) <= kMaxKeyColumns:
        cells = [[format_value(s.value(k)) for k in keys] for s in comparison.settings]
        return list(keys), cells
    # Many keys (a regulariser family, a cases overview): list each setting's departures from the most
    # common value of each key in this comparison.
    common = {k: pd.Series([format_value(s.value(k)) for s in comparison.settings]).mode().iloc[0] for k in keys}
    cells = []
    for setting in comparison.settings:
        departures = [f"{k}={format_value(setting.value(k))}" for k in keys
                      if format_value(setting.value(k)) != common[k]]
        cells.append([", ".join(departures) or "(none)"])
    return ["differs in"], cells


def markdown_table(headers: list[str], rows: list[list[str]]) -> str:
    def cell(value) -> str:
        return str(value).replace("|", "\\|").replace("\n", " ")
    lines = ["| " + " | ".join(cell(h) for h in headers) + " |",
             "|" + "|".join("---" for _ in headers) + "|"]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in rows]
    return "\n".join(lines)


def comparison_markdown(comparison: Comparison, has_cases: bool) -> str:
    table = comparison_table(comparison)
    key_headers, key_cells = key_columns(comparison, has_cases)
    headers = ((["setting"] if has_cases else []) + key_headers + ["seeds done"] + [h for _, h, _ in kMetrics]
               + [kTestedHeading])
    rows = []
    reference = comparison.settings[0]
    for (_, row), cells, setting in zip(table.iterrows(), key_cells, comparison.settings):
        metrics = [format_metric(row, metric, scale) for metric, _, scale in kMetrics]
        versus = "(first)" if setting is reference else format_test(difference_test(setting, reference))
        rows.append(([row["setting"]] if has_cases else []) + cells + [row["seeds"]] + metrics + [versus])
    return markdown_table(headers, rows)
