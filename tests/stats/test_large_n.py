"""Above LARGE_N cases the estimates use closed forms (cost) and a bootstrap standard error
(latency quantiles) instead of a 2,000-resample percentile bootstrap, so that a 100k-case
report builds in seconds. These tests hold the switch to what it promises: the same intervals
as the bootstrap up to Monte Carlo noise, and 95% coverage against known truth."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats as sps

from workbench.stats import _bootstrap, _estimates, paired_delta
from workbench.stats._scores import score_status


def _rows(n: int, seed: int) -> dict[str, pd.DataFrame]:
    """Paired cases: skewed costs and latencies, the candidate cheaper and faster."""
    rng = np.random.default_rng(seed)
    cases = [f"c{i}" for i in range(n)]
    lat_a = rng.lognormal(0.0, 0.5, n)
    lat_b = lat_a * rng.lognormal(-0.2, 0.3, n)
    cost_a = 0.002 * rng.lognormal(0.0, 0.8, n)
    cost_b = cost_a * rng.lognormal(-0.7, 0.4, n)

    def side(lat: np.ndarray, cost: np.ndarray) -> pd.DataFrame:
        return pd.DataFrame({"case_id": cases, "latency_s": lat, "cost_usd": cost,
                             "error_type": None, "score.a": 1.0})

    return {"incumbent": side(lat_a, cost_a), "candidate": side(lat_b, cost_b)}


def _estimate(rows: dict[str, pd.DataFrame]) -> dict[str, _estimates.Estimate]:
    shared = list(rows["incumbent"]["case_id"])
    return _estimates.paired_estimates(rows, shared, ["a"], 0.95, 0.05, seed=3,
                                       n_resamples=2000)


def test_above_large_n_the_intervals_match_the_percentile_bootstrap() -> None:
    n = _bootstrap.LARGE_N + 5_000
    rows = _rows(n, seed=1)
    est = _estimate(rows)
    assert est["cost_ratio"].method == "delta method (n > 20,000)"
    assert est["cost_per_1k_diff"].method == "normal (n > 20,000)"
    assert est["latency_p95_s"].method == "bootstrap normal (500 resamples, n > 20,000)"
    ca, cb = (rows[r]["cost_usd"].to_numpy() for r in ("incumbent", "candidate"))
    la, lb = (rows[r]["latency_s"].to_numpy() for r in ("incumbent", "candidate"))

    def reference(data: tuple[np.ndarray, ...], statistic: object) -> tuple[float, float]:
        ivs, label = _bootstrap.bootstrap_many(data, statistic, [0.95], 3, 2000, "percentile")
        return ivs[0][0]

    checks = {
        "cost_ratio": reference((ca, cb), lambda x, y, axis: y.mean(axis=axis)
                                / x.mean(axis=axis)),
        "cost_per_1k_diff": reference((1000 * (cb - ca),), lambda d, axis: d.mean(axis=axis)),
        "latency_p50_s": reference((la, lb), lambda x, y, axis: np.percentile(y, 50, axis=axis)
                                   - np.percentile(x, 50, axis=axis)),
        "latency_p95_s": reference((la, lb), lambda x, y, axis: np.percentile(y, 95, axis=axis)
                                   - np.percentile(x, 95, axis=axis)),
        "latency_p95_s.candidate": reference((lb,), lambda y, axis: np.percentile(y, 95,
                                                                                  axis=axis)),
    }
    for name, (low, high) in checks.items():
        e = est[name]
        half = (high - low) / 2
        # Monte Carlo noise of either interval's ends is about 0.06 standard errors
        assert abs(e.low - low) < 0.12 * half, (name, e.low, low)
        assert abs(e.high - high) < 0.12 * half, (name, e.high, high)
        assert e.bound_low > e.low and e.bound_high < e.high  # 90% inside 95%


def test_the_large_n_intervals_cover_the_truth(monkeypatch: pytest.MonkeyPatch) -> None:
    """Coverage of the closed forms and the bootstrap standard error against known values
    (the switch lowered to 500 cases so that 300 replications stay fast)."""
    monkeypatch.setattr(_estimates, "LARGE_N", 500)
    n, reps = 1_000, 300
    # lognormal truth: E[cost_b]/E[cost_a] = exp(-0.7 + 0.4²/2); latency_b ~ LN(-0.2, √0.34)
    ratio = math.exp(-0.7 + 0.08)
    p95_diff = math.exp(-0.2 + math.sqrt(0.34) * sps.norm.ppf(0.95)) \
        - math.exp(0.5 * sps.norm.ppf(0.95))
    covered = {"cost_ratio": 0, "latency_p95_s": 0}
    for rep in range(reps):
        rows = _rows(n, seed=100 + rep)
        est = _estimates.paired_estimates(rows, list(rows["incumbent"]["case_id"]), ["a"],
                                          0.95, 0.05, seed=rep, n_resamples=800)
        assert est["latency_p95_s"].method.startswith("bootstrap normal (200 resamples")
        covered["cost_ratio"] += est["cost_ratio"].low <= ratio <= est["cost_ratio"].high
        covered["latency_p95_s"] += (est["latency_p95_s"].low <= p95_diff
                                     <= est["latency_p95_s"].high)
    for name, hits in covered.items():
        assert 0.91 <= hits / reps <= 0.99, (name, hits / reps)


def test_the_bootstrap_normal_is_the_same_on_any_machine(monkeypatch: pytest.MonkeyPatch
                                                         ) -> None:
    x = np.random.default_rng(5).exponential(size=3_000)
    stat = lambda s, axis: np.percentile(s, 90, axis=axis)  # noqa: E731
    two, _ = _bootstrap.bootstrap_normal((x,), stat, [0.95], seed=1, n_resamples=800)
    monkeypatch.setattr(_bootstrap.os, "cpu_count", lambda: 1)
    one, _ = _bootstrap.bootstrap_normal((x,), stat, [0.95], seed=1, n_resamples=800)
    assert one == two


def test_a_metric_delta_above_large_n_keeps_its_normal_interval_beside_it() -> None:
    rng = np.random.default_rng(2)
    n = _bootstrap.LARGE_N + 1
    a = rng.integers(0, 2, n).astype(float)
    b = np.where(rng.random(n) < 0.1, 1 - a, a)
    d = paired_delta(a, b)
    assert math.isnan(d.bca_low) and d.bca_method.startswith("not drawn (n > 20,000")
    assert d.clt_low < d.delta < d.clt_high
    small = paired_delta(a[:3000], b[:3000])
    assert small.bca_low < small.delta < small.bca_high  # drawn below the switch


def test_scorer_failures_are_found_by_segment_and_name_only() -> None:
    rows = pd.DataFrame({
        "case_id": ["a", "b", "c", "d", "e"], "error_type": None,
        "scorer_errors": [None, "f1(x): ValueError: y", "xf1(x): KeyError: 1",
                          "acc: E: z; f1(x): TypeError: q", "f1(x)2: E: w"],
        "score.f1(x)": [1.0, float("nan"), float("nan"), float("nan"), float("nan")]})
    status = score_status(rows, "f1(x)")
    assert status.scorer_failed.tolist() == [False, True, False, True, False]
