"""The shadow-test report: a candidate replayed on production traffic, judged against production.

``shadow_report`` computes everything into a typed ``ShadowReport`` (pydantic), rendered like
the migration report to one self-contained HTML file, to GitHub Markdown and to PDF, opening
with the same executive summary (``_summary.py``). The decision uses
shadow gates: the pairwise win share's one-sided lower bound against 0.5 − margin, no format
regression, and cost, latency and error ceilings (``wb.decide`` with ``pairwise=``).
"""

from __future__ import annotations

import json
import shlex
from typing import Any, ClassVar

import numpy as np
import pandas as pd
from pydantic import BaseModel, Field

from workbench.errors import ConfigError
from workbench.runner import Comparison
from workbench.stats import (
    Gates,
    MetricGate,
    compare_configs,
    decide,
    label_agreement,
    pairwise_outcomes,
    win_share,
)

from ._report import Report, as_text, json_safe, word_diff
from ._sections import (
    config_colors,
    cost_section,
    decision_fields,
    golden_set_of,
    latency_section,
    quality_rows,
    rates_section,
    repro_section,
)
from ._summary import shadow_summary

__all__ = ["ShadowExample", "ShadowReport", "default_shadow_gates", "shadow_report"]


def default_shadow_gates(scorers: list[str]) -> Gates:
    """Win share lower bound ≥ 0.45, ``json_valid`` non-inferior within 0.01, errors ≤ 5%.

    Example:
        >>> g = default_shadow_gates(["json_valid", "refused"])
        >>> g.win_share_margin, list(g.metrics), g.error_rate_max
        (0.05, ['json_valid'], 0.05)
    """
    # a format check: both sides valid on every request is the pass wanted, so Tango's bound
    # decides alone (it is never of zero width) instead of waiting for 10 discordant requests
    metrics = ({"json_valid": MetricGate(margin=0.01, min_informative=0)}
               if "json_valid" in scorers else {})
    return Gates(win_share_margin=0.05, metrics=metrics, error_rate_max=0.05)


class ShadowExample(BaseModel):
    """One request side by side: the request, production's and the candidate's answers."""

    case_id: str
    kind: str
    """``loss`` (the judge preferred production) or ``win``."""
    request: dict[str, str]
    slices: dict[str, str]
    served_output: str
    candidate_output: str
    verdicts: str
    diff: list[tuple[str, str]] = Field(default_factory=list)


class ShadowReport(Report):
    """What a shadow test showed (``wb.shadow_report``): exports like ``MigrationReport``."""

    template: ClassVar[str] = "shadow"

    log: dict[str, Any]
    pairwise: dict[str, Any]
    win_by: list[dict[str, Any]]
    over_time: list[dict[str, Any]]
    agreement: list[dict[str, Any]]
    agreement_slices: list[dict[str, Any]]
    label_changes: list[tuple[str, int]]
    examples: list[ShadowExample]


def _share_row(group: str, value: str, outcomes: pd.Series) -> dict[str, Any]:
    ws = win_share(list(outcomes))
    row: dict[str, Any] = json_safe({
        "group": group, "value": value, "n": ws.n, "wins": ws.wins, "ties": ws.ties,
        "losses": ws.losses, "share": ws.share, "low": ws.low, "high": ws.high})
    return row


def shadow_report(
    comparison: Comparison,
    gates: Gates | None = None,
    *,
    pairwise: pd.DataFrame | None,
    monthly_requests: int | None = None,
    examples: int = 5,
    title: str | None = None,
    rebuild_command: str | None = None,
    charts: bool = True,
) -> ShadowReport:
    """Build the shadow-test report of a comparison made by ``wb.shadow_test``.

    Args:
        comparison: the shadow test (candidate and ``served:<model>``; roles in its record).
        gates: shadow gates; ``None`` applies :func:`default_shadow_gates` (printed).
        pairwise: the pairwise verdicts (``wb.shadow.pairwise_table(cmp)``).
        monthly_requests: volume for monthly costs; default: the log's daily rate × 30.
        examples: how many losses and wins to show side by side.
        title: the report's title.
        rebuild_command: shown under reproducibility.
        charts: embed the charts in the HTML.
    """
    shadow = comparison.record.shadow
    roles = comparison.record.roles
    if shadow is None or roles.candidate is None or roles.incumbent is None:
        raise ConfigError("this comparison is not a shadow test",
                          fix="Build it with wb.shadow_test(log, candidate=...).")
    cand, inc = roles.candidate, roles.incumbent
    default = gates is None
    config = gates or default_shadow_gates(list(comparison.scorers))
    decision = decide(comparison, config, candidate=cand, incumbent=inc, pairwise=pairwise)
    paired = compare_configs(comparison, cand, inc, None, errors=config.errors,
                             alpha=config.alpha, correction=config.correction, seed=config.seed)
    summary = comparison.summary(errors=config.errors)
    first, last = pd.Timestamp(shadow.first), pd.Timestamp(shadow.last)
    days = max((last - first).total_seconds() / 86400, 1 / 24)
    monthly = monthly_requests or max(1, round(shadow.requests / days * 30))
    sims = set(comparison.simulated_models)
    banner = []
    if not comparison.complete:
        banner.append(f"INCOMPLETE replay ({comparison.status}: "
                      f"{comparison.stop_reason or 'stopped early'}): the decision can at most "
                      "HOLD")
    if cand[0] in sims or inc[0] in sims:
        banner.append("SIMULATED models: offline stand-ins computed from the prompt text, not "
                      "real LLMs. The numbers show the method, not real model quality.")
    if shadow.redacted:
        found = ", ".join(f"{n} {k}" for k, n in shadow.redactions.items())
        banner.append("Personal data was redacted when the log was loaded "
                      f"({found or 'nothing found'}): the candidate, judge, cache, MLflow and "
                      "this report only saw redacted text.")
    else:
        banner.append("The traffic log was NOT redacted (redact=False): this report may "
                      "contain personal data.")
    traffic = _traffic(comparison)
    if traffic:  # traces: what was read, kept and not replayed (and why), never silent
        banner.append(f"Traffic from traces: {traffic}")
    if default:
        banner.append("default shadow gates (no gates file given): win share lower bound ≥ "
                      "0.45, no JSON-format regression beyond 0.01, error rate ≤ 5%")

    gs = golden_set_of(comparison)
    slice_names = gs.slices if gs is not None else []
    res = comparison.results
    served_rows, cand_rows = (_first_repeat(res, cfg) for cfg in (inc, cand))
    period = shadow.period

    pw_info: dict[str, Any] = {"judged": False}
    win_by: list[dict[str, Any]] = []
    outcomes = pd.Series(dtype=str)
    if pairwise is not None:
        outcomes = pairwise_outcomes(pairwise, comparison, cand, errors=config.errors)
        ws = win_share(list(outcomes), alpha=config.alpha)
        attrs = pairwise.attrs
        pw_info = json_safe({"judged": True, **ws.to_dict(),
                             "judge": attrs.get("judge") or shadow.judge,
                             "rubric": attrs.get("rubric") or shadow.rubric,
                             "simulated_judge": attrs.get("simulated_judge"),
                             "consistency_rate": attrs.get("consistency_rate"),
                             "judge_cost_usd": attrs.get("judge_cost_usd"),
                             "judge_errors": int(pairwise["outcome"].isna().sum()),
                             "failed_candidate": len(outcomes) - int(pairwise["outcome"].notna()
                                                                     .sum())})
        for name in slice_names:
            col = f"slice.{name}"
            values = served_rows[col].reindex(outcomes.index).astype(str)
            for value in sorted(set(values)):
                win_by.append(_share_row(name, value, outcomes[values == value]))
    over_time = _over_time(served_rows, cand_rows, outcomes, period)
    agree = label_agreement(comparison, candidate=cand, incumbent=inc)
    quality = quality_rows(paired)
    cost = cost_section(summary, paired, cand, inc, monthly)
    latency = latency_section(summary, paired, cand, inc)
    volume = "as given" if monthly_requests else "the log's daily rate × 30"
    report = ShadowReport(
        title=title or f"Shadow test: {'/'.join(cand)} on {shadow.log} against "
                       f"{inc[0]}",
        **decision_fields(decision, default), banner=banner,
        summary=shadow_summary(decision, pw_info, quality, cost, latency, volume, monthly / 30,
                               comparison.complete),
        colors=config_colors(comparison), volume=volume,
        errors_rule=("failed candidate calls score 0 and count as pairwise losses"
                     if config.errors == "zero" else "pairs with a failed call are dropped"),
        log=json_safe(shadow.model_dump(exclude={"pairwise", "pairwise_summary"})),
        pairwise=pw_info, win_by=win_by, over_time=over_time, quality=quality,
        agreement=[json_safe(r) for r in agree[agree.slice == "(all)"].to_dict("records")],
        agreement_slices=[json_safe(r) for r in agree[agree.slice != "(all)"].to_dict("records")],
        label_changes=[(str(k), int(n)) for k, n in agree.attrs.get("changes", [])],
        cost=cost, latency=latency,
        rates=rates_section(summary, comparison, paired, cand, inc),
        examples=_examples(pairwise, served_rows, cand_rows, gs, slice_names, examples),
        reproducibility=_repro(comparison, config, rebuild_command),
        figures=_figures(comparison, paired, outcomes, served_rows, slice_names, period,
                         cand, inc) if charts else [],
    )
    return report


def _first_repeat(res: pd.DataFrame, config: tuple[str, str]) -> pd.DataFrame:
    """One configuration's first-repeat rows, indexed by case id (as text)."""
    rows = res[(res.model == config[0]) & (res.variant == config[1]) & (res.repeat == 0)]
    return rows.set_index(rows.case_id.astype(str))


def _over_time(served: pd.DataFrame, cand: pd.DataFrame, outcomes: pd.Series, period: str
               ) -> list[dict[str, Any]]:
    col = f"slice.{period}"
    if col not in served:
        return []
    rows = []
    for value in sorted(served[col].dropna().astype(str).unique()):
        ids = served.index[served[col].astype(str) == value]
        row = _share_row(period, value, outcomes.reindex(ids).dropna()) if len(outcomes) else {
            "group": period, "value": value}
        c = cand.reindex(ids)
        row.update(json_safe({
            "requests": len(ids),
            "candidate_errors": int(c["error_type"].notna().sum()),
            "latency_p95_served": float(np.nanpercentile(served.loc[ids, "latency_s"], 95)),
            "latency_p95_candidate": float(np.nanpercentile(c["latency_s"].astype(float), 95))
            if c["latency_s"].notna().any() else None}))
        if "score.json_valid" in served:
            row["json_valid_served"] = json_safe(float(served.loc[ids, "score.json_valid"].mean()))
            row["json_valid_candidate"] = json_safe(float(c["score.json_valid"].fillna(0).mean()))
        rows.append(row)
    return rows


def _examples(pairwise: pd.DataFrame | None, served: pd.DataFrame, cand: pd.DataFrame, gs: Any,
              slice_names: list[str], k: int) -> list[ShadowExample]:
    if pairwise is None:
        return []
    records = {str(r["id"]): r for r in gs.records()} if gs is not None else {}
    columns = list(gs.input_columns) if gs is not None else []
    out = []
    for kind in ("loss", "win"):
        chosen = pairwise[pairwise["outcome"] == kind].sort_values("case_id").head(k)
        for row in chosen.to_dict("records"):
            case = str(row["case_id"])
            data = records.get(case, {})
            served_out = as_text(served.at[case, "output"]) if case in served.index else ""
            cand_out = as_text(cand.at[case, "output"]) if case in cand.index else ""
            out.append(ShadowExample(
                case_id=case, kind=kind,
                request={c: as_text(data.get(c)) for c in columns if data.get(c) is not None},
                slices={s: as_text(data.get(s)) for s in slice_names},
                served_output=served_out, candidate_output=cand_out,
                verdicts=(f"candidate shown first: {row['verdict_candidate_first']}; "
                          f"production shown first: {row['verdict_incumbent_first']}"),
                diff=word_diff(served_out, cand_out)))
    return out


def _repro(comparison: Comparison, config: Gates, command: str | None) -> dict[str, Any]:
    """The migration report's reproducibility section, with the judge and the shadow command."""
    shadow = comparison.record.shadow
    if command is None:
        cand = comparison.record.roles.candidate or ("?", "?")
        command = (f"workbench shadow --traffic {shlex.quote(shadow.log if shadow else '?')} "
                   f"--candidate {shlex.quote(str(cand[0]))} --out shadow_report.html")
    out: dict[str, Any] = {**repro_section(comparison, config, command),
                           "judge": shadow.judge if shadow else None,
                           "rubric": shadow.rubric if shadow else None,
                           "traffic": _traffic(comparison)}
    return out


def _traffic(comparison: Comparison) -> str | None:
    """For traces: production's note on the source, filter, counts read, kept and skipped."""
    shadow, inc = comparison.record.shadow, comparison.record.roles.incumbent
    if shadow is None or inc is None or not shadow.log.startswith(("mlflow-traces:", "otlp:")):
        return None
    served = comparison.record.model(inc[0])
    return served.recorded if served is not None else None


def _figures(comparison: Comparison, paired: Any, outcomes: pd.Series, served: pd.DataFrame,
             slice_names: list[str], period: str, cand: tuple[str, str],
             inc: tuple[str, str]) -> list[dict[str, Any]]:
    from workbench import charts

    sims = set(comparison.simulated_models)
    simulated = cand[0] in sims or inc[0] in sims
    colours = charts.config_colors(comparison)
    figs = []
    if len(outcomes):
        by = {name: served[f"slice.{name}"].astype(str) for name in
              [period, *[s for s in slice_names if s != period]] if f"slice.{name}" in served}
        figs.append(charts.win_loss(outcomes, by=by, simulated=simulated,
                                    title=f"{'/'.join(cand)} against production, judged "
                                          "pairwise"))
    if paired.metrics:
        figs.append(charts.forest(paired, simulated=simulated, colors=colours))
    if comparison.results["latency_s"].notna().any():
        figs.append(charts.latency(comparison))
    return [json.loads(f.to_json()) for f in figs]
