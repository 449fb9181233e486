"""The paired difference of per-case scores: interval, one-sided bounds and test.

Pass/fail scores get Tango's score interval and the mid-p McNemar test (Fagerland, Lydersen &
Laake 2013, 2014); continuous scores the t interval after Hall's skewness-removing
transformation (an exact sign bound when fewer than 10 cases differ, or the differences have
no spread) and the Wilcoxon signed-rank test (or paired t on request), with a BCa bootstrap
interval alongside (up to 20,000 cases, ``LARGE_N``). See ``_bounds.py`` for the reasons
behind each method.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any, Literal

import numpy as np
from scipy import stats as sps

from workbench.errors import ConfigError

from ._bootstrap import LARGE_N, bootstrap_intervals
from ._bounds import SPARSE_BELOW, mean_interval, tango_interval, tango_pvalue
from ._ci import MeanCI, mean_ci

__all__ = ["MetricDelta", "Test", "agresti_min", "mcnemar_midp", "noninferiority_pvalue",
           "paired_delta"]

Test = Literal["auto", "wilcoxon", "t"]


def mcnemar_midp(b: int, c: int) -> float:
    """Two-sided mid-p McNemar test on the discordant counts ``b`` and ``c``.

    mid-p = 2·P(X ≤ k−1) + P(X = k) with X ~ Binomial(b + c, ½) and k = min(b, c), capped at 1;
    1 when there are no discordant pairs (Fagerland, Lydersen & Laake 2013).

    Example:
        >>> round(mcnemar_midp(1, 7), 4)
        0.0391
    """
    n = b + c
    if n == 0:
        return 1.0
    k = min(b, c)
    return float(min(1.0, 2 * sps.binom.cdf(k - 1, n, 0.5) + sps.binom.pmf(k, n, 0.5)))


def agresti_min(b: int, c: int, n: int, confidence: float) -> tuple[float, float]:
    """Agresti–Min adjusted Wald interval of p(candidate) − p(incumbent), for reference.

    ``b`` = incumbent passes and candidate fails, ``c`` = the reverse, ``n`` pairs; adds ½ to
    each cell of the 2×2 table (Agresti & Min 2005). No longer used by gates: its one-sided
    bound promoted a candidate 2 points worse and never better 13% of the time at n = 100
    (exact enumeration), where Tango's score interval holds the level (``_bounds.py``).

    Example:
        >>> [round(x, 4) for x in agresti_min(2, 9, 50, 0.95)]
        [0.0093, 0.26]
    """
    z = float(sps.norm.ppf(1 - (1 - confidence) / 2))
    p10, p01 = (b + 0.5) / (n + 2), (c + 0.5) / (n + 2)
    d = p01 - p10
    se = math.sqrt(max(p10 + p01 - d * d, 0.0) / (n + 2))
    return max(d - z * se, -1.0), min(d + z * se, 1.0)


@dataclass(frozen=True)
class MetricDelta:
    """One metric, candidate against incumbent, on the cases both answered.

    ``low``/``high`` are the two-sided ``confidence`` interval of the mean difference
    (candidate − incumbent); ``bound_low``/``bound_high`` the one-sided bounds at ``alpha``
    that gates decide on. ``bca_low``/``bca_high`` is the BCa bootstrap interval and
    ``clt_low``/``clt_high`` the normal-approximation interval, shown alongside.
    ``informative`` counts the cases that carry information about the difference
    (discordant pairs for pass/fail, non-zero differences otherwise): gates need a minimum.
    """

    metric: str
    kind: Literal["pass/fail", "continuous"]
    n: int
    incumbent: MeanCI
    candidate: MeanCI
    delta: float
    low: float
    high: float
    method: str
    bound_low: float
    bound_high: float
    p_value: float
    test: str
    effect_size: float
    """Cohen's dz: mean difference over the standard deviation of the differences."""
    sd: float
    """Standard deviation of the per-case differences."""
    worse: int
    """Cases where the candidate scored lower (for pass/fail: the discordant count b)."""
    better: int
    """Cases where the candidate scored higher (for pass/fail: c)."""
    bca_low: float = float("nan")
    bca_high: float = float("nan")
    bca_method: str = ""
    clt_low: float = float("nan")
    clt_high: float = float("nan")
    informative: int = 0
    """Discordant pairs (pass/fail) or cases with a non-zero difference (continuous)."""
    errors_incumbent: int = 0
    """Failed calls of the incumbent on the paired cases."""
    errors_candidate: int = 0
    scorer_failures_incumbent: int = 0
    """Outputs this metric's scorer failed on (raised, or NaN where others scored)."""
    scorer_failures_candidate: int = 0
    not_applicable: int = 0
    """Cases left out of this metric because no output of theirs could be scored."""
    errors: str = "zero"
    repeats: int = 1
    within_var_incumbent: float = float("nan")
    """Mean within-case variance across repeats (decoding noise); NaN with one repeat."""
    within_var_candidate: float = float("nan")
    confidence: float = 0.95
    alpha: float = 0.05

    @property
    def discordant(self) -> int:
        """Cases whose scores differ between the two configurations."""
        return self.worse + self.better

    def row(self) -> dict[str, Any]:
        """A flat dict for tables."""
        d = asdict(self)
        for side in ("incumbent", "candidate"):
            ci = d.pop(side)
            d[side] = ci["mean"]
            d[f"{side}_low"], d[f"{side}_high"] = ci["low"], ci["high"]
            d[f"{side}_method"] = ci["method"]
        d["discordant"] = self.discordant
        return d


def _span(a: np.ndarray[Any, Any], b: np.ndarray[Any, Any]) -> tuple[float, float]:
    """The range a per-case difference can take: ±1 for scores in [0, 1], else observed."""
    lo, hi = float(min(a.min(), b.min())), float(max(a.max(), b.max()))
    if lo >= 0.0 and hi <= 1.0:
        lo, hi = 0.0, 1.0
    width = max(hi - lo, 1e-12)
    return -width, width


def paired_delta(
    incumbent: Sequence[float] | np.ndarray[Any, Any],
    candidate: Sequence[float] | np.ndarray[Any, Any],
    *,
    metric: str = "score",
    confidence: float = 0.95,
    alpha: float = 0.05,
    test: Test = "auto",
    seed: int = 0,
    n_resamples: int = 2000,
    bootstrap: bool = True,
) -> MetricDelta:
    """Paired difference of per-case scores (candidate − incumbent): interval, bounds, test.

    Pass/fail scores (every value 0 or 1) get Tango's score interval and the mid-p McNemar
    test; other scores the Hall-transformed t interval (an exact sign bound when fewer than 10
    cases differ or the differences have no spread) and the Wilcoxon signed-rank test
    (``test="t"`` for the paired t test). NaN pairs are dropped. No interval has zero width.

    Example:
        >>> d = paired_delta([1, 1, 0, 1, 0] * 20, [1, 1, 1, 1, 0] * 20, bootstrap=False)
        >>> d.kind, round(d.delta, 2), d.worse, d.better, d.test, d.method
        ('pass/fail', 0.2, 0, 20, 'mid-p McNemar', 'Tango score')
    """
    a = np.asarray(incumbent, dtype=float)
    b = np.asarray(candidate, dtype=float)
    if a.shape != b.shape:
        raise ConfigError("incumbent and candidate need one score per case each",
                          fix="Pass two arrays of the same length, paired by case.")
    keep = ~(np.isnan(a) | np.isnan(b))
    a, b = a[keep], b[keep]
    n = int(a.size)
    nan = float("nan")
    if n == 0:
        empty = mean_ci([])
        return MetricDelta(metric, "continuous", 0, empty, empty, nan, -1.0, 1.0,
                           "none (no paired case)", -1.0, 1.0, 1.0, "none", nan, nan, 0, 0,
                           confidence=confidence, alpha=alpha)
    d = b - a
    mean = float(d.mean())
    sd = float(d.std(ddof=1)) if n > 1 else 0.0
    binary = bool(np.all(np.isin(a, (0.0, 1.0))) and np.all(np.isin(b, (0.0, 1.0))))
    worse, better = int((d < 0).sum()), int((d > 0).sum())
    z = float(sps.norm.ppf(1 - (1 - confidence) / 2))
    se = sd / math.sqrt(n) if n > 1 else 0.0
    clt = (mean - z * se, mean + z * se)
    if binary:
        kind: Literal["pass/fail", "continuous"] = "pass/fail"
        low, high = tango_interval(worse, better, n, confidence)
        bound_low, bound_high = tango_interval(worse, better, n, 1 - 2 * alpha)
        method = "Tango score"
        p_value, test_name = mcnemar_midp(worse, better), "mid-p McNemar"
    else:
        kind = "continuous"
        iv = mean_interval(d, confidence=confidence, alpha=alpha, span=_span(a, b),
                           informative=worse + better)
        low, high, bound_low, bound_high, method = (iv.low, iv.high, iv.bound_low,
                                                    iv.bound_high, iv.method)
        if worse + better == 0:
            p_value, test_name = 1.0, "Wilcoxon signed-rank" if test != "t" else "paired t"
        elif test == "t":
            p_value = float(sps.ttest_rel(b, a).pvalue) if sd > 0 else 0.0
            test_name = "paired t"
        else:
            p_value = float(sps.wilcoxon(b, a, zero_method="zsplit").pvalue)
            test_name = "Wilcoxon signed-rank"
    bca: tuple[float, float] = (nan, nan)
    bca_method = ""
    if bootstrap and n > LARGE_N:
        # the percentile bootstrap of a mean (BCa stops at BCA_MAX_N) is first-order like the
        # normal interval beside it, and agrees with it to Monte Carlo noise at this size
        bca_method = f"not drawn (n > {LARGE_N:,}: the normal interval is alongside)"
    elif bootstrap and n > 2 and sd > 0:
        (bca,), bca_method = bootstrap_intervals((d,), lambda x, axis: x.mean(axis=axis),
                                                 [confidence], seed, n_resamples)
    return MetricDelta(
        metric, kind, n, mean_ci(a, confidence=confidence), mean_ci(b, confidence=confidence),
        mean, float(low), float(high), method, float(bound_low), float(bound_high), p_value,
        test_name, mean / sd if sd > 0 else 0.0, sd, worse, better, bca[0], bca[1], bca_method,
        float(clt[0]), float(clt[1]), informative=worse + better, confidence=confidence,
        alpha=alpha,
    )


def noninferiority_pvalue(incumbent: Sequence[float] | np.ndarray[Any, Any],
                          candidate: Sequence[float] | np.ndarray[Any, Any], margin: float, *,
                          min_informative: int = SPARSE_BELOW) -> float:
    """One-sided p-value of H0 "the candidate is worse by ``margin`` or more".

    By the gates' methods: Tango's score test for pass/fail, Hall's transformed t otherwise.

    1.0 when fewer than ``min_informative`` cases differ or the differences have no spread:
    such data cannot show non-inferiority (the routing table uses this).

    Example:
        >>> noninferiority_pvalue([1.0] * 12, [1.0] * 12, 0.02)   # 12 agreeing cases
        1.0
    """
    a = np.asarray(incumbent, dtype=float)
    b = np.asarray(candidate, dtype=float)
    keep = ~(np.isnan(a) | np.isnan(b))
    a, b = a[keep], b[keep]
    d = b - a
    n, k = int(d.size), int((d != 0).sum())
    if n < 3 or k < min_informative:
        return 1.0
    if np.all(np.isin(a, (0.0, 1.0))) and np.all(np.isin(b, (0.0, 1.0))):
        return tango_pvalue(int((d < 0).sum()), int((d > 0).sum()), n, -margin)
    s = float(d.std(ddof=1))
    if s == 0.0:
        return 1.0
    mean = float(d.mean())
    gamma = float(np.mean((d - mean) ** 3) / s ** 3)
    t0 = math.sqrt(n) * (mean + margin) / s
    g = t0 + gamma * t0 ** 2 / (3 * math.sqrt(n)) + gamma ** 2 * t0 ** 3 / (27 * n) \
        + gamma / (6 * math.sqrt(n))
    return float(sps.t.sf(g, n - 1))
