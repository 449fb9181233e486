"""Bootstrap intervals at several confidence levels from one set of resamples.

Used for the BCa interval shown beside a metric's delta and for the cost and latency
estimates. BCa falls back to the percentile method when it fails or the sample is large.
A statistic may return several values (``bootstrap_many``): they are computed on the same
resamples, which costs one draw and one gather of the data instead of one per value, and
gives each value exactly the interval a call of its own with the same seed would give
(scipy draws the same indices for the same seed, sample size and batch).
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Literal

import numpy as np
from scipy import stats as sps

__all__ = ["BCA_MAX_N", "LARGE_N", "RESAMPLE_CELLS", "bootstrap_intervals", "bootstrap_many",
           "bootstrap_normal"]

BCA_MAX_N = 2000
"""Above this many cases bootstrap intervals use the percentile method (BCa is O(n²))."""

RESAMPLE_CELLS = 2_000_000
"""Resamples are drawn in batches of at most this many values (resamples × cases): 9,999
resamples of 100,000 cases at once would hold 8 GB; in batches, about 16 MB a sample. The
same generator draws the same values in the same order, so batching never changes a result."""

LARGE_N = 20_000
"""Above this many cases the estimates switch to intervals whose cost does not grow with the
resamples × cases product: closed-form (normal, delta method) intervals for means and ratios
of means, and ``bootstrap_normal`` for quantiles. Above ``BCA_MAX_N`` the bootstrap already
used the percentile method, which is first-order accurate like these; at this size all of
them agree to Monte Carlo noise (tests/stats/test_large_n.py)."""

Interval = tuple[float, float]


def bootstrap_many(data: tuple[np.ndarray[Any, Any], ...], statistic: Callable[..., Any],
                   confidences: Sequence[float], seed: int, n_resamples: int,
                   method: Literal["BCa", "percentile"] = "BCa"
                   ) -> tuple[list[list[Interval]], str]:
    """Intervals of every value ``statistic`` returns, at each level, from one set of resamples.

    ``statistic(*data, axis=-1)`` returns one value or a stack of values (first axis); the
    result is ``[[(low, high) per value] per level]`` and the method's label. With BCa, a
    value whose interval comes out non-finite sends all of them to the percentile method.

    Example:
        >>> x = np.arange(1.0, 41.0)
        >>> ivs, label = bootstrap_many((x,), lambda s, axis: np.stack(
        ...     [s.mean(axis=axis), np.median(s, axis=axis)]), [0.95], seed=0, n_resamples=500)
        >>> [[round(v, 1) for v in iv] for iv in ivs[0]], label  # mean, median at 95%
        ([[16.6, 23.8], [14.0, 26.3]], 'bootstrap BCa')
    """
    rng = np.random.default_rng(seed)
    paired = len(data) > 1
    if method == "BCa" and len(data[0]) > BCA_MAX_N:
        # BCa's jackknife costs O(n²); at this size BCa, percentile and CLT intervals agree
        return bootstrap_many(data, statistic, confidences, seed, n_resamples,
                              "percentile")[0], f"bootstrap percentile (n > {BCA_MAX_N})"
    label = "bootstrap BCa" if method == "BCa" else "bootstrap percentile"
    batch = max(1, min(n_resamples, RESAMPLE_CELLS // max(1, len(data[0]))))
    first = sps.bootstrap(data, statistic, paired=paired, vectorized=True,
                          confidence_level=confidences[0], n_resamples=n_resamples,
                          batch=batch, method=method, rng=rng)
    out = [_pairs(first.confidence_interval)]
    if method == "BCa" and not all(math.isfinite(x) for iv in out[0] for x in iv):
        return bootstrap_many(data, statistic, confidences, seed, n_resamples,
                              "percentile")[0], "bootstrap percentile (BCa failed)"
    for level in confidences[1:]:
        again = sps.bootstrap(data, statistic, paired=paired, vectorized=True,
                              confidence_level=level, n_resamples=0, bootstrap_result=first,
                              method=method, rng=rng)
        out.append(_pairs(again.confidence_interval))
    return out, label


def _pairs(ci: Any) -> list[Interval]:
    low, high = np.atleast_1d(ci.low), np.atleast_1d(ci.high)
    return [(float(lo), float(hi)) for lo, hi in zip(low, high, strict=True)]


def bootstrap_intervals(data: tuple[np.ndarray[Any, Any], ...], statistic: Callable[..., Any],
                        confidences: Sequence[float], seed: int, n_resamples: int,
                        method: Literal["BCa", "percentile"] = "BCa"
                        ) -> tuple[list[Interval], str]:
    """Bootstrap intervals of one statistic at several levels from one set of resamples."""
    ivs, label = bootstrap_many(data, statistic, confidences, seed, n_resamples, method)
    return [level[0] for level in ivs], label


def bootstrap_normal(data: tuple[np.ndarray[Any, Any], ...], statistic: Callable[..., Any],
                     confidences: Sequence[float], seed: int, n_resamples: int
                     ) -> tuple[list[list[Interval]], str]:
    """Estimate ± z × bootstrap standard error, for every value ``statistic`` returns.

    For large samples, whose statistics are close to normal: it draws a quarter of
    ``n_resamples`` (at least 200), which gives the interval's ends the same Monte Carlo
    precision as the percentile method with all of them (about 0.06 standard errors at 95%:
    z/√(2B/4) against √(p(1−p)/B)/φ(z)), at a quarter of the cost. Same result shape as
    ``bootstrap_many``.

    Example:
        >>> x = np.random.default_rng(1).exponential(size=30_000)
        >>> ivs, label = bootstrap_normal((x,), lambda s, axis: np.percentile(s, 50, axis=axis),
        ...                               [0.95], seed=0, n_resamples=2000)
        >>> [round(v, 3) for v in ivs[0][0]], label
        ([0.681, 0.704], 'bootstrap normal (500 resamples, n > 20,000)')
    """
    n = len(data[0])
    draws = max(200, n_resamples // 4)
    half = draws // 2
    batch = max(1, min(half, RESAMPLE_CELLS // max(1, n)))

    def distribution(stream: np.random.SeedSequence, count: int) -> Any:
        return sps.bootstrap(data, statistic, paired=len(data) > 1, vectorized=True,
                             n_resamples=count, batch=batch, method="percentile",
                             rng=np.random.default_rng(stream)).bootstrap_distribution

    # two halves from two streams of the seed, on two threads (numpy's selection and gathers
    # release the GIL): the same numbers on any machine, about twice as fast on two cores
    streams = np.random.SeedSequence(seed).spawn(2)
    with ThreadPoolExecutor(max_workers=min(2, os.cpu_count() or 1)) as pool:
        parts = list(pool.map(distribution, streams, [half, draws - half]))
    se = np.atleast_1d(np.std(np.concatenate(parts, axis=-1), axis=-1, ddof=1))
    estimate = np.atleast_1d(statistic(*data, axis=-1))
    out = []
    for level in confidences:
        z = float(sps.norm.ppf(1 - (1 - level) / 2))
        out.append([(float(e - z * s), float(e + z * s)) for e, s in zip(estimate, se,
                                                                            strict=True)])
    return out, f"bootstrap normal ({draws} resamples, n > {LARGE_N:,})"
