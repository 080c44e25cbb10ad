"""Statistics over seeds: mean, sample standard deviation, a Student-t confidence interval of the mean, and
Welch's t-test between two settings (scipy.stats does the distributions)."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import stats as scipy_stats

kConfidence = 0.95
kSignificance = 0.05  # two-sided level at which the report calls a difference between two settings real


def t_quantile(p: float, dof: float) -> float:
    """The t with P(T <= t) = p (0 < p < 1) for Student's t with dof degrees of freedom,
    e.g. t_quantile(0.975, 2) = 4.3027."""
    if not 0.0 < p < 1.0:
        raise ValueError(f"t_quantile: p = {p} must be in (0, 1)")
    if not dof > 0:
        raise ValueError(f"t_quantile: dof = {dof} must be positive")
    return float(scipy_stats.t.ppf(p, dof))


def _finite(values) -> np.ndarray:
    """The finite values as floats: None and NaN (points that did not finish) left out."""
    array = np.asarray([v for v in values if v is not None], dtype=float)
    return array[np.isfinite(array)]


@dataclass(frozen=True)
class Summary:
    """Mean over seeds; std (ddof = 1) and the 95% CI of the mean only when n >= 2 (else NaN)."""
    n: int
    mean: float
    std: float
    ci_low: float
    ci_high: float

    @property
    def has_spread(self) -> bool:
        return self.n >= 2


def summarize(values) -> Summary:
    """Summary of the finite values (NaNs, i.e. points that did not finish, are left out)."""
    array = _finite(values)
    n = int(array.size)
    if n == 0:
        return Summary(0, math.nan, math.nan, math.nan, math.nan)
    mean = float(array.mean())
    if n == 1:
        return Summary(1, mean, math.nan, math.nan, math.nan)
    std = float(array.std(ddof=1))
    half_width = t_quantile(0.5 + kConfidence / 2.0, n - 1) * std / math.sqrt(n)
    return Summary(n, mean, std, mean - half_width, mean + half_width)


@dataclass(frozen=True)
class WelchTest:
    """Welch's two-sample t-test of mean(a) − mean(b) (variances not assumed equal). difference, t, dof and p
    are NaN when it cannot be computed: fewer than two finite values on a side, or no spread on either."""
    n_a: int
    n_b: int
    difference: float  # mean(a) − mean(b)
    t: float
    dof: float         # Welch–Satterthwaite degrees of freedom
    p: float           # two-sided

    @property
    def defined(self) -> bool:
        return math.isfinite(self.p)

    @property
    def significant(self) -> bool:
        """Whether the difference is real at the kSignificance level (two-sided)."""
        return self.defined and self.p < kSignificance


def welch_test(a, b) -> WelchTest:
    """Welch's t-test between the finite values of a and b (e.g. one metric of two settings over their seeds)."""
    a, b = _finite(a), _finite(b)
    difference = float(a.mean() - b.mean()) if a.size and b.size else math.nan
    if a.size < 2 or b.size < 2:
        return WelchTest(int(a.size), int(b.size), difference, math.nan, math.nan, math.nan)
    var_a, var_b = a.var(ddof=1) / a.size, b.var(ddof=1) / b.size
    if var_a + var_b == 0.0:  # every seed the same on both sides: no spread to test against
        return WelchTest(int(a.size), int(b.size), difference, math.nan, math.nan, math.nan)
    t = difference / math.sqrt(var_a + var_b)
    dof = (var_a + var_b) ** 2 / (var_a ** 2 / (a.size - 1) + var_b ** 2 / (b.size - 1))
    p = 2.0 * float(scipy_stats.t.sf(abs(t), dof))
    return WelchTest(int(a.size), int(b.size), difference, float(t), float(dof), p)
