"""analysis/ablate/stats.py: the Student t quantile against published table values, seed summaries, and Welch's
t-test against closed forms, a second implementation and a Monte-Carlo run."""

import math

import numpy as np
import pytest
from scipy import stats as scipy_stats

from ablate.stats import summarize, t_quantile, welch_test

# Two-sided 95% critical values t(0.975, dof) and a few others, from standard t tables (8 significant digits).
kTable = [
    (0.975, 1, 12.706205), (0.975, 2, 4.3026527), (0.975, 3, 3.1824463), (0.975, 4, 2.7764451),
    (0.975, 5, 2.5705818), (0.975, 9, 2.2621572), (0.975, 29, 2.0452296), (0.975, 120, 1.9799304),
    (0.95, 1, 6.3137515), (0.995, 5, 4.0321430), (0.9995, 1, 636.61925), (0.5, 7, 0.0),
]


@pytest.mark.parametrize("p, dof, expected", kTable)
def test_t_quantile_matches_tables(p, dof, expected):
    assert t_quantile(p, dof) == pytest.approx(expected, rel=1e-6, abs=1e-9)


def test_t_quantile_is_symmetric_and_matches_the_closed_form_cdf_at_two_dof():
    assert t_quantile(0.025, 4) == pytest.approx(-2.7764451, rel=1e-6)
    # With 2 degrees of freedom P(T <= t) = 1/2 + t / (2 sqrt(2 + t^2)), so t = (2p - 1) sqrt(2 / (1 - (2p - 1)^2)).
    for p in (0.6, 0.9, 0.99):
        u = 2 * p - 1
        assert t_quantile(p, 2) == pytest.approx(u * math.sqrt(2 / (1 - u * u)), rel=1e-10)


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


def _t_cdf_2(t):
    """Student t CDF with 2 degrees of freedom, closed form."""
    return 0.5 + t / (2 * math.sqrt(2 + t * t))


def _t_cdf_4(t):
    """Student t CDF with 4 degrees of freedom, closed form: 1/2 + x (3 - x^2) / 4 with x = t / sqrt(4 + t^2)."""
    x = t / math.sqrt(4 + t * t)
    return 0.5 + x * (3 - x * x) / 4


def test_welch_by_hand_with_four_degrees_of_freedom():
    # Means 2 and 5, both variances 1: t = -3 / sqrt(1/3 + 1/3) = -3.6742346, dof = (2/3)^2 / (2 (1/3)^2 / 2) = 4.
    test = welch_test([1.0, 2.0, 3.0], [4.0, 5.0, 6.0])
    assert (test.n_a, test.n_b, test.difference) == (3, 3, -3.0)
    assert test.t == pytest.approx(-3.0 / math.sqrt(2.0 / 3.0), rel=1e-12)
    assert test.dof == pytest.approx(4.0, rel=1e-12)
    assert test.p == pytest.approx(2 * (1 - _t_cdf_4(3.0 / math.sqrt(2.0 / 3.0))), rel=1e-9)
    assert test.p == pytest.approx(0.0213116, abs=1e-6) and test.significant


def test_welch_with_one_constant_side_is_a_one_sample_test():
    # b has no spread: t = (2 - 5) / (1 / sqrt(3)), dof = n_a - 1 = 2, p from the closed-form CDF.
    test = welch_test([1.0, 2.0, 3.0], [5.0, 5.0, 5.0])
    assert test.t == pytest.approx(-3.0 * math.sqrt(3.0), rel=1e-12) and test.dof == pytest.approx(2.0)
    assert test.p == pytest.approx(2 * (1 - _t_cdf_2(3.0 * math.sqrt(3.0))), rel=1e-9)


def test_welch_agrees_with_scipys_ttest_ind():
    rng = np.random.default_rng(16)
    for n_a, n_b in ((3, 3), (2, 5), (4, 3), (10, 7)):
        a, b = rng.normal(0.9, 0.01, n_a), rng.normal(0.905, 0.02, n_b)
        reference = scipy_stats.ttest_ind(a, b, equal_var=False)
        test = welch_test(a, b)
        assert test.t == pytest.approx(reference.statistic, rel=1e-9)
        assert test.dof == pytest.approx(reference.df, rel=1e-9)
        assert test.p == pytest.approx(reference.pvalue, rel=1e-9)


def test_welch_p_values_are_uniform_under_the_null_when_it_is_exact():
    # With one side constant Welch's statistic is exactly Student t (n_a - 1 dof), so under the null
    # P(p < alpha) = alpha. 20,000 draws: the standard error of a 5% rate is 0.15 points.
    rng = np.random.default_rng(0)
    p_values = np.array([welch_test(rng.normal(0.0, 1.0, 3), [0.0, 0.0, 0.0]).p for _ in range(20000)])
    for alpha in (0.01, 0.05, 0.2, 0.5):
        assert np.mean(p_values < alpha) == pytest.approx(alpha, abs=4 * math.sqrt(alpha * (1 - alpha) / 20000))


def test_welch_is_undefined_without_two_seeds_or_without_spread():
    one_seed = welch_test([0.9], [0.8, 0.85, math.nan])
    assert (one_seed.n_a, one_seed.n_b) == (1, 2) and one_seed.difference == pytest.approx(0.075)
    assert not one_seed.defined and not one_seed.significant and math.isnan(one_seed.p)
    flat = welch_test([0.5, 0.5], [0.7, 0.7, None])
    assert not flat.defined and flat.difference == pytest.approx(-0.2)
    assert math.isnan(welch_test([], [1.0, 2.0]).difference)
