"""analysis/ablate/grouping.py: settings and one-factor comparisons of real sweeps."""

import ablate
from ablate.grouping import SweepStructure, factor_of


def comparisons_by_title(path):
    structure = SweepStructure(ablate.load(path))
    return structure, {c.title: [s.label for s in c.settings] for c in structure.comparisons}


def test_cases_sweep(cases_h5):
    structure, comparisons = comparisons_by_title(cases_h5)
    assert [s.label for s in structure.settings] == ["linear", "mlp32", "dropout", "l2", "diverge"]
    assert all(len(s.points) == 2 for s in structure.settings)
    assert structure.swept_keys == ["dropout", "hidden", "l2", "lr", "normalize"]
    # "diverge" differs from mlp32 in lr, normalize and l2 (three factors): only the case overview holds it.
    assert comparisons == {
        "regularization (dropout, l2)": ["mlp32", "dropout", "l2"],
        "architecture (hidden)": ["linear", "mlp32"],
        "sweep cases": ["linear", "mlp32", "dropout", "l2", "diverge"],
    }
    regularization = structure.comparisons_of("regularization")[0]
    assert regularization.fixed == {"hidden": (32,), "lr": 0.05, "normalize": "standard"}


def test_grid_sweep_compares_each_axis_at_each_value_of_the_other(grid_h5):
    structure, comparisons = comparisons_by_title(grid_h5)
    assert len(structure.settings) == 4 and not structure.has_cases
    assert structure.settings[0].label == "lr=0.01, normalize=none"
    assert comparisons == {
        "lr at normalize=none": ["lr=0.01, normalize=none", "lr=0.1, normalize=none"],
        "lr at normalize=standard": ["lr=0.01, normalize=standard", "lr=0.1, normalize=standard"],
        "normalize at lr=0.01": ["lr=0.01, normalize=none", "lr=0.01, normalize=standard"],
        "normalize at lr=0.1": ["lr=0.1, normalize=none", "lr=0.1, normalize=standard"],
    }


def test_one_family_covers_every_case(augment_h5):
    # Every case differs only in augmentation keys, so no separate "sweep cases" comparison is added.
    _, comparisons = comparisons_by_title(augment_h5)
    assert comparisons == {"augmentation (augment_flip, augment_shift)": ["none", "shift1", "flip"]}


def test_random_search_has_no_one_factor_comparison(search_h5):
    structure, comparisons = comparisons_by_title(search_h5)
    assert comparisons == {}
    assert len(structure.settings) == 3 and structure.swept_keys == ["dropout", "lr"]


def test_factor_families():
    assert factor_of("l1") == factor_of("dropout") == "regularization"
    assert factor_of("augment_flip") == "augmentation"
    assert factor_of("lr") == "lr" and factor_of("normalize") == "normalize"
