"""analysis/ablate/stats.py: the Student t quantile against published table values, and seed summaries."""

import math

import pytest

from ablate.stats import summarize, t_cdf, t_quantile

# Two-sided 95% critical values t(0.975, dof) and a few others, from standard t tables (8 significant digits).
kTable = [
    (0.975, 1, 12.706205), (0.975, 2, 4.3026527), (0.975, 3, 3.1824463), (0.975, 4, 2.7764451),
    (0.975, 5, 2.5705818), (0.975, 9, 2.2621572), (0.975, 29, 2.0452296), (0.975, 120, 1.9799304),
    (0.95, 1, 6.3137515), (0.995, 5, 4.0321430), (0.9995, 1, 636.61925), (0.5, 7, 0.0),
]


@pytest.mark.parametrize("p, dof, expected", kTable)
def test_t_quantile_matches_tables(p, dof, expected):
    assert t_quantile(p, dof) == pytest.approx(expected, rel=1e-6, abs=1e-9)


def test_t_quantile_is_symmetric_and_inverts_the_cdf():
    assert t_quantile(0.025, 4) == pytest.approx(-2.7764451, rel=1e-6)
    for dof in (1, 2, 7, 50):
        for p in (0.6, 0.9, 0.99):
            assert t_cdf(t_quantile(p, dof), dof) == pytest.approx(p, abs=1e-10)


def test_t_quantile_approaches_the_normal_quantile():
    assert t_quantile(0.975, 1e6) == pytest.approx(1.959964, abs=1e-5)


@pytest.mark.parametrize("p, dof", [(0.0, 3), (1.0, 3), (0.5, 0)])
def test_t_quantile_rejects_impossible_arguments(p, dof):
    with pytest.raises(ValueError):
        t_quantile(p, dof)


def test_summary_of_three_values():
    # mean 2, std 1 (ddof 1), half width t(0.975, 2) * 1 / sqrt(3) = 4.3026527 / 1.7320508 = 2.4841377
    summary = summarize([1.0, 2.0, 3.0])
    assert (summary.n, summary.mean, summary.std) == (3, 2.0, 1.0)
    assert summary.ci_low == pytest.approx(2.0 - 2.4841377, abs=1e-6)
    assert summary.ci_high == pytest.approx(2.0 + 2.4841377, abs=1e-6)


def test_summary_leaves_out_unfinished_points():
    summary = summarize([0.5, math.nan, 0.7, None])
    assert summary.n == 2 and summary.mean == pytest.approx(0.6)


def test_one_value_has_no_spread_and_none_has_no_mean():
    one = summarize([0.8])
    assert one.n == 1 and one.mean == 0.8 and not one.has_spread
    assert math.isnan(one.std) and math.isnan(one.ci_low) and math.isnan(one.ci_high)
    assert summarize([]).n == 0 and math.isnan(summarize([math.nan]).mean)
