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


def test_bootstrap_in_batches_bounds_memory_and_changes_nothing(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """9,999 resamples of 100k cases would hold 8 GB at once: batches give the same interval."""
    from workbench.stats import _bootstrap

    rng = np.random.default_rng(3)
    x = rng.lognormal(size=2500)
    y = x * rng.uniform(0.5, 1.5, size=2500)

    def ratio(a: np.ndarray, b: np.ndarray, axis: int) -> np.ndarray:
        return b.mean(axis=axis) / a.mean(axis=axis)

    drawn: list[int] = []
    real = _bootstrap.sps.bootstrap

    def spy(*args: object, **kw: object) -> object:
        if kw.get("n_resamples"):  # the first call draws; the others reuse its resamples
            drawn.append(int(kw["batch"]))  # type: ignore[call-overload]
        return real(*args, **kw)  # type: ignore[arg-type]

    monkeypatch.setattr(_bootstrap.sps, "bootstrap", spy)
    batched = _bootstrap.bootstrap_intervals((x, y), ratio, [0.95, 0.9], 7, 999)
    assert drawn == [800]  # 2,000,000 values / 2,500 cases
    monkeypatch.setattr(_bootstrap, "RESAMPLE_CELLS", 10**12)
    whole = _bootstrap.bootstrap_intervals((x, y), ratio, [0.95, 0.9], 7, 999)
    assert drawn[-1] == 999
    assert batched == whole
