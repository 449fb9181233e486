"""Cost, latency and error-rate estimates of a candidate against an incumbent, by case.

Cost: the ratio of mean costs with a paired bootstrap interval, and the difference in dollars
per 1,000 requests (which still means something when the incumbent costs nothing). Latency:
p50/p95 differences with a paired percentile bootstrap, and the candidate's own p95. Above
``LARGE_N`` cases (20,000): the delta method and the normal interval for the cost figures,
and a bootstrap standard error for the latency quantiles (``_bootstrap.bootstrap_normal``). Error
rates (failed calls and scorer failures) clustered by case, and their increase paired by case.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd
from scipy import stats as sps

from ._bootstrap import LARGE_N, Interval, bootstrap_many, bootstrap_normal
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
        out.update(_cost(cost_a[keep], cost_b[keep], levels, seed, n_resamples))
    lat_a, lat_b = per_case("incumbent", "latency_s"), per_case("candidate", "latency_s")
    keep = ~(np.isnan(lat_a) | np.isnan(lat_b))
    if keep.sum() > 2:
        out.update(_latency(lat_a[keep], lat_b[keep], levels, seed, n_resamples))
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


def _cost(ca: np.ndarray[Any, Any], cb: np.ndarray[Any, Any], levels: list[float], seed: int,
          n_resamples: int) -> dict[str, Estimate]:
    """The cost ratio (when the incumbent costs something) and the difference per 1,000 requests.

    Both from one set of paired resamples of the per-case costs, or in closed form above
    ``LARGE_N`` cases.
    """
    ratio = float(cb.mean() / ca.mean()) if ca.sum() > 0 else float("nan")
    # dollars per 1,000 requests: the figure that still means something when the
    # incumbent costs nothing (self-hosted, price 0), where no ratio exists
    diff = 1000.0 * (cb - ca)
    per_1k = float(diff.mean())

    def statistic(x: Any, y: Any, axis: int) -> Any:
        mx, my = x.mean(axis=axis), y.mean(axis=axis)
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.stack([my / mx, 1000.0 * (my - mx)])

    constant_ratio = bool(np.all(ca > 0) and np.ptp(cb / np.where(ca > 0, ca, 1)) == 0)
    constant_diff = bool(np.ptp(diff) == 0)
    drawn: list[list[Interval]] = []
    label = ""
    labels = ("", "")
    if len(ca) > LARGE_N:  # closed form: the delta method for the ratio, normal for the mean
        n, mx = len(ca), float(ca.mean())
        se_diff = float(diff.std(ddof=1)) / math.sqrt(n)
        se_ratio = float("nan")
        if mx > 0:
            cov = np.cov(ca, cb, ddof=1)
            var = (cov[1, 1] - 2 * ratio * cov[0, 1] + ratio ** 2 * cov[0, 0]) / (n * mx * mx)
            se_ratio = math.sqrt(max(float(var), 0.0))
        drawn = [[(ratio - z * se_ratio, ratio + z * se_ratio),
                  (per_1k - z * se_diff, per_1k + z * se_diff)]
                 for z in (float(sps.norm.ppf(1 - (1 - lv) / 2)) for lv in levels)]
        labels = (f"delta method (n > {LARGE_N:,})", f"normal (n > {LARGE_N:,})")
    elif not (constant_ratio or ca.sum() == 0) or not constant_diff:
        if ca.sum() > 0 and not constant_ratio:
            drawn, label = bootstrap_many((ca, cb), statistic, levels, seed, n_resamples)
        else:  # only the difference is uncertain: resample it alone
            single, label = bootstrap_many((diff,), lambda d, axis: d.mean(axis=axis), levels,
                                           seed, n_resamples)
            drawn = [[(ratio, ratio), iv[0]] for iv in single]
        labels = (label, label)
    out: dict[str, Estimate] = {}
    if ca.sum() > 0:
        ivs, method = (([(ratio, ratio)] * 2, "exact (constant ratio)") if constant_ratio
                       else ([lv[0] for lv in drawn], labels[0]))
        out["cost_ratio"] = Estimate("cost_ratio", float(ca.mean()), float(cb.mean()), ratio,
                                     *ivs[0], *ivs[1], method, "ratio")
    ivs, method = (([(per_1k, per_1k)] * 2, "exact (constant difference)") if constant_diff
                   else ([lv[1] for lv in drawn], labels[1]))
    out["cost_per_1k_diff"] = Estimate("cost_per_1k_diff", 1000.0 * float(ca.mean()),
                                       1000.0 * float(cb.mean()), per_1k, *ivs[0], *ivs[1],
                                       method, "difference")
    return out


def _latency(la: np.ndarray[Any, Any], lb: np.ndarray[Any, Any], levels: list[float],
             seed: int, n_resamples: int) -> dict[str, Estimate]:
    """p50 and p95 differences and the candidate's p95, from one set of paired resamples.

    The percentile method, or a bootstrap standard error above ``LARGE_N`` cases.
    """
    qa, qb = np.percentile(la, [50, 95]), np.percentile(lb, [50, 95])
    values = [float(qb[0] - qa[0]), float(qb[1] - qa[1]), float(qb[1])]
    if np.ptp(la) == 0 and np.ptp(lb) == 0:
        drawn, label = [[(v, v) for v in values]] * 2, "exact (constant latency)"
    else:
        def statistic(x: Any, y: Any, axis: int) -> Any:
            px, py = np.percentile(x, [50, 95], axis=axis), np.percentile(y, [50, 95], axis=axis)
            return np.stack([py[0] - px[0], py[1] - px[1], py[1]])

        drawn, label = (bootstrap_normal((la, lb), statistic, levels, seed, n_resamples)
                        if len(la) > LARGE_N else
                        bootstrap_many((la, lb), statistic, levels, seed, n_resamples,
                                       "percentile"))
    out: dict[str, Estimate] = {}
    for i, q in enumerate((50, 95)):
        out[f"latency_p{q}_s"] = Estimate(f"latency_p{q}_s", float(qa[i]), float(qb[i]),
                                          values[i], *drawn[0][i], *drawn[1][i], label,
                                          "difference")
    if np.ptp(lb) == 0:
        p95: list[Interval] = [(values[2], values[2])] * 2
        p95_label = "exact (constant latency)"
    else:
        p95, p95_label = [drawn[0][2], drawn[1][2]], label
    out["latency_p95_s.candidate"] = Estimate("latency_p95_s.candidate", float(qa[1]),
                                              values[2], values[2], *p95[0], *p95[1],
                                              p95_label, "value")
    return out
