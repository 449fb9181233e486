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

This module pairs the cases and assembles the ``PairedComparison``; the per-metric delta lives
in ``_delta.py``, the cost, latency and error-rate estimates in ``_estimates.py`` and the
per-slice family in ``_slices.py``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Literal, Protocol

import numpy as np
import pandas as pd

from workbench.errors import ConfigError
from workbench.records import RunRecord

from ._delta import (
    MetricDelta,
    Test,
    agresti_min,
    mcnemar_midp,
    noninferiority_pvalue,
    paired_delta,
)
from ._estimates import Estimate, paired_estimates
from ._scores import score_status
from ._slices import Correction, slice_deltas

__all__ = [
    "ConfigRef", "Estimate", "MetricDelta", "PairedComparison", "agresti_min",
    "compare_configs", "mcnemar_midp", "noninferiority_pvalue", "paired_delta",
]

ConfigRef = tuple[str, str]
Errors = Literal["zero", "drop"]


class ComparisonLike(Protocol):
    """What the statistics need of a ``workbench.Comparison`` (stats sits below the runner)."""

    results: pd.DataFrame
    record: RunRecord

    @property
    def scorers(self) -> list[str]: ...

    @property
    def complete(self) -> bool: ...

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
        A comparison built by hand (``wb.compare`` makes one from model calls): 100 cases on
        which the candidate fixes 12 of the incumbent's 30 misses and breaks 3 of its passes.

        >>> import pandas as pd
        >>> import workbench as wb
        >>> from workbench.records import GoldenSetRef, RunRecord
        >>> n = 100
        >>> results = pd.DataFrame({
        ...     "case_id": [f"c{i:03d}" for i in range(n)] * 2, "repeat": 0,
        ...     "model": ["large"] * n + ["small"] * n, "variant": "v1", "error_type": None,
        ...     "score.exact_match": [1.0] * 70 + [0.0] * 30 + [0.0] * 3 + [1.0] * 79 + [0.0] * 18,
        ...     "cost_usd": [0.002] * n + [0.0005] * n, "latency_s": [0.9] * n + [0.4] * n})
        >>> cmp = wb.Comparison(results, RunRecord(golden_set=GoldenSetRef(name="toy", digest="")))
        >>> pc = wb.compare_configs(cmp, candidate=("small", "v1"), incumbent=("large", "v1"))
        >>> table = pc.table()
        >>> table[["delta", "low", "high", "p_value"]].round(3)  # doctest: +NORMALIZE_WHITESPACE
                     delta    low   high  p_value
        metric
        exact_match   0.09  0.016  0.174    0.021
        >>> m = pc.metrics["exact_match"]
        >>> m.worse, m.better, m.method, m.test
        (3, 12, 'Tango score', 'mid-p McNemar')
        >>> pc.estimates["cost_ratio"].value
        0.25
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
    estimates = paired_estimates(rows, shared, list(comparison.scorers), confidence, alpha,
                                 seed, n_resamples)
    slices = slice_deltas(pairs, names, slice_cols, confidence, alpha, correction, test)
    return PairedComparison(candidate, incumbent, len(shared), out, estimates, slices, pairs,
                            errors, correction, alpha, confidence, seed, notes)

