"""Report sections both reports build the same way: decision, quality, cost, latency, rates.

Each function turns ``wb.decide`` / ``wb.compare_configs`` results and the comparison's summary
into JSON-safe rows for the templates; the migration and the shadow-test reports call them
with their own roles.
"""

from __future__ import annotations

import shlex
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from workbench._version import __version__
from workbench.errors import ConfigError
from workbench.runner import Comparison
from workbench.stats import Decision, Gates, PairedComparison

from ._text import json_safe, resolve_command

__all__ = ["config_colors", "cost_section", "decision_fields", "golden_set_of", "latency_section",
           "quality_rows", "rates_section", "repro_section"]


def decision_fields(decision: Decision, default_gates: bool) -> dict[str, Any]:
    """The ``Report`` fields that come from a decision (roles, outcome, gates, cases)."""
    return {"created_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "candidate": decision.candidate, "incumbent": decision.incumbent,
            "outcome": decision.outcome, "headline": decision.headline(),
            "gates": [json_safe(g.__dict__) for g in decision.gates],
            "gates_config": decision.config.model_dump(mode="json"),
            "default_gates": default_gates, "cases_needed": decision.cases_needed,
            "extra_cases": decision.extra_cases, "advice": decision.advice,
            "n_cases": decision.paired.n_cases}


def config_colors(comparison: Comparison) -> dict[str, str]:
    """``model/variant`` → its colour in every chart, for the tables' swatches."""
    from workbench.charts import config_colors as colours_of

    return {"/".join(cfg): colour for cfg, colour in colours_of(comparison).items()}


def quality_rows(paired: PairedComparison) -> list[dict[str, Any]]:
    """One JSON-safe row per paired metric (``MetricDelta.row()`` plus its name)."""
    return [json_safe({**m.row(), "metric": name}) for name, m in paired.metrics.items()]


def golden_set_of(comparison: Comparison) -> Any:
    """The comparison's golden set, or None when it is not at hand (examples show no inputs)."""
    try:
        return comparison.golden_set()
    except ConfigError:
        return None


def _per(summary: pd.DataFrame, config: tuple[str, str], key: str) -> float:
    if config not in summary.index:
        return float("nan")
    return float(np.asarray(summary.loc[config, key], dtype=float))


def cost_section(summary: pd.DataFrame, paired: PairedComparison, cand: tuple[str, str],
                 inc: tuple[str, str], monthly: int) -> dict[str, Any]:
    """Cost per case, per 1,000 requests and per month on both sides, and the cost ratio's CI."""
    sides = {}
    for role, cfg in (("incumbent", inc), ("candidate", cand)):
        per_case = _per(summary, cfg, "cost_per_case_usd")
        judge = _per(summary, cfg, "judge_cost_usd") / max(1.0, _per(summary, cfg, "n_cases"))
        sides[role] = {"per_case": per_case, "per_1k": per_case * 1000,
                       "per_month": per_case * monthly, "judge_per_case": judge}
    ratio = paired.estimates.get("cost_ratio")
    out: dict[str, Any] = json_safe({**sides, "monthly_requests": monthly,
                      "ratio": None if ratio is None else {
                          "value": ratio.value, "low": ratio.low, "high": ratio.high,
                          "method": ratio.method},
                      "monthly_saving": sides["incumbent"]["per_month"]
                      - sides["candidate"]["per_month"]})
    return out


def latency_section(summary: pd.DataFrame, paired: PairedComparison, cand: tuple[str, str],
                    inc: tuple[str, str]) -> list[dict[str, Any]]:
    """p50 / p95 / p99 latency on both sides, with the paired difference and its CI."""
    rows = []
    for q in (50, 95, 99):
        est = paired.estimates.get(f"latency_p{q}_s")
        rows.append(json_safe({
            "quantile": f"p{q}", "incumbent": _per(summary, inc, f"latency_p{q}_s"),
            "candidate": _per(summary, cand, f"latency_p{q}_s"),
            "delta": None if est is None else est.value,
            "low": None if est is None else est.low, "high": None if est is None else est.high,
            "method": "" if est is None else est.method}))
    return rows


def rates_section(summary: pd.DataFrame, comparison: Comparison, paired: PairedComparison,
                  cand: tuple[str, str], inc: tuple[str, str]) -> list[dict[str, Any]]:
    """Error rate and its increase over the incumbent (CIs), and refusal-scorer means."""
    err = paired.estimates["error_rate"]
    inc_err = paired.estimates.get("error_rate_increase")
    rows = [json_safe({"rate": "error rate (failed calls + scorer failures)",
                       "incumbent": err.incumbent, "candidate": err.candidate, "low": err.low,
                       "high": err.high, "method": f"{err.method}, candidate"})]
    if inc_err is not None:
        rows.append(json_safe({"rate": "error-rate increase (candidate − incumbent, by case)",
                               "incumbent": None, "candidate": inc_err.value,
                               "low": inc_err.low, "high": inc_err.high,
                               "method": inc_err.method}))
    refusal = [s for s in comparison.scorers if "refusal" in s]
    for name in refusal:
        col = f"score.{name}"
        res = comparison.results
        values = {role: res[(res.model == cfg[0]) & (res.variant == cfg[1])][col]
                  for role, cfg in (("incumbent", inc), ("candidate", cand))}
        rows.append(json_safe({"rate": f"{name} (mean score)",
                               "incumbent": float(values["incumbent"].mean()),
                               "candidate": float(values["candidate"].mean()),
                               "low": None, "high": None, "method": "mean"}))
    return rows


def repro_section(comparison: Comparison, config: Gates, command: str | None) -> dict[str, Any]:
    """What rebuilds the report: dataset, variants, models, seeds, versions, MLflow run, command."""
    record = comparison.record
    run = record.tracking.run_id if record.tracking else None
    if command is None and run:
        command = f"workbench report {shlex.quote(str(run))} --out migration_report.html"
    dataset = record.golden_set.model_dump()
    if dataset.get("path") and Path(dataset["path"]).is_file():  # shown relative to the report
        dataset["path"] = str(Path(dataset["path"]).resolve())
    out: dict[str, Any] = json_safe({
        "dataset": dataset,
        "variants": [{"name": v.name, "version": v.version, "system": v.system, "user": v.user}
                     for v in record.variants],
        "models": [{"label": m.label, "params": m.params,
                    "pricing": m.pricing.model_dump() if m.pricing else None,
                    "simulated": m.simulated,
                    "recorded": m.recorded}  # answers taken from a log (shadow test)
                   for m in record.models],
        "seed": record.settings.seed, "bootstrap_seed": config.seed,
        "repeats": record.settings.repeats, "versions": {**record.versions.model_dump(),
                                                         "workbench": __version__},
        "mlflow_run_id": run, "command": resolve_command(command) if command else "",
        "command_note": "" if command else "not logged to MLflow: log it with "
        "wb.log_comparison, then `workbench report <run id>` rebuilds this report",
        "status": comparison.status})
    return out
