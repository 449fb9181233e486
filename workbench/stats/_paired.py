"""Paired comparison of a candidate and an incumbent on the same cases.

Every comparison here is paired: both configurations answered the same cases, so the statistics
work on per-case differences ``d = candidate − incumbent`` (repeats averaged within a case
first, which makes the case the cluster). Methods, chosen by measured error rates on the
scenario grid (``benchmarks/stats_calibration.py``; see ``_bounds.py`` for the reasons):

- pass/fail scores: Tango's score interval for a difference of paired proportions and the
  mid-p McNemar test (Fagerland, Lydersen & Laake 2013, 2014);
- continuous scores: the t interval after Hall's skewness-removing transformation, or an
  exact sign bound when fewer than 10 cases differ (or the differences have no spread), and
  the Wilcoxon signed-rank test (or paired t on request); a BCa bootstrap interval alongside;
- cost: the ratio of mean costs with a paired bootstrap interval (a difference in dollars per
  1,000 requests when the incumbent costs nothing); latency: p50/p95 differences with a paired
  percentile bootstrap; error rates (failed calls and scorer failures) clustered by case.

Gates use one-sided bounds at level α: the two-sided (1 − 2α) interval's bounds (Settled 15).
Missing scores follow one rule (``_scores.py``): failed calls and scorer failures score 0
(``errors="zero"``) or are dropped, and are counted per side.
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

from workbench.errors import ConfigError
from workbench.records import RunRecord

from ._bounds import (
    SPARSE_BELOW,
    clustered_rate,
    clustered_rate_difference,
    mean_interval,
    tango_interval,
    tango_pvalue,
)
from ._ci import MeanCI, mean_ci
from ._scores import failed_rows, score_status

__all__ = [
    "ConfigRef", "Estimate", "MetricDelta", "PairedComparison", "compare_configs",
    "mcnemar_midp", "noninferiority_pvalue", "paired_delta",
]

ConfigRef = tuple[str, str]
Errors = Literal["zero", "drop"]
Correction = Literal["holm", "fdr_bh"]
Test = Literal["auto", "wilcoxon", "t"]


class ComparisonLike(Protocol):
    """What the statistics need of a ``workbench.Comparison`` (stats sits below the runner)."""

    results: pd.DataFrame
    record: RunRecord

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
    if bootstrap and n > 2 and sd > 0:
        (bca,), bca_method = _bootstrap((d,), lambda x, axis: x.mean(axis=axis), [confidence],
                                        seed, n_resamples)
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


def _per_case(rows: pd.DataFrame, values: pd.Series, errors: Errors) -> tuple[pd.Series, float]:
    """Case → mean over repeats, and the mean within-case variance.

    NaN rows are left out; with ``errors="drop"`` a case with a failed row is dropped whole.
    """
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
    rows = {role: r[r["case_id"].astype(str).isin(shared)] for role, r in rows.items()}
    errs = {role: int(r["error_type"].notna().sum()) for role, r in rows.items()}
    both = pd.concat([rows["incumbent"], rows["candidate"]])
    side = np.repeat(["incumbent", "candidate"], [len(rows["incumbent"]), len(rows["candidate"])])
    for i, name in enumerate(names):
        status = score_status(both.reset_index(drop=True), name, errors)
        per_side, failures = {}, {}
        for role in ("incumbent", "candidate"):
            mask = side == role
            values = pd.Series(status.value.to_numpy()[mask], index=rows[role].index)
            per_side[role] = _per_case(rows[role], values, errors)
            failures[role] = int(status.scorer_failed.to_numpy()[mask].sum())
        not_applicable = int(both.reset_index(drop=True)["case_id"].astype(str)[
            status.not_applicable].nunique())
        a = per_side["incumbent"][0].reindex(shared).to_numpy()
        b = per_side["candidate"][0].reindex(shared).to_numpy()
        delta = paired_delta(a, b, metric=name, confidence=confidence, alpha=alpha, test=test,
                             seed=seed + i, n_resamples=n_resamples)
        out[name] = replace(delta, errors_incumbent=errs["incumbent"],
                            errors_candidate=errs["candidate"],
                            scorer_failures_incumbent=failures["incumbent"],
                            scorer_failures_candidate=failures["candidate"],
                            not_applicable=not_applicable, errors=errors,
                            repeats=repeats, within_var_incumbent=per_side["incumbent"][1],
                            within_var_candidate=per_side["candidate"][1])
        for role in ("incumbent", "candidate"):
            if failures[role]:
                notes.append(f"{name}: the scorer failed on {failures[role]} {role} output(s), "
                             + ("counted as score 0 and as errors" if errors == "zero"
                                else "dropped and counted as errors"))
        if not_applicable:
            notes.append(f"{name}: {not_applicable} case(s) could not be scored on any side "
                         "(not applicable) and are left out of this metric")
        pairs[f"{name}.incumbent"], pairs[f"{name}.candidate"] = a, b
        pairs[f"{name}.delta"] = b - a
    slice_cols = [c for c in results.columns if c.startswith("slice.")]
    if slice_cols:  # slice values are per case: take them from the incumbent's first rows
        first = rows["incumbent"].drop_duplicates("case_id")
        labels = first.set_index(first["case_id"].astype(str))[slice_cols].reindex(shared)
        for col in slice_cols:
            pairs[col] = labels[col].to_numpy()
    estimates = _estimates(rows, shared, list(comparison.scorers), confidence, alpha, seed,
                           n_resamples)
    slices = _slices(pairs, names, slice_cols, confidence, alpha, correction, test)
    return PairedComparison(candidate, incumbent, len(shared), out, estimates, slices, pairs,
                            errors, correction, alpha, confidence, seed, notes)


def _estimates(rows: dict[str, pd.DataFrame], shared: list[str], scorers: list[str],
               confidence: float, alpha: float, seed: int, n_resamples: int
               ) -> dict[str, Estimate]:
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
                ivs, label = _bootstrap((ca, cb), lambda x, y, axis: y.mean(axis=axis)
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
            ivs, label = _bootstrap((diff,), lambda x, axis: x.mean(axis=axis), levels, seed,
                                    n_resamples)
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
