"""What a child run logs as metrics (a few that compare well across runs) and what as tables.

Issue #21: a child run had 119 metrics, 96 of them per-slice means, and MLflow's compare view
drew a meaningless parallel-coordinates plot of them. A child run now logs at most
:data:`MAX_CHILD_METRICS` metrics, in this order, each group whole or not at all:

1. per configuration: cases, error rate (failed calls and scorer failures), cost per 1,000
   cases, cost, billed, judge cost, latency p50 and p95;
2. per scorer: the mean and its 95% CI bounds;
3. on the candidate's run: per paired metric ``delta.<scorer>`` (candidate − incumbent on the
   same cases) with its 95% CI bounds, then the paired cost, latency and error-rate estimates.

Every figure, a metric or not (pass rates, tokens, p99 latency, cache hits, p-values), is in the
run's ``figures.json`` table; per-slice means with their full labels are in ``slices.json``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np
import pandas as pd

from workbench.stats import PairedComparison

__all__ = ["MAX_CHILD_METRICS", "calibration_figures", "choose_metrics", "config_figures",
           "delta_figures", "slice_table"]

MAX_CHILD_METRICS = 30
"""The most metrics a child run logs (issue #21)."""

ESTIMATE_ORDER = ("cost_ratio", "error_rate_increase", "latency_p95_s", "latency_p50_s",
                  "cost_per_1k_diff")
"""Which paired estimates come first when not all fit (the ones gates decide on)."""

Group = list[tuple[str, float]]
"""Figures logged as metrics together or not at all (a value and its CI bounds)."""


def _num(value: Any) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        return float("nan")


def config_figures(row: pd.Series, group: pd.DataFrame, scorers: Iterable[str]
                   ) -> tuple[list[Group], Group]:
    """A configuration's metric groups (in priority order) and its table-only figures.

    ``row`` is the configuration's row of ``Comparison.summary()``, ``group`` its results.
    """
    n_calls = max(1, int(row["n_calls"]))
    core: Group = [
        ("n_cases", _num(row["n_cases"])), ("error_rate", _num(row["error_rate"])),
        ("cost_per_1k_usd", _num(row["cost_per_case_usd"]) * 1000),
        ("cost_total_usd", _num(row["cost_usd"])), ("billed_usd", _num(row["billed_usd"])),
        ("judge_cost_usd", _num(row["judge_cost_usd"])),
        ("latency_p50_s", _num(row["latency_p50_s"])),
        ("latency_p95_s", _num(row["latency_p95_s"])),
    ]
    groups = [core]
    extra: Group = [
        ("n_calls", _num(row["n_calls"])), ("errors", _num(row.get("errors"))),
        ("scorer_errors", _num(row["scorer_errors"])),
        ("cost_per_case_usd", _num(row["cost_per_case_usd"])),
        ("total_cost_usd", _num(row["total_cost_usd"])),
        ("prompt_tokens", _num(row["prompt_tokens"])),
        ("completion_tokens", _num(row["completion_tokens"])),
        ("latency_p99_s", _num(row["latency_p99_s"])),
        ("cache_hit_rate", _num(row["cache_hits"]) / n_calls),
    ]
    failed = group["error_type"].notna()
    for name in scorers:
        groups.append([(f"{name}_mean", _num(row[name])),
                       (f"{name}_ci_low", _num(row[f"{name}_low"])),
                       (f"{name}_ci_high", _num(row[f"{name}_high"]))])
        values = group[f"score.{name}"].where(~failed, 0.0)  # errors fail (Settled 8)
        extra.append((f"{name}_pass_rate", float((values >= 1.0).mean())))
        if f"{name}_failed" in row:
            extra.append((f"{name}_scorer_failures", _num(row[f"{name}_failed"])))
    return groups, extra


def delta_figures(paired: PairedComparison) -> tuple[list[Group], Group]:
    """The candidate's paired deltas as metric groups, and their p-values for the table.

    ``delta.<metric>`` is candidate − incumbent on the same cases (for ``cost_ratio`` the
    ratio candidate / incumbent), with the 95% CI bounds the decision tables show; the
    estimates follow in :data:`ESTIMATE_ORDER`.
    """
    groups: list[Group] = []
    extra: Group = []
    for name, m in paired.metrics.items():
        key = f"delta.{name}"
        groups.append([(key, m.delta), (f"{key}_ci_low", m.low), (f"{key}_ci_high", m.high)])
        extra.append((f"{key}_p_value", m.p_value))
    ranked = sorted((e for e in paired.estimates.values() if e.kind in ("ratio", "difference")),
                    key=lambda e: ESTIMATE_ORDER.index(e.name) if e.name in ESTIMATE_ORDER
                    else len(ESTIMATE_ORDER))
    for e in ranked:
        key = f"delta.{e.name}"
        groups.append([(key, e.value), (f"{key}_ci_low", e.low), (f"{key}_ci_high", e.high)])
    for e in paired.estimates.values():  # the candidate's own rate and p95: table only
        if e.kind not in ("ratio", "difference"):
            key = f"delta.{e.name}"
            extra += [(key, e.value), (f"{key}_ci_low", e.low), (f"{key}_ci_high", e.high)]
    return groups, extra


def choose_metrics(groups: Iterable[Group], extra: Iterable[tuple[str, float]] = (),
                   limit: int = MAX_CHILD_METRICS) -> tuple[dict[str, float], pd.DataFrame]:
    """The metrics to log (whole groups in order while they fit) and the table of every figure.

    Example:
        >>> metrics, table = choose_metrics([[("a", 1.0)], [("b", 2.0), ("b_ci_low", 1.0)]],
        ...                                 [("c", 3.0)], limit=2)
        >>> metrics
        {'a': 1.0}
        >>> table[["figure", "metric"]].values.tolist()
        [['a', True], ['b', False], ['b_ci_low', False], ['c', False]]
    """
    metrics: dict[str, float] = {}
    rows: list[dict[str, Any]] = []
    full = False
    for group in groups:
        fits = not full and len(metrics) + len(group) <= limit
        full = full or not fits  # later groups never jump ahead of one left out
        for name, value in group:
            if fits:
                metrics[name] = value
            rows.append({"figure": name, "value": value, "metric": fits})
    rows += [{"figure": name, "value": value, "metric": False} for name, value in extra]
    table = pd.DataFrame(rows, columns=["figure", "value", "metric"])
    table["value"] = table["value"].astype("float64")
    return metrics, table


def slice_table(group: pd.DataFrame, scorers: Iterable[str], slices: Iterable[str]
                ) -> pd.DataFrame:
    """Per scorer, slice and label (the full label): cases and the mean score (errors as 0)."""
    failed = group["error_type"].notna()
    rows: list[dict[str, Any]] = []
    for name in scorers:
        values = group[f"score.{name}"].where(~failed, 0.0)  # errors fail (Settled 8)
        for sl in slices:
            col = f"slice.{sl}"
            if col not in group:
                continue
            grouped = values.groupby(group[col], observed=True)
            sizes = grouped.size().to_dict()
            for label, mean in grouped.mean().items():
                rows.append({"scorer": name, "slice": sl, "label": str(label),
                             "n": int(sizes[label]), "mean": float(mean)})
    return pd.DataFrame(rows, columns=["scorer", "slice", "label", "n", "mean"])


def calibration_figures(calibration: Any) -> dict[str, Any]:
    """A judge's calibration as plain figures (for the judge's run and a saved log request).

    Takes a ``workbench.stats.Calibration`` or the mapping this returned before.

    Example:
        >>> calibration_figures({"kappa": 0.5, "agreement": 0.8})["kappa"]
        0.5
    """
    if isinstance(calibration, Mapping):
        return dict(calibration)
    c = calibration
    out: dict[str, Any] = {
        "labels_n": c.n, "agreement": c.agreement, "kappa": c.kappa,
        "kappa_ci_low": c.kappa_low, "kappa_ci_high": c.kappa_high, "bias": c.bias,
        "bias_ci_low": c.bias_low, "bias_ci_high": c.bias_high,
        "stale_labels": len(c.stale), "kappa_method": c.kappa_method, "kind": c.kind,
    }
    if c.within_one is not None:
        out["within_one"] = c.within_one
    if c.spearman is not None:
        out["spearman"] = c.spearman
    if c.human:
        out["reviewers_kappa"] = c.human.get("kappa")
        out["reviewers_shared"] = c.human.get("n")
    return {k: (v.item() if isinstance(v, np.generic) else v) for k, v in out.items()}
