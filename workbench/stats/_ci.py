"""Confidence intervals of a mean: Wilson for pass/fail scores, t or bootstrap otherwise."""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

import numpy as np
from scipy import stats as sps
from statsmodels.stats.proportion import proportion_confint

from workbench.errors import ConfigError

__all__ = ["MeanCI", "mean_ci"]

Method = Literal["auto", "wilson", "t", "bootstrap"]


@dataclass(frozen=True)
class MeanCI:
    """A mean with its two-sided confidence interval and how it was computed."""

    mean: float
    """The sample mean (NaN when there are no values)."""
    low: float
    """Lower bound of the interval."""
    high: float
    """Upper bound of the interval."""
    n: int
    """Number of values used (NaN values are dropped)."""
    method: str
    """``"Wilson"``, ``"t"``, ``"bootstrap BCa"`` or ``"bootstrap percentile"``."""
    confidence: float = 0.95
    """Two-sided confidence level."""

    def __str__(self) -> str:
        """``0.812 [0.741, 0.866]``."""
        if math.isnan(self.mean):
            return "n/a"
        return f"{self.mean:.3f} [{self.low:.3f}, {self.high:.3f}]"


def mean_ci(
    values: Iterable[float],
    *,
    confidence: float = 0.95,
    method: Method = "auto",
    n_resamples: int = 2000,
    seed: int = 0,
) -> MeanCI:
    """Mean and two-sided confidence interval of scores.

    ``method="auto"`` uses the Wilson interval when every value is 0 or 1 (pass/fail) and the
    Student t interval otherwise; ``"bootstrap"`` uses scipy's BCa bootstrap (falling back to the
    percentile interval when BCa fails on degenerate data, and saying so in ``method``). NaN
    values (unscorable outputs) are dropped; ``n`` says how many remained.

    Example:
        >>> ci = mean_ci([1, 1, 0, 1, 1, 0, 1, 1, 1, 1])
        >>> ci.method, round(ci.mean, 2), round(ci.low, 3), round(ci.high, 3)
        ('Wilson', 0.8, 0.49, 0.943)
    """
    arr = np.asarray(list(values), dtype=float)
    arr = arr[~np.isnan(arr)]
    n = int(arr.size)
    if n == 0:
        nan = float("nan")
        return MeanCI(nan, nan, nan, 0, "none", confidence)
    mean = float(arr.mean())
    binary = bool(np.all((arr == 0) | (arr == 1)))
    chosen = ("wilson" if binary else "t") if method == "auto" else method
    if chosen == "wilson":
        if not binary:
            raise ConfigError("the Wilson interval needs pass/fail (0/1) values",
                              fix='Use method="t" or "bootstrap" for continuous scores.')
        low, high = proportion_confint(int(arr.sum()), n, alpha=1 - confidence, method="wilson")
        # at 0 or n passes the bound equals the mean up to rounding (2.8e-17 at 0 of 12)
        return MeanCI(mean, min(float(low), mean), max(float(high), mean), n, "Wilson",
                      confidence)
    if n == 1 or float(arr.std()) == 0.0:
        return MeanCI(mean, mean, mean, n, "t" if chosen == "t" else "bootstrap", confidence)
    if chosen == "t":
        sem = float(sps.sem(arr))
        low, high = sps.t.interval(confidence, df=n - 1, loc=mean, scale=sem)
        return MeanCI(mean, float(low), float(high), n, "t", confidence)
    rng = np.random.default_rng(seed)
    label = "bootstrap BCa"
    result = sps.bootstrap(
        (arr,), np.mean, confidence_level=confidence, n_resamples=n_resamples,
        method="BCa", rng=rng,
    )
    low, high = result.confidence_interval
    if not (math.isfinite(low) and math.isfinite(high)):
        label = "bootstrap percentile (BCa failed)"
        result = sps.bootstrap(
            (arr,), np.mean, confidence_level=confidence, n_resamples=n_resamples,
            method="percentile", rng=np.random.default_rng(seed),
        )
        low, high = result.confidence_interval
    return MeanCI(mean, float(low), float(high), n, label, confidence)
