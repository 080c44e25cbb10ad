"""Settings (a config without its seed) and comparisons (settings that differ in one factor only).

A factor is one hyperparameter or a family of hyperparameters that studies vary together (the
regularisers, the augmentations, the architecture's shape): "none vs L2 vs dropout" differ in
several keys but in one factor. A [[cases]] sweep's case name is a factor too, for cases that
differ in more than one family (MLP for 15 epochs vs CNN for 12)."""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

# Keys that studies vary together; any key not listed is a factor of its own, named by the key.
kFactorFamilies = {
    "architecture": ("model", "hidden", "channels", "fc_width", "resnet_width", "resnet_blocks"),
    "activation": ("activation", "leaky_slope"),
    "regularization": ("l1", "l2", "weight_decay", "dropout", "label_smoothing"),
    "augmentation": ("augment_shift", "augment_flip", "augment_erase", "augment_erase_max_area", "eval_flip"),
    "optimizer": ("optimizer", "momentum", "nesterov"),
    "lr schedule": ("schedule", "step_epochs", "step_gamma", "warmup_epochs"),
    "data size": ("val_size", "train_limit"),
}
kCaseFactor = "case"
# Not a factor: the seed is what the statistics are taken over.
kSeedKey = "seed"


def factor_of(key: str) -> str:
    for family, keys in kFactorFamilies.items():
        if key in keys:
            return family
    return key


def format_value(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, tuple):
        return "[" + ",".join(format_value(v) for v in value) + "]"
    return str(value)


def describe(values: dict) -> str:
    return ", ".join(f"{key}={format_value(value)}" for key, value in values.items())


@dataclass
class Setting:
    """One configuration, all of its seeds."""
    number: int                 # position in plan order, from 0
    case: str
    config: dict                # every config key but the seed
    points: pd.DataFrame        # its rows of the index, plan order
    label: str = ""

    def value(self, key):
        return self.config.get(key)


@dataclass
class Comparison:
    """Settings that differ only in one factor; `fixed` holds the swept keys they share."""
    factor: str
    keys: list[str]             # config keys that vary inside the comparison
    fixed: dict                 # other swept keys, all at these values
    settings: list[Setting] = field(default_factory=list)
    notable: dict = field(default_factory=dict)  # the part of `fixed` that most settings of the sweep lack

    @property
    def title(self) -> str:
        if self.factor == kCaseFactor:
            what = "sweep cases"
        elif self.keys == [self.factor]:
            what = self.factor
        else:
            what = f"{self.factor} ({', '.join(self.keys)})"
        return what + (f" at {describe(self.notable)}" if self.notable else "")


class SweepStructure:
    """The settings of a results table, the keys the sweep varies, and its comparisons."""

    def __init__(self, table: pd.DataFrame):
        self.table = table
        self.config_keys = [k for k in table.attrs.get("config_keys", []) if k != kSeedKey]
        self.has_cases = bool((table["case"] != "").any())
        self.settings = self._settings()
        self.swept_keys = [k for k in self.config_keys
                           if len({_freeze(s.value(k)) for s in self.settings}) > 1]
        self._label_settings()
        self.comparisons = self._comparisons()

    def _settings(self) -> list[Setting]:
        by_config: dict = {}
        settings: list[Setting] = []
        for row_number, (_, row) in enumerate(self.table.iterrows()):
            config = {k: row[k] for k in self.config_keys if k in row and not _missing(row[k])}
            key = (row["case"], tuple(sorted((k, _freeze(v)) for k, v in config.items())))
            if key not in by_config:
                by_config[key] = len(settings)
                settings.append(Setting(len(settings), row["case"], config, []))
            settings[by_config[key]].points.append(row_number)
        for setting in settings:
            setting.points = self.table.iloc[setting.points]
        return settings

    def _label_settings(self):
        cases = [s.case for s in self.settings]
        _, grid_keys = self._case_and_grid_keys()
        for setting in self.settings:
            if self.has_cases and len(set(cases)) == len(cases):
                setting.label = setting.case
            elif self.has_cases:
                setting.label = ", ".join([setting.case] + [f"{k}={format_value(setting.value(k))}" for k in grid_keys])
            elif self.swept_keys:
                setting.label = describe({k: setting.value(k) for k in self.swept_keys})
            else:
                setting.label = "all points"

    def _case_and_grid_keys(self) -> tuple[list[str], list[str]]:
        """Swept keys fixed by the case (same in every setting of a case) and the rest (grid, random)."""
        if not self.has_cases:
            return [], list(self.swept_keys)
        grid = [k for k in self.swept_keys
                if any(len({_freeze(s.value(k)) for s in self.settings if s.case == case}) > 1
                       for case in {s.case for s in self.settings})]
        return [k for k in self.swept_keys if k not in grid], grid

    def _comparisons(self) -> list[Comparison]:
        comparisons: list[Comparison] = []
        factors: list[str] = []
        for key in self.swept_keys:
            if factor_of(key) not in factors:
                factors.append(factor_of(key))
        for factor in factors:
            inside = [k for k in self.swept_keys if factor_of(k) == factor]
            outside = [k for k in self.swept_keys if factor_of(k) != factor]
            comparisons += self._partition(factor, inside, outside)
        if self.has_cases:
            case_keys, grid_keys = self._case_and_grid_keys()
            for candidate in self._partition(kCaseFactor, case_keys, grid_keys):
                members = {s.number for s in candidate.settings}
                if len({s.case for s in candidate.settings}) < 2:
                    continue
                if any(members <= {s.number for s in c.settings} for c in comparisons):
                    continue
                comparisons.append(candidate)
        for comparison in comparisons:
            comparison.notable = self.notable(comparison.fixed)
        return comparisons

    def notable(self, fixed: dict) -> dict:
        """The entries of `fixed` that most settings do not share: what a title needs to say."""
        def is_majority(key, value):
            count = sum(_freeze(s.value(key)) == _freeze(value) for s in self.settings)
            return 2 * count > len(self.settings)
        return {k: v for k, v in fixed.items() if not is_majority(k, v)}

    def _partition(self, factor: str, inside: list[str], outside: list[str]) -> list[Comparison]:
        parts: dict = {}
        for setting in self.settings:
            signature = tuple(_freeze(setting.value(k)) for k in outside)
            parts.setdefault(signature, []).append(setting)
        comparisons = []
        for members in parts.values():
            if len(members) < 2:
                continue
            varying = [k for k in inside if len({_freeze(s.value(k)) for s in members}) > 1]
            if not varying:
                continue  # same config, different case names: nothing to compare
            fixed = {k: members[0].value(k) for k in outside}
            comparisons.append(Comparison(factor, varying, fixed, members))
        return comparisons

    def comparisons_of(self, factor: str) -> list[Comparison]:
        return [c for c in self.comparisons if c.factor == factor]


def _freeze(value):
    return tuple(value) if isinstance(value, list) else value


def _missing(value) -> bool:
    return value is None or (isinstance(value, float) and value != value)
