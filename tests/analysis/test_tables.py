"""analysis/ablate/tables.py: comparison tables recomputed by hand from the raw /index of real sweeps."""

import math

import h5py
import numpy as np
import pytest
from scipy import stats as scipy_stats

import ablate
from ablate.grouping import SweepStructure
from ablate.tables import comparison_markdown, comparison_table

kT975 = {1: 12.706205, 2: 4.3026527}  # t(0.975, dof), from tables


def raw_rows(path, case):
    """The done rows of one case, read with h5py alone."""
    with h5py.File(path, "r") as f:
        index = f["index"][:]
    keep = (index["case"] == case.encode()) & (index["status"] == b"done")
    return index[keep]


def by_hand(values):
    values = np.asarray(values, dtype=float)
    n = len(values)
    mean = values.sum() / n
    std = math.sqrt(((values - mean) ** 2).sum() / (n - 1))
    half = kT975[n - 1] * std / math.sqrt(n)
    return mean, std, mean - half, mean + half


def comparison(path, title):
    structure = SweepStructure(ablate.load(path))
    return structure, next(c for c in structure.comparisons if c.title == title)


def test_regularization_table_numbers(cases_h5):
    _, regularization = comparison(cases_h5, "regularization (dropout, l2)")
    table = comparison_table(regularization)
    assert list(table["setting"]) == ["mlp32", "dropout", "l2"]
    assert list(table["dropout"]) == [0.0, 0.3, 0.0] and list(table["l2"]) == [0.0, 0.0, 0.001]
    for _, row in table.iterrows():
        raw = raw_rows(cases_h5, row["setting"])
        assert len(raw) == 2
        # Trained alone: every epoch's pack_members is 1, and a point's time is its train_seconds.
        assert list(raw["pack_members"]) == [1.0, 1.0]
        for metric in ("final_test_acc", "best_val_acc", "test_acc_at_best_val", "point_seconds"):
            values = raw["train_seconds"] / raw["pack_members"] if metric == "point_seconds" else raw[metric]
            mean, std, low, high = by_hand(values)
            assert row[f"{metric}.n"] == 2
            assert row[f"{metric}.mean"] == pytest.approx(mean, abs=1e-12)
            assert row[f"{metric}.std"] == pytest.approx(std, abs=1e-12)
            assert row[f"{metric}.ci_low"] == pytest.approx(low, abs=1e-6)
            assert row[f"{metric}.ci_high"] == pytest.approx(high, abs=1e-6)
        assert row["parameter_count.mean"] == raw["parameter_count"][0]
    # Parameters of a 784-32-10 MLP: 784*32 + 32 + 32*10 + 10.
    assert set(table["parameter_count.mean"]) == {784 * 32 + 32 + 32 * 10 + 10}


def test_gap_is_final_clean_train_minus_final_test(cases_h5):
    _, architecture = comparison(cases_h5, "architecture (hidden)")
    table = comparison_table(architecture)
    for _, row in table.iterrows():
        gaps = []
        for raw in raw_rows(cases_h5, row["setting"]):
            last = ablate.curves(cases_h5, raw["id"].decode()).iloc[-1]
            assert 0 < last["train_eval_acc"] < 1 and last["train_eval_acc"] != last["train_acc"]
            gaps.append(last["train_eval_acc"] - raw["final_test_acc"])
        mean, std, _, _ = by_hand(gaps)
        assert row["train_test_gap.mean"] == pytest.approx(mean, abs=1e-12)
        assert row["train_test_gap.std"] == pytest.approx(std, abs=1e-12)
    assert list(table["parameter_count.mean"]) == [784 * 10 + 10, 784 * 32 + 32 + 32 * 10 + 10]


def test_failed_setting_is_a_row_without_numbers(cases_h5):
    structure, overview = comparison(cases_h5, "sweep cases")
    table = comparison_table(overview)
    diverge = table[table["setting"] == "diverge"].iloc[0]
    assert diverge["seeds"] == "0/2 (2 failed)"
    assert diverge["final_test_acc.n"] == 0 and math.isnan(diverge["final_test_acc.mean"])
    markdown = comparison_markdown(overview, structure.has_cases)
    diverge_line = next(line for line in markdown.splitlines() if line.startswith("| diverge |"))
    # six metrics without a mean, and no difference against the first setting
    assert "l2=1, lr=100, normalize=none" in diverge_line and diverge_line.count("—") == 7
    assert diverge_line.endswith("| — |") and math.isnan(diverge["vs_first.difference"])


def test_markdown_shows_mean_std_and_ci_in_percent(cases_h5):
    structure, regularization = comparison(cases_h5, "regularization (dropout, l2)")
    markdown = comparison_markdown(regularization, structure.has_cases)
    mean, std, low, high = by_hand(raw_rows(cases_h5, "dropout")["final_test_acc"])
    expected = f"{100 * mean:.2f} ± {100 * std:.2f} [{100 * low:.2f}, {100 * high:.2f}]"
    line = next(line for line in markdown.splitlines() if line.startswith("| dropout |"))
    assert line.split(" | ")[4] == expected  # setting, dropout, l2, seeds, final test acc


def test_one_seed_shows_no_spread(augment_h5):
    structure = SweepStructure(ablate.load(augment_h5))
    (augmentation,) = structure.comparisons
    table = comparison_table(augmentation)
    assert (table["final_test_acc.n"] == 1).all() and table["final_test_acc.std"].isna().all()
    assert table["final_test_acc.ci_low"].isna().all()
    markdown = comparison_markdown(augmentation, structure.has_cases)
    rows = markdown.splitlines()[2:]
    assert len(rows) == 3 and not any("±" in row or "[" in row for row in rows)
    flip = raw_rows(augment_h5, "flip")[0]
    assert f"| {100 * flip['final_test_acc']:.2f} |" in markdown


def test_each_setting_is_tested_against_the_first(cases_h5):
    structure, regularization = comparison(cases_h5, "regularization (dropout, l2)")
    table = comparison_table(regularization)
    first = raw_rows(cases_h5, "mlp32")["test_acc_at_best_val"]
    assert table.iloc[0]["vs_first.p"] != table.iloc[0]["vs_first.p"]  # the first has no test against itself
    markdown = comparison_markdown(regularization, structure.has_cases).splitlines()
    assert markdown[0].endswith("| Δ test at best-val vs first (pp), Welch p |")
    assert markdown[2].endswith("| (first) |")
    for (_, row), line in zip(table.iloc[1:].iterrows(), markdown[3:]):
        values = raw_rows(cases_h5, row["setting"])["test_acc_at_best_val"]
        reference = scipy_stats.ttest_ind(values, first, equal_var=False)
        assert row["vs_first.difference"] == pytest.approx(values.mean() - first.mean(), abs=1e-12)
        assert row["vs_first.t"] == pytest.approx(reference.statistic, rel=1e-9)
        assert row["vs_first.dof"] == pytest.approx(reference.df, rel=1e-9)
        assert row["vs_first.p"] == pytest.approx(reference.pvalue, rel=1e-9)
        difference = f"{100 * (values.mean() - first.mean()):+.2f}".replace("-", "−")
        p = reference.pvalue
        cell = f"{difference} (p = {p:.2g})" if p >= 0.001 else f"{difference} (p < 0.001)"
        assert line.endswith(f"| {cell}{' *' if p < 0.05 else ''} |"), line


def test_one_seed_cannot_be_tested(augment_h5):
    structure = SweepStructure(ablate.load(augment_h5))
    (augmentation,) = structure.comparisons
    table = comparison_table(augmentation)
    assert table["vs_first.p"].isna().all()
    first = raw_rows(augment_h5, augmentation.settings[0].label)[0]["test_acc_at_best_val"]
    flip = raw_rows(augment_h5, "flip")[0]["test_acc_at_best_val"]
    markdown = comparison_markdown(augmentation, structure.has_cases)
    line = next(line for line in markdown.splitlines() if line.startswith("| flip |"))
    assert line.endswith(f"| {100 * (flip - first):+.2f} (p —) |".replace("-", "−"))
