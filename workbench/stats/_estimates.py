"""Cost, latency and error-rate estimates of a candidate against an incumbent, by case.

Cost: the ratio of mean costs with a paired bootstrap interval, and the difference in dollars
per 1,000 requests (which still means something when the incumbent costs nothing). Latency:
p50/p95 differences with a paired percentile bootstrap, and the candidate's own p95. Error
rates (failed calls and scorer failures) clustered by case, and their increase paired by case.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd

from ._bootstrap import bootstrap_intervals
from ._bounds import clustered_rate, clustered_rate_difference
from ._scores import failed_rows

__all__ = ["Estimate", "paired_estimates"]


@dataclass(frozen=True)
class Estimate:
    """A cost or latency figure: both sides, the candidate-vs-incumbent statistic, its CI."""

    name: str
    incumbent: float
    candidate: float
    value: float
    """The ratio (cost) or the difference (latency) of candidate to incumbent."""
    low: float
    high: float
    bound_low: float
    bound_high: float
    method: str
    kind: Literal["ratio", "difference", "rate", "value"]
    informative: int = 0
    """For error rates: the cases holding an error (or a difference in errors)."""
    calls: int = 0
    """For error rates: the calls (or paired calls) the rate is over."""
    cases: int = 0
    """For error rates: the cases those calls belong to (the clusters)."""


def paired_estimates(rows: dict[str, pd.DataFrame], shared: list[str], scorers: list[str],
                     confidence: float, alpha: float, seed: int, n_resamples: int
                     ) -> dict[str, Estimate]:
    """Cost, latency and error-rate estimates on the ``shared`` cases of both sides.

    ``rows`` maps ``"incumbent"``/``"candidate"`` to their results rows. Keys of the result:
    ``cost_ratio`` (when the incumbent costs something) and ``cost_per_1k_diff`` with more
    than two cases costed on both sides; ``latency_p50_s``, ``latency_p95_s`` and
    ``latency_p95_s.candidate`` with more than two cases timed on both sides; ``error_rate``
    and ``error_rate_increase`` always.
    """
    out: dict[str, Estimate] = {}
    levels = [confidence, 1 - 2 * alpha]

    def per_case(role: str, column: str) -> np.ndarray[Any, Any]:
        r = rows[role]
        return (r[column].astype("float64").groupby(r["case_id"].astype(str), observed=True)
                .mean().reindex(shared).to_numpy())

    cost_a, cost_b = per_case("incumbent", "cost_usd"), per_case("candidate", "cost_usd")
    keep = ~(np.isnan(cost_a) | np.isnan(cost_b))
    if keep.sum() > 2:
        ca, cb = cost_a[keep], cost_b[keep]
        if ca.sum() > 0:
            ratio = float(cb.mean() / ca.mean())
            if np.ptp(cb / np.where(ca > 0, ca, 1)) == 0 and np.all(ca > 0):
                ivs, label = [(ratio, ratio), (ratio, ratio)], "exact (constant ratio)"
            else:
                ivs, label = bootstrap_intervals((ca, cb), lambda x, y, axis: y.mean(axis=axis)
                                                 / x.mean(axis=axis), levels, seed, n_resamples)
            out["cost_ratio"] = Estimate("cost_ratio", float(ca.mean()), float(cb.mean()),
                                         ratio, *ivs[0], *ivs[1], label, "ratio")
        # dollars per 1,000 requests: the figure that still means something when the
        # incumbent costs nothing (self-hosted, price 0), where no ratio exists
        diff = 1000.0 * (cb - ca)
        per_1k = float(diff.mean())
        if np.ptp(diff) == 0:
            ivs, label = [(per_1k, per_1k)] * 2, "exact (constant difference)"
        else:
            ivs, label = bootstrap_intervals((diff,), lambda x, axis: x.mean(axis=axis), levels,
                                             seed, n_resamples)
        out["cost_per_1k_diff"] = Estimate("cost_per_1k_diff", 1000.0 * float(ca.mean()),
                                           1000.0 * float(cb.mean()), per_1k, *ivs[0],
                                           *ivs[1], label, "difference")
    lat_a, lat_b = per_case("incumbent", "latency_s"), per_case("candidate", "latency_s")
    keep = ~(np.isnan(lat_a) | np.isnan(lat_b))
    if keep.sum() > 2:
        la, lb = lat_a[keep], lat_b[keep]
        constant = np.ptp(la) == 0 and np.ptp(lb) == 0
        for q in (50, 95):
            def diff(x: Any, y: Any, axis: int, q: float = q) -> Any:
                return np.percentile(y, q, axis=axis) - np.percentile(x, q, axis=axis)

            pa, pb = float(np.percentile(la, q)), float(np.percentile(lb, q))
            ivs, label = (([(pb - pa, pb - pa)] * 2, "exact (constant latency)") if constant
                          else bootstrap_intervals((la, lb), diff, levels, seed,
                                                   n_resamples, "percentile"))
            out[f"latency_p{q}_s"] = Estimate(f"latency_p{q}_s", pa, pb, pb - pa, *ivs[0],
                                              *ivs[1], label, "difference")
        pb = float(np.percentile(lb, 95))
        ivs, label = (([(pb, pb)] * 2, "exact (constant latency)") if np.ptp(lb) == 0
                      else bootstrap_intervals((lb,),
                                               lambda y, axis: np.percentile(y, 95, axis=axis),
                                               levels, seed, n_resamples, "percentile"))
        out["latency_p95_s.candidate"] = Estimate("latency_p95_s.candidate",
                                                  float(np.percentile(la, 95)), pb, pb,
                                                  *ivs[0], *ivs[1], label, "value")
    failed = {role: failed_rows(rows[role], scorers).groupby(
        rows[role]["case_id"].astype(str), observed=True).agg(["sum", "size"]).reindex(shared)
        .fillna(0.0) for role in ("incumbent", "candidate")}
    f_inc = failed["incumbent"]["sum"].to_numpy(float)
    m_inc = failed["incumbent"]["size"].to_numpy(float)
    f_cand = failed["candidate"]["sum"].to_numpy(float)
    m_cand = failed["candidate"]["size"].to_numpy(float)
    inc_rate = float(f_inc.sum() / m_inc.sum()) if m_inc.sum() else float("nan")
    iv = clustered_rate(f_cand, m_cand, confidence=confidence, alpha=alpha)
    rate = float(f_cand.sum() / m_cand.sum()) if m_cand.sum() else float("nan")
    out["error_rate"] = Estimate("error_rate", inc_rate, rate, rate, iv.low, iv.high,
                                 iv.bound_low, iv.bound_high, iv.method, "rate", iv.informative,
                                 int(m_cand.sum()), len(shared))
    calls = np.minimum(m_inc, m_cand)
    with np.errstate(divide="ignore", invalid="ignore"):
        share_a = np.where(m_inc > 0, f_inc / m_inc, 0.0) * calls
        share_b = np.where(m_cand > 0, f_cand / m_cand, 0.0) * calls
    iv = clustered_rate_difference(share_a, share_b, calls, confidence=confidence, alpha=alpha)
    out["error_rate_increase"] = Estimate(
        "error_rate_increase", inc_rate, rate, rate - inc_rate, iv.low, iv.high, iv.bound_low,
        iv.bound_high, iv.method, "difference", iv.informative, int(calls.sum()), len(shared))
    return out
