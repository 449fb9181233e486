"""Bootstrap intervals at several confidence levels from one set of resamples.

Used for the BCa interval shown beside a metric's delta and for the cost and latency
estimates. BCa falls back to the percentile method when it fails or the sample is large.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any, Literal

import numpy as np
from scipy import stats as sps

__all__ = ["BCA_MAX_N", "RESAMPLE_CELLS", "bootstrap_intervals"]

BCA_MAX_N = 2000
"""Above this many cases bootstrap intervals use the percentile method (BCa is O(n²))."""

RESAMPLE_CELLS = 2_000_000
"""Resamples are drawn in batches of at most this many values (resamples × cases): 9,999
resamples of 100,000 cases at once would hold 8 GB; in batches, about 16 MB a sample. The
same generator draws the same values in the same order, so batching never changes a result."""


def bootstrap_intervals(data: tuple[np.ndarray[Any, Any], ...], statistic: Callable[..., Any],
                        confidences: Sequence[float], seed: int, n_resamples: int,
                        method: Literal["BCa", "percentile"] = "BCa"
                        ) -> tuple[list[tuple[float, float]], str]:
    """Bootstrap intervals at several levels from one set of resamples (BCa → percentile)."""
    rng = np.random.default_rng(seed)
    paired = len(data) > 1
    if method == "BCa" and len(data[0]) > BCA_MAX_N:
        # BCa's jackknife costs O(n²); at this size BCa, percentile and CLT intervals agree
        return bootstrap_intervals(data, statistic, confidences, seed, n_resamples,
                                   "percentile")[0], f"bootstrap percentile (n > {BCA_MAX_N})"
    label = "bootstrap BCa" if method == "BCa" else "bootstrap percentile"
    batch = max(1, min(n_resamples, RESAMPLE_CELLS // max(1, len(data[0]))))
    first = sps.bootstrap(data, statistic, paired=paired, vectorized=True,
                          confidence_level=confidences[0], n_resamples=n_resamples,
                          batch=batch, method=method, rng=rng)
    out = [tuple(map(float, first.confidence_interval))]
    if method == "BCa" and not all(math.isfinite(x) for x in out[0]):
        return bootstrap_intervals(data, statistic, confidences, seed, n_resamples,
                                   "percentile")[0], "bootstrap percentile (BCa failed)"
    for level in confidences[1:]:
        again = sps.bootstrap(data, statistic, paired=paired, vectorized=True,
                              confidence_level=level, n_resamples=0, bootstrap_result=first,
                              method=method, rng=rng)
        out.append(tuple(map(float, again.confidence_interval)))
    return out, label  # type: ignore[return-value]

