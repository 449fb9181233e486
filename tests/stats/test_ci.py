"""mean_ci: Wilson for pass/fail, t for continuous, bootstrap on request; NaN dropped."""

from __future__ import annotations

import math

import numpy as np
import pytest
from statsmodels.stats.proportion import proportion_confint

from workbench.stats import mean_ci


def test_binary_scores_use_wilson() -> None:
    ci = mean_ci([1] * 45 + [0] * 5)
    low, high = proportion_confint(45, 50, method="wilson")
    assert ci.method == "Wilson" and ci.n == 50
    assert (ci.low, ci.high) == pytest.approx((low, high))
    assert ci.high < 1  # unlike the normal interval, Wilson stays inside [0, 1] and off it


def test_continuous_scores_use_t_and_cover_the_mean() -> None:
    rng = np.random.default_rng(1)
    covered = 0
    for _ in range(400):
        sample = rng.normal(0.6, 0.2, size=30)
        ci = mean_ci(sample)
        covered += ci.low <= 0.6 <= ci.high
    assert ci.method == "t"
    assert 0.92 <= covered / 400 <= 0.98


def test_bootstrap_and_degenerate_inputs() -> None:
    ci = mean_ci([0.1, 0.4, 0.5, 0.9, 0.7, 0.3], method="bootstrap", seed=3)
    assert ci.method.startswith("bootstrap") and ci.low < ci.mean < ci.high
    assert mean_ci([0.1, 0.4, 0.5, 0.9, 0.7, 0.3], method="bootstrap", seed=3) == ci
    same = mean_ci([0.5, 0.5, 0.5])
    assert same.low == same.high == 0.5
    empty = mean_ci([float("nan")])
    assert empty.n == 0 and math.isnan(empty.mean) and str(empty) == "n/a"
    assert mean_ci([1, 0, float("nan")]).n == 2


def test_wilson_bounds_contain_the_mean_at_the_extremes() -> None:
    from workbench.stats import mean_ci

    for values in ([0.0] * 12, [1.0] * 12):
        ci = mean_ci(values)
        assert ci.low <= ci.mean <= ci.high and ci.method == "Wilson"
