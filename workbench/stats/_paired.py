"""Paired comparison of a candidate and an incumbent on the same cases.

Every comparison here is paired: both configurations answered the same cases, so the statistics
work on per-case differences ``d = candidate − incumbent`` (repeats averaged within a case
first, which makes the case the cluster). Methods, chosen by simulation
(``benchmarks/stats_calibration.py`` prints coverage and error rates):

- pass/fail scores: the Agresti–Min adjusted Wald interval for a difference of paired
  proportions and the mid-p McNemar test (Fagerland, Lydersen & Laake 2013, 2014). A BCa
  bootstrap of the same difference under-covered here (91–93% at n = 50–200 with few discordant
  pairs), so it is reported alongside, not used for gates;
- continuous scores: the paired t interval (the CLT interval with t quantiles) and the Wilcoxon
  signed-rank test (or paired t on request), with a BCa bootstrap interval alongside;
- cost: the ratio of mean costs with a paired bootstrap interval; latency: p50/p95 differences
  with a paired percentile bootstrap.

Gates use one-sided bounds at level α: the two-sided (1 − 2α) interval's bounds (Settled 15).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field, replace
from typing import Any, Literal, Protocol

import numpy as np
import pandas as pd
from scipy import stats as sps
from statsmodels.stats.multitest import multipletests
from statsmodels.stats.proportion import proportion_confint

from workbench.errors import ConfigError

from ._ci import MeanCI, mean_ci

__all__ = [
    "ConfigRef", "Estimate", "MetricDelta", "PairedComparison", "compare_configs",
    "mcnemar_midp", "paired_delta",
]

ConfigRef = tuple[str, str]
Errors = Literal["zero", "drop"]
Correction = Literal["holm", "fdr_bh"]
Test = Literal["auto", "wilcoxon", "t"]


class ComparisonLike(Protocol):
    """What the statistics need of a ``workbench.Comparison`` (stats sits below the runner)."""

    results: pd.DataFrame
    meta: dict[str, Any]

    @property
    def scorers(self) -> list[str]: ...

    @property
    def complete(self) -> bool: ...


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
    """Agresti–Min adjusted Wald interval of p(candidate) − p(incumbent) for paired pass/fail.

    ``b`` = incumbent passes and candidate fails, ``c`` = the reverse, ``n`` pairs. Adds ½ to
    each cell of the 2×2 table (Agresti & Min 2005), one of the intervals Fagerland, Lydersen
    & Laake (2014) recommend. Its exact coverage, enumerated over all tables, stays within
    94.7–97.5% for n = 50–200 and 10–40% discordance (the plain Wald interval drops to 93%;
    the Bonett–Price +1 adjustment reaches 98.7%); a BCa bootstrap of the same difference
    covered 91–93% in our simulations.

    Example:
        >>> [round(x, 4) for x in agresti_min(2, 9, 50, 0.95)]
        [0.0093, 0.26]
    """
    z = float(sps.norm.ppf(1 - (1 - confidence) / 2))
    p10, p01 = (b + 0.5) / (n + 2), (c + 0.5) / (n + 2)
    d = p01 - p10
    se = math.sqrt(max(p10 + p01 - d * d, 0.0) / (n + 2))
    return max(d - z * se, -1.0), min(d + z * se, 1.0)


BCA_MAX_N = 2000
"""Above this many cases bootstrap intervals use the percentile method (BCa is O(n²))."""


def _bootstrap(data: tuple[np.ndarray[Any, Any], ...], statistic: Callable[..., Any],
               confidences: Sequence[float], seed: int, n_resamples: int,
               method: Literal["BCa", "percentile"] = "BCa"
               ) -> tuple[list[tuple[float, float]], str]:
    """Bootstrap intervals at several levels from one set of resamples (BCa → percentile)."""
    rng = np.random.default_rng(seed)
    paired = len(data) > 1
    if method == "BCa" and len(data[0]) > BCA_MAX_N:
        # BCa's jackknife costs O(n²); at this size BCa, percentile and CLT intervals agree
        return _bootstrap(data, statistic, confidences, seed, n_resamples, "percentile")[0], \
            f"bootstrap percentile (n > {BCA_MAX_N})"
    label = "bootstrap BCa" if method == "BCa" else "bootstrap percentile"
    first = sps.bootstrap(data, statistic, paired=paired, vectorized=True,
                          confidence_level=confidences[0], n_resamples=n_resamples,
                          method=method, rng=rng)
    out = [tuple(map(float, first.confidence_interval))]
    if method == "BCa" and not all(math.isfinite(x) for x in out[0]):
        return _bootstrap(data, statistic, confidences, seed, n_resamples, "percentile")[0], \
            "bootstrap percentile (BCa failed)"
    for level in confidences[1:]:
        again = sps.bootstrap(data, statistic, paired=paired, vectorized=True,
                              confidence_level=level, n_resamples=0, bootstrap_result=first,
                              method=method, rng=rng)
        out.append(tuple(map(float, again.confidence_interval)))
    return out, label  # type: ignore[return-value]


@dataclass(frozen=True)
class MetricDelta:
    """One metric, candidate against incumbent, on the cases both answered.

    ``low``/``high`` are the two-sided ``confidence`` interval of the mean difference
    (candidate − incumbent); ``bound_low``/``bound_high`` the one-sided bounds at ``alpha``
    that gates decide on. ``bca_low``/``bca_high`` is the BCa bootstrap interval and
    ``clt_low``/``clt_high`` the normal-approximation interval, shown alongside.
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
    errors_incumbent: int = 0
    errors_candidate: int = 0
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

    Pass/fail scores (every value 0 or 1) get the Agresti–Min interval and the mid-p McNemar
    test; other scores the paired t interval and the Wilcoxon signed-rank test
    (``test="t"`` for the paired t test). NaN pairs are dropped.

    Example:
        >>> d = paired_delta([1, 1, 0, 1, 0] * 20, [1, 1, 1, 1, 0] * 20, bootstrap=False)
        >>> d.kind, round(d.delta, 2), d.worse, d.better, d.test
        ('pass/fail', 0.2, 0, 20, 'mid-p McNemar')
    """
    a = np.asarray(incumbent, dtype=float)
    b = np.asarray(candidate, dtype=float)
    if a.shape != b.shape:
        raise ValueError("incumbent and candidate need one score per case each")
    keep = ~(np.isnan(a) | np.isnan(b))
    a, b = a[keep], b[keep]
    n = int(a.size)
    nan = float("nan")
    if n == 0:
        empty = mean_ci([])
        return MetricDelta(metric, "continuous", 0, empty, empty, nan, nan, nan, "none", nan,
                           nan, nan, "none", nan, nan, 0, 0, confidence=confidence, alpha=alpha)
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
        low, high = agresti_min(worse, better, n, confidence)
        bound_low, bound_high = agresti_min(worse, better, n, 1 - 2 * alpha)
        method = "Agresti–Min"
        p_value, test_name = mcnemar_midp(worse, better), "mid-p McNemar"
    else:
        kind = "continuous"
        method = "paired t"
        if sd == 0.0:
            low = high = bound_low = bound_high = mean
        else:
            low, high = (float(x) for x in sps.t.interval(confidence, n - 1, mean, se))
            bound_low, bound_high = (float(x) for x in
                                     sps.t.interval(1 - 2 * alpha, n - 1, mean, se))
        if worse + better == 0:
            p_value, test_name = 1.0, "Wilcoxon signed-rank" if test != "t" else "paired t"
        elif test == "t":
            p_value, test_name = float(sps.ttest_rel(b, a).pvalue), "paired t"
        else:
            p_value = float(sps.wilcoxon(b, a, zero_method="zsplit").pvalue)
            test_name = "Wilcoxon signed-rank"
    bca: tuple[float, float] = (nan, nan)
    bca_method = ""
    if bootstrap and n > 2 and sd > 0:
        (bca,), bca_method = _bootstrap((d,), lambda x, axis: x.mean(axis=axis), [confidence],
                                        seed, n_resamples)
    return MetricDelta(
        metric, kind, n, mean_ci(a, confidence=confidence), mean_ci(b, confidence=confidence),
        mean, float(low), float(high), method, float(bound_low), float(bound_high), p_value,
        test_name, mean / sd if sd > 0 else 0.0, sd, worse, better, bca[0], bca[1], bca_method,
        float(clt[0]), float(clt[1]), confidence=confidence, alpha=alpha,
    )


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


@dataclass
class PairedComparison:
    """The statistics of one candidate against one incumbent (``compare_configs``)."""

    candidate: ConfigRef
    incumbent: ConfigRef
    n_cases: int
    metrics: dict[str, MetricDelta]
    estimates: dict[str, Estimate]
    slices: pd.DataFrame
    pairs: pd.DataFrame
    """Per case: each metric on both sides (``<metric>.incumbent``/``.candidate``/``.delta``)."""
    errors: Errors = "zero"
    correction: Correction = "holm"
    alpha: float = 0.05
    confidence: float = 0.95
    seed: int = 0
    notes: list[str] = field(default_factory=list)

    def table(self) -> pd.DataFrame:
        """One row per metric: both means with CIs, delta with CI and bounds, test, n, errors."""
        return pd.DataFrame([m.row() for m in self.metrics.values()]).set_index("metric")

    def regressions(self) -> pd.DataFrame:
        """Slices whose adjusted test shows a significant drop for some metric."""
        if self.slices.empty:
            return self.slices
        return self.slices[self.slices["regression"]]

    def worst(self, metric: str | None = None, fraction: float = 0.1) -> pd.DataFrame:
        """The worst decile (by default): cases with the largest score drops, worst first."""
        name = metric or next(iter(self.metrics))
        col = f"{name}.delta"
        if col not in self.pairs:
            raise ConfigError(f"no metric {name!r} in this comparison",
                              fix=f"Use one of: {', '.join(self.metrics)}.")
        k = max(1, math.ceil(len(self.pairs) * fraction))
        drops = self.pairs[self.pairs[col] < 0].sort_values([col, "case_id"])
        return drops.head(k).reset_index(drop=True)

    def __str__(self) -> str:
        lines = [f"{self.candidate[0]}/{self.candidate[1]} (candidate) vs "
                 f"{self.incumbent[0]}/{self.incumbent[1]} (incumbent), n={self.n_cases} cases, "
                 f"errors counted as {'0' if self.errors == 'zero' else 'dropped pairs'}"]
        for m in self.metrics.values():
            lines.append(
                f"  {m.metric:<22} {m.incumbent.mean:.3f} → {m.candidate.mean:.3f}  "
                f"Δ {m.delta:+.3f} [{m.low:+.3f}, {m.high:+.3f}] ({m.method} "
                f"{int(m.confidence * 100)}%)  p={m.p_value:.3g} ({m.test})  n={m.n}")
        for e in self.estimates.values():
            what = {"ratio": "×", "difference": "Δ"}.get(e.kind, "candidate")
            lines.append(f"  {e.name:<22} {e.incumbent:.4g} → {e.candidate:.4g}  "
                         f"{what} {e.value:.3g} [{e.low:.3g}, {e.high:.3g}] "
                         f"({e.method} {int(self.confidence * 100)}%)")
        return "\n".join(lines + [f"  note: {n}" for n in self.notes])


def _config_rows(results: pd.DataFrame, config: ConfigRef, role: str) -> pd.DataFrame:
    rows = results[(results["model"] == config[0]) & (results["variant"] == config[1])]
    if rows.empty:
        have = sorted({(str(m), str(v)) for m, v in zip(results["model"], results["variant"],
                                                        strict=True)})
        raise ConfigError(
            f"the {role} {config[0]}/{config[1]} is not in this comparison",
            fix="Use one of: " + ", ".join(f"({m!r}, {v!r})" for m, v in have) + ".")
    return rows


def _per_case(rows: pd.DataFrame, column: str, errors: Errors) -> tuple[pd.Series, float]:
    """Case → mean over repeats (errors as 0, or the case dropped), and within-case variance."""
    values = rows[column].astype("float64")
    failed = rows["error_type"].notna() | values.isna()
    values = values.fillna(0.0) if errors == "zero" else values.where(~failed)
    grouped = values.groupby(rows["case_id"].astype(str), observed=True)
    means = grouped.mean() if errors == "zero" else grouped.agg(
        lambda s: s.mean() if s.notna().all() else float("nan"))
    var = grouped.var(ddof=1)
    within = float(var.mean()) if grouped.size().max() > 1 else float("nan")
    return means, within


def compare_configs(
    comparison: ComparisonLike,
    candidate: ConfigRef,
    incumbent: ConfigRef,
    metrics: Sequence[str] | None = None,
    *,
    errors: Errors = "zero",
    alpha: float = 0.05,
    confidence: float = 0.95,
    correction: Correction = "holm",
    test: Test = "auto",
    seed: int = 0,
    n_resamples: int = 2000,
) -> PairedComparison:
    """Paired statistics of a candidate against an incumbent, per metric, cost, latency, slice.

    Cases that only one side answered are left out (n says how many remained). Errors count as
    score 0 by default (``errors="drop"`` drops the pair). Per-slice deltas get p-values
    adjusted across the slice values of each metric (Holm by default, ``"fdr_bh"`` for
    Benjamini–Hochberg); a slice is flagged as a regression when its adjusted p < ``alpha``
    and its delta is negative.

    Example:
        >>> pc = wb.compare_configs(cmp, candidate=("sim/fast", "guided"),
        ...                         incumbent=("sim/large", "guided"))  # doctest: +SKIP
        >>> pc.table()[["delta", "low", "high", "p_value"]]  # doctest: +SKIP
    """
    if errors not in ("zero", "drop"):
        raise ConfigError(f"errors={errors!r}", fix='Use errors="zero" or errors="drop".')
    if correction not in ("holm", "fdr_bh"):
        raise ConfigError(f"correction={correction!r}",
                          fix='Use correction="holm" or correction="fdr_bh".')
    candidate, incumbent = (str(candidate[0]), str(candidate[1])), (str(incumbent[0]),
                                                                     str(incumbent[1]))
    if candidate == incumbent:
        raise ConfigError("candidate and incumbent are the same configuration",
                          fix="Compare two different (model, variant) pairs.")
    names = list(metrics) if metrics is not None else list(comparison.scorers)
    unknown = [m for m in names if f"score.{m}" not in comparison.results.columns]
    if unknown or not names:
        raise ConfigError(f"unknown metric(s) {unknown}" if unknown else "no metric to compare",
                          fix=f"Use scorer names of this comparison: "
                          f"{', '.join(comparison.scorers) or '(none)'}.")
    results = comparison.results
    rows = {"incumbent": _config_rows(results, incumbent, "incumbent"),
            "candidate": _config_rows(results, candidate, "candidate")}
    shared = sorted(set(rows["incumbent"]["case_id"].astype(str))
                    & set(rows["candidate"]["case_id"].astype(str)))
    notes: list[str] = []
    if not shared:
        raise ConfigError("the candidate and the incumbent share no case",
                          fix="Run both on the same golden set.")
    for role, r in rows.items():
        extra = r["case_id"].astype(str).nunique() - len(shared)
        if extra:
            notes.append(f"{extra} case(s) answered only by the {role} are left out")
    pairs = pd.DataFrame({"case_id": shared})
    out: dict[str, MetricDelta] = {}
    repeats = int(max(r.groupby("case_id", observed=True).size().max() for r in rows.values()))
    errs = {role: int(r[r["case_id"].astype(str).isin(shared)]["error_type"].notna().sum())
            for role, r in rows.items()}
    for i, name in enumerate(names):
        per_side = {role: _per_case(r, f"score.{name}", errors) for role, r in rows.items()}
        a = per_side["incumbent"][0].reindex(shared).to_numpy()
        b = per_side["candidate"][0].reindex(shared).to_numpy()
        delta = paired_delta(a, b, metric=name, confidence=confidence, alpha=alpha, test=test,
                             seed=seed + i, n_resamples=n_resamples)
        out[name] = replace(delta, errors_incumbent=errs["incumbent"],
                            errors_candidate=errs["candidate"], errors=errors,
                            repeats=repeats, within_var_incumbent=per_side["incumbent"][1],
                            within_var_candidate=per_side["candidate"][1])
        pairs[f"{name}.incumbent"], pairs[f"{name}.candidate"] = a, b
        pairs[f"{name}.delta"] = b - a
    slice_cols = [c for c in results.columns if c.startswith("slice.")]
    if slice_cols:  # slice values are per case: take them from the incumbent's first rows
        first = rows["incumbent"].drop_duplicates("case_id")
        labels = first.set_index(first["case_id"].astype(str))[slice_cols].reindex(shared)
        for col in slice_cols:
            pairs[col] = labels[col].to_numpy()
    estimates = _estimates(rows, shared, confidence, alpha, seed, n_resamples)
    slices = _slices(pairs, names, slice_cols, confidence, alpha, correction, test)
    return PairedComparison(candidate, incumbent, len(shared), out, estimates, slices, pairs,
                            errors, correction, alpha, confidence, seed, notes)


def _estimates(rows: dict[str, pd.DataFrame], shared: list[str], confidence: float,
               alpha: float, seed: int, n_resamples: int) -> dict[str, Estimate]:
    out: dict[str, Estimate] = {}
    levels = [confidence, 1 - 2 * alpha]

    def per_case(role: str, column: str) -> np.ndarray[Any, Any]:
        r = rows[role]
        return (r[column].astype("float64").groupby(r["case_id"].astype(str), observed=True)
                .mean().reindex(shared).to_numpy())

    cost_a, cost_b = per_case("incumbent", "cost_usd"), per_case("candidate", "cost_usd")
    keep = ~(np.isnan(cost_a) | np.isnan(cost_b))
    if keep.sum() > 2 and cost_a[keep].sum() > 0:
        ca, cb = cost_a[keep], cost_b[keep]
        ratio = float(cb.mean() / ca.mean())
        if np.ptp(cb / np.where(ca > 0, ca, 1)) == 0 and np.all(ca > 0):
            ivs, label = [(ratio, ratio), (ratio, ratio)], "exact (constant ratio)"
        else:
            ivs, label = _bootstrap((ca, cb), lambda x, y, axis: y.mean(axis=axis)
                                    / x.mean(axis=axis), levels, seed, n_resamples)
        out["cost_ratio"] = Estimate("cost_ratio", float(ca.mean()), float(cb.mean()), ratio,
                                     *ivs[0], *ivs[1], label, "ratio")
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
                          else _bootstrap((la, lb), diff, levels, seed, n_resamples,
                                          "percentile"))
            out[f"latency_p{q}_s"] = Estimate(f"latency_p{q}_s", pa, pb, pb - pa, *ivs[0],
                                              *ivs[1], label, "difference")
        pb = float(np.percentile(lb, 95))
        ivs, label = (([(pb, pb)] * 2, "exact (constant latency)") if np.ptp(lb) == 0
                      else _bootstrap((lb,), lambda y, axis: np.percentile(y, 95, axis=axis),
                                      levels, seed, n_resamples, "percentile"))
        out["latency_p95_s.candidate"] = Estimate("latency_p95_s.candidate",
                                                  float(np.percentile(la, 95)), pb, pb,
                                                  *ivs[0], *ivs[1], label, "value")
    rates = {}
    for role in ("incumbent", "candidate"):
        r = rows[role][rows[role]["case_id"].astype(str).isin(shared)]
        rates[role] = (int(r["error_type"].notna().sum()), len(r))
    failed, total = rates["candidate"]
    rate = failed / total
    low, high = proportion_confint(failed, total, alpha=1 - confidence, method="wilson")
    blow, bhigh = proportion_confint(failed, total, alpha=2 * alpha, method="wilson")
    out["error_rate"] = Estimate(  # the candidate's rate; the bounds clipped to contain it
        "error_rate", rates["incumbent"][0] / rates["incumbent"][1], rate, rate,
        min(float(low), rate), max(float(high), rate), min(float(blow), rate),
        max(float(bhigh), rate), "Wilson", "rate")
    return out


def _slices(pairs: pd.DataFrame, names: list[str], slice_cols: list[str], confidence: float,
            alpha: float, correction: Correction, test: Test) -> pd.DataFrame:
    records: list[dict[str, Any]] = []
    for name in names:
        family: list[dict[str, Any]] = []
        for col in slice_cols:
            for value, group in pairs.groupby(col, dropna=True, observed=True, sort=True):
                d = paired_delta(group[f"{name}.incumbent"].to_numpy(float),
                                 group[f"{name}.candidate"].to_numpy(float),
                                 metric=name, confidence=confidence, alpha=alpha, test=test,
                                 bootstrap=False)
                family.append({"metric": name, "slice": col.removeprefix("slice."),
                               "value": str(value), "n": d.n, "incumbent": d.incumbent.mean,
                               "candidate": d.candidate.mean, "delta": d.delta, "low": d.low,
                               "high": d.high, "method": d.method, "p_value": d.p_value,
                               "test": d.test})
        if family:
            p = np.array([f["p_value"] for f in family], dtype=float)
            adjusted = multipletests(np.nan_to_num(p, nan=1.0), alpha=alpha,
                                     method=correction)[1]
            for f, adj in zip(family, adjusted, strict=True):
                f["p_adjusted"] = float(adj)
                f["correction"] = "Holm" if correction == "holm" else "Benjamini–Hochberg"
                f["regression"] = bool(adj < alpha and f["delta"] < 0)
            records.extend(family)
    columns = ["metric", "slice", "value", "n", "incumbent", "candidate", "delta", "low",
               "high", "method", "p_value", "test", "p_adjusted", "correction", "regression"]
    return pd.DataFrame(records, columns=columns)
