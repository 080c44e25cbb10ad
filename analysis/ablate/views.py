"""The numbers behind the report's specific views: ranking on validation, the search space of a random
search, learning rate x normalisation, and the confused class pairs of the best model."""

from __future__ import annotations

import json
import math
import tomllib
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ablate.grouping import Setting, SweepStructure, format_value
from ablate.tables import done_points, seed_counts, setting_summary

kSelectionMetric = "best_val_acc"      # what a setting is chosen on
kReportedMetric = "test_acc_at_best_val"  # what is reported for it


def ranking(structure: SweepStructure) -> pd.DataFrame:
    """Settings with at least one done seed, best mean validation accuracy first (ties: more seeds first)."""
    rows = []
    for setting in structure.settings:
        selection = setting_summary(setting, kSelectionMetric)
        if selection.n == 0:
            continue
        rows.append({"setting": setting, "label": setting.label, "seeds": seed_counts(setting),
                     "n": selection.n, "val_mean": selection.mean})
    table = pd.DataFrame(rows, columns=["setting", "label", "seeds", "n", "val_mean"])
    return table.sort_values(["val_mean", "n"], ascending=[False, False], kind="stable").reset_index(drop=True)


def best_point(setting: Setting) -> pd.Series:
    """The seed of a setting with the highest validation accuracy: chosen without looking at the test set."""
    done = done_points(setting)
    return done.loc[done[kSelectionMetric].idxmax()]


@dataclass
class SearchKey:
    key: str
    log_scale: bool


def random_search_keys(sweep_info: dict, structure: SweepStructure) -> list[SearchKey]:
    """The keys drawn by a [random] table in the sweep's spec (every spec that wrote to the file)."""
    specs = [sweep_info.get("sweep_spec", "")]
    try:
        specs += [entry.get("spec", "") for entry in json.loads(sweep_info.get("sweep_history", "[]"))]
    except (json.JSONDecodeError, AttributeError):
        pass
    keys: dict[str, SearchKey] = {}
    for text in specs:
        try:
            random = tomllib.loads(text).get("random", {})
        except tomllib.TOMLDecodeError:
            continue
        for key, spec in random.items():
            if isinstance(spec, dict) and key in structure.swept_keys:
                keys[key] = SearchKey(key, spec.get("dist") == "log_uniform")
    return list(keys.values())


@dataclass
class LrPanel:
    """Settings that differ only in normalize and lr; `fixed` is what else they share, `notable` the part of it
    that most settings of the sweep do not share."""
    fixed: dict
    notable: dict
    settings: list[Setting]


def lr_normalization_panels(structure: SweepStructure) -> list[LrPanel]:
    if not {"normalize", "lr"} <= set(structure.swept_keys):
        return []
    others = [k for k in structure.swept_keys if k not in ("normalize", "lr")]
    parts: dict = {}
    for setting in structure.settings:
        parts.setdefault(tuple(format_value(setting.value(k)) for k in others), []).append(setting)
    panels = []
    for members in parts.values():
        modes = {s.value("normalize") for s in members}
        rates = {s.value("lr") for s in members}
        if len(modes) >= 2 and len(rates) >= 2:
            fixed = {k: members[0].value(k) for k in others}
            panels.append(LrPanel(fixed, structure.notable(fixed), members))
    return panels


def lr_normalization_pivot(panel: LrPanel) -> pd.DataFrame:
    """Mean test accuracy (at the best-validation epoch) by normalize (rows) and lr (columns)."""
    cells = {}
    for setting in panel.settings:
        summary = setting_summary(setting, kReportedMetric)
        cells[(setting.value("normalize"), setting.value("lr"))] = summary
    modes = list(dict.fromkeys(s.value("normalize") for s in panel.settings))
    rates = sorted({s.value("lr") for s in panel.settings})
    return pd.DataFrame([[cells.get((m, r)) for r in rates] for m in modes], index=modes, columns=rates)


@dataclass
class ConfusedPair:
    a: int
    b: int
    a_as_b: int           # true a, predicted b
    b_as_a: int
    a_as_b_rate: float    # of the true a images
    b_as_a_rate: float

    @property
    def total(self) -> int:
        return self.a_as_b + self.b_as_a


def confused_pairs(confusion: np.ndarray, top: int) -> list[ConfusedPair]:
    """The class pairs with the most test images mistaken one way or the other, most first."""
    confusion = np.asarray(confusion, dtype=np.int64)
    per_class = confusion.sum(axis=1)
    pairs = []
    for a in range(confusion.shape[0]):
        for b in range(a + 1, confusion.shape[0]):
            ab, ba = int(confusion[a, b]), int(confusion[b, a])
            if ab + ba == 0:
                continue
            pairs.append(ConfusedPair(a, b, ab, ba,
                                      ab / per_class[a] if per_class[a] else math.nan,
                                      ba / per_class[b] if per_class[b] else math.nan))
    pairs.sort(key=lambda p: (-p.total, p.a, p.b))
    return pairs[:top]
